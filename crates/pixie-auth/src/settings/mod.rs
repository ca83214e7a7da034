//! A provider's settings: who it is, how to reach it, how it sends the browser back. Read
//! from `providers.toml` by [`crate::config`] or built in code with [`ProviderConfig::new`];
//! [`crate::Provider`] turns them into a provider that can sign people in.

use openidconnect::ClientSecret;
use serde::{Deserialize, Serialize};
use url::Url;

mod modes;
mod redirect;

pub use modes::{DpopMode, LogoutHint, ParMode};

pub use redirect::{
    CALLBACK_PATH, RedirectMode, SCHEME, check_redirect_uri, default_redirect_uri, is_valid_id,
};

/// What Pixie needs to know to sign in with a provider.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ProviderConfig {
    /// A short id, unique among the configured providers and fit for a URI path segment (see
    /// [`is_valid_id`]); the default redirect URI ends with it.
    pub id: String,
    /// The name shown to the person, e.g. "Google".
    pub display_name: String,
    /// The issuer identifier; metadata comes from `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// The client id registered at the provider (RFC 6749 §2.2).
    pub client_id: String,
    /// Only for providers that hand desktop apps a non-confidential secret (Google).
    #[serde(default, skip_serializing)]
    pub client_secret: Option<ClientSecret>,
    /// The scopes asked for (RFC 6749 §3.3); `openid profile email` by default.
    pub scopes: Vec<String>,
    /// The redirect URI registered at the provider (RFC 6749 §3.1.2); for loopback the port is
    /// chosen per sign-in.
    pub redirect_uri: String,
    /// Deep link (the default) or a loopback listener per sign-in (RFC 8252 §7.3).
    #[serde(default)]
    pub redirect: RedirectMode,
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
    pub logout_hint: LogoutHint,
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
    pub par: ParMode,
    /// DPoP-bound tokens (RFC 9449): `auto` (when ES256 is offered), `always`, `never`.
    #[serde(default)]
    pub dpop: DpopMode,
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
    /// The authorization endpoint (RFC 6749 §3.1).
    pub authorization: String,
    /// The token endpoint (RFC 6749 §3.2).
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
    /// Settings with the defaults: OpenID Connect, scopes `openid profile email`, a deep-link
    /// redirect, no client secret, PAR and DPoP on `auto`.
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
            redirect: RedirectMode::DeepLink,
            protocol: Protocol::OpenidConnect,
            endpoints: None,
            extra_params: Vec::new(),
            multi_tenant: false,
            logout_hint: LogoutHint::ClientId,
            shares_redirect_with: Vec::new(),
            loopback_fallback: false,
            par: ParMode::Auto,
            dpop: DpopMode::Auto,
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
