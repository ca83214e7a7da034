//! PKCE, `state` and `nonce`, all drawn straight from the OS RNG.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge, PkceCodeVerifier};

use crate::Error;

/// `n` bytes from the operating system's RNG, base64url without padding.
pub fn random_b64(n: usize) -> Result<String, Error> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| Error::Rng(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// RFC 7636 §4.1: a verifier from 32 random octets, base64url-encoded (43 characters);
/// §4.2: its S256 challenge. `plain` is never offered.
pub fn pkce_pair() -> Result<(PkceCodeChallenge, PkceCodeVerifier), Error> {
    let verifier = PkceCodeVerifier::new(random_b64(32)?);
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    Ok((challenge, verifier))
}

/// RFC 6749 §10.12: an unguessable `state` (256 bits).
pub fn new_state() -> Result<CsrfToken, Error> {
    Ok(CsrfToken::new(random_b64(32)?))
}

/// OIDC Core §3.1.2.1 / §15.5.2: a `nonce` bound to this sign-in (256 bits).
pub fn new_nonce() -> Result<Nonce, Error> {
    Ok(Nonce::new(random_b64(32)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        // RFC 7636 Appendix B.
        let verifier = PkceCodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        assert_eq!(
            challenge.as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(challenge.method().as_str(), "S256");
    }

    #[test]
    fn verifier_has_the_rfc_shape_and_is_fresh() {
        let (_, a) = pkce_pair().unwrap();
        let (_, b) = pkce_pair().unwrap();
        // RFC 7636 §4.1: 43..128 characters of [A-Z a-z 0-9 - . _ ~].
        assert_eq!(a.secret().len(), 43);
        assert!(
            a.secret()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
        );
        assert_ne!(a.secret(), b.secret());
        assert_ne!(new_state().unwrap().secret(), new_state().unwrap().secret());
        assert!(new_nonce().unwrap().secret().len() >= 22); // ≥128 bits
    }

    #[test]
    fn verifier_debug_is_redacted() {
        let (_, v) = pkce_pair().unwrap();
        assert!(!format!("{v:?}").contains(v.secret().as_str()));
    }
}
