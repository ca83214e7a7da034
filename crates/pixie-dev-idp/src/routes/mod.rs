//! The provider's endpoints, one module each, and the answers they share.

pub(crate) mod answers;
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
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::users::User;
use crate::{Shared, fault_hooks};

pub(crate) use answers::{
    Refusal, error_page, html_page, invalid_grant, no_store, redirect_to, server_error,
    token_error, with_params,
};
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
