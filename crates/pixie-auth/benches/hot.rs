//! The hot pure functions of a sign-in: the PKCE pair, callback validation, ID token
//! verification with the JWKS already cached, and a DPoP proof (RFC 9449 §4: one per
//! request of a DPoP-bound account). `cargo bench -p pixie-auth --bench hot`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use openidconnect::Nonce;
use pixie_auth::DpopKey;
use pixie_auth::callback::{CallbackExpectation, validate_callback};
use pixie_auth::dpop::proof::{ProofFor, proof};
use pixie_auth::random::pkce_pair;
use pixie_auth::{HttpClient, Provider, ProviderConfig};
use pixie_dev_idp::browser::{Answer, answer};
use pixie_dev_idp::{DevIdp, IdpConfig, PIXIE_CLIENT_ID, PIXIE_REDIRECT_URI};
use url::Url;

fn pkce(c: &mut Criterion) {
    c.bench_function("pkce_pair (32 OS-random bytes + SHA-256)", |b| {
        b.iter(|| black_box(pkce_pair().expect("rng")))
    });
}

fn dpop(c: &mut Criterion) {
    let key = DpopKey::generate().expect("key");
    let uri = Url::parse("https://id.example/userinfo").expect("url");
    let with = ProofFor {
        method: "GET",
        uri: &uri,
        access_token: Some("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
        nonce: Some("eyJ7S_zG.eyJH0-Z.HX4w-7v"),
        now: 1_767_225_600,
    };
    c.bench_function("DPoP proof (ES256, with ath and nonce)", |b| {
        b.iter(|| black_box(proof(&key, black_box(&with)).expect("proof")))
    });
    c.bench_function("DPoP key (P-256, once per account)", |b| {
        b.iter(|| black_box(DpopKey::generate().expect("key")))
    });
}

fn callback(c: &mut Criterion) {
    let redirect = Url::parse(PIXIE_REDIRECT_URI).expect("url");
    let state = "Q2hvb3NlIGEgc3Ryb25nIHN0YXRlIHZhbHVlIQ";
    let raw = format!(
        "{PIXIE_REDIRECT_URI}?code=SplxlOBeZQQYbYS6WxSbIA&state={state}&iss=https%3A%2F%2Fid.example&authuser=0"
    );
    let expect = CallbackExpectation {
        redirect_uri: &redirect,
        state,
        issuer: "https://id.example",
        iss_required: true,
    };
    c.bench_function("validate_callback", |b| {
        b.iter(|| black_box(validate_callback(black_box(&raw), &expect).is_ok()))
    });
}

fn id_token(c: &mut Criterion) {
    // A real ID token from the demo provider, and its JWKS cached by discovery.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (_idp, provider, token, access, nonce) = rt.block_on(async {
        let idp = DevIdp::start(IdpConfig::default()).await.expect("idp");
        let config = ProviderConfig::new(
            "bench",
            "bench",
            idp.issuer(),
            PIXIE_CLIENT_ID,
            PIXIE_REDIRECT_URI,
        );
        let provider = Provider::discover(config, HttpClient::new().expect("http"))
            .await
            .expect("discovery");
        let pending = provider.start_sign_in().expect("start");
        let nonce: Nonce = Nonce::new(
            pending
                .authorization_url()
                .query_pairs()
                .find(|(k, _)| k == "nonce")
                .map(|(_, v)| v.into_owned())
                .expect("nonce"),
        );
        let redirect = answer(pending.authorization_url().as_str(), Answer::Preset("ada"))
            .await
            .expect("redirect");
        let cb = pending.validate_callback(&redirect).expect("callback");
        let tokens = provider.exchange(pending, &cb).await.expect("tokens");
        let token = tokens.id_token.expect("id token").secret().clone();
        (idp, provider, token, tokens.access_token, nonce)
    });
    assert!(provider.verify_id_token(&token, &access, &nonce).is_ok());
    c.bench_function("verify_id_token (RS256, cached JWKS)", |b| {
        b.iter(|| black_box(provider.verify_id_token(&token, &access, &nonce).is_ok()))
    });
}

criterion_group!(benches, pkce, callback, id_token, dpop);
criterion_main!(benches);
