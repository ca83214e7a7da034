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

use crate::provider::metadata::Metadata;
use crate::{Error, ProviderConfig};

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
