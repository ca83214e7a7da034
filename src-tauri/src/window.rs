//! The window as the [`Owner`](crate::owner::Owner) sees it: views go down one ordered
//! channel that the page opened (no event the page could listen to), to the log, and to
//! `PIXIE_EVENT_LOG` when it is set.

use std::sync::Mutex;

use tauri::AppHandle;
use tauri::ipc::Channel;

use crate::machine::View;

/// When set, every [`View`] sent to the window is also appended to this file as a JSON line
/// (for tests and bug reports; a View holds no secret).
pub const EVENT_LOG_ENV: &str = "PIXIE_EVENT_LOG";

pub struct TauriWindow {
    app: AppHandle,
    channel: Mutex<Option<Channel<View>>>,
}

impl TauriWindow {
    pub fn new(app: AppHandle) -> Self {
        Self {
            app,
            channel: Mutex::new(None),
        }
    }

    /// The page (re)loaded and opened its channel: views go there from now on.
    pub fn attach(&self, channel: Channel<View>) {
        *self.channel.lock().unwrap_or_else(|p| p.into_inner()) = Some(channel);
    }
}

impl crate::owner::Window for TauriWindow {
    fn show(&self, view: &View) {
        tracing::info!(revision = view.revision, phase = ?view.phase, notice = view.notice.as_ref().map(|n| n.text.as_str()), error = view.error.as_ref().map(|e| e.code.as_str()), "state");
        if let Some(path) = std::env::var_os(EVENT_LOG_ENV).filter(|p| !p.is_empty()) {
            append_event(std::path::Path::new(&path), view);
        }
        if let Some(channel) = &*self.channel.lock().unwrap_or_else(|p| p.into_inner())
            && let Err(e) = channel.send(view.clone())
        {
            tracing::warn!(error = %e, "could not send the state to the window");
        }
    }

    fn focus(&self) {
        crate::focus_main(&self.app);
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
