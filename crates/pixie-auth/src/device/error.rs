//! What can end a sign-in on another device (RFC 8628), with stable codes and plain words.

/// Why a device sign-in did not finish. Never carries the device code or a token; a
/// provider's own words (`description`) are kept as text for the window to quote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// RFC 8628 §4: the provider advertises no `device_authorization_endpoint` and none is
    /// configured.
    #[error("the provider does not offer sign-in on another device")]
    NotSupported,
    /// RFC 8628 §3.5 `access_denied`: the person said no on the other device.
    #[error("the person declined on the other device")]
    Denied {
        /// `error_description`: the provider's own words, if it sent any.
        description: Option<String>,
    },
    /// RFC 8628 §3.5 `expired_token`, or the code's `expires_in` ran out here first.
    #[error("the code expired before the sign-in was finished")]
    Expired,
    /// RFC 8628 §3.2 / RFC 6749 §5.2: the device authorization endpoint refused the request.
    #[error("the device authorization request was refused: {error}")]
    RequestRefused {
        /// RFC 6749 §5.2 error code, e.g. "unauthorized_client" or "invalid_scope".
        error: String,
        /// `error_description`: the provider's own words, if it sent any.
        description: Option<String>,
    },
    /// RFC 8628 §3.5 / RFC 6749 §5.2: the token endpoint refused the device code for a reason
    /// other than the four the device flow defines (`invalid_grant` for a wrong, replayed or
    /// foreign code, `invalid_client`, …).
    #[error("the token endpoint refused the device code: {error}")]
    CodeRejected {
        /// RFC 6749 §5.2 error code, e.g. "invalid_grant".
        error: String,
        /// `error_description`: the provider's own words, if it sent any.
        description: Option<String>,
    },
    /// RFC 8628 §3.2: the device authorization response is not one (a required field is
    /// missing, a field has the wrong type, a URI is not https, the body is not JSON or form).
    #[error("the device authorization response could not be used: {0}")]
    Malformed(String),
    /// RFC 8628 §3.5 / RFC 6749 §5.1: a poll answer that is neither an error nor tokens.
    #[error("the token endpoint's answer could not be used: {0}")]
    BadPollAnswer(String),
}

impl DeviceError {
    /// A stable, machine-readable code (`snake_case`) for the UI and for tests.
    pub fn code(&self) -> &'static str {
        match self {
            DeviceError::NotSupported => "device_flow_unsupported",
            DeviceError::Denied { .. } => "access_denied",
            DeviceError::Expired => "device_code_expired",
            DeviceError::RequestRefused { .. } => "device_request_refused",
            DeviceError::CodeRejected { .. } => "device_code_rejected",
            DeviceError::Malformed(_) => "device_response_invalid",
            DeviceError::BadPollAnswer(_) => "token_response",
        }
    }

    /// What happened, in plain words, for the person at the desktop.
    pub fn user_message(&self) -> String {
        match self {
            DeviceError::NotSupported => {
                "This provider does not offer signing in on another device. Sign in in the browser instead.".into()
            }
            DeviceError::Denied { description: Some(d) } => format!(
                "The sign-in was declined on the other device, and the provider said: \u{201c}{d}\u{201d} Nothing was shared with Pixie."
            ),
            DeviceError::Denied { description: None } => {
                "The sign-in was declined on the other device. Nothing was shared with Pixie.".into()
            }
            DeviceError::Expired => {
                "The code expired before the sign-in was finished. Start again to get a new code.".into()
            }
            DeviceError::RequestRefused { error, .. } => format!(
                "The provider would not start a sign-in on another device ({error}). Sign in in the browser instead."
            ),
            DeviceError::CodeRejected { .. } => {
                "The provider did not accept this sign-in's code. It may have been used already. Start again to get a new one.".into()
            }
            DeviceError::Malformed(_) | DeviceError::BadPollAnswer(_) => {
                "The provider's answer failed Pixie's security checks, so Pixie did not sign you in.".into()
            }
        }
    }
}
