//! The defects the provider can be told to produce, by name, and the one in force.

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use crate::keys::Keys;

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
    IdTokenWrongAzp => "id-token-wrong-azp": "the ID token names the client as its audience but another authorized party (azp)",
    IdTokenMultiAudNoAzp => "id-token-multi-aud-no-azp": "several audiences and no azp",
    IdTokenOwnAzp => "id-token-own-azp": "the ID token carries an azp naming the client itself: valid on its own, but a refreshed one must have azp exactly when the original did (OIDC Core §12.2)",
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
    TokenSlow => "token-slow": "the token endpoint's answer (its work done: a code spent, a refresh token rotated) arrives only after 1.5 s",
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
    pub(crate) fault: Mutex<Option<Fault>>,
    pub(crate) rotated: Mutex<Option<Arc<Keys>>>,
}
