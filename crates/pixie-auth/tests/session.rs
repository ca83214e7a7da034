//! Sessions against the demo provider: refresh with rotation, reuse detection, revocation
//! and a provider restart with its state file (RP-initiated logout: tests/logout.rs).

mod common;

use pixie_auth::{HttpClient, Provider, StoredSession};
use pixie_dev_idp::browser::{Answer, answer};
use pixie_dev_idp::{DevIdp, IdpConfig};

async fn signed_in(provider: &Provider) -> StoredSession {
    let pending = provider.start_sign_in().unwrap();
    let redirect = answer(pending.authorization_url().as_str(), Answer::Preset("ada"))
        .await
        .unwrap();
    let cb = pending.validate_callback(&redirect).unwrap();
    let done = provider.complete(pending, &cb).await.unwrap();
    StoredSession::from_tokens(provider, &done.tokens, None).expect("a refresh token")
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_family() {
    let (idp, provider) = common::demo(IdpConfig::default()).await;
    let first = signed_in(&provider).await;
    assert!(!format!("{first:?}").contains(first.refresh_token.as_ref().unwrap().secret()));

    let tokens = provider.refresh(&first).await.expect("refresh works");
    let second = StoredSession::from_tokens(&provider, &tokens, Some(&first)).unwrap();
    assert_ne!(second.refresh_token, first.refresh_token, "rotated");
    assert_eq!(second.subject, first.subject);
    // The new access token works at userinfo.
    let (profile, _) = provider.load_profile(&tokens).await.unwrap();
    assert_eq!(profile.name, "Ada Lovelace");

    // Reusing the old one is refused and kills the whole family (RFC 9700 §4.14.2).
    let err = provider.refresh(&first).await.unwrap_err();
    assert!(err.is_invalid_grant(), "{err:?}");
    let err = provider.refresh(&second).await.unwrap_err();
    assert!(
        err.is_invalid_grant(),
        "the rotated one is revoked too: {err:?}"
    );
    assert_eq!(idp.live_refresh_families(), 0);
}

#[tokio::test]
async fn revocation_ends_the_session_at_the_provider() {
    let (_idp, provider) = common::demo(IdpConfig::default()).await;
    let session = signed_in(&provider).await;
    assert!(
        provider.revoke(&session).await.unwrap(),
        "the provider has an endpoint"
    );
    assert!(
        provider
            .refresh(&session)
            .await
            .unwrap_err()
            .is_invalid_grant()
    );
}

#[tokio::test]
async fn a_session_of_another_issuer_is_not_sent_there() {
    let (_idp, provider) = common::demo(IdpConfig::default()).await;
    let mut session = signed_in(&provider).await;
    session.issuer = "https://elsewhere.example".into();
    assert!(
        provider
            .refresh(&session)
            .await
            .unwrap_err()
            .is_invalid_grant()
    );
}

#[tokio::test]
async fn the_provider_keeps_sessions_across_a_restart_without_storing_tokens() {
    let dir = std::env::temp_dir().join(format!("pixie-idp-{}", std::process::id()));
    let state_file = dir.join("state.json");
    let config = IdpConfig {
        state_file: Some(state_file.clone()),
        ..IdpConfig::default()
    };
    let idp = DevIdp::start(config.clone()).await.unwrap();
    let issuer = idp.issuer().to_owned();
    let session = signed_in(&common::provider_with(&idp, HttpClient::new().unwrap()).await).await;
    idp.shutdown().await;

    let file = std::fs::read_to_string(&state_file).unwrap();
    assert!(
        !file.contains(session.refresh_token.as_ref().unwrap().secret()),
        "the state file holds no usable token"
    );

    let idp = DevIdp::start(config).await.unwrap();
    assert_eq!(idp.issuer(), issuer, "same port, same issuer");
    let provider = common::provider_with(&idp, HttpClient::new().unwrap()).await;
    provider
        .refresh(&session)
        .await
        .expect("the session survived the restart");
    idp.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
