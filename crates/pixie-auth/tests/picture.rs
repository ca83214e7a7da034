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

#[tokio::test]
async fn only_a_small_copy_is_kept_never_the_original() {
    // A 1000×600 PNG from a provider on this computer.
    let image = image::RgbImage::from_fn(1000, 600, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let mut original = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(
            &mut std::io::Cursor::new(&mut original),
            image::ImageFormat::Png,
        )
        .unwrap();
    let served = original.clone();
    let app = axum::Router::new().route(
        "/avatar.png",
        axum::routing::get(move || {
            let body = served.clone();
            async move { ([("content-type", "image/png")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let data_url = fetch_picture(
        &HttpClient::new().unwrap(),
        &format!("{base}/avatar.png"),
        &base,
    )
    .await
    .unwrap();
    let b64 = data_url.strip_prefix("data:image/png;base64,").unwrap();
    use base64::Engine;
    let kept = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_ne!(kept, original);
    let kept = image::load_from_memory(&kept).unwrap();
    assert_eq!((kept.width(), kept.height()), (192, 115));
}
