//! The per-provider choices of `providers.toml` that pick a protocol feature: pushed
//! requests, DPoP, and how the end-session URL names the person.

use serde::{Deserialize, Serialize};

/// When to push the authorization request, per provider in `providers.toml` (`par = "…"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParMode {
    /// When the metadata names a `pushed_authorization_request_endpoint` (RFC 9126 §5).
    #[default]
    Auto,
    /// Always; a provider without the endpoint is a configuration error.
    Always,
    /// Never; a provider that requires it (§5 `require_pushed_authorization_requests`) is a
    /// configuration error.
    Never,
}

/// When to bind tokens to a key, per provider in `providers.toml` (`dpop = "…"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DpopMode {
    /// When the metadata lists ES256 in `dpop_signing_alg_values_supported` (RFC 9449 §5.1).
    #[default]
    Auto,
    /// Always (a provider may support DPoP without saying so: the metadata is optional).
    Always,
    /// Plain bearer tokens.
    Never,
}

/// How Pixie names the session to end (OpenID RP-Initiated Logout 1.0 §2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogoutHint {
    /// `client_id` (+ `logout_hint` when the ID token has a `login_hint` claim); the ID
    /// token stays in the keyring.
    #[default]
    ClientId,
    /// `id_token_hint`: the ID token in the browser URL, for providers that require it.
    IdToken,
}
