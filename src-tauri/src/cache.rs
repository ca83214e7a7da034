//! The non-secret profile, cached in the XDG cache dir so the window can draw at once on the
//! next launch. It holds no token: the session itself is in the keyring.

use std::path::{Path, PathBuf};

use pixie_auth::Profile;

pub fn path(cache_dir: &Path) -> PathBuf {
    cache_dir.join("profile.json")
}

pub fn load(cache_dir: &Path) -> Option<Profile> {
    let bytes = std::fs::read(path(cache_dir)).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::warn!(error = %e, "ignoring a damaged profile cache");
            None
        }
    }
}

pub fn save(cache_dir: &Path, profile: &Profile) {
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(cache_dir)?;
        let tmp = cache_dir.join("profile.json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(profile)?)?;
        std::fs::rename(tmp, path(cache_dir))
    };
    if let Err(e) = write() {
        tracing::warn!(error = %e, "could not cache the profile");
    }
}

pub fn clear(cache_dir: &Path) {
    match std::fs::remove_file(path(cache_dir)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(error = %e, "could not remove the profile cache"),
    }
}
