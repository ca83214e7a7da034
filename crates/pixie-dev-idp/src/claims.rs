//! A person's claims, built in one place: the profile (OIDC Core §5.1) that userinfo answers
//! (§5.3.2) and the ID token carries (§2), and the ID token's own claims around it.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::Shared;
use crate::keys::left_half_hash;
use crate::users::User;

/// Where the person's picture is served (`picture`, OIDC Core §5.1).
pub(crate) fn picture_url(s: &Shared, user: &User) -> String {
    format!("{}/avatar/{}.png", s.issuer, user.sub)
}

/// OIDC Core §5.1: `sub` and the standard profile claims of `user`.
pub(crate) fn profile(s: &Shared, user: &User) -> Value {
    let mut claims = json!({
        "sub": user.sub,
        "name": user.name,
        "given_name": user.given_name,
        "email": user.email,
        "email_verified": true,
        "picture": picture_url(s, user),
    });
    if let Some(f) = &user.family_name {
        claims["family_name"] = json!(f);
    }
    claims
}

/// What one ID token is about.
pub(crate) struct IdTokenFor<'a> {
    pub client_id: &'a str,
    pub user: &'a User,
    pub auth_time: DateTime<Utc>,
    pub nonce: Option<&'a str>,
    /// The access token issued with it (`at_hash`).
    pub access_token: &'a str,
    /// The code it was exchanged for (`c_hash`), if any.
    pub code: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub ttl: TimeDelta,
}

/// OIDC Core §2: the profile plus `iss`, `aud`, `exp`, `iat`, `auth_time`, `nonce` (when
/// the request had one), `at_hash` and `c_hash`.
pub(crate) fn id_token(s: &Shared, t: &IdTokenFor<'_>) -> Value {
    let mut claims = profile(s, t.user);
    claims["iss"] = json!(s.issuer);
    claims["aud"] = json!([t.client_id]);
    claims["exp"] = json!((t.now + t.ttl).timestamp());
    claims["iat"] = json!(t.now.timestamp());
    claims["auth_time"] = json!(t.auth_time.timestamp());
    claims["at_hash"] = json!(left_half_hash(t.access_token));
    if let Some(code) = t.code {
        claims["c_hash"] = json!(left_half_hash(code));
    }
    if let Some(n) = t.nonce {
        claims["nonce"] = json!(n);
    }
    claims
}

/// The signed ID token for `t` (RS256, the provider's key), or the fault's version of it.
pub(crate) fn signed_id_token(s: &Shared, t: &IdTokenFor<'_>) -> Result<String, String> {
    let claims = id_token(s, t);
    if let Some(token) = crate::fault_hooks::id_token(s, &claims, t.client_id) {
        return token;
    }
    s.keys.sign_jwt(&s.keys.header(), &claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oidc_core_at_hash_example() {
        // OIDC Core Appendix A.3: at_hash of the example access token.
        assert_eq!(
            left_half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
