//! The core against the demo provider over real loopback HTTP, with a scripted user agent
//! that reads and submits the provider's sign-in form the way a person's browser would.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pixie_auth::{CallbackError, Error, PendingSignIn, Provider};
use pixie_dev_idp::browser::{self as scripted, Answer};
use pixie_dev_idp::{DevIdp, IdpConfig, PIXIE_REDIRECT_URI};
use url::Url;

async fn setup() -> (DevIdp, Provider) {
    common::demo(IdpConfig::default()).await
}

/// The browser: load the authorization URL, submit the form, return the redirect it is sent to.
async fn browser(auth_url: &str, action: &str, name: Option<&str>) -> String {
    let answer = match (action, name) {
        ("deny", _) => Answer::Deny,
        (_, Some(n)) => Answer::Named(n),
        _ => Answer::Preset("ada"),
    };
    scripted::answer(auth_url, answer)
        .await
        .expect("the provider redirects back")
}

fn with_param(url: &Url, key: &str, value: &str) -> String {
    let mut out = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == key {
                value.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out.to_string()
}

async fn redirect_for(pending: &PendingSignIn) -> String {
    browser(pending.authorization_url().as_str(), "allow", None).await
}

#[tokio::test]
async fn happy_path_signs_in_with_name_email_and_picture() {
    let (idp, provider) = setup().await;
    let pending = provider.start_sign_in().unwrap();
    let url = pending.authorization_url();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["redirect_uri"], PIXIE_REDIRECT_URI);
    assert!(q["scope"].split(' ').any(|s| s == "openid"));
    assert!(q.contains_key("nonce") && q.contains_key("state"));

    let redirect = browser(url.as_str(), "allow", Some("Katherine Johnson")).await;
    assert!(redirect.starts_with("dev.pixie.app:/oauth/callback/demo?"));
    let callback = pending
        .validate_callback(&redirect)
        .expect("redirect is ours");
    let done = provider
        .complete(pending, &callback)
        .await
        .expect("signed in");
    assert_eq!(done.profile.name, "Katherine Johnson");
    assert_eq!(
        done.profile.email.as_deref(),
        Some("katherine.johnson@example.com")
    );
    assert_eq!(done.profile.issuer, idp.issuer());
    let pic = done.profile.picture_data_url.as_deref().expect("picture");
    assert!(pic.starts_with("data:image/png;base64,"), "{}", &pic[..30]);
    assert!(done.picture_error.is_none());
    assert!(done.tokens.refresh_token.is_some());
}

#[tokio::test]
async fn deny_at_the_provider_is_access_denied() {
    let (_idp, provider) = setup().await;
    let pending = provider.start_sign_in().unwrap();
    let redirect = browser(pending.authorization_url().as_str(), "deny", None).await;
    let err = pending.validate_callback(&redirect).unwrap_err();
    assert!(matches!(&err, CallbackError::ProviderError { error, .. } if error == "access_denied"));
    let err = Error::from(err);
    assert_eq!(err.code(), "access_denied");
    assert!(err.user_message().contains("cancelled"));
}

#[tokio::test]
async fn a_redirect_with_another_sign_ins_state_is_refused() {
    let (_idp, provider) = setup().await;
    let first = provider.start_sign_in().unwrap();
    let second = provider.start_sign_in().unwrap();
    let redirect = redirect_for(&first).await;
    assert_eq!(
        second.validate_callback(&redirect).unwrap_err(),
        CallbackError::StateMismatch
    );
    // And the genuine pending sign-in still completes.
    let cb = first.validate_callback(&redirect).unwrap();
    provider
        .complete(first, &cb)
        .await
        .expect("first still works");
}

#[tokio::test]
async fn a_replayed_code_is_refused_by_the_provider() {
    let (idp, provider) = setup().await;
    let pending = provider.start_sign_in().unwrap();
    let redirect = redirect_for(&pending).await;
    let cb = pending.validate_callback(&redirect).unwrap();
    // The core spends the pending sign-in on its exchange (its verifier goes once); the
    // replay is an attacker's, sent by hand with the stolen code.
    provider.exchange(pending, &cb).await.expect("first use");
    assert_eq!(idp.live_refresh_families(), 1);
    let code = Url::parse(&redirect)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let token_url = provider.metadata().token_endpoint().unwrap().url().clone();
    let replay = reqwest::Client::new()
        .post(token_url)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", PIXIE_REDIRECT_URI),
            ("client_id", pixie_dev_idp::PIXIE_CLIENT_ID),
            ("code_verifier", &"v".repeat(43)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 400);
    let body: serde_json::Value = serde_json::from_slice(&replay.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"], "invalid_grant");
    // RFC 6749 §4.1.2: the provider revoked what the first use issued.
    assert_eq!(idp.live_refresh_families(), 0);
}

#[tokio::test]
async fn a_wrong_verifier_is_refused_by_the_provider() {
    let (_idp, provider) = setup().await;
    let pending = provider.start_sign_in().unwrap();
    // An attacker swaps in the challenge of a verifier they hold.
    let other = provider.start_sign_in().unwrap();
    let other_challenge = other
        .authorization_url()
        .query_pairs()
        .find(|(k, _)| k == "code_challenge")
        .unwrap()
        .1
        .into_owned();
    let tampered = with_param(
        pending.authorization_url(),
        "code_challenge",
        &other_challenge,
    );
    let cb = pending
        .validate_callback(&browser(&tampered, "allow", None).await)
        .unwrap();
    let err = provider.complete(pending, &cb).await.unwrap_err();
    assert_eq!(err.code(), "token_rejected", "{err:?}");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let (idp, provider) = setup().await;
    let pending = provider.start_sign_in().unwrap();
    let cb = pending
        .validate_callback(&redirect_for(&pending).await)
        .unwrap();
    idp.clock().advance(Duration::from_secs(61));
    let err = provider.complete(pending, &cb).await.unwrap_err();
    assert!(
        matches!(&err, Error::TokenRejected { error, .. } if error == "invalid_grant"),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_id_token_with_another_nonce_is_refused() {
    let (_idp, provider) = setup().await;
    let pending = provider.start_sign_in().unwrap();
    let tampered = with_param(
        pending.authorization_url(),
        "nonce",
        "injected-nonce-0123456789",
    );
    let cb = pending
        .validate_callback(&browser(&tampered, "allow", None).await)
        .unwrap();
    let err = provider.complete(pending, &cb).await.unwrap_err();
    assert_eq!(err.code(), "id_token_invalid", "{err:?}");
    assert!(err.to_string().contains("nonce"), "{err}");
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    let (_idp, provider) = setup().await;
    // The app's clock is 11 minutes ahead of the provider's: the 10-minute ID token is stale.
    let provider = provider.with_clock(Arc::new(|| {
        chrono::Utc::now() + chrono::TimeDelta::minutes(11)
    }));
    let pending = provider.start_sign_in().unwrap();
    let cb = pending
        .validate_callback(&redirect_for(&pending).await)
        .unwrap();
    let err = provider.complete(pending, &cb).await.unwrap_err();
    assert_eq!(err.code(), "id_token_invalid", "{err:?}");
}

/// A writer that keeps everything logged, for the redaction test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);
impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_token_or_verifier_reaches_debug_logs_or_the_profile() {
    let logs = Captured::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (_idp, provider) = setup().await;
    let pending = provider.start_sign_in().unwrap();
    let redirect = redirect_for(&pending).await;
    let cb = pending.validate_callback(&redirect).unwrap();
    let code = Url::parse(&redirect)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    tracing::debug!(?pending, ?cb, "before the exchange");
    let pending_debug = format!("{pending:?}");
    let done = provider.complete(pending, &cb).await.unwrap();
    tracing::debug!(?cb, ?done, ?provider, "state after sign-in");

    let secrets = [
        done.tokens.access_token.secret().clone(),
        done.tokens.refresh_token.as_ref().unwrap().secret().clone(),
        done.tokens.id_token.as_ref().unwrap().compact(),
        code,
    ];
    let debug = format!("{pending_debug} {cb:?} {done:?} {:?}", done.tokens);
    let to_ui = serde_json::to_string(&done.profile).unwrap();
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("state after sign-in"),
        "the log was captured"
    );
    for secret in &secrets {
        assert!(!debug.contains(secret.as_str()), "Debug leaks a secret");
        assert!(
            !to_ui.contains(secret.as_str()),
            "the profile leaks a secret"
        );
        assert!(!logged.contains(secret.as_str()), "the log leaks a secret");
    }
}

#[tokio::test]
async fn a_pushed_request_pushed_again_signs_in_after_its_first_link_was_used() {
    let (_idp, provider) = setup().await;
    let mut pending = provider
        .prepare_sign_in(None, &pixie_auth::SignInHints::default())
        .await
        .unwrap();
    let first = pending.authorization_url().clone();
    assert!(first.query().unwrap().contains("request_uri="), "{first}");
    // The person's browser loads the page: the one-time request_uri is spent (RFC 9126 §7.3).
    let _ = reqwest::get(first.as_str()).await.unwrap();
    let again = provider
        .push_again(&pending.push_request().unwrap())
        .await
        .unwrap();
    assert_ne!(again, first);
    // Only a URL of the same endpoint with client_id and request_uri is taken.
    let mut foreign = again.clone();
    foreign.set_host(Some("evil.example")).unwrap();
    assert!(!pending.use_pushed(foreign));
    assert!(pending.use_pushed(again));
    let redirect = redirect_for(&pending).await;
    let callback = pending.validate_callback(&redirect).unwrap();
    provider
        .complete(pending, &callback)
        .await
        .expect("the fresh request_uri signs in");
}
