//! The limits on a DPoP proof (RFC 9449 §4.3) and why one is refused.

use chrono::TimeDelta;

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
