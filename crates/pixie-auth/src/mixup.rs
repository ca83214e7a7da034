//! Mix-up defence (RFC 9700 §4.4): each provider gets a redirect URI of its own, so an
//! answer can only be taken for the sign-in of the provider it was sent to. A malicious
//! configured provider that forwards the person to an honest one (with Pixie's `state`,
//! PKCE challenge and redirect URI) then gets nothing: the honest provider either refuses
//! the other provider's redirect URI or sends its answer to its own, which belongs to no
//! sign-in in progress.
//!
//! Providers may still share a redirect URI (a provider registered with one exact URI), but
//! then a sign-in with one of them starts only if it advertises RFC 9207
//! (`authorization_response_iss_parameter_supported`): `iss` is then required on its
//! redirect, and a forwarded answer (carrying the honest provider's `iss`, or none) fails
//! the issuer check against the sign-in in progress.

use url::Url;

use crate::config::{DEEP_LINK_REDIRECT, RedirectMode};
use crate::provider::Metadata;
use crate::{Error, ProviderConfig};

/// The path under which each provider's callback lives: `/oauth/callback/<id>`.
pub const CALLBACK_PATH: &str = "/oauth/callback";

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
/// port is chosen per sign-in).
pub fn default_redirect_uri(id: &str, mode: RedirectMode) -> String {
    match mode {
        RedirectMode::DeepLink => format!("{DEEP_LINK_REDIRECT}/{id}"),
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
            let scheme = DEEP_LINK_REDIRECT.split(':').next().unwrap_or_default();
            if url.scheme() != scheme {
                return Err(format!(
                    "a deep-link redirect must use the `{scheme}:` scheme"
                ));
            }
        }
        // RFC 8252 §7.3 / §8.3: the loopback IP literal, plain http, the port per sign-in.
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

/// What two redirect URIs have in common when they are the same address: a loopback URI
/// without its port (each sign-in picks one), anything else as written.
fn redirect_key(uri: &str) -> String {
    match Url::parse(uri) {
        Ok(u) if u.scheme() == "http" => {
            format!("http://{}{}", u.host_str().unwrap_or_default(), u.path())
        }
        Ok(u) => u.to_string(),
        Err(_) => uri.to_owned(),
    }
}

/// Fill in `shares_redirect_with` for each provider: the ids of the others with the same
/// redirect URI.
pub fn mark_shared_redirects(providers: &mut [ProviderConfig]) {
    let keys: Vec<(String, String)> = providers
        .iter()
        .map(|p| (p.id.clone(), redirect_key(&p.redirect_uri)))
        .collect();
    for p in providers.iter_mut() {
        let key = redirect_key(&p.redirect_uri);
        p.shares_redirect_with = keys
            .iter()
            .filter(|(id, k)| *k == key && *id != p.id)
            .map(|(id, _)| id.clone())
            .collect();
    }
}

/// RFC 9700 §4.4.2 / RFC 9207 §2.4: a provider that shares its redirect URI is usable only
/// if its redirects always name their issuer. Checked when its metadata is known (discovery).
pub fn check_shared_redirect(config: &ProviderConfig, metadata: &Metadata) -> Result<(), Error> {
    let iss_supported = metadata
        .additional_metadata()
        .authorization_response_iss_parameter_supported;
    if config.shares_redirect_with.is_empty() || iss_supported {
        return Ok(());
    }
    Err(Error::SharedRedirect {
        provider: config.id.clone(),
        others: config.shares_redirect_with.clone(),
    })
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
