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
    idp_with(IdpConfig::default()).await
}

pub async fn idp_with(config: IdpConfig) -> DevIdp {
    DevIdp::start(config).await.unwrap()
}

/// The body of GET `url`, as text.
pub async fn get_text(url: &str) -> String {
    ua().get(url).send().await.unwrap().text().await.unwrap()
}

/// The provider's discovery document, as text.
pub async fn metadata(idp: &DevIdp) -> String {
    get_text(&format!(
        "{}/.well-known/openid-configuration",
        idp.issuer()
    ))
    .await
}

/// POST `form` to `url`; the JSON answer.
pub async fn post_json(url: &str, form: &[(&str, &str)]) -> serde_json::Value {
    let body = ua()
        .post(url)
        .form(form)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    serde_json::from_slice(&body).unwrap_or_default()
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

/// A DPoP key as a client holds it (RFC 9449 §2), and the proofs it signs (§4.2).
pub struct Holder(p256::ecdsa::SigningKey);

impl Holder {
    /// A key from `seed` (any 32 bytes that make a valid P-256 scalar).
    pub fn new(seed: u8) -> Self {
        Self(p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap())
    }

    pub fn jwk(&self) -> serde_json::Value {
        let point = self.0.verifying_key().to_sec1_bytes();
        serde_json::json!({"kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])})
    }

    /// RFC 7638 §3: the key's thumbprint (`dpop_jkt`, `jkt`).
    pub fn jkt(&self) -> String {
        let j = self.jwk();
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            j["x"].as_str().unwrap(),
            j["y"].as_str().unwrap()
        );
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// A proof for `method` `url`, with `ath` of `token` and `nonce` when given, and `jti`.
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        nonce: Option<&str>,
        jti: &str,
    ) -> String {
        use p256::ecdsa::signature::Signer;
        let header = serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk()});
        let mut claims = serde_json::json!({"jti": jti, "htm": method, "htu": url,
            "iat": chrono::Utc::now().timestamp()});
        if let Some(t) = token {
            claims["ath"] = URL_SAFE_NO_PAD.encode(Sha256::digest(t.as_bytes())).into();
        }
        if let Some(n) = nonce {
            claims["nonce"] = n.into();
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig: p256::ecdsa::Signature = self.0.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }
}

/// The code in the hand-off page's link after signing in at `url` as Ada.
pub async fn code_for(idp: &DevIdp, url: &Url) -> String {
    let html = sign_in(idp, url, "allow").await.text().await.unwrap();
    let link = pixie_dev_idp::handoff_link(&html).expect("an Open button");
    param(&link, "code").expect("a code")
}

/// Push `params` to `/par`; the status and the JSON body.
pub async fn push(idp: &DevIdp, params: &[(String, String)]) -> (u16, serde_json::Value) {
    let resp = ua()
        .post(format!("{}/par", idp.issuer()))
        .form(params)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap_or_default();
    (status, body)
}

/// GET userinfo with `authorization` and an optional proof; the status and the
/// `WWW-Authenticate` and `DPoP-Nonce` headers.
pub async fn userinfo(
    idp: &DevIdp,
    authorization: &str,
    proof: Option<&str>,
) -> (u16, Option<String>, Option<String>) {
    let mut req = ua()
        .get(format!("{}/userinfo", idp.issuer()))
        .header("Authorization", authorization);
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    let resp = req.send().await.unwrap();
    let h = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    (
        resp.status().as_u16(),
        h("www-authenticate"),
        h("dpop-nonce"),
    )
}
