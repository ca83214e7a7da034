//! Sign in on another device: the device authorization grant (RFC 8628). The device asks for
//! a code (`POST /device_authorization`), the person enters the user code at `/device`
//! (prefilled through `verification_uri_complete`), picks who to be, and the device polls
//! `/token` with the device code.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::Json;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::routes::{client, client_id_of, issue_tokens, token_error};
use crate::store::{PRESET_USERS, User, token_key};
use crate::{Fault, Shared, device_pages, random_token};

/// RFC 8628 §3.4 `grant_type`.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// How long the codes live (RFC 8628 §3.2 `expires_in`).
pub const DEVICE_CODE_TTL: TimeDelta = TimeDelta::minutes(10);
/// RFC 8628 §3.2 `interval`: the polling interval this provider asks for.
pub const DEVICE_INTERVAL_SECS: i64 = 5;
/// RFC 8628 §6.1: a base-20 alphabet without vowels (no words) or look-alikes.
const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// Where the person stands on a device request.
#[derive(Clone, Debug)]
pub enum Decision {
    Pending,
    Approved {
        user: User,
        auth_time: DateTime<Utc>,
    },
    Denied,
}

#[derive(Clone, Debug)]
pub struct DeviceGrant {
    pub client_id: String,
    pub scope: String,
    pub user_code: String,
    pub expires: DateTime<Utc>,
    /// Seconds; raised by 5 at each `slow_down` (RFC 8628 §3.5).
    pub interval: i64,
    pub last_poll: Option<DateTime<Utc>>,
    pub decision: Decision,
}

/// Device requests by [`token_key`] of their device code (never the code itself).
#[derive(Default)]
pub struct Devices {
    pub grants: HashMap<String, DeviceGrant>,
    /// User code (normalised) → device code key.
    pub by_user_code: HashMap<String, String>,
    /// Open verification pages: tx → device code key.
    pub pages: HashMap<String, String>,
    /// Device codes already exchanged (one-time).
    pub used: HashSet<String>,
}

impl Devices {
    fn prune(&mut self, now: DateTime<Utc>) {
        let stale = now - TimeDelta::minutes(15);
        let gone: Vec<String> = self
            .grants
            .iter()
            .filter(|(_, g)| g.expires < stale)
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            self.grants.remove(&k);
        }
        let grants = &self.grants;
        self.by_user_code.retain(|_, k| grants.contains_key(k));
        self.pages.retain(|_, k| grants.contains_key(k));
    }
}

/// RFC 8628 §6.1: what a person may type for `WDJB-MJHT` (case, spaces and dashes ignored).
pub fn normalise_user_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .take(16)
        .collect()
}

/// Eight characters of [`USER_CODE_ALPHABET`], shown as `XXXX-XXXX`.
fn new_user_code() -> Option<String> {
    let mut code = String::with_capacity(9);
    while code.len() < 9 {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).ok()?;
        // 240 = 12 × 20: no bias.
        for byte in b.into_iter().filter(|b| *b < 240) {
            if code.len() == 4 {
                code.push('-');
            }
            if code.len() < 9 {
                code.push(USER_CODE_ALPHABET[(byte % 20) as usize] as char);
            }
        }
    }
    Some(code)
}

type AppState = State<Arc<Shared>>;

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// RFC 8628 §3.1–3.2: `POST /device_authorization`.
pub async fn device_authorization(
    State(s): AppState,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    // RFC 8628 §3.1: the client authenticates or names itself (RFC 6749 §3.2.1).
    let Some(client_id) = client_id_of(&headers, &form) else {
        return token_error(StatusCode::UNAUTHORIZED, "invalid_client", "No client_id.");
    };
    if client(&s, &client_id).is_none() {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Unknown client.",
        );
    }
    let scope = form.get("scope").cloned().unwrap_or_default();
    if !scope.split(' ').any(|s| s == "openid") {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The openid scope is required.",
        );
    }
    match s.fault() {
        Some(Fault::DeviceAuthOversized) => {
            let padding = "x".repeat(2 * 1024 * 1024);
            return Json(json!({"device_code": "d", "padding": padding})).into_response();
        }
        Some(Fault::DeviceAuthGarbage) => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                "<html>Service Unavailable</html>",
            )
                .into_response();
        }
        _ => {}
    }
    let (Ok(device_code), Some(user_code)) = (random_token(32), new_user_code()) else {
        return token_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "RNG.");
    };
    let now = s.clock.now();
    if let Ok(mut store) = s.store.lock() {
        let devices = &mut store.devices;
        devices.prune(now);
        let key = token_key(&device_code);
        devices
            .by_user_code
            .insert(normalise_user_code(&user_code), key.clone());
        devices.grants.insert(
            key,
            DeviceGrant {
                client_id,
                scope,
                user_code: user_code.clone(),
                expires: now + DEVICE_CODE_TTL,
                interval: DEVICE_INTERVAL_SECS,
                last_poll: None,
                decision: Decision::Pending,
            },
        );
    }
    let verification_uri = match s.fault() {
        Some(Fault::DeviceVerificationUriHostile) => "javascript:alert(document.cookie)".into(),
        _ => format!("{}/device", s.issuer),
    };
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

fn page(html: String) -> Response {
    let mut resp = Html(html).into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    resp
}

/// RFC 8628 §3.3: `GET /device` asks for the user code; `?user_code=` (from
/// `verification_uri_complete`, §3.3.1) goes straight to choosing who to be.
pub async fn device_page(State(s): AppState, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(typed) = q.get("user_code").filter(|c| !c.trim().is_empty()) else {
        return page(device_pages::enter_code(None, None));
    };
    let now = s.clock.now();
    let found = s.store.lock().ok().and_then(|mut store| {
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
    });
    match found {
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

#[derive(Deserialize)]
pub struct DeviceDecision {
    tx: String,
    action: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// `POST /device`: the person's answer (RFC 8628 §3.3).
pub async fn device_decision(State(s): AppState, Form(d): Form<DeviceDecision>) -> Response {
    let decision = if d.action == "allow" {
        let typed = d.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
        let name = match typed {
            Some(n) => n.chars().take(64).collect::<String>(),
            None => {
                let id = d.user.as_deref().unwrap_or("ada");
                match PRESET_USERS.iter().find(|(pid, _)| *pid == id) {
                    Some((_, n)) => (*n).to_owned(),
                    None => return page(device_pages::done(false, "Unknown demo person.")),
                }
            }
        };
        Decision::Approved {
            user: User::from_name(&name),
            auth_time: s.clock.now(),
        }
    } else {
        Decision::Denied
    };
    let now = s.clock.now();
    let done = s.store.lock().ok().and_then(|mut store| {
        let devices = &mut store.devices;
        let key = devices.pages.remove(&d.tx)?;
        let grant = devices.grants.get_mut(&key)?;
        if grant.expires <= now || !matches!(grant.decision, Decision::Pending) {
            return None;
        }
        grant.decision = decision.clone();
        Some(())
    });
    match (done, decision) {
        (None, _) => page(device_pages::done(
            false,
            "This page has expired or was already used. Start again on your device.",
        )),
        (Some(()), Decision::Denied) => page(device_pages::done(
            false,
            "You declined. Nothing was shared with the device.",
        )),
        (Some(()), _) => page(device_pages::done(
            true,
            "You're signed in. Return to your device: it will continue on its own.",
        )),
    }
}

fn device_error(error: &str, description: &str) -> Response {
    token_error(StatusCode::BAD_REQUEST, error, description)
}

/// RFC 8628 §3.4–3.5: the token endpoint's device code grant.
pub fn device_grant(s: &Shared, client_id: &str, form: &HashMap<String, String>) -> Response {
    match s.fault() {
        Some(Fault::DeviceSlowDown) => return device_error("slow_down", "Poll less often."),
        Some(Fault::DeviceExpiredToken) => {
            return device_error("expired_token", "The device code has expired.");
        }
        Some(Fault::DeviceAccessDenied) => {
            return device_error(
                "access_denied",
                "<b>Denied</b> by <a href=\"https://evil.example\">policy</a>",
            );
        }
        Some(Fault::DeviceCodeRejected) => {
            return device_error("invalid_grant", "Unknown device code.");
        }
        _ => {}
    }
    let Some(code) = form.get("device_code") else {
        return device_error("invalid_request", "No device_code.");
    };
    let key = token_key(code);
    let now = s.clock.now();
    let issued = {
        let Ok(mut store) = s.store.lock() else {
            return token_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Store.");
        };
        let devices = &mut store.devices;
        // One-time: a device code that already gave tokens gives nothing more.
        if devices.used.contains(&key) {
            return device_error("invalid_grant", "This device code was already used.");
        }
        let Some(grant) = devices.grants.get_mut(&key) else {
            return device_error("invalid_grant", "Unknown device code.");
        };
        // RFC 8628 §3.4: the device code must have been issued to this client.
        if grant.client_id != client_id {
            return device_error(
                "invalid_grant",
                "The device code was issued to another client.",
            );
        }
        // RFC 8628 §3.5 `expired_token`.
        if grant.expires <= now {
            return device_error("expired_token", "The device code has expired.");
        }
        // RFC 8628 §3.5 `slow_down`: polled sooner than the interval; the interval grows by
        // 5 s for this and every later request.
        let too_soon = grant
            .last_poll
            .is_some_and(|last| now - last < TimeDelta::seconds(grant.interval));
        grant.last_poll = Some(now);
        if too_soon {
            grant.interval += 5;
            return device_error("slow_down", "Polled too often; wait 5 seconds more.");
        }
        match grant.decision.clone() {
            Decision::Pending => {
                return device_error("authorization_pending", "The person has not answered yet.");
            }
            Decision::Denied => {
                devices.grants.remove(&key);
                devices.used.insert(key);
                return device_error("access_denied", "The person declined.");
            }
            Decision::Approved { user, auth_time } => {
                let grant = devices.grants.remove(&key);
                devices.used.insert(key);
                (user, auth_time, grant.map(|g| g.scope).unwrap_or_default())
            }
        }
    };
    let (user, auth_time, scope) = issued;
    let Ok(family) = random_token(12) else {
        return token_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "RNG.");
    };
    issue_tokens(s, client_id, &user, &scope, &family, auth_time, None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_short_and_typeable() {
        for _ in 0..50 {
            let c = new_user_code().unwrap();
            assert_eq!(c.len(), 9);
            assert_eq!(&c[4..5], "-");
            assert!(
                c.bytes()
                    .filter(|b| *b != b'-')
                    .all(|b| USER_CODE_ALPHABET.contains(&b))
            );
            assert_eq!(
                normalise_user_code(&c.to_lowercase().replace('-', " ")),
                c.replace('-', "")
            );
        }
    }
}
