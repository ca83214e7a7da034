//! Pixie, the app: wires the plugins, owns the state machine, and turns OS deep links into
//! sign-ins. The protocol lives in `pixie-auth`; the UI in `ui/` only renders [`View`]s.

pub mod browser;
pub mod cache;
mod commands;
pub mod error;
mod flow_file;
pub mod keystore;
pub mod machine;
pub mod owner;
pub mod provider;
mod scheme;
mod window;

use std::sync::{Arc, OnceLock};
use std::time::Instant;

pub use owner::LOGOUT_REDIRECT_URI;

use machine::Machine;
use owner::Owner;
use tauri::Manager;
use tauri_plugin_deep_link::DeepLinkExt;
use window::TauriWindow;

static STARTED: OnceLock<Instant> = OnceLock::new();

/// Milliseconds since the process started (for the start-up and restore figures in the log).
pub(crate) fn since_start_ms() -> u64 {
    STARTED.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Show a passing message in the window without changing the phase.
pub(crate) fn notify<R: tauri::Runtime>(app: &tauri::AppHandle<R>, text: &str) {
    if let Some(owner) = app.try_state::<Arc<Owner>>() {
        let owner = Arc::clone(&owner);
        let text = text.to_owned();
        tauri::async_runtime::spawn(async move { owner.notify(&text).await });
    }
}

/// Focus the main window (a second launch, a redirect).
fn focus_main<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

pub fn run() {
    since_start_ms();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "pixie_app=info,pixie_auth=info,pixie_dev_idp=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let result = tauri::Builder::default()
        // Single-instance first: a redirect that starts a second process is forwarded to
        // this one (its `deep-link` feature feeds `on_open_url`), and the second exits.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            focus_main(app);
        }))
        .plugin(tauri_plugin_deep_link::init())
        .invoke_handler(tauri::generate_handler![
            commands::subscribe,
            commands::sign_in,
            commands::cancel_sign_in,
            commands::sign_out,
            commands::switch_account,
            commands::sign_in_on_device,
            commands::try_loopback,
            commands::reopen_browser,
            commands::sign_in_link,
            commands::submit_redirect,
            commands::flow,
            commands::flow_export,
            commands::save_flow_svg,
            commands::select_provider,
        ])
        .setup(|app| {
            let handle = app.handle().clone();
            let args: Vec<String> = std::env::args().collect();
            let registry = Arc::new(provider::Registry::load(
                app.path().app_config_dir().ok().as_deref(),
                app.path().app_data_dir().ok().as_deref(),
                &args,
            ));
            let mut machine = Machine::with_providers(
                registry.options(),
                Some(&registry.initial),
                registry.config_error.clone(),
            );
            if let Some(text) = &registry.notice {
                machine.notify(text);
            }
            let window = Arc::new(TauriWindow::new(handle.clone()));
            let owner = Owner::new(
                machine,
                Arc::new(keystore::SystemKeyring),
                registry.clone(),
                Arc::new(browser::SystemBrowser),
                window.clone(),
                app.path().app_cache_dir().ok(),
            );
            app.manage(owner.clone());
            app.manage(window);
            scheme::ensure_registered(&handle);
            let on_link = owner.clone();
            app.deep_link().on_open_url(move |event| {
                let urls: Vec<String> = event.urls().iter().map(|u| u.to_string()).collect();
                let owner = on_link.clone();
                tauri::async_runtime::spawn(async move {
                    for url in urls {
                        owner.deliver(&url).await;
                    }
                });
            });
            // A saved session: draw it now, read it back and refresh it in the background.
            tauri::async_runtime::spawn(owner.clone().restore_at_launch());
            // Cold start: the link that launched us.
            match app.deep_link().get_current() {
                Ok(Some(urls)) => {
                    let urls: Vec<String> = urls.iter().map(|u| u.to_string()).collect();
                    let owner = owner.clone();
                    tauri::async_runtime::spawn(async move {
                        for url in urls {
                            owner.deliver(&url).await;
                        }
                    });
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not read the launch link"),
            }
            // Warm up the provider so the first click opens the browser at once.
            tauri::async_runtime::spawn(async move {
                let id = owner.machine().await.selected_id().to_owned();
                if let Err(e) = owner.provider(&id).await {
                    tracing::warn!(
                        code = e.code(),
                        "provider not ready yet; will retry on sign-in"
                    );
                }
            });
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("pixie: {e}");
        std::process::exit(1);
    }
}
