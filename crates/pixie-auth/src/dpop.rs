//! Sender-constrained tokens with DPoP (RFC 9449): the account's key ([`DpopKey`]), one
//! proof per request ([`proof`]), the client that adds proofs and answers a `DPoP-Nonce`
//! challenge once ([`client`]), and the check that a token asked for with DPoP is one
//! (§5).

pub mod client;
mod key;
pub mod proof;
pub(crate) mod trace;

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

pub use key::DpopKey;

/// When to bind tokens to a key, per provider in `providers.toml` (`dpop = "…"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DpopMode {
    /// When the metadata lists ES256 in `dpop_signing_alg_values_supported` (RFC 9449 §5.1).
    #[default]
    Auto,
    /// Always (a provider may support DPoP without saying so: the metadata is optional).
    Always,
    /// Plain bearer tokens.
    Never,
}

/// Why a DPoP-protected request did not succeed. Never carries a proof, key or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DpopError {
    /// The account's DPoP key (P-256, for ES256 proofs) could not be made, or the kept one
    /// could not be read; holds why.
    #[error("the DPoP key could not be made or read: {0}")]
    Key(String),
    /// RFC 9449 §5: DPoP was asked for, and the token is not a DPoP token.
    #[error("DPoP was asked for, but the {endpoint} endpoint issued a `{token_type}` token")]
    NotBound {
        /// The endpoint that issued the token: "token" (code exchange or refresh).
        endpoint: &'static str,
        /// The `token_type` it answered (RFC 6749 §5.1), e.g. "Bearer"; at most 32 characters.
        token_type: String,
    },
    /// RFC 9449 §8/§9: the server still demands a nonce after Pixie used the one it gave.
    #[error("the {endpoint} endpoint kept demanding a DPoP nonce")]
    NonceRefused {
        /// The endpoint that kept demanding one: "token", "userinfo" or "revocation".
        endpoint: &'static str,
    },
    /// RFC 9449 §7.1/§5.2: `invalid_dpop_proof` (or a DPoP `WWW-Authenticate` error).
    #[error("the {endpoint} endpoint refused the DPoP proof: {error}")]
    ProofRejected {
        /// The endpoint that refused it: "token", "userinfo" or "revocation".
        endpoint: &'static str,
        /// The error code the server sent: "invalid_dpop_proof".
        error: String,
        /// `error_description`: the server's own words, if it sent any.
        description: Option<String>,
    },
}

impl DpopError {
    /// A stable, machine-readable code (`snake_case`) for the UI and for tests.
    pub fn code(&self) -> &'static str {
        match self {
            DpopError::Key(_) => "dpop_key",
            DpopError::NotBound { .. } => "dpop_not_bound",
            DpopError::NonceRefused { .. } => "dpop_nonce",
            DpopError::ProofRejected { .. } => "dpop_proof_rejected",
        }
    }

    /// What happened, in plain words, for the person at the desktop.
    pub fn user_message(&self) -> String {
        match self {
            DpopError::Key(_) => {
                "Pixie could not create or read the key that ties your sign-in to this computer. Sign in again.".into()
            }
            DpopError::NotBound { .. } => {
                "The provider sent a sign-in that anyone who copied it could use, although Pixie asked for one tied to this computer. Pixie refused it.".into()
            }
            DpopError::NonceRefused { .. } => {
                "The provider kept asking Pixie to prove it holds its key again and never accepted the proof. Try again later.".into()
            }
            DpopError::ProofRejected { .. } => {
                "The provider did not accept Pixie's proof that this computer holds the sign-in's key. Try again; if it keeps happening, sign in again.".into()
            }
        }
    }
}

/// Longest `DPoP-Nonce` kept (RFC 9449 §8.1: NQCHAR, no length given; real ones are short).
const MAX_NONCE: usize = 512;

/// What a provider remembers for DPoP across requests: the latest nonce of each server
/// (RFC 9449 §8.2, §9) and, for this run, each account's key by subject (the lasting copy
/// is in the account's [`crate::StoredSession`] in the keyring).
#[derive(Default)]
pub struct DpopState {
    nonces: Mutex<HashMap<String, String>>,
    keys: Mutex<HashMap<String, DpopKey>>,
}

impl std::fmt::Debug for DpopState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DpopState { .. }")
    }
}

impl DpopState {
    pub(crate) fn nonce(&self, origin: &str) -> Option<String> {
        self.nonces.lock().ok()?.get(origin).cloned()
    }

    /// RFC 9449 §8.1: a nonce is 1*NQCHAR (%x21 / %x23-5B / %x5D-7E); anything else is ignored.
    pub(crate) fn remember_nonce(&self, origin: &str, nonce: &str) -> bool {
        let valid = !nonce.is_empty()
            && nonce.len() <= MAX_NONCE
            && nonce
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
        if valid && let Ok(mut n) = self.nonces.lock() {
            n.insert(origin.to_owned(), nonce.to_owned());
        }
        valid
    }

    pub(crate) fn key_for(&self, subject: &str) -> Option<DpopKey> {
        self.keys.lock().ok()?.get(subject).cloned()
    }

    pub(crate) fn keep_key(&self, subject: &str, key: &DpopKey) {
        if let Ok(mut k) = self.keys.lock() {
            k.insert(subject.to_owned(), key.clone());
        }
    }
}

/// RFC 9449 §5: once a proof went with the token request, the response's `token_type` must
/// be `DPoP` (compared case-insensitively, RFC 6749 §5.1); a bearer token is refused.
pub(crate) fn check_token_type(
    response: &openidconnect::core::CoreTokenResponse,
    endpoint: &'static str,
) -> Result<(), DpopError> {
    use openidconnect::OAuth2TokenResponse;
    let token_type = response.token_type().as_ref();
    if token_type.eq_ignore_ascii_case("dpop") {
        Ok(())
    } else {
        Err(DpopError::NotBound {
            endpoint,
            token_type: token_type.chars().take(32).collect(),
        })
    }
}

/// The typed DPoP error inside a token endpoint refusal (RFC 9449 §5.2 `invalid_dpop_proof`,
/// §8 `use_dpop_nonce` left after the one retry).
pub(crate) fn typed_refusal(e: crate::Error, endpoint: &'static str) -> crate::Error {
    match e {
        crate::Error::TokenRejected { error, .. } if error == "use_dpop_nonce" => {
            DpopError::NonceRefused { endpoint }.into()
        }
        crate::Error::TokenRejected { error, description } if error == "invalid_dpop_proof" => {
            DpopError::ProofRejected {
                endpoint,
                error,
                description,
            }
            .into()
        }
        other => other,
    }
}

impl crate::provider::Provider {
    /// Whether a new sign-in asks for DPoP-bound tokens: `dpop = "always"`, or `"auto"` and
    /// the metadata lists ES256 in `dpop_signing_alg_values_supported` (RFC 9449 §5.1).
    pub fn dpop_wanted(&self) -> bool {
        match self.config.dpop {
            DpopMode::Always => true,
            DpopMode::Never => false,
            DpopMode::Auto => self
                .metadata
                .additional_metadata()
                .dpop_signing_alg_values_supported
                .as_ref()
                .is_some_and(|algs| algs.iter().any(|a| a == "ES256")),
        }
    }

    /// The DPoP key of the account `subject` known in this run (from its sign-in, or its
    /// stored session at the last refresh).
    pub(crate) fn dpop_key_of(&self, subject: &str) -> Option<DpopKey> {
        self.dpop.key_for(subject)
    }

    /// A client that adds proofs with `key` to the requests of `http`.
    pub(crate) fn dpop_client(
        &self,
        http: &crate::HttpClient,
        key: &DpopKey,
        endpoint: &'static str,
    ) -> client::DpopClient {
        client::DpopClient::new(
            http.clone(),
            key.clone(),
            self.dpop.clone(),
            self.clock.clone(),
            endpoint,
        )
    }
}
