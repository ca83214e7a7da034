//! The provider's endpoints, one module each, and the answers they share.

mod authorize;
mod device;
mod discovery;
mod logout;
mod par;
mod revoke;
mod token;
mod userinfo;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use url::Url;

use crate::store::User;
use crate::{Shared, fault_hooks, pages};

pub(crate) use token::{Issue, issue_tokens};

pub(crate) type AppState = State<Arc<Shared>>;

/// Every endpoint, with `/_fault` when faults are built in and allowed.
pub fn router(shared: Arc<Shared>) -> Router {
    let router = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::discovery),
        )
        .route("/jwks", get(jwks))
        .route(
            "/authorize",
            get(authorize::authorize_page).post(authorize::authorize_decision),
        )
        .route("/token", post(token::token))
        .route("/device_authorization", post(device::device_authorization))
        .route(
            "/device",
            get(device::device_page).post(device::device_decision),
        )
        .route(
            "/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route("/revoke", post(revoke::revoke))
        .route("/end_session", get(logout::end_session))
        .route("/avatar/{file}", get(avatar));
    // RFC 9126 §2: only on a provider that offers pushed requests.
    let router = match shared.config.par {
        true => router.route("/par", post(par::push)),
        false => router,
    };
    fault_hooks::route(router, &shared).with_state(shared)
}

async fn jwks(State(s): AppState) -> Response {
    let rotated = fault_hooks::rotated_key(&s);
    Json(s.keys.jwks(rotated.as_deref())).into_response()
}

/// A page for a person's browser: never cached, never framed, no script but what `script`
/// names (its CSP hash), forms only to `form_action`.
pub(crate) fn html_page(html: String, form_action: &str, script: Option<&str>) -> Response {
    let scripts = script
        .map(|s| format!(" script-src '{}';", pages::csp_hash(s)))
        .unwrap_or_default();
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline';{scripts} form-action {form_action}; frame-ancestors 'none'"
    );
    let mut resp = Html(html).into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}

/// A request the provider cannot send back to the client (RFC 6749 §4.1.2.1), as a page.
pub(crate) fn error_page(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Html(pages::error(message))).into_response()
}

/// `uri` with `params` added to its query (RFC 6749 §4.1.2 / §4.1.2.1, RFC 9207 §2 `iss`),
/// or `None` when `uri` is not a URL.
pub(crate) fn with_params(uri: &str, params: &[(&str, &str)]) -> Option<Url> {
    let mut url = Url::parse(uri).ok()?;
    if !params.is_empty() {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    Some(url)
}

/// A 303 to `uri` with `params` in its query.
pub(crate) fn redirect_to(uri: &str, params: &[(&str, &str)]) -> Response {
    match with_params(uri, params) {
        Some(url) => {
            let mut resp = Redirect::to(url.as_str()).into_response();
            *resp.status_mut() = StatusCode::SEE_OTHER;
            resp
        }
        None => error_page("The redirect URI is not a valid URL."),
    }
}

/// `resp`, never to be cached (RFC 6749 §5.1).
pub(crate) fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// An OAuth error answer (RFC 6749 §5.2).
pub(crate) fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    no_store(
        (
            status,
            Json(json!({"error": error, "error_description": description})),
        )
            .into_response(),
    )
}

/// An OAuth error answer (RFC 6749 §5.2) on its way to becoming a response: small enough
/// to travel in a `Result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: &'static str,
}

impl Refusal {
    /// A 400 with `error`.
    pub(crate) const fn bad(error: &'static str, description: &'static str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            description,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        token_error(self.status, self.error, self.description)
    }
}

/// RFC 6749 §5.2 `invalid_grant`.
pub(crate) const fn invalid_grant(description: &'static str) -> Refusal {
    Refusal::bad("invalid_grant", description)
}

/// RFC 6749 §5.2 `server_error` for what cannot go wrong in practice (RNG, poisoned lock).
pub(crate) const fn server_error(what: &'static str) -> Refusal {
    Refusal {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        error: "server_error",
        description: what,
    }
}

/// What a page for choosing who to be sends (the sign-in and the device pages).
#[derive(serde::Deserialize)]
pub(crate) struct PersonChoice {
    tx: String,
    action: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

impl PersonChoice {
    /// The one-time id of the page the answer was given on.
    pub(crate) fn tx(&self) -> &str {
        &self.tx
    }

    /// `Ok(None)`: the person declined; `Ok(Some(user))`: continue as `user`; `Err`: an
    /// unknown preset person.
    pub(crate) fn answer(&self) -> Result<Option<User>, ()> {
        if self.action != "allow" {
            return Ok(None);
        }
        User::chosen(self.user.as_deref(), self.name.as_deref())
            .map(Some)
            .ok_or(())
    }
}

/// The client id from the body (public clients, RFC 6749 §2.3) or Basic auth (§2.3.1).
pub(crate) fn client_id_of(headers: &HeaderMap, form: &HashMap<String, String>) -> Option<String> {
    if let Some(id) = form.get("client_id") {
        return Some(id.clone());
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, _) = decoded.split_once(':')?;
    let id = url::form_urlencoded::parse(format!("i={id}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    Some(id)
}

/// RFC 6749 §2.3: the request's client, which must be registered here.
pub(crate) fn registered_client(
    s: &Shared,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<String, Refusal> {
    let invalid_client = |description| Refusal {
        status: StatusCode::UNAUTHORIZED,
        error: "invalid_client",
        description,
    };
    let client_id = client_id_of(headers, form).ok_or(invalid_client("No client_id."))?;
    if s.client(&client_id).is_none() {
        return Err(invalid_client("Unknown client."));
    }
    Ok(client_id)
}

/// A person's picture (OIDC Core §5.1 `picture`), drawn from their subject.
async fn avatar(State(s): AppState, Path(file): Path<String>) -> Response {
    if let Some(resp) = fault_hooks::avatar(&s) {
        return resp;
    }
    let Some(sub) = file.strip_suffix(".png") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if sub.is_empty() || sub.len() > 64 {
        return StatusCode::NOT_FOUND.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        crate::avatar_png(sub),
    )
        .into_response()
}
