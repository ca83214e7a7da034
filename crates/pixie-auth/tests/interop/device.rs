//! Sign in on another device (RFC 8628) against oidc-provider with `features.deviceFlow`
//! (tests/interop/provider.mjs), through the core unchanged and on real time. The person on
//! the other device is tests/interop/oidc_person.py on oidc-provider's own device pages
//! (user code, confirmation, login, consent). oidc-provider 9 never answers `slow_down`
//! (it defines the error but does not throw it), so the spacing of polls is proved where the
//! provider checks it: the demo provider (device.rs) and the GitHub-shaped one
//! (github_device.rs).

use std::future::Future;
use std::time::Duration;

use pixie_auth::flow::Party;
use pixie_auth::{DeviceError, Error, PendingDeviceSignIn, Provider, StoredSession};

use super::{
    Interop, assert_picture_fetched, configured, configured_at, discover, interop, person,
};

/// A guard, not a speed target: a core that never got its answer would poll until the code
/// expires (ten minutes); fail with a reason instead.
async fn guarded<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(180), fut)
        .await
        .expect("the device sign-in did not end within 3 minutes")
}

/// Wait (in real time) until the core has had `n` answers from the token endpoint.
async fn polled(pending: &PendingDeviceSignIn, n: u32) {
    while pending.polls() < n {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The person on the other device, off the test's thread (the core polls meanwhile).
async fn person_device(i: &Interop, args: &[&str]) -> Vec<String> {
    let i = i.clone();
    let args: Vec<String> = ["device"]
        .iter()
        .chain(args)
        .map(|s| s.to_string())
        .collect();
    tokio::task::spawn_blocking(move || {
        person(&i, &args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .expect("the person's thread")
}

async fn start(provider: &Provider) -> PendingDeviceSignIn {
    provider
        .start_device_sign_in()
        .await
        .expect("device authorization at oidc-provider")
}

#[tokio::test]
#[ignore = "needs oidc-provider: tests/interop/run.sh"]
async fn a_person_on_another_device_signs_pixie_in_at_oidc_provider() {
    let i = interop();
    let provider = discover(configured(&i, "deep-link")).await;
    // RFC 8628 §4: discovered from the metadata.
    assert!(provider.supports_device_flow());
    assert_eq!(
        provider.device_authorization_endpoint().unwrap().as_str(),
        format!("{}/device/auth", i.issuer)
    );
    let pending = start(&provider).await;

    // RFC 8628 §3.2: what the window shows, as oidc-provider answered it (its default user
    // code: eight base-20 letters in the mask ****-****).
    let code = pending.user_code().to_owned();
    assert_eq!(code.len(), 9, "{code}");
    assert_eq!(code.as_bytes()[4], b'-', "{code}");
    assert_eq!(
        pending.verification_uri().as_str(),
        format!("{}/device", i.issuer)
    );
    let complete = pending
        .verification_uri_complete()
        .expect("oidc-provider sends verification_uri_complete")
        .clone();
    assert!(
        complete
            .query_pairs()
            .any(|(k, v)| k == "user_code" && v == code),
        "{complete}"
    );
    assert_eq!(pending.qr_uri(), &complete);
    assert!(
        pending
            .qr_code()
            .is_some_and(|q| q.starts_with("data:image/png;base64,"))
    );
    // RFC 8628 §3.2: oidc-provider names no `interval`; the default is 5 s.
    assert_eq!(pending.interval(), Duration::from_secs(5));
    assert!(pending.time_left() > Duration::from_secs(500));

    // The core polls while the person is busy elsewhere; after its first answer
    // (authorization_pending) the person types the code on the plain verification page,
    // confirms the device, signs in as Grace and allows.
    let uri = pending.verification_uri().to_string();
    let person = async {
        polled(&pending, 1).await;
        person_device(&i, &[&uri, "--code", &code, "--user", "grace"]).await
    };
    let (done, said) = tokio::join!(guarded(provider.complete_device_sign_in(&pending)), person);
    assert_eq!(said, ["approved"]);
    let done = done.expect("signed in on another device");

    // The same ID token, userinfo and picture path as the code flow.
    assert_eq!(done.profile.name, "Grace Hopper");
    assert_eq!(done.profile.subject, "grace");
    assert_eq!(done.profile.email.as_deref(), Some("grace@example.org"));
    assert_picture_fetched(&done);
    assert!(done.tokens.id_token.is_some());
    assert_eq!(done.tokens.subject.as_str(), "grace");

    // RFC 8628 §3.5: at least one authorization_pending answer was waited through; the
    // interval is still the one it started with (nothing asked for slower polling).
    assert!(pending.polls() >= 2, "{}", pending.polls());
    assert_eq!(pending.interval(), Duration::from_secs(5));
    let steps = pending.trace().steps();
    assert!(
        steps.iter().all(|s| !s.label.contains("slow_down")),
        "{}",
        pending.trace().to_json()
    );
    assert!(
        steps.iter().all(|s| s.ok()),
        "{}",
        pending.trace().to_json()
    );
    // The diagram: device authorization, the code shown, the polls (pending ones folded
    // into one arrow), the tokens, the ID token check, userinfo, the picture.
    let arrows: Vec<(Party, Party)> = steps.iter().map(|s| (s.from, s.to)).collect();
    assert_eq!(
        arrows.first().copied(),
        Some((Party::App, Party::DeviceAuthorizationEndpoint))
    );
    assert_eq!(arrows[1], (Party::App, Party::OtherDevice));
    assert!(
        arrows[2..arrows.len() - 3]
            .iter()
            .all(|a| *a == (Party::App, Party::TokenEndpoint)),
        "{arrows:?}"
    );
    assert_eq!(
        arrows[arrows.len() - 3..],
        [
            (Party::App, Party::App),
            (Party::App, Party::Userinfo),
            (Party::App, Party::Picture)
        ]
    );
    assert!(
        steps[2].label.contains("authorization_pending"),
        "{}",
        steps[2].label
    );

    // Kept like any sign-in: oidc-provider issued a refresh token for the device grant, and
    // it refreshes (RFC 6749 §6) to the same account.
    let session = StoredSession::from_tokens(&provider, &done.tokens, None)
        .expect("a refresh token for the device grant");
    let refreshed = provider.refresh(&session).await.expect("refresh");
    let (profile, _) = provider.load_profile(&refreshed).await.expect("userinfo");
    assert_eq!(profile.subject, "grace");

    // A device code works once (RFC 8628 §3.5; RFC 6749 §5.2 invalid_grant).
    let again = guarded(provider.complete_device_sign_in(&pending))
        .await
        .unwrap_err();
    assert_eq!(again.code(), "device_code_rejected", "{again:?}");
    assert!(again.user_message().contains("did not accept"));
}

#[tokio::test]
#[ignore = "needs oidc-provider: tests/interop/run.sh"]
async fn a_person_who_says_no_on_the_other_device_gets_access_denied_in_plain_words() {
    let i = interop();
    let provider = discover(configured(&i, "deep-link")).await;
    // No on the consent page, and "Abort" on oidc-provider's device confirmation page.
    for how in ["--deny", "--abort"] {
        let pending = start(&provider).await;
        // From the QR code's link: the code is in it, nothing to type.
        let complete = pending.verification_uri_complete().unwrap().to_string();
        let said = person_device(&i, &[&complete, how]).await;
        assert!(said[0].starts_with("denied:"), "{how}: {said:?}");
        let e = guarded(provider.complete_device_sign_in(&pending))
            .await
            .unwrap_err();
        // RFC 8628 §3.5 access_denied, typed, with oidc-provider's own words kept.
        assert_eq!(e.code(), "access_denied", "{how}: {e:?}");
        assert!(
            matches!(
                &e,
                Error::Device(DeviceError::Denied { description: Some(d) })
                    if d == "End-User aborted interaction"
            ),
            "{how}: {e:?}"
        );
        assert!(
            e.user_message().contains("declined on the other device")
                && e.user_message().contains("Nothing was shared with Pixie"),
            "{}",
            e.user_message()
        );
        let last = pending.trace().steps().pop().unwrap();
        assert_eq!(last.to, Party::TokenEndpoint);
        assert_eq!(last.checks[0].spec, "RFC 8628 §3.5 access_denied");
        assert!(!last.ok());
    }
}

#[tokio::test]
#[ignore = "needs oidc-provider: tests/interop/run.sh"]
async fn a_client_not_allowed_the_device_grant_is_refused_in_plain_words() {
    let i = interop();
    // The same provider, and a client registered without the device code grant.
    let mut config = configured(&i, "deep-link");
    config.client_id = "pixie-interop-norefresh".into();
    let provider = discover(config).await;
    assert!(
        provider.supports_device_flow(),
        "advertised for the provider"
    );
    let e = provider.start_device_sign_in().await.unwrap_err();
    // RFC 8628 §3.2 / RFC 6749 §5.2: the refusal, typed, the provider's words kept.
    assert!(
        matches!(
            &e,
            Error::Device(DeviceError::RequestRefused { error, description: Some(d) })
                if error == "invalid_request" && d.contains("not allowed for this client")
        ),
        "{e:?}"
    );
    assert_eq!(e.code(), "device_request_refused");
    assert!(
        e.user_message()
            .contains("would not start a sign-in on another device"),
        "{}",
        e.user_message()
    );
}

/// RFC 9449 §5 applies to every token request, the device code grant's included (§3.4 of
/// RFC 8628 is an ordinary token request): a provider that binds this client's tokens
/// (`dpop_bound_access_tokens`, RFC 9449 §5.2, and a nonce in every proof) gets a proof
/// with each poll, and the account keeps its key.
#[tokio::test]
#[ignore = "needs oidc-provider: tests/interop/run.sh"]
async fn a_device_sign_in_at_a_provider_that_binds_tokens_with_dpop() {
    let i = interop();
    let provider = discover(configured_at(&i.strict_issuer, &i, "deep-link")).await;
    assert!(provider.dpop_wanted());
    let pending = provider
        .start_device_sign_in()
        .await
        .expect("device authorization");
    let complete = pending.verification_uri_complete().unwrap().to_string();
    assert_eq!(person(&i, &["device", &complete]), ["approved"]);
    // A guard, not a speed target: the refusal ends polling at once; tokens come on the
    // first poll.
    let done = tokio::time::timeout(
        Duration::from_secs(180),
        provider.complete_device_sign_in(&pending),
    )
    .await
    .expect("the device sign-in ended")
    .expect("a DPoP-bound device sign-in");
    let session = StoredSession::from_tokens(&provider, &done.tokens, None).unwrap();
    assert!(session.dpop_key.is_some(), "the account's DPoP key is kept");
}
