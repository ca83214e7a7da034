//! An HTTP client that sends a DPoP proof with every request (RFC 9449 §4), presents a bound
//! access token with the `DPoP` scheme (§7.1), remembers each server's `DPoP-Nonce` and
//! answers a nonce challenge once (§8 authorization server, §9 resource server). It wraps
//! the core's [`HttpClient`], so every limit of that client still applies, and it plugs into
//! `openidconnect`'s requests unchanged.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use openidconnect::http::{HeaderValue, StatusCode, header};
use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};
use url::Url;

use super::error::DpopError;
use super::key::DpopKey;
use super::proof::{ProofFor, proof};
use super::state::DpopState;
use crate::http::{HttpClient, HttpError};
use crate::provider::Clock;

/// What the last request through this client came to, for the flow record and for errors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DpopOutcome {
    /// A nonce challenge was answered with a second proof.
    pub retried_with_nonce: bool,
    /// The server refused the proof or the nonce after everything was tried.
    pub failure: Option<DpopError>,
    /// `htu` of the last proof (public: it is the endpoint's URL).
    pub htu: Option<String>,
}

/// One request path with DPoP. Owns (cheap clones of) what it needs, so the futures of
/// `openidconnect`'s requests through it are `Send` and `'static`-friendly.
pub struct DpopClient {
    http: HttpClient,
    key: DpopKey,
    state: Arc<DpopState>,
    clock: Clock,
    endpoint: &'static str,
    outcome: Mutex<DpopOutcome>,
}

impl DpopClient {
    pub(crate) fn new(
        http: HttpClient,
        key: DpopKey,
        state: Arc<DpopState>,
        clock: Clock,
        endpoint: &'static str,
    ) -> Self {
        Self {
            http,
            key,
            state,
            clock,
            endpoint,
            outcome: Mutex::new(DpopOutcome::default()),
        }
    }

    /// What the last request through this client came to: whether a nonce challenge was
    /// answered, the refusal if any, and the proof's `htu`.
    pub fn outcome(&self) -> DpopOutcome {
        self.outcome.lock().map(|o| o.clone()).unwrap_or_default()
    }

    fn note(&self, f: impl FnOnce(&mut DpopOutcome)) {
        if let Ok(mut o) = self.outcome.lock() {
            f(&mut o);
        }
    }

    /// Send `request` with a proof; on a nonce challenge that brought a new nonce, once more.
    pub async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let url = Url::parse(&request.uri().to_string())
            .map_err(|e| HttpError::Other(format!("bad URL: {e}")))?;
        let origin = url.origin().ascii_serialization();
        let sent_nonce = self.state.nonce(&origin);
        let first = self.send(&request, &url, &origin).await?;
        let challenged = nonce_challenge(&first);
        // RFC 9449 §8.2 / §9.1: retry once, and only with a nonce the server just gave.
        let response = if challenged && self.state.nonce(&origin) != sent_nonce {
            self.note(|o| o.retried_with_nonce = true);
            self.send(&request, &url, &origin).await?
        } else {
            first
        };
        let failure = if nonce_challenge(&response) {
            Some(DpopError::NonceRefused {
                endpoint: self.endpoint,
            })
        } else {
            proof_refusal(&response, self.endpoint)
        };
        self.note(|o| o.failure = failure);
        Ok(response)
    }

    async fn send(
        &self,
        request: &HttpRequest,
        url: &Url,
        origin: &str,
    ) -> Result<HttpResponse, HttpError> {
        let mut out = HttpRequest::new(request.body().clone());
        *out.method_mut() = request.method().clone();
        *out.uri_mut() = request.uri().clone();
        *out.headers_mut() = request.headers().clone();
        // RFC 9449 §7.1: a DPoP-bound access token goes with the `DPoP` scheme, never as
        // a bearer token; §4.2: its hash is `ath`.
        let token = bearer_token(request);
        if let Some(token) = &token {
            let value = HeaderValue::from_str(&format!("DPoP {token}"))
                .map_err(|_| HttpError::Other("the access token is not a header value".into()))?;
            out.headers_mut().insert(header::AUTHORIZATION, value);
        }
        let nonce = self.state.nonce(origin);
        let jwt = proof(
            &self.key,
            &ProofFor {
                method: request.method().as_str(),
                uri: url,
                access_token: token.as_deref(),
                nonce: nonce.as_deref(),
                now: (self.clock)().timestamp(),
            },
        )
        .map_err(|e| HttpError::Other(e.to_string()))?;
        self.note(|o| o.htu = Some(super::proof::htu(url)));
        let value = HeaderValue::from_str(&jwt)
            .map_err(|_| HttpError::Other("the DPoP proof is not a header value".into()))?;
        out.headers_mut().insert("DPoP", value);
        let response = self.http.execute(out).await?;
        // RFC 9449 §8.2: a server may hand a new nonce with any answer; keep the latest.
        if let Some(n) = response
            .headers()
            .get("DPoP-Nonce")
            .and_then(|v| v.to_str().ok())
        {
            self.state.remember_nonce(origin, n);
        }
        Ok(response)
    }
}

/// The token of an `Authorization: Bearer …` header that `openidconnect` wrote.
fn bearer_token(request: &HttpRequest) -> Option<String> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The `error` of a JSON error body (RFC 6749 §5.2).
fn json_error(response: &HttpResponse) -> Option<(String, Option<String>)> {
    #[derive(serde::Deserialize)]
    struct Body {
        error: String,
        error_description: Option<String>,
    }
    let b: Body = serde_json::from_slice(response.body()).ok()?;
    Some((b.error, b.error_description))
}

/// The `error` parameter of a `WWW-Authenticate: DPoP …` challenge (RFC 9449 §7.1, §9).
fn dpop_challenge_error(response: &HttpResponse) -> Option<String> {
    response
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| {
            v.split_whitespace()
                .next()
                .is_some_and(|s| s.eq_ignore_ascii_case("dpop"))
        })
        .find_map(|v| {
            let start = v.find("error=\"")? + "error=\"".len();
            let end = start + v[start..].find('"')?;
            Some(v[start..end].to_owned())
        })
}

/// RFC 9449 §8 (400 `use_dpop_nonce` from the authorization server) or §9 (401 with
/// `WWW-Authenticate: DPoP error="use_dpop_nonce"` from a resource server).
fn nonce_challenge(response: &HttpResponse) -> bool {
    match response.status() {
        StatusCode::BAD_REQUEST => json_error(response).is_some_and(|(e, _)| e == "use_dpop_nonce"),
        StatusCode::UNAUTHORIZED => {
            dpop_challenge_error(response).as_deref() == Some("use_dpop_nonce")
                || json_error(response).is_some_and(|(e, _)| e == "use_dpop_nonce")
        }
        _ => false,
    }
}

/// RFC 9449 §5.2 / §7.1: the server said the proof itself is bad.
fn proof_refusal(response: &HttpResponse, endpoint: &'static str) -> Option<DpopError> {
    if response.status().is_success() {
        return None;
    }
    let (error, description) = match (json_error(response), dpop_challenge_error(response)) {
        (Some((e, d)), _) if e == "invalid_dpop_proof" => (e, d),
        (_, Some(e)) if e == "invalid_dpop_proof" => (e, None),
        _ => return None,
    };
    Some(DpopError::ProofRejected {
        endpoint,
        error,
        description: description.map(|d| d.chars().take(300).collect()),
    })
}

impl<'c> AsyncHttpClient<'c> for DpopClient {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.execute(request))
    }
}
