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
    /// The Pixie core itself.
    App,
    /// The system browser the authorization request opens in (RFC 8252 §8.12).
    Browser,
    /// The OS handing the redirect to the app (deep link) or the loopback listener.
    Desktop,
    /// The provider's authorization endpoint, where the person signs in (RFC 6749 §3.1).
    AuthorizationEndpoint,
    /// The provider's token endpoint (RFC 6749 §3.2): code exchange, device polling, refresh.
    TokenEndpoint,
    /// The provider's key set (`jwks_uri`), fetched to check ID token signatures
    /// (OIDC Core §10.1).
    Jwks,
    /// The userinfo endpoint (OIDC Core §5.3), or a plain OAuth 2.0 provider's user API.
    Userinfo,
    /// Wherever the profile picture is hosted (often not the provider itself).
    Picture,
    /// RFC 8628 §3.1: the device authorization endpoint.
    DeviceAuthorizationEndpoint,
    /// The person's phone or other computer, where a device sign-in is finished (RFC 8628 §3.3).
    OtherDevice,
}

impl Party {
    /// The party's name as a full diagram shows it, e.g. "Token endpoint".
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

/// One request parameter or header of a step, with its value already redacted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Param {
    /// The parameter or header name, e.g. `code_challenge` or `Authorization`.
    pub name: String,
    /// Already redacted: shown in full only where that is safe (`code_challenge`, URIs).
    pub value: String,
}

impl Param {
    /// A parameter whose value the caller has already redacted ([`short`], [`NEVER_SHOWN`]).
    pub fn new(name: &str, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// One check a step made: what, the spec section it enforces, and whether it passed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked, in plain words, e.g. "an authorization code is present".
    pub name: String,
    /// Where the rule comes from, e.g. "RFC 6749 §4.1.2" (or "Pixie limits").
    pub spec: String,
    /// Whether the check passed.
    pub ok: bool,
    /// Why it failed, when known; shown only for a failed check.
    pub detail: Option<String>,
}

impl Check {
    /// A check with its result; `detail` is meant for a failed one.
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
    /// Position in the trace, from 1; set by [`FlowTrace::push`].
    pub seq: usize,
    /// Milliseconds since the sign-in started.
    pub at_ms: f64,
    /// How long the step's HTTP request took, in milliseconds, when it made one.
    pub duration_ms: Option<f64>,
    /// The party that acts or sends (the arrow's tail).
    pub from: Party,
    /// The party it goes to (the arrow's head).
    pub to: Party,
    /// What happens, e.g. "GET /userinfo"; the arrow's text.
    pub label: String,
    /// The parameters and headers sent, redacted.
    pub params: Vec<Param>,
    /// The HTTP status of the answer, when the step made a request.
    pub status: Option<u16>,
    /// The checks made at this step, in order; one failed check marks the arrow as failed.
    pub checks: Vec<Check>,
    /// A remark for the person reading the diagram, e.g. "Pixie sees none of it."
    pub note: Option<String>,
}

impl FlowStep {
    /// A step from `from` to `to`, with no parameters or checks yet; [`FlowTrace::push`]
    /// stamps its number and time.
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

    /// Add one parameter; `value` must already be redacted.
    pub fn param(mut self, name: &str, value: impl Into<String>) -> Self {
        self.params.push(Param::new(name, value));
        self
    }

    /// Add several parameters, already redacted.
    pub fn params(mut self, params: impl IntoIterator<Item = Param>) -> Self {
        self.params.extend(params);
        self
    }

    /// Add one check.
    pub fn check(mut self, check: Check) -> Self {
        self.checks.push(check);
        self
    }

    /// Add several checks, in order.
    pub fn checks(mut self, checks: impl IntoIterator<Item = Check>) -> Self {
        self.checks.extend(checks);
        self
    }

    /// Set the note shown with the arrow.
    pub fn note(mut self, note: &str) -> Self {
        self.note = Some(note.into());
        self
    }

    /// Fill in the status and duration of the HTTP request this step made, if there was one.
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
    /// The HTTP status code of the answer.
    pub status: u16,
    /// From sending the request to the end of its body.
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
    /// An empty trace whose clock starts now.
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

    /// A copy of the steps so far, in order.
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
