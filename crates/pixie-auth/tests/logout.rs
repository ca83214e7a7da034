//! Signing out at the provider (OpenID RP-Initiated Logout 1.0) against the demo provider:
//! what the browser URL carries, and that only the return of this sign-out is believed.

mod common;

use pixie_auth::{LogoutHint, Provider, StoredSession};
use pixie_dev_idp::browser::{Answer, answer};
use pixie_dev_idp::{DevIdp, IdpConfig, PIXIE_CLIENT_ID};

const RETURN: &str = "dev.pixie.app:/oauth/logout";

async fn id_token(provider: &Provider) -> String {
    session(provider)
        .await
        .id_token
        .expect("an ID token")
        .compact()
}

async fn session(provider: &Provider) -> StoredSession {
    let pending = provider.start_sign_in().unwrap();
    let redirect = answer(pending.authorization_url().as_str(), Answer::Preset("ada"))
        .await
        .unwrap();
    let cb = pending.validate_callback(&redirect).unwrap();
    let done = provider.complete(pending, &cb).await.unwrap();
    StoredSession::from_tokens(provider, &done.tokens, None).unwrap()
}

async fn with_hint(hint: LogoutHint) -> (DevIdp, Provider) {
    let idp = DevIdp::start(IdpConfig::default()).await.unwrap();
    let mut config = common::config(&idp);
    config.logout_hint = hint;
    let provider = Provider::discover(config, pixie_auth::HttpClient::new().unwrap())
        .await
        .unwrap();
    (idp, provider)
}

/// Where the provider sends the browser after `url`.
async fn follow(url: &url::Url) -> String {
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    resp.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn only_the_return_of_this_sign_out_is_believed() {
    let (_idp, provider) = with_hint(LogoutHint::ClientId).await;
    let token = id_token(&provider).await;
    let logout = provider
        .start_logout(Some(&token), RETURN)
        .unwrap()
        .expect("the demo provider has an end-session endpoint");
    let q: std::collections::HashMap<_, _> = logout.url().query_pairs().into_owned().collect();
    assert!(q["state"].len() >= 43, "a fresh 256-bit state");
    // The provider echoes `state` on its redirect back (RP-Initiated Logout 1.0 §3).
    let back = follow(logout.url()).await;
    assert!(back.contains(&format!("state={}", q["state"])), "{back}");
    assert!(logout.is_return(&back));
    // Forged or stray links prove nothing.
    let state = &q["state"];
    for forged in [
        RETURN.to_owned(),
        format!("{RETURN}?state="),
        format!("{RETURN}?state=forged"),
        format!("{RETURN}?state={state}&state={state}"),
        format!("{RETURN}?state={state}#x"),
        format!("dev.pixie.app:/oauth/callback?state={state}"),
        format!("dev.pixie.evil:/oauth/logout?state={state}"),
        format!("dev.pixie.app://host/oauth/logout?state={state}"),
    ] {
        assert!(!logout.is_return(&forged), "{forged}");
    }
    // Each sign-out has its own state.
    let other = provider.start_logout(None, RETURN).unwrap().unwrap();
    assert!(!other.is_return(&back));
    assert!(!format!("{logout:?}").contains(state.as_str()));
}

#[tokio::test]
async fn the_id_token_goes_into_the_url_only_where_a_provider_needs_it() {
    let (_idp, provider) = with_hint(LogoutHint::ClientId).await;
    let kept = session(&provider).await;
    let token = kept.id_token.clone().unwrap().compact();
    let logout = provider
        .start_logout(Some(&token), RETURN)
        .unwrap()
        .unwrap();
    // No refresh token in a browser URL, ever.
    let refresh = kept.refresh_token.as_ref().unwrap().secret();
    assert!(!logout.url().as_str().contains(refresh));
    let q: std::collections::HashMap<_, _> = logout.url().query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], PIXIE_CLIENT_ID);
    assert_eq!(q["post_logout_redirect_uri"], RETURN);
    assert!(!q.contains_key("id_token_hint"));
    assert!(!logout.url().as_str().contains(&token));
    // The demo provider takes `client_id` alone and still comes back.
    assert!(logout.is_return(&follow(logout.url()).await));

    let (_idp, provider) = with_hint(LogoutHint::IdToken).await;
    let token = id_token(&provider).await;
    let logout = provider
        .start_logout(Some(&token), RETURN)
        .unwrap()
        .unwrap();
    let q: std::collections::HashMap<_, _> = logout.url().query_pairs().into_owned().collect();
    assert_eq!(q["id_token_hint"], token);
    assert_eq!(q["client_id"], PIXIE_CLIENT_ID);
    assert!(logout.is_return(&follow(logout.url()).await));
}
