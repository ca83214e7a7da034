//! Pushed authorization requests (RFC 9126): `POST /par` takes the whole authorization
//! request on a back channel and answers with a one-time `request_uri` (§2); `/authorize`
//! then takes only `client_id` and that `request_uri` (§4).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use serde_json::json;

use super::authorize::{Problem, validate};
use super::{AppState, no_store, registered_client, server_error, token_error};
use crate::store::Pushed;
use crate::{Shared, fault_hooks, random_token};

/// RFC 9126 §2.2: how long a `request_uri` lives (the RFC suggests 5 to 600 seconds).
pub(crate) const REQUEST_URI_TTL: TimeDelta = TimeDelta::seconds(60);
/// RFC 9126 §2.2: the URN prefix of a `request_uri`.
pub(crate) const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// `POST /par` (RFC 9126 §2.1): check the request as `/authorize` would, keep it, and answer
/// 201 with its `request_uri` (§2.2), or an error (§2.3).
pub(super) async fn push(
    State(s): AppState,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    // RFC 9126 §2.1: client authentication as at the token endpoint; a public client names
    // itself with `client_id` (RFC 6749 §2.3).
    let client_id = match registered_client(&s, &headers, &form) {
        Ok(c) => c,
        Err(refusal) => return refusal.into_response(),
    };
    if let Some(resp) = fault_hooks::par(&s) {
        return resp;
    }
    // RFC 9126 §2.1: `request_uri` must not be pushed.
    if form.contains_key("request_uri") {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "request_uri cannot be pushed.",
        );
    }
    // RFC 9126 §2.1: the same checks as an authorization request (§2.3 errors).
    if let Err(problem) = validate(&s, &form) {
        let (error, description) = problem.words();
        return token_error(StatusCode::BAD_REQUEST, error, description);
    }
    let Ok(handle) = random_token(24) else {
        return server_error("RNG.").into_response();
    };
    let request_uri = format!("{REQUEST_URI_PREFIX}{handle}");
    let now = s.clock.now();
    if let Ok(mut store) = s.store.lock() {
        store.prune(now);
        store.pushed.insert(
            request_uri.clone(),
            Pushed {
                client_id,
                params: form,
                expires: now + REQUEST_URI_TTL,
            },
        );
    }
    no_store(
        (
            StatusCode::CREATED,
            Json(json!({
                "request_uri": request_uri,
                "expires_in": REQUEST_URI_TTL.num_seconds(),
            })),
        )
            .into_response(),
    )
}

/// The parameters of the authorization request at `/authorize`: the query itself, or, when
/// it names a `request_uri`, the pushed ones (RFC 9126 §4): used once, within their life,
/// by the client that pushed them, and never mixed with parameters in the URL.
pub(super) fn pushed_request(
    s: &Shared,
    q: HashMap<String, String>,
) -> Result<HashMap<String, String>, Problem> {
    let Some(request_uri) = q.get("request_uri") else {
        return Ok(q);
    };
    // RFC 9126 §4: the browser carries `client_id` and `request_uri`, nothing more.
    if q.keys().any(|k| k != "client_id" && k != "request_uri") {
        return Err(Problem::Page(
            "A pushed sign-in request cannot be mixed with other parameters in the URL.",
        ));
    }
    // RFC 9126 §7.3: a request_uri is used once.
    let pushed = s
        .store
        .lock()
        .ok()
        .and_then(|mut st| st.pushed.remove(request_uri));
    let Some(pushed) = pushed else {
        return Err(Problem::Page(
            "This sign-in request is unknown or was already used (invalid_request_uri). Start again from the app.",
        ));
    };
    // RFC 9126 §4: the client_id must be the one that pushed the request.
    if q.get("client_id") != Some(&pushed.client_id) {
        return Err(Problem::Page(
            "This sign-in request belongs to another app (client_id does not match).",
        ));
    }
    // RFC 9126 §2.2 `expires_in`; the redirect URI was checked when the request was pushed,
    // so the client can be told at it.
    if pushed.expires <= s.clock.now() || fault_hooks::request_uri_expired(s) {
        return Err(Problem::Redirect {
            redirect_uri: pushed
                .params
                .get("redirect_uri")
                .cloned()
                .unwrap_or_default(),
            state: pushed.params.get("state").cloned(),
            error: "invalid_request_uri",
            description: "The sign-in request has expired. Start again from the app.",
        });
    }
    Ok(pushed.params)
}
