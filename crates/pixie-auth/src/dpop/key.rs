//! The account's DPoP key (RFC 9449 §2): an ES256 key pair made here from the OS RNG, kept
//! only in the keyring with the account's session. Its `Debug` shows no secret; serde writes
//! the private scalar as base64url, and only [`crate::StoredSession`] serialises it.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::error::DpopError;

/// A P-256 private key for DPoP proofs. Cloning shares the key (the pending sign-in, the
/// tokens bound to it and the kept session hold the same one).
#[derive(Clone)]
pub struct DpopKey(Arc<SigningKey>);

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DpopKey([redacted])")
    }
}

impl PartialEq for DpopKey {
    fn eq(&self, other: &Self) -> bool {
        // Compared by public key only: never a timing oracle on the private scalar.
        self.thumbprint() == other.thumbprint()
    }
}

impl DpopKey {
    /// RFC 9449 §2: a fresh key pair from 32 bytes of the OS RNG (retried in the
    /// astronomically unlikely case they are not a valid P-256 scalar).
    pub fn generate() -> Result<Self, DpopError> {
        for _ in 0..4 {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| DpopError::Key(e.to_string()))?;
            if let Ok(key) = SigningKey::from_slice(&bytes) {
                return Ok(Self(Arc::new(key)));
            }
        }
        Err(DpopError::Key("no valid P-256 scalar from the RNG".into()))
    }

    fn from_scalar(bytes: &[u8]) -> Result<Self, DpopError> {
        SigningKey::from_slice(bytes)
            .map(|k| Self(Arc::new(k)))
            .map_err(|_| DpopError::Key("the kept DPoP key is not a P-256 private key".into()))
    }

    /// The public key's affine coordinates, base64url (RFC 7518 §6.2.1.2–3).
    fn coordinates(&self) -> (String, String) {
        // SEC1 uncompressed: 0x04 || x (32 bytes) || y (32 bytes).
        let point = self.0.verifying_key().to_sec1_bytes();
        let (x, y) = point[1..].split_at(32);
        (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y))
    }

    /// RFC 9449 §4.2: the public key as a JWK for the proof header (no private part).
    pub fn public_jwk(&self) -> serde_json::Value {
        let (x, y) = self.coordinates();
        serde_json::json!({"kty": "EC", "crv": "P-256", "x": x, "y": y})
    }

    /// RFC 7638 §3: the JWK SHA-256 thumbprint over the required members in lexicographic
    /// order with no whitespace (RFC 9449 §6.1 `jkt`, §10 `dpop_jkt`).
    pub fn thumbprint(&self) -> String {
        let (x, y) = self.coordinates();
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// RFC 7515 §5.1 with RFC 7518 §3.4: the ES256 JWS of `header`.`claims`, the signature
    /// as the 64-byte R || S.
    pub(crate) fn sign_jwt(
        &self,
        header: &serde_json::Value,
        claims: &serde_json::Value,
    ) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string().as_bytes()),
            URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes())
        );
        let signature: Signature = self.0.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

impl Serialize for DpopKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&URL_SAFE_NO_PAD.encode(self.0.to_bytes()))
    }
}

impl<'de> Deserialize<'de> for DpopKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .map_err(|_| serde::de::Error::custom("the DPoP key is not base64url"))?;
        Self::from_scalar(&bytes).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_section_3_1_canonical_form_is_what_is_hashed() {
        // RFC 7638 §3.1 uses an RSA key; for EC the members are crv, kty, x, y (§3.2).
        let key = DpopKey::generate().unwrap();
        let jwk = key.public_jwk();
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap()
        );
        assert_eq!(
            key.thumbprint(),
            URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
        );
        assert_eq!(key.thumbprint().len(), 43);
    }

    #[test]
    fn a_known_key_has_its_known_thumbprint() {
        // RFC 7515 Appendix A.3's P-256 key (ES256 example); thumbprint computed by
        // RFC 7638 §3 computed independently (Python hashlib over the canonical JSON).
        let d = URL_SAFE_NO_PAD
            .decode("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI")
            .unwrap();
        let key = DpopKey::from_scalar(&d).unwrap();
        assert_eq!(
            key.public_jwk()["x"],
            "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
        );
        assert_eq!(
            key.public_jwk()["y"],
            "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
        );
        assert_eq!(
            key.thumbprint(),
            "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U"
        );
    }

    #[test]
    fn the_key_survives_serde_and_never_shows_in_debug() {
        let key = DpopKey::generate().unwrap();
        let json = serde_json::to_string(&key).unwrap();
        let back: DpopKey = serde_json::from_str(&json).unwrap();
        assert_eq!(back.thumbprint(), key.thumbprint());
        assert_eq!(format!("{key:?}"), "DpopKey([redacted])");
        assert!(serde_json::from_str::<DpopKey>("\"AAAA\"").is_err());
    }
}
