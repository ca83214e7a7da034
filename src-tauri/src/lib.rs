//! Pixie, the app: wires the plugins, owns the state machine, and turns OS deep links into
//! sign-ins. The protocol lives in `pixie-auth`; the UI in `ui/` only renders [`View`]s.

pub mod browser;
pub mod cache;
mod commands;
pub mod error;
mod flow_file;
mod forward;
pub mod keystore;
pub mod machine;
pub mod owner;
pub mod provider;
pub mod scheme;
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

/// Told when the window has drawn its first view; deferred start-up work waits for it.
static WINDOW_READY: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Where start-up time goes: one `startup step=NAME ms=N` line per step (read by the bench).
pub(crate) fn startup_step(step: &str) {
    tracing::info!(step, ms = since_start_ms(), "startup");
}

/// The window drew its first view.
pub(crate) fn window_ready() {
    startup_step("window_ready");
    WINDOW_READY.notify_one();
}

/// After the first paint: register the scheme handler and reach the picked provider, so the
/// first click opens the browser at once. The demo provider is not started for that: it
/// starts on the first sign-in that needs it.
async fn after_first_paint(
    app: &tauri::AppHandle,
    owner: &Arc<Owner>,
    registry: &provider::Registry,
) {
    scheme::ensure_registered(app);
    let id = owner.machine().await.selected_id().to_owned();
    if registry.is_demo(&id) {
        return;
    }
    if let Err(e) = owner.provider(&id).await {
        tracing::warn!(
            code = e.code(),
            "provider not ready yet; will retry on sign-in"
        );
    }
    startup_step("warm_up_done");
}

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

/// The app's identifier (tauri.conf.json), which names its D-Bus single-instance service.
pub use forward::APP_ID;

/// The hand-back fast path. The desktop starts a second Pixie for every sign-in link; the
/// single-instance plugin would forward the link only once GTK and the webview runtime are
/// up. Here the link goes to the running Pixie over that plugin's own D-Bus interface
/// (`org.SingleInstance.DBus.ExecuteCallback` on `{APP_ID}.SingleInstance`) before any
/// toolkit is loaded. `true`: forwarded, exit now; `false` (no link, no bus, no running
/// Pixie): start normally, and the link is handled at start-up.
pub fn forward_link() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let scheme = format!("{}:", scheme::SCHEME);
    args.iter().skip(1).any(|a| a.starts_with(&scheme)) && forward::forward(args)
}

/// Hand links from the OS to the owner, in the order they came, off the caller's thread.
fn deliver_all(owner: &Arc<Owner>, urls: &[url::Url]) {
    let urls: Vec<String> = urls.iter().map(|u| u.to_string()).collect();
    let owner = owner.clone();
    tauri::async_runtime::spawn(async move {
        for url in urls {
            owner.deliver(&url).await;
        }
    });
}

/// Focus the main window (a second launch, a redirect).
pub(crate) fn focus_main<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Log lines to stderr for the targets `RUST_LOG` names (`target=level,…`, or one level),
/// else for `default`. A plain target filter rather than `EnvFilter`, whose regular
/// expressions cost the binary a regex engine.
fn log_to_stderr(default: &str) {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .or_else(|| default.parse::<Targets>().ok())
        .unwrap_or_default();
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .try_init();
}

pub fn run() {
    since_start_ms();
    log_to_stderr("pixie_app=info,pixie_auth=info,pixie_dev_idp=info");

    startup_step("main");
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
            startup_step("setup");
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
            // What is known without starting it: the demo provider offers both.
            machine.provider_ready(provider::DEMO_ID, true, true);
            if let Some(text) = &registry.notice {
                machine.notify(text);
            }
            // Saved accounts are drawn from the cache before the window asks, so its first
            // paint is the right one; their sessions are read back in the background.
            let cache_dir = app.path().app_cache_dir().ok();
            let restored = cache_dir
                .as_deref()
                .and_then(cache::load)
                .and_then(|c| machine.restore(c))
                .map(|(restored, _)| restored);
            startup_step("restored");
            let window = Arc::new(TauriWindow::new(handle.clone()));
            let owner = Owner::new(
                machine,
                Arc::new(keystore::SystemKeyring),
                registry.clone(),
                Arc::new(browser::SystemBrowser),
                window.clone(),
                cache_dir,
            );
            app.manage(owner.clone());
            app.manage(window);
            let on_link = owner.clone();
            app.deep_link()
                .on_open_url(move |event| deliver_all(&on_link, &event.urls()));
            if let Some(restored) = restored {
                tauri::async_runtime::spawn(owner.clone().read_back(restored));
            }
            // Cold start: the link that launched us.
            match app.deep_link().get_current() {
                Ok(Some(urls)) => deliver_all(&owner, &urls),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not read the launch link"),
            }
            // Nothing the first paint does not need runs before it: the scheme registration
            // and the provider warm-up wait for the window (or 3 s, whichever comes first).
            let after = handle.clone();
            tauri::async_runtime::spawn(async move {
                tokio::select! {
                    () = WINDOW_READY.notified() => {}
                    () = tokio::time::sleep(std::time::Duration::from_secs(3)) => {}
                }
                after_first_paint(&after, &owner, &registry).await;
            });
            startup_step("setup_done");
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("pixie: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_app_id_is_the_one_tauri_is_configured_with() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        assert_eq!(conf["identifier"], super::APP_ID);
    }
}
