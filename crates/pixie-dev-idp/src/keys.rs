//! The provider's signing key, generated at first start (or read from the state file), and
//! the JWKS that publishes it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey,
};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::IdpError;

/// The provider's RSA signing key (RS256) and what is derived from it.
pub struct Keys {
    /// The private key, in `openidconnect`'s form.
    pub signing: CoreRsaPrivateSigningKey,
    /// PKCS#1 PEM, kept for the state file.
    pub pem: String,
    kid: String,
}

impl Keys {
    /// A fresh RSA-2048 key for RS256 (the algorithm OIDC Discovery §3 requires every OP to offer).
    pub fn generate() -> Result<Self, IdpError> {
        let mut rng = rand::rngs::OsRng;
        let key =
            rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(|e| IdpError::Key(e.to_string()))?;
        let pem = key
            .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
            .map_err(|e| IdpError::Key(e.to_string()))?;
        Self::from_pem(&pem)
    }

    /// A key read back from the state file. Its `kid` is derived from the key, so it is the
    /// same across restarts.
    pub fn from_pem(pem: &str) -> Result<Self, IdpError> {
        // The PEM must hold an RSA key (openidconnect's reader below says less).
        rsa::RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| IdpError::Key(e.to_string()))?;
        let digest = Sha256::digest(pem.as_bytes());
        let kid: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        let signing = CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.clone())))
            .map_err(IdpError::Key)?;
        Ok(Self {
            signing,
            pem: pem.to_owned(),
            kid,
        })
    }

    /// The key id in the JWKS and in every token's header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    #[cfg(feature = "faults")]
    /// The public key as PKCS#1 PEM (what an algorithm-confusion attacker would use).
    pub fn public_pem(&self) -> String {
        use rsa::pkcs1::EncodeRsaPublicKey;
        rsa::RsaPrivateKey::from_pkcs1_pem(&self.pem)
            .ok()
            .and_then(|k| {
                k.to_public_key()
                    .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
                    .ok()
            })
            .unwrap_or_default()
    }

    /// The public key as a JWK (RFC 7517).
    pub fn public_jwk(&self) -> CoreJsonWebKey {
        self.signing.as_verification_key()
    }

    /// The JWKS (RFC 7517 §5) that publishes this key, after `also` (a rotated-in key).
    pub fn jwks(&self, also: Option<&Keys>) -> CoreJsonWebKeySet {
        let mut keys = Vec::new();
        if let Some(extra) = also {
            keys.push(extra.public_jwk());
        }
        keys.push(self.public_jwk());
        CoreJsonWebKeySet::new(keys)
    }

    /// The JWS header of a token signed with this key (RFC 7515 §4.1).
    pub fn header(&self) -> Value {
        json!({"alg": "RS256", "typ": "JWT", "kid": self.kid()})
    }

    /// RFC 7515 §5.1: the compact RS256 JWS of `header`.`claims` with this key.
    pub fn sign_jwt(&self, header: &Value, claims: &Value) -> Result<String, String> {
        let input = signing_input(header, claims);
        let sig = self
            .signing
            .sign(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                input.as_bytes(),
            )
            .map_err(|e| e.to_string())?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

/// RFC 7515 §5.1 step 6: base64url(header) '.' base64url(claims).
pub(crate) fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string().as_bytes()),
        URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes())
    )
}

/// OIDC Core §3.1.3.6 / §3.3.2.11: the left half of SHA-256 of `value`, base64url
/// (`at_hash` of an access token, `c_hash` of a code).
pub fn left_half_hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}
