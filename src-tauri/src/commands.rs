//! The commands the window may call. Thin: each hands off to the state machine and returns
//! the new [`View`]. None returns a token.

use tauri::{AppHandle, Manager, State};

use crate::machine::{Phase, View};
use crate::{AppState, emit, handle_redirect};

/// Start a sign-in: build the request and open it in the system browser.
#[tauri::command]
pub async fn sign_in(app: AppHandle) -> View {
    let state = app.state::<AppState>();
    if matches!(state.phase(), Phase::SignedIn | Phase::Exchanging) {
        return state.view();
    }
    crate::start_sign_in(&app, &state).await
}

/// Stop waiting for the browser.
#[tauri::command]
pub fn cancel_sign_in(app: AppHandle, state: State<'_, AppState>) -> View {
    state.close_loopback();
    let view = state.with_machine(|m| {
        if m.phase() == Phase::Failed {
            m.dismiss()
        } else {
            m.cancel()
        }
    });
    emit(&app, &view);
    view
}

/// Sign out: revoke, forget the keyring entry and cache; optionally in the browser too.
#[tauri::command]
pub async fn sign_out(app: AppHandle, also_in_browser: Option<bool>) -> View {
    crate::lifecycle::sign_out(&app, also_in_browser.unwrap_or(false)).await;
    app.state::<AppState>().view()
}

/// What the window should show now (called once when the page loads).
#[tauri::command]
pub fn session(state: State<'_, AppState>) -> View {
    static FIRST: std::sync::Once = std::sync::Once::new();
    let view = state.view();
    // The window is listening and about to draw this view: the start-up figure.
    FIRST.call_once(|| {
        tracing::info!(ms = crate::since_start_ms(), phase = ?view.phase, "window ready");
    });
    view
}

/// The person pasted the link their browser showed instead of opening Pixie.
#[tauri::command]
pub fn submit_redirect(app: AppHandle, state: State<'_, AppState>, url: String) -> View {
    // The outcome reaches the window as events; nothing here waits for the exchange.
    let _ = handle_redirect(&app, url.trim());
    state.view()
}

/// The redacted steps of the last sign-in, for the sequence diagram.
#[tauri::command]
pub fn flow(state: State<'_, AppState>) -> Vec<pixie_auth::FlowStep> {
    state.with_machine(|m| m.trace().map(|t| t.steps()).unwrap_or_default())
}

/// The last sign-in as Mermaid text (`mermaid`) or the redacted event log (`json`).
#[tauri::command]
pub fn flow_export(state: State<'_, AppState>, format: String) -> Result<String, String> {
    state.with_machine(|m| {
        let trace = m.trace().ok_or("No sign-in has been made yet.")?;
        match format.as_str() {
            "mermaid" => Ok(trace.to_mermaid()),
            "json" => Ok(trace.to_json()),
            _ => Err(format!("Unknown export format {format:?}.")),
        }
    })
}

/// Save the diagram the window drew as an SVG file in the Downloads folder; returns its path.
#[tauri::command]
pub fn save_flow_svg(app: AppHandle, svg: String) -> Result<String, String> {
    crate::flow_file::save_svg(&app, &svg).map_err(|e| e.to_string())
}

/// Pick the provider for the next sign-in (while signed out). It is remembered for the next
/// launch when a sign-in starts with it.
#[tauri::command]
pub fn select_provider(app: AppHandle, state: State<'_, AppState>, id: String) -> View {
    match state.with_machine(|m| m.select(&id)) {
        Some(view) => {
            emit(&app, &view);
            view
        }
        None => state.view(),
    }
}
