//! DPoP (RFC 9449) as this provider checks it: one proof per request (§4.3), the key it
//! names bound to the tokens (§5, §6.1 `jkt`), `jti` replay (§11.1), server nonces (§8, §9)
//! and `ath` at the resource (§7). The checks of one proof are a pure function ([`verify`]);
//! what needs memory (nonces, used `jti`s) is [`DpopState`].

pub(crate) mod rules;
pub(crate) mod state;
mod verify;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::routes::answers::token_error;
use crate::{Shared, fault_hooks};

pub(crate) use rules::{ALG, ProofError};
pub(crate) use verify::{Expect, verify};

/// The request's proof, checked for `expect`: the key's thumbprint (`jkt`), or `None` when
/// the request has no proof or this provider does not do DPoP.
pub(crate) fn check(
    s: &Shared,
    headers: &HeaderMap,
    expect: &Expect<'_>,
) -> Result<Option<String>, ProofError> {
    if !s.config.dpop {
        return Ok(None);
    }
    let mut proofs = headers.get_all("dpop").iter();
    let Some(first) = proofs.next() else {
        return Ok(None);
    };
    // RFC 9449 §4.3 step 1: exactly one DPoP header.
    if proofs.next().is_some() {
        return Err(ProofError::Invalid("More than one DPoP header."));
    }
    let jwt = first
        .to_str()
        .map_err(|_| ProofError::Invalid("The DPoP header is not text."))?;
    let now = s.clock.now();
    let proof = verify(jwt, expect, now)?;
    if let Some(e) = fault_hooks::dpop_proof(s) {
        return Err(e);
    }
    let nonce_required = s.config.dpop_nonce;
    s.store
        .lock()
        .map_err(|_| ProofError::Invalid("The provider's store is unavailable."))?
        .dpop
        .admit(&proof, nonce_required, now)?;
    Ok(Some(proof.jkt))
}

/// A fresh nonce for a `use_dpop_nonce` answer.
fn fresh_nonce(s: &Shared) -> Option<HeaderValue> {
    let now = s.clock.now();
    let nonce = s.store.lock().ok()?.dpop.new_nonce(now)?;
    HeaderValue::from_str(&nonce).ok()
}

/// The authorization server's answer to a refused proof: RFC 9449 §5.2 `invalid_dpop_proof`
/// or §8 `use_dpop_nonce` with a `DPoP-Nonce` header (400 and a JSON body).
pub(crate) fn token_refusal(s: &Shared, e: ProofError) -> Response {
    match e {
        ProofError::Invalid(why) => token_error(StatusCode::BAD_REQUEST, "invalid_dpop_proof", why),
        ProofError::UseNonce => {
            let mut resp = token_error(
                StatusCode::BAD_REQUEST,
                "use_dpop_nonce",
                "Authorization server requires nonce in DPoP proof.",
            );
            if let Some(n) = fresh_nonce(s) {
                resp.headers_mut().insert("DPoP-Nonce", n);
            }
            resp
        }
    }
}

/// The resource server's answer (RFC 9449 §7.1, §9): 401 with a `DPoP` challenge naming the
/// error and the algorithms, and a `DPoP-Nonce` when one is demanded.
pub(crate) fn resource_refusal(s: &Shared, error: &str, nonce: bool) -> Response {
    let mut resp = StatusCode::UNAUTHORIZED.into_response();
    let challenge = format!("DPoP error=\"{error}\", algs=\"{ALG}\"");
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    if nonce && let Some(n) = fresh_nonce(s) {
        resp.headers_mut().insert("DPoP-Nonce", n);
    }
    resp
}

#[cfg(test)]
mod tests;
