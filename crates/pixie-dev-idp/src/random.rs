//! Random values for codes, tokens and nonces: the OS RNG, base64url.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::IdpError;

/// `n` random bytes from the OS RNG, base64url.
pub(crate) fn random_token(n: usize) -> Result<String, IdpError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| IdpError::Rng(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}
