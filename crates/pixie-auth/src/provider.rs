//! A provider: its configuration, its discovered metadata, and the OpenID client built on them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType,
    CoreIdTokenVerifier, CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, ClientId, ClientSecret, DiscoveryError, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, ProviderMetadata, RedirectUrl, RevocationUrl,
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::Error;
use crate::http::{HttpClient, is_allowed_url};

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
}
impl AdditionalProviderMetadata for ExtraMetadata {}

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

pub(crate) type OidcClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The clock the checks use; tests inject their own.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// What Pixie needs to know to sign in with a provider.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ProviderConfig {
    pub id: String,
    pub display_name: String,
    /// The issuer identifier; metadata comes from `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// Only for providers that hand desktop apps a non-confidential secret (Google).
    #[serde(default, skip_serializing)]
    pub client_secret: Option<ClientSecret>,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    /// Deep link (the default) or a loopback listener per sign-in (RFC 8252 §7.3).
    #[serde(default)]
    pub redirect: crate::config::RedirectMode,
}

impl ProviderConfig {
    pub fn new(
        id: &str,
        display_name: &str,
        issuer: &str,
        client_id: &str,
        redirect_uri: &str,
    ) -> Self {
        Self {
            id: id.into(),
            display_name: display_name.into(),
            issuer: issuer.into(),
            client_id: client_id.into(),
            client_secret: None,
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            redirect_uri: redirect_uri.into(),
            redirect: crate::config::RedirectMode::DeepLink,
        }
    }
}

/// A provider whose metadata has been discovered and checked.
pub struct Provider {
    pub(crate) config: ProviderConfig,
    pub(crate) metadata: Metadata,
    pub(crate) client: OidcClient,
    pub(crate) revocation: Option<RevocationUrl>,
    pub(crate) redirect_uri: Url,
    pub(crate) http: HttpClient,
    pub(crate) clock: Clock,
    /// The provider's keys: from discovery, fetched again once when a token names an unknown
    /// `kid` (key rotation).
    pub(crate) jwks: std::sync::RwLock<CoreJsonWebKeySet>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("id", &self.config.id)
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
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

    /// Build a provider from metadata already at hand (tests, cached discovery).
    pub fn from_metadata(
        config: ProviderConfig,
        metadata: Metadata,
        http: HttpClient,
    ) -> Result<Self, Error> {
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
        let redirect_uri = Url::parse(&config.redirect_uri)
            .map_err(|e| Error::Config(format!("redirect URI `{}`: {e}", config.redirect_uri)))?;
        // RFC 7009 §2: where to revoke a refresh token at sign-out, when the provider has it.
        let revocation = match &metadata.additional_metadata().revocation_endpoint {
            Some(u) => {
                let url = RevocationUrl::new(u.clone())
                    .map_err(|e| Error::Discovery(format!("revocation_endpoint: {e}")))?;
                if !is_allowed_url(url.url()) {
                    return Err(Error::Discovery(
                        "the revocation endpoint must use https".into(),
                    ));
                }
                Some(url)
            }
            None => None,
        };
        let metadata_jwks = metadata.jwks().clone();
        let client = CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(config.client_id.clone()),
            config.client_secret.clone(),
        )
        .set_redirect_uri(RedirectUrl::from_url(redirect_uri.clone()));
        Ok(Self {
            config,
            metadata,
            client,
            revocation,
            redirect_uri,
            http,
            clock: Arc::new(Utc::now),
            jwks: std::sync::RwLock::new(metadata_jwks),
        })
    }

    /// Replace the clock used for token expiry checks (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// A verifier over the keys Pixie holds now, with the algorithm allow-list and the clock.
    pub(crate) fn id_token_verifier(&self) -> CoreIdTokenVerifier<'static> {
        let jwks = self
            .jwks
            .read()
            .map(|k| k.clone())
            .unwrap_or_else(|p| p.into_inner().clone());
        let clock = self.clock.clone();
        CoreIdTokenVerifier::new_public_client(
            ClientId::new(self.config.client_id.clone()),
            self.metadata.issuer().clone(),
            jwks,
        )
        .set_allowed_algs(crate::signin::ALLOWED_ALGS)
        .set_time_fn(move || clock())
    }

    /// Fetch the JWKS again (after an unknown `kid`).
    pub(crate) async fn refresh_jwks(&self) -> Result<(), Error> {
        let fresh = CoreJsonWebKeySet::fetch_async(self.metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| match e {
                DiscoveryError::Request(source) => Error::http("jwks", source),
                other => Error::IdToken(format!("the provider's keys could not be read: {other}")),
            })?;
        tracing::info!(
            keys = fresh.keys().len(),
            "fetched the provider's JWKS again"
        );
        match self.jwks.write() {
            Ok(mut k) => *k = fresh,
            Err(p) => *p.into_inner() = fresh,
        }
        Ok(())
    }

    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    pub fn issuer(&self) -> &str {
        self.metadata.issuer().as_str()
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }
}
