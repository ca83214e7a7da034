// Keep a console window from opening alongside Pixie on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

// The rules for who receives sign-in links, shared with the app's check at start-up.
#[cfg(target_os = "linux")]
use pixie_app::scheme::desktop;

use std::process::ExitCode;

fn main() -> ExitCode {
    if std::env::args().skip(1).any(|a| a == "--unregister") {
        return unregister();
    }
    // A sign-in link for a Pixie that is already running: hand it over and go.
    if pixie_app::forward_link() {
        return ExitCode::SUCCESS;
    }
    pixie_app::run();
    ExitCode::SUCCESS
}

/// `pixie --unregister`: remove what a dev run registered so the desktop stops handing
/// `dev.pixie.app:` links to it. An installed package's files are never touched.
#[cfg(target_os = "linux")]
fn unregister() -> ExitCode {
    let Some(xdg) = desktop::Xdg::from_env() else {
        eprintln!("pixie: {}", desktop::UnregisterError::NoHome);
        return ExitCode::FAILURE;
    };
    match desktop::unregister(&xdg) {
        Ok(done) => {
            if done.is_empty() {
                println!("pixie: no dev registration of dev.pixie.app to remove");
            }
            for line in done {
                println!("pixie: {line}");
            }
            if let Some(installed) = desktop::installed_handler(&xdg) {
                println!(
                    "pixie: the installed {} still receives links (its package's file is not changed)",
                    installed.id
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pixie: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn unregister() -> ExitCode {
    println!("pixie: --unregister is for Linux desktops; nothing to do here");
    ExitCode::SUCCESS
}
