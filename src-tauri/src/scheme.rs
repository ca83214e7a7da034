//! Registering `dev.pixie.app:` with the desktop so the browser's redirect reaches Pixie.
//! Installed packages register through their `.desktop` file; runtime registration (dev
//! runs) only writes our handler when there is none, it is already ours, or the one there is
//! stale. A stale registration — its desktop file or its program gone (`cargo clean`), or a
//! dev build while a package is installed — is repaired at start-up: the installed copy wins.
//! The rule is `desktop::decide`; `pixie --unregister` (main.rs) removes a dev registration.

#[cfg(target_os = "linux")]
use tauri::Manager;
use tauri::{AppHandle, Runtime};

#[cfg(target_os = "linux")]
pub mod desktop;

pub const SCHEME: &str = "dev.pixie.app";

/// Who receives links now: the default `mimeapps.list` names, else the desktop's pick.
#[cfg(target_os = "linux")]
fn current_handler(xdg: &desktop::Xdg) -> Option<desktop::Handler> {
    if let Some(id) = desktop::named_default(xdg) {
        return Some(desktop::handler(xdg, &id));
    }
    let out = std::process::Command::new("xdg-mime")
        .args(["query", "default", desktop::MIME])
        .output()
        .ok()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let id = stdout.lines().next()?.trim();
    (!id.is_empty()).then(|| desktop::handler(xdg, id))
}

/// A copy installed by a package (`/usr/bin/pixie`, `/opt/...`) is registered by its
/// `.desktop` file; it must not rewrite the person's handlers with its own runtime one.
#[cfg(target_os = "linux")]
fn installed_by_package() -> bool {
    std::env::current_exe().is_ok_and(|exe| desktop::is_package_path(&exe))
}

#[cfg(target_os = "linux")]
fn point_at(id: &str) -> Result<(), String> {
    let status = std::process::Command::new("xdg-mime")
        .args(["default", id, desktop::MIME])
        .status()
        .map_err(|e| format!("xdg-mime could not start: {}", e.kind()))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("xdg-mime default failed ({status})"))
}

pub fn ensure_registered<R: Runtime>(app: &AppHandle<R>) {
    #[cfg(target_os = "linux")]
    {
        let this_is_installed = installed_by_package() && app.env().appimage.is_none();
        let app = app.clone();
        // Off the start-up path: reading desktop files, xdg-mime and update-desktop-database
        // take a while.
        std::thread::spawn(move || {
            let Some(xdg) = desktop::Xdg::from_env() else {
                tracing::warn!("{SCHEME}: no home folder; links are not registered");
                return;
            };
            let facts = desktop::Facts {
                current: current_handler(&xdg),
                installed: desktop::installed_handler(&xdg),
                this_is_installed,
            };
            let action = desktop::decide(&facts, &xdg);
            tracing::info!(current = ?facts.current, installed = ?facts.installed.as_ref().map(|h| &h.id), ?action, "{SCHEME}: handler check");
            match action {
                desktop::Action::Keep(why) => tracing::info!("{SCHEME}: {why}"),
                desktop::Action::PointAt(id) => match point_at(&id) {
                    Ok(()) => tracing::info!("{SCHEME}: links go to the installed {id} again"),
                    Err(e) => tracing::warn!("{SCHEME}: could not hand links to {id}: {e}"),
                },
                desktop::Action::Register => register(&app),
            }
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

#[cfg(target_os = "linux")]
fn register<R: Runtime>(app: &AppHandle<R>) {
    use tauri_plugin_deep_link::DeepLinkExt;
    match app.deep_link().register_all() {
        Ok(()) => tracing::info!("{SCHEME}: registered this binary as the link handler"),
        Err(e) => {
            tracing::warn!(error = %e, "{SCHEME}: registration failed");
            let text = format!(
                "Pixie couldn't register itself to receive sign-in links ({e}). If your browser doesn't come back to Pixie, paste the link instead."
            );
            crate::notify(app, &text);
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn the_mime_type_is_the_scheme_s() {
        assert_eq!(
            super::desktop::MIME,
            format!("x-scheme-handler/{}", super::SCHEME)
        );
    }
}
