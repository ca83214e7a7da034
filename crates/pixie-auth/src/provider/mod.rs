//! A provider: its settings, its discovered metadata, and the OpenID client built on them.
//! Where the metadata comes from is [`discovery`]; what Pixie reads of it is [`metadata`].

use std::sync::Arc;

use chrono::{DateTime, Utc};
use openidconnect::core::{CoreClient, CoreJsonWebKeySet};
use openidconnect::{ClientId, RedirectUrl, RevocationUrl};
use url::Url;

use crate::Error;
use crate::http::{HttpClient, Request};
use crate::settings::ProviderConfig;

mod discovery;
pub(crate) mod metadata;

pub use metadata::{ExtraMetadata, Metadata};
pub(crate) use metadata::{OidcClient, secret_auth_type};

/// The clock the checks use; tests inject their own.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

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
    /// DPoP nonces per server and this run's account keys (RFC 9449).
    pub(crate) dpop: Arc<crate::dpop::state::DpopState>,
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
    /// Build a provider from metadata already at hand (tests, cached discovery).
    pub fn from_metadata(
        config: ProviderConfig,
        metadata: Metadata,
        http: HttpClient,
    ) -> Result<Self, Error> {
        let revocation = metadata::check(&config, &metadata)?;
        let redirect_uri = Url::parse(&config.redirect_uri)
            .map_err(|e| Error::Config(format!("redirect URI `{}`: {e}", config.redirect_uri)))?;
        // RFC 9700 §4.4: a provider that shares its redirect URI must name itself on it.
        crate::mixup::check_shared_redirect(&config, &metadata)?;
        let metadata_jwks = metadata.jwks().clone();
        let client = CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(config.client_id.clone()),
            config.client_secret.clone(),
        )
        .set_redirect_uri(RedirectUrl::from_url(redirect_uri.clone()))
        .set_auth_type(secret_auth_type(&config, &metadata));
        Ok(Self {
            config,
            metadata,
            client,
            revocation,
            redirect_uri,
            http,
            clock: Arc::new(Utc::now),
            jwks: std::sync::RwLock::new(metadata_jwks),
            dpop: Arc::default(),
        })
    }

    /// Replace the clock used for token expiry checks (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Whether the issuer is a `{tenantid}` template (Microsoft `common` and friends).
    pub fn is_multi_tenant(&self) -> bool {
        self.metadata.issuer().as_str().contains("{tenantid}")
    }

    /// The redirect URI of the configuration (a loopback one gets its port per sign-in).
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// The settings this provider was built from.
    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// The checked metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The issuer identifier (for a multi-tenant provider, its `{tenantid}` template).
    pub fn issuer(&self) -> &str {
        self.metadata.issuer().as_str()
    }

    /// The HTTP client every request to this provider goes through.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// A form POST to one of the provider's endpoints (revocation, pushed authorization,
    /// device authorization and polling) with the client authentication the token endpoint
    /// gets (RFC 6749 §2.3.1; RFC 9126 §2.1, RFC 7009 §2.1, RFC 8628 §3.1 ask for the same):
    /// a public client is named by `client_id` in the body; a client with a secret sends it
    /// as HTTP Basic or in the body, as [`secret_auth_type`] decided.
    pub(crate) fn client_form(
        &self,
        url: &Url,
        fields: &[(&str, &str)],
    ) -> Result<openidconnect::HttpRequest, crate::HttpError> {
        let id = self.config.client_id.as_str();
        let mut fields = fields.to_vec();
        let basic = match &self.config.client_secret {
            Some(secret)
                if matches!(self.client.auth_type(), openidconnect::AuthType::BasicAuth) =>
            {
                Some(secret.secret().as_str())
            }
            Some(secret) => {
                fields.push(("client_secret", secret.secret().as_str()));
                None
            }
            None => None,
        };
        if basic.is_none() && !fields.iter().any(|(k, _)| *k == "client_id") {
            fields.push(("client_id", id));
        }
        let mut request = Request::form_post(url, &fields);
        if let Some(secret) = basic {
            request = request.basic(id, secret);
        }
        request.build()
    }
}
