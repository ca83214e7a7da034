//! The validator, one defect at a time (RFC 9449 §4.3).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeDelta, Utc};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};

use super::rules::{IAT_MAX_AGE, IAT_MAX_AHEAD, NONCE_LIFE};
use super::state::DpopState;
use super::verify::Verified;
use super::*;

const HTU: &str = "http://127.0.0.1:4000/userinfo";
const TOKEN: &str = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";

/// RFC 7515 Appendix A.3's P-256 key.
fn key() -> SigningKey {
    let d = URL_SAFE_NO_PAD
        .decode("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI")
        .unwrap();
    SigningKey::from_slice(&d).unwrap()
}

fn public_jwk(key: &SigningKey) -> Value {
    let point = key.verifying_key().to_sec1_bytes();
    json!({"kty": "EC", "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])})
}

fn sign(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

/// A correct proof for GET `HTU` with `TOKEN`, then `tamper` applied to its parts.
fn proof(tamper: impl Fn(&mut Value, &mut Value)) -> String {
    let key = key();
    let mut header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": public_jwk(&key)});
    let mut claims = json!({
        "jti": "e1j3V_bKic8-LAEB", "htm": "GET", "htu": HTU,
        "iat": Utc::now().timestamp(),
        "ath": URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(TOKEN.as_bytes())),
    });
    tamper(&mut header, &mut claims);
    sign(&key, &header, &claims)
}

use sha2::Digest;

fn expect() -> Expect<'static> {
    Expect {
        method: "GET",
        htu: HTU,
        access_token: Some(TOKEN),
    }
}

#[test]
fn a_correct_proof_gives_the_rfc7638_thumbprint_of_its_key() {
    let v = verify(&proof(|_, _| {}), &expect(), Utc::now()).unwrap();
    // The thumbprint of RFC 7515 A.3's key, computed independently (as in the core's tests).
    assert_eq!(v.jkt, "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U");
    assert_eq!(v.jti, "e1j3V_bKic8-LAEB");
    // RFC 9449 §7.1's example: this token's ath, as the proof above carries it.
    let claims = proof(|_, _| {});
    let claims = claims.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    assert_eq!(claims["ath"], "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
    // The query and fragment of the request do not count (§4.2).
    let with_query = Expect {
        htu: "http://127.0.0.1:4000/userinfo?x=1",
        ..expect()
    };
    assert!(verify(&proof(|_, _| {}), &with_query, Utc::now()).is_ok());
}

#[test]
fn every_defect_is_refused_as_invalid_dpop_proof() {
    let other = SigningKey::from_slice(&[7u8; 32]).unwrap();
    let cases: Vec<(&str, String)> = vec![
        ("bad signature (signed by another key)", {
            let good = proof(|_, _| {});
            let (input, _) = good.rsplit_once('.').unwrap();
            let sig: Signature = other.sign(input.as_bytes());
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
        }),
        ("wrong htm", proof(|_, c| c["htm"] = json!("POST"))),
        (
            "wrong htu",
            proof(|_, c| c["htu"] = json!("http://127.0.0.1:4000/token")),
        ),
        (
            "missing ath",
            proof(|_, c| drop(c.as_object_mut().unwrap().remove("ath"))),
        ),
        (
            "ath of another token",
            proof(|_, c| {
                c["ath"] = json!(URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(b"another token")))
            }),
        ),
        (
            "missing jti",
            proof(|_, c| drop(c.as_object_mut().unwrap().remove("jti"))),
        ),
        ("typ JWT", proof(|h, _| h["typ"] = json!("JWT"))),
        ("alg none", proof(|h, _| h["alg"] = json!("none"))),
        ("alg RS256", proof(|h, _| h["alg"] = json!("RS256"))),
        (
            "private key in the jwk",
            proof(|h, _| h["jwk"]["d"] = json!("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI")),
        ),
        (
            "jwk of another key",
            proof(|h, _| h["jwk"] = public_jwk(&SigningKey::from_slice(&[7u8; 32]).unwrap())),
        ),
        (
            "no jwk",
            proof(|h, _| drop(h.as_object_mut().unwrap().remove("jwk"))),
        ),
        ("two parts", "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30".into()),
        ("unsigned", {
            let p = proof(|_, _| {});
            format!("{}.", p.rsplit_once('.').unwrap().0)
        }),
        ("huge", "a".repeat(5000)),
    ];
    for (name, jwt) in cases {
        let got = verify(&jwt, &expect(), Utc::now());
        assert!(
            matches!(got, Err(ProofError::Invalid(_))),
            "{name}: {got:?}"
        );
    }
}

#[test]
fn a_jti_is_used_once() {
    let mut state = DpopState::default();
    let now = Utc::now();
    let v = verify(&proof(|_, _| {}), &expect(), now).unwrap();
    state.admit(&v, false, now).unwrap();
    assert_eq!(
        state.admit(&v, false, now),
        Err(ProofError::Invalid(
            "This DPoP proof was already used (jti)."
        ))
    );
}

#[test]
fn a_demanded_nonce_must_be_one_of_ours_and_fresh() {
    let mut state = DpopState::default();
    let now = Utc::now();
    let nonce = state.new_nonce(now).unwrap();
    let without = verify(&proof(|_, _| {}), &expect(), now).unwrap();
    assert_eq!(state.admit(&without, true, now), Err(ProofError::UseNonce));
    let forged = verify(
        &proof(|_, c| {
            c["nonce"] = json!("a-nonce-nobody-gave");
            c["jti"] = json!("j2");
        }),
        &expect(),
        now,
    )
    .unwrap();
    assert_eq!(state.admit(&forged, true, now), Err(ProofError::UseNonce));
    let n = nonce.clone();
    let with = verify(
        &proof(move |_, c| {
            c["nonce"] = json!(n);
            c["jti"] = json!("j3");
        }),
        &expect(),
        now,
    )
    .unwrap();
    assert_eq!(state.admit(&with, true, now), Ok(()));
    // Past its life, the same nonce is refused.
    let later = now + NONCE_LIFE + TimeDelta::seconds(1);
    let stale = Verified {
        jti: "j4".into(),
        ..with
    };
    assert_eq!(state.admit(&stale, true, later), Err(ProofError::UseNonce));
}

#[test]
fn an_old_or_early_iat_is_vouched_for_only_by_a_fresh_nonce() {
    let now = Utc::now();
    for (name, iat) in [
        ("old iat", now - IAT_MAX_AGE - TimeDelta::seconds(5)),
        ("iat ahead", now + IAT_MAX_AHEAD + TimeDelta::seconds(5)),
    ] {
        let mut state = DpopState::default();
        let at = iat.timestamp();
        let v = verify(&proof(move |_, c| c["iat"] = json!(at)), &expect(), now).unwrap();
        assert!(!v.iat_in_window, "{name}");
        // §4.3 step 11: without a nonce of ours, the server asks for one (§8)…
        assert_eq!(
            state.admit(&v, false, now),
            Err(ProofError::UseNonce),
            "{name}"
        );
        // …and a fresh nonce stands for the proof's age.
        let nonce = state.new_nonce(now).unwrap();
        let with_nonce = Verified {
            nonce: Some(nonce),
            ..v
        };
        assert_eq!(state.admit(&with_nonce, false, now), Ok(()), "{name}");
    }
}
