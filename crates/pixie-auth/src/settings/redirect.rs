//! Where the browser sends the answer (RFC 8252 §7.1 private-use scheme, §7.3 loopback), in
//! one place: the scheme, the callback path and each provider's default redirect URI.

use serde::{Deserialize, Serialize};
use url::Url;

/// Pixie's private-use URI scheme (RFC 8252 §7.1: reverse DNS of a domain it controls).
pub const SCHEME: &str = "dev.pixie.app";

/// The path under which each provider's callback lives: `/oauth/callback/<id>`.
pub const CALLBACK_PATH: &str = "/oauth/callback";

/// How the provider sends the browser back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RedirectMode {
    /// `dev.pixie.app:/oauth/callback/<id>`, delivered by the OS.
    #[default]
    DeepLink,
    /// `http://127.0.0.1:{port}/oauth/callback/<id>`, a listener for one sign-in.
    Loopback,
}

/// A provider id fit for a URI path segment: 1 to 64 of `A-Z a-z 0-9 . _ -`, not `.`/`..`.
pub fn is_valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && id != "."
        && id != ".."
}

/// The default redirect URI of provider `id`: `dev.pixie.app:/oauth/callback/<id>` for the
/// deep link (RFC 8252 §7.1), `http://127.0.0.1/oauth/callback/<id>` for loopback (§7.3; the
/// port is chosen per sign-in). A URI per provider is the mix-up defence of
/// [`crate::mixup`].
pub fn default_redirect_uri(id: &str, mode: RedirectMode) -> String {
    match mode {
        RedirectMode::DeepLink => format!("{SCHEME}:{CALLBACK_PATH}/{id}"),
        RedirectMode::Loopback => format!("http://127.0.0.1{CALLBACK_PATH}/{id}"),
    }
}

/// Check a redirect URI written in `providers.toml` for `mode`; the message says what to fix.
pub fn check_redirect_uri(uri: &str, mode: RedirectMode) -> Result<(), String> {
    let url = Url::parse(uri).map_err(|e| format!("not a URL: {e}"))?;
    if url.fragment().is_some() || url.query().is_some() {
        return Err("must have no query and no fragment".into());
    }
    match mode {
        // RFC 8252 §7.1: the private-use scheme the OS hands to Pixie.
        RedirectMode::DeepLink => {
            if url.scheme() != SCHEME {
                return Err(format!(
                    "a deep-link redirect must use the `{SCHEME}:` scheme"
                ));
            }
        }
        RedirectMode::Loopback => {
            if url.scheme() != "http" || url.host_str() != Some("127.0.0.1") {
                return Err("a loopback redirect must be http://127.0.0.1/…".into());
            }
            if url.port().is_some() {
                return Err("leave the port out: Pixie picks a free one per sign-in".into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_provider_has_its_own_callback() {
        assert_eq!(
            default_redirect_uri("google", RedirectMode::Loopback),
            "http://127.0.0.1/oauth/callback/google"
        );
        assert_eq!(
            default_redirect_uri("work", RedirectMode::DeepLink),
            "dev.pixie.app:/oauth/callback/work"
        );
        for ok in ["google", "work-2", "a.b_c"] {
            assert!(is_valid_id(ok), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "é", "a?b", &"x".repeat(65)] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn written_redirect_uris_fit_their_mode() {
        use RedirectMode::*;
        for (uri, mode, ok) in [
            ("dev.pixie.app:/oauth/callback", DeepLink, true),
            ("dev.pixie.app:/cb/x", DeepLink, true),
            ("com.example.app:/cb", DeepLink, false),
            ("dev.pixie.app:/cb?x=1", DeepLink, false),
            ("http://127.0.0.1/oauth/callback", Loopback, true),
            ("http://127.0.0.1:8080/cb", Loopback, false),
            ("http://localhost/cb", Loopback, false),
            ("https://127.0.0.1/cb", Loopback, false),
            ("dev.pixie.app:/cb", Loopback, false),
        ] {
            assert_eq!(check_redirect_uri(uri, mode).is_ok(), ok, "{uri} {mode:?}");
        }
    }
}
