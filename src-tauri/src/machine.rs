//! The one owner of the session: what the window shows, the pending sign-in, the tokens in
//! memory and what the keyring should hold are variants of one [`State`], never parallel
//! fields. Pure Rust, no Tauri, no I/O: every method is one transition and returns what the
//! window should now show; [`crate::owner`] serialises the transitions and does the I/O.
//!
//! `SignedOut → Starting → Authorizing → Exchanging → SignedIn | Failed`.

use std::sync::Arc;

use pixie_auth::{FlowTrace, PendingSignIn, Profile, Provider, SignedIn, StoredSession, Tokens};
use pixie_auth::{PendingLogout, ValidatedCallback};
use serde::Serialize;
use tokio::task::AbortHandle;

use crate::error::AppError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    SignedOut,
    /// Discovery (or the demo provider starting) before the browser opens.
    Starting,
    Authorizing,
    Exchanging,
    SignedIn,
    Failed,
}

/// A failure as the person sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailureView {
    /// Stable code (see [`AppError::code`]).
    pub code: String,
    /// Plain words.
    pub message: String,
    /// The technical detail, folded away in the UI. Never contains a secret.
    pub detail: String,
}

impl From<&AppError> for FailureView {
    fn from(e: &AppError) -> Self {
        Self {
            code: e.code().to_owned(),
            message: e.user_message(),
            detail: e.to_string(),
        }
    }
}

impl From<&pixie_auth::Error> for FailureView {
    fn from(e: &pixie_auth::Error) -> Self {
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
    /// Increases with every view made; the window draws only a newer one than it has
    /// (command replies and pushed views travel different channels).
    pub revision: u64,
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

/// A signed-in account and everything that belongs to its session.
pub struct Account {
    /// Which session this is: bumped on every sign-in, restore and sign-out, so late work
    /// for an earlier session writes nothing.
    pub epoch: u64,
    pub profile: Profile,
    /// The tokens in memory (`None` after a restore, until the first refresh).
    pub tokens: Option<Tokens>,
    /// What the keyring holds (or is about to hold) for this account.
    pub kept: Option<StoredSession>,
}

impl Account {
    /// The keyring user name of this account.
    pub fn keyring_account(&self) -> String {
        crate::keystore::account(&self.profile.provider_id, &self.profile.subject)
    }
}

/// The session, and nothing beside it. (One value, held once: the size of its largest
/// variant costs nothing worth a box.)
#[allow(clippy::large_enum_variant)]
pub enum State {
    SignedOut,
    Starting {
        attempt: u64,
    },
    Authorizing {
        attempt: u64,
        provider: Arc<Provider>,
        pending: PendingSignIn,
        /// The loopback listener of this sign-in (RFC 8252 §7.3), if it uses one.
        listener: Option<AbortHandle>,
    },
    Exchanging {
        attempt: u64,
        /// Kept only when the redirect came through the listener, which answers the browser
        /// once the exchange is over and then closes itself.
        listener: Option<AbortHandle>,
    },
    SignedIn(Account),
    Failed(FailureView),
}

impl State {
    fn phase(&self) -> Phase {
        match self {
            State::SignedOut => Phase::SignedOut,
            State::Starting { .. } => Phase::Starting,
            State::Authorizing { .. } => Phase::Authorizing,
            State::Exchanging { .. } => Phase::Exchanging,
            State::SignedIn(_) => Phase::SignedIn,
            State::Failed(_) => Phase::Failed,
        }
    }
}

/// Leaving a state closes what it held open: its loopback listener.
fn close(state: State) {
    if let State::Authorizing {
        listener: Some(l), ..
    }
    | State::Exchanging {
        listener: Some(l), ..
    } = state
    {
        l.abort();
    }
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
/// The pending sign-in travels with the callback it validated.
pub struct ExchangeJob {
    pub attempt: u64,
    pub provider: Arc<Provider>,
    pub pending: PendingSignIn,
    pub callback: ValidatedCallback,
}

/// How an exchange ended, for the owner (a value passed once, never stored).
#[allow(clippy::large_enum_variant)]
pub enum Finished {
    /// The person left this attempt meanwhile; the tokens it got belong to nobody and are to
    /// be revoked.
    Stale(Option<Box<SignedIn>>),
    Failed(View),
    /// Signed in: save `kept` (if any) and the profile, under `epoch`.
    SignedIn {
        view: View,
        epoch: u64,
        kept: Option<StoredSession>,
        profile: Profile,
    },
}

pub struct Machine {
    state: State,
    providers: Vec<ProviderOption>,
    selected: usize,
    config_error: Option<String>,
    attempt: u64,
    epoch: u64,
    revision: u64,
    /// The last cancelled sign-in, so its late redirect is recognised and ignored politely.
    cancelled: Option<PendingSignIn>,
    /// The last redirect that was acted on, to recognise a second delivery of it.
    last_used_redirect: Option<String>,
    notice: Option<Notice>,
    notice_seq: u64,
    /// The browser was sent to the provider's end-session endpoint with this `state`.
    logout: Option<PendingLogout>,
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
            state: State::SignedOut,
            providers,
            selected,
            config_error,
            attempt: 0,
            epoch: 0,
            revision: 0,
            cancelled: None,
            last_used_redirect: None,
            notice: None,
            notice_seq: 0,
            logout: None,
            last_trace: None,
        }
    }

    pub fn phase(&self) -> Phase {
        self.state.phase()
    }

    /// The view of the current state, with the next revision.
    pub fn view(&mut self) -> View {
        self.revision += 1;
        let (profile, error) = match &self.state {
            State::SignedIn(a) => (Some(a.profile.clone()), None),
            State::Failed(e) => (None, Some(e.clone())),
            _ => (None, None),
        };
        View {
            revision: self.revision,
            phase: self.state.phase(),
            provider_id: self.selected().id.clone(),
            provider_name: self.selected().name.clone(),
            providers: self.providers.clone(),
            config_error: self.config_error.clone(),
            profile,
            error,
            notice: self.notice.clone(),
            has_flow: self.last_trace.is_some(),
            loopback: matches!(&self.state, State::Authorizing { pending, .. } if pending.redirect_uri().scheme() == "http"),
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

    fn set(&mut self, state: State) {
        close(std::mem::replace(&mut self.state, state));
    }

    /// Pick the provider for the next sign-in. Only while signed out (or on the error
    /// screen, which it leaves); `None` when the id is unknown or the moment is wrong.
    pub fn select(&mut self, id: &str) -> Option<View> {
        if !matches!(self.phase(), Phase::SignedOut | Phase::Failed) || !self.point_at(id) {
            return None;
        }
        self.set(State::SignedOut);
        Some(self.view())
    }

    /// The redacted steps of the last sign-in.
    pub fn trace(&self) -> Option<&FlowTrace> {
        self.last_trace.as_ref()
    }

    /// Show a passing message without changing the phase.
    pub fn notify(&mut self, text: &str) -> View {
        self.notice_seq += 1;
        self.notice = Some(Notice {
            id: self.notice_seq,
            text: text.to_owned(),
        });
        self.view()
    }

    /// Sign in was clicked: `Some(attempt)` when a sign-in may start now. While one is
    /// starting, waiting or exchanging, or while signed in, a click starts nothing (a second
    /// click never opens a second tab).
    pub fn start(&mut self) -> Option<(u64, View)> {
        if !matches!(self.phase(), Phase::SignedOut | Phase::Failed) {
            return None;
        }
        self.attempt += 1;
        self.notice = None;
        self.set(State::Starting {
            attempt: self.attempt,
        });
        Some((self.attempt, self.view()))
    }

    /// Whether `attempt` is the sign-in being started (not cancelled meanwhile).
    pub fn is_starting(&self, attempt: u64) -> bool {
        matches!(self.state, State::Starting { attempt: a } if a == attempt)
    }

    /// The request is built: wait for the browser. `None` (and the listener closed) when the
    /// attempt was left meanwhile.
    pub fn authorize(
        &mut self,
        attempt: u64,
        provider: Arc<Provider>,
        pending: PendingSignIn,
        listener: Option<AbortHandle>,
    ) -> Option<View> {
        if !self.is_starting(attempt) {
            if let Some(l) = listener {
                l.abort();
            }
            return None;
        }
        self.point_at(&provider.config().id);
        self.last_trace = Some(pending.trace().clone());
        self.set(State::Authorizing {
            attempt,
            provider,
            pending,
            listener,
        });
        Some(self.view())
    }

    /// Something went wrong before or while talking to the provider. `attempt` names the
    /// sign-in it belongs to (`None`: whatever is in progress).
    pub fn fail(&mut self, attempt: Option<u64>, error: FailureView) -> Option<View> {
        if attempt.is_some_and(|a| a != self.attempt) {
            return None; // a stale result from an attempt the person already left
        }
        if matches!(self.state, State::SignedIn(_)) {
            // Never lose a signed-in session to a failed side path.
            return Some(self.notify(&error.message));
        }
        self.set(State::Failed(error));
        Some(self.view())
    }

    /// The pending sign-in ran out of time.
    pub fn expire(&mut self, attempt: u64) -> Option<View> {
        if !matches!(self.state, State::Authorizing { attempt: a, .. } if a == attempt) {
            return None;
        }
        self.fail(Some(attempt), (&pixie_auth::Error::Expired).into())
    }

    /// Cancel: stop whatever sign-in is starting, waiting or exchanging, or leave the error
    /// screen. A signed-in session is not touched.
    pub fn cancel(&mut self) -> View {
        match std::mem::replace(&mut self.state, State::SignedOut) {
            State::Authorizing {
                pending, listener, ..
            } => {
                if let Some(l) = listener {
                    l.abort();
                }
                self.cancelled = Some(pending);
                self.attempt += 1;
            }
            s @ (State::Starting { .. } | State::Exchanging { .. }) => {
                close(s);
                self.attempt += 1;
            }
            State::Failed(_) | State::SignedOut => {}
            s @ State::SignedIn(_) => self.state = s,
        }
        self.notice = None;
        self.view()
    }

    /// Sent the browser to the provider's end-session endpoint: only the return that carries
    /// this logout's `state` is recognised.
    pub fn expect_logout_return(&mut self, logout: PendingLogout) {
        self.logout = Some(logout);
    }

    /// Feed a redirect from any of the OS paths, the paste box, or (`via_listener`) the
    /// loopback listener.
    pub fn redirect(&mut self, raw: &str, via_listener: bool) -> RedirectOutcome {
        if self.logout.as_ref().is_some_and(|l| l.is_return(raw)) {
            self.logout = None;
            return RedirectOutcome::Ignored(self.notify(NOTICE_SIGNED_OUT_IN_BROWSER));
        }
        let State::Authorizing { pending, .. } = &self.state else {
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
            return RedirectOutcome::Ignored(self.notify(text));
        };
        match pending.validate_callback(raw) {
            Ok(callback) => {
                let State::Authorizing {
                    attempt,
                    provider,
                    pending,
                    listener,
                } = std::mem::replace(&mut self.state, State::SignedOut)
                else {
                    unreachable!("matched above");
                };
                // A redirect that came another way closes the listener now; the listener's
                // own stays open to answer the browser when the exchange is over.
                let listener = match listener {
                    Some(l) if !via_listener => {
                        l.abort();
                        None
                    }
                    other => other,
                };
                self.last_used_redirect = Some(raw.to_owned());
                self.state = State::Exchanging { attempt, listener };
                self.notice = None;
                RedirectOutcome::Exchange {
                    view: self.view(),
                    job: Box::new(ExchangeJob {
                        attempt,
                        provider,
                        pending,
                        callback,
                    }),
                }
            }
            Err(e) if e.is_unrelated() => {
                tracing::info!(reason = %e, "ignored a redirect that is not this sign-in's");
                RedirectOutcome::Ignored(self.notify(NOTICE_FOREIGN))
            }
            Err(e) => {
                tracing::warn!(reason = %e, "the sign-in's redirect ended it");
                self.last_used_redirect = Some(raw.to_owned());
                let error = pixie_auth::Error::from(e);
                match self.fail(None, (&error).into()) {
                    Some(view) => RedirectOutcome::Failed(view),
                    None => RedirectOutcome::Ignored(self.view()),
                }
            }
        }
    }

    /// The exchange of `attempt` finished.
    pub fn finish(
        &mut self,
        attempt: u64,
        provider: &Provider,
        result: Result<SignedIn, AppError>,
    ) -> Finished {
        let current = matches!(self.state, State::Exchanging { attempt: a, .. } if a == attempt);
        if !current {
            return Finished::Stale(result.ok().map(Box::new));
        }
        match result {
            Ok(done) => {
                // The listener (if it brought the redirect) answers the browser and closes
                // itself; it is not aborted here.
                self.state = State::SignedOut;
                self.epoch += 1;
                if let Some(e) = &done.picture_error {
                    self.notify(&e.user_message());
                }
                let kept = StoredSession::from_tokens(provider, &done.tokens, None);
                let profile = done.profile.clone();
                self.state = State::SignedIn(Account {
                    epoch: self.epoch,
                    profile: done.profile,
                    tokens: Some(done.tokens),
                    kept: kept.clone(),
                });
                Finished::SignedIn {
                    view: self.view(),
                    epoch: self.epoch,
                    kept,
                    profile,
                }
            }
            Err(e) => match self.fail(Some(attempt), (&e).into()) {
                Some(view) => Finished::Failed(view),
                None => Finished::Stale(None),
            },
        }
    }

    /// Show the cached profile at launch while the session is read back and refreshed.
    /// Returns the new session's epoch.
    pub fn restore(&mut self, profile: Profile) -> Option<(u64, View)> {
        if self.phase() != Phase::SignedOut {
            return None;
        }
        self.epoch += 1;
        self.point_at(&profile.provider_id);
        self.state = State::SignedIn(Account {
            epoch: self.epoch,
            profile,
            tokens: None,
            kept: None,
        });
        Some((self.epoch, self.view()))
    }

    /// The epoch of the signed-in session, if there is one.
    pub fn signed_in_epoch(&self) -> Option<u64> {
        match &self.state {
            State::SignedIn(a) => Some(a.epoch),
            _ => None,
        }
    }

    /// The signed-in account, if it is still session `epoch`.
    pub fn account(&self, epoch: u64) -> Option<&Account> {
        match &self.state {
            State::SignedIn(a) if a.epoch == epoch => Some(a),
            _ => None,
        }
    }

    /// The same, to change.
    pub fn account_mut(&mut self, epoch: u64) -> Option<&mut Account> {
        match &mut self.state {
            State::SignedIn(a) if a.epoch == epoch => Some(a),
            _ => None,
        }
    }

    /// A new profile for session `epoch` (after a refresh).
    pub fn profile_refreshed(&mut self, epoch: u64, profile: Profile) -> Option<View> {
        self.account_mut(epoch)?.profile = profile;
        Some(self.view())
    }

    /// The provider (or the keyring) ended session `epoch`: back to the sign-in screen with a
    /// word on why. Returns the account, whose keyring entry and cache are to be removed.
    pub fn end_session(&mut self, epoch: u64, text: &str) -> Option<(Account, View)> {
        self.account(epoch)?;
        let State::SignedIn(account) = std::mem::replace(&mut self.state, State::SignedOut) else {
            return None;
        };
        self.epoch += 1;
        Some((account, self.notify(text)))
    }

    /// Sign out: the account leaves the state at once (nothing can refresh or save it any
    /// more); the caller revokes its tokens and deletes its entry and cache.
    pub fn sign_out(&mut self) -> (Option<Account>, View) {
        let account = match std::mem::replace(&mut self.state, State::SignedOut) {
            State::SignedIn(a) => Some(a),
            other => {
                close(other);
                None
            }
        };
        self.epoch += 1;
        self.attempt += 1;
        self.notice = None;
        (account, self.view())
    }
}
