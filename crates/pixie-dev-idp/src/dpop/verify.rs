//! RFC 9449 §4.3: the checks of one DPoP proof that need nothing but the proof, the request
//! and the time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone, Utc};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use super::rules::{ALG, IAT_MAX_AGE, IAT_MAX_AHEAD, ProofError};

/// Longest proof accepted (real ones are well under 1 KiB).
const MAX_PROOF: usize = 4096;

/// The request a proof must name.
pub(crate) struct Expect<'a> {
    /// `htm`: the request's method.
    pub method: &'a str,
    /// `htu`: the endpoint's URL.
    pub htu: &'a str,
    /// The access token presented with the request (§4.3 step 12: `ath`).
    pub access_token: Option<&'a str>,
}

/// A proof that passed every check of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verified {
    /// RFC 7638 thumbprint of the proof's key (§6.1 `jkt`).
    pub jkt: String,
    pub jti: String,
    /// Whether `iat` is inside this provider's window (§4.3 step 11). When it is not, only
    /// a fresh nonce of ours can vouch for the proof's age.
    pub iat_in_window: bool,
    pub nonce: Option<String>,
}

fn invalid(why: &'static str) -> ProofError {
    ProofError::Invalid(why)
}

fn json_part(part: &str) -> Result<Value, ProofError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| invalid("The DPoP proof is not base64url."))?;
    serde_json::from_slice(&bytes).map_err(|_| invalid("The DPoP proof is not JSON."))
}

/// RFC 9449 §4.3 steps 2–9 and 12, and whether `iat` is in the window (step 11). The nonce
/// (step 10), the proof's age when `iat` is not in the window (step 11: "a server managed
/// timestamp via the nonce claim") and `jti` replay need memory: see `DpopState::admit`.
pub(crate) fn verify(
    jwt: &str,
    expect: &Expect<'_>,
    now: DateTime<Utc>,
) -> Result<Verified, ProofError> {
    if jwt.len() > MAX_PROOF {
        return Err(invalid("The DPoP proof is too long."));
    }
    // §4.3 step 2: a well-formed JWT (RFC 7515 compact serialization).
    let mut parts = jwt.split('.');
    let (Some(h), Some(c), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("The DPoP proof is not a JWT."));
    };
    let header = json_part(h)?;
    let claims = json_part(c)?;
    let key = check_header(&header)?;
    // §4.3 step 7: the signature verifies with the header's key.
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or(invalid("The DPoP proof's signature is malformed."))?;
    key.verify(format!("{h}.{c}").as_bytes(), &sig)
        .map_err(|_| invalid("The DPoP proof's signature does not verify."))?;
    let iat = check_claims(&claims, expect)?;
    Ok(Verified {
        jkt: thumbprint(&header["jwk"]),
        jti: claims["jti"].as_str().unwrap_or_default().to_owned(),
        iat_in_window: iat >= now - IAT_MAX_AGE && iat <= now + IAT_MAX_AHEAD,
        nonce: claims["nonce"].as_str().map(str::to_owned),
    })
}

/// §4.3 steps 4–6: `typ` is `dpop+jwt`, `alg` is ES256 (asymmetric, never `none`), `jwk` is
/// a public P-256 key (no private member). Returns that key.
fn check_header(header: &Value) -> Result<VerifyingKey, ProofError> {
    if header["typ"] != "dpop+jwt" {
        return Err(invalid("The DPoP proof's typ is not dpop+jwt."));
    }
    if header["alg"] != ALG {
        return Err(invalid("The DPoP proof is not signed with ES256."));
    }
    let jwk = &header["jwk"];
    if jwk.get("d").is_some() {
        return Err(invalid("The DPoP proof's jwk holds a private key."));
    }
    if jwk["kty"] != "EC" || jwk["crv"] != "P-256" {
        return Err(invalid("The DPoP proof's jwk is not a P-256 key."));
    }
    let coordinate = |name: &str| {
        jwk[name]
            .as_str()
            .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
            .filter(|b| b.len() == 32)
    };
    let (Some(x), Some(y)) = (coordinate("x"), coordinate("y")) else {
        return Err(invalid("The DPoP proof's jwk has no usable x and y."));
    };
    let sec1 = [&[4u8][..], &x, &y].concat();
    VerifyingKey::from_sec1_bytes(&sec1)
        .map_err(|_| invalid("The DPoP proof's jwk is not on P-256."))
}

/// §4.3 steps 8–9, 12: `jti` present, `htm` and `htu` name this request, `ath` the hash of
/// the presented access token; `iat` present. Returns `iat`.
fn check_claims(claims: &Value, expect: &Expect<'_>) -> Result<DateTime<Utc>, ProofError> {
    if !claims["jti"]
        .as_str()
        .is_some_and(|j| !j.is_empty() && j.len() <= 256)
    {
        return Err(invalid("The DPoP proof has no jti."));
    }
    // §4.3 step 8: the method.
    if claims["htm"] != expect.method {
        return Err(invalid("The DPoP proof names another HTTP method (htm)."));
    }
    // §4.3 step 9: the URI, without query and fragment (§4.2).
    let htu = claims["htu"].as_str().and_then(|u| Url::parse(u).ok());
    if htu.map(without_query).as_ref() != Url::parse(expect.htu).ok().map(without_query).as_ref() {
        return Err(invalid("The DPoP proof names another URI (htu)."));
    }
    // §4.2: `iat`, a NumericDate (its window is judged by the caller).
    let iat = claims["iat"]
        .as_i64()
        .and_then(|t| Utc.timestamp_opt(t, 0).single())
        .ok_or(invalid("The DPoP proof has no iat."))?;
    // §4.3 step 12 / §7: with an access token, `ath` is its SHA-256.
    if let Some(token) = expect.access_token {
        let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()));
        if claims["ath"] != ath.as_str() {
            return Err(invalid(
                "The DPoP proof's ath does not match the access token.",
            ));
        }
    }
    Ok(iat)
}

fn without_query(mut u: Url) -> Url {
    u.set_query(None);
    u.set_fragment(None);
    u
}

/// RFC 7638 §3 (members for EC: crv, kty, x, y in that order, no whitespace).
pub(crate) fn thumbprint(jwk: &Value) -> String {
    let canonical = format!(
        r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
        jwk["crv"].as_str().unwrap_or_default(),
        jwk["kty"].as_str().unwrap_or_default(),
        jwk["x"].as_str().unwrap_or_default(),
        jwk["y"].as_str().unwrap_or_default()
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}
