//! The provider metadata Pixie reads (OIDC Discovery 1.0 §3, RFC 8414 §2 and the
//! extensions below) and the `openidconnect` client built on it.

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, EndpointMaybeSet, EndpointNotSet, EndpointSet, ProviderMetadata,
    RevocationUrl,
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::Error;
use crate::http::is_allowed_url;
use crate::par::error::ParError;
use crate::settings::{ParMode, Protocol, ProviderConfig};

/// Metadata fields beyond OpenID Connect Discovery 1.0 that Pixie reads.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ExtraMetadata {
    /// RFC 9207 §3.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 8414 §2 (PKCE methods).
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// RFC 8414 §2 / RFC 7009.
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// OpenID RP-Initiated Logout 1.0 §2.1.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    /// OpenID Connect Discovery `prompt_values_supported` (Prompt Create §4.1).
    #[serde(default)]
    pub prompt_values_supported: Option<Vec<String>>,
    /// RFC 8628 §4: where a device sign-in starts.
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    /// RFC 9126 §5: where authorization requests are pushed.
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// RFC 9126 §5: the provider takes only pushed requests.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// RFC 9449 §5.1: the DPoP proof algorithms the provider accepts.
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
}
impl AdditionalProviderMetadata for ExtraMetadata {}

/// The metadata of a provider, with Pixie's extra fields.
pub type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The `openidconnect` client of a provider (authorization and token endpoints set).
pub(crate) type OidcClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How to send a (non-confidential) client secret. OIDC Discovery 1.0 §3: a provider that
/// lists no methods supports `client_secret_basic`; one that lists them gets the basic one
/// only if it is listed. A plain OAuth 2.0 provider configured by hand gets the secret in
/// the body, as GitHub documents (RFC 6749 §2.3.1 allows both).
pub(crate) fn secret_auth_type(
    config: &ProviderConfig,
    metadata: &Metadata,
) -> openidconnect::AuthType {
    use openidconnect::AuthType;
    match metadata.token_endpoint_auth_methods_supported() {
        Some(methods) if methods.contains(&CoreClientAuthMethod::ClientSecretBasic) => {
            AuthType::BasicAuth
        }
        Some(_) => AuthType::RequestBody,
        None if config.protocol == Protocol::Oauth2 => AuthType::RequestBody,
        None => AuthType::BasicAuth,
    }
}

/// The checks on metadata before any sign-in; returns the revocation endpoint, if any.
pub(crate) fn check(
    config: &ProviderConfig,
    metadata: &Metadata,
) -> Result<Option<RevocationUrl>, Error> {
    // RFC 7636 §4.2 / RFC 9700 §2.1.1: S256 only; refuse a provider that says it lacks it.
    if let Some(methods) = &metadata
        .additional_metadata()
        .code_challenge_methods_supported
        && !methods.iter().any(|m| m == "S256")
    {
        return Err(Error::Discovery(
            "the provider does not support PKCE with S256".into(),
        ));
    }
    // RFC 6749 §3.1 / §3.2: endpoints use TLS (loopback excepted, RFC 8252 §8.3).
    for (what, url) in [
        (
            "authorization",
            Some(metadata.authorization_endpoint().url()),
        ),
        ("token", metadata.token_endpoint().map(|u| u.url())),
        ("userinfo", metadata.userinfo_endpoint().map(|u| u.url())),
        ("jwks", Some(metadata.jwks_uri().url())),
    ] {
        if let Some(url) = url
            && !is_allowed_url(url)
        {
            return Err(Error::Discovery(format!(
                "the {what} endpoint must use https"
            )));
        }
    }
    // A plain OAuth 2.0 provider has no userinfo; the profile comes from its user API.
    if config.protocol == Protocol::Oauth2 && metadata.userinfo_endpoint().is_none() {
        return Err(Error::Config(
            "an OAuth 2.0 provider needs the `userinfo` URL of its user API".into(),
        ));
    }
    // RFC 9126 §5: `par` and the provider's metadata must agree before any sign-in.
    par_endpoint(config, metadata)?;
    // RFC 7009 §2: where to revoke a token at sign-out, when the provider has it.
    match &metadata.additional_metadata().revocation_endpoint {
        Some(u) => {
            let url = RevocationUrl::new(u.clone())
                .map_err(|e| Error::Discovery(format!("revocation_endpoint: {e}")))?;
            if !is_allowed_url(url.url()) {
                return Err(Error::Discovery(
                    "the revocation endpoint must use https".into(),
                ));
            }
            Ok(Some(url))
        }
        None => Ok(None),
    }
}

/// Where to push this provider's requests, or `None` to send them in the URL.
pub(crate) fn par_endpoint(
    config: &ProviderConfig,
    metadata: &Metadata,
) -> Result<Option<Url>, Error> {
    let extra = metadata.additional_metadata();
    let advertised = extra.pushed_authorization_request_endpoint.as_deref();
    match (config.par, advertised) {
        // RFC 9126 §5: a provider may require pushed requests.
        (ParMode::Never, _) if extra.require_pushed_authorization_requests => {
            Err(ParError::RequiredButOff.into())
        }
        (ParMode::Never, _) => Ok(None),
        (ParMode::Always, None) => Err(ParError::NotOffered.into()),
        (ParMode::Auto, None) if extra.require_pushed_authorization_requests => {
            Err(ParError::NotOffered.into())
        }
        (ParMode::Auto, None) => Ok(None),
        (_, Some(u)) => {
            let url = Url::parse(u).map_err(|e| {
                Error::Discovery(format!("pushed_authorization_request_endpoint: {e}"))
            })?;
            // RFC 9126 §5 / RFC 8252 §8.3: https, loopback excepted.
            if !is_allowed_url(&url) {
                return Err(Error::Discovery(
                    "the pushed authorization request endpoint must use https".into(),
                ));
            }
            Ok(Some(url))
        }
    }
}

/// Whether every request must be pushed: `par = "always"`, or the provider requires it
/// (RFC 9126 §5 `require_pushed_authorization_requests`).
pub(crate) fn must_push(config: &ProviderConfig, metadata: &Metadata) -> bool {
    config.par == ParMode::Always
        || metadata
            .additional_metadata()
            .require_pushed_authorization_requests
}
