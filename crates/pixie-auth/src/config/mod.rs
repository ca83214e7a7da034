//! `providers.toml`: the providers a person configured, from templates that need only a
//! client id ([`templates`]). A mistake is reported with the file, the line and the field, so
//! the app can say exactly what to fix (and keep working with its demo provider meanwhile).
//! What a provider's settings mean is [`crate::settings`].

use std::path::{Path, PathBuf};

use openidconnect::ClientSecret;
use serde::Deserialize;
use toml::Spanned;

use crate::settings::{
    DpopMode, Endpoints, LogoutHint, ParMode, Protocol, ProviderConfig, RedirectMode,
    check_redirect_uri, default_redirect_uri, is_valid_id, tenant_template,
};

mod messages;
mod templates;
#[cfg(test)]
mod tests;

use messages::{check_url, field_in, friendlier, key_on_line, position};
pub use templates::Template;

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
    par: Option<Spanned<ParMode>>,
    /// DPoP-bound tokens (RFC 9449): `"auto"` (default), `"always"`, `"never"`.
    dpop: Option<DpopMode>,
}

/// A mistake in the file, where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {}{message}", path.display(), field.as_ref().map(|f| format!("`{f}`: ")).unwrap_or_default())]
pub struct ConfigError {
    /// The file the mistake is in.
    pub path: PathBuf,
    /// Line of the mistake, from 1; 0 when the file could not be read at all.
    pub line: usize,
    /// Column of the mistake in characters, from 1; 0 when the file could not be read.
    pub column: usize,
    /// The key the mistake is about (e.g. `client_id`, `default`), when one is known.
    pub field: Option<String>,
    /// What is wrong and, where possible, how to fix it, in plain words.
    pub message: String,
}

/// The providers of a file, in its order, and the one to use unless told otherwise.
#[derive(Debug)]
pub struct Providers {
    /// The file's top-level `default`: the id of one of [`Self::providers`], or `None` when the
    /// file names none.
    pub default: Option<String>,
    /// Each `[[provider]]` entry, checked and with its template's defaults filled in, in file
    /// order.
    pub providers: Vec<ProviderConfig>,
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

/// Where a mistake is: the file and its text, to turn byte offsets into lines and columns.
struct Place<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Place<'_> {
    fn error(&self, offset: usize, field: Option<&str>, message: impl Into<String>) -> ConfigError {
        let (line, column) = position(self.text, offset);
        ConfigError {
            path: self.path.to_owned(),
            line,
            column,
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}

/// Parse the text of `path` (the path is only for messages).
pub fn parse(path: &Path, text: &str) -> Result<Providers, ConfigError> {
    let at = Place { path, text };
    let file: File = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let (line, _) = position(text, offset);
        let message = e.message().trim().to_owned();
        let field = field_in(&message).or_else(|| key_on_line(text, line));
        let message = friendlier(&message, field.as_deref());
        at.error(offset, field.as_deref(), message)
    })?;
    let mut providers: Vec<ProviderConfig> = Vec::new();
    for entry in file.providers {
        let provider = provider(&at, entry, &providers)?;
        providers.push(provider);
    }
    crate::mixup::mark_shared_redirects(&mut providers);
    let default = match file.default {
        Some(d) if !providers.iter().any(|p| p.id == *d.get_ref()) => {
            let message = format!("no provider has the id `{}`", d.get_ref());
            return Err(at.error(d.span().start, Some("default"), message));
        }
        d => d.map(Spanned::into_inner),
    };
    Ok(Providers { default, providers })
}

/// One `[[provider]]` entry, checked, with its template's defaults filled in.
fn provider(
    at: &Place<'_>,
    entry: Entry,
    others: &[ProviderConfig],
) -> Result<ProviderConfig, ConfigError> {
    let id_at = entry.id.span().start;
    let id = checked_id(at, &entry.id, others)?;
    let client_id = entry.client_id.get_ref().clone();
    if client_id.trim().is_empty() {
        return Err(at.error(
            entry.client_id.span().start,
            Some("client_id"),
            "must not be empty",
        ));
    }
    let template = entry.template.unwrap_or(Template::Oidc);
    let defaults = template.defaults();
    let issuer = issuer(at, &entry, &id, defaults.issuer)?;
    let redirect = entry
        .redirect
        .as_ref()
        .map_or(defaults.redirect, |r| *r.get_ref());
    if template == Template::Google && redirect != RedirectMode::Loopback {
        let r_at = entry.redirect.as_ref().map_or(id_at, |r| r.span().start);
        return Err(at.error(
            r_at,
            Some("redirect"),
            "Google desktop clients accept only the loopback redirect",
        ));
    }
    let protocol = entry
        .protocol
        .as_ref()
        .map_or(defaults.protocol, |p| *p.get_ref());
    let scopes = scopes(at, entry.scopes.as_ref(), protocol, defaults.scopes)?;
    let endpoints = endpoints(at, &entry, &id, protocol, defaults.endpoints.clone())?;
    let redirect_uri = match &entry.redirect_uri {
        // RFC 9700 §4.4: a redirect URI per provider unless one is written down.
        Some(u) => {
            check_redirect_uri(u.get_ref(), redirect)
                .map_err(|m| at.error(u.span().start, Some("redirect_uri"), m))?;
            u.get_ref().clone()
        }
        None => default_redirect_uri(&id, redirect),
    };
    let par = entry
        .par
        .as_ref()
        .map_or(ParMode::default(), |p| *p.get_ref());
    // RFC 9126 §5: pushing needs the endpoint, which only discovery names.
    if let (ParMode::Always, Some(_), Some(p)) = (par, &endpoints, &entry.par) {
        return Err(at.error(p.span().start, Some("par"), "endpoints set by hand name no pushed authorization request endpoint; use discovery or par = \"auto\""));
    }
    Ok(ProviderConfig {
        par,
        dpop: entry.dpop.unwrap_or_default(),
        display_name: entry
            .display_name
            .unwrap_or_else(|| defaults.name.to_owned()),
        multi_tenant: template == Template::Microsoft && tenant_template(&issuer).is_some(),
        extra_params: extra_params(defaults.extra_params, entry.authorization_params),
        client_secret: entry.client_secret.map(ClientSecret::new),
        logout_hint: entry.logout_hint.unwrap_or(defaults.logout_hint),
        shares_redirect_with: Vec::new(),
        loopback_fallback: entry.loopback_fallback.unwrap_or(false)
            && redirect == RedirectMode::DeepLink,
        id,
        issuer,
        client_id,
        scopes,
        redirect_uri,
        redirect,
        protocol,
        endpoints,
    })
}

/// The id names the provider's redirect path (`/oauth/callback/<id>`): fit for a path
/// segment, and used once.
fn checked_id(
    at: &Place<'_>,
    id: &Spanned<String>,
    others: &[ProviderConfig],
) -> Result<String, ConfigError> {
    let (id_at, id) = (id.span().start, id.get_ref());
    if id.trim().is_empty() {
        return Err(at.error(id_at, Some("id"), "must not be empty"));
    }
    if !is_valid_id(id) {
        return Err(at.error(
            id_at,
            Some("id"),
            "use 1 to 64 letters, digits, `.`, `_` or `-`",
        ));
    }
    if others.iter().any(|p| p.id == *id) {
        return Err(at.error(id_at, Some("id"), format!("`{id}` is used twice")));
    }
    Ok(id.clone())
}

/// OIDC Discovery §3 / RFC 9700 §2.6: the issuer (written, or the template's), https
/// (loopback excepted).
fn issuer(
    at: &Place<'_>,
    entry: &Entry,
    id: &str,
    default: Option<&str>,
) -> Result<String, ConfigError> {
    let id_at = entry.id.span().start;
    let issuer = match (&entry.issuer, default) {
        (Some(i), _) => i.get_ref().clone(),
        (None, Some(i)) => i.to_owned(),
        (None, None) => {
            return Err(at.error(
                id_at,
                Some("issuer"),
                format!("provider `{id}` needs an issuer URL"),
            ));
        }
    };
    let issuer_at = entry.issuer.as_ref().map_or(id_at, |i| i.span().start);
    check_url(&issuer).map_err(|m| at.error(issuer_at, Some("issuer"), m))?;
    Ok(issuer)
}

/// The scopes written, or the template's. OIDC Core §3.1.2.1: an OpenID request carries
/// the `openid` scope.
fn scopes(
    at: &Place<'_>,
    written: Option<&Spanned<Vec<String>>>,
    protocol: Protocol,
    default: &[&str],
) -> Result<Vec<String>, ConfigError> {
    let Some(s) = written else {
        return Ok(default.iter().map(|s| (*s).to_owned()).collect());
    };
    if protocol == Protocol::OpenidConnect && !s.get_ref().iter().any(|x| x == "openid") {
        return Err(at.error(s.span().start, Some("scopes"), "must include \"openid\""));
    }
    Ok(s.get_ref().clone())
}

/// Endpoints by hand: each one checked like the issuer, and complete for the protocol.
fn endpoints(
    at: &Place<'_>,
    entry: &Entry,
    id: &str,
    protocol: Protocol,
    default: Option<Endpoints>,
) -> Result<Option<Endpoints>, ConfigError> {
    let id_at = entry.id.span().start;
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
            check_url(v.get_ref()).map_err(|m| at.error(v.span().start, Some(field), m))?;
        }
    }
    let endpoints = if written.iter().any(|(_, v)| v.is_some()) {
        let mut e = default.unwrap_or_default();
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
            return Err(at.error(
                id_at,
                Some(field),
                format!("provider `{id}` sets endpoints by hand and needs this one too"),
            ));
        }
        Some(e)
    } else {
        default
    };
    if protocol == Protocol::Oauth2 && endpoints.is_none() {
        let p_at = entry.protocol.as_ref().map_or(id_at, |p| p.span().start);
        return Err(at.error(p_at, Some("protocol"), "plain OAuth 2.0 has no discovery: set authorization_endpoint, token_endpoint and userinfo_endpoint"));
    }
    Ok(endpoints)
}

/// The template's extra authorization parameters, with the written ones replacing theirs.
fn extra_params(
    defaults: &[(&str, &str)],
    written: Option<std::collections::BTreeMap<String, String>>,
) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = defaults
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    for (k, v) in written.unwrap_or_default() {
        params.retain(|(key, _)| *key != k);
        params.push((k, v));
    }
    params
}
