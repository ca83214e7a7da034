//! Pushed authorization requests (RFC 9126): the whole authorization request goes to the
//! provider on a back channel, and the browser carries only `client_id` and the one-time
//! `request_uri` it got back. The pending sign-in is the same one, checked by the same
//! callback validator.

pub(crate) mod error;

pub use error::ParError;

use openidconnect::HttpResponse;
use openidconnect::http::StatusCode;
use serde::Deserialize;
use url::Url;

use crate::Error;
use crate::flow::steps::{shown, trace_opening};
use crate::flow::{Check, FlowStep, Party, short};
use crate::hints::SignInHints;
use crate::provider::Provider;
use crate::provider::metadata::par_endpoint;
use crate::signin::PendingSignIn;

/// A pushed sign-in's whole request, to push again (see [`Provider::push_again`]). Its
/// `Debug` shows nothing: the request carries `state` and the nonce.
#[derive(Clone)]
pub struct PushRequest {
    request: Url,
    trace: crate::flow::FlowTrace,
}

impl std::fmt::Debug for PushRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PushRequest { .. }")
    }
}

impl PendingSignIn {
    /// The request to push again, when this sign-in was pushed (RFC 9126).
    pub fn push_request(&self) -> Option<PushRequest> {
        Some(PushRequest {
            request: self.pushed.clone()?,
            trace: self.trace.clone(),
        })
    }

    /// Take the browser URL of a fresh push of this sign-in's request. Refused (`false`)
    /// unless it is this provider's authorization endpoint with only `client_id` and
    /// `request_uri` (RFC 9126 §4) and this sign-in was pushed.
    pub fn use_pushed(&mut self, url: Url) -> bool {
        let same_endpoint = |a: &Url, b: &Url| a.origin() == b.origin() && a.path() == b.path();
        let mut keys: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        keys.sort();
        let fits = self.pushed.is_some()
            && same_endpoint(&url, &self.authorization_url)
            && keys == ["client_id", "request_uri"];
        if fits {
            self.authorization_url = url;
        }
        fits
    }
}

/// Longest `request_uri` accepted (RFC 9126 §2.2 gives none; real ones are under 200).
const MAX_REQUEST_URI: usize = 1024;

impl Provider {
    /// The sign-in request as the provider takes it: pushed (RFC 9126) where it offers that
    /// and `par` allows, else the usual URL. Use this rather than
    /// [`Provider::start_sign_in_with`], which cannot push.
    pub async fn prepare_sign_in(
        &self,
        redirect_uri: Option<&Url>,
        hints: &SignInHints,
    ) -> Result<PendingSignIn, Error> {
        let Some(endpoint) = par_endpoint(&self.config, &self.metadata)? else {
            return self.start_sign_in_with(redirect_uri, hints);
        };
        let mut pending = self.build_sign_in(redirect_uri, hints)?;
        let request = PushRequest {
            request: pending.authorization_url.clone(),
            trace: pending.trace.clone(),
        };
        pending.authorization_url = self.push_to(&request, &endpoint).await?;
        pending.pushed = Some(request.request);
        trace_opening(&pending.trace, &pending.authorization_url);
        Ok(pending)
    }

    /// RFC 9126 §7.3: a `request_uri` is used once. For a person who opens the sign-in
    /// page again, or copies it to another browser, the same request (same `state`, nonce
    /// and PKCE challenge) is pushed again for a fresh one; the result goes to
    /// [`PendingSignIn::use_pushed`]. Needs no lock on the pending sign-in.
    pub async fn push_again(&self, request: &PushRequest) -> Result<Url, Error> {
        let endpoint = par_endpoint(&self.config, &self.metadata)?.ok_or(ParError::NotOffered)?;
        self.push_to(request, &endpoint).await
    }

    /// Push `request` and build the browser's URL: RFC 9126 §4, only `client_id` and
    /// `request_uri`.
    async fn push_to(&self, request: &PushRequest, endpoint: &Url) -> Result<Url, Error> {
        let request_uri = self.push(request, endpoint).await?;
        let mut url = self.metadata.authorization_endpoint().url().clone();
        url.query_pairs_mut()
            .append_pair("client_id", &self.config.client_id)
            .append_pair("request_uri", &request_uri);
        Ok(url)
    }

    /// RFC 9126 §2.1: POST every parameter of the authorization request, with client
    /// authentication as at the token endpoint; §2.2: read back `request_uri`.
    async fn push(&self, pending: &PushRequest, endpoint: &Url) -> Result<String, Error> {
        let params: Vec<(String, String)> = pending
            .request
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        // RFC 9126 §2.1: client authentication as for the token endpoint (a public client
        // is named by the `client_id` already among the parameters, RFC 6749 §2.3).
        let fields: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let request = self
            .client_form(endpoint, &fields)
            .map_err(|e| Error::http("pushed authorization request", e))?;
        let http = self.http.with_trace(&pending.trace);
        let result = http
            .execute(request)
            .await
            .map_err(|e| Error::http("pushed authorization request", e))
            .and_then(|r| par_answer(&r));
        let mut step = FlowStep::new(
            Party::App,
            Party::AuthorizationEndpoint,
            &format!("POST {} (pushed authorization request)", endpoint.path()),
        );
        for (name, value) in &params {
            step = step.param(name, shown(name, value));
        }
        if self.config.client_secret.is_some() {
            step = step.param("client_secret", crate::flow::NEVER_SHOWN);
        }
        if let Ok(uri) = &result {
            step = step.param("→ request_uri", short(uri));
        }
        pending.trace.push(
            step.http(pending.trace.take_http())
                .check(Check::new(
                    "the provider took the request on the back channel and gave a one-time request_uri",
                    "RFC 9126 §2.1–2.3",
                    result.is_ok(),
                    result.as_ref().err().map(|e| e.to_string()),
                ))
                .note("Nothing but client_id and request_uri will travel through the browser."),
        );
        result
    }
}

/// RFC 9126 §2.2 (201 with `request_uri` and `expires_in`) or §2.3 (an RFC 6749 §5.2 error).
fn par_answer(response: &HttpResponse) -> Result<String, Error> {
    #[derive(Deserialize)]
    struct Pushed {
        request_uri: String,
        expires_in: u64,
    }
    #[derive(Deserialize)]
    struct Refusal {
        error: String,
        error_description: Option<String>,
    }
    let status = response.status();
    // RFC 9126 §2.2: 201 Created (200 tolerated: some servers send it).
    if status == StatusCode::CREATED || status == StatusCode::OK {
        let p: Pushed = serde_json::from_slice(response.body()).map_err(|e| {
            ParError::Malformed(format!("not a pushed authorization response: {e}"))
        })?;
        // §2.2: a URI (RFC 3986), used once; ours must fit in a browser URL.
        if p.request_uri.is_empty()
            || p.request_uri.len() > MAX_REQUEST_URI
            || Url::parse(&p.request_uri).is_err()
        {
            return Err(ParError::Malformed("request_uri is not a usable URI".into()).into());
        }
        if p.expires_in == 0 {
            return Err(ParError::Malformed("the request_uri has already expired".into()).into());
        }
        return Ok(p.request_uri);
    }
    // §2.3: the error response of RFC 6749 §5.2, whatever the status.
    match serde_json::from_slice::<Refusal>(response.body()) {
        Ok(r) => Err(ParError::Refused {
            error: r.error.chars().take(64).collect(),
            description: r.error_description.map(|d| d.chars().take(300).collect()),
        }
        .into()),
        Err(_) => Err(ParError::Malformed(format!("HTTP {status} without an error body")).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Result<String, Error> {
        let mut r = HttpResponse::new(body.as_bytes().to_vec());
        *r.status_mut() = StatusCode::from_u16(status).unwrap();
        par_answer(&r)
    }

    #[test]
    fn pushed_authorization_responses_table() {
        let uri = "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c";
        // RFC 9126 §2.2 example.
        assert_eq!(
            answer(
                201,
                &format!(r#"{{"request_uri":"{uri}","expires_in":60}}"#)
            )
            .unwrap(),
            uri
        );
        let cases: &[(u16, &str, &str)] = &[
            (
                400,
                r#"{"error":"invalid_request","error_description":"The redirect_uri is not valid"}"#,
                "par_refused",
            ),
            (401, r#"{"error":"invalid_client"}"#, "par_refused"),
            (
                201,
                r#"{"request_uri":"","expires_in":60}"#,
                "par_response_invalid",
            ),
            (
                201,
                r#"{"request_uri":"not a uri","expires_in":60}"#,
                "par_response_invalid",
            ),
            (
                201,
                r#"{"request_uri":"urn:x","expires_in":0}"#,
                "par_response_invalid",
            ),
            (201, r#"{"expires_in":60}"#, "par_response_invalid"),
            (201, "<html>", "par_response_invalid"),
            (500, "oops", "par_response_invalid"),
        ];
        for (status, body, code) in cases {
            let e = answer(*status, body).unwrap_err();
            assert_eq!(e.code(), *code, "{status} {body}");
            assert!(!e.user_message().is_empty());
        }
    }
}
