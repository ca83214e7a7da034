//! Finding a provider's metadata and keys: OIDC Discovery 1.0 §4, endpoints written in the
//! configuration, and Microsoft's multi-tenant issuers.

use openidconnect::core::{CoreJsonWebKeySet, CoreResponseType, CoreSubjectIdentifierType};
use openidconnect::{
    AuthUrl, DiscoveryError, IssuerUrl, JsonWebKeySetUrl, ResponseTypes, TokenUrl, UserInfoUrl,
};
use url::Url;

use super::{ExtraMetadata, Metadata, Provider};
use crate::Error;
use crate::http::request::get_json;
use crate::http::{HttpClient, is_allowed_url};
use crate::settings::{Endpoints, Protocol, ProviderConfig, tenant_template};

/// The metadata with the provider's keys fetched from its `jwks_uri` (https, loopback
/// excepted: RFC 8252 §8.3).
async fn with_keys(metadata: Metadata, http: &HttpClient) -> Result<Metadata, Error> {
    if !is_allowed_url(metadata.jwks_uri().url()) {
        return Err(Error::Discovery("the jwks endpoint must use https".into()));
    }
    let jwks = CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), http)
        .await
        .map_err(|e| match e {
            DiscoveryError::Request(source) => Error::http("jwks", source),
            other => Error::Discovery(format!("the provider's keys: {other}")),
        })?;
    Ok(metadata.set_jwks(jwks))
}

impl Provider {
    /// OIDC Discovery 1.0 §4: fetch and check the provider's metadata and keys.
    pub async fn discover(config: ProviderConfig, http: HttpClient) -> Result<Self, Error> {
        let issuer = IssuerUrl::new(config.issuer.clone())
            .map_err(|e| Error::Config(format!("issuer `{}`: {e}", config.issuer)))?;
        // RFC 9700 §2.6 / OIDC Discovery §3: TLS everywhere except loopback.
        if !is_allowed_url(issuer.url()) {
            return Err(Error::Config(format!(
                "issuer `{}` must use https (plain http is only allowed on loopback)",
                config.issuer
            )));
        }
        if let Some(endpoints) = config.endpoints.clone() {
            let metadata =
                Self::metadata_from_endpoints(&config, issuer, &endpoints, &http).await?;
            return Self::from_metadata(config, metadata, http);
        }
        if config.multi_tenant {
            let metadata = Self::discover_multi_tenant(&config, &issuer, &http).await?;
            return Self::from_metadata(config, metadata, http);
        }
        // OIDC Discovery 1.0 §4.3: the returned `issuer` must equal the one we asked for
        // (openidconnect checks this, and fetches `jwks_uri`).
        let metadata = Metadata::discover_async(issuer, &http)
            .await
            .map_err(|e| match e {
                DiscoveryError::Request(source) => Error::http("discovery", source),
                other => Error::Discovery(other.to_string()),
            })?;
        Self::from_metadata(config, metadata, http)
    }

    /// Metadata from endpoints written in the configuration. OpenID Connect still needs the
    /// provider's keys, fetched from the configured `jwks` URL.
    async fn metadata_from_endpoints(
        config: &ProviderConfig,
        issuer: IssuerUrl,
        endpoints: &Endpoints,
        http: &HttpClient,
    ) -> Result<Metadata, Error> {
        let url = |what: &str, s: &str| {
            Url::parse(s).map_err(|e| Error::Config(format!("the {what} endpoint `{s}`: {e}")))
        };
        let authorization = url("authorization", &endpoints.authorization)?;
        let jwks_uri = match (&endpoints.jwks, config.protocol) {
            (Some(j), _) => url("jwks", j)?,
            (None, Protocol::OpenidConnect) => {
                return Err(Error::Config(
                    "an OpenID provider configured by endpoints needs its `jwks` URL".into(),
                ));
            }
            // Never fetched: a plain OAuth 2.0 provider issues no ID token to check.
            (None, Protocol::Oauth2) => authorization.clone(),
        };
        let metadata = Metadata::new(
            issuer,
            AuthUrl::from_url(authorization),
            JsonWebKeySetUrl::from_url(jwks_uri),
            vec![ResponseTypes::new(vec![CoreResponseType::Code])],
            vec![CoreSubjectIdentifierType::Public],
            crate::id_token::rules::ALLOWED_ALGS.to_vec(),
            ExtraMetadata {
                revocation_endpoint: endpoints.revocation.clone(),
                device_authorization_endpoint: endpoints.device_authorization.clone(),
                ..ExtraMetadata::default()
            },
        )
        .set_token_endpoint(Some(TokenUrl::from_url(url("token", &endpoints.token)?)))
        .set_userinfo_endpoint(
            endpoints
                .userinfo
                .as_deref()
                .map(|u| url("userinfo", u).map(UserInfoUrl::from_url))
                .transpose()?,
        );
        if config.protocol == Protocol::Oauth2 {
            return Ok(metadata);
        }
        with_keys(metadata, http).await
    }

    /// Discovery for a multi-tenant issuer, whose metadata names a `{tenantid}` template
    /// rather than the URL asked (Microsoft identity platform, "Validate the issuer").
    async fn discover_multi_tenant(
        config: &ProviderConfig,
        issuer: &IssuerUrl,
        http: &HttpClient,
    ) -> Result<Metadata, Error> {
        let url = Url::parse(&format!(
            "{}/.well-known/openid-configuration",
            issuer.as_str().trim_end_matches('/')
        ))
        .map_err(|e| Error::Config(format!("issuer `{}`: {e}", config.issuer)))?;
        let response = get_json(http, &url, None)
            .await
            .map_err(|e| Error::http("discovery", e))?;
        if !response.status().is_success() {
            return Err(Error::Discovery(format!(
                "discovery answered HTTP {}",
                response.status()
            )));
        }
        let metadata: Metadata = serde_json::from_slice(response.body())
            .map_err(|e| Error::Discovery(format!("the metadata is not valid: {e}")))?;
        // OIDC Discovery 1.0 §4.3: the issuer must be the one asked for; for a multi-tenant
        // issuer, its `{tenantid}` template (each ID token's `iss` is then checked against
        // its `tid`, see `signin.rs`).
        let asked = issuer.as_str().trim_end_matches('/');
        let got = metadata.issuer().as_str().trim_end_matches('/');
        let template = tenant_template(asked);
        if got != asked && Some(got) != template.as_deref().map(|t| t.trim_end_matches('/')) {
            return Err(Error::Discovery(format!(
                "the metadata names the issuer `{got}`, not `{asked}`"
            )));
        }
        with_keys(metadata, http).await
    }
}
