//! The floor for Pixie's app figures: an empty Tauri 2 app with what Pixie cannot do without
//! (the single-instance plugin with its `deep-link` feature, registered first, and the
//! deep-link plugin), the same window and security settings, and one static page.
//! `bench/run.sh` starts it beside Pixie and prints every app figure as a ratio to it.
//!
//! It writes two lines on stderr, the marks the bench times, in the words Pixie's log uses:
//! `window ready` when the page's script calls `ready`, and `a sign-in redirect arrived`
//! when a link reaches the running app. It never registers itself as a link handler: the
//! bench writes a handler into its own sandboxed XDG folders.

// Keep a console window from opening alongside it on Windows release builds, as Pixie does.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::sync::{Once, OnceLock};
use std::time::Instant;

use tauri::Manager;
use tauri_plugin_deep_link::DeepLinkExt;

static STARTED: OnceLock<Instant> = OnceLock::new();

fn since_start_ms() -> u128 {
    STARTED.get_or_init(Instant::now).elapsed().as_millis()
}

/// The page has run its script: the start-up mark.
#[tauri::command]
fn ready() {
    static FIRST: Once = Once::new();
    FIRST.call_once(|| eprintln!("pixie-floor: window ready ms={}", since_start_ms()));
}

fn main() {
    since_start_ms();
    let result = tauri::Builder::default()
        // Single-instance first, as in Pixie: a second process forwards its link and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.unminimize();
                let _ = w.show();
                let _ = w.set_focus();
            }
        }))
        .plugin(tauri_plugin_deep_link::init())
        .invoke_handler(tauri::generate_handler![ready])
        .setup(|app| {
            app.deep_link().on_open_url(|event| {
                eprintln!(
                    "pixie-floor: a sign-in redirect arrived ms={} links={}",
                    since_start_ms(),
                    event.urls().len()
                );
            });
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("pixie-floor: {e}");
        std::process::exit(1);
    }
}
