//! A provider: its configuration, its discovered metadata, and the OpenID client built on them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType,
    CoreIdTokenVerifier, CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::http::{HeaderValue, Method, header};
use openidconnect::{
    AdditionalProviderMetadata, AuthUrl, ClientId, ClientSecret, DiscoveryError, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, HttpRequest, IssuerUrl, JsonWebKeySetUrl, ProviderMetadata,
    RedirectUrl, ResponseTypes, RevocationUrl, TokenUrl, UserInfoUrl,
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
    /// OpenID Connect (the default) or plain OAuth 2.0 (GitHub).
    #[serde(default)]
    pub protocol: Protocol,
    /// Endpoints given in the configuration instead of discovered.
    #[serde(default)]
    pub endpoints: Option<Endpoints>,
    /// Extra authorization request parameters a provider documents (Google's
    /// `access_type=offline`, without which it issues no refresh token).
    #[serde(default)]
    pub extra_params: Vec<(String, String)>,
    /// A multi-tenant issuer (Microsoft Entra `common`, `organizations`, `consumers`): the
    /// metadata's `issuer` is a template with `{tenantid}`, filled per token from `tid`.
    #[serde(default)]
    pub multi_tenant: bool,
    /// What the end-session URL says about the person (OpenID RP-Initiated Logout 1.0 §2):
    /// `client_id` by default, the ID token only for providers that need it.
    #[serde(default)]
    pub logout_hint: crate::logout::LogoutHint,
    /// Other configured providers with the same redirect URI (see [`crate::mixup`]).
    #[serde(default, skip_serializing)]
    pub shares_redirect_with: Vec<String>,
    /// A deep-link provider that also accepts its loopback URI
    /// (`http://127.0.0.1/oauth/callback/<id>`, any port; RFC 8252 §7.3), so a person whose
    /// browser never hands the link over can try that way instead.
    #[serde(default)]
    pub loopback_fallback: bool,
    /// Pushed authorization requests (RFC 9126): `auto` (when offered), `always`, `never`.
    #[serde(default)]
    pub par: crate::par::ParMode,
    /// DPoP-bound tokens (RFC 9449): `auto` (when ES256 is offered), `always`, `never`.
    #[serde(default)]
    pub dpop: crate::dpop::DpopMode,
}

/// Which protocol a provider speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// OpenID Connect: an ID token names the account; userinfo gives the profile.
    #[default]
    OpenidConnect,
    /// Plain OAuth 2.0 (RFC 6749) with PKCE: no ID token, no nonce; the account and profile
    /// come from the provider's user API (`userinfo` endpoint), e.g. GitHub's `/user`.
    Oauth2,
}

/// Endpoints configured by hand (a provider without discovery, or one that should not be
/// asked). Every URL must use https, loopback excepted (RFC 8252 §8.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoints {
    pub authorization: String,
    pub token: String,
    /// OIDC userinfo, or for OAuth 2.0 the API that returns the signed-in user.
    pub userinfo: Option<String>,
    /// The provider's keys; required for OpenID Connect.
    pub jwks: Option<String>,
    /// RFC 7009 revocation.
    pub revocation: Option<String>,
    /// RFC 8628 §3.1 device authorization (sign in on another device).
    #[serde(default)]
    pub device_authorization: Option<String>,
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
            protocol: Protocol::OpenidConnect,
            endpoints: None,
            extra_params: Vec::new(),
            multi_tenant: false,
            logout_hint: crate::logout::LogoutHint::ClientId,
            shares_redirect_with: Vec::new(),
            loopback_fallback: false,
            par: crate::par::ParMode::Auto,
            dpop: crate::dpop::DpopMode::Auto,
        }
    }
}

/// The `{tenantid}` template of a Microsoft-style multi-tenant issuer
/// (`https://login.microsoftonline.com/common/v2.0` →
/// `https://login.microsoftonline.com/{tenantid}/v2.0`), or `None` when the issuer names
/// no multi-tenant segment.
pub fn tenant_template(issuer: &str) -> Option<String> {
    let url = Url::parse(issuer).ok()?;
    let mut segments: Vec<&str> = url.path_segments()?.collect();
    let first = segments.first_mut()?;
    if !matches!(*first, "common" | "organizations" | "consumers") {
        return None;
    }
    *first = "{tenantid}";
    let mut out = url.clone();
    out.set_path(&segments.join("/"));
    // `set_path` percent-encodes the braces; the template is compared as text.
    Some(out.as_str().replace("%7Btenantid%7D", "{tenantid}"))
}

/// How to send a (non-confidential) client secret. OIDC Discovery 1.0 §3: a provider that
/// lists no methods supports `client_secret_basic`; one that lists them gets the basic one
/// only if it is listed. A plain OAuth 2.0 provider configured by hand gets the secret in
/// the body, as GitHub documents (RFC 6749 §2.3.1 allows both).
fn secret_auth_type(config: &ProviderConfig, metadata: &Metadata) -> openidconnect::AuthType {
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

/// A GET with an optional bearer token, as JSON bytes. For discovery that cannot go through
/// `openidconnect` (a multi-tenant issuer) and for OAuth 2.0 user APIs.
pub(crate) async fn get_json(
    http: &HttpClient,
    url: &Url,
    bearer: Option<&str>,
) -> Result<openidconnect::HttpResponse, crate::HttpError> {
    let mut request = HttpRequest::new(Vec::new());
    *request.method_mut() = Method::GET;
    *request.uri_mut() = url
        .as_str()
        .parse()
        .map_err(|_| crate::HttpError::Connect(format!("not a URL: {url}")))?;
    let headers = request.headers_mut();
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    if let Some(token) = bearer {
        let value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            crate::HttpError::Connect("the access token is not a header value".into())
        })?;
        headers.insert(header::AUTHORIZATION, value);
    }
    http.execute(request).await
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
    /// DPoP nonces per server and this run's account keys (RFC 9449).
    pub(crate) dpop: Arc<crate::dpop::DpopState>,
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
            crate::signin::ALLOWED_ALGS.to_vec(),
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
        // A plain OAuth 2.0 provider has no userinfo; the profile comes from its user API.
        if config.protocol == Protocol::Oauth2 && metadata.userinfo_endpoint().is_none() {
            return Err(Error::Config(
                "an OAuth 2.0 provider needs the `userinfo` URL of its user API".into(),
            ));
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
        let provider = Self {
            config,
            metadata,
            client,
            revocation,
            redirect_uri,
            http,
            clock: Arc::new(Utc::now),
            jwks: std::sync::RwLock::new(metadata_jwks),
            dpop: Arc::default(),
        };
        // RFC 9126 §5: `par` and the provider's metadata must agree before any sign-in.
        provider.par_endpoint()?;
        Ok(provider)
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
        // A `{tenantid}` issuer template cannot equal any token's `iss`; `signin.rs` checks
        // the filled-in template instead (OIDC Core §3.1.3.7 step 2).
        .require_issuer_match(!self.is_multi_tenant())
    }

    /// Whether the issuer is a `{tenantid}` template (Microsoft `common` and friends).
    pub fn is_multi_tenant(&self) -> bool {
        self.metadata.issuer().as_str().contains("{tenantid}")
    }

    /// The redirect URI of the configuration (a loopback one gets its port per sign-in).
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
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
