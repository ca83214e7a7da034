//! The provider's endpoints.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::TimeDelta;
use openidconnect::core::{
    CoreGenderClaim, CoreIdToken, CoreIdTokenClaims, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessToken, Audience, AuthorizationCode, EmptyAdditionalClaims, EndUserEmail,
    EndUserFamilyName, EndUserGivenName, EndUserName, EndUserPictureUrl, IssuerUrl, LocalizedClaim,
    Nonce, StandardClaims, SubjectIdentifier,
};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;

use crate::store::{
    AccessGrant, AuthRequest, CodeGrant, PRESET_USERS, RefreshGrant, User, token_key,
};
use crate::{ClientRegistration, Fault, Shared, pages, random_token};

type AppState = State<Arc<Shared>>;

pub fn router(shared: Arc<Shared>) -> Router {
    let router = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize_page).post(authorize_decision))
        .route("/token", post(token))
        .route(
            "/device_authorization",
            post(crate::device::device_authorization),
        )
        .route(
            "/device",
            get(crate::device::device_page).post(crate::device::device_decision),
        )
        .route("/userinfo", get(userinfo).post(userinfo))
        .route("/revoke", post(revoke))
        .route("/end_session", get(end_session))
        .route("/avatar/{file}", get(avatar));
    #[cfg(feature = "faults")]
    let router = if shared.config.allow_faults {
        router.route("/_fault", post(set_fault))
    } else {
        router
    };
    router.with_state(shared)
}

async fn discovery(State(s): AppState) -> Json<Value> {
    let i = &s.issuer;
    let named = match s.fault() {
        Some(Fault::DiscoveryIssuerMismatch) => format!("{i}/elsewhere"),
        _ => i.clone(),
    };
    Json(json!({
        "issuer": named,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "userinfo_endpoint": format!("{i}/userinfo"),
        "jwks_uri": format!("{i}/jwks"),
        "revocation_endpoint": format!("{i}/revoke"),
        "end_session_endpoint": format!("{i}/end_session"),
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", crate::device::DEVICE_CODE_GRANT],
        // RFC 8628 §4.
        "device_authorization_endpoint": format!("{i}/device_authorization"),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
            "name", "given_name", "family_name", "email", "email_verified", "picture"],
        "authorization_response_iss_parameter_supported": s.config.issuer_identification,
    }))
}

async fn jwks(State(s): AppState) -> Response {
    let rotated = s.rotated.lock().ok().and_then(|r| r.clone());
    Json(s.keys.jwks(rotated.as_deref())).into_response()
}

pub(crate) fn client<'a>(s: &'a Shared, client_id: &str) -> Option<&'a ClientRegistration> {
    s.config.clients.iter().find(|c| c.client_id == client_id)
}

/// RFC 6749 §3.1.2.3: exact match; RFC 8252 §7.3: loopback redirects match on any port.
fn redirect_allowed(c: &ClientRegistration, uri: &str) -> bool {
    if c.redirect_uris.iter().any(|r| r == uri) {
        return true;
    }
    let Ok(asked) = Url::parse(uri) else {
        return false;
    };
    if asked.scheme() != "http" || asked.host_str() != Some("127.0.0.1") {
        return false;
    }
    c.redirect_uris
        .iter()
        .filter_map(|r| Url::parse(r).ok())
        .any(|r| {
            r.scheme() == "http"
                && r.host_str() == Some("127.0.0.1")
                && r.path() == asked.path()
                && r.query() == asked.query()
                && asked.fragment().is_none()
        })
}

/// Build the redirect back to the client with the response parameters (RFC 6749 §4.1.2,
/// RFC 9207 §2 `iss`).
fn redirect_to(uri: &str, params: &[(&str, &str)]) -> Response {
    match Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            let mut resp = Redirect::to(url.as_str()).into_response();
            *resp.status_mut() = StatusCode::SEE_OTHER;
            resp
        }
        Err(_) => error_page("The redirect URI is not a valid URL."),
    }
}

fn error_page(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Html(pages::error(message))).into_response()
}

fn authorize_error(
    s: &Shared,
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Response {
    let mut params = vec![("error", error), ("error_description", description)];
    // RFC 9207 §2: `iss` on error responses too.
    if s.config.issuer_identification {
        params.push(("iss", s.issuer.as_str()));
    }
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect_to(redirect_uri, &params)
}

fn is_pkce_value(v: &str) -> bool {
    // RFC 7636 §4.1 / §4.2: 43..128 characters of the unreserved set.
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

async fn authorize_page(State(s): AppState, Query(q): Query<HashMap<String, String>>) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str);
    // The mix-up attacker (RFC 9700 §4.4.1): the whole request, on to another provider.
    if let (Some(Fault::AuthorizeForward), Some(target)) = (s.fault(), &s.config.forward_to) {
        let params: Vec<(&str, &str)> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        return redirect_to(target, &params);
    }
    // RFC 6749 §4.1.2.1: a bad client or redirect URI is shown, never redirected to.
    let Some(client_id) = get("client_id") else {
        return error_page("The request names no client (client_id is missing).");
    };
    let Some(c) = client(&s, client_id) else {
        return error_page("This app is not registered with the provider (unknown client_id).");
    };
    let Some(redirect_uri) = get("redirect_uri") else {
        return error_page("The request has no redirect_uri.");
    };
    if !redirect_allowed(c, redirect_uri) {
        return error_page("The redirect_uri is not registered for this app.");
    }
    let state = get("state");
    let fail = |error: &str, description: &str| {
        authorize_error(&s, redirect_uri, state, error, description)
    };
    if get("response_type") != Some("code") {
        return fail(
            "unsupported_response_type",
            "Only the authorization code flow (response_type=code) is supported.",
        );
    }
    let scope = get("scope").unwrap_or_default();
    if !scope.split(' ').any(|s| s == "openid") {
        return fail("invalid_scope", "The openid scope is required.");
    }
    // RFC 7636 §4.4.1 and RFC 9700 §2.1.1: PKCE is required, and only S256.
    let Some(challenge) = get("code_challenge") else {
        return fail(
            "invalid_request",
            "PKCE is required (code_challenge is missing).",
        );
    };
    if get("code_challenge_method") != Some("S256") {
        return fail(
            "invalid_request",
            "Only code_challenge_method=S256 is accepted.",
        );
    }
    if !is_pkce_value(challenge) {
        return fail("invalid_request", "code_challenge is malformed.");
    }
    let request = AuthRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scope: scope.to_owned(),
        state: state.map(str::to_owned),
        nonce: get("nonce").map(str::to_owned),
        code_challenge: challenge.to_owned(),
        created: s.clock.now(),
    };
    // Benchmarks only (`--auto-approve` on the standalone binary; the app never sets it):
    // answer at once, as if the person had clicked Continue.
    if let Some(user) = &s.config.auto_approve {
        return answer(&s, request, "allow", Some(user), None);
    }
    let Ok(tx) = random_token(24) else {
        return fail(
            "server_error",
            "The provider could not create a request id.",
        );
    };
    if let Ok(mut store) = s.store.lock() {
        store.prune(s.clock.now());
        store.transactions.insert(tx.clone(), request);
    }
    let mut resp = Html(pages::sign_in(&tx, client_id)).into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' *; frame-ancestors 'none'",
        ),
    );
    resp
}

#[derive(Deserialize)]
struct Decision {
    tx: String,
    action: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

async fn authorize_decision(State(s): AppState, Form(d): Form<Decision>) -> Response {
    let request = s
        .store
        .lock()
        .ok()
        .and_then(|mut st| st.transactions.remove(&d.tx));
    let Some(request) = request else {
        return error_page(
            "This sign-in page has expired or was already used. Start again from the app.",
        );
    };
    answer(&s, request, &d.action, d.user.as_deref(), d.name.as_deref())
}

/// The person's answer to an authorization request: a code, or `access_denied`.
fn answer(
    s: &Shared,
    request: AuthRequest,
    action: &str,
    user: Option<&str>,
    name: Option<&str>,
) -> Response {
    let fault = s.fault();
    let state = match fault {
        Some(Fault::RedirectWrongState) => Some("a-state-from-elsewhere"),
        _ => request.state.as_deref(),
    };
    if fault == Some(Fault::RedirectErrorMarkup) {
        return authorize_error(
            s,
            &request.redirect_uri,
            state,
            "access_denied",
            "<img src=x onerror=alert(1)><b>Denied</b> by <a href=\"https://evil.example\">policy</a>",
        );
    }
    if action != "allow" {
        // RFC 6749 §4.1.2.1: the person said no.
        return authorize_error(
            s,
            &request.redirect_uri,
            state,
            "access_denied",
            "The person declined to sign in.",
        );
    }
    let typed = name.map(str::trim).filter(|n| !n.is_empty());
    let name = match typed {
        Some(n) => n.chars().take(64).collect::<String>(),
        None => {
            let id = user.unwrap_or("ada");
            match PRESET_USERS.iter().find(|(pid, _)| *pid == id) {
                Some((_, n)) => (*n).to_owned(),
                None => return error_page("Unknown demo person."),
            }
        }
    };
    let Ok(code) = random_token(32) else {
        return error_page("The provider could not create a code.");
    };
    let now = s.clock.now();
    let grant = CodeGrant {
        user: User::from_name(&name),
        auth_time: now,
        expires: now + TimeDelta::from_std(s.config.code_ttl).unwrap_or(TimeDelta::seconds(60)),
        request: request.clone(),
    };
    if let Ok(mut store) = s.store.lock() {
        store.codes.insert(code.clone(), grant);
    }
    let iss = match fault {
        Some(Fault::RedirectWrongIss) => Some("https://evil.example"),
        _ if s.config.issuer_identification => Some(s.issuer.as_str()),
        _ => None,
    };
    let mut params = vec![("code", code.as_str())];
    // RFC 9207 §2: the issuer identifier on the authorization response.
    params.extend(iss.map(|i| ("iss", i)));
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect_to(&request.redirect_uri, &params)
}

pub(crate) fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut resp = (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn invalid_grant(description: &str) -> Response {
    token_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
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

async fn token(
    State(s): AppState,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if form.get("grant_type").map(String::as_str) == Some("authorization_code") {
        s.code_exchanges
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
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
    match s.fault() {
        Some(Fault::TokenErrorMarkup) => {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "<script>alert(1)</script><b>Code refused</b>",
            );
        }
        Some(Fault::TokenRedirect) => {
            return (
                StatusCode::FOUND,
                [(header::LOCATION, format!("{}/token-elsewhere", s.issuer))],
            )
                .into_response();
        }
        Some(Fault::TokenStall) => tokio::time::sleep(std::time::Duration::from_secs(30)).await,
        Some(Fault::TokenOversized) => {
            let padding = "x".repeat(2 * 1024 * 1024);
            return Json(json!({"access_token": "a", "token_type": "Bearer", "padding": padding}))
                .into_response();
        }
        Some(Fault::TokenGarbage) => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                "<html>Service Unavailable</html>",
            )
                .into_response();
        }
        _ => {}
    }
    let response = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => code_grant(&s, &client_id, &form),
        Some("refresh_token") => refresh_grant(&s, &client_id, &form),
        Some(crate::device::DEVICE_CODE_GRANT) => {
            crate::device::device_grant(&s, &client_id, &form)
        }
        Some(_) => token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only authorization_code and refresh_token are supported.",
        ),
        None => token_error(StatusCode::BAD_REQUEST, "invalid_request", "No grant_type."),
    };
    s.persist();
    response
}

fn code_grant(s: &Shared, client_id: &str, form: &HashMap<String, String>) -> Response {
    let Some(code) = form.get("code") else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "No code.");
    };
    let now = s.clock.now();
    let grant = {
        let Ok(mut store) = s.store.lock() else {
            return token_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Store.");
        };
        // RFC 6749 §4.1.2: a code is single-use; a second use revokes what the first issued.
        if let Some(family) = store.used_codes.get(code).cloned() {
            store.revoke_family(&family);
            return invalid_grant("This code was already used; its tokens are now revoked.");
        }
        match store.codes.remove(code) {
            Some(g) => g,
            None => return invalid_grant("Unknown code."),
        }
    };
    // A code is bound to its client, its redirect URI (RFC 6749 §4.1.3) and its challenge.
    if grant.expires <= now {
        return invalid_grant("The code has expired.");
    }
    if grant.request.client_id != client_id {
        return invalid_grant("The code was issued to another client.");
    }
    if form.get("redirect_uri") != Some(&grant.request.redirect_uri) {
        return invalid_grant("redirect_uri does not match the authorization request.");
    }
    let Some(verifier) = form.get("code_verifier") else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "PKCE code_verifier is required.",
        );
    };
    // RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) == code_challenge.
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if !is_pkce_value(verifier)
        || !bool::from(
            computed
                .as_bytes()
                .ct_eq(grant.request.code_challenge.as_bytes()),
        )
    {
        return invalid_grant("PKCE verification failed.");
    }
    let Ok(family) = random_token(12) else {
        return token_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "RNG.");
    };
    if let Ok(mut store) = s.store.lock() {
        store.used_codes.insert(code.clone(), family.clone());
    }
    issue_tokens(
        s,
        client_id,
        &grant.user,
        &grant.request.scope,
        &family,
        grant.auth_time,
        grant.request.nonce.as_deref(),
        Some(code),
    )
}

fn refresh_grant(s: &Shared, client_id: &str, form: &HashMap<String, String>) -> Response {
    let Some(presented) = form.get("refresh_token") else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "No refresh_token.",
        );
    };
    let grant = {
        let Ok(mut store) = s.store.lock() else {
            return token_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Store.");
        };
        // RFC 9700 §4.14.2: a rotated refresh token used again means it leaked: revoke the family.
        let key = token_key(presented);
        if let Some(family) = store.rotated.get(&key).cloned() {
            store.revoke_family(&family);
            return invalid_grant("This refresh token was already used; the session is revoked.");
        }
        let Some(grant) = store.refresh.remove(&key) else {
            return invalid_grant("Unknown or revoked refresh token.");
        };
        if grant.client_id != client_id {
            store.refresh.insert(key, grant);
            return invalid_grant("The refresh token was issued to another client.");
        }
        store.rotated.insert(key, grant.family.clone());
        grant
    };
    issue_tokens(
        s,
        client_id,
        &grant.user,
        &grant.scope,
        &grant.family,
        grant.auth_time,
        None,
        None,
    )
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn issue_tokens(
    s: &Shared,
    client_id: &str,
    user: &User,
    scope: &str,
    family: &str,
    auth_time: chrono::DateTime<chrono::Utc>,
    nonce: Option<&str>,
    code: Option<&str>,
) -> Response {
    let (Ok(access), Ok(refresh)) = (random_token(32), random_token(32)) else {
        return token_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "RNG.");
    };
    let now = s.clock.now();
    let access_ttl = TimeDelta::from_std(s.config.access_token_ttl).unwrap_or(TimeDelta::hours(1));
    let id_ttl = TimeDelta::from_std(s.config.id_token_ttl).unwrap_or(TimeDelta::minutes(10));
    let id_token = match sign_id_token(
        s, client_id, user, auth_time, nonce, &access, code, now, id_ttl,
    ) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "could not sign ID token");
            return token_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "Signing failed.",
            );
        }
    };
    if let Ok(mut store) = s.store.lock() {
        store.access.insert(
            access.clone(),
            AccessGrant {
                client_id: client_id.to_owned(),
                user: user.clone(),
                family: family.to_owned(),
                expires: now + access_ttl,
            },
        );
        store.refresh.insert(
            token_key(&refresh),
            RefreshGrant {
                client_id: client_id.to_owned(),
                user: user.clone(),
                scope: scope.to_owned(),
                family: family.to_owned(),
                auth_time,
            },
        );
    }
    let mut resp = Json(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": access_ttl.num_seconds(),
        "refresh_token": refresh,
        "id_token": id_token,
        "scope": scope,
    }))
    .into_response();
    // RFC 6749 §5.1.
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[allow(clippy::too_many_arguments)]
fn sign_id_token(
    s: &Shared,
    client_id: &str,
    user: &User,
    auth_time: chrono::DateTime<chrono::Utc>,
    nonce: Option<&str>,
    access: &str,
    code: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
    ttl: TimeDelta,
) -> Result<String, String> {
    if let Some(fault) = s.fault().filter(|f| f.is_id_token()) {
        let mut claims = json!({
            "iss": s.issuer,
            "sub": user.sub,
            "aud": [client_id],
            "exp": (now + ttl).timestamp(),
            "iat": now.timestamp(),
            "auth_time": auth_time.timestamp(),
            "at_hash": crate::faults::at_hash(access),
            "name": user.name,
            "email": user.email,
            "picture": picture_url(s, user),
        });
        if let Some(n) = nonce {
            claims["nonce"] = json!(n);
        }
        let rotated = s.rotated.lock().ok().and_then(|r| r.clone());
        return crate::faults::id_token(fault, claims, &s.keys, rotated.as_deref(), client_id);
    }
    let issuer = IssuerUrl::new(s.issuer.clone()).map_err(|e| e.to_string())?;
    let picture = EndUserPictureUrl::new(picture_url(s, user));
    let mut standard =
        StandardClaims::<CoreGenderClaim>::new(SubjectIdentifier::new(user.sub.clone()))
            .set_name(Some(LocalizedClaim::from(EndUserName::new(
                user.name.clone(),
            ))))
            .set_given_name(Some(LocalizedClaim::from(EndUserGivenName::new(
                user.given_name.clone(),
            ))))
            .set_email(Some(EndUserEmail::new(user.email.clone())))
            .set_email_verified(Some(true))
            .set_picture(Some(LocalizedClaim::from(picture)));
    if let Some(f) = &user.family_name {
        standard = standard.set_family_name(Some(LocalizedClaim::from(EndUserFamilyName::new(
            f.clone(),
        ))));
    }
    let claims = CoreIdTokenClaims::new(
        issuer,
        vec![Audience::new(client_id.to_owned())],
        now + ttl,
        now,
        standard,
        EmptyAdditionalClaims {},
    )
    .set_auth_time(Some(auth_time))
    .set_nonce(nonce.map(|n| Nonce::new(n.to_owned())));
    let token = CoreIdToken::new(
        claims,
        &s.keys.signing,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some(&AccessToken::new(access.to_owned())),
        code.map(|c| AuthorizationCode::new(c.to_owned())).as_ref(),
    )
    .map_err(|e| e.to_string())?;
    Ok(token.to_string())
}

fn picture_url(s: &Shared, user: &User) -> String {
    format!("{}/avatar/{}.png", s.issuer, user.sub)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// OIDC Core §5.3, errors per RFC 6750 §3.
async fn userinfo(State(s): AppState, headers: HeaderMap) -> Response {
    let unauthorized = |error: &str| {
        let mut resp = StatusCode::UNAUTHORIZED.into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("Bearer error=\"{error}\"")) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        resp
    };
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
    let u = &grant.user;
    let sub = match s.fault() {
        Some(Fault::UserinfoSubMismatch) => "user-somebody-else",
        _ => u.sub.as_str(),
    };
    let mut body = json!({
        "sub": sub,
        "name": u.name,
        "given_name": u.given_name,
        "email": u.email,
        "email_verified": true,
        "picture": picture_url(&s, u),
    });
    if let Some(f) = &u.family_name {
        body["family_name"] = json!(f);
    }
    Json(body).into_response()
}

/// RFC 7009 §2: revoke a refresh token (its whole family) or an access token. Always 200.
async fn revoke(
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

/// OpenID RP-Initiated Logout 1.0 §2–3.
async fn end_session(State(s): AppState, Query(q): Query<HashMap<String, String>>) -> Response {
    let target = q.get("post_logout_redirect_uri");
    let registered = q
        .get("client_id")
        .and_then(|cid| client(&s, cid))
        .zip(target)
        .is_some_and(|(c, t)| c.post_logout_redirect_uris.iter().any(|u| u == t));
    // Only to a registered post-logout URI (RP-Initiated Logout §3); otherwise a page.
    if let (true, Some(target)) = (registered, target) {
        let mut params = Vec::new();
        if let Some(state) = q.get("state") {
            params.push(("state", state.as_str()));
        }
        return redirect_to(target, &params);
    }
    Html(pages::signed_out()).into_response()
}

async fn avatar(State(s): AppState, Path(file): Path<String>) -> Response {
    match s.fault() {
        Some(Fault::PictureHuge) => {
            let mut big = crate::avatar_png("x");
            big.resize(3 * 1024 * 1024, 0);
            return ([(header::CONTENT_TYPE, "image/png")], big).into_response();
        }
        Some(Fault::PictureNotImage) => {
            return (
                [(header::CONTENT_TYPE, "image/png")],
                "<html><body>Not a picture</body></html>",
            )
                .into_response();
        }
        Some(Fault::PictureHugeDimensions) => {
            return (
                [(header::CONTENT_TYPE, "image/png")],
                crate::avatar::blank_png(8192, 8192),
            )
                .into_response();
        }
        Some(Fault::PictureSvg) => {
            return (
                [(header::CONTENT_TYPE, "image/svg+xml")],
                "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
            )
                .into_response();
        }
        _ => {}
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

/// `POST /_fault` with `fault=NAME` (or `fault=none`): test builds only.
#[cfg(feature = "faults")]
async fn set_fault(State(s): AppState, Form(form): Form<HashMap<String, String>>) -> Response {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_match_any_port_but_nothing_else() {
        let c = ClientRegistration::pixie();
        assert!(redirect_allowed(&c, "dev.pixie.app:/oauth/callback/demo"));
        assert!(redirect_allowed(
            &c,
            "http://127.0.0.1:51234/oauth/callback/demo"
        ));
        assert!(!redirect_allowed(&c, "http://127.0.0.1:51234/other"));
        assert!(!redirect_allowed(
            &c,
            "http://localhost:51234/oauth/callback/demo"
        ));
        // Another provider's callback, or the one once shared by all (RFC 9700 §4.4).
        assert!(!redirect_allowed(&c, "dev.pixie.app:/oauth/callback/x"));
        assert!(!redirect_allowed(&c, "dev.pixie.app:/oauth/callback"));
        assert!(!redirect_allowed(
            &c,
            "http://127.0.0.1:51234/oauth/callback"
        ));
        assert!(!redirect_allowed(&c, "https://evil.example/oauth/callback"));
    }
}
