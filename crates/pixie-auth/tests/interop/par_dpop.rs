//! Pushed authorization requests (RFC 9126) and DPoP (RFC 9449) against oidc-provider, the
//! core unchanged (`par` and `dpop` left at "auto"), with the deep link and the loopback
//! listener. Each runs against both providers of tests/interop/provider.mjs: the plain one
//! (PAR and DPoP offered, neither required) and the strict one (PAR required, the client's
//! tokens DPoP-bound, and a DPoP nonce demanded in every proof, so the core's `use_dpop_nonce`
//! retry is exercised).

use std::collections::BTreeSet;

use pixie_auth::flow::{FlowStep, FlowTrace, Party};
use pixie_auth::loopback::LoopbackListener;
use pixie_auth::settings::{RedirectMode, default_redirect_uri};
use pixie_auth::{DpopKey, Provider, SignInHints, SignedIn, StoredSession};
use url::Url;

use super::{Interop, configured_at, discover, interop, loopback_sign_in, person};

/// The query parameter names of `url`, sorted.
fn names(url: &Url) -> BTreeSet<String> {
    url.query_pairs().map(|(k, _)| k.into_owned()).collect()
}

/// Sign in as `user` with the request pushed: through the OS's deep link, or the loopback
/// listener the person's browser is sent to. Returns the sign-in and what the browser got.
async fn sign_in(
    i: &Interop,
    provider: &Provider,
    mode: &str,
    user: &str,
) -> (Url, FlowTrace, SignedIn) {
    let hints = SignInHints::default();
    if mode == "deep-link" {
        let pending = provider
            .prepare_sign_in(None, &hints)
            .await
            .expect("the request is pushed");
        let auth = pending.authorization_url().to_string();
        let redirect = person(i, &["login", &auth, "--user", user]).remove(0);
        assert!(
            redirect.starts_with(&format!(
                "{}?",
                default_redirect_uri("interop", RedirectMode::DeepLink)
            )),
            "{redirect}"
        );
        let callback = pending
            .validate_callback(&redirect)
            .expect("valid redirect");
        let (auth, trace) = (pending.authorization_url().clone(), pending.trace().clone());
        let done = provider
            .complete(pending, &callback)
            .await
            .expect("signed in");
        return (auth, trace, done);
    }
    let listener = LoopbackListener::bind(provider.redirect_uri().path())
        .await
        .unwrap();
    let redirect_uri = listener.redirect_uri().clone();
    let pending = provider
        .prepare_sign_in(Some(&redirect_uri), &hints)
        .await
        .expect("the request is pushed");
    let (callback, shown) = loopback_sign_in(
        i,
        pending.authorization_url().to_string(),
        user,
        listener,
        &pending,
    )
    .await;
    assert!(shown[0].starts_with(redirect_uri.as_str()), "{shown:?}");
    assert_eq!(shown[1], "200", "{shown:?}");
    let (auth, trace) = (pending.authorization_url().clone(), pending.trace().clone());
    let done = provider
        .complete(pending, &callback)
        .await
        .expect("signed in");
    (auth, trace, done)
}

fn step<'a>(steps: &'a [FlowStep], what: &str, f: impl Fn(&FlowStep) -> bool) -> &'a FlowStep {
    steps
        .iter()
        .find(|s| f(s))
        .unwrap_or_else(|| panic!("no {what} step in {steps:#?}"))
}

fn param<'a>(s: &'a FlowStep, name: &str) -> Option<&'a str> {
    s.params
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.value.as_str())
}

/// Everything PAR and DPoP promise, at the provider `issuer` (`strict`: the one that requires
/// pushed requests, bound tokens and nonces), in redirect `mode`.
async fn par_and_dpop(i: &Interop, issuer: &str, strict: bool, mode: &str, user: &str) {
    let what = format!("{mode} at {issuer}");
    let provider = discover(configured_at(issuer, i, mode)).await;
    let extra = provider.metadata().additional_metadata();
    // RFC 9126 §5 and RFC 9449 §5.1: what oidc-provider advertises; "auto" takes both.
    assert_eq!(
        extra.pushed_authorization_request_endpoint.as_deref(),
        Some(format!("{issuer}/request").as_str())
    );
    assert_eq!(extra.require_pushed_authorization_requests, strict);
    assert!(provider.dpop_wanted(), "{what}");
    if strict {
        // RFC 9126 §5: a provider that requires pushed requests never gets one in the URL.
        let e = provider
            .start_sign_in_to(provider.redirect_uri())
            .unwrap_err();
        assert_eq!(e.code(), "par_not_pushed", "{what}: {e:?}");
    }

    let (auth, trace, done) = sign_in(i, &provider, mode, user).await;
    assert_eq!(done.profile.subject, user, "{what}");
    assert!(
        done.picture_error.is_none(),
        "{what}: {:?}",
        done.picture_error
    );

    // RFC 9126 §4: the browser got the authorization endpoint with `client_id` and the
    // one-time `request_uri`, nothing else.
    assert_eq!(
        auth.as_str().split('?').next(),
        Some(format!("{issuer}/auth").as_str()),
        "{what}"
    );
    assert_eq!(
        names(&auth),
        BTreeSet::from(["client_id".to_owned(), "request_uri".to_owned()]),
        "{what}: {auth}"
    );
    let pairs: Vec<(String, String)> = auth.query_pairs().into_owned().collect();
    assert!(pairs.contains(&("client_id".into(), i.client_id.clone())));
    assert!(
        pairs
            .iter()
            .any(|(k, v)| k == "request_uri" && v.starts_with("urn:ietf:params:oauth:request_uri:")),
        "{what}: {auth}"
    );

    // The flow record: the push on the back channel (RFC 9126 §2.1, 201 §2.2) carried the
    // whole request, `dpop_jkt` included (RFC 9449 §10); the browser saw two parameters.
    let steps = trace.steps();
    assert!(steps.iter().all(|s| s.ok()), "{}", trace.to_json());
    let push = step(&steps, "push", |s| {
        s.label.contains("pushed authorization request")
    });
    assert_eq!(push.to, Party::AuthorizationEndpoint);
    assert_eq!(push.status, Some(201), "{what}");
    for name in [
        "response_type",
        "redirect_uri",
        "code_challenge",
        "state",
        "nonce",
        "dpop_jkt",
    ] {
        assert!(param(push, name).is_some(), "{what}: no {name} pushed");
    }
    let opened = step(&steps, "browser", |s| s.to == Party::Browser);
    let shown: BTreeSet<&str> = opened.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        shown,
        BTreeSet::from(["client_id", "request_uri"]),
        "{what}"
    );
    // RFC 9449 §5: the token request carried a proof and token_type came back DPoP; the
    // strict provider first answered use_dpop_nonce (§8) and the proof went again with it.
    let token = step(&steps, "token", |s| s.to == Party::TokenEndpoint);
    assert!(
        param(token, "DPoP").is_some_and(|v| v.starts_with("proof: ES256")),
        "{what}"
    );
    assert!(
        token.checks.iter().any(|c| c.spec == "RFC 9449 §5" && c.ok),
        "{what}: {token:?}"
    );
    assert_eq!(param(token, "DPoP-Nonce").is_some(), strict, "{what}");
    // RFC 9449 §7.1: userinfo was asked with the DPoP scheme and a proof.
    let userinfo = step(&steps, "userinfo", |s| s.to == Party::Userinfo);
    assert_eq!(
        param(userinfo, "Authorization"),
        Some("DPoP [never shown]"),
        "{what}"
    );

    // RFC 9126 §2.2 / §4: the request_uri was used once; the same URL again is refused at
    // the authorization endpoint rather than starting another sign-in.
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let again = http.get(auth.as_str()).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 400, "{what}: replayed request_uri");

    // RFC 9449 §7.1: the access token is bound; as a plain bearer token it is refused.
    let userinfo_url = provider
        .metadata()
        .userinfo_endpoint()
        .unwrap()
        .url()
        .clone();
    let stolen = http
        .get(userinfo_url.as_str())
        .bearer_auth(done.tokens.access_token.secret())
        .send()
        .await
        .unwrap();
    assert_eq!(
        stolen.status().as_u16(),
        401,
        "{what}: bearer use of a DPoP token"
    );

    // The account's key goes to the keyring with its session.
    let session = StoredSession::from_tokens(&provider, &done.tokens, None)
        .expect("oidc-provider issued a refresh token");
    assert!(session.dpop_key.is_some(), "{what}");

    // RFC 9449 §5: a public client's refresh token is bound too. Elsewhere — with another
    // key, or with none — it is worth nothing.
    for other in [Some(DpopKey::generate().unwrap()), None] {
        let mut thief = session.clone();
        thief.dpop_key = other;
        let e = provider.refresh(&thief).await.unwrap_err();
        assert!(e.is_invalid_grant(), "{what}: {e:?}");
    }

    // With its own key: refreshed, still DPoP (§5), userinfo with a proof works. The bound
    // refresh token is kept rather than rotated (RFC 9700 §4.14.2: sender-constrained or
    // rotated; oidc-provider rotates only unbound ones), and it stays bound to the same key.
    let refreshed = provider.refresh(&session).await.expect("refresh with DPoP");
    let kept = StoredSession::from_tokens(&provider, &refreshed, Some(&session))
        .expect("a session after refresh");
    assert_eq!(
        kept.refresh_token, session.refresh_token,
        "{what}: bound, not rotated"
    );
    assert_eq!(kept.dpop_key, session.dpop_key, "{what}: the same key");
    let (profile, _) = provider
        .load_profile(&refreshed)
        .await
        .expect("userinfo with DPoP after refresh");
    assert_eq!(profile.subject, user);

    // RFC 7009 with a proof: revoked, and the refresh token is dead.
    assert!(provider.revoke(&kept).await.expect("revocation"), "{what}");
    let e = provider.refresh(&kept).await.unwrap_err();
    assert!(e.is_invalid_grant(), "{what}: {e:?}");
}

#[tokio::test]
#[ignore = "needs oidc-provider: tests/interop/run.sh"]
async fn par_and_dpop_with_the_deep_link() {
    let i = interop();
    par_and_dpop(&i, &i.issuer, false, "deep-link", "ada").await;
    par_and_dpop(&i, &i.strict_issuer, true, "deep-link", "ada").await;
}

#[tokio::test]
#[ignore = "needs oidc-provider: tests/interop/run.sh"]
async fn par_and_dpop_with_the_loopback_listener() {
    let i = interop();
    par_and_dpop(&i, &i.issuer, false, "loopback", "grace").await;
    par_and_dpop(&i, &i.strict_issuer, true, "loopback", "grace").await;
}

#[tokio::test]
#[ignore = "needs oidc-provider: tests/interop/run.sh"]
async fn a_refused_push_is_typed_and_no_browser_is_opened() {
    let i = interop();
    // A provider id whose callback (`…/oauth/callback/unregistered`) oidc-provider does not
    // know: the push is refused on the back channel, before any browser.
    let mut config = configured_at(&i.strict_issuer, &i, "deep-link");
    config.id = "unregistered".into();
    config.redirect_uri = "dev.pixie.app:/oauth/callback/unregistered".into();
    let provider = discover(config).await;
    let e = provider
        .prepare_sign_in(None, &SignInHints::default())
        .await
        .unwrap_err();
    // RFC 9126 §2.3: the error response, typed, with oidc-provider's words for the window.
    assert!(
        matches!(
            &e,
            pixie_auth::Error::Par(pixie_auth::ParError::Refused { error, description: Some(d) })
                if error == "invalid_request" && d.contains("redirect_uri")
        ),
        "{e:?}"
    );
    assert_eq!(e.code(), "par_refused");
    assert!(
        e.user_message().contains("refused the sign-in request"),
        "{}",
        e.user_message()
    );
}
