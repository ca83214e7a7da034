//! The non-secret profile, cached in the XDG cache dir so the window can draw at once on the
//! next launch. It holds no token: the session itself is in the keyring. Still private to
//! the person: the folder is 0700 and the file 0600 (a name, an email and a picture).

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

pub fn save(cache_dir: &Path, profile: &Profile) {
    let write = || -> std::io::Result<()> {
        private_dir(cache_dir)?;
        let tmp = cache_dir.join("profile.json.tmp");
        let _ = std::fs::remove_file(&tmp);
        write_private(&tmp, &serde_json::to_vec(profile)?)?;
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
        let profile = Profile {
            subject: "s".into(),
            name: "Ada".into(),
            email: None,
            picture_data_url: None,
            issuer: "http://127.0.0.1:1".into(),
            provider_id: "demo".into(),
        };
        save(&dir, &profile);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&path(&dir)), 0o600);
        assert_eq!(load(&dir), Some(profile));
        clear(&dir);
        assert!(!path(&dir).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
