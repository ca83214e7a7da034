//! Saving the sequence diagram the window drew. The SVG comes from our own webview, but it is
//! still checked before it touches the disk: a bounded, script-free `<svg>` document only.

use std::path::PathBuf;

use tauri::{AppHandle, Manager, Runtime};

const MAX_SVG: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("the diagram is not an SVG document")]
    NotSvg,
    #[error("the diagram is larger than 1 MiB")]
    TooLarge,
    #[error("the diagram contains active content")]
    Active,
    #[error("there is no folder to save to")]
    NoFolder,
    #[error("could not write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub fn check_svg(svg: &str) -> Result<(), SaveError> {
    if svg.len() > MAX_SVG {
        return Err(SaveError::TooLarge);
    }
    if !svg.trim_start().starts_with("<svg") || !svg.trim_end().ends_with("</svg>") {
        return Err(SaveError::NotSvg);
    }
    let lower = svg.to_ascii_lowercase();
    let active = [
        "<script",
        "javascript:",
        "<foreignobject",
        " onload",
        " onclick",
        "<iframe",
    ];
    if active.iter().any(|a| lower.contains(a)) {
        return Err(SaveError::Active);
    }
    Ok(())
}

pub fn save_svg<R: Runtime>(app: &AppHandle<R>, svg: &str) -> Result<String, SaveError> {
    check_svg(svg)?;
    let dir = app
        .path()
        .download_dir()
        .or_else(|_| app.path().home_dir())
        .map_err(|_| SaveError::NoFolder)?;
    std::fs::create_dir_all(&dir).map_err(|source| SaveError::Write {
        path: dir.clone(),
        source,
    })?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let path = dir.join(format!("pixie-sign-in-{stamp}.svg"));
    let document = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{svg}\n");
    std::fs::write(&path, document).map_err(|source| SaveError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_svg_is_saved() {
        assert!(
            check_svg("<svg xmlns=\"http://www.w3.org/2000/svg\"><text>ok</text></svg>").is_ok()
        );
        assert!(matches!(check_svg("<html></html>"), Err(SaveError::NotSvg)));
        assert!(matches!(
            check_svg("<svg><script>alert(1)</script></svg>"),
            Err(SaveError::Active)
        ));
        assert!(matches!(
            check_svg("<svg><a href=\"javascript:x\">x</a></svg>"),
            Err(SaveError::Active)
        ));
        let huge = format!("<svg>{}</svg>", "x".repeat(MAX_SVG));
        assert!(matches!(check_svg(&huge), Err(SaveError::TooLarge)));
    }
}
