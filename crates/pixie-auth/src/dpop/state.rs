//! What a provider remembers for DPoP across requests: the servers' nonces.

use std::collections::HashMap;
use std::sync::Mutex;

/// Longest `DPoP-Nonce` kept (RFC 9449 §8.1: NQCHAR, no length given; real ones are short).
const MAX_NONCE: usize = 512;

/// What a provider remembers for DPoP across requests: the latest nonce of each server
/// (RFC 9449 §8.2, §9). Keys are not kept here: each travels with the tokens bound to it
/// ([`crate::Tokens::dpop_key`]) and, between runs, in the account's
/// [`crate::StoredSession`] in the keyring.
#[derive(Default)]
pub struct DpopState {
    nonces: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for DpopState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DpopState { .. }")
    }
}

impl DpopState {
    pub(crate) fn nonce(&self, origin: &str) -> Option<String> {
        self.nonces.lock().ok()?.get(origin).cloned()
    }

    /// RFC 9449 §8.1: a nonce is 1*NQCHAR (%x21 / %x23-5B / %x5D-7E); anything else is ignored.
    pub(crate) fn remember_nonce(&self, origin: &str, nonce: &str) -> bool {
        let valid = !nonce.is_empty()
            && nonce.len() <= MAX_NONCE
            && nonce
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
        if valid && let Ok(mut n) = self.nonces.lock() {
            n.insert(origin.to_owned(), nonce.to_owned());
        }
        valid
    }
}
