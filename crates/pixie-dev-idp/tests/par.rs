//! Pushed authorization requests (RFC 9126) at the demo provider: the push, the one-time
//! `request_uri` with a short life, and `/authorize` taking only what was pushed.

mod common;

use std::time::Duration;

use common::*;
use pixie_dev_idp::{DevIdp, IdpConfig, PIXIE_CLIENT_ID, PIXIE_REDIRECT_URI};
use url::Url;

/// The URL the browser gets after a push: `client_id` and `request_uri` only (§4).
fn browser_url(idp: &DevIdp, request_uri: &str) -> Url {
    let mut url = Url::parse(&format!("{}/authorize", idp.issuer())).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", PIXIE_CLIENT_ID)
        .append_pair("request_uri", request_uri);
    url
}

#[tokio::test]
async fn a_pushed_request_signs_in_through_a_one_time_request_uri() {
    let idp = idp().await;
    let meta: serde_json::Value = serde_json::from_str(&metadata(&idp).await).unwrap();
    assert_eq!(
        meta["pushed_authorization_request_endpoint"],
        format!("{}/par", idp.issuer())
    );
    // RFC 9126 §2.2: 201, a URN request_uri, a short life.
    let (status, body) = push(&idp, &authorize_params("st-par", &[])).await;
    assert_eq!(status, 201, "{body}");
    let request_uri = body["request_uri"].as_str().unwrap().to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert_eq!(body["expires_in"], 60);

    let url = browser_url(&idp, &request_uri);
    let html = sign_in(&idp, &url, "allow").await.text().await.unwrap();
    let link = pixie_dev_idp::handoff_link(&html).unwrap();
    assert!(link.starts_with(PIXIE_REDIRECT_URI));
    assert_eq!(param(&link, "state").as_deref(), Some("st-par"));
    let (status, _, _) = exchange(&idp, &param(&link, "code").unwrap(), None).await;
    assert_eq!(status, 200);

    // RFC 9126 §7.3: used once.
    let again = ua().get(url).send().await.unwrap();
    assert_eq!(again.status(), 400);
    assert!(again.text().await.unwrap().contains("invalid_request_uri"));
}

#[tokio::test]
async fn an_expired_request_uri_is_refused_at_the_client_s_redirect_uri() {
    let idp = idp().await;
    let (_, body) = push(&idp, &authorize_params("st-old", &[])).await;
    idp.clock().advance(Duration::from_secs(61));
    let url = browser_url(&idp, body["request_uri"].as_str().unwrap());
    let resp = ua().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(PIXIE_REDIRECT_URI));
    assert_eq!(
        param(&location, "error").as_deref(),
        Some("invalid_request_uri")
    );
    assert_eq!(param(&location, "state").as_deref(), Some("st-old"));
}

#[tokio::test]
async fn the_pushed_parameters_are_not_mixed_with_others_nor_used_by_another_client() {
    let idp = idp().await;
    let (_, body) = push(&idp, &authorize_params("st-mix", &[])).await;
    let request_uri = body["request_uri"].as_str().unwrap();
    // §4: a parameter beside client_id and request_uri.
    let mut mixed = browser_url(&idp, request_uri);
    mixed.query_pairs_mut().append_pair("state", "injected");
    let resp = ua().get(mixed).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    // Another client's id with this request_uri.
    let (_, body) = push(&idp, &authorize_params("st-other", &[])).await;
    let mut other = Url::parse(&format!("{}/authorize", idp.issuer())).unwrap();
    other
        .query_pairs_mut()
        .append_pair("client_id", "someone-else")
        .append_pair("request_uri", body["request_uri"].as_str().unwrap());
    assert_eq!(ua().get(other).send().await.unwrap().status(), 400);
}

/// Pixie's request with `name` set to `value`.
fn replaced(name: &str, value: &str) -> Vec<(String, String)> {
    authorize_params("s", &[])
        .into_iter()
        .map(|(k, v)| {
            if k == name {
                (k, value.to_owned())
            } else {
                (k, v)
            }
        })
        .collect()
}

#[tokio::test]
async fn a_bad_push_gets_an_error_answer() {
    let idp = idp().await;
    // What is pushed, and the status and error expected.
    type Case = (&'static str, Vec<(String, String)>, u16, &'static str);
    let cases: Vec<Case> = vec![
        (
            "request_uri in the push (§2.1)",
            authorize_params("s", &[("request_uri", "urn:x")]),
            400,
            "invalid_request",
        ),
        (
            "no PKCE",
            authorize_params("s", &[])
                .into_iter()
                .filter(|(k, _)| k != "code_challenge")
                .collect(),
            400,
            "invalid_request",
        ),
        (
            "unregistered redirect URI",
            replaced("redirect_uri", "https://evil.example/cb"),
            400,
            "invalid_request",
        ),
        (
            "unknown client",
            replaced("client_id", "someone-else"),
            401,
            "invalid_client",
        ),
    ];
    for (name, params, status, error) in cases {
        let (got, body) = push(&idp, &params).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(error)),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_provider_without_par_neither_offers_nor_serves_it() {
    let idp = idp_with(IdpConfig {
        par: false,
        ..IdpConfig::default()
    })
    .await;
    assert!(
        !metadata(&idp)
            .await
            .contains("pushed_authorization_request_endpoint")
    );
    let (status, _) = push(&idp, &authorize_params("s", &[])).await;
    assert!(status == 404 || status == 405, "{status}");
}
