//! OpenID Connect Core §5.3: `/userinfo`, a protected resource that takes bearer tokens
//! (RFC 6750) and DPoP-bound ones (RFC 9449 §7).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::dpop::{self, ProofError};
use crate::store::AccessGrant;
use crate::{Shared, claims, fault_hooks};

/// How the access token was presented.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scheme {
    /// RFC 6750 §2.1.
    Bearer,
    /// RFC 9449 §7.1.
    Dpop,
}

/// The scheme and token of the `Authorization` header.
fn presented(headers: &HeaderMap) -> Option<(Scheme, &str)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Scheme::Dpop
    } else {
        return None;
    };
    Some((scheme, token.trim()))
}

/// RFC 6750 §3: 401 with the error in a `Bearer` challenge.
fn unauthorized(error: &str) -> Response {
    let mut resp = StatusCode::UNAUTHORIZED.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("Bearer error=\"{error}\"")) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// OIDC Core §5.3.2: the profile of the access token's person.
pub(super) async fn userinfo(State(s): AppState, method: Method, headers: HeaderMap) -> Response {
    let Some((scheme, token)) = presented(&headers) else {
        return unauthorized("invalid_request");
    };
    let now = s.clock.now();
    let grant = s
        .store
        .lock()
        .ok()
        .and_then(|st| st.access.get(token).cloned());
    let Some(grant) = grant.filter(|g| g.expires > now) else {
        return match scheme {
            Scheme::Dpop => dpop::resource_refusal(&s, "invalid_token", false),
            Scheme::Bearer => unauthorized("invalid_token"),
        };
    };
    if let Err(refused) = check_binding(&s, &grant, scheme, token, &method, &headers) {
        return refused.into_response(&s);
    }
    let mut body = claims::profile(&s, &grant.user);
    fault_hooks::userinfo(&s, &mut body);
    Json(body).into_response()
}

/// Why a request at the resource was refused.
enum Refused {
    /// RFC 6750 §3.1 (the `Bearer` scheme).
    Bearer(&'static str),
    /// RFC 9449 §7.1 (the `DPoP` scheme), with a nonce to use when one is demanded (§9).
    Dpop(&'static str, bool),
}

impl Refused {
    fn into_response(self, s: &Shared) -> Response {
        match self {
            Refused::Bearer(error) => unauthorized(error),
            Refused::Dpop(error, nonce) => dpop::resource_refusal(s, error, nonce),
        }
    }
}

/// RFC 9449 §7.1–7.2: a bound token comes with the `DPoP` scheme and a proof of its key that
/// names this request and the token (`ath`); a bearer token presented with the `DPoP` scheme
/// needs a valid proof too.
fn check_binding(
    s: &Shared,
    grant: &AccessGrant,
    scheme: Scheme,
    token: &str,
    method: &Method,
    headers: &HeaderMap,
) -> Result<(), Refused> {
    if scheme == Scheme::Bearer {
        // RFC 9449 §7.2: a DPoP-bound token is never a bearer token.
        return match grant.jkt {
            Some(_) => Err(Refused::Dpop("invalid_token", false)),
            None => Ok(()),
        };
    }
    if !s.config.dpop {
        return Err(Refused::Bearer("invalid_request"));
    }
    let htu = format!("{}/userinfo", s.issuer);
    let expect = dpop::Expect {
        method: method.as_str(),
        htu: &htu,
        access_token: Some(token),
    };
    match dpop::check(s, headers, &expect) {
        Err(ProofError::UseNonce) => Err(Refused::Dpop("use_dpop_nonce", true)),
        Err(ProofError::Invalid(_)) | Ok(None) => Err(Refused::Dpop("invalid_dpop_proof", false)),
        // RFC 9449 §7.1: the proof's key is the one the token is bound to.
        Ok(Some(jkt)) if grant.jkt.as_ref().is_some_and(|b| *b != jkt) => {
            Err(Refused::Dpop("invalid_dpop_proof", false))
        }
        Ok(Some(_)) => Ok(()),
    }
}
