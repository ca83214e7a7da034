//! The profile picture cannot reach services on this computer for a provider on the network:
//! the request is never made. (The loopback demo provider's own pictures still load: see
//! `demo_provider.rs`.)

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use pixie_auth::HttpClient;
use pixie_auth::picture::fetch_picture;

#[tokio::test]
async fn a_network_provider_cannot_send_pixie_to_a_local_service() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        while let Ok((_stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    let http = HttpClient::new().unwrap();
    for url in [
        format!("http://127.0.0.1:{port}/admin"),
        format!("http://localhost:{port}/admin"),
    ] {
        let err = fetch_picture(&http, &url, "https://accounts.example.com")
            .await
            .unwrap_err();
        assert_eq!(err.code(), "picture", "{err:?}");
    }
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "a request reached the local service"
    );
    // The same URL for a provider on this computer is fetched (and is no picture).
    let err = fetch_picture(
        &http,
        &format!("http://127.0.0.1:{port}/admin"),
        &format!("http://127.0.0.1:{port}"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "picture");
    assert!(seen.load(Ordering::SeqCst) >= 1);
}
