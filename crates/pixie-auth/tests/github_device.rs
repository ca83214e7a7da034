//! GitHub's device flow ("Authorizing OAuth apps", device flow) through the `github`
//! template, against a local server that answers as GitHub documents: `POST
//! /login/device/code` and `POST /login/oauth/access_token` take form-encoded requests and
//! answer form-encoded (JSON when `Accept` asks for it), every error with HTTP 200
//! (`authorization_pending`, `slow_down` with the new `interval`, `expired_token`,
//! `access_denied`, `incorrect_device_code`, `device_flow_disabled`), then `GET /user`.
//!
//! The server keeps GitHub's rule for the interval itself: a poll sooner than the interval
//! after the previous one is answered `slow_down` and noted. Time is virtual and shared by
//! the core and the server (each wait the core asks for moves both), so a fifteen-minute
//! code runs in milliseconds while the spacing of every poll is still checked.

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[path = "common/github.rs"]
mod github_api;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pixie_auth::device::{DEVICE_CODE_GRANT, DeviceClock};
use pixie_auth::flow::Party;
use pixie_auth::{DeviceError, Error, HttpClient, PendingDeviceSignIn, Provider, config};
use serde_json::{Value, json};
use tokio::sync::watch;

#[path = "common/clock.rs"]
mod clock;
use clock::GatedClock;

const CLIENT_ID: &str = "Iv1.pixie";
const DEVICE_CODE: &str = "3584d83530557fdd1f46af8289938c8ef79f9dc5";
const USER_CODE: &str = "WDJB-MJHT";
const ERRORS: &str = "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow";

/// What the person did on GitHub's device page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Person {
    #[default]
    Waiting,
    Authorized,
    Cancelled,
}

#[derive(Default)]
struct Gh {
    base: String,
    /// Virtual time, moved by the core's waits.
    now: Duration,
    /// Answer form-encoded even when JSON is asked for (GitHub's own default encoding).
    form_always: bool,
    /// "Device flow must be explicitly enabled in your app's settings."
    disabled: bool,
    /// The device code is no longer known (revoked, or never issued here).
    forget_code: bool,
    issued_at: Option<Duration>,
    expires_in: u64,
    /// The least time between polls GitHub accepts now; `slow_down` raises it.
    interval: u64,
    last_poll: Option<Duration>,
    /// GitHub rate-limits this app at poll `n`: `slow_down`, naming the new interval.
    rate_limit_at: Option<(usize, u64)>,
    person: Person,
    token_issued: bool,
    /// Every poll: its virtual time in seconds and what it was answered.
    polls: Vec<(u64, String)>,
    /// Polls that came sooner than the interval (virtual seconds).
    early: Vec<u64>,
    /// The form fields and `Accept` of every request to the two endpoints.
    requests: Vec<(String, HashMap<String, String>, String)>,
}

type GhState = Arc<Mutex<Gh>>;

/// GitHub's answer: HTTP 200 whatever it says, form-encoded unless JSON was asked for.
fn answer(g: &Gh, headers: &HeaderMap, fields: &[(&str, Value)]) -> Response {
    let json_wanted = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    if json_wanted && !g.form_always {
        let map: serde_json::Map<String, Value> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        return (StatusCode::OK, Json(Value::Object(map))).into_response();
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter().map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.to_string(), text)
        }))
        .finish();
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

fn error(code: &str, description: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("error", json!(code)),
        ("error_description", json!(description)),
        ("error_uri", json!(ERRORS)),
    ]
}

fn accept_of(headers: &HeaderMap) -> String {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// `POST /login/device/code`: a device code and a user code.
async fn device_code(
    State(s): State<GhState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut g = s.lock().unwrap();
    g.requests
        .push(("device/code".into(), form.clone(), accept_of(&headers)));
    let fields = if g.disabled {
        error(
            "device_flow_disabled",
            "Device flow has not been enabled in the app's settings.",
        )
    } else if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        error(
            "incorrect_client_credentials",
            "The client_id is not valid.",
        )
    } else {
        g.issued_at = Some(g.now);
        g.expires_in = 900;
        g.interval = 5;
        vec![
            ("device_code", json!(DEVICE_CODE)),
            ("user_code", json!(USER_CODE)),
            (
                "verification_uri",
                json!(format!("{}/login/device", g.base)),
            ),
            ("expires_in", json!(900)),
            ("interval", json!(5)),
        ]
    };
    answer(&g, &headers, &fields)
}

/// `POST /login/oauth/access_token` with the device code grant: GitHub's checks, in order.
async fn access_token(
    State(s): State<GhState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut g = s.lock().unwrap();
    g.requests
        .push(("access_token".into(), form.clone(), accept_of(&headers)));
    let now = g.now;
    let n = g.polls.len() + 1;
    let field = |k: &str| form.get(k).map(String::as_str);
    let fields = if field("grant_type") != Some(DEVICE_CODE_GRANT) {
        error(
            "unsupported_grant_type",
            "The grant type must be urn:ietf:params:oauth:grant-type:device_code.",
        )
    } else if field("client_id") != Some(CLIENT_ID) {
        error(
            "incorrect_client_credentials",
            "The client_id is not valid.",
        )
    } else if field("device_code") != Some(DEVICE_CODE) || g.forget_code {
        error(
            "incorrect_device_code",
            "The device_code provided is not valid.",
        )
    } else if g
        .issued_at
        .is_none_or(|at| now >= at + Duration::from_secs(g.expires_in))
    {
        error("expired_token", "The device code has expired.")
    } else if g
        .last_poll
        .is_some_and(|last| now < last + Duration::from_secs(g.interval))
    {
        // "5 extra seconds are added to the minimum interval", and the answer names it.
        g.early.push(now.as_secs());
        g.interval += 5;
        let mut f = error(
            "slow_down",
            "Too many requests have been made in the same timeframe.",
        );
        f.push(("interval", json!(g.interval)));
        f
    } else if let Some((_, named)) = g.rate_limit_at.filter(|(at, _)| *at == n) {
        g.interval = named;
        let mut f = error(
            "slow_down",
            "Too many requests have been made in the same timeframe.",
        );
        f.push(("interval", json!(named)));
        f
    } else {
        match g.person {
            Person::Waiting => error(
                "authorization_pending",
                "The authorization request is still pending.",
            ),
            Person::Cancelled => error("access_denied", "The authorization request was denied."),
            Person::Authorized if g.token_issued => error(
                "incorrect_device_code",
                "The device_code provided is not valid.",
            ),
            Person::Authorized => {
                g.token_issued = true;
                vec![
                    ("access_token", json!(github_api::ACCESS_TOKEN)),
                    ("token_type", json!("bearer")),
                    ("scope", json!("read:user,user:email")),
                ]
            }
        }
    };
    let outcome = fields
        .iter()
        .find(|(k, _)| *k == "error")
        .and_then(|(_, v)| v.as_str())
        .unwrap_or("access_token")
        .to_owned();
    g.polls.push((now.as_secs(), outcome));
    g.last_poll = Some(now);
    answer(&g, &headers, &fields)
}

/// GitHub's device page (`https://github.com/login/device`): the person types the code and
/// authorizes the app, or cancels.
async fn device_page(
    State(s): State<GhState>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut g = s.lock().unwrap();
    let code = form
        .get("user_code")
        .map(|c| c.trim().to_ascii_uppercase())
        .unwrap_or_default();
    if code != USER_CODE || g.issued_at.is_none() {
        return (
            StatusCode::OK,
            "<p>Invalid code. Check the code and try again.</p>",
        )
            .into_response();
    }
    if form.contains_key("cancel") {
        g.person = Person::Cancelled;
        return (StatusCode::OK, "<p>Authorization cancelled.</p>").into_response();
    }
    g.person = Person::Authorized;
    (
        StatusCode::OK,
        "<p>Congratulations, you're all set! Your device is now connected.</p>",
    )
        .into_response()
}

/// `GET /user` (api.github.com), which wants a User-Agent and the token.
async fn user(State(s): State<GhState>, headers: HeaderMap) -> Response {
    let base = s.lock().unwrap().base.clone();
    github_api::user(&base, &headers)
}

/// A GitHub-shaped server and Pixie's provider for it: the `github` template with its
/// issuer and endpoints (the device authorization endpoint too) pointed at the server.
async fn github(setup: impl FnOnce(&mut Gh)) -> (GhState, Provider) {
    let state: GhState = Arc::default();
    setup(&mut state.lock().unwrap());
    let router = Router::new()
        .route("/login/device/code", post(device_code))
        .route("/login/oauth/access_token", post(access_token))
        .route("/login/device", post(device_page))
        .route("/user", get(user))
        .route("/u/583231", get(github_api::avatar))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    state.lock().unwrap().base = base.clone();
    let text = format!(
        "[[provider]]\nid = \"github\"\ntemplate = \"github\"\nclient_id = \"{CLIENT_ID}\"\n\
         issuer = \"{base}\"\nauthorization_endpoint = \"{base}/login/oauth/authorize\"\n\
         token_endpoint = \"{base}/login/oauth/access_token\"\nuserinfo_endpoint = \"{base}/user\"\n\
         device_authorization_endpoint = \"{base}/login/device/code\"\n"
    );
    let config = config::parse(Path::new("providers.toml"), &text)
        .expect("config parses")
        .providers
        .remove(0);
    let provider = Provider::discover(config, HttpClient::new().unwrap())
        .await
        .unwrap();
    (state, provider)
}

/// The gated clock for the GitHub-shaped server: its clock moves with each sleep.
fn gh_clock(gh: &GhState, hold_after: usize) -> (Arc<GatedClock>, watch::Sender<bool>) {
    let gh = gh.clone();
    GatedClock::new(hold_after, move |_, d| gh.lock().unwrap().now += d)
}

/// A guard, not a speed target: a core that stopped waiting would poll forever (virtual
/// time only moves when it waits), so such a run fails here instead of hanging.
async fn guarded<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(120), fut)
        .await
        .expect("the core kept polling without waiting (virtual time never moved)")
}

async fn polled(pending: &PendingDeviceSignIn, n: u32) {
    while pending.polls() < n {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The person at GitHub's device page, over HTTP.
async fn at_github(gh: &GhState, user_code: &str, authorize: bool) -> String {
    let base = gh.lock().unwrap().base.clone();
    let mut form = vec![("user_code", user_code.to_owned())];
    form.push(if authorize {
        ("authorize", "1".to_owned())
    } else {
        ("cancel", "1".to_owned())
    });
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{base}/login/device"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn start(provider: &Provider, clock: &Arc<GatedClock>) -> PendingDeviceSignIn {
    let clock: Arc<dyn DeviceClock> = clock.clone();
    provider
        .start_device_sign_in_with_clock(clock)
        .await
        .expect("device authorization at GitHub")
}

/// The whole sign-in, with GitHub rate-limiting the second poll (`slow_down` naming
/// `named` as the new interval) and answering JSON or, with `form_always`, form-encoded.
async fn sign_in_with_slow_down(form_always: bool, named: u64) {
    let what = format!("form_always={form_always} named={named}");
    let (gh, provider) = github(|g| {
        g.form_always = form_always;
        g.rate_limit_at = Some((2, named));
    })
    .await;
    assert!(provider.supports_device_flow(), "{what}");
    let (clock, open) = gh_clock(&gh, 3);
    let pending = start(&provider, &clock).await;

    // What the window shows: GitHub's code and page; GitHub sends no complete URI, so the
    // QR code holds the page itself.
    assert_eq!(pending.user_code(), USER_CODE);
    let page = format!("{}/login/device", gh.lock().unwrap().base);
    assert_eq!(pending.verification_uri().as_str(), page);
    assert!(pending.verification_uri_complete().is_none());
    assert_eq!(pending.qr_uri().as_str(), page);
    assert_eq!(pending.interval(), Duration::from_secs(5));
    assert!(pending.time_left() > Duration::from_secs(890));

    // Poll 1 pending, poll 2 slow_down, poll 3 pending; then the person authorizes.
    let person = async {
        polled(&pending, 3).await;
        let page = at_github(&gh, "wdjb-mjht", true).await;
        open.send(true).unwrap();
        page
    };
    let (done, page) = tokio::join!(guarded(provider.complete_device_sign_in(&pending)), person);
    assert!(page.contains("you're all set"), "{page}");
    let done = done.expect("signed in with GitHub's device flow");

    // The same user API, picture and account path as GitHub's code flow.
    github_api::assert_signed_in_as_octocat(&done, &what);

    // RFC 8628 §3.5: every wait at least the interval; after slow_down the interval GitHub
    // named, kept for every later poll. GitHub never saw an early poll.
    assert_eq!(clock.sleeps(), [5, 5, named, named], "{what}");
    assert_eq!(pending.interval(), Duration::from_secs(named), "{what}");
    let g = gh.lock().unwrap();
    assert!(g.early.is_empty(), "{what}: early polls at {:?}", g.early);
    let answers: Vec<(u64, &str)> = g.polls.iter().map(|(t, a)| (*t, a.as_str())).collect();
    assert_eq!(
        answers,
        [
            (5, "authorization_pending"),
            (10, "slow_down"),
            (10 + named, "authorization_pending"),
            (10 + 2 * named, "access_token"),
        ],
        "{what}"
    );

    // The requests GitHub documents: form-encoded, JSON asked for; the device code request
    // with the client id and the template's scopes (no `openid`: GitHub is OAuth 2.0); each
    // poll with the device code grant. No client secret is needed or sent.
    let (what_1, first, accept) = &g.requests[0];
    assert_eq!(what_1, "device/code");
    assert_eq!(first.get("client_id").map(String::as_str), Some(CLIENT_ID));
    assert_eq!(
        first.get("scope").map(String::as_str),
        Some("read:user user:email")
    );
    assert!(accept.contains("application/json"));
    for (endpoint, form, accept) in &g.requests[1..] {
        assert_eq!(endpoint, "access_token");
        assert_eq!(
            form.get("grant_type").map(String::as_str),
            Some(DEVICE_CODE_GRANT)
        );
        assert_eq!(
            form.get("device_code").map(String::as_str),
            Some(DEVICE_CODE)
        );
        assert!(!form.contains_key("client_secret"));
        assert!(accept.contains("application/json"));
    }
    drop(g);

    // The diagram: one slow_down arrow, the user API named by the template.
    let steps = pending.trace().steps();
    assert!(
        steps.iter().all(|s| s.ok()),
        "{}",
        pending.trace().to_json()
    );
    assert_eq!(
        steps
            .iter()
            .filter(|s| s.label.contains("slow_down"))
            .count(),
        1
    );
    assert_eq!(
        steps.first().map(|s| (s.from, s.to)),
        Some((Party::App, Party::DeviceAuthorizationEndpoint))
    );
    assert!(
        steps
            .iter()
            .any(|s| s.to == Party::Userinfo && s.label == "GET /user")
    );
}

#[tokio::test]
async fn github_device_flow_honours_slow_down_and_signs_in_with_json_answers() {
    // GitHub's documented slow_down: 5 s more, and the answer names it (10).
    sign_in_with_slow_down(false, 10).await;
}

#[tokio::test]
async fn github_device_flow_reads_form_encoded_answers_and_keeps_a_longer_named_interval() {
    // Form-encoded throughout (numbers as digits), and a slow_down that names more than
    // 5 s extra: the core waits what GitHub named, never less.
    sign_in_with_slow_down(true, 20).await;
}

#[tokio::test]
async fn github_device_errors_sent_with_http_200_end_in_plain_words() {
    // The person cancels on GitHub's page: access_denied.
    let (gh, provider) = github(|_| {}).await;
    let (clock, open) = gh_clock(&gh, usize::MAX);
    open.send(true).unwrap();
    let pending = start(&provider, &clock).await;
    assert!(at_github(&gh, USER_CODE, false).await.contains("cancelled"));
    let e = guarded(provider.complete_device_sign_in(&pending))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "access_denied", "{e:?}");
    assert!(
        matches!(&e, Error::Device(DeviceError::Denied { description: Some(d) }) if d == "The authorization request was denied."),
        "{e:?}"
    );
    assert!(
        e.user_message().contains("declined on the other device"),
        "{}",
        e.user_message()
    );
    assert_eq!(pending.polls(), 1, "a refusal ends polling at once");

    // GitHub's clock says the code expired (its 900 s ran out there first): expired_token.
    let (gh, provider) = github(|_| {}).await;
    let (clock, _open) = gh_clock(&gh, usize::MAX);
    let pending = start(&provider, &clock).await;
    gh.lock().unwrap().now += Duration::from_secs(901);
    let e = guarded(provider.complete_device_sign_in(&pending))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "device_code_expired", "{e:?}");
    assert!(e.user_message().contains("expired"), "{}", e.user_message());
    assert_eq!(pending.polls(), 1);

    // The device code is not (or no longer) known: incorrect_device_code.
    let (gh, provider) = github(|g| g.forget_code = true).await;
    let (clock, _open) = gh_clock(&gh, usize::MAX);
    let pending = start(&provider, &clock).await;
    let e = guarded(provider.complete_device_sign_in(&pending))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Device(DeviceError::CodeRejected { error, .. }) if error == "incorrect_device_code"),
        "{e:?}"
    );
    assert_eq!(e.code(), "device_code_rejected");
    assert!(e.user_message().contains("did not accept"));

    // The app has not enabled the device flow in its settings: the start is refused.
    let (_gh, provider) = github(|g| g.disabled = true).await;
    let e = provider.start_device_sign_in().await.unwrap_err();
    assert!(
        matches!(&e, Error::Device(DeviceError::RequestRefused { error, .. }) if error == "device_flow_disabled"),
        "{e:?}"
    );
    assert_eq!(e.code(), "device_request_refused");
    assert!(
        e.user_message().contains("device_flow_disabled")
            && e.user_message().contains("Sign in in the browser instead"),
        "{}",
        e.user_message()
    );
}

#[tokio::test]
async fn nobody_answers_at_github_and_the_fifteen_minutes_run_out_here() {
    let (gh, provider) = github(|_| {}).await;
    let (clock, _open) = gh_clock(&gh, usize::MAX);
    let pending = start(&provider, &clock).await;
    let e = guarded(provider.complete_device_sign_in(&pending))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "device_code_expired", "{e:?}");
    // 900 s at one poll per 5 s: the poll that would come at 900 s is not sent, and GitHub
    // never had to say slow_down.
    assert_eq!(pending.polls(), 179);
    assert!(clock.sleeps().iter().all(|s| *s == 5));
    let g = gh.lock().unwrap();
    assert!(g.early.is_empty(), "{:?}", g.early);
    assert!(g.polls.iter().all(|(_, a)| a == "authorization_pending"));
}
