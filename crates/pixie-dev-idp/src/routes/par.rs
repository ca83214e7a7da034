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

use super::authorize::validate;
use super::{AppState, no_store, registered_client, server_error, token_error};
use crate::store::Pushed;
use crate::{fault_hooks, random_token};

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
