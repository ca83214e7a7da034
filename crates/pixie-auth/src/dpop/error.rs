//! Why a DPoP-protected request did not succeed (RFC 9449), typed, with plain words.

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
