//! The session in the OS keyring (Secret Service, Keychain, Credential Manager) via the
//! `keyring` crate. Every call is time-boxed: a locked keyring can sit on a prompt forever.
//! There is no fallback: when the keyring fails, the session lives in memory only.
//!
//! The lifecycle talks to a [`Keystore`], so its races with a slow keyring can be tested with
//! a keystore whose calls take as long as the test says; the app uses [`SystemKeyring`].

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use pixie_auth::StoredSession;

/// The keyring service every entry is filed under.
pub const SERVICE: &str = "dev.pixie.app";
const TIMEOUT: Duration = Duration::from_secs(8);

/// A boxed future, for the object-safe [`Keystore`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why the keyring could not be used. The words never hold a secret: the keyring's own
/// messages are about the store, and the serialised session is never quoted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    /// The detail is for the log; the person is told only that there is none.
    #[error("there is no system keyring to use")]
    Unavailable(String),
    #[error("the system keyring did not answer in time (it may be locked)")]
    TimedOut,
    #[error("the system keyring refused: {0}")]
    Refused(String),
    #[error("the saved sign-in is damaged")]
    Corrupt,
}

impl KeyringError {
    fn from_keyring(e: keyring::Error) -> Self {
        match e {
            keyring::Error::NoDefaultStore | keyring::Error::NoStorageAccess(_) => {
                KeyringError::Unavailable(e.to_string())
            }
            keyring::Error::PlatformFailure(_) => KeyringError::Unavailable(e.to_string()),
            other => KeyringError::Refused(other.to_string()),
        }
    }
}

/// The keyring user name of an account: one entry per provider account.
pub fn account(provider_id: &str, subject: &str) -> String {
    format!("{provider_id}:{subject}")
}

/// Where sessions are kept between runs.
pub trait Keystore: Send + Sync {
    /// Save (or replace) the session of its account.
    fn save<'a>(&'a self, session: &'a StoredSession) -> BoxFuture<'a, Result<(), KeyringError>>;
    /// The saved session of an account, if there is one.
    fn load<'a>(
        &'a self,
        account: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredSession>, KeyringError>>;
    /// Forget an account's session. Absent is fine.
    fn delete<'a>(&'a self, account: &'a str) -> BoxFuture<'a, Result<(), KeyringError>>;
}

/// The OS keyring.
pub struct SystemKeyring;

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, KeyringError> + Send + 'static,
) -> Result<T, KeyringError> {
    match tokio::time::timeout(TIMEOUT, tokio::task::spawn_blocking(f)).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(KeyringError::Refused(join.to_string())),
        Err(_) => Err(KeyringError::TimedOut),
    }
}

fn entry(account: &str) -> Result<keyring::Entry, KeyringError> {
    keyring::Entry::new(SERVICE, account).map_err(KeyringError::from_keyring)
}

impl Keystore for SystemKeyring {
    fn save<'a>(&'a self, session: &'a StoredSession) -> BoxFuture<'a, Result<(), KeyringError>> {
        let account = account(&session.provider_id, &session.subject);
        let json = serde_json::to_string(session).map_err(|_| KeyringError::Corrupt);
        Box::pin(async move {
            let json = json?;
            blocking(move || {
                entry(&account)?
                    .set_password(&json)
                    .map_err(KeyringError::from_keyring)
            })
            .await
        })
    }

    fn load<'a>(
        &'a self,
        account: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredSession>, KeyringError>> {
        let account = account.to_owned();
        Box::pin(blocking(move || match entry(&account)?.get_password() {
            Ok(json) => serde_json::from_str(&json)
                .map(Some)
                .map_err(|_| KeyringError::Corrupt),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(KeyringError::from_keyring(e)),
        }))
    }

    fn delete<'a>(&'a self, account: &'a str) -> BoxFuture<'a, Result<(), KeyringError>> {
        let account = account.to_owned();
        Box::pin(blocking(move || {
            match entry(&account)?.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(KeyringError::from_keyring(e)),
            }
        }))
    }
}
