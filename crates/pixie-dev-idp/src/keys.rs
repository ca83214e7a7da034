//! The provider's signing key, generated at start, and the JWKS that publishes it.

use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeySet, CoreRsaPrivateSigningKey};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use rsa::pkcs1::EncodeRsaPrivateKey;

use crate::IdpError;

pub struct Keys {
    pub signing: CoreRsaPrivateSigningKey,
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
        let kid = crate::random_token(9)?;
        let signing = CoreRsaPrivateSigningKey::from_pem(&pem, Some(JsonWebKeyId::new(kid)))
            .map_err(IdpError::Key)?;
        Ok(Self { signing })
    }

    pub fn public_jwk(&self) -> CoreJsonWebKey {
        self.signing.as_verification_key()
    }

    pub fn jwks(&self) -> CoreJsonWebKeySet {
        CoreJsonWebKeySet::new(vec![self.public_jwk()])
    }
}
