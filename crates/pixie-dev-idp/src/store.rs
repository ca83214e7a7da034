//! What the provider remembers: authorization requests waiting for the person, codes,
//! access tokens and refresh-token families. All in memory.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::users::User;

/// An authorization request that passed validation and waits for the person's answer.
#[derive(Clone, Debug)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    /// RFC 9449 §10 `dpop_jkt`: the key the code is bound to.
    pub dpop_jkt: Option<String>,
    pub created: DateTime<Utc>,
}

/// A pushed authorization request (RFC 9126 §2), waiting for its one use at `/authorize`.
#[derive(Clone, Debug)]
pub struct Pushed {
    pub client_id: String,
    /// Every parameter pushed.
    pub params: HashMap<String, String>,
    /// RFC 9126 §2.2 `expires_in`.
    pub expires: DateTime<Utc>,
}

/// An issued authorization code's grant (RFC 6749 §4.1.2).
#[derive(Clone, Debug)]
pub struct CodeGrant {
    pub request: AuthRequest,
    pub user: User,
    pub auth_time: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

/// What an access token grants.
#[derive(Clone, Debug)]
pub struct AccessGrant {
    pub client_id: String,
    pub user: User,
    pub family: String,
    pub expires: DateTime<Utc>,
    /// RFC 9449 §6.1 `cnf.jkt`: the DPoP key the token is bound to.
    pub jkt: Option<String>,
}

/// What a refresh token grants (kept across restarts).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefreshGrant {
    pub client_id: String,
    pub user: User,
    pub scope: String,
    pub family: String,
    pub auth_time: DateTime<Utc>,
    /// RFC 9449 §5: the DPoP key a public client's refresh token is bound to.
    #[serde(default)]
    pub jkt: Option<String>,
}

/// Refresh tokens are remembered by their SHA-256 only, as a careful provider does: the
/// store (and the state file) never holds a usable token.
pub fn token_key(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The part of the store that survives a restart when a state file is configured.
#[derive(Default, Serialize, Deserialize)]
pub struct Persisted {
    pub key_pem: String,
    pub port: u16,
    pub refresh: HashMap<String, RefreshGrant>,
    pub rotated: HashMap<String, String>,
    pub revoked_families: HashSet<String>,
}

/// Everything the provider remembers.
#[derive(Default)]
pub struct Store {
    pub transactions: HashMap<String, AuthRequest>,
    pub codes: HashMap<String, CodeGrant>,
    /// Codes already exchanged, with the family they started (RFC 6749 §4.1.2: on reuse,
    /// revoke what the code issued).
    pub used_codes: HashMap<String, String>,
    pub access: HashMap<String, AccessGrant>,
    /// Live refresh tokens by [`token_key`].
    pub refresh: HashMap<String, RefreshGrant>,
    /// Refresh tokens already rotated away (by [`token_key`]), with their family
    /// (RFC 9700 §4.14.2).
    pub rotated: HashMap<String, String>,
    pub revoked_families: HashSet<String>,
    /// Sign-ins on another device (RFC 8628).
    pub devices: crate::device::Devices,
    /// Pushed authorization requests by `request_uri` (RFC 9126).
    pub pushed: HashMap<String, Pushed>,
    /// Used proofs and given nonces (RFC 9449).
    pub dpop: crate::dpop::state::DpopState,
}

impl Store {
    /// Drop requests, codes and access tokens that can no longer be used.
    pub fn prune(&mut self, now: DateTime<Utc>) {
        let stale = now - chrono::TimeDelta::minutes(15);
        self.transactions.retain(|_, t| t.created > stale);
        self.pushed.retain(|_, p| p.expires > stale);
        self.codes.retain(|_, c| c.expires > stale);
        self.access.retain(|_, a| a.expires > now);
    }

    /// Revoke every token of a family (sign-out, reuse of a rotated refresh token).
    pub fn revoke_family(&mut self, family: &str) {
        self.refresh.retain(|_, r| r.family != family);
        self.access.retain(|_, a| a.family != family);
        self.revoked_families.insert(family.to_owned());
    }

    /// How many refresh-token families are live.
    pub fn live_families(&self) -> usize {
        self.refresh
            .values()
            .map(|r| r.family.as_str())
            .collect::<HashSet<_>>()
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_stable_and_distinct() {
        let a = User::from_name("Ada  Lovelace");
        assert_eq!(a.name, "Ada Lovelace");
        assert_eq!(a.given_name, "Ada");
        assert_eq!(a.family_name.as_deref(), Some("Lovelace"));
        assert_eq!(a.email, "ada.lovelace@example.com");
        assert_eq!(a.sub, User::from_name("ada lovelace").sub);
        assert_ne!(a.sub, User::from_name("Grace Hopper").sub);
        assert!(User::from_name("Zoë 🙂").email.ends_with("@example.com"));
        // A typed name wins over the preset; an unknown preset is nobody.
        assert_eq!(User::chosen(None, None).unwrap().name, "Ada Lovelace");
        assert_eq!(
            User::chosen(Some("alan"), Some("  ")).unwrap().name,
            "Alan Turing"
        );
        assert_eq!(
            User::chosen(Some("alan"), Some(" Zoë ")).unwrap().name,
            "Zoë"
        );
        assert!(User::chosen(Some("mallory"), None).is_none());
    }
}
