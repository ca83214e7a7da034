//! The templates for providers that cannot be reached from here (Google, Microsoft, GitHub),
//! checked two ways: the requests Pixie builds are compared with what each provider
//! documents, and the parts that differ from plain OpenID Connect (Microsoft's multi-tenant
//! issuer, GitHub's OAuth 2.0 without ID tokens and its errors sent with HTTP 200) run
//! against local servers that answer in those providers' documented shapes.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

#[path = "common/github.rs"]
mod github_api;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pixie_auth::config;
use pixie_auth::provider::Metadata;
use pixie_auth::{Error, HttpClient, IdTokenCheck, IdTokenError, Protocol, Provider, RedirectMode};
use pixie_dev_idp::Keys;
use pixie_dev_idp::faults::signed_jwt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

/// Serve `router` on 127.0.0.1; returns its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

fn params(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

fn one_provider(toml: &str) -> pixie_auth::ProviderConfig {
    let mut file = config::parse(Path::new("providers.toml"), toml).expect("config parses");
    file.providers.remove(0)
}

/// RFC 7636 §4.6: what the provider checks at the token endpoint.
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

// ---------------------------------------------------------------------------------------
// Google: request shape against "OAuth 2.0 for Mobile & Desktop Apps" (loopback IP redirect,
// PKCE S256, access_type=offline for a refresh token) and its discovery document.

#[test]
fn google_requests_have_the_shape_google_documents() {
    let config = one_provider(
        "[[provider]]\nid = \"google\"\ntemplate = \"google\"\nclient_id = \"123-abc.apps.googleusercontent.com\"\nclient_secret = \"GOCSPX-shipped-with-the-app\"\n",
    );
    assert_eq!(config.redirect, RedirectMode::Loopback);
    // https://accounts.google.com/.well-known/openid-configuration (the fields Pixie reads).
    let metadata: Metadata = serde_json::from_value(json!({
        "issuer": "https://accounts.google.com",
        "authorization_endpoint": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_endpoint": "https://oauth2.googleapis.com/token",
        "userinfo_endpoint": "https://openidconnect.googleapis.com/v1/userinfo",
        "revocation_endpoint": "https://oauth2.googleapis.com/revoke",
        "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
        "response_types_supported": ["code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token", "none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "code_challenge_methods_supported": ["plain", "S256"]
    }))
    .unwrap();
    let provider = Provider::from_metadata(config, metadata, HttpClient::new().unwrap()).unwrap();
    // Google: "http://127.0.0.1:port" — the port is the listener's, chosen per sign-in.
    let redirect = Url::parse("http://127.0.0.1:51234/oauth/callback").unwrap();
    let pending = provider.start_sign_in_to(&redirect).unwrap();
    let url = pending.authorization_url();
    assert_eq!(
        url.as_str().split('?').next(),
        Some("https://accounts.google.com/o/oauth2/v2/auth")
    );
    let p = params(url);
    assert_eq!(p["client_id"], "123-abc.apps.googleusercontent.com");
    assert_eq!(p["redirect_uri"], "http://127.0.0.1:51234/oauth/callback");
    assert_eq!(p["response_type"], "code");
    assert_eq!(p["code_challenge_method"], "S256");
    assert_eq!(p["code_challenge"].len(), 43);
    assert_eq!(p["access_type"], "offline");
    let mut scopes: Vec<&str> = p["scope"].split(' ').collect();
    scopes.sort();
    assert_eq!(scopes, ["email", "openid", "profile"]);
    assert!(p.contains_key("state") && p.contains_key("nonce"));
    // The secret is never in the browser's URL.
    assert!(!url.as_str().contains("GOCSPX"));
}

// ---------------------------------------------------------------------------------------
// Microsoft Entra: the `common` tenant's metadata names `{tenantid}` as its issuer; each ID
// token's `iss` carries the signed-in person's tenant, which must match its `tid`.

const TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
const MS_CLIENT: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";

#[derive(Default)]
struct Ms {
    base: String,
    challenge: String,
    nonce: String,
    /// The `iss` the next ID token carries (`None`: the tenant's, as it should).
    iss: Option<String>,
    /// The next ID token carries no `tid`.
    no_tid: bool,
    metadata_issuer: Option<String>,
}

type MsState = Arc<(Keys, Mutex<Ms>)>;

async fn ms_discovery(State(s): State<MsState>) -> Json<Value> {
    let ms = s.1.lock().unwrap();
    let b = &ms.base;
    // The shape of https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration
    Json(json!({
        "token_endpoint": format!("{b}/common/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{b}/common/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": ms.metadata_issuer.clone().unwrap_or_else(|| format!("{b}/{{tenantid}}/v2.0")),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{b}/oidc/userinfo"),
        "authorization_endpoint": format!("{b}/common/oauth2/v2.0/authorize"),
        "end_session_endpoint": format!("{b}/common/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "tid", "email"],
        "tenant_region_scope": null,
        "cloud_instance_name": "microsoftonline.com"
    }))
}

async fn ms_keys(State(s): State<MsState>) -> Json<Value> {
    Json(serde_json::to_value(s.0.jwks(None)).unwrap())
}

async fn ms_token(State(s): State<MsState>, Form(form): Form<HashMap<String, String>>) -> Response {
    let ms = s.1.lock().unwrap();
    if form.get("grant_type").map(String::as_str) != Some("authorization_code")
        || form.get("code").map(String::as_str) != Some("ms-code")
        || form.get("client_id").map(String::as_str) != Some(MS_CLIENT)
        || form.get("code_verifier").map(|v| s256(v)) != Some(ms.challenge.clone())
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    let now = chrono::Utc::now().timestamp();
    let iss = ms
        .iss
        .clone()
        .unwrap_or_else(|| format!("{}/{TENANT}/v2.0", ms.base));
    let mut claims = json!({"iss": iss, "aud": MS_CLIENT, "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        "tid": TENANT, "nonce": ms.nonce, "iat": now, "nbf": now, "exp": now + 3600,
        "name": "Megan Bowen", "email": "megan@example.org"});
    if ms.no_tid {
        claims.as_object_mut().unwrap().remove("tid");
    }
    let id_token = signed_jwt(&claims, &s.0).unwrap();
    Json(
        json!({"token_type": "Bearer", "scope": "openid profile email offline_access",
        "expires_in": 3600, "access_token": "ms-access", "refresh_token": "ms-refresh",
        "id_token": id_token}),
    )
    .into_response()
}

async fn ms_userinfo(headers: HeaderMap) -> Response {
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some("Bearer ms-access")
    {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Json(
        json!({"sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "name": "Megan Bowen",
        "email": "megan@example.org"}),
    )
    .into_response()
}

async fn microsoft() -> (MsState, pixie_auth::ProviderConfig) {
    let state: MsState = Arc::new((Keys::generate().unwrap(), Mutex::new(Ms::default())));
    let router = Router::new()
        .route(
            "/common/v2.0/.well-known/openid-configuration",
            get(ms_discovery),
        )
        .route("/common/discovery/v2.0/keys", get(ms_keys))
        .route("/common/oauth2/v2.0/token", post(ms_token))
        .route("/oidc/userinfo", get(ms_userinfo))
        .with_state(state.clone());
    let base = serve(router).await;
    state.1.lock().unwrap().base = base.clone();
    let config = one_provider(&format!(
        "[[provider]]\nid = \"ms\"\ntemplate = \"microsoft\"\nissuer = \"{base}/common/v2.0\"\nclient_id = \"{MS_CLIENT}\"\n"
    ));
    (state, config)
}

/// Play the person: note what the provider will check, and come back with a code.
fn authorize(state: &MsState, pending: &pixie_auth::PendingSignIn) -> String {
    let p = params(pending.authorization_url());
    let mut ms = state.1.lock().unwrap();
    ms.challenge = p["code_challenge"].clone();
    ms.nonce = p["nonce"].clone();
    format!(
        "{}?code=ms-code&state={}&session_state=abc",
        pending.redirect_uri(),
        p["state"]
    )
}

#[tokio::test]
async fn microsoft_common_tenant_signs_in_with_the_tenant_issuer() {
    let (state, config) = microsoft().await;
    assert!(config.multi_tenant);
    assert_eq!(config.redirect, RedirectMode::DeepLink);
    let provider = Provider::discover(config, HttpClient::new().unwrap())
        .await
        .expect("the {tenantid} issuer is accepted for the common endpoint");
    assert!(provider.is_multi_tenant());
    let pending = provider.start_sign_in().unwrap();
    let p = params(pending.authorization_url());
    assert_eq!(p["redirect_uri"], "dev.pixie.app:/oauth/callback/ms");
    assert_eq!(p["code_challenge_method"], "S256");
    assert!(p["scope"].split(' ').any(|s| s == "offline_access"));
    let redirect = authorize(&state, &pending);
    let callback = pending.validate_callback(&redirect).unwrap();
    let done = provider
        .complete(pending, &callback)
        .await
        .expect("signed in");
    assert_eq!(done.profile.name, "Megan Bowen");
    assert!(done.tokens.refresh_token.is_some());
}

#[tokio::test]
async fn a_microsoft_token_without_a_tenant_fails_at_the_tenant_step_of_the_diagram() {
    let (state, config) = microsoft().await;
    state.1.lock().unwrap().no_tid = true;
    let provider = Provider::discover(config, HttpClient::new().unwrap())
        .await
        .unwrap();
    let pending = provider.start_sign_in().unwrap();
    let trace = pending.trace().clone();
    let redirect = authorize(&state, &pending);
    let callback = pending.validate_callback(&redirect).unwrap();
    let e = provider.complete(pending, &callback).await.unwrap_err();
    assert!(
        matches!(e, Error::IdToken(IdTokenError::MissingTenant)),
        "{e:?}"
    );
    // OIDC Core §3.1.3.7 step 2 for a `{tenantid}` issuer, after the signature passed.
    let step = trace
        .steps()
        .into_iter()
        .find(|s| s.label == "Check the ID token")
        .unwrap();
    let (failed, before) = step.checks.split_last().unwrap();
    assert_eq!(
        (failed.name.as_str(), failed.ok),
        (IdTokenCheck::Tenant.name(), false)
    );
    assert!(before.iter().all(|c| c.ok));
    assert!(
        before
            .iter()
            .any(|c| c.name == IdTokenCheck::Signature.name())
    );
}

#[tokio::test]
async fn microsoft_tokens_from_another_tenant_or_a_forged_metadata_issuer_are_refused() {
    // An ID token whose `iss` names a tenant other than its `tid`.
    let (state, config) = microsoft().await;
    let base = state.1.lock().unwrap().base.clone();
    state.1.lock().unwrap().iss = Some(format!("{base}/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"));
    let provider = Provider::discover(config.clone(), HttpClient::new().unwrap())
        .await
        .unwrap();
    let pending = provider.start_sign_in().unwrap();
    let redirect = authorize(&state, &pending);
    let callback = pending.validate_callback(&redirect).unwrap();
    let e = provider.complete(pending, &callback).await.unwrap_err();
    assert!(
        matches!(e, Error::IdToken(IdTokenError::TenantIssuer(_))),
        "{e:?}"
    );

    // Metadata naming an issuer that is neither the one asked nor its template.
    state.1.lock().unwrap().metadata_issuer = Some("https://evil.example/{tenantid}/v2.0".into());
    let e = Provider::discover(config, HttpClient::new().unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "discovery", "{e:?}");
}

// ---------------------------------------------------------------------------------------
// GitHub: OAuth 2.0 with PKCE, no OpenID ("Authorizing OAuth apps"): the token endpoint
// answers JSON only when asked (Accept), reports errors with HTTP 200, and the account comes
// from `GET /user` (which wants a User-Agent).

#[derive(Default)]
struct Gh {
    base: String,
    challenge: String,
}
type GhState = Arc<Mutex<Gh>>;

async fn gh_token(
    State(s): State<GhState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let ok = form.get("code").map(String::as_str) == Some("gh-code")
        && form.get("client_id").map(String::as_str) == Some("Iv1.pixie")
        && form.get("client_secret").map(String::as_str) == Some("gh-secret")
        && form.get("code_verifier").map(|v| s256(v)) == Some(s.lock().unwrap().challenge.clone());
    let body = if ok {
        json!({"access_token": github_api::ACCESS_TOKEN, "scope": "read:user,user:email", "token_type": "bearer"})
    } else {
        json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired.", "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code"})
    };
    if json {
        (StatusCode::OK, Json(body)).into_response()
    } else {
        let form = body
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("&");
        (StatusCode::OK, form).into_response()
    }
}

async fn gh_user(State(s): State<GhState>, headers: HeaderMap) -> Response {
    let base = s.lock().unwrap().base.clone();
    github_api::user(&base, &headers)
}

/// A GitHub-shaped server and Pixie's provider for it (the `github` template, its issuer and
/// endpoints pointed at the server: a loopback picture is fetched only for a loopback issuer).
async fn github() -> (GhState, Provider) {
    let state: GhState = Arc::default();
    let router = Router::new()
        .route("/login/oauth/access_token", post(gh_token))
        .route("/user", get(gh_user))
        .route("/u/583231", get(github_api::avatar))
        .with_state(state.clone());
    let base = serve(router).await;
    state.lock().unwrap().base = base.clone();
    let config = one_provider(&format!(
        "[[provider]]\nid = \"github\"\ntemplate = \"github\"\nclient_id = \"Iv1.pixie\"\nclient_secret = \"gh-secret\"\n\
         issuer = \"{base}\"\nauthorization_endpoint = \"{base}/login/oauth/authorize\"\ntoken_endpoint = \"{base}/login/oauth/access_token\"\n\
         userinfo_endpoint = \"{base}/user\"\n"
    ));
    let provider = Provider::discover(config, HttpClient::new().unwrap())
        .await
        .unwrap();
    (state, provider)
}

/// Play the person at GitHub: note the challenge the server will check, and come back with
/// `code` to the loopback `redirect`. Returns the pending sign-in, its redirect and the
/// authorization request's parameters.
fn github_authorize(
    state: &GhState,
    provider: &Provider,
    redirect: &Url,
    code: &str,
) -> (pixie_auth::PendingSignIn, String, HashMap<String, String>) {
    let pending = provider.start_sign_in_to(redirect).unwrap();
    let p = params(pending.authorization_url());
    state.lock().unwrap().challenge = p["code_challenge"].clone();
    let back = format!("{redirect}?code={code}&state={}", p["state"]);
    (pending, back, p)
}

#[test]
fn the_github_template_points_at_github() {
    let config =
        one_provider("[[provider]]\nid = \"gh\"\ntemplate = \"github\"\nclient_id = \"Iv1.x\"\n");
    assert_eq!(config.protocol, Protocol::Oauth2);
    assert_eq!(config.redirect, RedirectMode::Loopback);
    let e = config.endpoints.unwrap();
    assert_eq!(e.authorization, "https://github.com/login/oauth/authorize");
    assert_eq!(e.token, "https://github.com/login/oauth/access_token");
    assert_eq!(e.userinfo.as_deref(), Some("https://api.github.com/user"));
    assert_eq!(config.scopes, ["read:user", "user:email"]);
}

#[tokio::test]
async fn github_signs_in_without_openid_and_takes_the_account_from_its_user_api() {
    let (state, provider) = github().await;
    let redirect = Url::parse("http://127.0.0.1:47001/oauth/callback").unwrap();
    let (pending, back, p) = github_authorize(&state, &provider, &redirect, "gh-code");
    // No OpenID parameters to a provider that does not speak it.
    assert!(!p.contains_key("nonce"), "{p:?}");
    assert_eq!(p["scope"], "read:user user:email");
    assert_eq!(p["code_challenge_method"], "S256");
    assert_eq!(p["redirect_uri"], redirect.as_str());

    let callback = pending.validate_callback(&back).unwrap();
    let done = provider
        .complete(pending, &callback)
        .await
        .expect("signed in");
    github_api::assert_signed_in_as_octocat(&done, "GitHub's code flow");

    // No refresh token and no expiry: the access token is what is kept (keyring only), and
    // the next launch checks it at the user API.
    let session = pixie_auth::StoredSession::from_tokens(&provider, &done.tokens, None)
        .expect("a GitHub session is kept");
    assert!(session.refresh_token.is_none() && session.access_token.is_some());
    assert!(!format!("{session:?}").contains("gho_"));
    let resumed = provider
        .refresh(&session)
        .await
        .expect("the kept token still works");
    assert_eq!(resumed.subject.as_str(), "583231");
    // Revoked at github.com (settings → applications): the session is over, not "offline".
    let mut revoked = session.clone();
    revoked.access_token = Some(openidconnect::AccessToken::new("gho_revoked".into()));
    let e = provider.refresh(&revoked).await.unwrap_err();
    assert!(e.is_invalid_grant(), "{e:?}");
}

#[tokio::test]
async fn a_github_error_sent_with_http_200_is_a_refusal_not_garbage() {
    let (state, provider) = github().await;
    let redirect = Url::parse("http://127.0.0.1:47002/oauth/callback").unwrap();
    let (pending, back, _) = github_authorize(&state, &provider, &redirect, "expired");
    let callback = pending.validate_callback(&back).unwrap();
    let e = provider.complete(pending, &callback).await.unwrap_err();
    assert!(
        matches!(e, Error::TokenRejected { ref error, .. } if error == "bad_verification_code"),
        "{e:?}"
    );
    assert_eq!(e.code(), "token_rejected");
}
