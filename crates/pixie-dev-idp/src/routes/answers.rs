//! The answers every endpoint shares: pages for a browser, redirects, and OAuth error
//! answers (RFC 6749 §5.2). Imports nothing of the provider above the page templates, so
//! the DPoP checks and the fault hooks can answer the same way.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::json;
use url::Url;

use crate::pages;

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
