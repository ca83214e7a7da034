//! The authorization response (the redirect that comes back through the OS) and the only
//! code that may turn it into a [`ValidatedCallback`].

use std::collections::HashMap;

use openidconnect::{AuthorizationCode, CsrfToken};
use subtle::ConstantTimeEq;
use url::Url;

/// Longest redirect we will look at. Real ones are a few hundred bytes.
pub const MAX_CALLBACK_LEN: usize = 8 * 1024;

/// A redirect that matched the pending sign-in's URI, `state` and issuer and carries a code.
/// Only [`validate_callback`] constructs it, and it belongs to the sign-in whose `state` it
/// matched: [`crate::Provider::exchange`] takes it only with that one.
pub struct ValidatedCallback {
    code: AuthorizationCode,
    state: CsrfToken,
}

impl ValidatedCallback {
    pub(crate) fn code(&self) -> &AuthorizationCode {
        &self.code
    }

    /// RFC 6749 §10.12: whether this answer came back with `state` (constant-time).
    pub(crate) fn belongs_to(&self, state: &str) -> bool {
        bool::from(self.state.secret().as_bytes().ct_eq(state.as_bytes()))
    }
}

impl std::fmt::Debug for ValidatedCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ValidatedCallback { code: [redacted], state: [redacted] }")
    }
}

/// Why a redirect was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// The link is longer than [`MAX_CALLBACK_LEN`]; holds its length in bytes.
    #[error("the link is too long ({0} bytes)")]
    TooLong(usize),
    /// The link does not parse as a URL.
    #[error("the link is not a valid URL")]
    Malformed,
    /// RFC 6749 §3.1.2 / RFC 8252 §7.1: the link is not this sign-in's redirect URI (scheme,
    /// host, port and path must match exactly; no password, no fragment).
    #[error("the link is not this sign-in's redirect URI")]
    WrongRedirect,
    /// RFC 6749 §3.1: a response parameter (`code`, `state`, `iss`, `error`, …) appears more
    /// than once; holds its name.
    #[error("the link repeats the parameter `{0}`")]
    DuplicateParameter(String),
    /// RFC 6749 §4.1.2: the link carries no `state`, so it cannot be tied to a sign-in.
    #[error("the link has no `state`")]
    MissingState,
    /// RFC 6749 §10.12: the `state` is not the pending sign-in's (a forged, stale or stray link).
    #[error("the link's `state` belongs to no sign-in in progress")]
    StateMismatch,
    /// RFC 9207 §2.4: no `iss`, although the provider advertises
    /// `authorization_response_iss_parameter_supported`.
    #[error("the response names no issuer, but this provider always sends one")]
    MissingIssuer,
    /// RFC 9207 §2.4: `iss` names another issuer than the one the request went to (a mix-up
    /// attempt); holds the `iss` received.
    #[error("the response came from another issuer ({0})")]
    IssuerMismatch(String),
    /// RFC 6749 §4.1.2.1: the provider answered with an error instead of a code, e.g. the
    /// person cancelled (`access_denied`). Ends the sign-in.
    #[error("the provider answered `{error}`")]
    ProviderError {
        /// RFC 6749 §4.1.2.1 error code, e.g. "access_denied".
        error: String,
        /// `error_description`: the provider's own words, untrusted; show them only as text.
        description: Option<String>,
    },
    /// RFC 6749 §4.1.2: the response carries neither an error nor a non-empty `code`.
    #[error("the response has no authorization code")]
    MissingCode,
}

impl CallbackError {
    /// True when the link cannot be tied to the pending sign-in (forged, stray, mistyped).
    /// Such a link is ignored with a notice and the sign-in stays open; the others end it.
    pub fn is_unrelated(&self) -> bool {
        matches!(
            self,
            CallbackError::TooLong(_)
                | CallbackError::Malformed
                | CallbackError::WrongRedirect
                | CallbackError::DuplicateParameter(_)
                | CallbackError::MissingState
                | CallbackError::StateMismatch
        )
    }
}

/// What a pending sign-in expects of its redirect.
pub struct CallbackExpectation<'a> {
    /// The redirect URI the sign-in sent (RFC 6749 §3.1.2); the link must be this URI, with
    /// any query.
    pub redirect_uri: &'a Url,
    /// The `state` the sign-in sent (RFC 6749 §4.1.1); compared in constant time.
    pub state: &'a str,
    /// The issuer the authorization request went to; an `iss` in the link must equal it
    /// (RFC 9207 §2.4).
    pub issuer: &'a str,
    /// RFC 9207 §2.4: the provider advertised `authorization_response_iss_parameter_supported`.
    pub iss_required: bool,
}

/// RFC 6749 §3.1.2: `url` is the redirect URI `want` (scheme, authority and path exactly; no
/// user info, no fragment), whatever its query.
pub(crate) fn is_same_redirect(url: &Url, want: &Url) -> bool {
    url.scheme() == want.scheme()
        && url.host_str() == want.host_str()
        && url.port_or_known_default() == want.port_or_known_default()
        && url.path() == want.path()
        && url.username() == want.username()
        && url.password().is_none()
        && url.fragment().is_none()
}

/// Validate a redirect against the pending sign-in.
pub fn validate_callback(
    raw: &str,
    expect: &CallbackExpectation<'_>,
) -> Result<ValidatedCallback, CallbackError> {
    if raw.len() > MAX_CALLBACK_LEN {
        return Err(CallbackError::TooLong(raw.len()));
    }
    let url = Url::parse(raw).map_err(|_| CallbackError::Malformed)?;

    // RFC 8252 §7.1 / RFC 6749 §3.1.2: act only on the exact redirect URI we registered
    // (scheme, authority and path); the query carries the response.
    if !is_same_redirect(&url, expect.redirect_uri) {
        return Err(CallbackError::WrongRedirect);
    }

    // RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
    // Unknown extra parameters are ignored (providers add their own, e.g. Google's `authuser`).
    let mut params: HashMap<String, String> = HashMap::new();
    for (k, v) in url.query_pairs() {
        let known = matches!(
            k.as_ref(),
            "code" | "state" | "iss" | "error" | "error_description" | "error_uri"
        );
        if known && params.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(CallbackError::DuplicateParameter(k.into_owned()));
        }
    }

    // RFC 6749 §4.1.2 and §10.12: the state must be the one we sent, compared in constant time.
    let state = params.get("state").ok_or(CallbackError::MissingState)?;
    if !bool::from(state.as_bytes().ct_eq(expect.state.as_bytes())) {
        return Err(CallbackError::StateMismatch);
    }

    // RFC 9207 §2.4: compare `iss` with the issuer we sent the request to, when present,
    // and insist on it when the provider said it always sends it.
    match params.get("iss") {
        Some(iss) if iss != expect.issuer => {
            return Err(CallbackError::IssuerMismatch(iss.clone()));
        }
        None if expect.iss_required => return Err(CallbackError::MissingIssuer),
        _ => {}
    }

    // RFC 6749 §4.1.2.1: an error response.
    if let Some(error) = params.get("error") {
        return Err(CallbackError::ProviderError {
            error: error.clone(),
            description: params.get("error_description").cloned(),
        });
    }

    // RFC 6749 §4.1.2: a successful response carries `code`.
    match params.remove("code") {
        Some(code) if !code.is_empty() => Ok(ValidatedCallback {
            code: AuthorizationCode::new(code),
            state: CsrfToken::new(expect.state.to_owned()),
        }),
        _ => Err(CallbackError::MissingCode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "http://127.0.0.1:4000";

    fn check(raw: &str, iss_required: bool) -> Result<ValidatedCallback, CallbackError> {
        let redirect = Url::parse("dev.pixie.app:/oauth/callback").unwrap();
        validate_callback(
            raw,
            &CallbackExpectation {
                redirect_uri: &redirect,
                state: "s3cret-state",
                issuer: ISS,
                iss_required,
            },
        )
    }

    #[test]
    fn accepts_the_exact_redirect() {
        let ok = check(
            "dev.pixie.app:/oauth/callback?code=abc&state=s3cret-state&iss=http%3A%2F%2F127.0.0.1%3A4000&authuser=0",
            true,
        )
        .unwrap();
        assert_eq!(ok.code().secret(), "abc");
        assert!(!format!("{ok:?}").contains("abc"));
    }

    #[test]
    fn refuses_every_kind_of_wrong_link() {
        use CallbackError::*;
        let cases: &[(&str, CallbackError)] = &[
            ("not a url", Malformed),
            (
                "dev.pixie.evil:/oauth/callback?code=a&state=s3cret-state",
                WrongRedirect,
            ),
            (
                "dev.pixie.app:/oauth/other?code=a&state=s3cret-state",
                WrongRedirect,
            ),
            (
                "dev.pixie.app://host/oauth/callback?code=a&state=s3cret-state",
                WrongRedirect,
            ),
            (
                "dev.pixie.app:/oauth/callback?code=a&state=s3cret-state#x",
                WrongRedirect,
            ),
            ("dev.pixie.app:/oauth/callback?code=a", MissingState),
            (
                "dev.pixie.app:/oauth/callback?code=a&state=guess",
                StateMismatch,
            ),
            (
                "dev.pixie.app:/oauth/callback?code=a&state=s3cret-stat",
                StateMismatch,
            ),
            (
                "dev.pixie.app:/oauth/callback?code=a&code=b&state=s3cret-state",
                DuplicateParameter("code".into()),
            ),
            (
                "dev.pixie.app:/oauth/callback?code=a&state=s3cret-state&state=s3cret-state",
                DuplicateParameter("state".into()),
            ),
            (
                "dev.pixie.app:/oauth/callback?code=a&state=s3cret-state&iss=https%3A%2F%2Fevil",
                IssuerMismatch("https://evil".into()),
            ),
            (
                "dev.pixie.app:/oauth/callback?state=s3cret-state&iss=http%3A%2F%2F127.0.0.1%3A4000",
                MissingCode,
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(check(raw, false).unwrap_err(), *want, "{raw}");
        }
        assert_eq!(
            check(
                "dev.pixie.app:/oauth/callback?code=a&state=s3cret-state",
                true
            )
            .unwrap_err(),
            MissingIssuer
        );
        let huge = format!(
            "dev.pixie.app:/oauth/callback?code={}&state=s3cret-state",
            "a".repeat(9000)
        );
        assert!(matches!(check(&huge, false), Err(TooLong(_))));
    }

    #[test]
    fn error_response_is_typed_and_kept_as_text() {
        let err = check(
            "dev.pixie.app:/oauth/callback?error=access_denied&error_description=%3Cb%3Eno%3C%2Fb%3E&state=s3cret-state",
            false,
        )
        .unwrap_err();
        assert_eq!(
            err,
            CallbackError::ProviderError {
                error: "access_denied".into(),
                description: Some("<b>no</b>".into())
            }
        );
        assert!(!err.is_unrelated());
        // A forged error response (wrong state) does not end the sign-in.
        assert!(
            check(
                "dev.pixie.app:/oauth/callback?error=access_denied&state=x",
                false
            )
            .unwrap_err()
            .is_unrelated()
        );
    }
}
