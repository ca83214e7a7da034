//! Registering `dev.pixie.app:` with the desktop so the browser's redirect reaches Pixie.
//! Installed packages register through their `.desktop` file; runtime registration (dev
//! runs, AppImage) only writes our handler when there is none or it is already ours.

use tauri::{AppHandle, Manager, Runtime};

pub const SCHEME: &str = "dev.pixie.app";

#[cfg(target_os = "linux")]
fn current_handler() -> Option<String> {
    let out = std::process::Command::new("xdg-mime")
        .args(["query", "default", &format!("x-scheme-handler/{SCHEME}")])
        .output()
        .ok()?;
    let name = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (!name.is_empty()).then_some(name)
}

/// The desktop file name the deep-link plugin writes for this binary.
#[cfg(target_os = "linux")]
fn our_handler() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    Some(format!(
        "{}-handler.desktop",
        exe.file_name()?.to_string_lossy()
    ))
}

/// A copy installed by a package (`/usr/bin/pixie`, `/opt/...`) is registered by its
/// `.desktop` file; it must not rewrite the person's handlers on every start.
#[cfg(target_os = "linux")]
fn installed_by_package() -> bool {
    std::env::current_exe()
        .map(|exe| exe.starts_with("/usr/") || exe.starts_with("/opt/"))
        .unwrap_or(false)
}

pub fn ensure_registered<R: Runtime>(app: &AppHandle<R>) {
    #[cfg(target_os = "linux")]
    {
        use tauri_plugin_deep_link::DeepLinkExt;
        // An AppImage has no installed desktop file: it registers itself like a dev run.
        if installed_by_package() && app.env().appimage.is_none() {
            tracing::info!("{SCHEME}: installed copy, registered by its desktop file");
            return;
        }
        let app = app.clone();
        // Off the start-up path: xdg-mime and update-desktop-database take a while.
        std::thread::spawn(move || {
            let current = current_handler();
            if current.is_some() && current != our_handler() {
                tracing::info!(handler = ?current, "{SCHEME}: links already go to an installed Pixie; leaving it");
                return;
            }
            match app.deep_link().register_all() {
                Ok(()) => tracing::info!("{SCHEME}: registered this binary as the link handler"),
                Err(e) => {
                    tracing::warn!(error = %e, "{SCHEME}: registration failed");
                    let text = format!(
                        "Pixie couldn't register itself to receive sign-in links ({e}). If your browser doesn't come back to Pixie, paste the link instead."
                    );
                    crate::notify(&app, &text);
                }
            }
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}
