//! Saving the sequence diagram of the last sign-in. The SVG is made by the core from the
//! redacted trace (every text escaped, no script, link or event attribute); nothing the
//! webview sends is written to disk.

use tauri::{AppHandle, Manager, Runtime};

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("no sign-in has been made yet")]
    NoTrace,
    #[error("there is no folder to save to")]
    NoFolder,
    #[error("could not write the file ({0})")]
    Write(std::io::ErrorKind),
}

/// Write `svg` to the Downloads folder (else home); returns the file's path.
pub fn save_svg<R: Runtime>(app: &AppHandle<R>, svg: &str) -> Result<String, SaveError> {
    let dir = app
        .path()
        .download_dir()
        .or_else(|_| app.path().home_dir())
        .map_err(|_| SaveError::NoFolder)?;
    std::fs::create_dir_all(&dir).map_err(|e| SaveError::Write(e.kind()))?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let path = dir.join(format!("pixie-sign-in-{stamp}.svg"));
    let document = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{svg}\n");
    std::fs::write(&path, document).map_err(|e| SaveError::Write(e.kind()))?;
    Ok(path.display().to_string())
}
