//! Sessions against the demo provider: refresh with rotation, reuse detection, revocation
//! and a provider restart with its state file (RP-initiated logout: tests/logout.rs).

mod common;

use pixie_auth::{Error, HttpClient, IdTokenError, Provider, StoredSession};
use pixie_dev_idp::browser::{Answer, answer};
use pixie_dev_idp::{DevIdp, Fault, IdpConfig};

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

/// RFC 9449 §5: each sign-in's tokens are bound to its own key, and the key travels with
/// them. Two sign-ins of the same person, and a refresh of the first beside the second,
/// never swap keys (they were once kept in a map by subject, where the last one won).
#[tokio::test]
async fn two_sign_ins_of_one_person_keep_their_own_dpop_keys() {
    let (_idp, provider) = common::demo(IdpConfig::default()).await;
    let first = signed_in(&provider).await;
    let second = signed_in(&provider).await;
    let (Some(k1), Some(k2)) = (&first.dpop_key, &second.dpop_key) else {
        panic!("the demo provider offers DPoP, so each session has a key");
    };
    assert_eq!(first.subject, second.subject);
    assert_ne!(k1, k2, "one key per sign-in");

    // The first session's refresh is proven with its own key, and its new tokens carry it.
    let refreshed = provider
        .refresh(&first)
        .await
        .expect("refresh of the first");
    assert_eq!(refreshed.dpop_key.as_ref(), Some(k1));
    let (profile, _) = provider
        .load_profile(&refreshed)
        .await
        .expect("first works");
    assert_eq!(profile.name, "Ada Lovelace");
    // The second, refreshed after it, still works with its own key.
    let refreshed = provider
        .refresh(&second)
        .await
        .expect("refresh of the second");
    assert_eq!(refreshed.dpop_key.as_ref(), Some(k2));
    provider
        .load_profile(&refreshed)
        .await
        .expect("second works");
    // And a session kept from the first refresh holds the first key.
    let kept = StoredSession::from_tokens(&provider, &refreshed, Some(&second)).unwrap();
    assert_eq!(kept.dpop_key.as_ref(), Some(k2));
}

/// OIDC Core §12.2: a refreshed ID token keeps the original's `iss`, `sub`, `aud`, `azp` and
/// `auth_time`; "if no azp Claim was present in the original ID Token, one MUST NOT be present
/// in the new ID Token". An `azp` naming Pixie is fine at sign-in (steps 4–5), but not as
/// the answer to a refresh of a sign-in that had none: refused as the ID token's fault,
/// typed at its step, not as a refresh token the provider revoked.
#[tokio::test]
async fn a_refreshed_id_token_must_keep_the_original_azp() {
    let (idp, provider) = common::demo(IdpConfig {
        allow_faults: true,
        ..IdpConfig::default()
    })
    .await;
    let first = signed_in(&provider).await;
    idp.set_fault(Some(Fault::IdTokenOwnAzp)).await.unwrap();
    let err = provider.refresh(&first).await.unwrap_err();
    assert!(
        matches!(err, Error::IdToken(IdTokenError::ChangedOnRefresh("azp"))),
        "{err:?}"
    );
    assert!(!err.is_invalid_grant(), "{err:?}");

    // A sign-in that had it from the start keeps it through its refreshes.
    let second = signed_in(&provider).await;
    let tokens = provider.refresh(&second).await.expect("the same azp");
    assert!(tokens.id_token.is_some());
    // And the other way round: a refresh that drops it.
    idp.set_fault(None).await.unwrap();
    let kept = StoredSession::from_tokens(&provider, &tokens, Some(&second)).unwrap();
    let err = provider.refresh(&kept).await.unwrap_err();
    assert!(
        matches!(err, Error::IdToken(IdTokenError::ChangedOnRefresh("azp"))),
        "{err:?}"
    );
}
