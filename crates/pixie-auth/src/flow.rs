//! A record of one sign-in's protocol steps, **redacted at the source**: who talked to whom,
//! when, how long it took, the shape of each request (parameter names; `code_challenge` in
//! full, `state`/`nonce`/`code` shortened, verifier and tokens never), the HTTP status, and
//! every check with its result and spec reference. The app draws its sequence diagram from it,
//! exports it (Mermaid, SVG, JSON), and each step also goes to `tracing` under the target
//! `pixie::flow`, so the log and the diagram never disagree.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

mod mermaid;
pub(crate) mod steps;
mod svg;

pub use mermaid::to_mermaid;
pub use svg::to_svg;

/// Shown instead of a value that must never leave the core.
pub const NEVER_SHOWN: &str = "[never shown]";

/// A value shown only by its start: enough to tell two apart, useless to an attacker.
pub fn short(value: &str) -> String {
    let head: String = value.chars().take(6).collect();
    if value.chars().count() <= 8 {
        "…".into()
    } else {
        format!("{head}…")
    }
}

/// The parties of a sign-in. Endpoints are told apart; a diagram may draw them on one
/// "provider" lifeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    App,
    Browser,
    /// The OS handing the redirect to the app (deep link) or the loopback listener.
    Desktop,
    AuthorizationEndpoint,
    TokenEndpoint,
    Jwks,
    Userinfo,
    Picture,
    /// RFC 8628 §3.1: the device authorization endpoint.
    DeviceAuthorizationEndpoint,
    /// The person's phone or other computer, where a device sign-in is finished (RFC 8628 §3.3).
    OtherDevice,
}

impl Party {
    pub fn label(self) -> &'static str {
        match self {
            Party::App => "Pixie core",
            Party::Browser => "System browser",
            Party::Desktop => "Desktop (deep link)",
            Party::AuthorizationEndpoint => "Authorization endpoint",
            Party::TokenEndpoint => "Token endpoint",
            Party::Jwks => "JWKS",
            Party::Userinfo => "Userinfo endpoint",
            Party::Picture => "Picture",
            Party::DeviceAuthorizationEndpoint => "Device authorization endpoint",
            Party::OtherDevice => "Your other device",
        }
    }

    /// The lifeline a compact diagram draws this party on.
    pub fn lifeline(self) -> &'static str {
        match self {
            Party::App => "app",
            Party::Browser | Party::Desktop | Party::OtherDevice => "browser",
            _ => "provider",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Param {
    pub name: String,
    /// Already redacted: shown in full only where that is safe (`code_challenge`, URIs).
    pub value: String,
}

impl Param {
    pub fn new(name: &str, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    pub spec: String,
    pub ok: bool,
    pub detail: Option<String>,
}

impl Check {
    pub fn new(name: &str, spec: &str, ok: bool, detail: Option<String>) -> Self {
        Self {
            name: name.into(),
            spec: spec.into(),
            ok,
            detail,
        }
    }
}

/// One arrow of the sequence diagram.
#[derive(Clone, Debug, Serialize)]
pub struct FlowStep {
    pub seq: usize,
    /// Milliseconds since the sign-in started.
    pub at_ms: f64,
    pub duration_ms: Option<f64>,
    pub from: Party,
    pub to: Party,
    pub label: String,
    pub params: Vec<Param>,
    pub status: Option<u16>,
    pub checks: Vec<Check>,
    pub note: Option<String>,
}

impl FlowStep {
    pub fn new(from: Party, to: Party, label: &str) -> Self {
        Self {
            seq: 0,
            at_ms: 0.0,
            duration_ms: None,
            from,
            to,
            label: label.into(),
            params: Vec::new(),
            status: None,
            checks: Vec::new(),
            note: None,
        }
    }

    pub fn param(mut self, name: &str, value: impl Into<String>) -> Self {
        self.params.push(Param::new(name, value));
        self
    }

    pub fn params(mut self, params: impl IntoIterator<Item = Param>) -> Self {
        self.params.extend(params);
        self
    }

    pub fn check(mut self, check: Check) -> Self {
        self.checks.push(check);
        self
    }

    pub fn checks(mut self, checks: impl IntoIterator<Item = Check>) -> Self {
        self.checks.extend(checks);
        self
    }

    pub fn note(mut self, note: &str) -> Self {
        self.note = Some(note.into());
        self
    }

    pub fn http(mut self, exchange: Option<HttpExchange>) -> Self {
        if let Some(x) = exchange {
            self.status = Some(x.status);
            self.duration_ms = Some(ms(x.duration));
        }
        self
    }

    /// False when any of its checks failed.
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// What the HTTP client saw of the last request made for this trace.
#[derive(Clone, Copy, Debug)]
pub struct HttpExchange {
    pub status: u16,
    pub duration: Duration,
}

#[derive(Debug)]
struct Inner {
    started: Instant,
    steps: Vec<FlowStep>,
    last_http: Option<HttpExchange>,
}

/// The trace of one sign-in. Cheap to clone; all clones share it.
#[derive(Clone, Debug)]
pub struct FlowTrace(Arc<Mutex<Inner>>);

impl Default for FlowTrace {
    fn default() -> Self {
        Self::new()
    }
}

impl FlowTrace {
    pub fn new() -> Self {
        Self(Arc::new(Mutex::new(Inner {
            started: Instant::now(),
            steps: Vec::new(),
            last_http: None,
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Add a step, stamped with its time since the start, and log it.
    pub fn push(&self, mut step: FlowStep) {
        let mut inner = self.lock();
        step.seq = inner.steps.len() + 1;
        step.at_ms = ms(inner.started.elapsed());
        match serde_json::to_string(&step) {
            Ok(json) => tracing::debug!(target: "pixie::flow", step = %json, "{}", step.label),
            Err(e) => tracing::warn!(target: "pixie::flow", error = %e, "unloggable step"),
        }
        inner.steps.push(step);
    }

    pub fn steps(&self) -> Vec<FlowStep> {
        self.lock().steps.clone()
    }

    pub(crate) fn record_http(&self, exchange: HttpExchange) {
        self.lock().last_http = Some(exchange);
    }

    /// The last HTTP exchange, once.
    pub(crate) fn take_http(&self) -> Option<HttpExchange> {
        self.lock().last_http.take()
    }

    /// The redacted steps as JSON, for bug reports.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.steps()).unwrap_or_else(|_| "[]".into())
    }

    /// The sequence diagram as Mermaid text, every piece of step text escaped.
    pub fn to_mermaid(&self) -> String {
        to_mermaid(&self.steps())
    }

    /// The sequence diagram as a standalone SVG document, built here from the steps (never
    /// from the webview): text only, every text node and attribute escaped.
    pub fn to_svg(&self) -> String {
        to_svg(&self.steps())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_hide_most_of_the_secret() {
        assert_eq!(short("abcdefghijklmnop"), "abcdef…");
        assert_eq!(short("abc"), "…");
    }

    #[test]
    fn mermaid_marks_failed_steps_and_escapes_text() {
        let trace = FlowTrace::new();
        trace.push(
            FlowStep::new(Party::App, Party::TokenEndpoint, "POST /token; #1")
                .param("code", short("0123456789abcdef"))
                .check(Check::new("code accepted", "RFC 6749 §5.2", false, None)),
        );
        let m = trace.to_mermaid();
        assert!(m.starts_with("sequenceDiagram"));
        assert!(m.contains("app-xprovider: POST /token#59; #35;1"), "{m}");
        assert!(m.contains("✗ code accepted — RFC 6749 §5.2"));
        assert!(!m.contains("0123456789abcdef"));
    }
}
