//! The tokens of one account, each a secret type whose `Debug` shows no value: the access and
//! refresh tokens are `openidconnect`'s own newtypes, the ID token is [`IdToken`]. They are
//! serialised only into the keyring (through [`crate::StoredSession`]).

use chrono::{DateTime, Utc};
use openidconnect::core::CoreIdToken;
use openidconnect::{AccessToken, RefreshToken, SubjectIdentifier};
use serde::{Deserialize, Deserializer, Serialize};

use crate::dpop::DpopKey;

/// A signed ID token (OIDC Core §2). A bearer of the person's identity at the provider (it
/// goes back as `id_token_hint` at sign-out), so it is a secret like the others.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdToken(CoreIdToken);

impl IdToken {
    /// Wrap a token that came from the token endpoint.
    pub fn new(token: CoreIdToken) -> Self {
        Self(token)
    }

    /// The token. Its value must never reach a log, a window or a file other than the keyring.
    pub fn secret(&self) -> &CoreIdToken {
        &self.0
    }

    /// The compact serialisation (`header.payload.signature`), for `id_token_hint`.
    pub fn compact(&self) -> String {
        self.0.to_string()
    }

    /// Read back a kept ID token: one that no longer parses is dropped (it is only a hint at
    /// sign-out), never the session that holds it.
    pub(crate) fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
        let value = Option::<serde_json::Value>::deserialize(d)?;
        Ok(value.and_then(|v| serde_json::from_value(v).ok()))
    }
}

impl std::fmt::Debug for IdToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdToken([redacted])")
    }
}

/// Tokens from the token endpoint. They never leave the core and the app's owner; `Debug`
/// shows no secret.
#[derive(Debug)]
pub struct Tokens {
    /// RFC 6749 §1.4.
    pub access_token: AccessToken,
    /// RFC 6749 §1.5; `None` when the provider issued none.
    pub refresh_token: Option<RefreshToken>,
    /// Always present after an OpenID sign-in; a refresh may not return a new one.
    pub id_token: Option<IdToken>,
    /// When the access token expires (`expires_in`, RFC 6749 §5.1), if the provider said.
    pub expires_at: Option<DateTime<Utc>>,
    /// The account the tokens are about (the ID token's `sub`, or the user API's id).
    pub subject: SubjectIdentifier,
    /// The DPoP key the tokens are bound to (RFC 9449 §5), if any: every request made with
    /// them carries a proof of it. It travels with the tokens, so two sign-ins of the same
    /// person, or a refresh beside a new sign-in, can never swap keys.
    pub dpop_key: Option<DpopKey>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_id_token_that_no_longer_parses_is_dropped_not_the_session() {
        #[derive(Deserialize)]
        struct Kept {
            #[serde(default, deserialize_with = "IdToken::lenient")]
            id_token: Option<IdToken>,
        }
        for json in [r#"{"id_token":"not a jwt"}"#, r#"{"id_token":null}"#, "{}"] {
            let kept: Kept = serde_json::from_str(json).unwrap();
            assert!(kept.id_token.is_none(), "{json}");
        }
    }
}
