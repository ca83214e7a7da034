//! What the provider's own tests share: a client that plays Pixie over plain HTTP.
#![allow(dead_code)] // each test file uses its own subset

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pixie_dev_idp::{DevIdp, IdpConfig, PIXIE_CLIENT_ID, PIXIE_REDIRECT_URI};
use sha2::{Digest, Sha256};
use url::Url;

/// A PKCE verifier (RFC 7636 §4.1) and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

pub fn challenge() -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()))
}

/// An HTTP client that never follows redirects (a browser hands other schemes to the OS).
pub fn ua() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn idp() -> DevIdp {
    DevIdp::start(IdpConfig::default()).await.unwrap()
}

/// The authorization request Pixie would send, with `extra` parameters.
pub fn authorize_params(state: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", PIXIE_CLIENT_ID),
        ("redirect_uri", PIXIE_REDIRECT_URI),
        ("scope", "openid profile email"),
        ("state", state),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    p.push(("code_challenge".into(), challenge()));
    p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    p
}

pub fn authorize_url(idp: &DevIdp, params: &[(String, String)]) -> Url {
    let mut url = Url::parse(&format!("{}/authorize", idp.issuer())).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    url
}

/// The `tx` of a sign-in page.
pub fn tx_of(html: &str) -> String {
    html.split("name=\"tx\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the page has a sign-in form")
        .to_owned()
}

/// Open `url` in the browser and answer the sign-in page with `action` as Ada; the
/// provider's answer to the form.
pub async fn sign_in(idp: &DevIdp, url: &Url, action: &str) -> reqwest::Response {
    let ua = ua();
    let page = ua.get(url.clone()).send().await.unwrap();
    assert_eq!(page.status(), 200, "the sign-in page");
    let tx = tx_of(&page.text().await.unwrap());
    ua.post(format!("{}/authorize", idp.issuer()))
        .form(&[("tx", tx.as_str()), ("action", action), ("user", "ada")])
        .send()
        .await
        .unwrap()
}

/// The value of query parameter `name` of `url`.
pub fn param(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// POST a form to the token endpoint; the status and the JSON body.
pub async fn token(
    idp: &DevIdp,
    form: &[(&str, &str)],
    dpop: Option<&str>,
) -> (u16, serde_json::Value, reqwest::header::HeaderMap) {
    let mut req = ua().post(format!("{}/token", idp.issuer())).form(form);
    if let Some(proof) = dpop {
        req = req.header("DPoP", proof);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap_or_default();
    (status, body, headers)
}

/// Exchange `code` as Pixie does.
pub async fn exchange(
    idp: &DevIdp,
    code: &str,
    dpop: Option<&str>,
) -> (u16, serde_json::Value, reqwest::header::HeaderMap) {
    token(
        idp,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", PIXIE_REDIRECT_URI),
            ("client_id", PIXIE_CLIENT_ID),
            ("code_verifier", VERIFIER),
        ],
        dpop,
    )
    .await
}
