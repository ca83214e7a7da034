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

pub use pixie_auth::settings::SCHEME;

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

/// Register this dev run as the link handler. The desktop file names the forwarder next to
/// this binary (`pixie-open`: it hands a link to the running Pixie without loading GTK or
/// WebKit) when it is there, else this binary. An AppImage registers through the deep-link
/// plugin, which names the AppImage itself.
#[cfg(target_os = "linux")]
fn register<R: Runtime>(app: &AppHandle<R>) {
    let result = if app.env().appimage.is_some() {
        use tauri_plugin_deep_link::DeepLinkExt;
        app.deep_link().register_all().map_err(|e| e.to_string())
    } else {
        write_dev_handler()
    };
    match result {
        Ok(()) => tracing::info!("{SCHEME}: registered this build as the link handler"),
        Err(e) => {
            tracing::warn!(error = %e, "{SCHEME}: registration failed");
            let text = format!(
                "Pixie couldn't register itself to receive sign-in links ({e}). If your browser doesn't come back to Pixie, paste the link instead."
            );
            crate::notify(app, &text);
        }
    }
}

/// Write `pixie-handler.desktop` into the user's applications folder, refresh that folder's
/// MIME cache, and make it the default for the scheme.
#[cfg(target_os = "linux")]
fn write_dev_handler() -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("where is this program: {e}"))?;
    let program = desktop::handler_program(&exe, |p| p.is_file());
    let xdg = desktop::Xdg::from_env().ok_or("no home folder")?;
    let dir = xdg.user_applications();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let file = dir.join(desktop::DEV_HANDLER);
    let text = desktop::dev_handler_file("Pixie", &program);
    if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    // Only an optimisation when it is missing (desktop-file-utils not installed).
    match std::process::Command::new("update-desktop-database")
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
    {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            tracing::warn!(error = %e, "update-desktop-database could not start")
        }
        _ => {}
    }
    point_at(desktop::DEV_HANDLER)
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
