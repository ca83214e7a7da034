//! Sign in on another device: the device authorization grant (RFC 8628). The device asks for
//! a code (`POST /device_authorization`), the person enters the user code at `/device`
//! (prefilled through `verification_uri_complete`), picks who to be, and the device polls
//! `/token` with the device code. This module holds what is remembered; the endpoints are
//! in `routes/device.rs`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};

use crate::users::User;

/// RFC 8628 §3.4 `grant_type`.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// How long the codes live (RFC 8628 §3.2 `expires_in`).
pub const DEVICE_CODE_TTL: TimeDelta = TimeDelta::minutes(10);
/// RFC 8628 §3.2 `interval`: the polling interval this provider asks for.
pub const DEVICE_INTERVAL_SECS: i64 = 5;
/// RFC 8628 §6.1: a base-20 alphabet without vowels (no words) or look-alikes.
const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// Where the person stands on a device request.
#[derive(Clone, Debug)]
pub enum Decision {
    /// Not answered yet (RFC 8628 §3.5 `authorization_pending`).
    Pending,
    /// Signed in as `user`.
    Approved {
        /// Who.
        user: User,
        /// When (OIDC Core §2 `auth_time`).
        auth_time: DateTime<Utc>,
    },
    /// The person declined (`access_denied`).
    Denied,
}

/// One device request (RFC 8628 §3.2).
#[derive(Clone, Debug)]
pub struct DeviceGrant {
    pub client_id: String,
    pub scope: String,
    pub user_code: String,
    pub expires: DateTime<Utc>,
    /// Seconds; raised by 5 at each `slow_down` (RFC 8628 §3.5).
    pub interval: i64,
    pub last_poll: Option<DateTime<Utc>>,
    pub decision: Decision,
}

/// Device requests by [`token_key`] of their device code (never the code itself).
#[derive(Default)]
pub struct Devices {
    pub grants: HashMap<String, DeviceGrant>,
    /// User code (normalised) → device code key.
    pub by_user_code: HashMap<String, String>,
    /// Open verification pages: tx → device code key.
    pub pages: HashMap<String, String>,
    /// Device codes already exchanged (one-time).
    pub used: HashSet<String>,
}

impl Devices {
    /// Drop requests long expired and what points at them.
    pub fn prune(&mut self, now: DateTime<Utc>) {
        let stale = now - TimeDelta::minutes(15);
        let gone: Vec<String> = self
            .grants
            .iter()
            .filter(|(_, g)| g.expires < stale)
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            self.grants.remove(&k);
        }
        let grants = &self.grants;
        self.by_user_code.retain(|_, k| grants.contains_key(k));
        self.pages.retain(|_, k| grants.contains_key(k));
    }
}

/// RFC 8628 §6.1: what a person may type for `WDJB-MJHT` (case, spaces and dashes ignored).
pub fn normalise_user_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .take(16)
        .collect()
}

/// Eight characters of [`USER_CODE_ALPHABET`], shown as `XXXX-XXXX`.
pub fn new_user_code() -> Option<String> {
    let mut code = String::with_capacity(9);
    while code.len() < 9 {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).ok()?;
        // 240 = 12 × 20: no bias.
        for byte in b.into_iter().filter(|b| *b < 240) {
            if code.len() == 4 {
                code.push('-');
            }
            if code.len() < 9 {
                code.push(USER_CODE_ALPHABET[(byte % 20) as usize] as char);
            }
        }
    }
    Some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_short_and_typeable() {
        for _ in 0..50 {
            let c = new_user_code().unwrap();
            assert_eq!(c.len(), 9);
            assert_eq!(&c[4..5], "-");
            assert!(
                c.bytes()
                    .filter(|b| *b != b'-')
                    .all(|b| USER_CODE_ALPHABET.contains(&b))
            );
            assert_eq!(
                normalise_user_code(&c.to_lowercase().replace('-', " ")),
                c.replace('-', "")
            );
        }
    }
}
