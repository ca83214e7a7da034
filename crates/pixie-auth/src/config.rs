//! `providers.toml`: the providers a person configured, from templates that need only a
//! client id. A mistake is reported with the file, the line and the field, so the app can say
//! exactly what to fix (and keep working with its demo provider meanwhile).

use std::path::{Path, PathBuf};

use openidconnect::ClientSecret;
use serde::{Deserialize, Serialize};
use toml::Spanned;
use url::Url;

use crate::ProviderConfig;
use crate::http::is_allowed_url;
use crate::logout::LogoutHint;
use crate::provider::{Endpoints, Protocol, tenant_template};

/// Pixie's private-use redirect (RFC 8252 §7.1); each provider gets a path below it by
/// default ([`crate::mixup::default_redirect_uri`]).
pub const DEEP_LINK_REDIRECT: &str = "dev.pixie.app:/oauth/callback";
/// The loopback redirect (RFC 8252 §7.3); the port is chosen per sign-in. Old API (one URI
/// for every provider), removed once the app moved to per-provider URIs.
pub const LOOPBACK_REDIRECT: &str = "http://127.0.0.1/oauth/callback";

/// How the provider sends the browser back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RedirectMode {
    /// `dev.pixie.app:/oauth/callback`, delivered by the OS.
    #[default]
    DeepLink,
    /// `http://127.0.0.1:{port}/oauth/callback`, a listener for one sign-in.
    Loopback,
}

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
struct Defaults {
    name: &'static str,
    issuer: Option<&'static str>,
    redirect: RedirectMode,
    scopes: &'static [&'static str],
    protocol: Protocol,
    endpoints: Option<Endpoints>,
    extra_params: &'static [(&'static str, &'static str)],
    logout_hint: LogoutHint,
}

const OIDC_SCOPES: &[&str] = &["openid", "email", "profile"];

impl Template {
    fn defaults(self) -> Defaults {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    default: Option<Spanned<String>>,
    #[serde(default, rename = "provider")]
    providers: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: Spanned<String>,
    template: Option<Template>,
    display_name: Option<String>,
    issuer: Option<Spanned<String>>,
    client_id: Spanned<String>,
    client_secret: Option<String>,
    scopes: Option<Spanned<Vec<String>>>,
    redirect: Option<Spanned<RedirectMode>>,
    protocol: Option<Spanned<Protocol>>,
    authorization_endpoint: Option<Spanned<String>>,
    token_endpoint: Option<Spanned<String>>,
    userinfo_endpoint: Option<Spanned<String>>,
    jwks_uri: Option<Spanned<String>>,
    revocation_endpoint: Option<Spanned<String>>,
    /// RFC 8628 §4: where a sign-in on another device starts (discovered when not given).
    device_authorization_endpoint: Option<Spanned<String>>,
    /// Extra authorization request parameters, e.g. `{ prompt = "select_account" }`.
    authorization_params: Option<std::collections::BTreeMap<String, String>>,
    /// `"client-id"` (default) or `"id-token"`: see [`LogoutHint`].
    logout_hint: Option<LogoutHint>,
    /// The exact redirect URI registered at the provider, when the per-provider default
    /// (`…/oauth/callback/<id>`) cannot be used.
    redirect_uri: Option<Spanned<String>>,
    /// A deep-link provider that also accepts `http://127.0.0.1/oauth/callback/<id>`.
    loopback_fallback: Option<bool>,
    /// Pushed authorization requests (RFC 9126): `"auto"` (default), `"always"`, `"never"`.
    par: Option<Spanned<crate::par::ParMode>>,
    /// DPoP-bound tokens (RFC 9449): `"auto"` (default), `"always"`, `"never"`.
    dpop: Option<crate::dpop::DpopMode>,
}

/// A mistake in the file, where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {}{message}", path.display(), field.as_ref().map(|f| format!("`{f}`: ")).unwrap_or_default())]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub field: Option<String>,
    pub message: String,
}

/// The providers of a file, in its order, and the one to use unless told otherwise.
#[derive(Debug)]
pub struct Providers {
    pub default: Option<String>,
    pub providers: Vec<ProviderConfig>,
}

/// RFC 9700 §2.6 / RFC 8252 §8.3: https, or plain http on loopback only.
fn check_url(s: &str) -> Result<(), String> {
    match Url::parse(s) {
        Ok(u) if is_allowed_url(&u) => Ok(()),
        Ok(_) => Err("must use https (plain http only on loopback)".into()),
        Err(e) => Err(format!("not a URL: {e}")),
    }
}

fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The key written on the line where a value error points.
fn key_on_line(text: &str, line: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    let (key, _) = l.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_owned())
}

/// The field a serde message names (`unknown field `x``, `missing field `x``).
fn field_in(message: &str) -> Option<String> {
    if !(message.starts_with("unknown field") || message.starts_with("missing field")) {
        return None;
    }
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_owned())
}

/// Edit distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// serde's "unknown field `x`, expected one of `a`, `b`, …" made short: the nearest name
/// when there is one, else the list.
fn friendlier(message: &str, field: Option<&str>) -> String {
    let (Some(field), Some((_, expected))) = (field, message.split_once("expected")) else {
        return message.to_owned();
    };
    if !message.starts_with("unknown field") {
        return message.to_owned();
    }
    let names: Vec<&str> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|n| !n.is_empty())
        .collect();
    match names.iter().min_by_key(|n| distance(field, n)) {
        Some(best) if distance(field, best) <= 3 => {
            format!("unknown field; did you mean `{best}`?")
        }
        _ => format!("unknown field; the fields are {}", names.join(", ")),
    }
}

/// Read `path`. A missing file is no error: there is just nothing configured.
pub fn load(path: &Path) -> Result<Option<Providers>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(path, &text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ConfigError {
            path: path.to_owned(),
            line: 0,
            column: 0,
            field: None,
            message: e.to_string(),
        }),
    }
}

/// Parse the text of `path` (the path is only for messages).
pub fn parse(path: &Path, text: &str) -> Result<Providers, ConfigError> {
    let at = |offset: usize, field: Option<&str>, message: String| {
        let (line, column) = position(text, offset);
        ConfigError {
            path: path.to_owned(),
            line,
            column,
            field: field.map(str::to_owned),
            message,
        }
    };
    let file: File = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let (line, _) = position(text, offset);
        let message = e.message().trim().to_owned();
        let field = field_in(&message).or_else(|| key_on_line(text, line));
        let message = friendlier(&message, field.as_deref());
        at(offset, field.as_deref(), message)
    })?;

    let mut providers: Vec<ProviderConfig> = Vec::new();
    for entry in file.providers {
        let id_at = entry.id.span().start;
        let id = entry.id.into_inner();
        if id.trim().is_empty() {
            return Err(at(id_at, Some("id"), "must not be empty".into()));
        }
        // The id names the provider's redirect path (`/oauth/callback/<id>`).
        if !crate::mixup::is_valid_id(&id) {
            return Err(at(
                id_at,
                Some("id"),
                "use 1 to 64 letters, digits, `.`, `_` or `-`".into(),
            ));
        }
        if providers.iter().any(|p| p.id == id) {
            return Err(at(id_at, Some("id"), format!("`{id}` is used twice")));
        }
        let client_id_at = entry.client_id.span().start;
        let client_id = entry.client_id.into_inner();
        if client_id.trim().is_empty() {
            return Err(at(
                client_id_at,
                Some("client_id"),
                "must not be empty".into(),
            ));
        }
        let template = entry.template.unwrap_or(Template::Oidc);
        let defaults = template.defaults();
        let issuer = match (&entry.issuer, defaults.issuer) {
            (Some(i), _) => i.get_ref().clone(),
            (None, Some(i)) => i.to_owned(),
            (None, None) => {
                return Err(at(
                    id_at,
                    Some("issuer"),
                    format!("provider `{id}` needs an issuer URL"),
                ));
            }
        };
        let issuer_at = entry.issuer.as_ref().map_or(id_at, |i| i.span().start);
        // OIDC Discovery §3 / RFC 9700 §2.6: an https issuer (loopback excepted).
        check_url(&issuer).map_err(|m| at(issuer_at, Some("issuer"), m))?;
        let redirect = entry
            .redirect
            .as_ref()
            .map_or(defaults.redirect, |r| *r.get_ref());
        if template == Template::Google && redirect != RedirectMode::Loopback {
            let r_at = entry.redirect.as_ref().map_or(id_at, |r| r.span().start);
            return Err(at(
                r_at,
                Some("redirect"),
                "Google desktop clients accept only the loopback redirect".into(),
            ));
        }
        let protocol = entry
            .protocol
            .as_ref()
            .map_or(defaults.protocol, |p| *p.get_ref());
        let scopes = match entry.scopes {
            Some(s) => {
                let s_at = s.span().start;
                let s = s.into_inner();
                // OIDC Core §3.1.2.1: an OpenID request carries the `openid` scope.
                if protocol == Protocol::OpenidConnect && !s.iter().any(|x| x == "openid") {
                    return Err(at(s_at, Some("scopes"), "must include \"openid\"".into()));
                }
                s
            }
            None => defaults.scopes.iter().map(|s| (*s).to_owned()).collect(),
        };
        // Endpoints by hand: each one checked like the issuer, and complete for the protocol.
        let mut endpoints = defaults.endpoints;
        let written = [
            ("authorization_endpoint", &entry.authorization_endpoint),
            ("token_endpoint", &entry.token_endpoint),
            ("userinfo_endpoint", &entry.userinfo_endpoint),
            ("jwks_uri", &entry.jwks_uri),
            ("revocation_endpoint", &entry.revocation_endpoint),
            (
                "device_authorization_endpoint",
                &entry.device_authorization_endpoint,
            ),
        ];
        for (field, value) in &written {
            if let Some(v) = value {
                check_url(v.get_ref()).map_err(|m| at(v.span().start, Some(field), m))?;
            }
        }
        if written.iter().any(|(_, v)| v.is_some()) {
            let mut e = endpoints.unwrap_or_default();
            let [a, t, u, j, r, d] = written.map(|(_, v)| v.as_ref().map(|v| v.get_ref().clone()));
            e.authorization = a.unwrap_or(e.authorization);
            e.token = t.unwrap_or(e.token);
            e.userinfo = u.or(e.userinfo);
            e.jwks = j.or(e.jwks);
            e.revocation = r.or(e.revocation);
            e.device_authorization = d.or(e.device_authorization);
            let mut needed = vec![
                ("authorization_endpoint", e.authorization.is_empty()),
                ("token_endpoint", e.token.is_empty()),
            ];
            match protocol {
                Protocol::OpenidConnect => needed.push(("jwks_uri", e.jwks.is_none())),
                Protocol::Oauth2 => needed.push(("userinfo_endpoint", e.userinfo.is_none())),
            }
            if let Some((field, _)) = needed.iter().find(|(_, missing)| *missing) {
                return Err(at(
                    id_at,
                    Some(field),
                    format!("provider `{id}` sets endpoints by hand and needs this one too"),
                ));
            }
            endpoints = Some(e);
        }
        if protocol == Protocol::Oauth2 && endpoints.is_none() {
            let p_at = entry.protocol.as_ref().map_or(id_at, |p| p.span().start);
            return Err(at(
                p_at,
                Some("protocol"),
                "plain OAuth 2.0 has no discovery: set authorization_endpoint, token_endpoint and userinfo_endpoint".into(),
            ));
        }
        let mut extra_params: Vec<(String, String)> = defaults
            .extra_params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        for (k, v) in entry.authorization_params.unwrap_or_default() {
            extra_params.retain(|(key, _)| *key != k);
            extra_params.push((k, v));
        }
        // RFC 9700 §4.4: a redirect URI per provider unless one is written down.
        let redirect_uri = match &entry.redirect_uri {
            Some(u) => {
                crate::mixup::check_redirect_uri(u.get_ref(), redirect)
                    .map_err(|m| at(u.span().start, Some("redirect_uri"), m))?;
                u.get_ref().clone()
            }
            None => crate::mixup::default_redirect_uri(&id, redirect),
        };
        // RFC 9126 §5: pushing needs the endpoint, which only discovery names.
        let par = entry
            .par
            .as_ref()
            .map_or(Default::default(), |p| *p.get_ref());
        if let (crate::par::ParMode::Always, Some(_), Some(p)) = (par, &endpoints, &entry.par) {
            return Err(at(
                p.span().start,
                Some("par"),
                "endpoints set by hand name no pushed authorization request endpoint; use discovery or par = \"auto\"".into(),
            ));
        }
        providers.push(ProviderConfig {
            par,
            dpop: entry.dpop.unwrap_or_default(),
            display_name: entry
                .display_name
                .unwrap_or_else(|| defaults.name.to_owned()),
            id,
            multi_tenant: template == Template::Microsoft && tenant_template(&issuer).is_some(),
            issuer,
            client_id,
            client_secret: entry.client_secret.map(ClientSecret::new),
            scopes,
            redirect_uri,
            redirect,
            protocol,
            endpoints,
            extra_params,
            logout_hint: entry.logout_hint.unwrap_or(defaults.logout_hint),
            shares_redirect_with: Vec::new(),
            loopback_fallback: entry.loopback_fallback.unwrap_or(false)
                && redirect == RedirectMode::DeepLink,
        });
    }
    crate::mixup::mark_shared_redirects(&mut providers);
    let default = match file.default {
        Some(d) => {
            let d_at = d.span().start;
            let d = d.into_inner();
            if !providers.iter().any(|p| p.id == d) {
                return Err(at(
                    d_at,
                    Some("default"),
                    format!("no provider has the id `{d}`"),
                ));
            }
            Some(d)
        }
        None => None,
    };
    Ok(Providers { default, providers })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Providers, ConfigError> {
        parse(Path::new("providers.toml"), text)
    }

    #[test]
    fn the_example_file_parses() {
        let text = include_str!("../../../providers.example.toml");
        let file = p(text).unwrap();
        assert!(!file.providers.is_empty());
    }

    #[test]
    fn templates_fill_in_everything_but_the_client() {
        let file = p(r#"
default = "work"

[[provider]]
id = "google"
template = "google"
client_id = "123.apps.googleusercontent.com"
client_secret = "not-really-secret"

[[provider]]
id = "work"
template = "keycloak"
display_name = "Work"
issuer = "https://sso.example.com/realms/staff"
client_id = "pixie"
"#)
        .unwrap();
        assert_eq!(file.default.as_deref(), Some("work"));
        let g = &file.providers[0];
        assert_eq!(g.issuer, "https://accounts.google.com");
        assert_eq!(g.redirect, RedirectMode::Loopback);
        assert_eq!(g.redirect_uri, "http://127.0.0.1/oauth/callback/google");
        assert_eq!(g.display_name, "Google");
        assert!(g.client_secret.is_some());
        assert!(!format!("{g:?}").contains("not-really-secret"));
        let w = &file.providers[1];
        assert_eq!(
            (w.display_name.as_str(), w.redirect),
            ("Work", RedirectMode::DeepLink)
        );
        assert_eq!(w.redirect_uri, "dev.pixie.app:/oauth/callback/work");
        assert!(
            file.providers
                .iter()
                .all(|p| p.shares_redirect_with.is_empty())
        );
    }

    #[test]
    fn mistakes_name_the_file_the_line_and_the_field() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "[[provider]]\nid = \"a\"\nclientid = \"x\"\n",
                3,
                "clientid",
            ),
            ("[[provider]]\nid = \"a\"\n", 1, "client_id"),
            (
                "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\nredirect = \"carrier-pigeon\"\n",
                5,
                "redirect",
            ),
            (
                "[[provider]]\nid = \"a\"\ntemplate = \"okta\"\nclient_id = \"x\"\n",
                2,
                "issuer",
            ),
            (
                "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"http://id.example\"\n",
                4,
                "issuer",
            ),
            (
                "[[provider]]\nid = \"g\"\ntemplate = \"google\"\nclient_id = \"x\"\nredirect = \"deep-link\"\n",
                5,
                "redirect",
            ),
            (
                "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\nscopes = [\"email\"]\n",
                5,
                "scopes",
            ),
            (
                "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\n[[provider]]\nid = \"a\"\nclient_id = \"y\"\nissuer = \"https://id.example\"\n",
                6,
                "id",
            ),
            ("default = \"nope\"\n", 1, "default"),
            // Endpoints by hand: complete for the protocol, and https.
            (
                "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\nprotocol = \"oauth2\"\n",
                5,
                "protocol",
            ),
            (
                "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\nauthorization_endpoint = \"https://id.example/auth\"\ntoken_endpoint = \"https://id.example/token\"\n",
                2,
                "jwks_uri",
            ),
            (
                "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\ntoken_endpoint = \"http://id.example/token\"\n",
                5,
                "token_endpoint",
            ),
            // RFC 9126: `par = "always"` needs a pushed authorization request endpoint.
            (
                "[[provider]]\nid = \"a\"\ntemplate = \"github\"\nclient_id = \"x\"\npar = \"always\"\n",
                5,
                "par",
            ),
            (
                "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\ndpop = \"sometimes\"\n",
                5,
                "dpop",
            ),
        ];
        for (text, line, field) in cases {
            let e = p(text).unwrap_err();
            assert_eq!(
                (e.line, e.field.as_deref()),
                (*line, Some(*field)),
                "{text}\n{e}"
            );
            assert!(
                e.to_string()
                    .starts_with(&format!("providers.toml:{line}:")),
                "{e}"
            );
            assert!(e.to_string().len() < 200, "short enough to read: {e}");
        }
    }

    #[test]
    fn microsoft_and_github_templates() {
        let file = p(r#"
[[provider]]
id = "ms"
template = "microsoft"
client_id = "6731de76-14a6-49ae-97bc-6eba6914391e"

[[provider]]
id = "contoso"
template = "microsoft"
issuer = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
client_id = "x"

[[provider]]
id = "gh"
template = "github"
client_id = "Iv1.abc"
client_secret = "shipped-with-the-app"
authorization_params = { allow_signup = "false" }
"#)
        .unwrap();
        let ms = &file.providers[0];
        assert_eq!(ms.issuer, "https://login.microsoftonline.com/common/v2.0");
        assert!(ms.multi_tenant);
        assert_eq!(ms.redirect, RedirectMode::DeepLink);
        assert!(ms.scopes.iter().any(|s| s == "offline_access"));
        assert!(
            !file.providers[1].multi_tenant,
            "one tenant: the issuer is exact"
        );
        let gh = &file.providers[2];
        assert_eq!(gh.protocol, Protocol::Oauth2);
        assert_eq!(gh.redirect, RedirectMode::Loopback);
        assert_eq!(gh.display_name, "GitHub");
        assert_eq!(
            gh.extra_params,
            [("allow_signup".to_owned(), "false".to_owned())]
        );
    }

    #[test]
    fn the_id_token_goes_to_logout_only_where_the_provider_needs_it() {
        let file = p(r#"
[[provider]]
id = "okta"
template = "okta"
issuer = "https://example.okta.com/oauth2/default"
client_id = "x"

[[provider]]
id = "kc"
template = "keycloak"
issuer = "https://sso.example.com/realms/staff"
client_id = "x"

[[provider]]
id = "own"
issuer = "https://id.example"
client_id = "x"
logout_hint = "id-token"
"#)
        .unwrap();
        let hints: Vec<LogoutHint> = file.providers.iter().map(|p| p.logout_hint).collect();
        assert_eq!(
            hints,
            [
                LogoutHint::IdToken,
                LogoutHint::ClientId,
                LogoutHint::IdToken
            ]
        );
        let e = p("[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\nlogout_hint = \"email\"\n").unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (5, Some("logout_hint")),
            "{e}"
        );
    }

    #[test]
    fn a_shared_redirect_uri_is_marked_on_each_provider() {
        let file = p(r#"
[[provider]]
id = "a"
issuer = "https://a.example"
client_id = "x"
redirect_uri = "dev.pixie.app:/oauth/callback"

[[provider]]
id = "b"
issuer = "https://b.example"
client_id = "x"
redirect_uri = "dev.pixie.app:/oauth/callback"

[[provider]]
id = "c"
issuer = "https://c.example"
client_id = "x"

[[provider]]
id = "d"
issuer = "https://d.example"
client_id = "x"
redirect = "loopback"
redirect_uri = "http://127.0.0.1/oauth/callback/c"

[[provider]]
id = "e"
issuer = "https://e.example"
client_id = "x"
redirect = "loopback"
redirect_uri = "http://127.0.0.1/cb"
"#)
        .unwrap();
        let shared: Vec<(&str, Vec<String>)> = file
            .providers
            .iter()
            .map(|p| (p.id.as_str(), p.shares_redirect_with.clone()))
            .collect();
        assert_eq!(
            shared,
            [
                ("a", vec!["b".to_owned()]),
                ("b", vec!["a".to_owned()]),
                ("c", vec![]),
                ("d", vec![]),
                ("e", vec![]),
            ]
        );
        for (text, field) in [
            (
                "[[provider]]\nid = \"a b\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\n",
                "id",
            ),
            (
                "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\nredirect_uri = \"https://evil.example/cb\"\n",
                "redirect_uri",
            ),
        ] {
            assert_eq!(p(text).unwrap_err().field.as_deref(), Some(field), "{text}");
        }
    }

    #[test]
    fn a_misspelt_field_gets_a_suggestion() {
        let e = p("[[provider]]\nid = \"a\"\nclientid = \"x\"\n").unwrap_err();
        assert_eq!(e.message, "unknown field; did you mean `client_id`?");
        let e = p("[[provider]]\nid = \"a\"\ncolour = \"x\"\n").unwrap_err();
        assert!(
            e.message
                .starts_with("unknown field; the fields are id, template"),
            "{e}"
        );
    }

    #[test]
    fn a_loopback_fallback_is_for_deep_link_providers_only() {
        let file = p("[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\nloopback_fallback = true\n\
             [[provider]]\nid = \"b\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\nredirect = \"loopback\"\nloopback_fallback = true\n")
            .unwrap();
        let fallback: Vec<bool> = file.providers.iter().map(|p| p.loopback_fallback).collect();
        assert_eq!(fallback, [true, false]);
    }

    #[test]
    fn a_missing_file_is_not_an_error() {
        assert!(
            load(Path::new("/nonexistent/pixie/providers.toml"))
                .unwrap()
                .is_none()
        );
    }
}
