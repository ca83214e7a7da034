//! Opening a URL in the system browser (RFC 8252 §8.12: never a webview).
//!
//! Redacted at the source: the URLs handed to the browser carry a `state`, a PKCE challenge
//! or an `id_token_hint`, and the launchers quote the whole command line in their errors. So
//! a failure keeps only the program's name and the kind of error; the URL never reaches a
//! message, a log line or the event log.

use std::process::{Command, Stdio};

use url::Url;

/// Environment variable naming a command that receives the URL as its only argument instead
/// of the browser (tests, headless machines, a browser of your choice).
pub const BROWSER_ENV: &str = "PIXIE_BROWSER";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrowserError {
    /// The launcher (or `PIXIE_BROWSER`) could not be started or reported failure.
    #[error("could not start {program} ({kind})")]
    NotStarted {
        program: String,
        kind: std::io::ErrorKind,
    },
}

impl BrowserError {
    /// The program that failed, for the window's words.
    pub fn program(&self) -> &str {
        match self {
            BrowserError::NotStarted { program, .. } => program,
        }
    }
}

/// Something that shows a URL to the person: the system browser in the app, a recorder in
/// tests.
pub trait Browser: Send + Sync {
    fn open(&self, url: &Url) -> Result<(), BrowserError>;
}

/// The system browser, or the command `PIXIE_BROWSER` names.
pub struct SystemBrowser;

/// The name of the command, without its directory (a path could name the person's home).
fn program_name(command: &std::ffi::OsStr) -> String {
    std::path::Path::new(command)
        .file_name()
        .unwrap_or(command)
        .to_string_lossy()
        .chars()
        .take(64)
        .collect()
}

impl Browser for SystemBrowser {
    fn open(&self, url: &Url) -> Result<(), BrowserError> {
        if let Some(command) = std::env::var_os(BROWSER_ENV).filter(|c| !c.is_empty()) {
            let program = program_name(&command);
            tracing::info!(%program, "handing a URL to {BROWSER_ENV}");
            let mut child = Command::new(&command)
                .arg(url.as_str())
                .stdin(Stdio::null())
                .spawn()
                .map_err(|e| BrowserError::NotStarted {
                    program,
                    kind: e.kind(),
                })?;
            // Reap it when it exits so no zombie is left behind.
            std::thread::spawn(move || child.wait());
            return Ok(());
        }
        // The `open` crate tries the desktop's launchers in turn; its error quotes the URL,
        // so only its kind is kept.
        open::that_detached(url.as_str()).map_err(|e| BrowserError::NotStarted {
            program: "the system browser (xdg-open)".into(),
            kind: e.kind(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_names_the_program_and_never_the_url() {
        let err = BrowserError::NotStarted {
            program: program_name(std::ffi::OsStr::new("/home/ada/bin/no-such-browser")),
            kind: std::io::ErrorKind::NotFound,
        };
        let text = err.to_string();
        assert!(text.contains("no-such-browser"), "{text}");
        assert!(!text.contains("/home/ada"), "{text}");
    }
}
