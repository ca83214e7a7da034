//! Why a request could not be pushed (RFC 9126), typed, with plain words for the window.

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
