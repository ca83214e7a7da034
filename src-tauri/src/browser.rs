//! Opening the authorization URL in the system browser (RFC 8252 §8.12: never a webview).

use std::process::{Command, Stdio};

use tauri::{AppHandle, Runtime};
use tauri_plugin_opener::OpenerExt;
use url::Url;

/// Environment variable naming a command that receives the authorization URL as its only
/// argument instead of the browser (tests, headless machines, a browser of your choice).
pub const BROWSER_ENV: &str = "PIXIE_BROWSER";

#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("could not run {command}: {source}")]
    Command {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not open the browser: {0}")]
    Opener(String),
}

/// Only the authorization URL Pixie built is ever passed here.
pub fn open<R: Runtime>(app: &AppHandle<R>, url: &Url) -> Result<(), BrowserError> {
    if let Some(command) = std::env::var_os(BROWSER_ENV).filter(|c| !c.is_empty()) {
        let command_text = command.to_string_lossy().into_owned();
        tracing::info!(command = %command_text, "handing the authorization URL to {BROWSER_ENV}");
        let mut child = Command::new(&command)
            .arg(url.as_str())
            .stdin(Stdio::null())
            .spawn()
            .map_err(|source| BrowserError::Command {
                command: command_text,
                source,
            })?;
        // Reap it when it exits so no zombie is left behind.
        std::thread::spawn(move || child.wait());
        return Ok(());
    }
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(|e| BrowserError::Opener(e.to_string()))
}
