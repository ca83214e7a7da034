//! Secrets never reach the provider's log. Alone in its test binary: the log subscriber is
//! this process's, and no other test's sign-in shares it.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;

/// A log writer tests can read back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_code_never_reaches_a_log() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // A current-thread runtime: the provider's tasks log through this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);
    let idp = idp().await;
    let url = authorize_url(&idp, &authorize_params("st-4", &[]));
    let html = sign_in(&idp, &url, "allow").await.text().await.unwrap();
    let link = pixie_dev_idp::handoff_link(&html).expect("an Open button");
    let code = param(&link, "code").unwrap();
    let (status, body, _) = exchange(&idp, &code, None).await;
    assert_eq!(status, 200);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("demo OpenID provider listening"),
        "the log was captured: {text}"
    );
    for secret in [code.as_str(), body["access_token"].as_str().unwrap()] {
        assert!(!text.contains(secret), "a secret in the log");
    }
}
