//! The device authorization grant's endpoints (RFC 8628): `POST /device_authorization`
//! (§3.1–3.2), the verification page `/device` (§3.3) and the device code grant at the
//! token endpoint (§3.4–3.5).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use super::{
    AppState, Issue, PersonChoice, Refusal, html_page, issue_tokens, no_store, registered_client,
    server_error, token_error,
};
use crate::device::{
    DEVICE_CODE_TTL, DEVICE_INTERVAL_SECS, Decision, DeviceGrant, new_user_code,
    normalise_user_code,
};
use crate::store::token_key;
use crate::users::User;
use crate::{Shared, device_pages, fault_hooks, random_token};

/// RFC 8628 §3.1–3.2: `POST /device_authorization`.
pub(super) async fn device_authorization(
    State(s): AppState,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    // RFC 8628 §3.1: the client authenticates or names itself (RFC 6749 §3.2.1).
    let client_id = match registered_client(&s, &headers, &form) {
        Ok(c) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let scope = form.get("scope").cloned().unwrap_or_default();
    if !scope.split(' ').any(|s| s == "openid") {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The openid scope is required.",
        );
    }
    if let Some(resp) = fault_hooks::device_authorization(&s) {
        return resp;
    }
    let (Ok(device_code), Some(user_code)) = (random_token(32), new_user_code()) else {
        return server_error("RNG.").into_response();
    };
    remember_device(&s, &device_code, &user_code, client_id, scope);
    let mut verification_uri = format!("{}/device", s.issuer);
    fault_hooks::verification_uri(&s, &mut verification_uri);
    let complete = format!("{}/device?user_code={user_code}", s.issuer);
    no_store(
        Json(json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": complete,
            "expires_in": DEVICE_CODE_TTL.num_seconds(),
            "interval": DEVICE_INTERVAL_SECS,
        }))
        .into_response(),
    )
}

/// Keep a new device request, by the hash of its device code and by its user code.
fn remember_device(
    s: &Shared,
    device_code: &str,
    user_code: &str,
    client_id: String,
    scope: String,
) {
    let now = s.clock.now();
    let Ok(mut store) = s.store.lock() else {
        return;
    };
    let devices = &mut store.devices;
    devices.prune(now);
    let key = token_key(device_code);
    devices
        .by_user_code
        .insert(normalise_user_code(user_code), key.clone());
    devices.grants.insert(
        key,
        DeviceGrant {
            client_id,
            scope,
            user_code: user_code.to_owned(),
            expires: now + DEVICE_CODE_TTL,
            interval: DEVICE_INTERVAL_SECS,
            last_poll: None,
            decision: Decision::Pending,
        },
    );
}

fn page(html: String) -> Response {
    html_page(html, "'self'", None)
}

/// RFC 8628 §3.3: `GET /device` asks for the user code; `?user_code=` (from
/// `verification_uri_complete`, §3.3.1) goes straight to choosing who to be.
pub(super) async fn device_page(
    State(s): AppState,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(typed) = q.get("user_code").filter(|c| !c.trim().is_empty()) else {
        return page(device_pages::enter_code(None, None));
    };
    match open_verification(&s, typed) {
        Some((tx, grant)) => page(device_pages::choose(
            &tx,
            &grant.client_id,
            &grant.user_code,
        )),
        // RFC 8628 §5.1: a wrong code says only that it is wrong.
        None => page(device_pages::enter_code(
            Some(typed),
            Some("That code is not valid or has expired. Check the code on your device."),
        )),
    }
}

/// A one-time page id for the pending request of the user code `typed`.
fn open_verification(s: &Shared, typed: &str) -> Option<(String, DeviceGrant)> {
    let now = s.clock.now();
    let mut store = s.store.lock().ok()?;
    let devices = &mut store.devices;
    let key = devices
        .by_user_code
        .get(&normalise_user_code(typed))?
        .clone();
    let grant = devices.grants.get(&key)?;
    if grant.expires <= now || !matches!(grant.decision, Decision::Pending) {
        return None;
    }
    let grant = grant.clone();
    let tx = random_token(24).ok()?;
    devices.pages.insert(tx.clone(), key);
    Some((tx, grant))
}

/// `POST /device`: the person's answer (RFC 8628 §3.3).
pub(super) async fn device_decision(
    State(s): AppState,
    Form(choice): Form<PersonChoice>,
) -> Response {
    let decision = match choice.answer() {
        Err(()) => return page(device_pages::done(false, "Unknown demo person.")),
        Ok(None) => Decision::Denied,
        Ok(Some(user)) => Decision::Approved {
            user,
            auth_time: s.clock.now(),
        },
    };
    let recorded = record_decision(&s, choice.tx(), &decision);
    page(match (recorded, decision) {
        (false, _) => device_pages::done(
            false,
            "This page has expired or was already used. Start again on your device.",
        ),
        (true, Decision::Denied) => {
            device_pages::done(false, "You declined. Nothing was shared with the device.")
        }
        (true, _) => device_pages::done(true, "You're signed in. Pixie continues on its own."),
    })
}

/// Record the answer given on page `tx`, if that page and its request are still open.
fn record_decision(s: &Shared, tx: &str, decision: &Decision) -> bool {
    let now = s.clock.now();
    let Ok(mut store) = s.store.lock() else {
        return false;
    };
    let devices = &mut store.devices;
    let Some(key) = devices.pages.remove(tx) else {
        return false;
    };
    match devices.grants.get_mut(&key) {
        Some(grant) if grant.expires > now && matches!(grant.decision, Decision::Pending) => {
            grant.decision = decision.clone();
            true
        }
        _ => false,
    }
}

const fn device_error(error: &'static str, description: &'static str) -> Refusal {
    Refusal::bad(error, description)
}

/// RFC 8628 §3.4–3.5: the token endpoint's device code grant.
pub(super) fn device_grant(
    s: &Shared,
    client_id: &str,
    form: &HashMap<String, String>,
    jkt: Option<&str>,
) -> Response {
    if let Some(resp) = fault_hooks::device_grant(s) {
        return resp;
    }
    let Some(code) = form.get("device_code") else {
        return device_error("invalid_request", "No device_code.").into_response();
    };
    let (user, auth_time, scope) = match poll(s, &token_key(code), client_id) {
        Ok(approved) => approved,
        Err(refusal) => return refusal.into_response(),
    };
    let Ok(family) = random_token(12) else {
        return server_error("RNG.").into_response();
    };
    issue_tokens(
        s,
        &Issue {
            client_id,
            user: &user,
            scope: &scope,
            family: &family,
            auth_time,
            nonce: None,
            code: None,
            jkt,
        },
    )
}

/// RFC 8628 §3.4–3.5: the poll is by the request's client, before it expires, and not
/// sooner than the interval (else `slow_down`, and the interval grows by 5 s for this and
/// every later request).
fn check_poll(grant: &mut DeviceGrant, client_id: &str, now: DateTime<Utc>) -> Result<(), Refusal> {
    // RFC 8628 §3.4: the device code must have been issued to this client.
    if grant.client_id != client_id {
        return Err(device_error(
            "invalid_grant",
            "The device code was issued to another client.",
        ));
    }
    // RFC 8628 §3.5 `expired_token`.
    if grant.expires <= now {
        return Err(device_error(
            "expired_token",
            "The device code has expired.",
        ));
    }
    // RFC 8628 §3.5 `slow_down`.
    let too_soon = grant
        .last_poll
        .is_some_and(|last| now - last < TimeDelta::seconds(grant.interval));
    grant.last_poll = Some(now);
    if too_soon {
        grant.interval += 5;
        return Err(device_error(
            "slow_down",
            "Polled too often; wait 5 seconds more.",
        ));
    }
    Ok(())
}

/// One poll of the device request `key`: the approved person, or the answer to send.
fn poll(s: &Shared, key: &str, client_id: &str) -> Result<(User, DateTime<Utc>, String), Refusal> {
    let now = s.clock.now();
    let Ok(mut store) = s.store.lock() else {
        return Err(server_error("Store."));
    };
    let devices = &mut store.devices;
    // One-time: a device code that already gave tokens gives nothing more.
    if devices.used.contains(key) {
        return Err(device_error(
            "invalid_grant",
            "This device code was already used.",
        ));
    }
    let Some(grant) = devices.grants.get_mut(key) else {
        return Err(device_error("invalid_grant", "Unknown device code."));
    };
    check_poll(grant, client_id, now)?;
    let answered = match &grant.decision {
        Decision::Pending => {
            return Err(device_error(
                "authorization_pending",
                "The person has not answered yet.",
            ));
        }
        Decision::Denied => None,
        Decision::Approved { user, auth_time } => {
            Some((user.clone(), *auth_time, grant.scope.clone()))
        }
    };
    devices.grants.remove(key);
    devices.used.insert(key.to_owned());
    answered.ok_or_else(|| device_error("access_denied", "The person declined."))
}
