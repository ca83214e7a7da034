//! Pushed authorization requests (RFC 9126): the whole authorization request goes to the
//! provider on a back channel, and the browser carries only `client_id` and the one-time
//! `request_uri` it got back. The pending sign-in is the same one, checked by the same
//! callback validator.

use openidconnect::HttpResponse;
use openidconnect::http::StatusCode;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::Error;
use crate::flow::steps::trace_opening;
use crate::flow::{Check, FlowStep, Party, short};
use crate::hints::SignInHints;
use crate::http::is_allowed_url;
use crate::provider::Provider;
use crate::signin::PendingSignIn;

/// When to push the authorization request, per provider in `providers.toml` (`par = "…"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParMode {
    /// When the metadata names a `pushed_authorization_request_endpoint` (RFC 9126 §5).
    #[default]
    Auto,
    /// Always; a provider without the endpoint is a configuration error.
    Always,
    /// Never; a provider that requires it (§5 `require_pushed_authorization_requests`) is a
    /// configuration error.
    Never,
}

/// Why a request could not be pushed. Carries the provider's error code and words (as text
/// for the window to quote), never the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParError {
    /// `par = "always"` and the provider names no pushed authorization request endpoint.
    #[error("par = \"always\", but the provider offers no pushed authorization request endpoint")]
    NotOffered,
    /// RFC 9126 §5: the provider requires pushed requests and `par = "never"`.
    #[error("the provider requires pushed authorization requests, but par = \"never\"")]
    RequiredButOff,
    /// The request must be pushed, which only [`Provider::prepare_sign_in`] does.
    #[error("this provider's requests must be pushed; start the sign-in with prepare_sign_in")]
    NotPushed,
    /// RFC 9126 §2.3: an error response (RFC 6749 §5.2 shape).
    #[error("the pushed authorization request was refused: {error}")]
    Refused {
        /// RFC 6749 §5.2 error code, e.g. "invalid_request" (at most 64 characters).
        error: String,
        /// `error_description`: the provider's own words (at most 300 characters), if any.
        description: Option<String>,
    },
    /// RFC 9126 §2.2: the answer is not a pushed authorization response.
    #[error("the pushed authorization response could not be used: {0}")]
    Malformed(String),
}

impl ParError {
    /// A stable, machine-readable code (`snake_case`) for the UI and for tests.
    pub fn code(&self) -> &'static str {
        match self {
            ParError::NotOffered => "par_unavailable",
            ParError::RequiredButOff => "par_required",
            ParError::NotPushed => "par_not_pushed",
            ParError::Refused { .. } => "par_refused",
            ParError::Malformed(_) => "par_response_invalid",
        }
    }

    /// What happened, in plain words, for the person at the desktop.
    pub fn user_message(&self) -> String {
        match self {
            ParError::NotOffered => {
                "providers.toml says to send this provider's sign-in requests over a back channel (par = \"always\"), but the provider does not offer that. Set par = \"auto\".".into()
            }
            ParError::RequiredButOff => {
                "This provider accepts sign-in requests only over a back channel, but providers.toml turns that off (par = \"never\"). Set par = \"auto\".".into()
            }
            ParError::NotPushed => {
                "This provider needs the sign-in request sent over a back channel, which this part of Pixie cannot do.".into()
            }
            ParError::Refused {
                error,
                description: Some(d),
            } => format!("The provider refused the sign-in request ({error}), saying: \u{201c}{d}\u{201d}"),
            ParError::Refused { error, .. } => {
                format!("The provider refused the sign-in request ({error}).")
            }
            ParError::Malformed(_) => {
                "The provider's answer to the sign-in request failed Pixie's checks, so Pixie did not open the browser.".into()
            }
        }
    }
}

/// Longest `request_uri` accepted (RFC 9126 §2.2 gives none; real ones are under 200).
const MAX_REQUEST_URI: usize = 1024;

impl Provider {
    /// Where to push this provider's requests, or `None` to send them in the URL.
    pub(crate) fn par_endpoint(&self) -> Result<Option<Url>, Error> {
        let extra = self.metadata.additional_metadata();
        let advertised = extra.pushed_authorization_request_endpoint.as_deref();
        match (self.config.par, advertised) {
            // RFC 9126 §5: a provider may require pushed requests.
            (ParMode::Never, _) if extra.require_pushed_authorization_requests => {
                Err(ParError::RequiredButOff.into())
            }
            (ParMode::Never, _) => Ok(None),
            (ParMode::Always, None) => Err(ParError::NotOffered.into()),
            (ParMode::Auto, None) if extra.require_pushed_authorization_requests => {
                Err(ParError::NotOffered.into())
            }
            (ParMode::Auto, None) => Ok(None),
            (_, Some(u)) => {
                let url = Url::parse(u).map_err(|e| {
                    Error::Discovery(format!("pushed_authorization_request_endpoint: {e}"))
                })?;
                // RFC 9126 §5 / RFC 8252 §8.3: https, loopback excepted.
                if !is_allowed_url(&url) {
                    return Err(Error::Discovery(
                        "the pushed authorization request endpoint must use https".into(),
                    ));
                }
                Ok(Some(url))
            }
        }
    }

    /// Whether every request must be pushed: `par = "always"`, or the provider requires it
    /// (RFC 9126 §5 `require_pushed_authorization_requests`).
    pub(crate) fn must_push(&self) -> bool {
        self.config.par == ParMode::Always
            || self
                .metadata
                .additional_metadata()
                .require_pushed_authorization_requests
    }

    /// The sign-in request as the provider takes it: pushed (RFC 9126) where it offers that
    /// and `par` allows, else the usual URL. Use this rather than
    /// [`Provider::start_sign_in_with`], which cannot push.
    pub async fn prepare_sign_in(
        &self,
        redirect_uri: Option<&Url>,
        hints: &SignInHints,
    ) -> Result<PendingSignIn, Error> {
        let Some(endpoint) = self.par_endpoint()? else {
            return self.start_sign_in_with(redirect_uri, hints);
        };
        let mut pending = self.build_sign_in(redirect_uri, hints)?;
        let request_uri = self.push(&pending, &endpoint).await?;
        // RFC 9126 §4: the authorization request is only `client_id` and `request_uri`.
        let mut url = self.metadata.authorization_endpoint().url().clone();
        url.query_pairs_mut()
            .append_pair("client_id", &self.config.client_id)
            .append_pair("request_uri", &request_uri);
        pending.authorization_url = url;
        trace_opening(&pending.trace, &pending.authorization_url);
        Ok(pending)
    }

    /// RFC 9126 §2.1: POST every parameter of the authorization request, with client
    /// authentication as at the token endpoint; §2.2: read back `request_uri`.
    async fn push(&self, pending: &PendingSignIn, endpoint: &Url) -> Result<String, Error> {
        let params: Vec<(String, String)> = pending
            .authorization_url
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

/// How a request parameter is shown in the flow record: `state`, `nonce` and `request_uri`
/// by their start, the rest (the challenge, `dpop_jkt`, the redirect URI) in full.
pub(crate) fn shown(name: &str, value: &str) -> String {
    match name {
        "state" | "nonce" | "request_uri" => short(value),
        _ => value.to_owned(),
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
