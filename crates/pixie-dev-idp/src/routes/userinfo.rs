//! OpenID Connect Core §5.3: `/userinfo`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::{claims, fault_hooks};

/// RFC 6750 §2.1: the token of `Authorization: Bearer …`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// RFC 6750 §3: 401 with the error in `WWW-Authenticate`.
fn unauthorized(error: &str) -> Response {
    let mut resp = StatusCode::UNAUTHORIZED.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("Bearer error=\"{error}\"")) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// OIDC Core §5.3.2: the profile of the access token's person.
pub(super) async fn userinfo(State(s): AppState, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers) else {
        return unauthorized("invalid_request");
    };
    let now = s.clock.now();
    let grant = s
        .store
        .lock()
        .ok()
        .and_then(|st| st.access.get(token).cloned());
    let Some(grant) = grant.filter(|g| g.expires > now) else {
        return unauthorized("invalid_token");
    };
    let mut body = claims::profile(&s, &grant.user);
    fault_hooks::userinfo(&s, &mut body);
    Json(body).into_response()
}
