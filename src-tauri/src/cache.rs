//! The non-secret profiles of the signed-in accounts (and which one is active), cached in
//! the XDG cache dir so the window can draw them at once on the next launch. It holds no
//! token: the sessions themselves are in the keyring. Still private to the person: the
//! folder is 0700 and the file 0600 (names, emails and pictures).

use std::path::{Path, PathBuf};

use crate::machine::CachedAccounts;

pub fn path(cache_dir: &Path) -> PathBuf {
    cache_dir.join("accounts.json")
}

/// The file of Pixie versions that kept one account: read once, then replaced.
fn single_profile_path(cache_dir: &Path) -> PathBuf {
    cache_dir.join("profile.json")
}

pub fn load(cache_dir: &Path) -> Option<CachedAccounts> {
    if let Ok(bytes) = std::fs::read(path(cache_dir)) {
        return match serde_json::from_slice(&bytes) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "ignoring a damaged profile cache");
                None
            }
        };
    }
    let bytes = std::fs::read(single_profile_path(cache_dir)).ok()?;
    let profile = serde_json::from_slice(&bytes).ok()?;
    Some(CachedAccounts {
        active: None,
        profiles: vec![profile],
    })
}

#[cfg(unix)]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    // An older Pixie made it 0755: tighten it.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// Write what the window should draw next launch; no account left removes the file.
pub fn save(cache_dir: &Path, accounts: &CachedAccounts) {
    remove(&single_profile_path(cache_dir));
    if accounts.profiles.is_empty() {
        return remove(&path(cache_dir));
    }
    let write = || -> std::io::Result<()> {
        private_dir(cache_dir)?;
        let tmp = cache_dir.join("accounts.json.tmp");
        let _ = std::fs::remove_file(&tmp);
        write_private(&tmp, &serde_json::to_vec(accounts)?)?;
        std::fs::rename(tmp, path(cache_dir))
    };
    if let Err(e) = write() {
        tracing::warn!(error = %e, "could not cache the profiles");
    }
}

fn remove(file: &Path) {
    match std::fs::remove_file(file) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(error = %e, "could not remove the profile cache"),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_cache_is_private_to_the_person() {
        let dir = std::env::temp_dir().join(format!("pixie-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let profile = pixie_auth::Profile {
            subject: "s".into(),
            name: "Ada".into(),
            email: None,
            picture_data_url: None,
            issuer: "http://127.0.0.1:1".into(),
            provider_id: "demo".into(),
        };
        // A cache from the one-account days is read as one account.
        std::fs::write(
            single_profile_path(&dir),
            serde_json::to_vec(&profile).unwrap(),
        )
        .unwrap();
        let cached = load(&dir).unwrap();
        assert_eq!(cached.profiles, vec![profile.clone()]);
        let accounts = CachedAccounts {
            active: Some("demo:s".into()),
            profiles: vec![profile],
        };
        save(&dir, &accounts);
        assert!(!single_profile_path(&dir).exists());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&path(&dir)), 0o600);
        assert_eq!(load(&dir), Some(accounts));
        save(&dir, &CachedAccounts::default());
        assert!(!path(&dir).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
