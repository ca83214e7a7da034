//! The misbehaving provider: one defect at a time, each one a relying-party check from the
//! OpenID Foundation's RP certification tests or RFC 9700 that a client must not skip.
//!
//! This module exists only with the `faults` feature: only then can a fault be switched on ([`crate::DevIdp::set_fault`], the
//! `--fault` flag, or `POST /_fault`). Pixie's app never enables that feature, so the provider
//! it embeds cannot be made to misbehave.

pub(crate) mod hooks;
pub(crate) mod list;

pub use list::Fault;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::PrivateSigningKey;
use openidconnect::core::{CoreHmacKey, CoreJwsSigningAlgorithm};
use serde_json::{Value, json};

use crate::Shared;
use crate::error::IdpError;
use crate::keys::{Keys, signing_input};

impl Shared {
    /// The fault in force, if any.
    pub(crate) fn fault(&self) -> Option<Fault> {
        self.faults.fault.lock().ok().and_then(|f| *f)
    }

    /// The key a simulated rotation brought in.
    pub(crate) fn rotated_key(&self) -> Option<Arc<Keys>> {
        self.faults.rotated.lock().ok().and_then(|r| r.clone())
    }

    pub(crate) async fn set_fault(&self, fault: Option<Fault>) -> Result<(), IdpError> {
        if !self.config.allow_faults {
            return Err(IdpError::FaultsNotAllowed);
        }
        if fault == Some(Fault::IdTokenUnknownKid) {
            let fresh = tokio::task::spawn_blocking(Keys::generate)
                .await
                .map_err(|e| IdpError::Key(e.to_string()))??;
            if let Ok(mut r) = self.faults.rotated.lock() {
                *r = Some(Arc::new(fresh));
            }
        }
        if let Ok(mut f) = self.faults.fault.lock() {
            *f = fault;
        }
        tracing::warn!(fault = fault.map(Fault::name), "fault mode");
        Ok(())
    }
}

/// OIDC Core §3.1.3.6: the left half of SHA-256 of the access token.
pub fn at_hash(access_token: &str) -> String {
    crate::keys::left_half_hash(access_token)
}

/// An RS256 JWT of `claims` signed with `keys`, as a correct provider sends it (for tests
/// that play a provider of another shape, e.g. Microsoft's multi-tenant issuer).
pub fn signed_jwt(claims: &Value, keys: &Keys) -> Result<String, String> {
    keys.sign_jwt(&keys.header(), claims)
}

/// Build the ID token the fault asks for, from the claims a correct one would carry.
/// `signing` signs normally; `rotated` is the new key after a rotation.
pub fn id_token(
    fault: Fault,
    mut claims: Value,
    signing: &Keys,
    rotated: Option<&Keys>,
    client_id: &str,
) -> Result<String, String> {
    let mut key = signing;
    let mut header = signing.header();
    match fault {
        Fault::IdTokenCritHeader => {
            header["crit"] = json!(["x-pixie-unknown"]);
            header["x-pixie-unknown"] = json!(true);
        }
        Fault::IdTokenUnknownKid => {
            if let Some(r) = rotated {
                key = r;
                header["kid"] = json!(r.kid());
            }
        }
        _ => tamper_claims(fault, &mut claims, client_id),
    }
    match fault {
        Fault::IdTokenAlgNone => {
            header = json!({"alg": "none", "typ": "JWT"});
            Ok(format!("{}.", signing_input(&header, &claims)))
        }
        Fault::IdTokenAlgConfusion => {
            // The classic attack: HS256 keyed with the RSA public key a client may hold.
            header = json!({"alg": "HS256", "typ": "JWT", "kid": signing.kid()});
            let input = signing_input(&header, &claims);
            let secret = signing.public_pem().into_bytes();
            let sig = CoreHmacKey::new(secret)
                .sign(&CoreJwsSigningAlgorithm::HmacSha256, input.as_bytes())
                .map_err(|e| e.to_string())?;
            Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
        }
        Fault::IdTokenBadSignature => {
            let good = key.sign_jwt(&header, &claims)?;
            // Flip one bit of the signature's last byte.
            let (input, sig) = good.rsplit_once('.').unwrap_or((&good, ""));
            let mut sig = URL_SAFE_NO_PAD.decode(sig).map_err(|e| e.to_string())?;
            if let Some(last) = sig.last_mut() {
                *last ^= 0x01;
            }
            Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
        }
        _ => key.sign_jwt(&header, &claims),
    }
}

/// The claim-level defects of an ID token.
fn tamper_claims(fault: Fault, claims: &mut Value, client_id: &str) {
    let now = claims["iat"].as_i64().unwrap_or_default();
    let missing = match fault {
        Fault::IdTokenMissingIss => Some("iss"),
        Fault::IdTokenMissingAud => Some("aud"),
        Fault::IdTokenMissingExp => Some("exp"),
        Fault::IdTokenMissingSub => Some("sub"),
        Fault::IdTokenMissingNonce => Some("nonce"),
        _ => None,
    };
    if let (Some(name), Some(c)) = (missing, claims.as_object_mut()) {
        c.remove(name);
    }
    match fault {
        Fault::IdTokenWrongIss => claims["iss"] = json!("https://evil.example"),
        Fault::IdTokenWrongAud => claims["aud"] = json!(["someone-else"]),
        // OIDC Core §3.1.3.7 steps 4–5 alone: `aud` names the client (step 3 passes),
        // `azp` another party.
        Fault::IdTokenWrongAzp => {
            claims["aud"] = json!(client_id);
            claims["azp"] = json!("someone-else");
        }
        Fault::IdTokenMultiAudNoAzp => claims["aud"] = json!([client_id, "someone-else"]),
        // Valid by OIDC Core §3.1.3.7 steps 4–5 (§2: azp MAY name the sole audience); only
        // §12.2, on a refresh, can tell.
        Fault::IdTokenOwnAzp => claims["azp"] = json!(client_id),
        Fault::IdTokenExpired => {
            claims["iat"] = json!(now - 3600);
            claims["exp"] = json!(now - 60);
        }
        Fault::IdTokenIatFuture => {
            claims["iat"] = json!(now + 3600);
            claims["exp"] = json!(now + 7200);
        }
        Fault::IdTokenWrongNonce => claims["nonce"] = json!("a-nonce-from-another-sign-in"),
        Fault::IdTokenWrongAtHash => claims["at_hash"] = json!(at_hash("another access token")),
        Fault::IdTokenExtraClaims => {
            claims["x_pixie_unknown"] = json!({"nested": [1, 2, 3]});
            claims["urn:example:claim"] = json!("ignored");
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Fault::ALL {
            assert_eq!(f.name().parse::<Fault>().unwrap(), *f);
        }
        assert!("no-such-fault".parse::<Fault>().is_err());
    }
}
