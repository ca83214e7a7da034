//! The one owner of the sessions: the sign-in in progress is one [`Flow`] whose variants
//! carry their data (the pending sign-in, its listener), and each signed-in [`Account`]
//! carries its own tokens and what the keyring holds for it — never a phase beside parallel
//! fields. Pure Rust, no Tauri, no I/O: every method is one transition and returns what the
//! window should now show; [`crate::owner`] serialises the transitions and does the I/O.
//!
//! `SignedOut → Starting → Authorizing → Exchanging → SignedIn | Failed`; while signed in,
//! another account can be added through the same steps.

use pixie_auth::par::PushRequest;
use std::sync::Arc;

use pixie_auth::device::PendingDeviceSignIn;
use pixie_auth::{FlowTrace, PendingSignIn, Profile, Provider, SignedIn, StoredSession, Tokens};
use pixie_auth::{PendingLogout, SignInHints, ValidatedCallback};
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
    /// Waiting for the person to sign in on another device (RFC 8628).
    Device,
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
    /// The provider the next sign-in uses (after a sign-in, a switch or a restore: the
    /// active account's; the accounts carry their own provider's name).
    pub provider_id: String,
    pub provider_name: String,
    /// Every provider that can be picked, in the configuration's order.
    pub providers: Vec<ProviderOption>,
    /// A mistake in `providers.toml` (file:line:column: field: what), shown until fixed.
    pub config_error: Option<String>,
    /// The active account's profile.
    pub profile: Option<Profile>,
    /// Every signed-in account, in the order they were added; the active one is marked.
    pub accounts: Vec<AccountView>,
    pub error: Option<FailureView>,
    /// A passing message (an ignored link, a picture that could not load).
    pub notice: Option<Notice>,
    /// A record of the last sign-in's steps can be shown ("How this sign-in worked").
    pub has_flow: bool,
    /// The sign-in in progress comes back through a loopback listener, not a deep link.
    pub loopback: bool,
    /// Seconds left before the sign-in in progress (browser or device) expires.
    pub expires_in_secs: Option<u64>,
    /// The picked provider offers sign-in on another device (RFC 8628).
    pub device_flow: bool,
    /// The sign-in in progress waits for a deep link and the provider also takes its
    /// loopback URI: the window offers that way instead.
    pub loopback_fallback: bool,
    /// What to show while signing in on another device.
    pub device: Option<DeviceView>,
}

/// The sign-in on another device, as the window shows it. No device code (a secret), only
/// what the person types or scans.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceView {
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    /// A QR code of `verification_uri_complete` (or `verification_uri`), `data:image/png`.
    pub qr_code: Option<String>,
}

/// One account in the switcher. No token: what the window shows and the key to name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountView {
    /// `provider:subject`, the keyring user name; how commands name the account.
    pub key: String,
    pub name: String,
    pub email: Option<String>,
    pub picture_data_url: Option<String>,
    pub provider_id: String,
    pub provider_name: String,
    pub active: bool,
    /// The provider ended this session: it shows "Sign in again".
    pub needs_sign_in: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// Increases with each notice so the UI shows a repeated message again.
    pub id: u64,
    pub text: String,
}

/// A signed-in account and everything that belongs to its session.
pub struct Account {
    /// Which session this is: new on every sign-in and restore, so late work for an
    /// earlier session of the account writes nothing.
    pub epoch: u64,
    pub profile: Profile,
    /// The tokens in memory (`None` after a restore, until the first refresh).
    pub tokens: Option<Tokens>,
    /// What the keyring holds (or is about to hold) for this account.
    pub kept: Option<StoredSession>,
    /// The provider ended the session; the account stays listed to be signed in again.
    pub needs_sign_in: bool,
}

/// The keyring user name (and the switcher's key) of a profile's account.
pub fn key_of(profile: &Profile) -> String {
    crate::keystore::account(&profile.provider_id, &profile.subject)
}

impl Account {
    /// The keyring user name of this account.
    pub fn keyring_account(&self) -> String {
        key_of(&self.profile)
    }
}

/// The sign-in in progress, and nothing beside it.
#[allow(clippy::large_enum_variant)] // one value, held once
pub enum Flow {
    Idle,
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
    /// Signing in on another device: the poll runs in `poller` until the person is done.
    Device {
        attempt: u64,
        pending: Arc<PendingDeviceSignIn>,
        poller: Option<AbortHandle>,
    },
    Failed(FailureView),
}

/// Leaving a flow closes what it held open: its loopback listener, its device poll.
fn close(flow: Flow) {
    if let Flow::Authorizing {
        listener: Some(l), ..
    }
    | Flow::Exchanging {
        listener: Some(l), ..
    }
    | Flow::Device {
        poller: Some(l), ..
    } = flow
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

/// How an exchange ended, for the owner.
#[allow(clippy::large_enum_variant)] // a value passed once, never stored
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
    },
}

/// What the cache holds so the next launch can draw every account at once.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CachedAccounts {
    pub active: Option<String>,
    pub profiles: Vec<Profile>,
}

pub struct Machine {
    flow: Flow,
    /// Signed-in accounts, in the order they were added.
    accounts: Vec<Account>,
    /// The key of the account the window shows.
    active: Option<String>,
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
    /// Sign-outs sent to the browser, each waiting for its return with its own `state`.
    logouts: Vec<PendingLogout>,
    /// The steps of the last sign-in, for the sequence diagram.
    last_trace: Option<FlowTrace>,
    /// Providers known (after discovery) to offer sign-in on another device.
    device_capable: Vec<String>,
    /// Providers whose deep link may be traded for their loopback URI.
    loopback_capable: Vec<String>,
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
            flow: Flow::Idle,
            accounts: Vec::new(),
            active: None,
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
            logouts: Vec::new(),
            last_trace: None,
            device_capable: Vec::new(),
            loopback_capable: Vec::new(),
        }
    }

    /// What discovery taught about provider `id`; `true` when it changes the view.
    pub fn provider_ready(&mut self, id: &str, device_flow: bool, loopback_fallback: bool) -> bool {
        let mut changed = false;
        for (list, on) in [
            (&mut self.device_capable, device_flow),
            (&mut self.loopback_capable, loopback_fallback),
        ] {
            if list.iter().any(|p| p == id) != on {
                changed = true;
                list.retain(|p| p != id);
                if on {
                    list.push(id.to_owned());
                }
            }
        }
        changed
    }

    fn active_account(&self) -> Option<&Account> {
        let key = self.active.as_deref()?;
        self.accounts.iter().find(|a| a.keyring_account() == key)
    }

    pub fn phase(&self) -> Phase {
        match &self.flow {
            Flow::Starting { .. } => Phase::Starting,
            Flow::Authorizing { .. } => Phase::Authorizing,
            Flow::Exchanging { .. } => Phase::Exchanging,
            Flow::Device { .. } => Phase::Device,
            Flow::Failed(_) => Phase::Failed,
            Flow::Idle if self.active_account().is_some() => Phase::SignedIn,
            Flow::Idle => Phase::SignedOut,
        }
    }

    fn provider_name(&self, id: &str) -> String {
        self.providers
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| id.to_owned(), |p| p.name.clone())
    }

    /// The view of the current state, with the next revision.
    pub fn view(&mut self) -> View {
        self.revision += 1;
        let phase = self.phase();
        let profile = match phase {
            Phase::SignedIn => self.active_account().map(|a| a.profile.clone()),
            _ => None,
        };
        let error = match &self.flow {
            Flow::Failed(e) => Some(e.clone()),
            _ => None,
        };
        let accounts = self
            .accounts
            .iter()
            .map(|a| AccountView {
                key: a.keyring_account(),
                name: a.profile.name.clone(),
                email: a.profile.email.clone(),
                picture_data_url: a.profile.picture_data_url.clone(),
                provider_id: a.profile.provider_id.clone(),
                provider_name: self.provider_name(&a.profile.provider_id),
                active: self.active.as_deref() == Some(a.keyring_account().as_str()),
                needs_sign_in: a.needs_sign_in,
            })
            .collect();
        View {
            revision: self.revision,
            phase,
            provider_id: self.selected().id.clone(),
            provider_name: self.selected().name.clone(),
            providers: self.providers.clone(),
            config_error: self.config_error.clone(),
            profile,
            accounts,
            error,
            notice: self.notice.clone(),
            has_flow: self.last_trace.is_some(),
            loopback: matches!(&self.flow, Flow::Authorizing { pending, .. } if pending.redirect_uri().scheme() == "http"),
            expires_in_secs: match &self.flow {
                Flow::Authorizing { pending, .. } => Some(pending.time_left().as_secs()),
                Flow::Device { pending, .. } => Some(pending.time_left().as_secs()),
                _ => None,
            },
            device_flow: self.device_capable.iter().any(|p| p == self.selected_id()),
            loopback_fallback: matches!(&self.flow, Flow::Authorizing { pending, .. }
                if pending.redirect_uri().scheme() != "http"
                    && self.loopback_capable.iter().any(|p| p == pending.provider_id())),
            device: match &self.flow {
                Flow::Device { pending, .. } => Some(DeviceView {
                    user_code: pending.user_code().to_owned(),
                    verification_uri: pending.verification_uri().to_string(),
                    verification_uri_complete: pending
                        .verification_uri_complete()
                        .map(|u| u.to_string()),
                    qr_code: pending.qr_code().map(str::to_owned),
                }),
                _ => None,
            },
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

    fn set_flow(&mut self, flow: Flow) {
        close(std::mem::replace(&mut self.flow, flow));
    }

    /// Pick the provider for the next sign-in. Only while no sign-in is under way (the error
    /// screen is left); `None` when the id is unknown or the moment is wrong.
    pub fn select(&mut self, id: &str) -> Option<View> {
        if !matches!(self.flow, Flow::Idle | Flow::Failed(_)) || !self.point_at(id) {
            return None;
        }
        self.set_flow(Flow::Idle);
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

    /// Sign in was clicked: `Some(attempt, hints)` when a sign-in may start now, for the
    /// picked provider (a new account) or, with `again`, for that listed account. While one
    /// is starting, waiting or exchanging, a click starts nothing (a second click never
    /// opens a second tab).
    pub fn start(&mut self, again: Option<&str>) -> Option<(u64, SignInHints, View)> {
        if !matches!(self.flow, Flow::Idle | Flow::Failed(_)) {
            return None;
        }
        self.begin(again)
    }

    /// Start over another way (the loopback listener, another device) from a sign-in that is
    /// waiting for the browser or has failed; the one waiting is cancelled (its late link is
    /// recognised as such).
    pub fn restart(&mut self) -> Option<(u64, SignInHints, View)> {
        match self.flow {
            Flow::Authorizing { .. } | Flow::Device { .. } => {
                self.cancel();
            }
            Flow::Idle | Flow::Failed(_) => {}
            Flow::Starting { .. } | Flow::Exchanging { .. } => return None,
        }
        self.begin(None)
    }

    fn begin(&mut self, again: Option<&str>) -> Option<(u64, SignInHints, View)> {
        let hints = match again {
            Some(key) => {
                let account = self.accounts.iter().find(|a| a.keyring_account() == key)?;
                let (provider_id, hint) = (
                    account.profile.provider_id.clone(),
                    account.profile.email.clone(),
                );
                if !self.point_at(&provider_id) {
                    return None;
                }
                SignInHints {
                    select_account: false,
                    login_hint: hint,
                }
            }
            // Another account while one is signed in: the provider should offer a choice
            // rather than silently reuse its browser session.
            None => SignInHints {
                select_account: !self.accounts.is_empty(),
                login_hint: None,
            },
        };
        self.attempt += 1;
        self.notice = None;
        self.set_flow(Flow::Starting {
            attempt: self.attempt,
        });
        Some((self.attempt, hints, self.view()))
    }

    /// The pending sign-in's authorization URL (to open again, or to copy).
    pub fn authorization_url(&self) -> Option<&url::Url> {
        match &self.flow {
            Flow::Authorizing { pending, .. } => Some(pending.authorization_url()),
            _ => None,
        }
    }

    /// The waiting sign-in's request, when it was pushed (RFC 9126): its `request_uri` is
    /// good once, so the page is opened again or copied only after a fresh push.
    pub fn push_request(&self) -> Option<(u64, Arc<Provider>, PushRequest)> {
        match &self.flow {
            Flow::Authorizing {
                attempt,
                provider,
                pending,
                ..
            } => Some((*attempt, provider.clone(), pending.push_request()?)),
            _ => None,
        }
    }

    /// Take a fresh push's browser URL for `attempt`, if that sign-in is still waiting.
    pub fn use_pushed(&mut self, attempt: u64, url: url::Url) -> bool {
        match &mut self.flow {
            Flow::Authorizing {
                attempt: a,
                pending,
                ..
            } if *a == attempt => pending.use_pushed(url),
            _ => false,
        }
    }

    /// The device code is issued: show the user code and poll (RFC 8628 §3.3–3.4). `None`
    /// (and the poll stopped) when the attempt was left meanwhile.
    pub fn device(
        &mut self,
        attempt: u64,
        provider_id: &str,
        pending: Arc<PendingDeviceSignIn>,
        poller: Option<AbortHandle>,
    ) -> Option<View> {
        if !self.is_starting(attempt) {
            if let Some(p) = poller {
                p.abort();
            }
            return None;
        }
        self.point_at(provider_id);
        self.last_trace = Some(pending.trace().clone());
        self.set_flow(Flow::Device {
            attempt,
            pending,
            poller,
        });
        Some(self.view())
    }

    /// Whether `attempt` is the sign-in being started (not cancelled meanwhile).
    pub fn is_starting(&self, attempt: u64) -> bool {
        matches!(self.flow, Flow::Starting { attempt: a } if a == attempt)
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
        self.set_flow(Flow::Authorizing {
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
        if matches!(self.flow, Flow::Idle) {
            // Nothing in progress (a side path failed): a word, never a lost session.
            return Some(self.notify(&error.message));
        }
        self.set_flow(Flow::Failed(error));
        Some(self.view())
    }

    /// The pending sign-in ran out of time.
    pub fn expire(&mut self, attempt: u64) -> Option<View> {
        if !matches!(self.flow,
            Flow::Authorizing { attempt: a, .. } | Flow::Device { attempt: a, .. } if a == attempt)
        {
            return None;
        }
        self.fail(Some(attempt), (&pixie_auth::Error::Expired).into())
    }

    /// Cancel: stop whatever sign-in is starting, waiting or exchanging, or leave the error
    /// screen. Signed-in accounts are not touched.
    pub fn cancel(&mut self) -> View {
        match std::mem::replace(&mut self.flow, Flow::Idle) {
            Flow::Authorizing {
                pending, listener, ..
            } => {
                if let Some(l) = listener {
                    l.abort();
                }
                self.cancelled = Some(pending);
                self.attempt += 1;
            }
            f @ (Flow::Starting { .. } | Flow::Exchanging { .. } | Flow::Device { .. }) => {
                close(f);
                self.attempt += 1;
            }
            Flow::Failed(_) | Flow::Idle => {}
        }
        self.notice = None;
        self.view()
    }

    /// Sent the browser to the provider's end-session endpoint: only the return that carries
    /// this logout's `state` is recognised.
    pub fn expect_logout_return(&mut self, logout: PendingLogout) {
        self.logouts.push(logout);
    }

    /// Feed a redirect from any of the OS paths, the paste box, or (`via_listener`) the
    /// loopback listener.
    pub fn redirect(&mut self, raw: &str, via_listener: bool) -> RedirectOutcome {
        if let Some(i) = self.logouts.iter().position(|l| l.is_return(raw)) {
            self.logouts.remove(i);
            return RedirectOutcome::Ignored(self.notify(NOTICE_SIGNED_OUT_IN_BROWSER));
        }
        let Flow::Authorizing { pending, .. } = &self.flow else {
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
                let Flow::Authorizing {
                    attempt,
                    provider,
                    pending,
                    listener,
                } = std::mem::replace(&mut self.flow, Flow::Idle)
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
                self.flow = Flow::Exchanging { attempt, listener };
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
                // The listener that brought it answers the browser itself: not aborted.
                if via_listener && let Flow::Authorizing { listener, .. } = &mut self.flow {
                    listener.take();
                }
                let error = pixie_auth::Error::from(e);
                match self.fail(None, (&error).into()) {
                    Some(view) => RedirectOutcome::Failed(view),
                    None => RedirectOutcome::Ignored(self.view()),
                }
            }
        }
    }

    /// The exchange of `attempt` finished. The same person signing in again (same provider
    /// and `sub`) updates their account; anyone else is added; either becomes active.
    pub fn finish(
        &mut self,
        attempt: u64,
        provider: &Provider,
        result: Result<SignedIn, AppError>,
    ) -> Finished {
        let current = matches!(self.flow,
            Flow::Exchanging { attempt: a, .. } | Flow::Device { attempt: a, .. } if a == attempt);
        if !current {
            return Finished::Stale(result.ok().map(Box::new));
        }
        match result {
            Ok(done) => {
                // The listener (if it brought the redirect) answers the browser and closes
                // itself; it is not aborted here.
                self.flow = Flow::Idle;
                if let Some(e) = &done.picture_error {
                    self.notify(&e.user_message());
                }
                self.epoch += 1;
                let kept = StoredSession::from_tokens(provider, &done.tokens, None);
                let account = Account {
                    epoch: self.epoch,
                    profile: done.profile,
                    tokens: Some(done.tokens),
                    kept: kept.clone(),
                    needs_sign_in: false,
                };
                // The same person again (same provider and `sub`) replaces their entry. The
                // earlier session's tokens are not revoked: a provider may hand both sign-ins
                // the same grant (oidc-provider does), and revoking one would end the other.
                let key = account.keyring_account();
                match self
                    .accounts
                    .iter_mut()
                    .find(|a| a.keyring_account() == key)
                {
                    Some(existing) => *existing = account,
                    None => self.accounts.push(account),
                }
                self.active = Some(key);
                Finished::SignedIn {
                    view: self.view(),
                    epoch: self.epoch,
                    kept,
                }
            }
            Err(e) => match self.fail(Some(attempt), (&e).into()) {
                Some(view) => Finished::Failed(view),
                None => Finished::Stale(None),
            },
        }
    }

    /// Draw the cached accounts at launch while their sessions are read back and refreshed.
    /// Returns each account's epoch and key.
    pub fn restore(&mut self, cached: CachedAccounts) -> Option<(Vec<(u64, String)>, View)> {
        if self.phase() != Phase::SignedOut || cached.profiles.is_empty() {
            return None;
        }
        let mut restored = Vec::new();
        for profile in cached.profiles {
            let key = key_of(&profile);
            if self.accounts.iter().any(|a| a.keyring_account() == key) {
                continue;
            }
            self.epoch += 1;
            restored.push((self.epoch, key));
            self.accounts.push(Account {
                epoch: self.epoch,
                profile,
                tokens: None,
                kept: None,
                needs_sign_in: false,
            });
        }
        self.active = cached
            .active
            .filter(|k| self.accounts.iter().any(|a| &a.keyring_account() == k))
            .or_else(|| self.accounts.first().map(Account::keyring_account));
        if let Some(id) = self.active_account().map(|a| a.profile.provider_id.clone()) {
            self.point_at(&id);
        }
        Some((restored, self.view()))
    }

    /// What the cache should hold now.
    pub fn cached(&self) -> CachedAccounts {
        CachedAccounts {
            active: self.active.clone(),
            profiles: self.accounts.iter().map(|a| a.profile.clone()).collect(),
        }
    }

    /// The epoch of the active account's session, if one is signed in.
    pub fn signed_in_epoch(&self) -> Option<u64> {
        self.active_account().map(|a| a.epoch)
    }

    /// Every account's key and epoch.
    pub fn account_epochs(&self) -> Vec<(String, u64)> {
        self.accounts
            .iter()
            .map(|a| (a.keyring_account(), a.epoch))
            .collect()
    }

    /// The signed-in account of session `epoch`, if it is still current.
    pub fn account(&self, epoch: u64) -> Option<&Account> {
        self.accounts.iter().find(|a| a.epoch == epoch)
    }

    /// The same, to change.
    pub fn account_mut(&mut self, epoch: u64) -> Option<&mut Account> {
        self.accounts.iter_mut().find(|a| a.epoch == epoch)
    }

    /// A new profile for session `epoch` (after a refresh).
    pub fn profile_refreshed(&mut self, epoch: u64, profile: Profile) -> Option<View> {
        self.account_mut(epoch)?.profile = profile;
        Some(self.view())
    }

    /// Switch the window to another signed-in account; no browser, no network.
    pub fn switch(&mut self, key: &str) -> Option<View> {
        if !matches!(self.flow, Flow::Idle | Flow::Failed(_)) {
            return None;
        }
        let provider_id = self
            .accounts
            .iter()
            .find(|a| a.keyring_account() == key)?
            .profile
            .provider_id
            .clone();
        self.active = Some(key.to_owned());
        self.point_at(&provider_id);
        self.set_flow(Flow::Idle);
        Some(self.view())
    }

    /// The provider (or the keyring) ended session `epoch`. With other accounts listed it
    /// stays as "Sign in again"; alone, the window goes back to Sign in. Returns the tokens
    /// it held (`Account`), whose keyring entry is to be removed.
    pub fn end_session(&mut self, epoch: u64, text: &str) -> Option<(Account, View)> {
        let i = self.accounts.iter().position(|a| a.epoch == epoch)?;
        self.epoch += 1;
        let ended = if self.accounts.len() == 1 {
            let ended = self.accounts.remove(i);
            self.active = None;
            ended
        } else {
            let a = &mut self.accounts[i];
            let ended = Account {
                epoch: a.epoch,
                profile: a.profile.clone(),
                tokens: a.tokens.take(),
                kept: a.kept.take(),
                needs_sign_in: true,
            };
            a.epoch = self.epoch;
            a.needs_sign_in = true;
            ended
        };
        let text = match self.accounts.len() {
            0 => text.to_owned(),
            _ => format!("{} ({})", text, ended.profile.name),
        };
        Some((ended, self.notify(&text)))
    }

    /// Sign out of one account (`None`: the active one) or, with `all`, of every account.
    /// They leave the state at once (nothing can refresh or save them any more); the caller
    /// revokes their tokens and deletes their entries.
    pub fn sign_out(&mut self, key: Option<&str>, all: bool) -> (Vec<Account>, View) {
        let key = key.map(str::to_owned).or_else(|| self.active.clone());
        let (gone, stay): (Vec<Account>, Vec<Account>) = std::mem::take(&mut self.accounts)
            .into_iter()
            .partition(|a| all || Some(a.keyring_account()) == key);
        self.accounts = stay;
        if self
            .active
            .as_ref()
            .is_none_or(|k| !self.accounts.iter().any(|a| &a.keyring_account() == k))
        {
            self.active = self
                .accounts
                .iter()
                .find(|a| !a.needs_sign_in)
                .or(self.accounts.first())
                .map(Account::keyring_account);
        }
        if let Some(id) = self.active_account().map(|a| a.profile.provider_id.clone()) {
            self.point_at(&id);
        }
        self.epoch += 1;
        self.notice = None;
        (gone, self.view())
    }
}
