//! Signing out at the provider (OpenID RP-Initiated Logout 1.0): the end-session URL with a
//! fresh `state`, what it says about the person, and the only check that may accept the
//! browser's return to Pixie.
//!
//! What goes into the browser URL, per provider (`logout_hint` in `providers.toml`):
//! - [`LogoutHint::ClientId`] (the default): `client_id`, `post_logout_redirect_uri`,
//!   `state`, and `logout_hint` only when the ID token carries a `login_hint` claim (Microsoft
//!   Entra's optional claim made for this). The ID token never goes into the URL.
//! - [`LogoutHint::IdToken`] (Okta, which requires it): the same plus `id_token_hint`, the
//!   whole ID token (signed, already expired or not: name, email and subject are readable by
//!   whoever sees the URL: the browser's history and the provider).

use openidconnect::core::CoreIdToken;
use openidconnect::{ClientId, CsrfToken, LogoutRequest, PostLogoutRedirectUrl};
use subtle::ConstantTimeEq;
use url::Url;

use crate::Error;
use crate::callback::{MAX_CALLBACK_LEN, is_same_redirect};
use crate::http::is_allowed_url;
use crate::provider::Provider;
use crate::random::new_state;
use crate::settings::LogoutHint;

/// A sign-out sent to the browser, waiting for its return to `post_logout_redirect_uri`.
pub struct PendingLogout {
    url: Url,
    return_uri: Url,
    state: CsrfToken,
}

impl std::fmt::Debug for PendingLogout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogout")
            .field("return_uri", &self.return_uri.as_str())
            .finish_non_exhaustive()
    }
}

impl PendingLogout {
    /// The end-session URL to open in the system browser.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Whether `raw` is this sign-out's return: exactly the post-logout redirect URI, with
    /// the `state` sent (once, compared in constant time). Anything else is someone else's
    /// link and proves nothing about the session at the provider.
    pub fn is_return(&self, raw: &str) -> bool {
        if raw.len() > MAX_CALLBACK_LEN {
            return false;
        }
        let Ok(url) = Url::parse(raw) else {
            return false;
        };
        // OpenID RP-Initiated Logout 1.0 §3: the OP redirects to the registered URI exactly.
        if !is_same_redirect(&url, &self.return_uri) {
            return false;
        }
        // RP-Initiated Logout 1.0 §3 / RFC 6749 §10.12: `state` passed back as sent.
        let mut states = url.query_pairs().filter(|(k, _)| k == "state");
        match (states.next(), states.next()) {
            (Some((_, got)), None) => {
                bool::from(got.as_bytes().ct_eq(self.state.secret().as_bytes()))
            }
            _ => false,
        }
    }
}

/// The `login_hint` claim of a compact ID token, read without verification: it is Pixie's
/// own token from the keyring, and the value is only a hint the provider checks itself.
fn login_hint_claim(id_token: &str) -> Option<String> {
    crate::jwt::Jwt::decode(id_token)?
        .claim("login_hint")
        .map(str::to_owned)
}

impl Provider {
    /// OpenID RP-Initiated Logout 1.0 §2: the end-session request, with a fresh `state` and
    /// what [`LogoutHint`] allows about the person. `None` when the provider offers no
    /// end-session endpoint (Google, GitHub).
    pub fn start_logout(
        &self,
        id_token: Option<&str>,
        post_logout_redirect_uri: &str,
    ) -> Result<Option<PendingLogout>, Error> {
        let Some(endpoint) = self
            .metadata
            .additional_metadata()
            .end_session_endpoint
            .as_deref()
        else {
            return Ok(None);
        };
        // RFC 9700 §2.6: https, loopback excepted.
        let endpoint = Url::parse(endpoint)
            .ok()
            .filter(is_allowed_url)
            .ok_or_else(|| Error::Discovery("the end_session endpoint must use https".into()))?;
        let return_uri = Url::parse(post_logout_redirect_uri).map_err(|e| {
            Error::Config(format!(
                "post-logout redirect URI `{post_logout_redirect_uri}`: {e}"
            ))
        })?;
        let state = new_state()?;
        // RP-Initiated Logout 1.0 §2: with `post_logout_redirect_uri`, `client_id` or
        // `id_token_hint` must be sent; `client_id` always is.
        let mut request = LogoutRequest::from(openidconnect::EndSessionUrl::from_url(endpoint))
            .set_client_id(ClientId::new(self.config.client_id.clone()))
            .set_post_logout_redirect_uri(PostLogoutRedirectUrl::from_url(return_uri.clone()))
            .set_state(state.clone());
        match self.config.logout_hint {
            LogoutHint::ClientId => {
                if let Some(hint) = id_token.and_then(login_hint_claim) {
                    request = request.set_logout_hint(openidconnect::LogoutHint::new(hint));
                }
            }
            LogoutHint::IdToken => {
                if let Some(token) = id_token.and_then(|t| {
                    serde_json::from_value::<CoreIdToken>(serde_json::Value::String(t.into())).ok()
                }) {
                    request = request.set_id_token_hint(&token);
                }
            }
        }
        Ok(Some(PendingLogout {
            url: request.http_get_url(),
            return_uri,
            state,
        }))
    }
}
