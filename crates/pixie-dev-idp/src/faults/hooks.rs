//! Where each fault changes the provider's answer. The endpoints call these through
//! `crate::fault_hooks`, which is a set of no-ops when the `faults` feature is off.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Fault;
use crate::Shared;
use crate::dpop::rules::ProofError;
use crate::keys::Keys;
use crate::routes::answers::{redirect_to, token_error};

/// Discovery names another issuer than its URL.
pub(crate) fn discovery(s: &Shared, doc: &mut Value) {
    if s.fault() == Some(Fault::DiscoveryIssuerMismatch) {
        doc["issuer"] = json!(format!("{}/elsewhere", s.issuer));
    }
}

/// The mix-up attacker (RFC 9700 §4.4.1): the whole request, on to another provider.
pub(crate) fn authorize(s: &Shared, query: &HashMap<String, String>) -> Option<Response> {
    let target = s.config.forward_to.as_ref()?;
    (s.fault() == Some(Fault::AuthorizeForward)).then(|| {
        let params: Vec<(&str, &str)> = query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        redirect_to(target, &params)
    })
}

/// The authorization response's defects: another state, another issuer, markup in an error.
pub(crate) fn authorization_response(s: &Shared, params: &mut Vec<(&'static str, String)>) {
    let set = |params: &mut Vec<(&'static str, String)>, name: &'static str, value: &str| {
        params.retain(|(k, _)| *k != name);
        params.push((name, value.to_owned()));
    };
    match s.fault() {
        Some(Fault::RedirectWrongState) if params.iter().any(|(k, _)| *k == "state") => {
            set(params, "state", "a-state-from-elsewhere");
        }
        Some(Fault::RedirectWrongIss) if params.iter().any(|(k, _)| *k == "code") => {
            set(params, "iss", "https://evil.example");
        }
        Some(Fault::RedirectErrorMarkup) => {
            params.retain(|(k, _)| matches!(*k, "iss" | "state"));
            params.insert(0, ("error", "access_denied".into()));
            params.insert(
                1,
                (
                    "error_description",
                    "<img src=x onerror=alert(1)><b>Denied</b> by <a href=\"https://evil.example\">policy</a>".into(),
                ),
            );
        }
        _ => {}
    }
}

/// A slow network on the way back: the token endpoint has done its work (a code spent, a
/// refresh token rotated) and its answer arrives 1.5 s later, within any client's timeout.
pub(crate) async fn token_answered(s: &Shared) {
    if s.fault() == Some(Fault::TokenSlow) {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    }
}

/// The token endpoint's defects that replace its whole answer.
pub(crate) async fn token(s: &Shared) -> Option<Response> {
    Some(match s.fault()? {
        Fault::TokenErrorMarkup => token_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "<script>alert(1)</script><b>Code refused</b>",
        ),
        Fault::TokenRedirect => (
            StatusCode::FOUND,
            [(header::LOCATION, format!("{}/token-elsewhere", s.issuer))],
        )
            .into_response(),
        Fault::TokenStall => {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            return None;
        }
        Fault::TokenOversized => oversized("access_token"),
        Fault::TokenGarbage => garbage(),
        _ => return None,
    })
}

/// A JSON answer of 2 MiB.
fn oversized(field: &str) -> Response {
    let padding = "x".repeat(2 * 1024 * 1024);
    Json(json!({field: "a", "token_type": "Bearer", "padding": padding})).into_response()
}

/// An HTML page labelled as JSON.
fn garbage() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        "<html>Service Unavailable</html>",
    )
        .into_response()
}

/// The ID token the fault asks for, from the claims a correct one carries.
pub(crate) fn id_token(
    s: &Shared,
    claims: &Value,
    client_id: &str,
) -> Option<Result<String, String>> {
    let fault = s.fault().filter(|f| f.is_id_token())?;
    let rotated = s.rotated_key();
    Some(super::id_token(
        fault,
        claims.clone(),
        &s.keys,
        rotated.as_deref(),
        client_id,
    ))
}

/// Userinfo about another subject.
pub(crate) fn userinfo(s: &Shared, body: &mut Value) {
    if s.fault() == Some(Fault::UserinfoSubMismatch) {
        body["sub"] = json!("user-somebody-else");
    }
}

/// The pictures that must not be shown.
pub(crate) fn avatar(s: &Shared) -> Option<Response> {
    let png = |body: Vec<u8>| ([(header::CONTENT_TYPE, "image/png")], body).into_response();
    Some(match s.fault()? {
        Fault::PictureHuge => {
            let mut big = crate::avatar_png("x");
            big.resize(3 * 1024 * 1024, 0);
            png(big)
        }
        Fault::PictureNotImage => png(b"<html><body>Not a picture</body></html>".to_vec()),
        Fault::PictureHugeDimensions => png(crate::avatar::blank_png(8192, 8192)),
        Fault::PictureSvg => (
            [(header::CONTENT_TYPE, "image/svg+xml")],
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
        )
            .into_response(),
        _ => return None,
    })
}

/// The device authorization endpoint's defects that replace its answer.
pub(crate) fn device_authorization(s: &Shared) -> Option<Response> {
    match s.fault()? {
        Fault::DeviceAuthOversized => Some(oversized("device_code")),
        Fault::DeviceAuthGarbage => Some(garbage()),
        _ => None,
    }
}

/// A `javascript:` verification URI.
pub(crate) fn verification_uri(s: &Shared, uri: &mut String) {
    if s.fault() == Some(Fault::DeviceVerificationUriHostile) {
        *uri = "javascript:alert(document.cookie)".into();
    }
}

/// The device grant's refusals (RFC 8628 §3.5).
pub(crate) fn device_grant(s: &Shared) -> Option<Response> {
    let (error, description) = match s.fault()? {
        Fault::DeviceSlowDown => ("slow_down", "Poll less often."),
        Fault::DeviceExpiredToken => ("expired_token", "The device code has expired."),
        Fault::DeviceAccessDenied => (
            "access_denied",
            "<b>Denied</b> by <a href=\"https://evil.example\">policy</a>",
        ),
        Fault::DeviceCodeRejected => ("invalid_grant", "Unknown device code."),
        _ => return None,
    };
    Some(token_error(StatusCode::BAD_REQUEST, error, description))
}

/// A proof refused whatever it says: a nonce demanded for ever, or a replay claimed.
pub(crate) fn dpop_proof(s: &Shared) -> Option<ProofError> {
    match s.fault()? {
        Fault::DpopNonceAlways => Some(ProofError::UseNonce),
        Fault::DpopProofRejected => Some(ProofError::Invalid(
            "This DPoP proof was already used (jti).",
        )),
        _ => None,
    }
}

/// A bearer token when a DPoP one was asked for.
pub(crate) fn token_type(s: &Shared, wanted: &'static str) -> &'static str {
    match s.fault() {
        Some(Fault::DpopBearerToken) => "Bearer",
        _ => wanted,
    }
}

/// The pushed authorization request endpoint refuses (RFC 9126 §2.3).
pub(crate) fn par(s: &Shared) -> Option<Response> {
    (s.fault()? == Fault::ParRefused).then(|| {
        token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Pushed requests are not accepted today.",
        )
    })
}

/// Every `request_uri` has expired by the time the browser brings it.
pub(crate) fn request_uri_expired(s: &Shared) -> bool {
    s.fault() == Some(Fault::ParRequestUriExpired)
}

/// The newer key after a simulated rotation, published in the JWKS.
pub(crate) fn rotated_key(s: &Shared) -> Option<Arc<Keys>> {
    s.rotated_key()
}

/// `POST /_fault` with `fault=NAME` (or `fault=none`), on a provider that allows faults.
pub(crate) fn route(router: axum::Router<Arc<Shared>>, s: &Shared) -> axum::Router<Arc<Shared>> {
    if s.config.allow_faults {
        router.route("/_fault", axum::routing::post(set_fault))
    } else {
        router
    }
}

async fn set_fault(
    State(s): State<Arc<Shared>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let fault = match form.get("fault").map(String::as_str) {
        None | Some("none") | Some("") => None,
        Some(name) => match name.parse::<Fault>() {
            Ok(f) => Some(f),
            Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
        },
    };
    match s.set_fault(fault).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
