//! `pixie-open LINK`: the program the desktop starts for a `dev.pixie.app:` link.
//!
//! The desktop starts a new process for every sign-in link. When that process is the full
//! app, exec'ing it maps WebKitGTK, GTK and the ~170 libraries they bring before `main` runs
//! (≈ 46 ms on the CI machine) — only to forward one link to the Pixie that is already
//! running. This program links none of them: it hands the link to the running Pixie over the
//! single-instance plugin's own D-Bus interface (`org.SingleInstance.DBus.ExecuteCallback` on
//! `dev.pixie.app.SingleInstance`, the receiving side the app already has), and exits. When
//! no Pixie answers (none running, no session bus), it becomes the app: it execs the `pixie`
//! next to it with the same arguments, so a cold start by a link works as before.
//!
//! Registered as the link handler by a dev run (`scheme.rs`) and by the package's desktop
//! file (`Exec=pixie-open %u`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The scheme Pixie's sign-in links use (`scheme::SCHEME` in the app).
const SCHEME: &str = "dev.pixie.app";
/// The app's identifier, which names its single-instance D-Bus service (`APP_ID`).
const APP_ID: &str = "dev.pixie.app";
/// The app's binary, next to this one.
const APP_BINARY: &str = "pixie";

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let Some(app) = app_path(std::env::current_exe().ok().as_deref()) else {
        eprintln!("pixie-open: cannot tell where the pixie binary is");
        return ExitCode::FAILURE;
    };
    if let Some(link) = link_of(&args)
        && forward(&app, link)
    {
        return ExitCode::SUCCESS;
    }
    exec_app(&app, &args)
}

/// The `pixie` next to this program (`/usr/bin/pixie-open` → `/usr/bin/pixie`).
fn app_path(this: Option<&Path>) -> Option<PathBuf> {
    Some(this?.parent()?.join(APP_BINARY))
}

/// The sign-in link when the arguments are exactly one `dev.pixie.app:` link — what the
/// desktop file's `Exec=… %u` passes, and the only shape the deep-link plugin accepts from a
/// second instance.
fn link_of(args: &[OsString]) -> Option<&str> {
    match args {
        [one] => one.to_str().filter(|a| {
            a.len() > SCHEME.len() && a.starts_with(SCHEME) && a[SCHEME.len()..].starts_with(':')
        }),
        _ => None,
    }
}

/// The single-instance plugin's D-Bus name and object path for `app_id` (the plugin's own
/// rule: `{id}.SingleInstance`, dots to slashes, dashes to underscores).
fn service(app_id: &str) -> (String, String) {
    let name = format!("{app_id}.SingleInstance");
    let path = format!("/{}", name.replace('.', "/").replace('-', "_"));
    (name, path)
}

/// Hand `link` to the running Pixie. `false` when nobody took it (no session bus, no Pixie
/// owning the name): then this process starts the app itself.
#[cfg(target_os = "linux")]
fn forward(app: &Path, link: &str) -> bool {
    let Ok(connection) = zbus::blocking::Connection::session() else {
        return false;
    };
    let (name, path) = service(APP_ID);
    // The argv the app's single-instance callback expects from a second `pixie LINK`.
    let argv = vec![app.to_string_lossy().into_owned(), link.to_owned()];
    let cwd = std::env::current_dir()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    connection
        .call_method(
            Some(name.as_str()),
            path.as_str(),
            Some("org.SingleInstance.DBus"),
            "ExecuteCallback",
            &(argv, cwd),
        )
        .is_ok()
}

/// Elsewhere the desktop does not start a process per link the same way; start the app.
#[cfg(not(target_os = "linux"))]
fn forward(_app: &Path, _link: &str) -> bool {
    false
}

/// Become the app: exec `pixie` with the same arguments (argv[0] its full path, as when the
/// desktop started it directly). Returns only when the exec failed.
#[cfg(unix)]
fn exec_app(app: &Path, args: &[OsString]) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let err = std::process::Command::new(app).arg0(app).args(args).exec();
    eprintln!("pixie-open: could not start {}: {err}", app.display());
    ExitCode::FAILURE
}

#[cfg(not(unix))]
fn exec_app(app: &Path, args: &[OsString]) -> ExitCode {
    match std::process::Command::new(app).args(args).status() {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("pixie-open: could not start {}: {err}", app.display());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn only_a_single_pixie_link_is_forwarded() {
        let link = "dev.pixie.app:/oauth/callback/demo?code=a&state=b";
        assert_eq!(link_of(&args(&[link])), Some(link));
        assert_eq!(link_of(&args(&[])), None);
        assert_eq!(link_of(&args(&["--unregister"])), None);
        assert_eq!(link_of(&args(&[link, "--extra"])), None);
        assert_eq!(link_of(&args(&["dev.pixie.apps:/x"])), None);
        assert_eq!(link_of(&args(&["dev.pixie.app"])), None);
        assert_eq!(link_of(&args(&["https://dev.pixie.app:/x"])), None);
    }

    #[test]
    fn the_app_is_the_pixie_next_to_the_forwarder() {
        assert_eq!(
            app_path(Some(Path::new("/usr/bin/pixie-open"))),
            Some(PathBuf::from("/usr/bin/pixie"))
        );
        assert_eq!(
            app_path(Some(Path::new("/home/ada/pixie/target/debug/pixie-open"))),
            Some(PathBuf::from("/home/ada/pixie/target/debug/pixie"))
        );
        assert_eq!(app_path(None), None);
    }

    #[test]
    fn the_service_is_the_single_instance_plugins() {
        assert_eq!(
            service(APP_ID),
            (
                "dev.pixie.app.SingleInstance".to_owned(),
                "/dev/pixie/app/SingleInstance".to_owned()
            )
        );
    }

    #[test]
    fn names_agree_with_the_app() {
        assert_eq!(SCHEME, pixie_app::scheme::SCHEME);
        assert_eq!(APP_ID, pixie_app::APP_ID);
    }
}
