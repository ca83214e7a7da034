//! Proxy variables never carry loopback traffic: a whole sign-in with a loopback provider
//! while every proxy variable points at a recording proxy, which must see nothing; and a
//! request to a provider on the network still goes through it.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pixie_auth::{HttpClient, Provider, ProxySettings};
use pixie_dev_idp::browser::{Answer, answer};
use pixie_dev_idp::{DevIdp, IdpConfig};
use tokio::io::AsyncReadExt;

/// A proxy on loopback that counts the connections it gets and answers none of them.
async fn recording_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await;
        }
    });
    (url, seen)
}

/// One GET through `http`, whatever comes of it.
async fn get(http: &HttpClient, url: &str) {
    let mut request = openidconnect::HttpRequest::new(Vec::new());
    *request.uri_mut() = url.parse().unwrap();
    let _ = http.execute(request).await;
}

/// Every proxy variable, in both cases, pointing at `proxy`.
fn all_proxies(proxy: &str) -> ProxySettings {
    ProxySettings::from_vars(|name| {
        matches!(
            name.to_ascii_lowercase().as_str(),
            "http_proxy" | "https_proxy" | "all_proxy"
        )
        .then(|| proxy.to_owned())
    })
}

#[tokio::test]
async fn loopback_never_goes_through_a_proxy_but_the_network_does() {
    let (proxy, seen) = recording_proxy().await;
    let http = HttpClient::with_proxies(Duration::from_secs(2), &all_proxies(&proxy)).unwrap();
    let idp = DevIdp::start(IdpConfig::default()).await.unwrap();

    // Discovery, JWKS, the code exchange, userinfo and the picture: all on 127.0.0.1.
    let provider = Provider::discover(common::config(&idp), http.clone())
        .await
        .expect("discovery goes direct");
    let pending = provider.start_sign_in().unwrap();
    let redirect = answer(pending.authorization_url().as_str(), Answer::Preset("ada"))
        .await
        .unwrap();
    let callback = pending.validate_callback(&redirect).unwrap();
    let done = provider.complete(pending, &callback).await.unwrap();
    assert!(done.profile.picture_data_url.is_some());

    // The other loopback names: nothing listens there, and the proxy must not hear of it.
    for url in [
        "http://127.0.0.2:9/x",
        "http://[::1]:9/x",
        "http://localhost:9/x",
    ] {
        get(&http, url).await;
    }
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "loopback went through the proxy"
    );

    // A provider on the network still goes through the proxy (which never answers).
    get(&http, "https://pictures.example/a.png").await;
    assert!(seen.load(Ordering::SeqCst) >= 1, "the proxy was bypassed");
}
