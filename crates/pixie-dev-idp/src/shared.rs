//! What every endpoint shares: the issuer, the configuration, the signing key, the store and
//! the clock, and the state file that keeps sessions across restarts.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::config::{ClientRegistration, IdpConfig};
use crate::error::IdpError;
use crate::{Clock, keys, store};

pub(crate) struct Shared {
    pub issuer: String,
    pub config: IdpConfig,
    pub keys: keys::Keys,
    pub store: Mutex<store::Store>,
    pub clock: Clock,
    /// Authorization-code token requests received, valid or not.
    pub code_exchanges: AtomicUsize,
    /// The defect in force and what it needs (only with the `faults` feature).
    #[cfg(feature = "faults")]
    pub faults: crate::faults::list::FaultState,
}

impl Shared {
    pub(crate) fn new(
        issuer: String,
        config: IdpConfig,
        keys: keys::Keys,
        store: store::Store,
    ) -> Self {
        Self {
            issuer,
            config,
            keys,
            store: Mutex::new(store),
            clock: Clock::default(),
            code_exchanges: AtomicUsize::new(0),
            #[cfg(feature = "faults")]
            faults: crate::faults::list::FaultState::default(),
        }
    }

    /// The registered client `client_id`, if any.
    pub(crate) fn client(&self, client_id: &str) -> Option<&ClientRegistration> {
        self.config
            .clients
            .iter()
            .find(|c| c.client_id == client_id)
    }

    /// Count an authorization-code token request (tests of mix-up).
    pub(crate) fn count_code_exchange(&self) {
        self.code_exchanges.fetch_add(1, Ordering::SeqCst);
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

/// The state file's content, `None` when there is none or it cannot be read as one.
pub(crate) fn load_state(path: &Path) -> Result<Option<store::Persisted>, IdpError> {
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

fn write_state(path: &Path, state: &store::Persisted) -> std::io::Result<()> {
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
