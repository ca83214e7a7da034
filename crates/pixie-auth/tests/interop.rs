//! Pixie's core, unchanged, against a certified OpenID Provider: the npm `oidc-provider`
//! (version pinned in tests/interop/package.json) on loopback, with its own login and
//! consent pages played by tests/interop/oidc_person.py. Both redirect modes: the private-use
//! scheme (RFC 8252 §7.1) and the loopback listener (§7.3).
//!
//! The device authorization grant (RFC 8628) is in `interop/device.rs`, pushed authorization
//! requests (RFC 9126) with DPoP (RFC 9449) in `interop/par_dpop.rs`.
//!
//! These need the provider running, so they are `#[ignore]`d in a plain `cargo test`; the
//! test command runs them through `tests/interop/run.sh`, which starts it:
//!
//!     tests/interop/run.sh cargo test -p pixie-auth --test interop -- --ignored

use pixie_auth::loopback::LoopbackListener;
use pixie_auth::settings::{RedirectMode, default_redirect_uri};

#[path = "interop/harness.rs"]
mod harness;
use harness::{
    Interop, assert_picture_fetched, configured, configured_at, discover, interop,
    loopback_sign_in, person,
};

#[path = "interop/device.rs"]
mod device;
#[path = "interop/par_dpop.rs"]
mod par_dpop;

#[tokio::test]
#[ignore = "needs oidc-provider: tests/interop/run.sh"]
async fn deep_link_sign_in_refresh_revoke_and_logout() {
    let i = interop();
    // Bearer tokens here (`dpop = "never"`): oidc-provider rotates a public client's refresh
    // token only when it is not sender-constrained (RFC 9700 §4.14.2), and this test is the
    // rotation's. The DPoP-bound path is interop/par_dpop.rs's.
    let mut config = configured(&i, "deep-link");
    config.dpop = pixie_auth::DpopMode::Never;
    let provider = discover(config).await;
    assert!(!provider.dpop_wanted());
    // RFC 9207: oidc-provider advertises `iss` on authorization responses; Pixie requires it.
    assert!(
        provider
            .metadata()
            .additional_metadata()
            .authorization_response_iss_parameter_supported
    );
    let pending = provider.start_sign_in().unwrap();
    let auth = pending.authorization_url().to_string();
    let redirect = person(&i, &["login", &auth, "--user", "ada"]).remove(0);
    assert!(
        redirect.starts_with(&format!(
            "{}?",
            default_redirect_uri("interop", RedirectMode::DeepLink)
        )),
        "{redirect}"
    );
    assert!(redirect.contains("iss="), "{redirect}");
    let callback = pending
        .validate_callback(&redirect)
        .expect("valid redirect");
    let done = provider
        .complete(pending, &callback)
        .await
        .expect("signed in");
    assert_eq!(done.profile.name, "Ada Lovelace");
    assert_eq!(done.profile.email.as_deref(), Some("ada@example.org"));
    assert_picture_fetched(&done);
    assert!(done.picture_error.is_none());

    // RFC 6749 §6: refresh, rotated by oidc-provider; the old token is then dead.
    let session = pixie_auth::StoredSession::from_tokens(&provider, &done.tokens, None)
        .expect("oidc-provider issued a refresh token");
    let refreshed = provider.refresh(&session).await.expect("refresh");
    let rotated = pixie_auth::StoredSession::from_tokens(&provider, &refreshed, Some(&session))
        .expect("a session after refresh");
    assert_ne!(rotated.refresh_token, session.refresh_token, "rotation");
    let (profile, _) = provider.load_profile(&refreshed).await.expect("userinfo");
    assert_eq!(profile.subject, "ada");

    // RFC 7009: revoke, then the refresh token no longer works.
    assert!(provider.revoke(&rotated).await.expect("revocation"));
    let e = provider.refresh(&rotated).await.unwrap_err();
    assert!(e.is_invalid_grant(), "{e:?}");

    // RP-Initiated Logout: the provider sends the browser back to Pixie's logout URI.
    let logout = provider
        .start_logout(
            rotated.id_token.as_ref().map(|t| t.compact()).as_deref(),
            "dev.pixie.app:/oauth/logout",
        )
        .expect("a logout request")
        .expect("oidc-provider has an end_session_endpoint");
    let back = person(&i, &["logout", logout.url().as_str()]).remove(0);
    assert!(back.starts_with("dev.pixie.app:/oauth/logout"), "{back}");
    assert!(
        logout.is_return(&back),
        "the return carries this sign-out's state"
    );

    // The pending sign-in was spent on its exchange; the same answer offered with another
    // sign-in is refused before any request (RFC 6749 §10.12: it is not that one's).
    let other = provider.start_sign_in().unwrap();
    let again = provider.complete(other, &callback).await.unwrap_err();
    assert_eq!(again.code(), "state_mismatch", "{again:?}");
}

#[tokio::test]
#[ignore = "needs oidc-provider: tests/interop/run.sh"]
async fn loopback_sign_in_answers_the_browser_and_closes() {
    let i = interop();
    let provider = discover(configured(&i, "loopback")).await;
    // The provider's own callback path (`/oauth/callback/interop`, RFC 9700 §4.4).
    let listener = LoopbackListener::bind(provider.redirect_uri().path())
        .await
        .unwrap();
    let redirect_uri = listener.redirect_uri().clone();
    assert_eq!(redirect_uri.host_str(), Some("127.0.0.1"));
    let pending = provider.start_sign_in_to(&redirect_uri).unwrap();
    let auth = pending.authorization_url().to_string();
    // The person's browser follows the redirect to the listener (--visit) and shows its page.
    let (callback, shown) = loopback_sign_in(&i, auth, "grace", listener, &pending).await;
    assert!(shown[0].starts_with(redirect_uri.as_str()), "{shown:?}");
    assert_eq!(shown[1], "200");
    assert!(
        shown[2..].join("\n").contains("You're signed in to Pixie"),
        "{shown:?}"
    );
    let done = provider
        .complete(pending, &callback)
        .await
        .expect("signed in");
    assert_eq!(done.profile.name, "Grace Hopper");
    // The listener is gone with the sign-in.
    let port = redirect_uri.port().unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[tokio::test]
#[ignore = "needs oidc-provider: tests/interop/run.sh"]
async fn a_person_who_says_no_gets_access_denied_in_both_modes() {
    let i = interop();
    for mode in ["deep-link", "loopback"] {
        let provider = discover(configured(&i, mode)).await;
        let mut redirect_uri = provider.redirect_uri().clone();
        if mode == "loopback" {
            redirect_uri.set_port(Some(40999)).unwrap();
        }
        let pending = provider.start_sign_in_to(&redirect_uri).unwrap();
        let auth = pending.authorization_url().to_string();
        let redirect = person(&i, &["login", &auth, "--deny"]).remove(0);
        let e = pending.validate_callback(&redirect).unwrap_err();
        assert_eq!(pixie_auth::Error::from(e).code(), "access_denied", "{mode}");
    }
}
