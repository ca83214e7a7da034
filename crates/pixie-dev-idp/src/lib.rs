//! `pixie-dev-idp`: a small, real OpenID Provider for developing and testing native-app sign-in.
//!
//! It implements the authorization code flow with PKCE (S256 required), signed RS256 ID tokens,
//! userinfo, refresh-token rotation with reuse detection, RFC 7009 revocation, RP-initiated
//! logout and RFC 9207 `iss` on every authorization response. Its sign-in page asks a person to
//! pick or type a name; there are no passwords because there is nothing to protect.
//!
//! ```no_run
//! # async fn demo() -> Result<(), pixie_dev_idp::IdpError> {
//! let idp = pixie_dev_idp::DevIdp::start(pixie_dev_idp::IdpConfig::default()).await?;
//! println!("issuer: {}", idp.issuer());
//! # Ok(()) }
//! ```

mod avatar;
#[cfg(feature = "scripted-browser")]
pub mod browser;
mod clock;
mod device;
mod device_pages;
pub mod faults;
mod keys;
mod pages;
mod routes;
mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use avatar::avatar_png;
pub use clock::Clock;
pub use faults::Fault;
/// The signing key type, for tests that stand up a provider of another shape.
#[cfg(feature = "faults")]
pub use keys::Keys;

/// The redirect URI Pixie registers for the demo provider (RFC 8252 §7.1 private-use
/// scheme): Pixie's callback path for the provider id `demo` (each provider has its own,
/// RFC 9700 §4.4).
pub const PIXIE_REDIRECT_URI: &str = "dev.pixie.app:/oauth/callback/demo";
/// The loopback redirect URI Pixie registers for the demo provider (RFC 8252 §7.3: any port).
pub const PIXIE_LOOPBACK_REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback/demo";
/// The client id Pixie uses with the demo provider.
pub const PIXIE_CLIENT_ID: &str = "pixie-desktop";

#[derive(Debug, thiserror::Error)]
pub enum IdpError {
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("signing key: {0}")]
    Key(String),
    #[error("random number generator: {0}")]
    Rng(String),
    #[error("faults are not allowed on this provider (IdpConfig::allow_faults)")]
    FaultsNotAllowed,
    #[error("state file {path}: {message}")]
    State { path: PathBuf, message: String },
}

/// A registered client.
#[derive(Clone, Debug)]
pub struct ClientRegistration {
    pub client_id: String,
    /// Exact redirect URIs. A `http://127.0.0.1/…` entry matches any port (RFC 8252 §7.3).
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser back to.
    pub post_logout_redirect_uris: Vec<String>,
}

impl ClientRegistration {
    pub fn pixie() -> Self {
        Self {
            client_id: PIXIE_CLIENT_ID.into(),
            redirect_uris: vec![
                PIXIE_REDIRECT_URI.into(),
                PIXIE_LOOPBACK_REDIRECT_URI.into(),
            ],
            post_logout_redirect_uris: vec!["dev.pixie.app:/oauth/logout".into()],
        }
    }
}

/// How the provider behaves.
#[derive(Clone, Debug)]
pub struct IdpConfig {
    /// Address to listen on; port 0 picks a free one.
    pub addr: SocketAddr,
    pub clients: Vec<ClientRegistration>,
    /// Life of an authorization code (RFC 6749 §4.1.2 recommends at most 10 minutes).
    pub code_ttl: Duration,
    pub access_token_ttl: Duration,
    pub id_token_ttl: Duration,
    /// Where to keep the signing key, the port and the refresh-token records (hashed) across
    /// restarts, so sessions of an app that embeds the provider survive a relaunch. When the
    /// port of `addr` is 0, the port from the file is tried first.
    pub state_file: Option<PathBuf>,
    /// Whether faults may be switched on at all (they also need the `faults` feature). Off by
    /// default, so an embedding app cannot be made to misbehave even in a build where cargo
    /// unified that feature in.
    pub allow_faults: bool,
    /// Benchmarks only: approve every authorization request at once as this preset person
    /// (`ada`, `grace`, `alan`), answering `/authorize` with the redirect. The app never sets it.
    pub auto_approve: Option<String>,
    /// RFC 9207: name the issuer (`iss`) on every authorization response and say so in the
    /// metadata. On by default; off plays a provider that does neither (Google, GitHub).
    pub issuer_identification: bool,
    /// The authorization endpoint the `authorize-forward` fault sends the browser on to.
    pub forward_to: Option<String>,
}

impl Default for IdpConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            clients: vec![ClientRegistration::pixie()],
            code_ttl: Duration::from_secs(60),
            access_token_ttl: Duration::from_secs(3600),
            id_token_ttl: Duration::from_secs(600),
            state_file: None,
            allow_faults: false,
            auto_approve: None,
            issuer_identification: true,
            forward_to: None,
        }
    }
}

pub(crate) struct Shared {
    pub issuer: String,
    pub config: IdpConfig,
    pub keys: keys::Keys,
    pub store: Mutex<store::Store>,
    pub clock: Clock,
    /// The defect to produce (only settable with the `faults` feature).
    pub fault: Mutex<Option<Fault>>,
    /// A newer key after a simulated rotation (`id-token-unknown-kid`).
    pub rotated: Mutex<Option<Arc<keys::Keys>>>,
    /// Authorization-code token requests received, valid or not.
    pub code_exchanges: std::sync::atomic::AtomicUsize,
}

/// A running provider. Dropping it stops the server.
pub struct DevIdp {
    issuer: String,
    addr: SocketAddr,
    clock: Clock,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl DevIdp {
    /// Bind, generate (or load) a signing key and serve on the current tokio runtime.
    pub async fn start(config: IdpConfig) -> Result<Self, IdpError> {
        let persisted = match &config.state_file {
            Some(path) => load_state(path)?,
            None => None,
        };
        let mut addr = config.addr;
        if let Some(p) = persisted.as_ref().filter(|_| addr.port() == 0) {
            addr.set_port(p.port);
        }
        // The remembered port keeps the issuer stable; if it is taken, any free port will do.
        let listener = match TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(_) if addr != config.addr => {
                TcpListener::bind(config.addr)
                    .await
                    .map_err(|source| IdpError::Bind {
                        addr: config.addr,
                        source,
                    })?
            }
            Err(source) => return Err(IdpError::Bind { addr, source }),
        };
        let addr = listener.local_addr().map_err(|source| IdpError::Bind {
            addr: config.addr,
            source,
        })?;
        let issuer = format!("http://{addr}");
        let mut store = store::Store::default();
        let keys = match persisted {
            Some(p) => {
                store.refresh = p.refresh;
                store.rotated = p.rotated;
                store.revoked_families = p.revoked_families;
                keys::Keys::from_pem(&p.key_pem)?
            }
            None => tokio::task::spawn_blocking(keys::Keys::generate)
                .await
                .map_err(|e| IdpError::Key(e.to_string()))??,
        };
        let clock = Clock::default();
        let shared = Arc::new(Shared {
            issuer: issuer.clone(),
            config,
            keys,
            store: Mutex::new(store),
            clock: clock.clone(),
            fault: Mutex::new(None),
            rotated: Mutex::new(None),
            code_exchanges: std::sync::atomic::AtomicUsize::new(0),
        });
        shared.persist();
        let app = routes::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "demo provider stopped");
            }
        });
        tracing::info!(%issuer, "demo OpenID provider listening");
        Ok(Self {
            issuer,
            addr,
            clock,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The issuer identifier, e.g. `http://127.0.0.1:43121`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The provider's clock; tests move it to expire codes and tokens.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// How many refresh-token families are still live (tests of revocation and reuse).
    pub fn live_refresh_families(&self) -> usize {
        self.shared
            .store
            .lock()
            .map(|s| s.live_families())
            .unwrap_or(0)
    }

    /// How many authorization-code token requests arrived, valid or not (a mix-up test
    /// checks that a code never reached the wrong provider).
    pub fn code_exchanges(&self) -> usize {
        self.shared
            .code_exchanges
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Produce `fault` from now on (`None`: behave). Test builds only: the feature `faults`
    /// is never enabled by the app.
    #[cfg(feature = "faults")]
    pub async fn set_fault(&self, fault: Option<Fault>) -> Result<(), IdpError> {
        self.shared.set_fault(fault).await
    }

    /// Stop serving and wait for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for DevIdp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Shared {
    /// The fault in force, if any.
    pub(crate) fn fault(&self) -> Option<Fault> {
        self.fault.lock().ok().and_then(|f| *f)
    }

    #[cfg(feature = "faults")]
    pub(crate) async fn set_fault(&self, fault: Option<Fault>) -> Result<(), IdpError> {
        if !self.config.allow_faults {
            return Err(IdpError::FaultsNotAllowed);
        }
        if fault == Some(Fault::IdTokenUnknownKid) {
            let fresh = tokio::task::spawn_blocking(keys::Keys::generate)
                .await
                .map_err(|e| IdpError::Key(e.to_string()))??;
            if let Ok(mut r) = self.rotated.lock() {
                *r = Some(Arc::new(fresh));
            }
        }
        if let Ok(mut f) = self.fault.lock() {
            *f = fault;
        }
        tracing::warn!(fault = fault.map(Fault::name), "fault mode");
        Ok(())
    }

    /// Write the state file, if configured. A failure is logged: the provider keeps serving
    /// from memory.
    pub(crate) fn persist(&self) {
        let Some(path) = &self.config.state_file else {
            return;
        };
        let Ok(store) = self.store.lock() else {
            return;
        };
        let state = store::Persisted {
            key_pem: self.keys.pem.clone(),
            port: self
                .issuer
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0),
            refresh: store.refresh.clone(),
            rotated: store.rotated.clone(),
            revoked_families: store.revoked_families.clone(),
        };
        drop(store);
        if let Err(e) = write_state(path, &state) {
            tracing::warn!(path = %path.display(), error = %e, "could not save the demo provider's state");
        }
    }
}

fn load_state(path: &std::path::Path) -> Result<Option<store::Persisted>, IdpError> {
    match std::fs::read(path) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(p) => Ok(Some(p)),
            Err(e) => {
                // A damaged file only costs the demo sessions: start afresh.
                tracing::warn!(path = %path.display(), error = %e, "ignoring an unreadable state file");
                Ok(None)
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(IdpError::State {
            path: path.to_owned(),
            message: e.to_string(),
        }),
    }
}

fn write_state(path: &std::path::Path, state: &store::Persisted) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(&serde_json::to_vec(state)?)?;
    file.sync_all()?;
    std::fs::rename(tmp, path)
}

/// `n` random bytes from the OS RNG, base64url.
pub(crate) fn random_token(n: usize) -> Result<String, IdpError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| IdpError::Rng(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}
