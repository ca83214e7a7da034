//! The loopback redirect (RFC 8252 §7.3) against the demo provider, which accepts
//! `http://127.0.0.1:{any port}/oauth/callback/demo` for Pixie's client.

mod common;

use pixie_auth::loopback::LoopbackListener;
use pixie_dev_idp::IdpConfig;
use pixie_dev_idp::browser::{Answer, answer};

/// The demo provider's loopback callback path for Pixie (`…/oauth/callback/demo`).
const LOOPBACK_PATH: &str = "/oauth/callback/demo";

async fn get(url: &str) -> (u16, String) {
    let resp = reqwest::get(url).await.expect("the listener answers");
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn a_sign_in_through_the_loopback_redirect() {
    let (_idp, provider) = common::demo(IdpConfig::default()).await;
    let listener = LoopbackListener::bind(LOOPBACK_PATH).await.unwrap();
    let redirect_uri = listener.redirect_uri().clone();
    assert_eq!(redirect_uri.host_str(), Some("127.0.0.1"));
    let pending = provider.start_sign_in_to(&redirect_uri).unwrap();
    let auth_url = pending.authorization_url().to_string();
    assert!(auth_url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"));

    let (callback, browser) = tokio::join!(listener.accept(&pending), async {
        let base = redirect_uri.origin().ascii_serialization();
        // Stray requests are answered and ignored: a favicon, a forged callback.
        assert_eq!(get(&format!("{base}/favicon.ico")).await.0, 404);
        let (status, page) = get(&format!("{base}{LOOPBACK_PATH}?code=forged&state=forged")).await;
        assert_eq!(status, 400);
        assert!(page.contains("doesn't belong to a sign-in in progress"));
        // The real one.
        let location = answer(&auth_url, Answer::Preset("grace")).await.unwrap();
        assert!(location.starts_with(redirect_uri.as_str()));
        get(&location).await
    });
    assert_eq!(browser.0, 200);
    assert!(
        browser
            .1
            .contains("You're signed in to Pixie. You can close this tab.")
    );
    let callback = callback.expect("the redirect belongs to the sign-in");
    let done = provider.complete(pending, &callback).await.unwrap();
    assert_eq!(done.profile.name, "Grace Hopper");
    // The listener is gone with the sign-in.
    assert!(
        tokio::net::TcpStream::connect(redirect_uri.socket_addrs(|| None).unwrap()[0])
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_denial_is_shown_in_the_browser_and_ends_the_sign_in() {
    let (_idp, provider) = common::demo(IdpConfig::default()).await;
    let listener = LoopbackListener::bind(LOOPBACK_PATH).await.unwrap();
    let redirect_uri = listener.redirect_uri().clone();
    let pending = provider.start_sign_in_to(&redirect_uri).unwrap();
    let auth_url = pending.authorization_url().to_string();
    let (result, browser) = tokio::join!(listener.accept(&pending), async {
        let location = answer(&auth_url, Answer::Deny).await.unwrap();
        get(&location).await
    });
    assert_eq!(result.unwrap_err().code(), "access_denied");
    assert!(browser.1.contains("cancelled at the provider"));
}

/// Whether anything still listens on `url`'s port.
async fn listening(url: &url::Url) -> bool {
    tokio::net::TcpStream::connect(url.socket_addrs(|| None).unwrap()[0])
        .await
        .is_ok()
}

#[tokio::test]
async fn idle_connections_do_not_delay_the_real_redirect() {
    use pixie_auth::loopback::{Answer, Reply};
    let listener = LoopbackListener::bind("/oauth/callback").await.unwrap();
    let redirect_uri = listener.redirect_uri().clone();
    let addr = redirect_uri.socket_addrs(|| None).unwrap()[0];
    let serving =
        tokio::spawn(listener.serve(|url| async move { Reply::Finish(Answer::SignedIn, url) }));
    // Three connections that never send a byte: each may take 5 s to time out.
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    let page = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        get(&format!("{redirect_uri}?code=c&state=s")),
    )
    .await
    .expect("the redirect is answered while idle connections wait");
    let waited = started.elapsed();
    assert_eq!(page.0, 200);
    let url = serving.await.unwrap().unwrap();
    assert_eq!(url, format!("{redirect_uri}?code=c&state=s"));
    assert!(
        waited < std::time::Duration::from_secs(2),
        "waited {waited:?}"
    );
    // Finished: the port is closed, idle connections or not.
    assert!(!listening(&redirect_uri).await);
    drop(idle);
}

#[tokio::test]
async fn an_aborted_listener_closes_its_port() {
    use pixie_auth::loopback::{Answer, Reply};
    let listener = LoopbackListener::bind("/oauth/callback").await.unwrap();
    let redirect_uri = listener.redirect_uri().clone();
    let serving =
        tokio::spawn(listener.serve(|_url| async { Reply::<()>::Listen(Answer::Ignored) }));
    // A stray redirect is answered and the listener goes on.
    let (status, page) = get(&format!("{redirect_uri}?code=x&state=y")).await;
    assert_eq!(status, 400);
    assert!(page.contains("doesn't belong to a sign-in in progress"));
    assert!(listening(&redirect_uri).await);
    // A sign-in that ends another way (pasted link, cancel, timeout) aborts the task.
    serving.abort();
    assert!(serving.await.unwrap_err().is_cancelled());
    assert!(!listening(&redirect_uri).await);
}

#[tokio::test]
async fn an_oversized_request_is_refused_without_ending_the_listener() {
    use pixie_auth::loopback::{Answer, Reply};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = LoopbackListener::bind("/oauth/callback").await.unwrap();
    let redirect_uri = listener.redirect_uri().clone();
    let serving =
        tokio::spawn(listener.serve(|url| async move { Reply::Finish(Answer::SignedIn, url) }));
    // A request head beyond 8 KiB (with no end in sight) is answered 400 and closed.
    let mut big = tokio::net::TcpStream::connect(redirect_uri.socket_addrs(|| None).unwrap()[0])
        .await
        .unwrap();
    let head = format!("GET /oauth/callback?{} HTTP/1.1\r\n", "a".repeat(9 * 1024));
    let _ = big.write_all(head.as_bytes()).await;
    let mut answer = String::new();
    // At once: the limit, not the 5 s read timeout, ends it.
    tokio::time::timeout(
        std::time::Duration::from_secs(2),
        big.read_to_string(&mut answer),
    )
    .await
    .expect("refused at once")
    .ok();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    // The real redirect still gets through.
    assert_eq!(get(&format!("{redirect_uri}?code=c&state=s")).await.0, 200);
    assert!(serving.await.unwrap().is_ok());
}
