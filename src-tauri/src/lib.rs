//! Pixie, the app: wires the plugins, owns the state machine, and turns OS deep links into
//! sign-ins. The protocol lives in `pixie-auth`; the UI in `ui/` only renders [`View`]s.

mod browser;
mod cache;
mod commands;
mod flow_file;
pub mod keystore;
mod lifecycle;
pub mod machine;
mod provider;
mod scheme;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

pub use machine::LOGOUT_REDIRECT_URI;

use machine::{Machine, Phase, RedirectOutcome, View};
use pixie_auth::{Error, Provider, StoredSession};
use pixie_dev_idp::DevIdp;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_deep_link::DeepLinkExt;

/// The one event the UI listens to; its payload is a [`View`].
pub const STATE_EVENT: &str = "pixie://state";

static STARTED: OnceLock<Instant> = OnceLock::new();

/// Milliseconds since the process started (for the start-up and restore figures in the log).
pub(crate) fn since_start_ms() -> u64 {
    STARTED.get_or_init(Instant::now).elapsed().as_millis() as u64
}

pub struct AppState {
    machine: Mutex<Machine>,
    provider: tokio::sync::OnceCell<Arc<Provider>>,
    idp: Mutex<Option<DevIdp>>,
    /// The session that is kept (refresh token, ID token). Its lock makes refresh single-flight.
    session: tokio::sync::Mutex<Option<StoredSession>>,
    /// Bumped on every sign-in and sign-out so timers of an old session do nothing.
    session_generation: AtomicU64,
    /// Where the embedded demo provider keeps its key and (hashed) refresh-token records.
    idp_state_file: Mutex<Option<std::path::PathBuf>>,
}

impl AppState {
    fn new() -> Self {
        Self {
            machine: Mutex::new(Machine::new(provider::display_name())),
            provider: tokio::sync::OnceCell::new(),
            idp: Mutex::new(None),
            session: tokio::sync::Mutex::new(None),
            session_generation: AtomicU64::new(0),
            idp_state_file: Mutex::new(None),
        }
    }

    fn next_session_generation(&self) -> u64 {
        self.session_generation.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn session_generation(&self) -> u64 {
        self.session_generation.load(Ordering::SeqCst)
    }

    fn with_machine<T>(&self, f: impl FnOnce(&mut Machine) -> T) -> T {
        let mut m = self.machine.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut m)
    }

    fn view(&self) -> View {
        self.with_machine(|m| m.view())
    }

    fn phase(&self) -> Phase {
        self.with_machine(|m| m.phase())
    }

    async fn provider(&self) -> Result<Arc<Provider>, Error> {
        self.provider
            .get_or_try_init(|| async {
                let state_file = self
                    .idp_state_file
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                let resolved = provider::resolve(state_file).await?;
                if let Some(idp) = resolved.idp {
                    *self.idp.lock().unwrap_or_else(|p| p.into_inner()) = Some(idp);
                }
                Ok(resolved.provider)
            })
            .await
            .cloned()
    }
}

/// When set, every [`View`] sent to the window is also appended to this file as a JSON line
/// (for tests and bug reports; a View holds no secret).
pub const EVENT_LOG_ENV: &str = "PIXIE_EVENT_LOG";

pub(crate) fn emit<R: Runtime>(app: &AppHandle<R>, view: &View) {
    tracing::info!(phase = ?view.phase, notice = view.notice.as_ref().map(|n| n.text.as_str()), error = view.error.as_ref().map(|e| e.code.as_str()), "state");
    if let Some(path) = std::env::var_os(EVENT_LOG_ENV).filter(|p| !p.is_empty()) {
        append_event(std::path::Path::new(&path), view);
    }
    if let Err(e) = app.emit(STATE_EVENT, view) {
        tracing::warn!(error = %e, "could not send the state to the window");
    }
}

fn append_event(path: &std::path::Path, view: &View) {
    use std::io::Write;
    let line = match serde_json::to_string(view) {
        Ok(l) => l,
        Err(e) => return tracing::warn!(error = %e, "could not serialise the view"),
    };
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| writeln!(f, "{line}"));
    if let Err(e) = written {
        tracing::warn!(error = %e, "could not write the event log");
    }
}

fn focus_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

pub(crate) async fn start_sign_in(app: &AppHandle, state: &AppState) -> View {
    let provider = match state.provider().await {
        Ok(p) => p,
        Err(e) => return fail(app, state, None, &e),
    };
    let pending = match provider.start_sign_in() {
        Ok(p) => p,
        Err(e) => return fail(app, state, None, &e),
    };
    let url = pending.authorization_url().clone();
    let (attempt, view) = state.with_machine(|m| m.begin(provider, pending));
    emit(app, &view);
    if let Err(e) = browser::open(app, &url) {
        tracing::error!(error = %e, "could not open the browser");
        let err = Error::Config(format!(
            "{e}. Set {} to a browser command.",
            browser::BROWSER_ENV
        ));
        return fail(app, state, Some(attempt), &err);
    }
    // Design: a pending sign-in times out; a browser closed mid-way never leaves us waiting.
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(pixie_auth::signin::SIGN_IN_TIMEOUT).await;
        let state = handle.state::<AppState>();
        if let Some(view) = state.with_machine(|m| m.expire(attempt)) {
            emit(&handle, &view);
        }
    });
    view
}

fn fail(app: &AppHandle, state: &AppState, attempt: Option<u64>, e: &Error) -> View {
    tracing::warn!(code = e.code(), error = %e, "sign-in failed");
    match state.with_machine(|m| m.fail(attempt, e)) {
        Some(view) => {
            emit(app, &view);
            view
        }
        None => state.view(),
    }
}

/// The one entry for redirects: cold start, a running app, a second process, or a paste.
pub(crate) fn handle_redirect<R: Runtime>(app: &AppHandle<R>, raw: &str) {
    tracing::info!(len = raw.len(), "a sign-in redirect arrived");
    let state = app.state::<AppState>();
    let outcome = state.with_machine(|m| m.redirect(raw));
    focus_main(app);
    match outcome {
        RedirectOutcome::Ignored(view) | RedirectOutcome::Failed(view) => emit(app, &view),
        RedirectOutcome::Exchange { view, job } => {
            emit(app, &view);
            let handle = app.clone();
            tauri::async_runtime::spawn(async move {
                let started = std::time::Instant::now();
                let result = job.provider.complete(&job.pending, &job.callback).await;
                if let Err(e) = &result {
                    tracing::warn!(code = e.code(), error = %e, "sign-in failed");
                } else {
                    tracing::info!(ms = started.elapsed().as_millis() as u64, "signed in");
                }
                let state = handle.state::<AppState>();
                let signed_in = result.is_ok();
                if let Some(view) = state.with_machine(|m| m.finish(job.attempt, result)) {
                    emit(&handle, &view);
                    if signed_in {
                        lifecycle::after_sign_in(&handle, job.provider.clone()).await;
                    }
                }
            });
        }
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
        .plugin(tauri_plugin_opener::init())
        .manage(AppState::new())
        .invoke_handler(tauri::generate_handler![
            commands::sign_in,
            commands::cancel_sign_in,
            commands::sign_out,
            commands::session,
            commands::submit_redirect,
            commands::flow,
            commands::flow_export,
            commands::save_flow_svg,
        ])
        .setup(|app| {
            let handle = app.handle().clone();
            if let Ok(dir) = app.path().app_data_dir() {
                *app.state::<AppState>()
                    .idp_state_file
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some(dir.join("demo-provider.json"));
            }
            scheme::ensure_registered(&handle);
            let on_link = handle.clone();
            app.deep_link().on_open_url(move |event| {
                for url in event.urls() {
                    handle_redirect(&on_link, url.as_str());
                }
            });
            // A saved session: draw it now, refresh it in the background.
            lifecycle::restore_at_launch(&handle);
            // Cold start: the link that launched us, handled before the window asks for state.
            match app.deep_link().get_current() {
                Ok(Some(urls)) => {
                    for url in urls {
                        handle_redirect(&handle, url.as_str());
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not read the launch link"),
            }
            // Warm up the provider so the first click opens the browser at once.
            let warm = handle.clone();
            tauri::async_runtime::spawn(async move {
                if let Err(e) = warm.state::<AppState>().provider().await {
                    tracing::warn!(error = %e, "provider not ready yet; will retry on sign-in");
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
