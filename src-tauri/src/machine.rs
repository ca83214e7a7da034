//! The sign-in state machine: `SignedOut → Authorizing → Exchanging → SignedIn | Failed`.
//! Pure Rust, no Tauri: every method returns what the UI should now show, and the caller
//! emits it. Tokens stay in here; the [`View`] never carries one.

use std::sync::Arc;

use pixie_auth::{
    Error, FlowTrace, PendingSignIn, Profile, Provider, SignedIn, Tokens, ValidatedCallback,
};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    SignedOut,
    Authorizing,
    Exchanging,
    SignedIn,
    Failed,
}

/// A failure as the person sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailureView {
    /// Stable code (see [`pixie_auth::Error::code`]).
    pub code: String,
    /// Plain words.
    pub message: String,
    /// The technical detail, folded away in the UI. Never contains a secret.
    pub detail: String,
}

impl From<&Error> for FailureView {
    fn from(e: &Error) -> Self {
        Self {
            code: e.code().to_owned(),
            message: e.user_message(),
            detail: e.to_string(),
        }
    }
}

/// A provider the person can pick.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderOption {
    pub id: String,
    pub name: String,
}

/// Everything the window renders. Sent with every state change.
#[derive(Clone, Debug, Serialize)]
pub struct View {
    pub phase: Phase,
    /// The provider the next sign-in uses (or the signed-in account's).
    pub provider_id: String,
    pub provider_name: String,
    /// Every provider that can be picked, in the configuration's order.
    pub providers: Vec<ProviderOption>,
    /// A mistake in `providers.toml` (file:line:column: field: what), shown until fixed.
    pub config_error: Option<String>,
    pub profile: Option<Profile>,
    pub error: Option<FailureView>,
    /// A passing message (an ignored link, a picture that could not load).
    pub notice: Option<Notice>,
    /// A record of the last sign-in's steps can be shown ("How this sign-in worked").
    pub has_flow: bool,
    /// The sign-in in progress comes back through a loopback listener, not a deep link.
    pub loopback: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// Increases with each notice so the UI shows a repeated message again.
    pub id: u64,
    pub text: String,
}

/// What to do with a redirect that came in.
pub enum RedirectOutcome {
    /// It belongs to no sign-in in progress: show the notice, change nothing else.
    Ignored(View),
    /// It ended the sign-in with an error (the provider refused, wrong issuer).
    Failed(View),
    /// It is the pending sign-in's redirect: exchange the code.
    Exchange { view: View, job: Box<ExchangeJob> },
}

/// The work to finish a sign-in, taken out of the machine so no lock is held across I/O.
pub struct ExchangeJob {
    pub attempt: u64,
    pub provider: Arc<Provider>,
    pub pending: PendingSignIn,
    pub callback: ValidatedCallback,
}

pub struct Machine {
    phase: Phase,
    providers: Vec<ProviderOption>,
    selected: usize,
    config_error: Option<String>,
    attempt: u64,
    pending: Option<(Arc<Provider>, PendingSignIn)>,
    /// The last cancelled sign-in, so its late redirect is recognised and ignored politely.
    cancelled: Option<PendingSignIn>,
    /// The last redirect that was acted on, to recognise a second delivery of it.
    last_used_redirect: Option<String>,
    profile: Option<Profile>,
    tokens: Option<Tokens>,
    error: Option<FailureView>,
    notice: Option<Notice>,
    notice_seq: u64,
    /// The browser was sent to the provider's end-session endpoint and may come back.
    awaiting_logout: bool,
    /// The steps of the last sign-in, for the sequence diagram.
    last_trace: Option<FlowTrace>,
}

pub const NOTICE_NOT_IN_PROGRESS: &str =
    "Pixie received a sign-in link, but no sign-in is in progress, so it was ignored.";
pub const NOTICE_FOREIGN: &str = "Pixie ignored a sign-in link that does not belong to this sign-in. You can keep going in your browser.";
pub const NOTICE_ALREADY_USED: &str =
    "That sign-in link was already used, so Pixie ignored it the second time.";
pub const NOTICE_CANCELLED: &str =
    "That sign-in link was for a sign-in you cancelled, so Pixie ignored it.";
/// Where the provider sends the browser after RP-initiated logout.
pub const LOGOUT_REDIRECT_URI: &str = "dev.pixie.app:/oauth/logout";

pub const NOTICE_SESSION_ENDED: &str = "Your session has ended. Sign in again.";
pub const NOTICE_SIGNED_OUT_IN_BROWSER: &str = "You're signed out in the browser too.";

impl Machine {
    /// A machine with one provider (the demo one, or whatever a test names).
    pub fn new(provider_name: impl Into<String>) -> Self {
        Self::with_providers(
            vec![ProviderOption {
                id: "demo".into(),
                name: provider_name.into(),
            }],
            None,
            None,
        )
    }

    /// A machine offering `providers` (never empty), `selected` first when it is one of them.
    pub fn with_providers(
        providers: Vec<ProviderOption>,
        selected: Option<&str>,
        config_error: Option<String>,
    ) -> Self {
        let selected = selected
            .and_then(|id| providers.iter().position(|p| p.id == id))
            .unwrap_or(0);
        Self {
            phase: Phase::SignedOut,
            providers,
            selected,
            config_error,
            attempt: 0,
            pending: None,
            cancelled: None,
            last_used_redirect: None,
            profile: None,
            tokens: None,
            error: None,
            notice: None,
            notice_seq: 0,
            awaiting_logout: false,
            last_trace: None,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn view(&self) -> View {
        View {
            phase: self.phase,
            provider_id: self.selected().id.clone(),
            provider_name: self.selected().name.clone(),
            providers: self.providers.clone(),
            config_error: self.config_error.clone(),
            profile: self.profile.clone(),
            error: self.error.clone(),
            notice: self.notice.clone(),
            has_flow: self.last_trace.is_some(),
            loopback: self
                .pending
                .as_ref()
                .is_some_and(|(_, p)| p.redirect_uri().scheme() == "http"),
        }
    }

    fn selected(&self) -> &ProviderOption {
        &self.providers[self.selected.min(self.providers.len().saturating_sub(1))]
    }

    /// The id of the provider the next sign-in uses.
    pub fn selected_id(&self) -> &str {
        &self.selected().id
    }

    fn point_at(&mut self, id: &str) -> bool {
        match self.providers.iter().position(|p| p.id == id) {
            Some(i) => {
                self.selected = i;
                true
            }
            None => false,
        }
    }

    /// Pick the provider for the next sign-in. Only while signed out (or on the error
    /// screen, which it leaves); `None` when the id is unknown or the moment is wrong.
    pub fn select(&mut self, id: &str) -> Option<View> {
        if !matches!(self.phase, Phase::SignedOut | Phase::Failed) || !self.point_at(id) {
            return None;
        }
        self.phase = Phase::SignedOut;
        self.error = None;
        Some(self.view())
    }

    /// The redacted steps of the last sign-in.
    pub fn trace(&self) -> Option<&FlowTrace> {
        self.last_trace.as_ref()
    }

    /// Show a passing message without changing the phase.
    pub fn notify(&mut self, text: &str) -> View {
        self.set_notice(text);
        self.view()
    }

    fn set_notice(&mut self, text: &str) {
        self.notice_seq += 1;
        self.notice = Some(Notice {
            id: self.notice_seq,
            text: text.to_owned(),
        });
    }

    /// A new sign-in replaces any pending one (design: one pending sign-in at a time).
    /// Returns the attempt number, used to drop late results of an abandoned attempt.
    pub fn begin(&mut self, provider: Arc<Provider>, pending: PendingSignIn) -> (u64, View) {
        self.attempt += 1;
        self.point_at(&provider.config().id);
        self.last_trace = Some(pending.trace().clone());
        self.pending = Some((provider, pending));
        self.phase = Phase::Authorizing;
        self.error = None;
        self.notice = None;
        (self.attempt, self.view())
    }

    /// Something went wrong before or while talking to the provider.
    pub fn fail(&mut self, attempt: Option<u64>, error: &Error) -> Option<View> {
        if attempt.is_some_and(|a| a != self.attempt) {
            return None; // a stale result from an attempt the person already left
        }
        if matches!(self.phase, Phase::SignedIn) {
            // Never lose a signed-in session to a failed side path.
            self.set_notice(&error.user_message());
            return Some(self.view());
        }
        self.pending = None;
        self.phase = Phase::Failed;
        self.error = Some(error.into());
        Some(self.view())
    }

    /// The pending sign-in ran out of time.
    pub fn expire(&mut self, attempt: u64) -> Option<View> {
        if attempt != self.attempt || self.phase != Phase::Authorizing {
            return None;
        }
        self.fail(Some(attempt), &Error::Expired)
    }

    pub fn cancel(&mut self) -> View {
        if self.phase == Phase::Authorizing {
            if let Some((_, pending)) = self.pending.take() {
                self.cancelled = Some(pending);
            }
            self.attempt += 1;
            self.phase = Phase::SignedOut;
        } else if self.phase == Phase::Exchanging {
            self.attempt += 1;
            self.phase = Phase::SignedOut;
        }
        self.error = None;
        self.notice = None;
        self.view()
    }

    /// Leave the error screen.
    pub fn dismiss(&mut self) -> View {
        if self.phase == Phase::Failed {
            self.phase = Phase::SignedOut;
            self.error = None;
        }
        self.view()
    }

    pub fn expect_logout_return(&mut self) {
        self.awaiting_logout = true;
    }

    /// Feed a redirect from any of the three OS paths (or pasted by the person).
    pub fn redirect(&mut self, raw: &str) -> RedirectOutcome {
        if self.awaiting_logout && raw.split('?').next() == Some(LOGOUT_REDIRECT_URI) {
            self.awaiting_logout = false;
            self.set_notice(NOTICE_SIGNED_OUT_IN_BROWSER);
            return RedirectOutcome::Ignored(self.view());
        }
        let Some((_, pending)) = self
            .pending
            .as_ref()
            .filter(|_| self.phase == Phase::Authorizing)
        else {
            let text =
                if self.last_used_redirect.as_deref() == Some(raw) {
                    NOTICE_ALREADY_USED
                } else if self.cancelled.as_ref().is_some_and(
                    |c| !matches!(c.validate_callback(raw), Err(e) if e.is_unrelated()),
                ) {
                    NOTICE_CANCELLED
                } else {
                    NOTICE_NOT_IN_PROGRESS
                };
            self.set_notice(text);
            return RedirectOutcome::Ignored(self.view());
        };
        match pending.validate_callback(raw) {
            Ok(callback) => {
                let Some((provider, pending)) = self.pending.take() else {
                    return RedirectOutcome::Ignored(self.view());
                };
                self.last_used_redirect = Some(raw.to_owned());
                self.phase = Phase::Exchanging;
                self.notice = None;
                RedirectOutcome::Exchange {
                    view: self.view(),
                    job: Box::new(ExchangeJob {
                        attempt: self.attempt,
                        provider,
                        pending,
                        callback,
                    }),
                }
            }
            Err(e) if e.is_unrelated() => {
                tracing::info!(reason = %e, "ignored a redirect that is not this sign-in's");
                self.set_notice(NOTICE_FOREIGN);
                RedirectOutcome::Ignored(self.view())
            }
            Err(e) => {
                tracing::warn!(reason = %e, "the sign-in's redirect ended it");
                self.last_used_redirect = Some(raw.to_owned());
                let error = Error::from(e);
                match self.fail(None, &error) {
                    Some(view) => RedirectOutcome::Failed(view),
                    None => RedirectOutcome::Ignored(self.view()),
                }
            }
        }
    }

    /// The exchange finished.
    pub fn finish(&mut self, attempt: u64, result: Result<SignedIn, Error>) -> Option<View> {
        if attempt != self.attempt || self.phase != Phase::Exchanging {
            return None;
        }
        match result {
            Ok(done) => {
                self.phase = Phase::SignedIn;
                self.error = None;
                if let Some(e) = &done.picture_error {
                    self.set_notice(&e.user_message());
                }
                self.profile = Some(done.profile);
                self.tokens = Some(done.tokens);
                Some(self.view())
            }
            Err(e) => self.fail(Some(attempt), &e),
        }
    }

    /// Show the cached profile at launch while the session is refreshed in the background.
    pub fn restore(&mut self, profile: Profile) -> View {
        if self.phase == Phase::SignedOut {
            self.phase = Phase::SignedIn;
            self.point_at(&profile.provider_id);
            self.profile = Some(profile);
        }
        self.view()
    }

    /// The tokens of the signed-in session, kept here and nowhere else.
    pub fn tokens(&self) -> Option<&Tokens> {
        self.tokens.as_ref()
    }

    /// New tokens from a refresh, and the profile they fetched.
    pub fn refreshed(&mut self, tokens: Tokens, profile: Option<Profile>) -> Option<View> {
        if self.phase != Phase::SignedIn {
            return None; // signed out meanwhile: drop them
        }
        self.tokens = Some(tokens);
        if let Some(p) = profile {
            self.profile = Some(p);
        }
        Some(self.view())
    }

    /// The provider no longer honours the session (revoked, expired, reused): back to the
    /// sign-in screen with a word on why.
    pub fn session_ended(&mut self, text: &str) -> View {
        if matches!(self.phase, Phase::SignedIn) {
            self.tokens = None;
            self.profile = None;
            self.phase = Phase::SignedOut;
        }
        self.set_notice(text);
        self.view()
    }

    pub fn sign_out(&mut self) -> (Option<Tokens>, View) {
        let tokens = self.tokens.take();
        self.profile = None;
        self.pending = None;
        self.phase = Phase::SignedOut;
        self.error = None;
        self.notice = None;
        (tokens, self.view())
    }
}
