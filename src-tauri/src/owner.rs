//! The one place every lifecycle step goes through: start, redirect, exchange, save,
//! restore, refresh, sign-out, cancel and expire. The [`Machine`] (the session and nothing
//! beside it) sits behind one async lock, held across each transition *and* the keyring and
//! cache writes that belong to it, so a sign-out that comes during a save, a restore or a
//! refresh waits for it and then finds everything it has to revoke and delete. Work the
//! person may want to interrupt (discovery, waiting for the browser, the exchange) runs
//! outside the lock and comes back as a transition that checks it is still current.
//!
//! Nothing here knows Tauri: the window, the browser, the keyring and the providers are
//! traits, so the races can be tested with a keyring as slow as a test likes.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pixie_auth::RedirectMode;
use pixie_auth::device::PendingDeviceSignIn;
use pixie_auth::loopback::{Answer, LoopbackListener, Reply};
use pixie_auth::settings::default_redirect_uri;
use pixie_auth::signin::COMPLETE_DEADLINE;
use pixie_auth::{IdTokenError, PendingSignIn, Provider, SignInHints, StoredSession, Tokens};
use tokio::sync::MutexGuard;

use crate::browser::Browser;
use crate::cache;
use crate::error::AppError;
use crate::keystore::{BoxFuture, KeyringError, Keystore};
use crate::machine::{
    Account, ExchangeJob, Finished, Machine, NOTICE_SESSION_ENDED, RedirectOutcome, View,
};

/// Where the provider sends the browser after RP-initiated logout.
pub const LOGOUT_REDIRECT_URI: &str = "dev.pixie.app:/oauth/logout";
/// Refresh this long before the access token expires.
const REFRESH_AHEAD: Duration = Duration::from_secs(60);
/// After a failed refresh that may pass (offline), try again after this.
const RETRY_AFTER: Duration = Duration::from_secs(30);

pub const NOTICE_PROVIDER_REMOVED: &str =
    "The provider of your saved sign-in is no longer in providers.toml, so Pixie signed you out.";
pub const NOTICE_OFFLINE: &str = "Pixie couldn't reach the provider to renew your session. It will keep trying; you stay signed in.";
pub const NOTICE_REFRESH_REFUSED: &str = "The provider's answer when Pixie renewed your session failed Pixie's security checks, so Pixie signed you out. Sign in again.";
pub const NOTICE_NOT_TOLD: &str =
    "You're signed out of Pixie, but the provider couldn't be told (are you offline?).";

/// The providers on offer.
pub trait Providers: Send + Sync {
    /// The provider `id`, discovered (or started) on first use.
    fn provider<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Arc<Provider>, AppError>>;
    /// Whether `id` is still configured.
    fn contains(&self, id: &str) -> bool;
    /// Remember `id` as the one used last.
    fn remember(&self, id: &str);
}

/// Where views go: the window (and the event log), or a recorder in tests.
pub trait Window: Send + Sync {
    fn show(&self, view: &View);
    /// Bring the window to the front (a redirect arrived).
    fn focus(&self) {}
}

/// What became of a redirect, for a caller that answers someone (the loopback listener).
pub enum Delivered {
    /// Not this sign-in's: a notice, nothing else changed.
    Ignored,
    /// It ended the sign-in; the plain-words reason.
    Failed(String),
    /// It is the sign-in's: exchange the code with [`Owner::exchange`].
    Exchange(Box<ExchangeJob>),
}

pub struct Owner {
    machine: tokio::sync::Mutex<Machine>,
    /// The last view sent, so the window can be answered while a keyring call holds the lock.
    shown: Mutex<View>,
    keystore: Arc<dyn Keystore>,
    providers: Arc<dyn Providers>,
    browser: Arc<dyn Browser>,
    window: Arc<dyn Window>,
    cache_dir: Option<PathBuf>,
    /// The sessions whose refresh is at the provider now (one at a time per session).
    refreshing: Mutex<std::collections::HashSet<u64>>,
}

/// A session's refresh in flight; the session is free for the next one when this is dropped.
struct InFlight<'a> {
    owner: &'a Owner,
    epoch: u64,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut set = self
            .owner
            .refreshing
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        set.remove(&self.epoch);
    }
}

fn spawn<F: Future<Output = ()> + Send + 'static>(f: F) {
    tauri::async_runtime::spawn(f);
}

/// A copy of the tokens good for fetching the profile without holding the lock.
fn for_profile(t: &Tokens) -> Tokens {
    Tokens {
        access_token: t.access_token.clone(),
        refresh_token: None,
        id_token: t.id_token.clone(),
        expires_at: t.expires_at,
        subject: t.subject.clone(),
        dpop_key: t.dpop_key.clone(),
    }
}

/// Everything of a session that the provider can be asked to revoke (RFC 7009 §2.1): the
/// refresh token (which takes the grant with it), else the access token.
fn to_revoke(
    provider: &Provider,
    tokens: Option<&Tokens>,
    kept: Option<&StoredSession>,
) -> Option<StoredSession> {
    let refresh_token = kept
        .and_then(|k| k.refresh_token.clone())
        .or_else(|| tokens.and_then(|t| t.refresh_token.clone()));
    let access_token = tokens
        .map(|t| t.access_token.clone())
        .or_else(|| kept.and_then(|k| k.access_token.clone()));
    if refresh_token.is_none() && access_token.is_none() {
        return None;
    }
    Some(StoredSession {
        provider_id: provider.config().id.clone(),
        issuer: provider.issuer().to_owned(),
        subject: kept
            .map(|k| k.subject.clone())
            .or_else(|| tokens.map(|t| t.subject.as_str().to_owned()))
            .unwrap_or_default(),
        refresh_token,
        access_token,
        id_token: None,
        auth_time: None,
        // RFC 9449 §4: the revocation request is proven with the key the tokens are bound
        // to, which travels with them when nothing was kept.
        dpop_key: kept
            .and_then(|k| k.dpop_key.clone())
            .or_else(|| tokens.and_then(|t| t.dpop_key.clone())),
    })
}

/// A refresh answered after its session ended. Signed out: what the provider issued belongs
/// to no one and is revoked here. (Replaced by a newer sign-in of the same person, the caller
/// leaves it alone, as [`Machine::finish`] leaves the earlier session's tokens: a provider
/// may give both sign-ins one grant, and revoking would end the new session.)
async fn revoke_late(provider: &Provider, tokens: &Tokens) {
    if let Some(orphan) = to_revoke(provider, Some(tokens), None)
        && let Err(e) = provider.revoke(&orphan).await
    {
        tracing::warn!(
            code = e.code(),
            "revoking a refresh that came too late failed"
        );
    }
}

fn keyring_save_message(e: &KeyringError) -> String {
    format!(
        "Pixie couldn't save your sign-in to the system keyring: {e}. You'll stay signed in until you quit."
    )
}

/// What a provider without RFC 7009 revocation leaves behind, in words.
fn not_revocable_message(provider: &Provider) -> String {
    let name = &provider.config().display_name;
    let where_ = if provider.issuer().contains("github.com") {
        " (github.com \u{2192} Settings \u{2192} Applications)".to_owned()
    } else {
        String::new()
    };
    format!(
        "You're signed out of Pixie. {name} gives apps no way to end their access, so it stays valid until you remove Pixie in your {name} account settings{where_}."
    )
}

impl Owner {
    pub fn new(
        mut machine: Machine,
        keystore: Arc<dyn Keystore>,
        providers: Arc<dyn Providers>,
        browser: Arc<dyn Browser>,
        window: Arc<dyn Window>,
        cache_dir: Option<PathBuf>,
    ) -> Arc<Self> {
        let shown = Mutex::new(machine.view());
        Arc::new(Self {
            machine: tokio::sync::Mutex::new(machine),
            shown,
            keystore,
            providers,
            browser,
            window,
            cache_dir,
            refreshing: Mutex::default(),
        })
    }

    /// The newest view sent to the window (never waits for the keyring).
    pub fn current_view(&self) -> View {
        self.shown.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Send a view. Called with the machine locked, so views leave in the order made.
    fn show(&self, view: View) {
        {
            let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
            if view.revision > shown.revision {
                *shown = view.clone();
            }
        }
        self.window.show(&view);
    }

    /// The machine, for a short look (the flow diagram). Waits for a transition in progress.
    pub async fn machine(&self) -> MutexGuard<'_, Machine> {
        self.machine.lock().await
    }

    /// Show a passing message without changing the phase.
    pub async fn notify(&self, text: &str) {
        let mut m = self.machine.lock().await;
        let view = m.notify(text);
        self.show(view);
    }

    /// Pick the provider for the next sign-in.
    pub async fn select_provider(&self, id: &str) -> View {
        let mut m = self.machine.lock().await;
        if let Some(view) = m.select(id) {
            self.show(view);
        }
        drop(m);
        self.current_view()
    }

    /// Sign in was clicked (a new account, or with `again` a listed one whose session
    /// ended): "Contacting …" while the provider is discovered (Cancel works), then the
    /// browser. A click while one is under way starts nothing.
    pub async fn sign_in(self: &Arc<Self>, again: Option<&str>) -> View {
        self.begin_sign_in(|m| m.start(again), false).await
    }

    /// The browser never handed the deep link over: start again through the provider's
    /// loopback URI (RFC 8252 §7.3), for providers that take both.
    pub async fn try_loopback(self: &Arc<Self>) -> View {
        self.begin_sign_in(Machine::restart, true).await
    }

    async fn begin_sign_in(
        self: &Arc<Self>,
        start: impl FnOnce(&mut Machine) -> Option<(u64, SignInHints, View)>,
        loopback: bool,
    ) -> View {
        let (attempt, hints, id) = {
            let mut m = self.machine.lock().await;
            let Some((attempt, hints, view)) = start(&mut m) else {
                drop(m);
                return self.current_view();
            };
            self.show(view);
            (attempt, hints, m.selected_id().to_owned())
        };
        let prepared = self.prepare(&id, &hints, loopback).await;
        let mut m = self.machine.lock().await;
        let (provider, pending, listener) = match prepared {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(code = e.code(), error = %e, "sign-in could not start");
                if let Some(view) = m.fail(Some(attempt), (&e).into()) {
                    self.show(view);
                }
                drop(m);
                return self.current_view();
            }
        };
        let url = pending.authorization_url().clone();
        let listener = listener.map(|l| {
            tauri::async_runtime::spawn(self.clone().serve_loopback(l))
                .inner()
                .abort_handle()
        });
        let Some(view) = m.authorize(attempt, provider.clone(), pending, listener) else {
            drop(m);
            return self.current_view(); // cancelled while the provider was being reached
        };
        self.providers.remember(&provider.config().id);
        self.show(view);
        if let Err(e) = self.browser.open(&url) {
            tracing::warn!(error = %e, "could not open the browser");
            if let Some(view) = m.fail(Some(attempt), (&AppError::from(e)).into()) {
                self.show(view);
            }
        } else {
            // Design: a pending sign-in times out; a browser closed mid-way never leaves us
            // waiting.
            let owner = self.clone();
            spawn(async move {
                tokio::time::sleep(pixie_auth::signin::SIGN_IN_TIMEOUT).await;
                let mut m = owner.machine.lock().await;
                if let Some(view) = m.expire(attempt) {
                    owner.show(view);
                }
            });
        }
        drop(m);
        self.current_view()
    }

    /// The provider `id`, discovered, and what it taught the window (sign-in on another
    /// device, a loopback way besides the deep link).
    pub async fn provider(&self, id: &str) -> Result<Arc<Provider>, AppError> {
        let provider = self.providers.provider(id).await?;
        let mut m = self.machine.lock().await;
        if m.provider_ready(
            id,
            provider.supports_device_flow(),
            provider.config().loopback_fallback,
        ) {
            let view = m.view();
            self.show(view);
        }
        Ok(provider)
    }

    /// Discovery, the loopback listener when the provider uses one (or `loopback` asks for
    /// it), and the request.
    async fn prepare(
        &self,
        id: &str,
        hints: &SignInHints,
        loopback: bool,
    ) -> Result<(Arc<Provider>, PendingSignIn, Option<LoopbackListener>), AppError> {
        let provider = self.provider(id).await?;
        // RFC 8252 §7.3: a loopback redirect gets a listener of its own for this sign-in.
        let path = match provider.config().redirect {
            RedirectMode::Loopback => Some(provider.redirect_uri().path().to_owned()),
            RedirectMode::DeepLink if loopback && provider.config().loopback_fallback => {
                url::Url::parse(&default_redirect_uri(id, RedirectMode::Loopback))
                    .ok()
                    .map(|u| u.path().to_owned())
            }
            RedirectMode::DeepLink => None,
        };
        let listener = match path {
            Some(path) => Some(
                LoopbackListener::bind(&path)
                    .await
                    .map_err(|e| AppError::Listener(e.to_string()))?,
            ),
            None => None,
        };
        // RFC 9126: pushed to the provider first where it offers that (only `client_id` and
        // `request_uri` then go through the browser).
        let pending = provider
            .prepare_sign_in(listener.as_ref().map(|l| l.redirect_uri()), hints)
            .await?;
        Ok((provider, pending, listener))
    }

    /// The loopback listener of one sign-in (RFC 8252 §7.3): every request on the callback
    /// path takes the same way as a deep link; the browser is told how the sign-in went and
    /// the listener closes after the first redirect that settles it.
    async fn serve_loopback(self: Arc<Self>, listener: LoopbackListener) {
        let served = listener
            .serve(|url| {
                let owner = self.clone();
                async move {
                    match owner.redirect(&url, true).await {
                        Delivered::Ignored => Reply::Listen(Answer::Ignored),
                        Delivered::Failed(message) => Reply::Finish(Answer::Failed(message), ()),
                        Delivered::Exchange(job) => match owner.exchange(job).await {
                            Ok(()) => Reply::Finish(Answer::SignedIn, ()),
                            Err(message) => Reply::Finish(Answer::Failed(message), ()),
                        },
                    }
                }
            })
            .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "the loopback listener stopped");
        }
    }

    /// Sign in on another device (RFC 8628): the window shows the user code, the address
    /// and a QR code while the core polls; Cancel stops the poll. From a sign-in waiting for
    /// the browser, that one is cancelled.
    pub async fn sign_in_on_device(self: &Arc<Self>) -> View {
        let (attempt, id) = {
            let mut m = self.machine.lock().await;
            let Some((attempt, _, view)) = m.restart() else {
                drop(m);
                return self.current_view();
            };
            self.show(view);
            (attempt, m.selected_id().to_owned())
        };
        let started = async {
            let provider = self.provider(&id).await?;
            let pending = provider.start_device_sign_in().await?;
            Ok::<_, AppError>((provider, pending))
        }
        .await;
        let mut m = self.machine.lock().await;
        match started {
            Err(e) => {
                tracing::warn!(code = e.code(), error = %e, "sign-in on another device could not start");
                if let Some(view) = m.fail(Some(attempt), (&e).into()) {
                    self.show(view);
                }
            }
            Ok((provider, pending)) => {
                let pending = Arc::new(pending);
                let poller = tauri::async_runtime::spawn(self.clone().poll_device(
                    attempt,
                    provider.clone(),
                    pending.clone(),
                ))
                .inner()
                .abort_handle();
                if let Some(view) = m.device(attempt, &provider.config().id, pending, Some(poller))
                {
                    self.providers.remember(&provider.config().id);
                    self.show(view);
                }
            }
        }
        drop(m);
        self.current_view()
    }

    /// Poll until the person is done on the other device (the core keeps the interval and
    /// `slow_down`), then the same keeping as any sign-in.
    async fn poll_device(
        self: Arc<Self>,
        attempt: u64,
        provider: Arc<Provider>,
        pending: Arc<PendingDeviceSignIn>,
    ) {
        let result = provider
            .complete_device_sign_in(&pending)
            .await
            .map_err(AppError::from);
        let _ = self.finish(attempt, &provider, result).await;
    }

    /// Open the pending sign-in's page in the browser again.
    pub async fn reopen_browser(&self) -> View {
        self.push_again().await;
        let mut m = self.machine.lock().await;
        if let Some(url) = m.authorization_url().cloned()
            && let Err(e) = self.browser.open(&url)
        {
            let view = m.notify(&AppError::from(e).user_message());
            self.show(view);
        }
        drop(m);
        self.current_view()
    }

    /// The pending sign-in's page, to open by hand in a browser of the person's choice. It
    /// carries `state` and the PKCE challenge, never the verifier, a code or a token.
    pub async fn sign_in_link(&self) -> Option<String> {
        self.push_again().await;
        self.machine
            .lock()
            .await
            .authorization_url()
            .map(|u| u.to_string())
    }

    /// A pushed sign-in's `request_uri` is good once (RFC 9126 §7.3), and the person's
    /// browser may have used it: before the page is opened again or copied, the same request
    /// is pushed again (outside the lock; the result is taken only if that sign-in is still
    /// waiting). A failed push leaves the old link, and says so.
    async fn push_again(&self) {
        let Some((attempt, provider, request)) = self.machine.lock().await.push_request() else {
            return;
        };
        match provider.push_again(&request).await {
            Ok(url) => {
                self.machine.lock().await.use_pushed(attempt, url);
            }
            Err(e) => {
                tracing::warn!(code = e.code(), "could not push the sign-in request again");
                let mut m = self.machine.lock().await;
                let view = m.notify(&e.user_message());
                self.show(view);
            }
        }
    }

    /// Stop waiting (or leave the error screen).
    pub async fn cancel(&self) -> View {
        let mut m = self.machine.lock().await;
        let view = m.cancel();
        self.show(view);
        drop(m);
        self.current_view()
    }

    /// The one entry for redirects: cold start, a running app, a second process, a paste, or
    /// (`via_listener`) the loopback listener.
    pub async fn redirect(&self, raw: &str, via_listener: bool) -> Delivered {
        tracing::info!(len = raw.len(), "a sign-in redirect arrived");
        self.window.focus();
        let mut m = self.machine.lock().await;
        match m.redirect(raw, via_listener) {
            RedirectOutcome::Ignored(view) => {
                self.show(view);
                Delivered::Ignored
            }
            RedirectOutcome::Failed(view) => {
                let message = view
                    .error
                    .as_ref()
                    .map(|e| e.message.clone())
                    .unwrap_or_else(|| "The sign-in did not finish.".into());
                self.show(view);
                Delivered::Failed(message)
            }
            RedirectOutcome::Exchange { view, job } => {
                self.show(view);
                Delivered::Exchange(job)
            }
        }
    }

    /// A redirect from anywhere but the listener, carried through to the end.
    pub async fn deliver(self: &Arc<Self>, raw: &str) {
        if let Delivered::Exchange(job) = self.redirect(raw, false).await {
            let _ = self.exchange(job).await;
        }
    }

    /// Exchange the code, check everything, load the profile, then keep the session. One
    /// deadline over all of it; Cancel works meanwhile. `Err`: the plain-words reason.
    pub async fn exchange(self: &Arc<Self>, job: Box<ExchangeJob>) -> Result<(), String> {
        let started = Instant::now();
        // The pending sign-in is spent on the exchange (its verifier goes once).
        let ExchangeJob {
            attempt,
            provider,
            pending,
            callback,
        } = *job;
        let result =
            match tokio::time::timeout(COMPLETE_DEADLINE, provider.complete(pending, &callback))
                .await
            {
                Ok(r) => r.map_err(AppError::from),
                Err(_) => Err(AppError::ExchangeTimedOut(COMPLETE_DEADLINE.as_secs())),
            };
        if result.is_ok() {
            tracing::info!(ms = started.elapsed().as_millis() as u64, "signed in");
        }
        self.finish(attempt, &provider, result).await
    }

    /// The end of an exchange: keep the session if it is still the current attempt's, else
    /// revoke what it got. `Err`: the plain-words reason.
    pub async fn finish(
        self: &Arc<Self>,
        attempt: u64,
        provider: &Arc<Provider>,
        result: Result<pixie_auth::SignedIn, AppError>,
    ) -> Result<(), String> {
        let outcome = match &result {
            Err(e) => {
                tracing::warn!(code = e.code(), error = %e, "sign-in failed");
                Err(e.user_message())
            }
            Ok(_) => Ok(()),
        };
        let mut m = self.machine.lock().await;
        match m.finish(attempt, provider, result) {
            Finished::Stale(signed_in) => {
                drop(m);
                // Tokens for a sign-in the person left: nobody holds them; end them.
                if let Some(done) = signed_in
                    && let Some(s) = to_revoke(provider, Some(&done.tokens), None)
                    && let Err(e) = provider.revoke(&s).await
                {
                    tracing::warn!(
                        code = e.code(),
                        "could not revoke a cancelled sign-in's tokens"
                    );
                }
                return Err("The sign-in was cancelled in Pixie.".into());
            }
            Finished::Failed(view) => self.show(view),
            Finished::SignedIn { view, epoch, kept } => {
                self.show(view);
                let expires_at = m
                    .account(epoch)
                    .and_then(|a| a.tokens.as_ref())
                    .and_then(|t| t.expires_at);
                self.keep(&mut m, kept.as_ref()).await;
                drop(m);
                if kept.is_none() {
                    tracing::info!(
                        "the provider issued no refresh token; the session lasts until quit"
                    );
                } else {
                    self.schedule_refresh(epoch, expires_at);
                }
            }
        }
        outcome
    }

    /// Write the profile cache and the keyring entry of the session the lock holder just
    /// made current.
    async fn keep(&self, m: &mut Machine, kept: Option<&StoredSession>) {
        self.save_cache(m);
        if let Some(kept) = kept
            && let Err(e) = self.keystore.save(kept).await
        {
            tracing::warn!(error = ?e, "keyring save failed");
            let view = m.notify(&keyring_save_message(&e));
            self.show(view);
        }
    }

    /// The profile cache as the machine has it now (lock held).
    fn save_cache(&self, m: &Machine) {
        if let Some(dir) = &self.cache_dir {
            cache::save(dir, &m.cached());
        }
    }

    /// At launch: draw every cached account at once, then read them back (see
    /// [`Owner::read_back`]). The app draws the cache before the owner exists instead
    /// ([`Machine::restore`] at setup), so the first paint is already the right one.
    pub async fn restore_at_launch(self: Arc<Self>) {
        let Some(cached) = self.cache_dir.as_deref().and_then(cache::load) else {
            return;
        };
        let restored = {
            let mut m = self.machine.lock().await;
            let Some((restored, view)) = m.restore(cached) else {
                return;
            };
            self.show(view);
            restored
        };
        self.read_back(restored).await;
    }

    /// Read the drawn accounts' sessions back from the keyring side by side (each call
    /// time-boxed; a sign-out meanwhile waits for the reads), then refresh each on its own.
    /// One account's failure leaves the others alone.
    pub async fn read_back(self: Arc<Self>, restored: Vec<(u64, String)>) {
        tracing::info!(
            ms = crate::since_start_ms(),
            accounts = restored.len(),
            "reading the restored sessions back"
        );
        let mut m = self.machine.lock().await;
        let mut reads = tokio::task::JoinSet::new();
        for (epoch, key) in restored {
            let keystore = self.keystore.clone();
            reads.spawn(async move { (epoch, keystore.load(&key).await) });
        }
        let mut to_refresh = Vec::new();
        while let Some(read) = reads.join_next().await {
            let Ok((epoch, read)) = read else { continue };
            match read {
                Ok(Some(kept)) => {
                    if let Some(a) = m.account_mut(epoch) {
                        a.kept = Some(kept);
                        to_refresh.push(epoch);
                    }
                }
                Ok(None) => self.end(&mut m, epoch, NOTICE_SESSION_ENDED, true).await,
                Err(e) => {
                    // The entry may be there behind a locked keyring: keep it (and the
                    // cache) for the next launch, and sign in again for this one.
                    tracing::warn!(error = ?e, "keyring read failed at launch");
                    let text = format!(
                        "Pixie couldn't read your saved sign-in from the system keyring: {e}. Sign in again."
                    );
                    self.end(&mut m, epoch, &text, false).await;
                }
            }
        }
        drop(m);
        let refreshes: Vec<_> = to_refresh
            .into_iter()
            .map(|epoch| {
                let owner = self.clone();
                tokio::spawn(async move { owner.refresh(epoch).await })
            })
            .collect();
        for r in refreshes {
            let _ = r.await;
        }
    }

    /// End session `epoch` (lock held); `forget` also removes its keyring entry and cache.
    async fn end(&self, m: &mut Machine, epoch: u64, text: &str, forget: bool) {
        let Some((account, view)) = m.end_session(epoch, text) else {
            return;
        };
        self.show(view);
        if forget {
            self.forget(m, &account).await;
        }
    }

    /// Remove an account's keyring entry and rewrite the profile cache without what has
    /// left the machine (lock held).
    async fn forget(&self, m: &mut Machine, account: &Account) {
        if let Err(e) = self.keystore.delete(&account.keyring_account()).await {
            tracing::warn!(error = %e, "keyring delete failed");
            // With no keyring at all nothing was ever saved there.
            if !matches!(e, KeyringError::Unavailable(_)) {
                let view = m.notify(&format!(
                    "Pixie couldn't remove your sign-in from the system keyring: {e}."
                ));
                self.show(view);
            }
        }
        self.save_cache(m);
    }

    fn schedule_refresh(
        self: &Arc<Self>,
        epoch: u64,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        let Some(expires_at) = expires_at else { return };
        let wait = (expires_at - chrono::Utc::now())
            .to_std()
            .unwrap_or_default()
            .saturating_sub(REFRESH_AHEAD)
            .max(Duration::from_secs(5));
        self.schedule_after(epoch, wait);
    }

    fn schedule_after(self: &Arc<Self>, epoch: u64, wait: Duration) {
        let owner = self.clone();
        spawn(async move {
            tokio::time::sleep(wait).await;
            owner.refresh(epoch).await;
        });
    }

    /// Refresh session `epoch`: one at a time per session, the round trip to the provider
    /// made without the lock (the window, a sign-in and a sign-out never wait for a slow
    /// provider), then, under the lock and in order with sign-out, the rotated refresh token
    /// written to the keyring before the new access token is used. Tokens that come back for
    /// a session that ended meanwhile are never kept (and revoked after a sign-out: see
    /// [`revoke_late`]).
    pub async fn refresh(self: &Arc<Self>, epoch: u64) {
        let Some(_in_flight) = self.start_refresh(epoch) else {
            return; // this session's refresh is already at the provider
        };
        let provider_id = {
            let m = self.machine.lock().await;
            match m.account(epoch) {
                Some(a) if a.kept.is_some() => a.profile.provider_id.clone(),
                _ => return, // signed out, or a session with nothing to refresh with
            }
        };
        if !self.providers.contains(&provider_id) {
            let mut m = self.machine.lock().await;
            return self.end(&mut m, epoch, NOTICE_PROVIDER_REMOVED, true).await;
        }
        let provider = match self.providers.provider(&provider_id).await {
            Ok(p) => p,
            Err(e) => return self.offline(epoch, &e).await,
        };
        let kept = {
            let m = self.machine.lock().await;
            match m.account(epoch).and_then(|a| a.kept.clone()) {
                Some(kept) => kept,
                None => return, // signed out while the provider was being reached
            }
        };
        let key = crate::keystore::account(&kept.provider_id, &kept.subject);
        let result = provider.refresh(&kept).await;
        let mut m = self.machine.lock().await;
        let still_kept = m
            .account(epoch)
            .and_then(|a| a.kept.as_ref())
            .is_some_and(|k| k.refresh_token == kept.refresh_token);
        if !still_kept {
            let signed_in_again = m.account_epochs().iter().any(|(k, _)| *k == key);
            drop(m);
            if let (Ok(tokens), false) = (result, signed_in_again) {
                revoke_late(&provider, &tokens).await;
            }
            return;
        }
        // Design: on invalid_grant re-read the store; another writer may have rotated it.
        // Under the lock (a rare path): the entry is this account's, and a newer session of
        // the same person, which would share it, cannot appear meanwhile.
        let (result, used) = match result {
            Err(e) if e.is_invalid_grant() => match self.keystore.load(&key).await {
                Ok(Some(stored)) if stored.refresh_token != kept.refresh_token => {
                    (provider.refresh(&stored).await, stored)
                }
                _ => (Err(e), kept),
            },
            other => (other, kept),
        };
        let tokens = match result {
            Ok(t) => t,
            Err(e) if e.is_invalid_grant() => {
                return self.end(&mut m, epoch, NOTICE_SESSION_ENDED, true).await;
            }
            // OIDC Core §3.1.3.7, §12.2: the provider answered, but with an ID token that
            // fails the checks. The core has revoked what it sent; trying again would only
            // spend the rotated refresh token. The session ends, and what it kept is revoked.
            Err(pixie_auth::Error::IdToken(e)) if !matches!(e, IdTokenError::Keys(_)) => {
                tracing::warn!(error = %e, "a refreshed ID token was refused; session ended");
                self.end(&mut m, epoch, NOTICE_REFRESH_REFUSED, true).await;
                drop(m);
                if let Err(e) = provider.revoke(&used).await {
                    tracing::warn!(code = e.code(), "could not revoke the refused session");
                }
                return;
            }
            Err(e) => {
                drop(m);
                return self.offline(epoch, &AppError::from(e)).await;
            }
        };
        // The session the provider just answered for (the keyring's, after a retry) fills
        // in what the answer may leave out (RFC 6749 §6, OIDC Core §12.2).
        let next = StoredSession::from_tokens(&provider, &tokens, Some(&used));
        if let Some(next) = &next
            && let Err(e) = self.keystore.save(next).await
        {
            // The old refresh token may already be spent: say so, carry on in memory.
            tracing::warn!(error = ?e, "keyring save after refresh failed");
            let view = m.notify(&keyring_save_message(&e));
            self.show(view);
        }
        let expires_at = tokens.expires_at;
        let copy = for_profile(&tokens);
        if let Some(account) = m.account_mut(epoch) {
            account.kept = next;
            account.tokens = Some(tokens);
        }
        drop(m);
        let profile = match provider.load_profile(&copy).await {
            Ok((p, _)) => Some(p),
            Err(e) => {
                tracing::warn!(code = e.code(), "profile not refreshed");
                None
            }
        };
        let mut m = self.machine.lock().await;
        if m.account(epoch).is_none() {
            return; // signed out meanwhile: write nothing
        }
        if let Some(p) = profile
            && let Some(view) = m.profile_refreshed(epoch, p)
        {
            self.show(view);
            self.save_cache(&m);
        }
        drop(m);
        tracing::info!(ms = crate::since_start_ms(), "session refreshed");
        self.schedule_refresh(epoch, expires_at);
    }

    /// Mark session `epoch` as refreshing, unless it already is.
    fn start_refresh(&self, epoch: u64) -> Option<InFlight<'_>> {
        let mut set = self.refreshing.lock().unwrap_or_else(|p| p.into_inner());
        set.insert(epoch).then_some(InFlight { owner: self, epoch })
    }

    async fn offline(self: &Arc<Self>, epoch: u64, e: &AppError) {
        tracing::warn!(code = e.code(), error = %e, "refresh failed; will retry");
        let mut m = self.machine.lock().await;
        if m.account(epoch).is_none() {
            return;
        }
        let view = m.notify(NOTICE_OFFLINE);
        self.show(view);
        drop(m);
        self.schedule_after(epoch, RETRY_AFTER);
    }

    /// Switch the window to another signed-in account: instant, no browser, no network;
    /// remembered for the next launch.
    pub async fn switch_account(&self, key: &str) -> View {
        let mut m = self.machine.lock().await;
        if let Some(view) = m.switch(key) {
            self.show(view);
            self.save_cache(&m);
        }
        drop(m);
        self.current_view()
    }

    /// Sign out of one account (`key`, else the active one) or, with `all`, of every one:
    /// they leave the state at once; their keyring entries and cache are removed in order
    /// with any save, read or refresh before this (they held the lock); then every token
    /// each held is revoked (RFC 7009), and the provider's browser session ended when asked
    /// (RP-Initiated Logout), with the ID token from memory if none was kept.
    pub async fn sign_out(
        self: &Arc<Self>,
        key: Option<&str>,
        all: bool,
        also_in_browser: bool,
    ) -> View {
        let mut m = self.machine.lock().await;
        let (gone, view) = m.sign_out(key, all);
        self.show(view);
        for account in &gone {
            self.forget(&mut m, account).await;
        }
        drop(m);
        for account in gone {
            self.tell_provider(account, also_in_browser).await;
        }
        self.current_view()
    }

    /// Revoke what a signed-out account held, and end its browser session when asked.
    async fn tell_provider(&self, account: Account, also_in_browser: bool) {
        let provider = match self.providers.provider(&account.profile.provider_id).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(code = e.code(), "sign-out: the provider is out of reach");
                return self.notify(NOTICE_NOT_TOLD).await;
            }
        };
        match to_revoke(&provider, account.tokens.as_ref(), account.kept.as_ref()) {
            Some(session) => match provider.revoke(&session).await {
                Ok(true) => tracing::info!("tokens revoked at the provider"),
                Ok(false) => self.notify(&not_revocable_message(&provider)).await,
                Err(e) => {
                    tracing::warn!(code = e.code(), "revocation failed");
                    self.notify(NOTICE_NOT_TOLD).await;
                }
            },
            None => tracing::info!("no token to revoke (the session was never read back)"),
        }
        if also_in_browser {
            let id_token = account
                .tokens
                .as_ref()
                .and_then(|t| t.id_token.as_ref())
                .or_else(|| account.kept.as_ref().and_then(|k| k.id_token.as_ref()))
                .map(|t| t.compact());
            self.end_in_browser(&provider, id_token.as_deref()).await;
        }
    }

    async fn end_in_browser(&self, provider: &Provider, id_token: Option<&str>) {
        let logout = match provider.start_logout(id_token, LOGOUT_REDIRECT_URI) {
            Ok(Some(l)) => l,
            Ok(None) => {
                return self
                    .notify(&format!(
                        "{} has no page to sign out in the browser; you're signed out of Pixie.",
                        provider.config().display_name
                    ))
                    .await;
            }
            Err(e) => {
                tracing::warn!(code = e.code(), "no end-session request");
                return;
            }
        };
        let url = logout.url().clone();
        let mut m = self.machine.lock().await;
        m.expect_logout_return(logout);
        if let Err(e) = self.browser.open(&url) {
            tracing::warn!(error = %e, "could not open the browser for sign-out");
            let view = m.notify(&format!(
                "You're signed out of Pixie, but Pixie couldn't open your web browser ({}) to sign you out there.",
                e.program()
            ));
            self.show(view);
        }
    }
}
