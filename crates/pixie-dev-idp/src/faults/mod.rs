//! The misbehaving provider: one defect at a time, each one a relying-party check from the
//! OpenID Foundation's RP certification tests or RFC 9700 that a client must not skip.
//!
//! This module exists only with the `faults` feature: only then can a fault be switched on ([`crate::DevIdp::set_fault`], the
//! `--fault` flag, or `POST /_fault`). Pixie's app never enables that feature, so the provider
//! it embeds cannot be made to misbehave.

pub(crate) mod hooks;

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::PrivateSigningKey;
use openidconnect::core::{CoreHmacKey, CoreJwsSigningAlgorithm};
use serde_json::{Value, json};

use crate::keys::{Keys, signing_input};
use crate::{IdpError, Shared};

macro_rules! faults {
    ($($variant:ident => $name:literal: $what:literal,)*) => {
        /// A defect the provider can be told to produce.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Fault {
            $(#[doc = $what] $variant,)*
        }

        impl Fault {
            /// Every fault, in the order of the table.
            pub const ALL: &'static [Fault] = &[$(Fault::$variant,)*];

            /// The kebab-case name used by `--fault` and `POST /_fault`.
            pub fn name(self) -> &'static str {
                match self { $(Fault::$variant => $name,)* }
            }

            /// What the fault does, in a few words.
            pub fn describe(self) -> &'static str {
                match self { $(Fault::$variant => $what,)* }
            }
        }

        impl FromStr for Fault {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($name => Ok(Fault::$variant),)*
                    other => Err(format!("unknown fault `{other}`")),
                }
            }
        }
    };
}

faults! {
    DiscoveryIssuerMismatch => "discovery-issuer-mismatch": "discovery names another issuer than its URL",
    RedirectWrongState => "redirect-wrong-state": "the authorization response carries another state",
    RedirectWrongIss => "redirect-wrong-iss": "the authorization response names another issuer (mix-up)",
    AuthorizeForward => "authorize-forward": "a mix-up attacker: the authorization request is sent on to another provider (IdpConfig::forward_to) with the client's state, challenge, nonce and redirect URI",
    RedirectErrorMarkup => "redirect-error-markup": "an error response whose description carries markup",
    IdTokenBadSignature => "id-token-bad-signature": "the ID token's signature does not verify",
    IdTokenAlgNone => "id-token-alg-none": "the ID token is unsigned (alg none)",
    IdTokenAlgConfusion => "id-token-alg-confusion": "the ID token is HMAC-signed with the RSA public key",
    IdTokenWrongIss => "id-token-wrong-iss": "the ID token names another issuer",
    IdTokenMissingIss => "id-token-missing-iss": "the ID token has no iss",
    IdTokenWrongAud => "id-token-wrong-aud": "the ID token is for another client",
    IdTokenMissingAud => "id-token-missing-aud": "the ID token has no aud",
    IdTokenWrongAzp => "id-token-wrong-azp": "the ID token was issued to another authorized party",
    IdTokenMultiAudNoAzp => "id-token-multi-aud-no-azp": "several audiences and no azp",
    IdTokenExpired => "id-token-expired": "the ID token has expired",
    IdTokenMissingExp => "id-token-missing-exp": "the ID token has no exp",
    IdTokenIatFuture => "id-token-iat-future": "the ID token is issued an hour in the future",
    IdTokenMissingSub => "id-token-missing-sub": "the ID token has no sub",
    IdTokenWrongNonce => "id-token-wrong-nonce": "the ID token carries another nonce",
    IdTokenMissingNonce => "id-token-missing-nonce": "the ID token has no nonce",
    IdTokenWrongAtHash => "id-token-wrong-at-hash": "at_hash does not match the access token",
    IdTokenCritHeader => "id-token-crit-header": "the ID token has an unknown critical header",
    IdTokenExtraClaims => "id-token-extra-claims": "the ID token carries claims nobody defined (to be ignored)",
    IdTokenUnknownKid => "id-token-unknown-kid": "the key rotated: the ID token's kid is not in the JWKS the client cached",
    UserinfoSubMismatch => "userinfo-sub-mismatch": "userinfo is about another subject",
    TokenErrorMarkup => "token-error-markup": "the token endpoint refuses with markup in the description",
    TokenRedirect => "token-redirect": "the token endpoint answers with a redirect",
    TokenStall => "token-stall": "the token endpoint never answers in time",
    TokenOversized => "token-oversized": "the token endpoint answers with 2 MiB",
    TokenGarbage => "token-garbage": "the token endpoint answers with something that is not JSON",
    PictureHuge => "picture-huge": "the picture is 3 MiB",
    PictureNotImage => "picture-not-image": "the picture is an HTML page",
    PictureSvg => "picture-svg": "the picture is an SVG document with a script",
    PictureHugeDimensions => "picture-huge-dimensions": "the picture is a small file that decodes to 8192×8192 pixels",
    DeviceAuthOversized => "device-auth-oversized": "the device authorization endpoint answers with 2 MiB",
    DeviceAuthGarbage => "device-auth-garbage": "the device authorization endpoint answers with something that is not JSON",
    DeviceVerificationUriHostile => "device-verification-uri-hostile": "the verification URI is a javascript: URL",
    DeviceSlowDown => "device-slow-down": "the token endpoint answers every device poll with slow_down",
    DeviceExpiredToken => "device-expired-token": "the token endpoint says the device code has expired",
    DeviceAccessDenied => "device-access-denied": "the token endpoint says the person declined, with markup in the description",
    DeviceCodeRejected => "device-code-rejected": "the token endpoint refuses the device code (invalid_grant), as for a wrong or replayed one",
    DpopNonceAlways => "dpop-nonce-always": "the provider demands a DPoP nonce and never accepts one (use_dpop_nonce every time)",
    DpopProofRejected => "dpop-proof-rejected": "every DPoP proof is refused as a replayed jti (invalid_dpop_proof)",
    DpopBearerToken => "dpop-bearer-token": "the token endpoint answers a DPoP token request with token_type Bearer",
    ParRequestUriExpired => "par-request-uri-expired": "the authorization endpoint says every pushed request_uri has expired",
    ParRefused => "par-refused": "the pushed authorization request endpoint refuses every request",
}

impl Fault {
    /// Whether the fault is in the ID token (it is built by [`id_token`]).
    pub fn is_id_token(self) -> bool {
        self.name().starts_with("id-token-")
    }
}

/// The defect in force, and the newer key of a simulated rotation (`id-token-unknown-kid`).
#[derive(Default)]
pub(crate) struct FaultState {
    fault: Mutex<Option<Fault>>,
    rotated: Mutex<Option<Arc<Keys>>>,
}

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
    crate::claims::left_half_hash(access_token)
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
        Fault::IdTokenWrongAzp => {
            claims["aud"] = json!([client_id, "someone-else"]);
            claims["azp"] = json!("someone-else");
        }
        Fault::IdTokenMultiAudNoAzp => claims["aud"] = json!([client_id, "someone-else"]),
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
