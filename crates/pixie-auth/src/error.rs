//! The one error type of the core, with stable codes a UI can map to words.

use openidconnect::core::CoreErrorResponseType;
use openidconnect::{RequestTokenError, StandardErrorResponse};

use crate::callback::CallbackError;
use crate::device::error::DeviceError;
use crate::dpop::error::DpopError;
use crate::http::HttpError;
use crate::id_token::rules::IdTokenError;
use crate::par::error::ParError;

/// Everything that can stop a sign-in, a refresh or a profile fetch. [`Error::code`] gives
/// a stable code for it, [`Error::user_message`] the words to show the person.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system's random number generator failed (needed for `state`, `nonce` and
    /// the PKCE verifier).
    #[error("the operating system's random number generator failed: {0}")]
    Rng(String),
    /// The provider's settings cannot be used (e.g. an issuer, endpoint or redirect URI that is
    /// not a valid URL).
    #[error("the provider configuration is not usable: {0}")]
    Config(String),
    /// A request to one of the provider's endpoints failed before its answer could be judged
    /// (no connection, timeout, body too large, plain http).
    #[error("could not reach the provider's {endpoint} endpoint: {source}")]
    Http {
        /// Which endpoint, as a word for messages: "discovery", "jwks", "token", "userinfo",
        /// "revocation", "device authorization", "pushed authorization request" or "loopback"
        /// (the local redirect listener).
        endpoint: &'static str,
        /// Why the request failed.
        #[source]
        source: HttpError,
    },
    /// The provider's metadata (OpenID Connect Discovery 1.0 §3) could not be used: missing,
    /// malformed, or naming an endpoint Pixie may not use (not https).
    #[error("provider discovery failed: {0}")]
    Discovery(String),
    /// The redirect was not accepted; see [`CallbackError`].
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// RFC 6749 §5.2: the token endpoint refused the code or the refresh token. Also used for a
    /// kept session that no longer works (see [`Error::is_invalid_grant`]).
    #[error("the token endpoint refused the code: {error}")]
    TokenRejected {
        /// RFC 6749 §5.2 error code, e.g. "invalid_grant".
        error: String,
        /// `error_description`: the provider's own words, if it sent any.
        description: Option<String>,
    },
    /// RFC 6749 §5.1: the token endpoint answered, but not with a token response Pixie can use
    /// (e.g. malformed JSON); holds what failed, never what the body held.
    #[error("the token response could not be used: {0}")]
    TokenResponse(String),
    /// OIDC Core §3.1.3.7: the step the ID token failed.
    #[error("the ID token is not valid: {0}")]
    IdToken(#[from] IdTokenError),
    /// The userinfo endpoint (OIDC Core §5.3) or a plain OAuth 2.0 provider's user API gave no
    /// usable answer (an HTTP error, not JSON, no account id).
    #[error("the userinfo response could not be used: {0}")]
    UserInfo(String),
    /// OIDC Core §5.3.4: the userinfo (or user API) answer is about another account than the
    /// tokens.
    #[error("the userinfo response is about another account (sub differs from the ID token)")]
    SubjectMismatch,
    /// The profile picture could not be fetched or was refused (not https, too large, not an
    /// image). Reported beside a successful sign-in, not instead of it.
    #[error("the profile picture was refused: {0}")]
    Picture(String),
    /// The sign-in waited longer than [`crate::signin::SIGN_IN_TIMEOUT`] for its redirect.
    #[error("the sign-in was not finished in time")]
    Expired,
    /// Sign-in on another device (RFC 8628).
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// Sender-constrained tokens (RFC 9449).
    #[error(transparent)]
    Dpop(#[from] DpopError),
    /// Pushed authorization requests (RFC 9126).
    #[error(transparent)]
    Par(#[from] ParError),
    /// RFC 9700 §4.4: a provider shares its redirect URI and does not name itself on it.
    #[error("provider `{provider}` shares its redirect URI with {} and does not support RFC 9207", others.join(", "))]
    SharedRedirect {
        /// The id of the provider that cannot be used.
        provider: String,
        /// The ids of the other configured providers with the same redirect URI.
        others: Vec<String>,
    },
}

impl Error {
    pub(crate) fn http(endpoint: &'static str, source: HttpError) -> Self {
        Error::Http { endpoint, source }
    }

    /// A stable, machine-readable code (`snake_case`) for the UI and for tests.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Rng(_) => "rng",
            Error::Config(_) => "config",
            Error::Http {
                source: HttpError::TooLarge { .. },
                ..
            } => "response_too_large",
            Error::Http { .. } => "network",
            Error::Discovery(_) => "discovery",
            Error::Callback(e) => match e {
                CallbackError::ProviderError { error, .. } if error == "access_denied" => {
                    "access_denied"
                }
                CallbackError::ProviderError { .. } => "provider_error",
                CallbackError::IssuerMismatch(_) | CallbackError::MissingIssuer => {
                    "issuer_mismatch"
                }
                CallbackError::StateMismatch | CallbackError::MissingState => "state_mismatch",
                CallbackError::MissingCode => "missing_code",
                _ => "bad_redirect",
            },
            Error::TokenRejected { .. } => "token_rejected",
            Error::TokenResponse(_) => "token_response",
            Error::IdToken(_) => "id_token_invalid",
            Error::UserInfo(_) => "userinfo",
            Error::SubjectMismatch => "subject_mismatch",
            Error::Picture(_) => "picture",
            Error::Expired => "expired",
            Error::Device(e) => e.code(),
            Error::Dpop(e) => e.code(),
            Error::Par(e) => e.code(),
            Error::SharedRedirect { .. } => "shared_redirect",
        }
    }

    /// What happened, in plain words, for the person at the desktop.
    pub fn user_message(&self) -> String {
        match self {
            Error::Callback(CallbackError::ProviderError { error, description })
                if error == "access_denied" =>
            {
                match description {
                    // The provider's own words, quoted; the UI shows them as text.
                    Some(d) => format!(
                        "The sign-in was cancelled at the provider, which said: \u{201c}{d}\u{201d} Nothing was shared with Pixie."
                    ),
                    None => "The sign-in was cancelled at the provider. Nothing was shared with Pixie."
                        .into(),
                }
            }
            Error::Callback(CallbackError::ProviderError { error, description }) => {
                match description {
                    Some(d) => format!("The provider stopped the sign-in ({error}): {d}"),
                    None => format!("The provider stopped the sign-in ({error})."),
                }
            }
            Error::Callback(CallbackError::IssuerMismatch(_) | CallbackError::MissingIssuer) => {
                "The sign-in answer came from a different provider than the one Pixie asked. Pixie refused it to keep your account safe.".into()
            }
            Error::Callback(_) => {
                "The link that came back from the browser does not match this sign-in.".into()
            }
            Error::Http {
                source: HttpError::TooLarge { .. },
                ..
            } => "The provider sent an answer far larger than any real one, so Pixie refused it."
                .into(),
            Error::Http {
                source: HttpError::InsecureUrl(_),
                ..
            } => "The provider asked Pixie to talk to it without encryption, so Pixie refused."
                .into(),
            Error::Http { .. } => {
                "Pixie could not reach the sign-in provider. Check your connection and try again."
                    .into()
            }
            Error::Discovery(_) | Error::Config(_) => {
                "Pixie could not load the sign-in provider's settings.".into()
            }
            Error::TokenRejected { .. } => {
                "The provider did not accept the sign-in code. It may have expired or already been used.".into()
            }
            Error::IdToken(_) | Error::TokenResponse(_) => {
                "The provider's answer failed Pixie's security checks, so Pixie did not sign you in.".into()
            }
            Error::UserInfo(_) | Error::SubjectMismatch => {
                "Pixie could not read your profile from the provider, so it did not sign you in."
                    .into()
            }
            Error::Picture(_) => "Your profile picture could not be loaded.".into(),
            Error::Expired => "The sign-in took too long and was stopped.".into(),
            Error::Device(e) => e.user_message(),
            Error::Dpop(e) => e.user_message(),
            Error::Par(e) => e.user_message(),
            Error::Rng(_) => "Pixie could not create a secure sign-in request.".into(),
            Error::SharedRedirect { provider, others } => {
                let others = others
                    .iter()
                    .map(|o| format!("\u{201c}{o}\u{201d}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "Pixie will not sign in with \u{201c}{provider}\u{201d}: it uses the same redirect address as {others} and does not say which provider answered, so one provider's answer could be passed off as the other's. Give it a redirect_uri of its own in providers.toml."
                )
            }
        }
    }
}

/// RFC 6749 §5.2 error responses and transport failures of the token endpoint, as typed
/// errors. The body may hold tokens: say what failed, never what it held.
pub(crate) fn token_error(
    e: RequestTokenError<crate::HttpError, StandardErrorResponse<CoreErrorResponseType>>,
) -> Error {
    match e {
        RequestTokenError::ServerResponse(r) => Error::TokenRejected {
            error: r.error().as_ref().to_string(),
            description: r.error_description().cloned(),
        },
        RequestTokenError::Request(source) => Error::http("token", source),
        RequestTokenError::Parse(err, body) => {
            // RFC 6749 §5.2 says errors come with HTTP 400; GitHub sends them with 200
            // ("Troubleshooting OAuth app access token request errors"). An error body is
            // the provider refusing, whatever the status.
            match serde_json::from_slice::<StandardErrorResponse<CoreErrorResponseType>>(&body) {
                Ok(r) => Error::TokenRejected {
                    error: r.error().as_ref().to_string(),
                    description: r.error_description().cloned(),
                },
                Err(_) => Error::TokenResponse(format!("malformed JSON at {}", err.path())),
            }
        }
        RequestTokenError::Other(msg) => Error::TokenResponse(msg),
    }
}
