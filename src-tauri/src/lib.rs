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
use pixie_auth::config::RedirectMode;
use pixie_auth::loopback::{LoopbackListener, Page};
use pixie_auth::{Error, Provider, StoredSession};
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
    /// The providers on offer, read at setup (it needs the app's config and data dirs).
    registry: OnceLock<provider::Registry>,
    /// The session that is kept (refresh token, ID token). Its lock makes refresh single-flight.
    session: tokio::sync::Mutex<Option<StoredSession>>,
    /// Bumped on every sign-in and sign-out so timers of an old session do nothing.
    session_generation: AtomicU64,
    /// The loopback listener of the sign-in in progress (RFC 8252 §7.3), if it uses one.
    loopback: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
}

impl AppState {
    fn new() -> Self {
        Self {
            machine: Mutex::new(Machine::new(provider::DEMO_NAME)),
            registry: OnceLock::new(),
            session: tokio::sync::Mutex::new(None),
            session_generation: AtomicU64::new(0),
            loopback: Mutex::new(None),
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

    fn registry(&self) -> Result<&provider::Registry, Error> {
        self.registry
            .get()
            .ok_or_else(|| Error::Config("Pixie is still starting".into()))
    }

    /// The provider the next sign-in uses.
    async fn provider(&self) -> Result<Arc<Provider>, Error> {
        let id = self.with_machine(|m| m.selected_id().to_owned());
        self.provider_for(&id).await
    }

    /// The provider with this id (a saved session names the one it belongs to).
    async fn provider_for(&self, id: &str) -> Result<Arc<Provider>, Error> {
        self.registry()?.provider(id).await
    }

    /// Stop the loopback listener of an earlier sign-in, if one is still open.
    fn close_loopback(&self) {
        if let Some(task) = self
            .loopback
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            task.abort();
        }
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

/// Show a passing message in the window without changing the phase.
pub(crate) fn notify<R: Runtime>(app: &AppHandle<R>, text: &str) {
    let view = app.state::<AppState>().with_machine(|m| m.notify(text));
    emit(app, &view);
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
    state.close_loopback();
    let provider = match state.provider().await {
        Ok(p) => p,
        Err(e) => return fail(app, state, None, &e),
    };
    // RFC 8252 §7.3: a loopback redirect gets a listener of its own for this sign-in.
    let listener = match provider.config().redirect {
        RedirectMode::Loopback => {
            match LoopbackListener::bind(provider.redirect_uri().path()).await {
                Ok(l) => Some(l),
                Err(e) => return fail(app, state, None, &e),
            }
        }
        RedirectMode::DeepLink => None,
    };
    let pending = match &listener {
        Some(l) => provider.start_sign_in_to(l.redirect_uri()),
        None => provider.start_sign_in(),
    };
    let pending = match pending {
        Ok(p) => p,
        Err(e) => return fail(app, state, None, &e),
    };
    if let Ok(registry) = state.registry() {
        registry.remember(&provider.config().id);
    }
    let url = pending.authorization_url().clone();
    let (attempt, view) = state.with_machine(|m| m.begin(provider, pending));
    emit(app, &view);
    if let Some(listener) = listener {
        let task = tauri::async_runtime::spawn(serve_loopback(app.clone(), listener));
        *state.loopback.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
    }
    if let Err(e) = browser::open(app, &url) {
        tracing::error!(error = %e, "could not open the browser");
        let err = Error::Config(format!(
            "{e}. Set {} to a browser command.",
            browser::BROWSER_ENV
        ));
        state.close_loopback();
        return fail(app, state, Some(attempt), &err);
    }
    // Design: a pending sign-in times out; a browser closed mid-way never leaves us waiting.
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(pixie_auth::signin::SIGN_IN_TIMEOUT).await;
        let state = handle.state::<AppState>();
        if let Some(view) = state.with_machine(|m| m.expire(attempt)) {
            state.close_loopback();
            emit(&handle, &view);
        }
    });
    view
}

/// The loopback listener of one sign-in (RFC 8252 §7.3): every request on the callback path
/// goes through [`handle_redirect`], the same path as a deep link; the browser is answered
/// with how the sign-in went, and the listener closes after the first one that settles it.
async fn serve_loopback(app: AppHandle, listener: LoopbackListener) {
    loop {
        let request = match listener.next().await {
            Ok(r) => r,
            Err(e) => return tracing::warn!(error = %e, "the loopback listener stopped"),
        };
        match handle_redirect(&app, request.url()) {
            Delivered::Ignored => request.respond(Page::Ignored).await,
            Delivered::Failed(message) => return request.respond(Page::Failed(&message)).await,
            Delivered::Exchanging(job) => {
                let page = match job.await {
                    Ok(Ok(())) => return request.respond(Page::SignedIn).await,
                    Ok(Err(message)) => message,
                    Err(e) => e.to_string(),
                };
                return request.respond(Page::Failed(&page)).await;
            }
        }
    }
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

/// What became of a redirect, for a caller that answers someone (the loopback listener).
pub(crate) enum Delivered {
    /// Not this sign-in's: a notice, nothing else changed.
    Ignored,
    /// It ended the sign-in; the plain-words reason.
    Failed(String),
    /// The code is being exchanged; the task ends with the sign-in (`Err`: the reason).
    Exchanging(tauri::async_runtime::JoinHandle<Result<(), String>>),
}

/// The one entry for redirects: cold start, a running app, a second process, a paste, or
/// the loopback listener.
pub(crate) fn handle_redirect<R: Runtime>(app: &AppHandle<R>, raw: &str) -> Delivered {
    tracing::info!(len = raw.len(), "a sign-in redirect arrived");
    let state = app.state::<AppState>();
    let outcome = state.with_machine(|m| m.redirect(raw));
    focus_main(app);
    match outcome {
        RedirectOutcome::Ignored(view) => {
            emit(app, &view);
            Delivered::Ignored
        }
        RedirectOutcome::Failed(view) => {
            emit(app, &view);
            Delivered::Failed(
                view.error
                    .map(|e| e.message)
                    .unwrap_or_else(|| "The sign-in did not finish.".into()),
            )
        }
        RedirectOutcome::Exchange { view, job } => {
            emit(app, &view);
            let handle = app.clone();
            Delivered::Exchanging(tauri::async_runtime::spawn(async move {
                let started = std::time::Instant::now();
                let result = job.provider.complete(&job.pending, &job.callback).await;
                let outcome = match &result {
                    Err(e) => {
                        tracing::warn!(code = e.code(), error = %e, "sign-in failed");
                        Err(e.user_message())
                    }
                    Ok(_) => {
                        tracing::info!(ms = started.elapsed().as_millis() as u64, "signed in");
                        Ok(())
                    }
                };
                let state = handle.state::<AppState>();
                let signed_in = result.is_ok();
                if let Some(view) = state.with_machine(|m| m.finish(job.attempt, result)) {
                    emit(&handle, &view);
                    if signed_in {
                        lifecycle::after_sign_in(&handle, job.provider.clone()).await;
                    }
                }
                outcome
            }))
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
            commands::select_provider,
        ])
        .setup(|app| {
            let handle = app.handle().clone();
            let state = app.state::<AppState>();
            let args: Vec<String> = std::env::args().collect();
            let registry = provider::Registry::load(
                app.path().app_config_dir().ok().as_deref(),
                app.path().app_data_dir().ok().as_deref(),
                &args,
            );
            state.with_machine(|m| {
                *m = Machine::with_providers(
                    registry.options(),
                    Some(&registry.initial),
                    registry.config_error.clone(),
                );
                if let Some(text) = &registry.notice {
                    m.notify(text);
                }
            });
            let _ = state.registry.set(registry);
            scheme::ensure_registered(&handle);
            let on_link = handle.clone();
            app.deep_link().on_open_url(move |event| {
                for url in event.urls() {
                    let _ = handle_redirect(&on_link, url.as_str());
                }
            });
            // A saved session: draw it now, refresh it in the background.
            lifecycle::restore_at_launch(&handle);
            // Cold start: the link that launched us, handled before the window asks for state.
            match app.deep_link().get_current() {
                Ok(Some(urls)) => {
                    for url in urls {
                        let _ = handle_redirect(&handle, url.as_str());
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
