//! The two JSON parts of a compact JWS (RFC 7515 §7.1), decoded in one place. The core
//! reads them for what `openidconnect` does not model: Microsoft's `tid`, the `kid` the flow
//! record shows, the claims of the original ID token a refreshed one is compared with, and
//! the `login_hint` of Pixie's own ID token at sign-out. Nothing here verifies anything: each
//! caller says why reading without verification is right where it reads.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// Longest compact JWT looked at (real ID tokens are a few KiB).
const MAX_JWT: usize = 64 * 1024;

/// A decoded header and payload.
pub(crate) struct Jwt {
    header: Value,
    payload: Value,
}

impl Jwt {
    /// The header and payload of `compact` (`header.payload.signature`), or `None` when it
    /// is not three base64url parts of which the first two are JSON objects.
    pub(crate) fn decode(compact: &str) -> Option<Self> {
        if compact.len() > MAX_JWT {
            return None;
        }
        let mut parts = compact.split('.');
        let (header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let json = |part: &str| {
            let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
            serde_json::from_slice::<Value>(&bytes)
                .ok()
                .filter(Value::is_object)
        };
        Some(Self {
            header: json(header)?,
            payload: json(payload)?,
        })
    }

    /// A string member of the header (`kid`, `alg`).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.header.get(name)?.as_str()
    }

    /// A string claim of the payload.
    pub(crate) fn claim(&self, name: &str) -> Option<&str> {
        self.payload.get(name)?.as_str()
    }

    /// A NumericDate claim such as `auth_time` (RFC 7519 §2: seconds, possibly with a
    /// fraction), in whole seconds.
    pub(crate) fn number(&self, name: &str) -> Option<i64> {
        let value = self.payload.get(name)?;
        value.as_i64().or_else(|| {
            let f = value.as_f64()?;
            // Within i64 and not NaN, the whole seconds, as chrono's `timestamp()` gives them.
            (f.is_finite() && f.abs() < 9.0e15).then(|| f.floor() as i64)
        })
    }

    /// The `aud` claim, sorted: one string or an array of strings (RFC 7519 §4.1.3); empty
    /// when absent or of another shape.
    pub(crate) fn audiences(&self) -> Vec<&str> {
        let mut out: Vec<&str> = match self.payload.get("aud") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(v: &str) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    #[test]
    fn reads_the_header_and_claims() {
        let jwt = format!(
            "{}.{}.sig",
            b64(r#"{"alg":"RS256","kid":"k1"}"#),
            b64(r#"{"aud":["a","b"],"tid":"t-1"}"#)
        );
        let j = Jwt::decode(&jwt).unwrap();
        assert_eq!(j.header("kid"), Some("k1"));
        assert_eq!(j.claim("tid"), Some("t-1"));
        assert_eq!(j.claim("aud"), None, "only string claims");
    }

    #[test]
    fn reads_aud_as_one_string_or_an_array_and_numbers() {
        let jwt = |payload: &str| format!("{}.{}.sig", b64(r#"{"alg":"RS256"}"#), b64(payload));
        let one = Jwt::decode(&jwt(r#"{"aud":"a","auth_time":1700000000}"#)).unwrap();
        assert_eq!(one.audiences(), ["a"]);
        assert_eq!(one.number("auth_time"), Some(1_700_000_000));
        let many = Jwt::decode(&jwt(r#"{"aud":["b","a",7,"a"],"auth_time":"soon"}"#)).unwrap();
        assert_eq!(many.audiences(), ["a", "b"], "a set: sorted, strings only");
        assert_eq!(many.number("auth_time"), None);
        let decimal = Jwt::decode(&jwt(r#"{"auth_time":1700000000.75}"#)).unwrap();
        assert_eq!(decimal.number("auth_time"), Some(1_700_000_000));
        let none = Jwt::decode(&jwt("{}")).unwrap();
        assert!(none.audiences().is_empty());
    }

    #[test]
    fn refuses_what_is_not_a_compact_jws() {
        for bad in [
            String::new(),
            "a.b".into(),
            "a.b.c.d".into(),
            format!("{}.{}.s", b64("[]"), b64("{}")),
            format!("{}.%%%.s", b64("{}")),
            format!("{}.{}.s", b64("{}"), "x".repeat(MAX_JWT)),
        ] {
            assert!(Jwt::decode(&bad).is_none(), "{bad:.40}");
        }
    }
}
