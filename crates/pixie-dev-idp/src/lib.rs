//! `pixie-dev-idp`: a small, real OpenID Provider for developing and testing native-app sign-in.
//!
//! It implements the authorization code flow with PKCE (S256 required), signed RS256 ID tokens,
//! userinfo, refresh-token rotation with reuse detection, RFC 7009 revocation, RP-initiated
//! logout, RFC 9207 `iss` on every authorization response, the device authorization grant
//! (RFC 8628), pushed authorization requests (RFC 9126, [`IdpConfig::par`]) and DPoP-bound
//! tokens (RFC 9449, [`IdpConfig::dpop`], nonces with [`IdpConfig::dpop_nonce`]). Its
//! sign-in page asks a person to pick or type a name; there are no passwords because there
//! is nothing to protect. After the answer, a last page hands the link back to the app (and
//! offers "Open Pixie" and the link to copy when the browser does not).
//!
//! Where things are: `config` (clients and behaviour), `routes/` (one module per endpoint),
//! `claims` (a person's claims, the one place they are built), `dpop` (the proof validator),
//! `store` (what is remembered),
//! `pages`/`device_pages` (the HTML), `faults` (the misbehaving provider, feature `faults`
//! only) and `browser` (a scripted person, feature `scripted-browser`).
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
mod claims;
mod clock;
mod config;
mod device;
mod device_pages;
mod dpop;
mod error;
mod fault_hooks;
#[cfg(feature = "faults")]
pub mod faults;
mod keys;
mod pages;
mod random;
mod routes;
mod shared;
mod store;
mod users;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use avatar::avatar_png;
pub use clock::Clock;
pub use config::{
    ClientRegistration, IdpConfig, PIXIE_CLIENT_ID, PIXIE_LOOPBACK_REDIRECT_URI, PIXIE_REDIRECT_URI,
};
#[cfg(feature = "faults")]
pub use faults::Fault;
/// The signing key type, for tests that stand up a provider of another shape.
#[cfg(feature = "faults")]
pub use keys::Keys;
pub use pages::handoff_link;

pub use error::IdpError;
pub(crate) use random::random_token;
pub(crate) use shared::Shared;

/// A running provider. Dropping it stops the server.
pub struct DevIdp {
    issuer: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl DevIdp {
    /// Bind, generate (or load) a signing key and serve on the current tokio runtime.
    pub async fn start(config: IdpConfig) -> Result<Self, IdpError> {
        let persisted = match &config.state_file {
            Some(path) => shared::load_state(path)?,
            None => None,
        };
        let listener = bind(&config, persisted.as_ref().map(|p| p.port)).await?;
        let addr = listener.local_addr().map_err(|source| IdpError::Bind {
            addr: config.addr,
            source,
        })?;
        let issuer = format!("http://{addr}");
        let (keys, store) = keys_and_store(persisted).await?;
        let shared = Arc::new(Shared::new(issuer.clone(), config, keys, store));
        shared.persist();
        let (stop, task) = serve(listener, routes::router(shared.clone()));
        tracing::info!(%issuer, "demo OpenID provider listening");
        Ok(Self {
            issuer,
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The issuer identifier, e.g. `http://127.0.0.1:43121`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The address the provider listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The provider's clock; tests move it to expire codes and tokens.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
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

/// Listen on the configured address; when its port is 0, on the remembered port first (it
/// keeps the issuer stable), and on any free port if that one is taken.
async fn bind(config: &IdpConfig, remembered: Option<u16>) -> Result<TcpListener, IdpError> {
    let mut addr = config.addr;
    if let Some(port) = remembered.filter(|_| addr.port() == 0) {
        addr.set_port(port);
    }
    match TcpListener::bind(addr).await {
        Ok(l) => Ok(l),
        Err(_) if addr != config.addr => {
            TcpListener::bind(config.addr)
                .await
                .map_err(|source| IdpError::Bind {
                    addr: config.addr,
                    source,
                })
        }
        Err(source) => Err(IdpError::Bind { addr, source }),
    }
}

/// The signing key and the store: read back from the state file, or new.
async fn keys_and_store(
    persisted: Option<store::Persisted>,
) -> Result<(keys::Keys, store::Store), IdpError> {
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
    Ok((keys, store))
}

/// Serve `app` on `listener` until the returned sender fires (or is dropped).
fn serve(
    listener: TcpListener,
    app: axum::Router,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "demo provider stopped");
        }
    });
    (stop, task)
}
