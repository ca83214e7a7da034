//! Hints about the account a sign-in is for: when a person adds a second account, the
//! provider should show its account chooser instead of silently reusing the browser's
//! session; when an account is signed in again, the provider can be told which one.

use crate::provider::Provider;
use crate::settings::Protocol;

/// What the authorization request says about the account (OIDC Core §3.1.2.1 `prompt` and
/// `login_hint`; GitHub's `prompt=select_account`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignInHints {
    /// Ask the provider to let the person pick (or add) an account.
    pub select_account: bool,
    /// The account to sign in again: its email, or the provider's own login name.
    pub login_hint: Option<String>,
}

impl SignInHints {
    /// The extra authorization parameters for `provider`.
    pub(crate) fn params(&self, provider: &Provider) -> Vec<(String, String)> {
        let mut params = Vec::new();
        if self.select_account
            && let Some(prompt) = select_account_prompt(provider)
        {
            params.push(("prompt".to_owned(), prompt.to_owned()));
        }
        if let Some(hint) = self.login_hint.as_deref().filter(|h| !h.is_empty()) {
            // OIDC Core §3.1.2.1 `login_hint`; GitHub names its parameter `login`.
            let name = match provider.config().protocol {
                Protocol::OpenidConnect => "login_hint",
                Protocol::Oauth2 => "login",
            };
            params.push((name.to_owned(), hint.to_owned()));
        }
        params
    }
}

/// Issuers documented to offer an account chooser (`prompt=select_account`): Google's and
/// Microsoft's identity platforms.
const SELECT_ACCOUNT_HOSTS: [&str; 2] = ["accounts.google.com", "login.microsoftonline.com"];

/// The `prompt` value that makes the provider show an account choice rather than silently
/// reuse the browser's session: `select_account` (OIDC Core §3.1.2.1) where the provider
/// lists it (`prompt_values_supported`) or documents it; else `login`, which OIDC Core
/// defines for every provider (re-authenticate, so another account can be used) — several
/// providers refuse an unknown `select_account` outright (oidc-provider answers
/// `invalid_request`); nothing where the provider lists neither.
fn select_account_prompt(provider: &Provider) -> Option<&'static str> {
    if provider.config().protocol == Protocol::Oauth2 {
        return Some("select_account"); // GitHub documents it for its authorize endpoint
    }
    match &provider
        .metadata()
        .additional_metadata()
        .prompt_values_supported
    {
        Some(values) if values.iter().any(|v| v == "select_account") => Some("select_account"),
        Some(values) if values.iter().any(|v| v == "login") => Some("login"),
        Some(_) => None,
        None if url::Url::parse(provider.issuer())
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .is_some_and(|h| SELECT_ACCOUNT_HOSTS.contains(&h.as_str())) =>
        {
            Some("select_account")
        }
        None => Some("login"),
    }
}
