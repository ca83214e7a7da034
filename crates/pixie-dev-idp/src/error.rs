//! Why the provider could not start (or take a fault).

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the provider could not start (or take a fault).
#[derive(Debug, thiserror::Error)]
pub enum IdpError {
    /// The address is taken or not ours to listen on.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The signing key could not be made or read back.
    #[error("signing key: {0}")]
    Key(String),
    /// The OS random number generator failed.
    #[error("random number generator: {0}")]
    Rng(String),
    /// [`IdpConfig::allow_faults`] is off.
    #[error("faults are not allowed on this provider (IdpConfig::allow_faults)")]
    FaultsNotAllowed,
    /// The state file could not be read.
    #[error("state file {path}: {message}")]
    State {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}
