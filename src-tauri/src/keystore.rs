//! The session in the OS keyring (Secret Service, Keychain, Credential Manager) via the
//! `keyring` crate. Every call is time-boxed: a locked keyring can sit on a prompt forever.
//! There is no fallback: when the keyring fails, the session lives in memory only.

use std::time::Duration;

use pixie_auth::StoredSession;

/// The keyring service every entry is filed under.
pub const SERVICE: &str = "dev.pixie.app";
const TIMEOUT: Duration = Duration::from_secs(8);

#[derive(Debug, Clone, thiserror::Error)]
pub enum KeyringError {
    /// The detail is for the log; the person is told only that there is none.
    #[error("there is no system keyring to use")]
    Unavailable(String),
    #[error("the system keyring did not answer in time (it may be locked)")]
    TimedOut,
    #[error("the system keyring refused: {0}")]
    Refused(String),
    #[error("the saved sign-in is damaged: {0}")]
    Corrupt(String),
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

/// Save (or replace) the session of its account.
pub async fn save(session: &StoredSession) -> Result<(), KeyringError> {
    let account = account(&session.provider_id, &session.subject);
    let json = serde_json::to_string(session).map_err(|e| KeyringError::Corrupt(e.to_string()))?;
    blocking(move || {
        entry(&account)?
            .set_password(&json)
            .map_err(KeyringError::from_keyring)
    })
    .await
}

/// The saved session of an account, if there is one.
pub async fn load(account: String) -> Result<Option<StoredSession>, KeyringError> {
    blocking(move || match entry(&account)?.get_password() {
        Ok(json) => serde_json::from_str(&json)
            .map(Some)
            .map_err(|e| KeyringError::Corrupt(e.to_string())),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(KeyringError::from_keyring(e)),
    })
    .await
}

/// Forget an account's session. Absent is fine.
pub async fn delete(account: String) -> Result<(), KeyringError> {
    blocking(move || match entry(&account)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(KeyringError::from_keyring(e)),
    })
    .await
}
