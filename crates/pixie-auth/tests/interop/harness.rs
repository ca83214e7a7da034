//! What the interop tests share: the provider run.sh started, Pixie's configuration for it,
//! and the person at its pages (tests/interop/oidc_person.py).
#![allow(dead_code)] // each test file uses its own subset

use std::path::Path;
use std::process::Command;

use pixie_auth::config;
use pixie_auth::loopback::LoopbackListener;
use pixie_auth::{
    HttpClient, PendingSignIn, Provider, ProviderConfig, SignedIn, ValidatedCallback,
};

#[derive(Clone)]
pub struct Interop {
    pub issuer: String,
    /// The same provider requiring PAR, DPoP-bound tokens and DPoP nonces (provider.mjs).
    pub strict_issuer: String,
    pub client_id: String,
    pub person: Vec<String>,
}

pub fn interop() -> Interop {
    let var = |name: &str| {
        std::env::var(name)
            .unwrap_or_else(|_| panic!("{name} is not set: run these through tests/interop/run.sh"))
    };
    Interop {
        issuer: var("PIXIE_INTEROP_ISSUER"),
        strict_issuer: var("PIXIE_INTEROP_STRICT_ISSUER"),
        client_id: var("PIXIE_INTEROP_CLIENT_ID"),
        person: var("PIXIE_INTEROP_PERSON")
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    }
}

/// The provider as a person would configure it: the "any OpenID issuer" template.
pub fn configured(i: &Interop, redirect: &str) -> ProviderConfig {
    configured_at(&i.issuer, i, redirect)
}

/// The same, for the issuer `issuer` (the plain or the strict provider).
pub fn configured_at(issuer: &str, i: &Interop, redirect: &str) -> ProviderConfig {
    let text = format!(
        "[[provider]]\nid = \"interop\"\ntemplate = \"oidc\"\nissuer = \"{issuer}\"\nclient_id = \"{}\"\nredirect = \"{redirect}\"\n",
        i.client_id
    );
    config::parse(Path::new("providers.toml"), &text)
        .expect("the interop configuration parses")
        .providers
        .remove(0)
}

/// The person at the provider's pages; returns what the script printed (the redirect first).
pub fn person(i: &Interop, args: &[&str]) -> Vec<String> {
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

pub async fn discover(config: ProviderConfig) -> Provider {
    Provider::discover(config, HttpClient::new().expect("http client"))
        .await
        .expect("discovery of oidc-provider")
}

/// The person signs in as `user` at `auth` in a browser that follows the redirect to the
/// loopback `listener` (`--visit`): what the listener validated, and what the browser was
/// shown (the redirect URI it loaded, then the page's status).
pub async fn loopback_sign_in(
    i: &Interop,
    auth: String,
    user: &str,
    listener: LoopbackListener,
    pending: &PendingSignIn,
) -> (ValidatedCallback, Vec<String>) {
    let args = [
        "login".to_owned(),
        auth,
        "--user".into(),
        user.into(),
        "--visit".into(),
    ];
    let i2 = i.clone();
    let browser = tokio::task::spawn_blocking(move || {
        person(&i2, &args.iter().map(String::as_str).collect::<Vec<_>>())
    });
    let callback = listener.accept(pending).await.expect("the redirect");
    (callback, browser.await.unwrap())
}

/// The person's picture came with the sign-in, re-encoded by Pixie as a PNG `data:` URL.
pub fn assert_picture_fetched(done: &SignedIn) {
    assert!(
        done.profile
            .picture_data_url
            .as_deref()
            .is_some_and(|p| p.starts_with("data:image/png;base64,")),
        "the picture was fetched: {:?}",
        done.picture_error
    );
}
