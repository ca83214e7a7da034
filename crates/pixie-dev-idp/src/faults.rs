//! The misbehaving provider: one defect at a time, each one a relying-party check from the
//! OpenID Foundation's RP certification tests or RFC 9700 that a client must not skip.
//!
//! Only with the `faults` feature can a fault be switched on ([`crate::DevIdp::set_fault`], the
//! `--fault` flag, or `POST /_fault`). Pixie's app never enables that feature, so the provider
//! it embeds cannot be made to misbehave.

use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::PrivateSigningKey;
use openidconnect::core::{CoreHmacKey, CoreJwsSigningAlgorithm};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::keys::Keys;

macro_rules! faults {
    ($($variant:ident => $name:literal: $what:literal,)*) => {
        /// A defect the provider can be told to produce.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Fault {
            $(#[doc = $what] $variant,)*
        }

        impl Fault {
            pub const ALL: &'static [Fault] = &[$(Fault::$variant,)*];

            /// The kebab-case name used by `--fault` and `POST /_fault`.
            pub fn name(self) -> &'static str {
                match self { $(Fault::$variant => $name,)* }
            }

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
}

impl Fault {
    pub fn is_id_token(self) -> bool {
        self.name().starts_with("id-token-")
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// OIDC Core §3.1.3.6: the left half of SHA-256 of the access token.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    b64(&digest[..16])
}

/// An RS256 JWT of `claims` signed with `keys`, as a correct provider sends it (for tests
/// that play a provider of another shape, e.g. Microsoft's multi-tenant issuer).
pub fn signed_jwt(claims: &Value, keys: &Keys) -> Result<String, String> {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": keys.kid()});
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = keys
        .signing
        .sign(
            &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            input.as_bytes(),
        )
        .map_err(|e| e.to_string())?;
    Ok(format!("{input}.{}", b64(&sig)))
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
    let now = claims["iat"].as_i64().unwrap_or_default();
    let mut key = signing;
    let mut header = json!({"alg": "RS256", "typ": "JWT", "kid": signing.kid()});
    match fault {
        Fault::IdTokenWrongIss => claims["iss"] = json!("https://evil.example"),
        Fault::IdTokenMissingIss => drop(claims.as_object_mut().map(|c| c.remove("iss"))),
        Fault::IdTokenWrongAud => claims["aud"] = json!(["someone-else"]),
        Fault::IdTokenMissingAud => drop(claims.as_object_mut().map(|c| c.remove("aud"))),
        Fault::IdTokenWrongAzp => {
            claims["aud"] = json!([client_id, "someone-else"]);
            claims["azp"] = json!("someone-else");
        }
        Fault::IdTokenMultiAudNoAzp => claims["aud"] = json!([client_id, "someone-else"]),
        Fault::IdTokenExpired => {
            claims["iat"] = json!(now - 3600);
            claims["exp"] = json!(now - 60);
        }
        Fault::IdTokenMissingExp => drop(claims.as_object_mut().map(|c| c.remove("exp"))),
        Fault::IdTokenIatFuture => {
            claims["iat"] = json!(now + 3600);
            claims["exp"] = json!(now + 7200);
        }
        Fault::IdTokenMissingSub => drop(claims.as_object_mut().map(|c| c.remove("sub"))),
        Fault::IdTokenWrongNonce => claims["nonce"] = json!("a-nonce-from-another-sign-in"),
        Fault::IdTokenMissingNonce => drop(claims.as_object_mut().map(|c| c.remove("nonce"))),
        Fault::IdTokenWrongAtHash => claims["at_hash"] = json!(at_hash("another access token")),
        Fault::IdTokenExtraClaims => {
            claims["x_pixie_unknown"] = json!({"nested": [1, 2, 3]});
            claims["urn:example:claim"] = json!("ignored");
        }
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
        _ => {}
    }
    let signing_input = |header: &Value| {
        format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        )
    };
    match fault {
        Fault::IdTokenAlgNone => {
            header = json!({"alg": "none", "typ": "JWT"});
            Ok(format!("{}.", signing_input(&header)))
        }
        Fault::IdTokenAlgConfusion => {
            // The classic attack: HS256 keyed with the RSA public key a client may hold.
            header = json!({"alg": "HS256", "typ": "JWT", "kid": signing.kid()});
            let input = signing_input(&header);
            let secret = signing.public_pem().into_bytes();
            let sig = CoreHmacKey::new(secret)
                .sign(&CoreJwsSigningAlgorithm::HmacSha256, input.as_bytes())
                .map_err(|e| e.to_string())?;
            Ok(format!("{input}.{}", b64(&sig)))
        }
        _ => {
            let input = signing_input(&header);
            let mut sig = key
                .signing
                .sign(
                    &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                    input.as_bytes(),
                )
                .map_err(|e| e.to_string())?;
            if fault == Fault::IdTokenBadSignature
                && let Some(last) = sig.last_mut()
            {
                *last ^= 0x01;
            }
            Ok(format!("{input}.{}", b64(&sig)))
        }
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
