//! DPoP (RFC 9449) as this provider checks it: one proof per request (§4.3), the key it
//! names bound to the tokens (§5, §6.1 `jkt`), `jti` replay (§11.1), server nonces (§8, §9)
//! and `ath` at the resource (§7). The checks of one proof are a pure function ([`verify`]);
//! what needs memory (nonces, used `jti`s) is [`DpopState`].

mod verify;

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};

use crate::routes::token_error;
use crate::{Shared, fault_hooks, random_token};

pub(crate) use verify::{Expect, Verified, verify};

/// RFC 9449 §4.3 step 11: how old a proof's `iat` may be.
pub(crate) const IAT_MAX_AGE: TimeDelta = TimeDelta::seconds(120);
/// RFC 9449 §4.3 step 11: how far ahead of this provider's clock `iat` may be.
pub(crate) const IAT_MAX_AHEAD: TimeDelta = TimeDelta::seconds(60);
/// RFC 9449 §8: how long a nonce this provider gave stays good.
pub(crate) const NONCE_LIFE: TimeDelta = TimeDelta::minutes(5);
/// The only algorithm offered (`dpop_signing_alg_values_supported`, §5.1).
pub(crate) const ALG: &str = "ES256";

/// Why a proof was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProofError {
    /// RFC 9449 §4.3 / §7.1 `invalid_dpop_proof`.
    #[error("{0}")]
    Invalid(&'static str),
    /// RFC 9449 §8 / §9 `use_dpop_nonce`: the proof must carry a fresh nonce of ours.
    #[error("A DPoP nonce from this server is required.")]
    UseNonce,
}

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

/// The request's proof, checked for `expect`: the key's thumbprint (`jkt`), or `None` when
/// the request has no proof or this provider does not do DPoP.
pub(crate) fn check(
    s: &Shared,
    headers: &HeaderMap,
    expect: &Expect<'_>,
) -> Result<Option<String>, ProofError> {
    if !s.config.dpop {
        return Ok(None);
    }
    let mut proofs = headers.get_all("dpop").iter();
    let Some(first) = proofs.next() else {
        return Ok(None);
    };
    // RFC 9449 §4.3 step 1: exactly one DPoP header.
    if proofs.next().is_some() {
        return Err(ProofError::Invalid("More than one DPoP header."));
    }
    let jwt = first
        .to_str()
        .map_err(|_| ProofError::Invalid("The DPoP header is not text."))?;
    let now = s.clock.now();
    let proof = verify(jwt, expect, now)?;
    if let Some(e) = fault_hooks::dpop_proof(s) {
        return Err(e);
    }
    let nonce_required = s.config.dpop_nonce;
    s.store
        .lock()
        .map_err(|_| ProofError::Invalid("The provider's store is unavailable."))?
        .dpop
        .admit(&proof, nonce_required, now)?;
    Ok(Some(proof.jkt))
}

/// A fresh nonce for a `use_dpop_nonce` answer.
fn fresh_nonce(s: &Shared) -> Option<HeaderValue> {
    let now = s.clock.now();
    let nonce = s.store.lock().ok()?.dpop.new_nonce(now)?;
    HeaderValue::from_str(&nonce).ok()
}

/// The authorization server's answer to a refused proof: RFC 9449 §5.2 `invalid_dpop_proof`
/// or §8 `use_dpop_nonce` with a `DPoP-Nonce` header (400 and a JSON body).
pub(crate) fn token_refusal(s: &Shared, e: ProofError) -> Response {
    match e {
        ProofError::Invalid(why) => token_error(StatusCode::BAD_REQUEST, "invalid_dpop_proof", why),
        ProofError::UseNonce => {
            let mut resp = token_error(
                StatusCode::BAD_REQUEST,
                "use_dpop_nonce",
                "Authorization server requires nonce in DPoP proof.",
            );
            if let Some(n) = fresh_nonce(s) {
                resp.headers_mut().insert("DPoP-Nonce", n);
            }
            resp
        }
    }
}

/// The resource server's answer (RFC 9449 §7.1, §9): 401 with a `DPoP` challenge naming the
/// error and the algorithms, and a `DPoP-Nonce` when one is demanded.
pub(crate) fn resource_refusal(s: &Shared, error: &str, nonce: bool) -> Response {
    let mut resp = StatusCode::UNAUTHORIZED.into_response();
    let challenge = format!("DPoP error=\"{error}\", algs=\"{ALG}\"");
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    if nonce && let Some(n) = fresh_nonce(s) {
        resp.headers_mut().insert("DPoP-Nonce", n);
    }
    resp
}

#[cfg(test)]
mod tests;
