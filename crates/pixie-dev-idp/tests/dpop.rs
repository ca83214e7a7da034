//! DPoP (RFC 9449) at the demo provider's endpoints: the code bound by `dpop_jkt` (§10),
//! tokens bound to the proof's key (§5, §6), bound refresh tokens (§5), the resource's
//! checks (§7), nonces (§8, §9) and replays (§11.1).

mod common;

use common::*;
use pixie_dev_idp::{DevIdp, IdpConfig, PIXIE_CLIENT_ID};

fn token_url(idp: &DevIdp) -> String {
    format!("{}/token", idp.issuer())
}

fn userinfo_url(idp: &DevIdp) -> String {
    format!("{}/userinfo", idp.issuer())
}

/// A sign-in whose request named `holder`'s key (`dpop_jkt`); the code.
async fn bound_code(idp: &DevIdp, holder: &Holder) -> String {
    let jkt = holder.jkt();
    let url = authorize_url(idp, &authorize_params("st", &[("dpop_jkt", jkt.as_str())]));
    code_for(idp, &url).await
}

#[tokio::test]
async fn tokens_are_bound_to_the_proof_s_key_and_userinfo_wants_that_key() {
    let idp = idp().await;
    let alice = Holder::new(1);
    let code = bound_code(&idp, &alice).await;
    let proof = alice.proof("POST", &token_url(&idp), None, None, "t1");
    let (status, body, _) = exchange(&idp, &code, Some(&proof)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    let access = body["access_token"].as_str().unwrap();

    // §7.2: a bound token is not a bearer token.
    let (status, challenge, _) = userinfo(&idp, &format!("Bearer {access}"), None).await;
    assert_eq!(status, 401);
    assert!(challenge.unwrap().starts_with("DPoP "));
    // §7.1: the DPoP scheme with a proof of the key, naming the request and the token.
    let auth = format!("DPoP {access}");
    let url = userinfo_url(&idp);
    let good = alice.proof("GET", &url, Some(access), None, "u1");
    assert_eq!(userinfo(&idp, &auth, Some(&good)).await.0, 200);
    let refusals = [
        ("no proof", None),
        ("no ath", Some(alice.proof("GET", &url, None, None, "u2"))),
        (
            "another key",
            Some(Holder::new(2).proof("GET", &url, Some(access), None, "u3")),
        ),
        (
            "wrong htm",
            Some(alice.proof("POST", &url, Some(access), None, "u4")),
        ),
        ("replayed jti", Some(good.clone())),
    ];
    for (name, proof) in refusals {
        let (status, challenge, _) = userinfo(&idp, &auth, proof.as_deref()).await;
        assert_eq!(status, 401, "{name}");
        assert!(
            challenge.unwrap().contains("error=\"invalid_dpop_proof\""),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_code_asked_for_with_dpop_jkt_goes_only_with_that_key() {
    let idp = idp().await;
    let alice = Holder::new(1);
    let mallory = Holder::new(3);
    for (name, proof) in [
        (
            "another key (§10)",
            Some(mallory.proof("POST", &token_url(&idp), None, None, "m1")),
        ),
        ("no proof (§10)", None),
    ] {
        let code = bound_code(&idp, &alice).await;
        let (status, body, _) = exchange(&idp, &code, proof.as_deref()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_dpop_proof")),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_bad_proof_at_the_token_endpoint_is_invalid_dpop_proof() {
    let idp = idp().await;
    let alice = Holder::new(1);
    let other_url = format!("{}/userinfo", idp.issuer());
    let cases = [
        (
            "wrong htm",
            alice.proof("GET", &token_url(&idp), None, None, "a"),
        ),
        (
            "wrong htu",
            alice.proof("POST", &other_url, None, None, "b"),
        ),
        ("not a JWT", "not-a-jwt".to_owned()),
    ];
    for (name, proof) in cases {
        let code = bound_code(&idp, &alice).await;
        let (status, body, _) = exchange(&idp, &code, Some(&proof)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_dpop_proof")),
            "{name}"
        );
    }
    // §11.1: a proof is used once.
    let proof = alice.proof("POST", &token_url(&idp), None, None, "once");
    let (status, _, _) = exchange(&idp, &bound_code(&idp, &alice).await, Some(&proof)).await;
    assert_eq!(status, 200);
    let (status, body, _) = exchange(&idp, &bound_code(&idp, &alice).await, Some(&proof)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
}

#[tokio::test]
async fn a_bound_refresh_token_works_only_with_its_key() {
    let idp = idp().await;
    let alice = Holder::new(1);
    let code = bound_code(&idp, &alice).await;
    let proof = alice.proof("POST", &token_url(&idp), None, None, "r0");
    let (_, body, _) = exchange(&idp, &code, Some(&proof)).await;
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", PIXIE_CLIENT_ID),
    ];
    // §5: a thief without the key (no proof, or a proof of another key) gets nothing, and
    // the token stays good for its holder.
    let thief = Holder::new(4).proof("POST", &token_url(&idp), None, None, "r1");
    for proof in [None, Some(thief.as_str())] {
        let (status, body, _) = token(&idp, &form, proof).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_dpop_proof"))
        );
    }
    let proof = alice.proof("POST", &token_url(&idp), None, None, "r2");
    let (status, body, _) = token(&idp, &form, Some(&proof)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
}

#[tokio::test]
async fn a_provider_that_demands_nonces_gives_one_and_takes_it() {
    let idp = idp_with(IdpConfig {
        dpop_nonce: true,
        ..IdpConfig::default()
    })
    .await;
    let alice = Holder::new(1);
    let code = bound_code(&idp, &alice).await;
    // §8: 400 use_dpop_nonce with the nonce to use.
    let first = alice.proof("POST", &token_url(&idp), None, None, "n1");
    let (status, body, headers) = exchange(&idp, &code, Some(&first)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("use_dpop_nonce"))
    );
    let nonce = headers["dpop-nonce"].to_str().unwrap().to_owned();
    let second = alice.proof("POST", &token_url(&idp), None, Some(&nonce), "n2");
    let (status, body, _) = exchange(&idp, &code, Some(&second)).await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().unwrap();
    // §9: the resource asks with a 401 and a DPoP challenge.
    let auth = format!("DPoP {access}");
    let url = userinfo_url(&idp);
    let without = alice.proof("GET", &url, Some(access), None, "n3");
    let (status, challenge, nonce) = userinfo(&idp, &auth, Some(&without)).await;
    assert_eq!(status, 401);
    assert!(challenge.unwrap().contains("error=\"use_dpop_nonce\""));
    let with = alice.proof("GET", &url, Some(access), nonce.as_deref(), "n4");
    assert_eq!(userinfo(&idp, &auth, Some(&with)).await.0, 200);
}

#[tokio::test]
async fn revocation_takes_a_bound_token_with_its_proof() {
    let idp = idp().await;
    let alice = Holder::new(1);
    let code = bound_code(&idp, &alice).await;
    let proof = alice.proof("POST", &token_url(&idp), None, None, "v0");
    let (_, body, _) = exchange(&idp, &code, Some(&proof)).await;
    assert_eq!(idp.live_refresh_families(), 1);
    let revoke = format!("{}/revoke", idp.issuer());
    let resp = ua()
        .post(&revoke)
        .header("DPoP", alice.proof("POST", &revoke, None, None, "v1"))
        .form(&[
            ("token", body["refresh_token"].as_str().unwrap()),
            ("client_id", PIXIE_CLIENT_ID),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(idp.live_refresh_families(), 0);
}

#[tokio::test]
async fn a_provider_without_dpop_issues_bearer_tokens_and_says_nothing_of_it() {
    let idp = idp_with(IdpConfig {
        dpop: false,
        ..IdpConfig::default()
    })
    .await;
    assert!(
        !metadata(&idp)
            .await
            .contains("dpop_signing_alg_values_supported")
    );
    let alice = Holder::new(1);
    let code = bound_code(&idp, &alice).await;
    let proof = alice.proof("POST", &token_url(&idp), None, None, "b1");
    let (status, body, _) = exchange(&idp, &code, Some(&proof)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
}
