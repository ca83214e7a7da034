//! One DPoP proof (RFC 9449 §4): a JWT signed with the account's key that names the request
//! it goes with.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use url::Url;

use super::error::DpopError;
use super::key::DpopKey;

/// What one proof says about its request.
pub struct ProofFor<'a> {
    /// RFC 9449 §4.2 `htm`: the HTTP method.
    pub method: &'a str,
    /// RFC 9449 §4.2 `htu`: the target URI (query and fragment are dropped here).
    pub uri: &'a Url,
    /// RFC 9449 §4.2 `ath`: the access token presented with the request, if any.
    pub access_token: Option<&'a str>,
    /// RFC 9449 §8/§9: the server's latest `DPoP-Nonce`.
    pub nonce: Option<&'a str>,
    /// Seconds since the epoch (`iat`).
    pub now: i64,
}

/// RFC 9449 §4.2: `htu` is the target URI without query and fragment.
pub fn htu(uri: &Url) -> String {
    let mut u = uri.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// RFC 9449 §4.2 `ath`: base64url of the SHA-256 of the access token's ASCII.
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// RFC 9449 §4.2: header `typ: dpop+jwt`, `alg: ES256`, the public `jwk`; claims `jti`
/// (random, 128 bits), `htm`, `htu`, `iat`, and `ath`/`nonce` when they apply.
pub fn proof(key: &DpopKey, p: &ProofFor<'_>) -> Result<String, DpopError> {
    let mut jti = [0u8; 16];
    getrandom::fill(&mut jti).map_err(|e| DpopError::Key(e.to_string()))?;
    let header = serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.public_jwk()});
    let mut claims = serde_json::json!({
        "jti": URL_SAFE_NO_PAD.encode(jti),
        "htm": p.method,
        "htu": htu(p.uri),
        "iat": p.now,
    });
    if let Some(token) = p.access_token {
        claims["ath"] = ath(token).into();
    }
    if let Some(nonce) = p.nonce {
        claims["nonce"] = nonce.into();
    }
    Ok(key.sign_jwt(&header, &claims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::{Signature, VerifyingKey};

    fn part(jwt: &str, i: usize) -> serde_json::Value {
        let b = URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(i).unwrap())
            .unwrap();
        serde_json::from_slice(&b).unwrap()
    }

    #[test]
    fn a_proof_names_its_request_and_verifies_with_its_own_jwk() {
        let key = DpopKey::generate().unwrap();
        let uri = Url::parse("https://rs.example/userinfo?x=1#frag").unwrap();
        let jwt = proof(
            &key,
            &ProofFor {
                method: "GET",
                uri: &uri,
                access_token: Some("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
                nonce: Some("eyJ7S_zG.eyJH0-Z.HX4w-7v"),
                now: 1_562_262_616,
            },
        )
        .unwrap();
        let (h, c) = (part(&jwt, 0), part(&jwt, 1));
        assert_eq!(
            (h["typ"].as_str(), h["alg"].as_str()),
            (Some("dpop+jwt"), Some("ES256"))
        );
        assert!(h["jwk"].get("d").is_none(), "never the private key");
        assert_eq!(c["htm"], "GET");
        assert_eq!(c["htu"], "https://rs.example/userinfo");
        assert_eq!(c["iat"], 1_562_262_616);
        // RFC 9449 §7.1 example: this token's ath.
        assert_eq!(c["ath"], "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
        assert_eq!(c["nonce"], "eyJ7S_zG.eyJH0-Z.HX4w-7v");
        assert_eq!(c["jti"].as_str().map(str::len), Some(22));

        let x = URL_SAFE_NO_PAD
            .decode(h["jwk"]["x"].as_str().unwrap())
            .unwrap();
        let y = URL_SAFE_NO_PAD
            .decode(h["jwk"]["y"].as_str().unwrap())
            .unwrap();
        let sec1 = [&[4u8][..], &x, &y].concat();
        let vk = VerifyingKey::from_sec1_bytes(&sec1).unwrap();
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let sig = Signature::from_slice(&URL_SAFE_NO_PAD.decode(sig).unwrap()).unwrap();
        assert!(vk.verify(input.as_bytes(), &sig).is_ok());
    }

    #[test]
    fn two_proofs_never_share_a_jti_and_token_requests_have_no_ath() {
        let key = DpopKey::generate().unwrap();
        let uri = Url::parse("https://as.example/token").unwrap();
        let p = ProofFor {
            method: "POST",
            uri: &uri,
            access_token: None,
            nonce: None,
            now: 1,
        };
        let (a, b) = (proof(&key, &p).unwrap(), proof(&key, &p).unwrap());
        assert_ne!(part(&a, 1)["jti"], part(&b, 1)["jti"]);
        assert!(part(&a, 1).get("ath").is_none());
        assert!(part(&a, 1).get("nonce").is_none());
    }
}
