//! The templates of known providers: everything but the client id filled in, each default
//! with the provider's documentation behind it.

use serde::Deserialize;

use crate::settings::{Endpoints, LogoutHint, Protocol, RedirectMode};

/// Known providers: everything but the client id filled in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Template {
    /// Google "Desktop app" clients: loopback only; they come with a client secret that is
    /// not confidential (Google documents it as such for installed apps).
    Google,
    /// Microsoft Entra ID (work, school and personal accounts): the `common` tenant by
    /// default, or `issuer = "https://login.microsoftonline.com/TENANT/v2.0"`.
    Microsoft,
    /// GitHub OAuth apps: plain OAuth 2.0 with PKCE, the profile from `GET /user`.
    Github,
    /// `issuer = "https://HOST/realms/REALM"`.
    Keycloak,
    /// `issuer = "https://TENANT.auth0.com/"`.
    Auth0,
    /// `issuer = "https://TENANT.okta.com/oauth2/default"`.
    Okta,
    /// Any OpenID Provider with discovery: `issuer` required.
    Oidc,
}

/// What a template fills in.
pub(super) struct Defaults {
    pub(super) name: &'static str,
    pub(super) issuer: Option<&'static str>,
    pub(super) redirect: RedirectMode,
    pub(super) scopes: &'static [&'static str],
    pub(super) protocol: Protocol,
    pub(super) endpoints: Option<Endpoints>,
    pub(super) extra_params: &'static [(&'static str, &'static str)],
    pub(super) logout_hint: LogoutHint,
}

const OIDC_SCOPES: &[&str] = &["openid", "email", "profile"];

impl Template {
    pub(super) fn defaults(self) -> Defaults {
        let oidc = |name| Defaults {
            name,
            issuer: None,
            redirect: RedirectMode::DeepLink,
            scopes: OIDC_SCOPES,
            protocol: Protocol::OpenidConnect,
            endpoints: None,
            extra_params: &[],
            logout_hint: LogoutHint::ClientId,
        };
        match self {
            Template::Google => Defaults {
                issuer: Some("https://accounts.google.com"),
                redirect: RedirectMode::Loopback,
                // Google issues a refresh token only to `access_type=offline` requests
                // ("Using OAuth 2.0 for Mobile & Desktop Apps", step 1).
                extra_params: &[("access_type", "offline")],
                ..oidc("Google")
            },
            Template::Microsoft => Defaults {
                issuer: Some("https://login.microsoftonline.com/common/v2.0"),
                // Microsoft issues a refresh token only for the `offline_access` scope.
                scopes: &["openid", "email", "profile", "offline_access"],
                ..oidc("Microsoft")
            },
            Template::Github => Defaults {
                issuer: Some("https://github.com"),
                redirect: RedirectMode::Loopback,
                scopes: &["read:user", "user:email"],
                protocol: Protocol::Oauth2,
                endpoints: Some(Endpoints {
                    authorization: "https://github.com/login/oauth/authorize".into(),
                    token: "https://github.com/login/oauth/access_token".into(),
                    userinfo: Some("https://api.github.com/user".into()),
                    jwks: None,
                    revocation: None,
                    // "Authorizing OAuth apps", device flow (enabled per app in its settings).
                    device_authorization: Some("https://github.com/login/device/code".into()),
                }),
                ..oidc("GitHub")
            },
            Template::Keycloak => oidc("Keycloak"),
            Template::Auth0 => oidc("Auth0"),
            // Okta's `/logout` requires `id_token_hint` ("Logout", Okta OIDC & OAuth 2.0 API).
            Template::Okta => Defaults {
                logout_hint: LogoutHint::IdToken,
                ..oidc("Okta")
            },
            Template::Oidc => oidc("OpenID provider"),
        }
    }
}
