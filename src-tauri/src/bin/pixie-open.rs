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

#[path = "../forward.rs"]
mod forward;

/// The scheme Pixie's sign-in links use, defined once in the core.
use pixie_auth::settings::SCHEME;
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

/// Hand `link` to the running Pixie, as if a second `pixie LINK` had been started.
fn forward(app: &Path, link: &str) -> bool {
    forward::forward(vec![app.to_string_lossy().into_owned(), link.to_owned()])
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
            forward::service(forward::APP_ID),
            (
                "dev.pixie.app.SingleInstance".to_owned(),
                "/dev/pixie/app/SingleInstance".to_owned()
            )
        );
    }

    #[test]
    fn names_agree_with_the_app() {
        assert_eq!(SCHEME, pixie_app::scheme::SCHEME);
        assert_eq!(forward::APP_ID, pixie_app::APP_ID);
    }
}
