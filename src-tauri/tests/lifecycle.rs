//! The session's lifecycle through its one owner, against the real demo provider, with a
//! keyring as slow as each test says (a test double behind the `Keystore` trait; the real
//! Secret Service is exercised by the real-window suite). Every race ends the same way: the
//! provider holds no live refresh token, the keyring no entry and the cache no file.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use pixie_app::browser::{Browser, BrowserError};
use pixie_app::error::AppError;
use pixie_app::keystore::{BoxFuture, KeyringError, Keystore};
use pixie_app::machine::{Machine, Phase, View};
use pixie_app::owner::{Delivered, Owner, Providers, Window};
use pixie_auth::{Provider, StoredSession};
use pixie_dev_idp::DevIdp;
use pixie_dev_idp::browser::{Answer, answer};

mod common;

/// Every log line of this test binary, to search for secrets.
fn log() -> &'static Mutex<Vec<u8>> {
    static LOG: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    LOG.get_or_init(|| {
        struct Sink;
        impl Write for Sink {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                log().lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
            .with_ansi(false)
            .with_writer(|| Sink)
            .try_init();
        Mutex::new(Vec::new())
    })
}

/// A keyring in memory whose calls take as long as the test says, and that remembers
/// every session ever saved in it.
#[derive(Default)]
struct SlowKeyring {
    entries: Mutex<HashMap<String, String>>,
    ever_saved: Mutex<Vec<StoredSession>>,
    save_delay: Mutex<Duration>,
    load_delay: Mutex<Duration>,
    saves_started: AtomicUsize,
    loads_started: AtomicUsize,
    /// Accounts whose entry sits behind a keyring that does not answer (locked).
    locked: Mutex<Vec<String>>,
}

impl Keystore for SlowKeyring {
    fn save<'a>(&'a self, s: &'a StoredSession) -> BoxFuture<'a, Result<(), KeyringError>> {
        Box::pin(async move {
            self.saves_started.fetch_add(1, Ordering::SeqCst);
            let delay = *self.save_delay.lock().unwrap();
            tokio::time::sleep(delay).await;
            let account = pixie_app::keystore::account(&s.provider_id, &s.subject);
            self.entries
                .lock()
                .unwrap()
                .insert(account, serde_json::to_string(s).unwrap());
            self.ever_saved.lock().unwrap().push(s.clone());
            Ok(())
        })
    }

    fn load<'a>(
        &'a self,
        account: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredSession>, KeyringError>> {
        Box::pin(async move {
            self.loads_started.fetch_add(1, Ordering::SeqCst);
            let delay = *self.load_delay.lock().unwrap();
            tokio::time::sleep(delay).await;
            if self.locked.lock().unwrap().iter().any(|a| a == account) {
                return Err(KeyringError::TimedOut);
            }
            Ok(self
                .entries
                .lock()
                .unwrap()
                .get(account)
                .map(|j| serde_json::from_str(j).unwrap()))
        })
    }

    fn delete<'a>(&'a self, account: &'a str) -> BoxFuture<'a, Result<(), KeyringError>> {
        Box::pin(async move {
            self.entries.lock().unwrap().remove(account);
            Ok(())
        })
    }
}

struct OneProvider(Arc<Provider>);

impl Providers for OneProvider {
    fn provider<'a>(&'a self, _id: &'a str) -> BoxFuture<'a, Result<Arc<Provider>, AppError>> {
        let p = self.0.clone();
        Box::pin(async move { Ok(p) })
    }
    fn contains(&self, id: &str) -> bool {
        id == "demo"
    }
    fn remember(&self, _id: &str) {}
}

/// The browser: remembers what it was asked to open, or fails like a missing launcher.
#[derive(Default)]
struct FakeBrowser {
    opened: Mutex<Vec<String>>,
    broken: Mutex<bool>,
}

impl Browser for FakeBrowser {
    fn open(&self, url: &url::Url) -> Result<(), BrowserError> {
        if *self.broken.lock().unwrap() {
            return Err(BrowserError::NotStarted {
                program: "xdg-open".into(),
                kind: std::io::ErrorKind::NotFound,
            });
        }
        self.opened.lock().unwrap().push(url.to_string());
        Ok(())
    }
}

#[derive(Default)]
struct Recorder(Mutex<Vec<View>>);

impl Window for Recorder {
    fn show(&self, view: &View) {
        self.0.lock().unwrap().push(view.clone());
    }
}

impl Recorder {
    fn last(&self) -> View {
        self.0.lock().unwrap().last().cloned().unwrap()
    }
    fn json(&self) -> String {
        serde_json::to_string(&*self.0.lock().unwrap()).unwrap()
    }
}

struct Setup {
    idp: DevIdp,
    provider: Arc<Provider>,
    keyring: Arc<SlowKeyring>,
    browser: Arc<FakeBrowser>,
    window: Arc<Recorder>,
    cache: PathBuf,
    owner: Arc<Owner>,
}

fn cache_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pixie-lifecycle-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

async fn setup(name: &str) -> Setup {
    log();
    // Requests in the URL (no PAR): these tests read what the browser is sent (`prompt`,
    // `login_hint`); the pushed path is the real-window suite's and the interop suite's.
    // DPoP stays on, as the demo provider offers it.
    let (idp, provider) = common::demo_with(pixie_dev_idp::IdpConfig {
        par: false,
        // Only for the slow token endpoint of one test (the app's own provider refuses).
        allow_faults: true,
        ..pixie_dev_idp::IdpConfig::default()
    })
    .await;
    let keyring = Arc::new(SlowKeyring::default());
    let cache = cache_dir(name);
    let (browser, window) = (Arc::default(), Arc::default());
    let owner = launch(&provider, &keyring, &browser, &window, &cache);
    Setup {
        idp,
        provider,
        keyring,
        browser,
        window,
        cache,
        owner,
    }
}

/// A launch of the app: a new owner over the same keyring and cache.
fn launch(
    provider: &Arc<Provider>,
    keyring: &Arc<SlowKeyring>,
    browser: &Arc<FakeBrowser>,
    window: &Arc<Recorder>,
    cache: &std::path::Path,
) -> Arc<Owner> {
    Owner::new(
        Machine::new("Demo"),
        keyring.clone(),
        Arc::new(OneProvider(provider.clone())),
        browser.clone(),
        window.clone(),
        Some(cache.to_path_buf()),
    )
}

impl Setup {
    /// Sign in as Ada up to the exchange job.
    async fn redirect(&self) -> Box<pixie_app::machine::ExchangeJob> {
        self.redirect_as(&self.owner, "ada").await
    }

    /// Sign in as a preset person up to the exchange job.
    async fn redirect_as(
        &self,
        owner: &Arc<Owner>,
        who: &str,
    ) -> Box<pixie_app::machine::ExchangeJob> {
        let view = owner.sign_in(None).await;
        assert_eq!(view.phase, Phase::Authorizing, "{view:?}");
        let url = self.browser.opened.lock().unwrap().last().cloned().unwrap();
        let redirect = answer(&url, Answer::Preset(who)).await.unwrap();
        match owner.redirect(&redirect, false).await {
            Delivered::Exchange(job) => job,
            _ => panic!("the genuine redirect is exchanged"),
        }
    }

    async fn sign_in(&self) {
        let job = self.redirect().await;
        self.owner.exchange(job).await.unwrap();
        assert_eq!(self.window.last().phase, Phase::SignedIn);
    }

    async fn wait_until(&self, what: &str, f: impl Fn(&Self) -> bool) {
        for _ in 0..500 {
            if f(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("timed out waiting until {what}");
    }

    /// Nothing is left anywhere: no entry, no cache file, and no refresh token ever saved
    /// is still good at the provider.
    async fn assert_nothing_left(&self) {
        assert!(
            self.keyring.entries.lock().unwrap().is_empty(),
            "a keyring entry was left behind"
        );
        assert!(
            !pixie_app::cache::path(&self.cache).exists(),
            "the profile cache was left behind"
        );
        let saved = self.keyring.ever_saved.lock().unwrap().clone();
        assert!(!saved.is_empty(), "the session was saved at some point");
        for s in saved {
            let e = self
                .provider
                .refresh(&s)
                .await
                .expect_err("a live refresh token is left");
            assert!(e.is_invalid_grant(), "{e}");
        }
        let _ = std::fs::remove_dir_all(&self.cache);
    }
}

#[tokio::test]
async fn sign_out_during_the_save_after_sign_in_leaves_nothing() {
    let s = setup("save").await;
    *s.keyring.save_delay.lock().unwrap() = Duration::from_millis(800);
    let job = s.redirect().await;
    let owner = s.owner.clone();
    let exchange = tokio::spawn(async move { owner.exchange(job).await });
    s.wait_until("the save has started", |s| {
        s.keyring.saves_started.load(Ordering::SeqCst) == 1
    })
    .await;
    let view = s.owner.sign_out(None, false, false).await;
    assert_eq!(view.phase, Phase::SignedOut);
    exchange.await.unwrap().unwrap();
    assert_eq!(s.window.last().phase, Phase::SignedOut);
    s.assert_nothing_left().await;
}

#[tokio::test]
async fn sign_out_during_the_restore_at_launch_leaves_nothing() {
    let s = setup("restore").await;
    s.sign_in().await;
    // The next launch: the cached profile is drawn at once, the keyring read is slow.
    *s.keyring.load_delay.lock().unwrap() = Duration::from_millis(800);
    let window = Arc::new(Recorder::default());
    let owner = launch(&s.provider, &s.keyring, &s.browser, &window, &s.cache);
    let restore = tokio::spawn(owner.clone().restore_at_launch());
    s.wait_until("the read has started", |s| {
        s.keyring.loads_started.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(
        window.last().phase,
        Phase::SignedIn,
        "drawn before the read"
    );
    let view = owner.sign_out(None, false, false).await;
    assert_eq!(view.phase, Phase::SignedOut);
    restore.await.unwrap();
    assert_eq!(window.last().phase, Phase::SignedOut);
    s.assert_nothing_left().await;
}

#[tokio::test]
async fn a_refresh_that_ends_after_sign_out_writes_nothing_back() {
    let s = setup("refresh").await;
    s.sign_in().await;
    let epoch = s.owner.machine().await.signed_in_epoch().unwrap();
    // The refresh rotates the token at the provider, then its save is slow.
    *s.keyring.save_delay.lock().unwrap() = Duration::from_millis(800);
    let owner = s.owner.clone();
    let refresh = tokio::spawn(async move { owner.refresh(epoch).await });
    s.wait_until("the refresh is saving", |s| {
        s.keyring.saves_started.load(Ordering::SeqCst) == 2
    })
    .await;
    s.owner.sign_out(None, false, false).await;
    refresh.await.unwrap();
    assert_eq!(s.window.last().phase, Phase::SignedOut);
    assert_eq!(
        s.keyring.ever_saved.lock().unwrap().len(),
        2,
        "rotated once"
    );
    s.assert_nothing_left().await;
}

/// Signed in as Ada, then the demo provider turned to misbehave with `fault`; the session's
/// epoch.
async fn signed_in_then(name: &str, fault: pixie_dev_idp::Fault) -> (Setup, u64) {
    let s = setup(name).await;
    s.sign_in().await;
    let epoch = s.owner.machine().await.signed_in_epoch().unwrap();
    s.idp.set_fault(Some(fault)).await.unwrap();
    (s, epoch)
}

/// A refresh waits for the provider without the lock: a sign-out made meanwhile finishes
/// first (the provider has rotated the refresh token; its answer comes 1.5 s later), and the
/// tokens that answer brings for the ended session are revoked, never saved. The sign-out
/// could not revoke them itself: it only knew the refresh token just rotated away, which
/// revokes nothing.
#[tokio::test]
async fn a_slow_refresh_does_not_hold_up_sign_out_and_its_late_tokens_are_dropped() {
    let (s, epoch) = signed_in_then("slow-refresh", pixie_dev_idp::Fault::TokenSlow).await;
    let owner = s.owner.clone();
    let refresh = tokio::spawn(async move { owner.refresh(epoch).await });
    // Let the refresh reach the provider's token endpoint.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!refresh.is_finished(), "the refresh waits for the provider");
    let view = s.owner.sign_out(None, false, false).await;
    assert_eq!(view.phase, Phase::SignedOut);
    assert_eq!(
        s.keyring.ever_saved.lock().unwrap().len(),
        1,
        "the sign-out finished before the provider's answer came back (nothing saved from it)"
    );
    assert!(
        !refresh.is_finished(),
        "the sign-out did not wait for the refresh"
    );
    assert_eq!(
        s.idp.live_refresh_families(),
        1,
        "the rotated family outlives the sign-out's revocation"
    );
    refresh.await.unwrap();
    s.idp.set_fault(None).await.unwrap();
    assert_eq!(
        s.idp.live_refresh_families(),
        0,
        "the late tokens were revoked"
    );
    assert_eq!(s.window.last().phase, Phase::SignedOut);
    assert_eq!(
        s.keyring.ever_saved.lock().unwrap().len(),
        1,
        "only the sign-in's session was ever saved"
    );
    s.assert_nothing_left().await;
}

/// OIDC Core §12.2: a refresh answered with an ID token that fails the checks (here an
/// `azp` the sign-in's had not) ends the session in plain words, leaves nothing behind and no
/// live refresh token at the provider; it is not taken for being offline, which would retry
/// with a refresh token the provider has already rotated.
#[tokio::test]
async fn a_refused_refreshed_id_token_ends_the_session_and_leaves_nothing() {
    let (s, epoch) = signed_in_then("refused-refresh", pixie_dev_idp::Fault::IdTokenOwnAzp).await;
    s.owner.refresh(epoch).await;
    s.idp.set_fault(None).await.unwrap();
    let view = s.window.last();
    assert_eq!(view.phase, Phase::SignedOut, "{view:?}");
    let notice = view.notice.map(|n| n.text).unwrap_or_default();
    assert!(
        notice.contains("failed Pixie's security checks") && notice.contains("Sign in again"),
        "{notice}"
    );
    assert_eq!(
        s.idp.live_refresh_families(),
        0,
        "what the provider issued with the refused answer is revoked"
    );
    s.assert_nothing_left().await;
}

#[tokio::test]
async fn without_a_refresh_token_sign_out_revokes_the_access_token_and_ends_the_browser_session() {
    let s = setup("no-refresh").await;
    let job = *s.redirect().await;
    let mut done = job
        .provider
        .complete(job.pending, &job.callback)
        .await
        .unwrap();
    // A provider that issues no refresh token (no offline_access).
    done.tokens.refresh_token = None;
    // The access token as a resource server would see it used, with its DPoP key (RFC 9449:
    // without the key it is refused whether or not it was revoked).
    let tokens = pixie_auth::Tokens {
        access_token: done.tokens.access_token.clone(),
        refresh_token: None,
        id_token: None,
        expires_at: None,
        subject: done.tokens.subject.clone(),
        dpop_key: done.tokens.dpop_key.clone(),
    };
    assert!(tokens.dpop_key.is_some(), "the demo provider binds tokens");
    s.provider
        .user_info(&tokens)
        .await
        .expect("the access token works before the sign-out");
    s.owner
        .finish(job.attempt, &job.provider, Ok(done))
        .await
        .unwrap();
    assert_eq!(s.window.last().phase, Phase::SignedIn);
    assert!(
        s.keyring.entries.lock().unwrap().is_empty(),
        "nothing to keep"
    );

    s.owner.sign_out(None, false, true).await;
    // RFC 7009: the access token is dead at the provider.
    assert!(s.provider.user_info(&tokens).await.is_err(), "revoked");
    // RP-Initiated Logout: the end-session page was opened, with a state.
    let opened = s.browser.opened.lock().unwrap().clone();
    let logout = opened.last().unwrap();
    assert!(
        logout.contains("end_session") || logout.contains("logout"),
        "{logout}"
    );
    assert!(logout.contains("state="), "{logout}");
    let _ = std::fs::remove_dir_all(&s.cache);
}

#[tokio::test]
async fn a_browser_that_fails_for_the_end_session_url_leaks_nothing() {
    let s = setup("leak").await;
    let job = *s.redirect().await;
    let done = job
        .provider
        .complete(job.pending, &job.callback)
        .await
        .unwrap();
    let secrets = [
        done.tokens.access_token.secret().clone(),
        done.tokens.refresh_token.as_ref().unwrap().secret().clone(),
        done.tokens.id_token.as_ref().unwrap().compact(),
    ];
    s.owner
        .finish(job.attempt, &job.provider, Ok(done))
        .await
        .unwrap();
    *s.browser.broken.lock().unwrap() = true;
    s.owner.sign_out(None, false, true).await;
    let notice = s.window.last().notice.unwrap().text;
    assert!(
        notice.contains("web browser") && notice.contains("xdg-open"),
        "{notice}"
    );
    let views = s.window.json();
    let log = String::from_utf8_lossy(&log().lock().unwrap()).into_owned();
    for (what, text) in [("views", &views), ("log", &log)] {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "a token in the {what}");
        }
        assert!(
            !text.contains("id_token_hint"),
            "an id_token_hint in the {what}"
        );
        assert!(!text.contains("eyJ"), "something JWT-like in the {what}");
    }
    let _ = std::fs::remove_dir_all(&s.cache);
}

#[tokio::test]
async fn a_browser_that_will_not_start_is_named_as_the_browser() {
    let s = setup("no-browser").await;
    *s.browser.broken.lock().unwrap() = true;
    let view = s.owner.sign_in(None).await;
    assert_eq!(view.phase, Phase::Failed);
    let error = view.error.unwrap();
    assert_eq!(error.code, "browser");
    assert!(error.message.contains("web browser"), "{}", error.message);
}

#[tokio::test]
async fn views_leave_in_order_and_a_second_click_opens_no_second_tab() {
    let s = setup("order").await;
    let (a, b) = tokio::join!(s.owner.sign_in(None), s.owner.sign_in(None));
    assert_eq!(s.browser.opened.lock().unwrap().len(), 1, "one tab");
    assert_eq!(a.phase, Phase::Authorizing);
    assert_eq!(b.phase, Phase::Authorizing);
    let revisions: Vec<u64> = s
        .window
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|v| v.revision)
        .collect();
    assert!(revisions.windows(2).all(|w| w[0] < w[1]), "{revisions:?}");
    // Cancel works while exchanging, and the late result is not drawn.
    let url = s.browser.opened.lock().unwrap()[0].clone();
    let redirect = answer(&url, Answer::Preset("ada")).await.unwrap();
    let Delivered::Exchange(job) = s.owner.redirect(&redirect, false).await else {
        panic!("exchange");
    };
    assert_eq!(s.owner.cancel().await.phase, Phase::SignedOut);
    assert!(s.owner.exchange(job).await.is_err());
    assert_eq!(s.window.last().phase, Phase::SignedOut);
    assert!(s.keyring.entries.lock().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(&s.cache);
}

/// The refresh tokens the keyring holds now, by account.
fn kept(s: &Setup) -> HashMap<String, StoredSession> {
    s.keyring
        .entries
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::from_str(v).unwrap()))
        .collect()
}

#[tokio::test]
async fn several_accounts_add_switch_restore_and_sign_out_one_or_all() {
    let s = setup("accounts").await;
    s.sign_in().await;
    let first_url = s.browser.opened.lock().unwrap()[0].clone();
    assert!(!first_url.contains("prompt="), "{first_url}");
    // Add Grace: the provider is asked to offer an account choice.
    let job = s.redirect_as(&s.owner, "grace").await;
    let second_url = s.browser.opened.lock().unwrap().last().cloned().unwrap();
    assert!(second_url.contains("prompt=login"), "{second_url}");
    s.owner.exchange(job).await.unwrap();
    let view = s.window.last();
    assert_eq!(view.accounts.len(), 2);
    assert_eq!(view.profile.as_ref().unwrap().name, "Grace Hopper");
    // Switching is instant and remembered.
    let ada = view
        .accounts
        .iter()
        .find(|a| a.name == "Ada Lovelace")
        .unwrap()
        .key
        .clone();
    let view = s.owner.switch_account(&ada).await;
    assert_eq!(view.profile.unwrap().name, "Ada Lovelace");
    assert!(view.accounts.iter().any(|a| a.active && a.key == ada));

    // Restart: both drawn at once, the active one kept, both refreshed.
    let window = Arc::new(Recorder::default());
    let owner = launch(&s.provider, &s.keyring, &s.browser, &window, &s.cache);
    owner.clone().restore_at_launch().await;
    let first = window.0.lock().unwrap()[0].clone();
    assert_eq!(
        first.accounts.len(),
        2,
        "every account drawn from the cache at once"
    );
    let view = window.last();
    assert_eq!(view.profile.as_ref().unwrap().name, "Ada Lovelace");
    assert_eq!(
        s.keyring.ever_saved.lock().unwrap().len(),
        2 + 2,
        "each refreshed"
    );

    // Sign out of Ada only: her token dies, Grace's lives on.
    let before = kept(&s);
    let view = owner.sign_out(Some(&ada), false, false).await;
    assert_eq!(view.accounts.len(), 1);
    assert_eq!(view.profile.unwrap().name, "Grace Hopper");
    let e = s.provider.refresh(&before[&ada]).await.unwrap_err();
    assert!(e.is_invalid_grant(), "{e}");
    assert_eq!(kept(&s).len(), 1);
    let grace = kept(&s).into_values().next().unwrap();
    // Sign out of all: nothing left anywhere.
    let view = owner.sign_out(None, true, false).await;
    assert_eq!(view.phase, Phase::SignedOut);
    assert!(view.accounts.is_empty());
    let e = s.provider.refresh(&grace).await.unwrap_err();
    assert!(e.is_invalid_grant(), "{e}");
    s.assert_nothing_left().await;
}

#[tokio::test]
async fn the_same_person_signing_in_again_updates_their_entry() {
    let s = setup("again").await;
    s.sign_in().await;
    s.sign_in().await;
    let view = s.window.last();
    assert_eq!(view.accounts.len(), 1);
    assert_eq!(kept(&s).len(), 1);
    s.owner.sign_out(None, true, false).await;
    let _ = std::fs::remove_dir_all(&s.cache);
}

#[tokio::test]
async fn an_ended_session_marks_only_its_own_account() {
    let s = setup("ended").await;
    s.sign_in().await;
    let job = s.redirect_as(&s.owner, "grace").await;
    s.owner.exchange(job).await.unwrap();
    // Ada's session is revoked elsewhere (another device signed her out).
    let ada_key = key_of(&s.window.last(), "Ada Lovelace");
    let ada = kept(&s)[&ada_key].clone();
    assert!(s.provider.revoke(&ada).await.unwrap());
    let (owner, view) = relaunch_with_only_ada_marked(&s).await;
    assert!(view.notice.unwrap().text.contains("Ada Lovelace"));
    assert_eq!(kept(&s).len(), 1, "only Ada's entry is gone");
    // "Sign in again" names her to the provider.
    let again = owner.sign_in(Some(&ada_key)).await;
    assert_eq!(again.phase, Phase::Authorizing);
    let url = s.browser.opened.lock().unwrap().last().cloned().unwrap();
    assert!(url.contains("login_hint=ada.lovelace"), "{url}");
    owner.cancel().await;
    owner.sign_out(None, true, false).await;
    let _ = std::fs::remove_dir_all(&s.cache);
}

/// The key of the account called `name` in `view`.
fn key_of(view: &View, name: &str) -> String {
    view.accounts
        .iter()
        .find(|a| a.name == name)
        .unwrap()
        .key
        .clone()
}

/// Launch again from what `s` left: signed in, with Ada alone marked "Sign in again".
async fn relaunch_with_only_ada_marked(s: &Setup) -> (Arc<Owner>, View) {
    let window = Arc::new(Recorder::default());
    let owner = launch(&s.provider, &s.keyring, &s.browser, &window, &s.cache);
    owner.clone().restore_at_launch().await;
    let view = window.last();
    assert_eq!(view.phase, Phase::SignedIn);
    let marked: Vec<_> = view.accounts.iter().filter(|a| a.needs_sign_in).collect();
    assert_eq!(marked.len(), 1);
    assert_eq!(marked[0].name, "Ada Lovelace");
    (owner, view)
}

#[tokio::test]
async fn a_keyring_that_fails_for_one_account_loses_none() {
    let s = setup("locked").await;
    s.sign_in().await;
    let job = s.redirect_as(&s.owner, "grace").await;
    s.owner.exchange(job).await.unwrap();
    let ada_key = key_of(&s.window.last(), "Ada Lovelace");
    s.keyring.locked.lock().unwrap().push(ada_key.clone());
    // Launch: Ada's entry cannot be read; Grace is restored, Ada asks to sign in again.
    let (owner, view) = relaunch_with_only_ada_marked(&s).await;
    assert!(
        view.notice.unwrap().text.contains("keyring"),
        "the notice names the keyring"
    );
    // Nothing is lost: both entries are still there for a launch with the keyring open.
    assert_eq!(kept(&s).len(), 2, "no entry was deleted");
    drop(owner);
    s.keyring.locked.lock().unwrap().clear();
    let window = Arc::new(Recorder::default());
    let owner = launch(&s.provider, &s.keyring, &s.browser, &window, &s.cache);
    owner.clone().restore_at_launch().await;
    let view = wait_for_view(&window, |v| {
        v.accounts.len() == 2 && v.accounts.iter().all(|a| !a.needs_sign_in)
    })
    .await;
    assert_eq!(view.phase, Phase::SignedIn);
    owner.sign_out(None, true, false).await;
    let _ = std::fs::remove_dir_all(&s.cache);
}

/// The first view `window` shows that `ok` accepts (the refreshes after a restore finish on
/// their own tasks). A guard, not a speed target.
async fn wait_for_view(window: &Recorder, ok: impl Fn(&View) -> bool) -> View {
    for _ in 0..200 {
        let view = window.last();
        if ok(&view) {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no such view: {:?}", window.last())
}

#[tokio::test]
async fn sign_in_on_another_device_ends_in_the_same_keeping() {
    let s = setup("device").await;
    let view = s.owner.sign_in_on_device().await;
    assert_eq!(view.phase, Phase::Device, "{:?}", view.error);
    let device = view.device.clone().unwrap();
    assert!(
        device
            .qr_code
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    let outcome = pixie_dev_idp::browser::answer_device(
        &device.verification_uri,
        Some(&device.user_code),
        Answer::Preset("ada"),
    )
    .await
    .unwrap();
    assert!(matches!(
        outcome,
        pixie_dev_idp::browser::DeviceOutcome::Approved
    ));
    // The next poll (after the provider's interval) gets the tokens.
    for _ in 0..30 {
        if s.window.last().phase != Phase::Device {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let view = s.window.last();
    assert_eq!(view.phase, Phase::SignedIn, "{:?}", view.error);
    assert_eq!(kept(&s).len(), 1, "kept like any sign-in");
    // Cancel stops a poll: the next one never signs in.
    s.owner.sign_out(None, true, false).await;
    let _ = std::fs::remove_dir_all(&s.cache);
}
