//! The last page of a sign-in (issue 18): it sends the browser on to the app at once and,
//! for when the browser does not hand the link over, offers "Open Pixie" and the link to
//! copy. The device flow's last page sends the person back to Pixie.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use pixie_dev_idp::{DevIdp, IdpConfig, PIXIE_REDIRECT_URI};
use sha2::{Digest, Sha256};

/// What the page says, as a browser reads it: the button's link, the meta refresh target,
/// the link to copy and the inline scripts.
struct Handoff {
    open: String,
    open_raw: String,
    refresh: String,
    copy: String,
    scripts: Vec<String>,
    html: String,
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    html.split(start).nth(1)?.split(end).next()
}

/// The three places the link stands, each as the page writes it (escaped alike).
fn read(html: String) -> Handoff {
    let raw = |start: &str| between(&html, start, "\"").expect(start).to_owned();
    Handoff {
        open: pixie_dev_idp::handoff_link(&html).expect("an Open button"),
        open_raw: raw("id=\"open-app\" href=\""),
        refresh: raw("http-equiv=\"refresh\" content=\"0;url="),
        copy: raw("id=\"handoff-link\" readonly value=\""),
        scripts: html
            .split("<script>")
            .skip(1)
            .filter_map(|r| r.split("</script>").next())
            .map(str::to_owned)
            .collect(),
        html,
    }
}

#[tokio::test]
async fn the_last_page_offers_open_pixie_and_the_link_to_copy_and_the_link_works() {
    let idp = idp().await;
    let url = authorize_url(&idp, &authorize_params("st-1", &[]));
    let resp = sign_in(&idp, &url, "allow").await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["referrer-policy"], "no-referrer");
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    let page = read(resp.text().await.unwrap());

    // One link, three ways: the automatic hand-off, the button, the field to copy.
    assert_eq!(page.open_raw, page.refresh);
    assert_eq!(page.open_raw, page.copy);
    assert!(
        page.open.starts_with(&format!("{PIXIE_REDIRECT_URI}?")),
        "{}",
        page.open
    );
    assert_eq!(param(&page.open, "state").as_deref(), Some("st-1"));
    assert_eq!(param(&page.open, "iss").as_deref(), Some(idp.issuer()));
    assert!(page.html.contains(">Open Pixie</a>"));
    assert!(page.html.contains("id=\"copy-link\""));
    assert!(page.html.contains("data-approved=\"true\""));

    // RFC 6749 §4.1.3: the code on the page is a real one.
    let code = param(&page.open, "code").expect("a code");
    let (status, body, _) = exchange(&idp, &code, None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string());

    // CSP: the page runs its one script, allowed by its hash, and nothing else.
    assert_eq!(page.scripts.len(), 1);
    let hash = STANDARD.encode(Sha256::digest(page.scripts[0].as_bytes()));
    assert!(
        csp.contains(&format!("script-src 'sha256-{hash}'")),
        "{csp}"
    );
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn a_declined_sign_in_hands_back_the_error_the_same_way() {
    let idp = idp().await;
    let url = authorize_url(&idp, &authorize_params("st-2", &[]));
    let resp = sign_in(&idp, &url, "deny").await;
    assert_eq!(resp.status(), 200);
    let page = read(resp.text().await.unwrap());
    assert_eq!(param(&page.open, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&page.open, "state").as_deref(), Some("st-2"));
    assert!(param(&page.open, "code").is_none());
    assert!(page.html.contains("data-approved=\"false\""));
    assert_eq!(page.open_raw, page.refresh);
}

#[tokio::test]
async fn everything_on_the_page_is_escaped() {
    let idp = idp().await;
    let hostile = "\"><script>alert(1)</script><img src=x onerror=alert(2)>'&";
    let url = authorize_url(&idp, &authorize_params(hostile, &[]));
    let resp = sign_in(&idp, &url, "allow").await;
    let page = read(resp.text().await.unwrap());
    // Only the page's own script; the state comes back whole in the link.
    assert_eq!(page.scripts.len(), 1);
    assert!(!page.html.contains("<img"));
    assert!(!page.html.contains("alert(1)"));
    assert_eq!(param(&page.open, "state").as_deref(), Some(hostile));
}

#[tokio::test]
async fn a_scripted_client_that_auto_approves_still_gets_a_redirect() {
    let idp = DevIdp::start(IdpConfig {
        auto_approve: Some("ada".into()),
        ..IdpConfig::default()
    })
    .await
    .unwrap();
    let url = authorize_url(&idp, &authorize_params("st-3", &[]));
    let resp = ua().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap();
    assert!(param(location, "code").is_some());
}

#[tokio::test]
async fn the_device_flow_ends_by_sending_the_person_back_to_pixie() {
    let idp = idp().await;
    let started = post_json(
        &format!("{}/device_authorization", idp.issuer()),
        &[("client_id", "pixie-desktop"), ("scope", "openid")],
    )
    .await;
    let complete = started["verification_uri_complete"].as_str().unwrap();
    let tx = tx_of(&get_text(complete).await);
    let done = ua()
        .post(format!("{}/device", idp.issuer()))
        .form(&[("tx", tx.as_str()), ("action", "allow"), ("user", "ada")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(done.contains("data-approved=\"true\""));
    assert!(done.contains("You can close this page and go back to Pixie."));
}
