//! Sessions against the demo provider: refresh with rotation, reuse detection, revocation
//! and a provider restart with its state file (RP-initiated logout: tests/logout.rs).

mod common;

use pixie_auth::{Error, HttpClient, IdTokenError, Provider, StoredSession, Tokens};
use pixie_dev_idp::browser::{Answer, answer};
use pixie_dev_idp::{DevIdp, Fault, IdpConfig};

async fn signed_in(provider: &Provider) -> StoredSession {
    let tokens = signed_in_tokens(provider).await;
    StoredSession::from_tokens(provider, &tokens, None).expect("a refresh token")
}

async fn signed_in_tokens(provider: &Provider) -> Tokens {
    let pending = provider.start_sign_in().unwrap();
    let redirect = answer(pending.authorization_url().as_str(), Answer::Preset("ada"))
        .await
        .unwrap();
    let cb = pending.validate_callback(&redirect).unwrap();
    provider.complete(pending, &cb).await.unwrap().tokens
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
    // OIDC Core §12.2: the first authentication's time is kept through the refresh.
    assert!(
        first.auth_time.is_some(),
        "the demo provider sends auth_time"
    );
    assert_eq!(second.auth_time, first.auth_time);
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
/// them. Two sign-ins of the same person, and a refresh of each, never swap keys (they were
/// once kept in a map by subject, where the last sign-in's key won: the first sign-in's own
/// tokens were then proven with the second's key and refused).
#[tokio::test]
async fn two_sign_ins_of_one_person_keep_their_own_dpop_keys() {
    let (_idp, provider) = common::demo(IdpConfig::default()).await;
    let first = signed_in_tokens(&provider).await;
    let second = signed_in_tokens(&provider).await;
    let (Some(k1), Some(k2)) = (first.dpop_key.clone(), second.dpop_key.clone()) else {
        panic!("the demo provider offers DPoP, so each sign-in has a key");
    };
    assert_eq!(first.subject, second.subject);
    assert_ne!(k1, k2, "one key per sign-in");
    // The first sign-in's own tokens, used after the second sign-in.
    let (profile, _) = provider.load_profile(&first).await.expect("first works");
    assert_eq!(profile.name, "Ada Lovelace");
    provider.load_profile(&second).await.expect("second works");

    // Each session refreshed, in turn: proven with its own key, and kept with it.
    let first_kept = StoredSession::from_tokens(&provider, &first, None).unwrap();
    let second_kept = StoredSession::from_tokens(&provider, &second, None).unwrap();
    let first_refreshed = provider.refresh(&first_kept).await.expect("first refresh");
    let second_refreshed = provider
        .refresh(&second_kept)
        .await
        .expect("second refresh");
    assert_eq!(first_refreshed.dpop_key.as_ref(), Some(&k1));
    assert_eq!(second_refreshed.dpop_key.as_ref(), Some(&k2));
    let first_next =
        StoredSession::from_tokens(&provider, &first_refreshed, Some(&first_kept)).unwrap();
    assert_eq!(first_next.dpop_key.as_ref(), Some(&k1));
    provider
        .load_profile(&first_refreshed)
        .await
        .expect("first works after both refreshes");
    provider
        .refresh(&first_next)
        .await
        .expect("and refreshes again with its own key");
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
