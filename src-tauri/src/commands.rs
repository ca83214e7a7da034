//! The commands the window may call. Thin: each hands off to the [`Owner`] and returns the
//! newest [`View`]. None returns a token.

use std::sync::Arc;

use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use crate::flow_file::SaveError;
use crate::machine::View;
use crate::owner::{Delivered, Owner};
use crate::window::TauriWindow;

type OwnerState<'a> = State<'a, Arc<Owner>>;

/// The window is ready: views are pushed on `on_view` from now on, in order. Returns the
/// newest view to draw first. This channel is the only way anything reaches the window:
/// it may not listen to events at all (the deep-link plugin's carry whole redirects).
#[tauri::command]
pub fn subscribe(
    owner: OwnerState<'_>,
    window: State<'_, Arc<TauriWindow>>,
    on_view: Channel<View>,
) -> View {
    static FIRST: std::sync::Once = std::sync::Once::new();
    window.attach(on_view);
    let view = owner.current_view();
    // The window is listening and about to draw this view: the start-up figure.
    FIRST.call_once(|| {
        tracing::info!(ms = crate::since_start_ms(), phase = ?view.phase, "window ready");
        crate::window_ready();
    });
    view
}

/// Start a sign-in: reach the provider, build the request, open the system browser. With
/// `again`, the listed account (its key) whose session ended; else a new account.
#[tauri::command]
pub async fn sign_in(owner: OwnerState<'_>, again: Option<String>) -> Result<View, ()> {
    Ok(owner.sign_in(again.as_deref()).await)
}

/// Sign in on another device (RFC 8628) instead of this computer's browser.
#[tauri::command]
pub async fn sign_in_on_device(owner: OwnerState<'_>) -> Result<View, ()> {
    Ok(owner.sign_in_on_device().await)
}

/// Start the waiting sign-in again through the provider's loopback URI.
#[tauri::command]
pub async fn try_loopback(owner: OwnerState<'_>) -> Result<View, ()> {
    Ok(owner.try_loopback().await)
}

/// Open the waiting sign-in's page in the browser again.
#[tauri::command]
pub async fn reopen_browser(owner: OwnerState<'_>) -> Result<View, ()> {
    Ok(owner.reopen_browser().await)
}

/// The waiting sign-in's page, to copy (it holds `state` and the PKCE challenge; never a
/// verifier, code or token).
#[tauri::command]
pub async fn sign_in_link(owner: OwnerState<'_>) -> Result<String, String> {
    owner
        .sign_in_link()
        .await
        .ok_or_else(|| "No sign-in is waiting for the browser.".into())
}

/// Show another signed-in account (instant: no browser, no network).
#[tauri::command]
pub async fn switch_account(owner: OwnerState<'_>, key: String) -> Result<View, ()> {
    Ok(owner.switch_account(&key).await)
}

/// Stop a sign-in (or leave the error screen).
#[tauri::command]
pub async fn cancel_sign_in(owner: OwnerState<'_>) -> Result<View, ()> {
    Ok(owner.cancel().await)
}

/// Sign out of one account (`key`, else the active one) or of `all`: revoke, forget the
/// keyring entries and cache; optionally in the browser too.
#[tauri::command]
pub async fn sign_out(
    owner: OwnerState<'_>,
    key: Option<String>,
    all: Option<bool>,
    also_in_browser: Option<bool>,
) -> Result<View, ()> {
    Ok(owner
        .sign_out(
            key.as_deref(),
            all.unwrap_or(false),
            also_in_browser.unwrap_or(false),
        )
        .await)
}

/// The person pasted the link their browser showed instead of opening Pixie.
#[tauri::command]
pub async fn submit_redirect(owner: OwnerState<'_>, url: String) -> Result<View, ()> {
    // Checked now; the exchange goes on in the background and reaches the window as views.
    if let Delivered::Exchange(job) = owner.redirect(url.trim(), false).await {
        let owner = Arc::clone(&owner);
        tauri::async_runtime::spawn(async move {
            let _ = owner.exchange(job).await;
        });
    }
    Ok(owner.current_view())
}

/// Pick the provider for the next sign-in (while signed out).
#[tauri::command]
pub async fn select_provider(owner: OwnerState<'_>, id: String) -> Result<View, ()> {
    Ok(owner.select_provider(&id).await)
}

/// The redacted steps of the last sign-in, for the sequence diagram.
#[tauri::command]
pub async fn flow(owner: OwnerState<'_>) -> Result<Vec<pixie_auth::FlowStep>, ()> {
    Ok(owner
        .machine()
        .await
        .trace()
        .map(|t| t.steps())
        .unwrap_or_default())
}

/// The last sign-in as Mermaid text (`mermaid`) or the redacted event log (`json`).
#[tauri::command]
pub async fn flow_export(owner: OwnerState<'_>, format: String) -> Result<String, String> {
    let m = owner.machine().await;
    let trace = m.trace().ok_or("No sign-in has been made yet.")?;
    match format.as_str() {
        "mermaid" => Ok(trace.to_mermaid()),
        "json" => Ok(trace.to_json()),
        _ => Err("Unknown export format.".into()),
    }
}

/// Save the last sign-in's sequence diagram, drawn by the core from the redacted trace, as
/// an SVG file in the Downloads folder; returns its path.
#[tauri::command]
pub async fn save_flow_svg(app: AppHandle, owner: OwnerState<'_>) -> Result<String, String> {
    let svg = {
        let m = owner.machine().await;
        m.trace()
            .map(|t| t.to_svg())
            .ok_or_else(|| SaveError::NoTrace.to_string())?
    };
    crate::flow_file::save_svg(&app, &svg).map_err(|e| e.to_string())
}
