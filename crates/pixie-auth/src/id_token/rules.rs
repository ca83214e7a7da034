//! What an ID token is checked for: the algorithms allowed, each check of OIDC Core
//! §3.1.3.7 in the order they are made, and the typed failure of each.

use openidconnect::core::CoreJwsSigningAlgorithm;
use serde::Serialize;

/// The signing algorithms Pixie accepts on ID tokens. Never `none`, never HMAC for a
/// public client (OIDC Core §10.1 / RFC 8725 §3.1).
pub const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 6] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];

/// Why an ID token was refused: one variant per check, each naming its spec step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    /// OIDC Core §3.1.3.3: a successful response to an `openid` request has an ID token.
    #[error("the token response has no id_token")]
    Missing,
    /// OIDC Core §3.1.3.7 step 2.
    #[error("the ID token names another issuer (iss): {0}")]
    Issuer(String),
    /// Step 2 for a multi-tenant issuer: the token names no tenant to fill the template with.
    #[error("the ID token names no tenant (tid)")]
    MissingTenant,
    /// Step 2 for a multi-tenant issuer: `iss` is not the template filled with `tid`.
    #[error("the ID token's issuer is not its tenant's ({0})")]
    TenantIssuer(String),
    /// Step 3.
    #[error("the ID token is not for Pixie (aud): {0}")]
    Audience(String),
    /// Steps 4–5.
    #[error("the ID token was issued to another party (azp): {0}")]
    AuthorizedParty(String),
    /// Steps 6–8 (and the JOSE header: `crit`, `alg` allow-list, no `none`).
    #[error("the ID token's signature does not verify: {0}")]
    Signature(String),
    /// Step 6: the provider's keys (JWKS) could not be read again after an unknown `kid`.
    #[error("the provider's keys could not be read: {0}")]
    Keys(String),
    /// Step 9.
    #[error("the ID token has expired (exp): {0}")]
    Expired(String),
    /// Step 10.
    #[error("the ID token is issued in the future (iat)")]
    IssuedInFuture,
    /// Step 11.
    #[error("the ID token's nonce is not this sign-in's: {0}")]
    Nonce(String),
    /// OIDC Core §3.1.3.8 / §3.2.2.9.
    #[error("at_hash does not match the access token")]
    AtHash,
    /// OIDC Core §12.2: a refreshed ID token is about the same person.
    #[error("the refreshed ID token is about another account (sub)")]
    SubjectChanged,
    /// OIDC Core §12.2: a refreshed ID token names another issuer, audience, authorized
    /// party or authentication time than the original one.
    #[error("the refreshed ID token's {0} is not the original one's")]
    ChangedOnRefresh(&'static str),
    /// A token that could not be read as an ID token at all.
    #[error("the ID token could not be read: {0}")]
    Unreadable(String),
}

impl IdTokenError {
    /// The check that failed, for the flow diagram.
    pub fn check(&self) -> IdTokenCheck {
        use IdTokenCheck as C;
        match self {
            Self::Missing | Self::Unreadable(_) => C::Present,
            Self::Issuer(_) => C::Issuer,
            Self::MissingTenant | Self::TenantIssuer(_) => C::Tenant,
            Self::Audience(_) => C::Audience,
            Self::AuthorizedParty(_) => C::AuthorizedParty,
            Self::Signature(_) | Self::Keys(_) => C::Signature,
            Self::Expired(_) => C::Expiry,
            Self::IssuedInFuture => C::IssuedAt,
            Self::Nonce(_) => C::Nonce,
            Self::AtHash => C::AtHash,
            Self::SubjectChanged | Self::ChangedOnRefresh(_) => C::SameSubject,
        }
    }
}

/// One check on an ID token, named after its step in OIDC Core §3.1.3.7 (and the few
/// outside it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdTokenCheck {
    /// §3.1.3.3: present and readable.
    Present,
    /// Step 2.
    Issuer,
    /// Step 3.
    Audience,
    /// Steps 4–5.
    AuthorizedParty,
    /// Steps 6–8.
    Signature,
    /// Step 9.
    Expiry,
    /// Step 11.
    Nonce,
    /// Step 2 for a multi-tenant issuer, made after the verifier's checks.
    Tenant,
    /// Step 10.
    IssuedAt,
    /// §12.2, a refresh only.
    SameSubject,
    /// §3.1.3.8.
    AtHash,
}

impl IdTokenCheck {
    /// The checks of one token response, in the order they are made.
    pub fn sequence(multi_tenant: bool, refresh: bool) -> Vec<IdTokenCheck> {
        use IdTokenCheck as C;
        let mut out = vec![C::Present];
        // A `{tenantid}` issuer is compared after the verifier, filled with the token's `tid`.
        if !multi_tenant {
            out.push(C::Issuer);
        }
        out.extend([C::Audience, C::Signature, C::Expiry, C::Nonce]);
        // Steps 4–5 are Pixie's own, made after the verifier's.
        out.push(C::AuthorizedParty);
        if multi_tenant {
            out.push(C::Tenant);
        }
        out.push(C::IssuedAt);
        if refresh {
            out.push(C::SameSubject);
        }
        out.push(C::AtHash);
        out
    }

    /// What the check asks, in words.
    pub fn name(self) -> &'static str {
        match self {
            Self::Present => "an ID token is present and readable",
            Self::Issuer => "iss is the provider's issuer",
            Self::Audience => "aud contains Pixie's client id",
            Self::AuthorizedParty => {
                "azp, when present, is Pixie (required with several audiences)"
            }
            // RFC 7515 §5.2: a JWS is validated header first (an allowed `alg`, every `crit`
            // understood), then its signature; a refusal of either is this step's.
            Self::Signature => "JOSE header and signature verified with the provider's JWKS",
            Self::Expiry => "not expired (exp)",
            Self::Nonce => "nonce matches this sign-in",
            Self::Tenant => "iss is the issuer of the token's own tenant (tid)",
            Self::IssuedAt => "issued now, not in the future (iat)",
            Self::SameSubject => {
                "about the same account as before (sub), with its iss, aud, azp and auth_time"
            }
            Self::AtHash => "at_hash, when present, matches the access token",
        }
    }

    /// Where the check is written.
    pub fn spec(self) -> &'static str {
        match self {
            Self::Present => "OIDC Core §3.1.3.3",
            Self::Issuer => "OIDC Core §3.1.3.7 step 2",
            Self::Audience => "OIDC Core §3.1.3.7 step 3",
            Self::AuthorizedParty => "OIDC Core §3.1.3.7 steps 4–5",
            Self::Signature => "OIDC Core §3.1.3.7 steps 6–8",
            Self::Expiry => "OIDC Core §3.1.3.7 step 9",
            Self::Nonce => "OIDC Core §3.1.3.7 step 11",
            Self::Tenant => "OIDC Core §3.1.3.7 step 2 (multi-tenant issuer)",
            Self::IssuedAt => "OIDC Core §3.1.3.7 step 10",
            Self::SameSubject => "OIDC Core §12.2",
            Self::AtHash => "OIDC Core §3.1.3.8",
        }
    }
}
