//! RFC 7009 token revocation: `/revoke`.

use std::collections::HashMap;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{AppState, client_id_of, token_error};
use crate::dpop;
use crate::store::token_key;

/// RFC 7009 §2: revoke a refresh token (its whole family) or an access token. Always 200
/// (§2.2), whether the token was known or not.
pub(super) async fn revoke(
    State(s): AppState,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(client_id) = client_id_of(&headers, &form) else {
        return token_error(StatusCode::UNAUTHORIZED, "invalid_client", "No client_id.");
    };
    let Some(token) = form.get("token") else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "No token.");
    };
    // RFC 9449 §5: a DPoP client's request carries a proof; when it does, it must be good.
    // Bound tokens are revoked like the others (a proof is not required to give one up).
    let htu = format!("{}/revoke", s.issuer);
    let expect = dpop::Expect {
        method: "POST",
        htu: &htu,
        access_token: None,
    };
    if let Err(e) = dpop::check(&s, &headers, &expect) {
        return dpop::token_refusal(&s, e);
    }
    if let Ok(mut store) = s.store.lock() {
        let family = store
            .refresh
            .get(&token_key(token))
            .filter(|r| r.client_id == client_id)
            .map(|r| r.family.clone())
            .or_else(|| {
                store
                    .access
                    .get(token)
                    .filter(|a| a.client_id == client_id)
                    .map(|a| a.family.clone())
            });
        if let Some(family) = family {
            store.revoke_family(&family);
        }
    }
    s.persist();
    StatusCode::OK.into_response()
}
