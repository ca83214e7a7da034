//! What happens to a session after the sign-in: saved to the keyring, restored at launch,
//! refreshed before it expires, revoked at sign-out. Network and keyring work never blocks
//! the window: the cached profile is drawn first and everything else follows.

use std::sync::Arc;
use std::time::Duration;

use pixie_auth::{Error, Provider, StoredSession};
use tauri::{AppHandle, Manager, Runtime};

use crate::keystore::{self, KeyringError};
use crate::machine::{NOTICE_SESSION_ENDED, Phase};
use crate::{AppState, cache, emit, notify};

/// Refresh this long before the access token expires.
const REFRESH_AHEAD: Duration = Duration::from_secs(60);
/// After a failed refresh that may pass (offline), try again after this.
const RETRY_AFTER: Duration = Duration::from_secs(30);

fn cache_dir<R: Runtime>(app: &AppHandle<R>) -> Option<std::path::PathBuf> {
    app.path().app_cache_dir().ok()
}

fn keyring_message(e: &KeyringError) -> String {
    format!(
        "Pixie couldn't save your sign-in to the system keyring: {e}. You'll stay signed in until you quit."
    )
}

/// Right after a sign-in: keep the session (keyring) and the profile (cache), and plan the
/// first refresh.
pub async fn after_sign_in<R: Runtime>(app: &AppHandle<R>, provider: Arc<Provider>) {
    let state = app.state::<AppState>();
    let (stored, profile, expires_at) = state.with_machine(|m| {
        let tokens = m.tokens();
        (
            tokens.and_then(|t| StoredSession::from_tokens(&provider, t, None)),
            m.view().profile,
            tokens.and_then(|t| t.expires_at),
        )
    });
    let generation = state.next_session_generation();
    if let Some(profile) = &profile
        && let Some(dir) = cache_dir(app)
    {
        cache::save(&dir, profile);
    }
    let Some(stored) = stored else {
        tracing::info!("the provider issued no refresh token; the session lasts until quit");
        return;
    };
    if let Err(e) = keystore::save(&stored).await {
        tracing::warn!(error = ?e, "keyring save failed");
        notify(app, &keyring_message(&e));
    }
    *state.session.lock().await = Some(stored);
    schedule_refresh(app, generation, expires_at);
}

/// At launch: draw the cached profile at once, then bring the session back in the background.
pub fn restore_at_launch<R: Runtime>(app: &AppHandle<R>) {
    let Some(dir) = cache_dir(app) else { return };
    let Some(cached) = cache::load(&dir) else {
        return;
    };
    let state = app.state::<AppState>();
    let account = keystore::account(&cached.provider_id, &cached.subject);
    let view = state.with_machine(|m| m.restore(cached));
    tracing::info!(ms = crate::since_start_ms(), "restored the cached profile");
    emit(app, &view);
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = handle.state::<AppState>();
        let generation = state.next_session_generation();
        let stored = match keystore::load(account).await {
            Ok(Some(s)) => s,
            Ok(None) => return end_session(&handle, None).await,
            Err(e) => {
                tracing::warn!(error = ?e, "keyring read failed at launch");
                let text = format!(
                    "Pixie couldn't read your saved sign-in from the system keyring: {e}. Sign in again."
                );
                let view = state.with_machine(|m| m.session_ended(&text));
                return emit(&handle, &view);
            }
        };
        *state.session.lock().await = Some(stored);
        refresh(&handle, generation).await;
    });
}

fn schedule_refresh<R: Runtime>(
    app: &AppHandle<R>,
    generation: u64,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) {
    let Some(expires_at) = expires_at else { return };
    let wait = (expires_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default()
        .saturating_sub(REFRESH_AHEAD)
        .max(Duration::from_secs(5));
    schedule_after(app, generation, wait);
}

fn schedule_after<R: Runtime>(app: &AppHandle<R>, generation: u64, wait: Duration) {
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(wait).await;
        refresh(&handle, generation).await;
    });
}

/// Refresh the session: single-flight (the session lock), the rotated refresh token written
/// to the keyring before anything uses the new access token.
pub async fn refresh<R: Runtime>(app: &AppHandle<R>, generation: u64) {
    let state = app.state::<AppState>();
    let Some(kept) = state.session.lock().await.clone() else {
        return;
    };
    if state
        .registry()
        .is_ok_and(|r| !r.contains(&kept.provider_id))
    {
        // The provider was taken out of providers.toml: its session cannot be renewed.
        return end_session(app, Some(&kept)).await;
    }
    let provider = match state.provider_for(&kept.provider_id).await {
        Ok(p) => p,
        Err(e) => return offline(app, generation, &e),
    };
    let mut session = state.session.lock().await;
    if state.session_generation() != generation {
        return; // signed out or signed in again meanwhile
    }
    let Some(current) = session.clone() else {
        return;
    };
    let mut result = provider.refresh(&current).await;
    // Design: on invalid_grant re-read the store; another writer may have rotated it.
    if let Err(e) = &result
        && e.is_invalid_grant()
        && let Ok(Some(stored)) =
            keystore::load(keystore::account(&current.provider_id, &current.subject)).await
        && stored.refresh_token != current.refresh_token
    {
        result = provider.refresh(&stored).await;
    }
    let tokens = match result {
        Ok(t) => t,
        Err(e) if e.is_invalid_grant() => {
            drop(session);
            return end_session(app, Some(&current)).await;
        }
        Err(e) => {
            drop(session);
            return offline(app, generation, &e);
        }
    };
    let next = StoredSession::from_tokens(&provider, &tokens, Some(&current));
    if let Some(next) = &next
        && let Err(e) = keystore::save(next).await
    {
        // The old refresh token may already be spent: say so, carry on in memory.
        tracing::warn!(error = ?e, "keyring save after refresh failed");
        notify(app, &keyring_message(&e));
    }
    *session = next;
    drop(session);
    let expires_at = tokens.expires_at;
    let profile = match provider.load_profile(&tokens).await {
        Ok((p, _)) => Some(p),
        Err(e) => {
            tracing::warn!(error = %e, "profile not refreshed");
            None
        }
    };
    if let Some(p) = &profile
        && let Some(dir) = cache_dir(app)
    {
        cache::save(&dir, p);
    }
    tracing::info!(ms = crate::since_start_ms(), "session refreshed");
    if let Some(view) = state.with_machine(|m| m.refreshed(tokens, profile)) {
        emit(app, &view);
    }
    schedule_refresh(app, generation, expires_at);
}

fn offline<R: Runtime>(app: &AppHandle<R>, generation: u64, e: &Error) {
    tracing::warn!(code = e.code(), error = %e, "refresh failed; will retry");
    if app.state::<AppState>().phase() == Phase::SignedIn {
        notify(
            app,
            "Pixie couldn't reach the provider to renew your session. It will keep trying; you stay signed in.",
        );
    }
    schedule_after(app, generation, RETRY_AFTER);
}

/// The provider ended the session: forget it everywhere and ask the person to sign in.
async fn end_session<R: Runtime>(app: &AppHandle<R>, session: Option<&StoredSession>) {
    let state = app.state::<AppState>();
    state.next_session_generation();
    let account = match (session, state.with_machine(|m| m.view().profile)) {
        (Some(s), _) => Some(keystore::account(&s.provider_id, &s.subject)),
        (None, Some(p)) => Some(keystore::account(&p.provider_id, &p.subject)),
        _ => None,
    };
    *state.session.lock().await = None;
    if let Some(account) = account
        && let Err(e) = keystore::delete(account).await
    {
        tracing::warn!(error = %e, "could not delete the ended session from the keyring");
    }
    if let Some(dir) = cache_dir(app) {
        cache::clear(&dir);
    }
    let view = state.with_machine(|m| m.session_ended(NOTICE_SESSION_ENDED));
    emit(app, &view);
}

/// Sign out: revoke at the provider (RFC 7009), delete the keyring entry and the cache, and
/// optionally end the provider's browser session (RP-Initiated Logout).
pub async fn sign_out<R: Runtime>(app: &AppHandle<R>, also_in_browser: bool) {
    let state = app.state::<AppState>();
    state.next_session_generation();
    let (_tokens, view) = state.with_machine(|m| m.sign_out());
    emit(app, &view);
    let session = state.session.lock().await.take();
    if let Some(dir) = cache_dir(app) {
        cache::clear(&dir);
    }
    let Some(session) = session else { return };
    let provider = state.provider_for(&session.provider_id).await.ok();
    if let Some(provider) = &provider {
        match provider.revoke(&session).await {
            Ok(revoked) => tracing::info!(revoked, "refresh token revoked at the provider"),
            Err(e) => {
                tracing::warn!(error = %e, "revocation failed");
                notify(
                    app,
                    "You're signed out of Pixie, but the provider couldn't be told (are you offline?).",
                );
            }
        }
    }
    if let Err(e) =
        keystore::delete(keystore::account(&session.provider_id, &session.subject)).await
    {
        tracing::warn!(error = %e, "keyring delete failed");
        notify(
            app,
            &format!("Pixie couldn't remove your sign-in from the system keyring: {e}."),
        );
    }
    if also_in_browser
        && let Some(url) = provider
            .as_ref()
            .and_then(|p| p.end_session_url(&session, Some(crate::LOGOUT_REDIRECT_URI)))
    {
        state.with_machine(|m| m.expect_logout_return());
        if let Err(e) = crate::browser::open(app, &url) {
            notify(
                app,
                &format!("Pixie couldn't open the browser to sign you out there: {e}."),
            );
        }
    }
}
