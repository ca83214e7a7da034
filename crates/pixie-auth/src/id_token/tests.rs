//! The ID-token module's own tests: `expires_in` bounds and OIDC Core §12.2's comparison of
//! a refreshed ID token with the original, on hand-made claims.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::*;

#[test]
fn any_expires_in_is_kept_within_a_year() {
    let now = Utc::now();
    let huge = std::time::Duration::from_secs(9_000_000_000_000_000);
    assert_eq!(
        expires_at(now, Some(huge)),
        now.checked_add_signed(chrono::TimeDelta::days(366))
    );
    assert_eq!(
        expires_at(now, Some(std::time::Duration::from_secs(3600))),
        Some(now + chrono::TimeDelta::hours(1))
    );
    assert_eq!(expires_at(now, None), None);
}

const T0: i64 = 1_700_000_000;

/// The claims of an ID token: Ada's at the demo issuer, for Pixie, with `extra` laid over.
fn claims(extra: Value) -> Value {
    let mut c = json!({
        "iss": "https://op.example", "sub": "ada", "aud": "pixie-desktop",
        "iat": T0 + 3600, "exp": T0 + 4200,
    });
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            match v {
                Value::Null => c.remove(k),
                v => c.insert(k.clone(), v.clone()),
            };
        }
    }
    c
}

/// A kept ID token with these claims (only read back, never verified, so any signature).
fn kept(claims: &Value) -> IdToken {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let compact = format!("{}.{}.c2ln", part(&json!({"alg": "RS256"})), part(claims));
    IdToken::new(serde_json::from_value(json!(compact)).expect("a compact JWS"))
}

/// §12.2's verdict on a refreshed ID token with `new` claims, against a session that kept
/// an ID token with `old` claims and the first authentication's time `auth_time`.
fn verdict(old: &Value, auth_time: Option<i64>, new: &Value) -> Result<(), IdTokenError> {
    let new: CoreIdTokenClaims = serde_json::from_value(new.clone()).expect("claims");
    let subject = SubjectIdentifier::new("ada".into());
    let old = kept(old);
    let original = Original {
        subject: &subject,
        id_token: Some(&old),
        auth_time,
    };
    same_as_original(&new, &original)
}

#[test]
fn a_refreshed_id_token_keeps_iss_sub_aud_and_azp() {
    let old = claims(json!({}));
    assert!(verdict(&old, None, &claims(json!({}))).is_ok());
    // One audience as a string or as a one-element array is the same audience.
    assert!(verdict(&old, None, &claims(json!({"aud": ["pixie-desktop"]}))).is_ok());
    let changed = |new: Value| match verdict(&old, None, &claims(new)) {
        Err(IdTokenError::ChangedOnRefresh(claim)) => claim,
        other => panic!("{other:?}"),
    };
    assert_eq!(changed(json!({"iss": "https://other.example"})), "iss");
    assert_eq!(
        changed(json!({"aud": ["pixie-desktop", "other"], "azp": "pixie-desktop"})),
        "aud"
    );
    // "if no azp Claim was present in the original ID Token, one MUST NOT be present".
    assert_eq!(changed(json!({"azp": "pixie-desktop"})), "azp");
    let with_azp = claims(json!({"azp": "pixie-desktop"}));
    assert!(verdict(&with_azp, None, &with_azp).is_ok());
    assert!(matches!(
        verdict(&with_azp, None, &claims(json!({}))),
        Err(IdTokenError::ChangedOnRefresh("azp"))
    ));
    assert!(matches!(
        verdict(&old, None, &claims(json!({"sub": "grace"}))),
        Err(IdTokenError::SubjectChanged)
    ));
}

#[test]
fn auth_time_is_the_first_authentications_through_every_refresh() {
    let signed_in = claims(json!({"auth_time": T0}));
    let at = |t: i64| claims(json!({"auth_time": t}));
    assert!(verdict(&signed_in, Some(T0), &at(T0)).is_ok());
    assert!(matches!(
        verdict(&signed_in, Some(T0), &at(T0 + 60)),
        Err(IdTokenError::ChangedOnRefresh("auth_time"))
    ));
    // A refresh may leave it out …
    let without = claims(json!({}));
    assert!(verdict(&signed_in, Some(T0), &without).is_ok());
    // … and the next one is still compared with the first authentication's, kept apart,
    // although the kept ID token (the last refresh's) has none.
    assert!(matches!(
        verdict(&without, Some(T0), &at(T0 + 60)),
        Err(IdTokenError::ChangedOnRefresh("auth_time"))
    ));
    assert!(verdict(&without, Some(T0), &at(T0)).is_ok());
    // A session kept before the time was kept apart falls back to its ID token's.
    assert!(matches!(
        verdict(&signed_in, None, &at(T0 + 60)),
        Err(IdTokenError::ChangedOnRefresh("auth_time"))
    ));
    // Nothing known of the first authentication: nothing to compare.
    assert!(verdict(&without, None, &at(T0 + 60)).is_ok());
}
