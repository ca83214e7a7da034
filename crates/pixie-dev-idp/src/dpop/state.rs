//! What DPoP needs remembered: the nonces given (RFC 9449 §8) and the `jti`s used (§11.1).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::rules::{IAT_MAX_AGE, IAT_MAX_AHEAD, NONCE_LIFE, ProofError};
use super::verify::Verified;
use crate::random::random_token;

/// What the provider remembers for DPoP: the `jti` of every proof still inside the `iat`
/// window (§11.1) and the nonces it gave (§8).
#[derive(Default)]
pub(crate) struct DpopState {
    jtis: HashMap<String, DateTime<Utc>>,
    nonces: HashMap<String, DateTime<Utc>>,
}

impl DpopState {
    fn prune(&mut self, now: DateTime<Utc>) {
        self.jtis
            .retain(|_, iat| *iat > now - IAT_MAX_AGE - IAT_MAX_AHEAD);
        self.nonces.retain(|_, given| *given > now - NONCE_LIFE);
    }

    /// RFC 9449 §8.1: a new nonce, good for [`NONCE_LIFE`].
    pub(crate) fn new_nonce(&mut self, now: DateTime<Utc>) -> Option<String> {
        let nonce = random_token(18).ok()?;
        self.nonces.insert(nonce.clone(), now);
        Some(nonce)
    }

    /// The checks that need memory, after [`verify`]: §4.3 step 10 (a nonce of ours, when
    /// one is demanded), step 11 (the proof's age: its `iat`, or else a fresh nonce of ours,
    /// which also copes with a client whose clock is off, §11.1) and §11.1 (a `jti` is used
    /// once).
    pub(crate) fn admit(
        &mut self,
        proof: &Verified,
        nonce_required: bool,
        now: DateTime<Utc>,
    ) -> Result<(), ProofError> {
        self.prune(now);
        let fresh_nonce = proof
            .nonce
            .as_ref()
            .is_some_and(|n| self.nonces.contains_key(n));
        if (nonce_required || !proof.iat_in_window) && !fresh_nonce {
            return Err(ProofError::UseNonce);
        }
        if self.jtis.contains_key(&proof.jti) {
            return Err(ProofError::Invalid(
                "This DPoP proof was already used (jti).",
            ));
        }
        self.jtis.insert(proof.jti.clone(), now);
        Ok(())
    }
}
