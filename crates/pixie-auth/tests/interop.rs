//! Pixie's core, unchanged, against a certified OpenID Provider: the npm `oidc-provider`
//! (version pinned in tests/interop/package.json) on loopback, with its own login and
//! consent pages played by tests/interop/oidc_person.py. Both redirect modes: the private-use
//! scheme (RFC 8252 §7.1) and the loopback listener (§7.3).
//!
//! These need the provider running, so they are `#[ignore]`d in a plain `cargo test`; the
//! test command runs them through `tests/interop/run.sh`, which starts it:
//!
//!     tests/interop/run.sh cargo test -p pixie-auth --test interop -- --ignored

use std::path::Path;
use std::process::Command;

use pixie_auth::config;
use pixie_auth::loopback::LoopbackListener;
use pixie_auth::settings::{RedirectMode, default_redirect_uri};
use pixie_auth::{HttpClient, Provider, ProviderConfig};

struct Interop {
    issuer: String,
    client_id: String,
    person: Vec<String>,
}

fn interop() -> Interop {
    let var = |name: &str| {
        std::env::var(name)
            .unwrap_or_else(|_| panic!("{name} is not set: run these through tests/interop/run.sh"))
    };
    Interop {
        issuer: var("PIXIE_INTEROP_ISSUER"),
        client_id: var("PIXIE_INTEROP_CLIENT_ID"),
        person: var("PIXIE_INTEROP_PERSON")
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    }
}

/// The provider as a person would configure it: the "any OpenID issuer" template.
fn configured(i: &Interop, redirect: &str) -> ProviderConfig {
    let text = format!(
        "[[provider]]\nid = \"interop\"\ntemplate = \"oidc\"\nissuer = \"{}\"\nclient_id = \"{}\"\nredirect = \"{redirect}\"\n",
        i.issuer, i.client_id
    );
    config::parse(Path::new("providers.toml"), &text)
        .expect("the interop configuration parses")
        .providers
        .remove(0)
}

/// The person at the provider's pages; returns what the script printed (the redirect first).
fn person(i: &Interop, args: &[&str]) -> Vec<String> {
    let out = Command::new(&i.person[0])
        .args(&i.person[1..])
        .args(args)
        .output()
        .expect("the person script runs");
    assert!(
        out.status.success(),
        "the person failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

async fn discover(config: ProviderConfig) -> Provider {
    Provider::discover(config, HttpClient::new().expect("http client"))
        .await
        .expect("discovery of oidc-provider")
}

#[tokio::test]
#[ignore = "needs oidc-provider: tests/interop/run.sh"]
async fn deep_link_sign_in_refresh_revoke_and_logout() {
    let i = interop();
    let provider = discover(configured(&i, "deep-link")).await;
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
    assert!(
        done.profile
            .picture_data_url
            .as_deref()
            .is_some_and(|p| p.starts_with("data:image/png;base64,")),
        "the picture was fetched: {:?}",
        done.picture_error
    );
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
    let args = [
        "login".to_owned(),
        auth,
        "--user".into(),
        "grace".into(),
        "--visit".into(),
    ];
    let i2 = Interop {
        issuer: i.issuer.clone(),
        client_id: i.client_id.clone(),
        person: i.person.clone(),
    };
    let browser = tokio::task::spawn_blocking(move || {
        person(&i2, &args.iter().map(String::as_str).collect::<Vec<_>>())
    });
    let callback = listener.accept(&pending).await.expect("the redirect");
    let shown = browser.await.unwrap();
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
