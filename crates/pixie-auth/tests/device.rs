//! Sign in on another device (RFC 8628) against the demo provider over real HTTP: the test
//! plays the person on the verification page, and a test clock stands in for time so a
//! ten-minute code runs in milliseconds while every wait the core asks for is recorded.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

#[path = "common/clock.rs"]
mod clock;
mod common;

use clock::GatedClock;

use pixie_auth::device::DeviceClock;
use pixie_auth::flow::Party;
use pixie_auth::{Error, HttpClient, PendingDeviceSignIn, Provider, ProviderConfig};
use pixie_dev_idp::browser::{Answer, DeviceOutcome, answer_device};
use pixie_dev_idp::{ClientRegistration, DevIdp, IdpConfig};
use tokio::sync::watch;

/// The gated clock for the demo provider: its clock moves with each sleep, one second less
/// for the sleeps listed in `short` (a client that polls early).
fn test_clock(
    idp: &DevIdp,
    hold_after: usize,
    short: &[usize],
) -> (Arc<GatedClock>, watch::Sender<bool>) {
    let (idp, short) = (idp.clock().clone(), short.to_vec());
    GatedClock::new(hold_after, move |n, d| {
        let skew = if short.contains(&n) {
            Duration::from_secs(1)
        } else {
            Duration::ZERO
        };
        idp.advance(d - skew);
    })
}

/// Wait (in real time) until the core has polled `n` times.
async fn polled(pending: &PendingDeviceSignIn, n: u32) {
    while pending.polls() < n {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A guard, not a speed target: a core that stopped waiting would poll forever (virtual time
/// only moves when it sleeps), so such a run fails here instead of hanging.
async fn guarded<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(120), fut)
        .await
        .expect("the core kept polling without waiting (virtual time never moved)")
}

async fn start(provider: &Provider, clock: &Arc<GatedClock>) -> PendingDeviceSignIn {
    let clock: Arc<dyn DeviceClock> = clock.clone();
    provider
        .start_device_sign_in_with_clock(clock)
        .await
        .expect("device authorization")
}

#[tokio::test]
async fn a_person_on_another_device_signs_pixie_in() {
    let (idp, provider) = common::demo(IdpConfig::default()).await;
    assert!(provider.supports_device_flow());
    assert_eq!(
        provider.device_authorization_endpoint().unwrap().as_str(),
        format!("{}/device_authorization", idp.issuer())
    );
    let (clock, open) = test_clock(&idp, 3, &[]);
    let pending = start(&provider, &clock).await;

    // What the window shows.
    let code = pending.user_code().to_owned();
    assert_eq!(code.len(), 9, "{code}");
    assert_eq!(
        pending.verification_uri().as_str(),
        format!("{}/device", idp.issuer())
    );
    let complete = pending.verification_uri_complete().unwrap().clone();
    assert_eq!(complete.query(), Some(format!("user_code={code}").as_str()));
    assert_eq!(pending.qr_uri(), &complete);
    assert!(
        pending
            .qr_code()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    assert_eq!(pending.interval(), Duration::from_secs(5));
    assert!(pending.time_left() > Duration::from_secs(590));
    assert!(!format!("{pending:?}").contains("device_code: DeviceCode(\""));

    // Pixie polls three times while the person is busy, then they type the code and choose.
    let person = async {
        polled(&pending, 3).await;
        let outcome = answer_device(
            pending.verification_uri().as_str(),
            Some(&code),
            Answer::Preset("grace"),
        )
        .await
        .unwrap();
        open.send(true).unwrap();
        outcome
    };
    let (done, outcome) = tokio::join!(guarded(provider.complete_device_sign_in(&pending)), person);
    assert_eq!(outcome, DeviceOutcome::Approved);
    let done = done.expect("signed in");
    assert_eq!(done.profile.name, "Grace Hopper");
    assert!(done.profile.picture_data_url.is_some());
    assert!(done.tokens.refresh_token.is_some());
    assert!(done.tokens.id_token.is_some());

    // RFC 8628 §3.5: four polls, each at least the interval after the previous answer; the
    // provider (which answers slow_down to an early poll) never had to.
    assert_eq!(pending.polls(), 4);
    assert_eq!(clock.sleeps(), [5, 5, 5, 5]);

    // The diagram draws the device flow, with no secret in it.
    let steps = pending.trace().steps();
    let arrows: Vec<(Party, Party)> = steps.iter().map(|s| (s.from, s.to)).collect();
    assert_eq!(
        arrows,
        [
            (Party::App, Party::DeviceAuthorizationEndpoint),
            (Party::App, Party::OtherDevice),
            (Party::App, Party::TokenEndpoint),
            (Party::App, Party::TokenEndpoint),
            (Party::App, Party::App),
            (Party::App, Party::Userinfo),
            (Party::App, Party::Picture),
        ]
    );
    assert!(
        steps.iter().all(|s| s.ok()),
        "{}",
        pending.trace().to_json()
    );
    assert!(
        steps[2].label.ends_with("×3: authorization_pending"),
        "{}",
        steps[2].label
    );
    assert!(
        steps[1]
            .params
            .iter()
            .any(|p| p.name == "user_code" && p.value == code)
    );
    let nonce = steps[4]
        .checks
        .iter()
        .find(|c| c.spec.contains("step 11"))
        .unwrap();
    assert_eq!(nonce.spec, "OIDC Core §3.1.3.7 step 11, RFC 8628 §3.1");
    let json = pending.trace().to_json();
    let mermaid = pending.trace().to_mermaid();
    for secret in [
        done.tokens.access_token.secret().clone(),
        done.tokens.refresh_token.as_ref().unwrap().secret().clone(),
        done.tokens.id_token.as_ref().unwrap().compact(),
    ] {
        assert!(!json.contains(&secret) && !mermaid.contains(&secret));
    }

    // RFC 8628 §3.5 / one-time codes: the same device code a second time is refused.
    let again = provider
        .complete_device_sign_in(&pending)
        .await
        .unwrap_err();
    assert_eq!(again.code(), "device_code_rejected", "{again:?}");
    assert!(again.user_message().contains("did not accept"));
}

#[tokio::test]
async fn the_code_from_the_qr_link_needs_no_typing_and_a_no_is_a_no() {
    let (idp, provider) = common::demo(IdpConfig::default()).await;
    let (clock, open) = test_clock(&idp, 1, &[]);
    let pending = start(&provider, &clock).await;
    let person = async {
        polled(&pending, 1).await;
        let complete = pending.verification_uri_complete().unwrap().as_str();
        let outcome = answer_device(complete, None, Answer::Deny).await.unwrap();
        open.send(true).unwrap();
        outcome
    };
    let (result, outcome) =
        tokio::join!(guarded(provider.complete_device_sign_in(&pending)), person);
    assert!(matches!(outcome, DeviceOutcome::Refused(_)));
    let err = result.unwrap_err();
    assert_eq!(err.code(), "access_denied");
    assert!(
        err.user_message().contains("declined on the other device"),
        "{}",
        err.user_message()
    );
    let last = pending.trace().steps().pop().unwrap();
    assert_eq!(last.checks[0].spec, "RFC 8628 §3.5 access_denied");
    assert!(!last.ok());
}

#[tokio::test]
async fn a_wrong_user_code_is_turned_away_on_the_page() {
    let (idp, _provider) = common::demo(IdpConfig::default()).await;
    let outcome = answer_device(
        &format!("{}/device", idp.issuer()),
        Some("BCDF-GHJK"),
        Answer::Preset("ada"),
    )
    .await
    .unwrap();
    assert_eq!(
        outcome,
        DeviceOutcome::Refused(
            "That code is not valid or has expired. Check the code on your device.".into()
        )
    );
}

#[tokio::test]
async fn slow_down_adds_five_seconds_and_the_core_keeps_it() {
    let (idp, provider) = common::demo(IdpConfig::default()).await;
    // The second wait is a second short on the provider's clock: it answers slow_down.
    let (clock, open) = test_clock(&idp, 4, &[2]);
    let pending = start(&provider, &clock).await;
    let code = pending.user_code().to_owned();
    let person = async {
        polled(&pending, 4).await;
        answer_device(
            pending.verification_uri().as_str(),
            Some(&code),
            Answer::Preset("ada"),
        )
        .await
        .unwrap();
        open.send(true).unwrap();
    };
    let (done, ()) = tokio::join!(guarded(provider.complete_device_sign_in(&pending)), person);
    done.expect("signed in");
    // Poll 1 pending; poll 2 (early) slow_down; from then on every 10 s, and the provider
    // (which now also asks 10 s) never says slow_down again.
    assert_eq!(clock.sleeps(), [5, 5, 10, 10, 10]);
    assert_eq!(pending.interval(), Duration::from_secs(10));
    let labels: Vec<String> = pending
        .trace()
        .steps()
        .iter()
        .map(|s| s.label.clone())
        .collect();
    assert_eq!(
        labels.iter().filter(|l| l.contains("slow_down")).count(),
        1,
        "{labels:?}"
    );
}

#[tokio::test]
async fn nobody_answers_and_the_code_runs_out_here() {
    let (idp, provider) = common::demo(IdpConfig::default()).await;
    let (clock, _open) = test_clock(&idp, usize::MAX, &[]);
    let pending = start(&provider, &clock).await;
    let err = provider
        .complete_device_sign_in(&pending)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "device_code_expired");
    assert!(err.user_message().contains("expired"));
    // 600 s at one poll per 5 s: the poll that would come at 600 s is not sent.
    assert_eq!(pending.polls(), 119);
    assert!(clock.sleeps().iter().all(|s| *s == 5));
    assert!(pending.is_expired());
    // Pending polls collapse into one arrow: the diagram stays readable.
    assert!(
        pending.trace().steps().len() <= 4,
        "{}",
        pending.trace().to_json()
    );
}

#[tokio::test]
async fn the_provider_says_the_code_expired() {
    let (idp, provider) = common::demo(IdpConfig::default()).await;
    let (clock, _open) = test_clock(&idp, usize::MAX, &[]);
    let pending = start(&provider, &clock).await;
    // The provider's clock is ahead: its first answer is expired_token.
    idp.clock().advance(Duration::from_secs(601));
    let err = provider
        .complete_device_sign_in(&pending)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "device_code_expired");
    assert_eq!(pending.polls(), 1);
    let last = pending.trace().steps().pop().unwrap();
    assert_eq!(last.checks[0].spec, "RFC 8628 §3.5 expired_token");
}

#[tokio::test]
async fn a_device_code_is_bound_to_its_client() {
    let mut other = ClientRegistration::pixie();
    other.client_id = "another-app".into();
    let idp = DevIdp::start(IdpConfig {
        clients: vec![ClientRegistration::pixie(), other],
        ..IdpConfig::default()
    })
    .await
    .unwrap();
    let provider = common::provider_with(&idp, HttpClient::new().unwrap()).await;
    let mut config: ProviderConfig = common::config(&idp);
    config.client_id = "another-app".into();
    let thief = Provider::discover(config, HttpClient::new().unwrap())
        .await
        .unwrap();
    let (clock, open) = test_clock(&idp, usize::MAX, &[]);
    open.send(true).unwrap();
    let pending = start(&provider, &clock).await;
    answer_device(
        pending.verification_uri_complete().unwrap().as_str(),
        None,
        Answer::Preset("ada"),
    )
    .await
    .unwrap();
    // RFC 8628 §3.4: another client presenting this device code gets nothing.
    let err = thief.complete_device_sign_in(&pending).await.unwrap_err();
    assert_eq!(err.code(), "device_code_rejected", "{err:?}");
    // Still there for its own client.
    let done = provider.complete_device_sign_in(&pending).await.unwrap();
    assert_eq!(done.profile.name, "Ada Lovelace");
}

#[tokio::test]
async fn dropping_the_future_cancels_and_the_pending_sign_in_carries_on() {
    let (idp, provider) = common::demo(IdpConfig::default()).await;
    let (clock, open) = test_clock(&idp, 2, &[]);
    let pending = start(&provider, &clock).await;
    // Cancel while the core waits for its third poll.
    let cancelled = tokio::select! {
        r = provider.complete_device_sign_in(&pending) => Some(r),
        () = polled(&pending, 2) => None,
    };
    assert!(cancelled.is_none());
    assert_eq!(pending.polls(), 2);
    open.send(true).unwrap();
    answer_device(
        pending.verification_uri_complete().unwrap().as_str(),
        None,
        Answer::Preset("alan"),
    )
    .await
    .unwrap();
    let done = provider.complete_device_sign_in(&pending).await.unwrap();
    assert_eq!(done.profile.name, "Alan Turing");
    // The restarted poll still waited its interval after the last answer.
    assert!(
        clock.sleeps().iter().all(|s| *s >= 5),
        "{:?}",
        clock.sleeps()
    );
}

#[tokio::test]
async fn a_provider_without_the_endpoint_is_told_apart() {
    let (_idp, provider) = common::demo(IdpConfig::default()).await;
    let with_endpoint = |endpoint: Option<&str>| {
        let mut json = serde_json::to_value(provider.metadata()).unwrap();
        json["device_authorization_endpoint"] = serde_json::json!(endpoint);
        let metadata = serde_json::from_value(json).unwrap();
        Provider::from_metadata(
            provider.config().clone(),
            metadata,
            HttpClient::new().unwrap(),
        )
        .unwrap()
    };
    let bare = with_endpoint(None);
    assert!(!bare.supports_device_flow());
    let err = bare.start_device_sign_in().await.unwrap_err();
    assert_eq!(err.code(), "device_flow_unsupported");
    // An endpoint without TLS is refused, not silently dropped.
    let plain = with_endpoint(Some("http://example.com/device"));
    assert!(!plain.supports_device_flow());
    assert!(matches!(
        plain.start_device_sign_in().await,
        Err(Error::Discovery(_))
    ));
}
