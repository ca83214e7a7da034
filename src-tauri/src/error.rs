//! The app's own failures, beside the protocol core's: each local condition (a browser that
//! will not start, a keyring, the loopback port, the provider list) has its own code and its
//! own sentence, so a local failure is never reported as the provider's.
//!
//! Nothing here may quote a URL: the launcher's and the keyring's errors are reduced to words
//! where they are made (see [`crate::browser`], [`crate::keystore`]).

use crate::browser::BrowserError;
use crate::keystore::KeyringError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The protocol core failed (the provider, the network, a check).
    #[error(transparent)]
    Auth(#[from] pixie_auth::Error),
    #[error(transparent)]
    Browser(#[from] BrowserError),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// RFC 8252 §7.3: the loopback port could not be opened.
    #[error("could not listen on 127.0.0.1 for the browser's answer ({0})")]
    Listener(String),
    /// The provider list names no such provider.
    #[error("there is no provider `{0}`")]
    UnknownProvider(String),
    /// The embedded demo provider could not start.
    #[error("the demo provider could not start ({0})")]
    DemoProvider(String),
    /// The work after the redirect (exchange, checks, profile) overran its deadline.
    #[error("the provider took longer than {0} s to finish the sign-in")]
    ExchangeTimedOut(u64),
    /// The app is still reading its configuration.
    #[error("Pixie is still starting")]
    NotReady,
}

impl AppError {
    /// A stable code the window and the tests can match on.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Auth(e) => e.code(),
            AppError::Browser(_) => "browser",
            AppError::Keyring(_) => "keyring",
            AppError::Listener(_) => "listener",
            AppError::UnknownProvider(_) => "unknown_provider",
            AppError::DemoProvider(_) => "demo_provider",
            AppError::ExchangeTimedOut(_) => "exchange_timeout",
            AppError::NotReady => "not_ready",
        }
    }

    /// What happened, in plain words, for the person at the desktop.
    pub fn user_message(&self) -> String {
        match self {
            AppError::Auth(e) => e.user_message(),
            AppError::Browser(e) => format!(
                "Pixie couldn't open your web browser ({}). Set PIXIE_BROWSER to a browser command, or sign in on another device.",
                e.program()
            ),
            AppError::Keyring(e) => format!("The system keyring failed: {e}."),
            AppError::Listener(_) => {
                "Pixie couldn't open a local port to receive the browser's answer. Try again, or pick a provider that returns through a link.".into()
            }
            AppError::UnknownProvider(id) => format!(
                "There is no provider named \u{201c}{}\u{201d} in providers.toml.",
                id.chars().take(64).collect::<String>()
            ),
            AppError::DemoProvider(_) => {
                "Pixie's built-in demo provider could not start on this computer.".into()
            }
            AppError::ExchangeTimedOut(_) => {
                "The provider took too long to finish the sign-in, so Pixie stopped waiting. Try again.".into()
            }
            AppError::NotReady => "Pixie is still starting. Try again in a moment.".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_failures_are_named_as_local() {
        let browser = AppError::Browser(BrowserError::NotStarted {
            program: "xdg-open".into(),
            kind: std::io::ErrorKind::NotFound,
        });
        assert_eq!(browser.code(), "browser");
        assert!(browser.user_message().contains("web browser"));
        assert!(browser.user_message().contains("xdg-open"));
        assert!(!browser.user_message().contains("provider's settings"));
        assert_eq!(
            AppError::Listener("address in use".into()).code(),
            "listener"
        );
        assert_eq!(AppError::Keyring(KeyringError::TimedOut).code(), "keyring");
    }
}
