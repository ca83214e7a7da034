//! The provider's signing key, generated at first start (or read from the state file), and
//! the JWKS that publishes it.

use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeySet, CoreRsaPrivateSigningKey};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, EncodeRsaPublicKey};
use sha2::{Digest, Sha256};

use crate::IdpError;

pub struct Keys {
    pub signing: CoreRsaPrivateSigningKey,
    /// PKCS#1 PEM, kept for the state file.
    pub pem: String,
    kid: String,
    public_pem: String,
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
        let key =
            rsa::RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| IdpError::Key(e.to_string()))?;
        let public_pem = key
            .to_public_key()
            .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
            .map_err(|e| IdpError::Key(e.to_string()))?;
        let digest = Sha256::digest(pem.as_bytes());
        let kid: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        let signing = CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.clone())))
            .map_err(IdpError::Key)?;
        Ok(Self {
            signing,
            pem: pem.to_owned(),
            kid,
            public_pem,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as PKCS#1 PEM (what an algorithm-confusion attacker would use).
    pub fn public_pem(&self) -> String {
        self.public_pem.clone()
    }

    pub fn public_jwk(&self) -> CoreJsonWebKey {
        self.signing.as_verification_key()
    }

    pub fn jwks(&self, also: Option<&Keys>) -> CoreJsonWebKeySet {
        let mut keys = Vec::new();
        if let Some(extra) = also {
            keys.push(extra.public_jwk());
        }
        keys.push(self.public_jwk());
        CoreJsonWebKeySet::new(keys)
    }
}
