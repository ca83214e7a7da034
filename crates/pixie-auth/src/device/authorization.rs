//! RFC 8628 §3.1–3.2: ask the device authorization endpoint for a device code, and the only
//! code that reads its answer.

use std::time::Duration;

use openidconnect::HttpResponse;
use serde_json::{Map, Value};
use url::Url;

use super::error::DeviceError;
use super::wire::{error_of, fields, seconds, text};
use crate::http::is_allowed_url;

/// RFC 8628 §3.4 `grant_type`.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628 §3.2 `interval`: "If no value is provided, clients MUST use 5 as the default."
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// Longest a device sign-in waits, whatever `expires_in` says (Pixie limit; GitHub and
/// Microsoft give 15 minutes, RFC 8628 §3.2's example 30).
pub const MAX_DEVICE_WAIT: Duration = Duration::from_secs(30 * 60);
/// Longest user code Pixie shows (RFC 8628 §6.1 recommends short ones; 8 characters is usual).
pub const MAX_USER_CODE: usize = 64;
/// Longest device code or verification URI Pixie accepts.
const MAX_FIELD: usize = 2048;

/// The device code: a secret between Pixie and the token endpoint (RFC 8628 §3.2, §5.2).
/// Its `Debug` shows nothing; it is not `Clone`.
pub(crate) struct DeviceCode(String);

impl DeviceCode {
    pub(crate) fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceCode([redacted])")
    }
}

/// A device authorization response that passed every check. Only [`read_authorization`]
/// builds it.
#[derive(Debug)]
pub(crate) struct DeviceAuthorization {
    pub device_code: DeviceCode,
    pub user_code: String,
    pub verification_uri: Url,
    pub verification_uri_complete: Option<Url>,
    pub expires_in: Duration,
    pub interval: Duration,
}

/// A verification URI the window may show, put in a QR code and open: absolute, https
/// (plain http only on loopback, RFC 8252 §8.3 / RFC 9700 §2.6), no user info, not huge.
fn verification_uri(raw: &str, field: &str) -> Result<Url, DeviceError> {
    let bad = |why: &str| DeviceError::Malformed(format!("`{field}` {why}"));
    if raw.len() > MAX_FIELD {
        return Err(bad("is too long"));
    }
    let url = Url::parse(raw).map_err(|_| bad("is not an absolute URL"))?;
    if !is_allowed_url(&url) {
        return Err(bad("must use https"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("carries user info"));
    }
    Ok(url)
}

/// RFC 8628 §3.2 `device_code` and `user_code`, both REQUIRED.
fn codes(map: &Map<String, Value>) -> Result<(&str, &str), DeviceError> {
    let m = |e: String| DeviceError::Malformed(e);
    // RFC 8628 §3.2 `device_code`: REQUIRED. RFC 8628 §7.3 / RFC 6749 Appendix A: VSCHARs.
    let device_code = text(map, "device_code")
        .map_err(m)?
        .filter(|c| !c.is_empty())
        .ok_or_else(|| DeviceError::Malformed("no `device_code`".into()))?;
    if device_code.len() > MAX_FIELD || !device_code.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(DeviceError::Malformed(
            "`device_code` is not a short run of printable characters".into(),
        ));
    }

    // RFC 8628 §3.2 `user_code`: REQUIRED; §6.1: short, for a person to type. Shown in large
    // type as text, so no control characters and a sane length.
    let user_code = text(map, "user_code")
        .map_err(m)?
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| DeviceError::Malformed("no `user_code`".into()))?;
    if user_code.chars().count() > MAX_USER_CODE || user_code.chars().any(char::is_control) {
        return Err(DeviceError::Malformed(
            "`user_code` is too long or holds control characters".into(),
        ));
    }
    Ok((device_code, user_code))
}

/// Read the answer of the device authorization endpoint.
pub(crate) fn read_authorization(
    response: &HttpResponse,
) -> Result<DeviceAuthorization, DeviceError> {
    let map = fields(response).map_err(DeviceError::Malformed)?;

    // RFC 8628 §3.2: "In the event of an error … the authorization server responds in the
    // same way as the token endpoint as specified in Section 5.2 of [RFC6749]" — whatever
    // the status (GitHub answers errors with 200).
    if let Some((error, description)) = error_of(&map) {
        return Err(DeviceError::RequestRefused { error, description });
    }
    // RFC 8628 §3.2: a successful answer is HTTP 200.
    if response.status().as_u16() != 200 {
        return Err(DeviceError::Malformed(format!(
            "HTTP {} without an error code",
            response.status().as_u16()
        )));
    }
    let m = |e: String| DeviceError::Malformed(e);

    let (device_code, user_code) = codes(&map)?;

    // RFC 8628 §3.2 `verification_uri`: REQUIRED. Google names it `verification_url`
    // ("OAuth 2.0 for TV and Limited-Input Device Applications", step 2).
    let raw_uri = match text(&map, "verification_uri").map_err(m)? {
        Some(u) => u,
        None => text(&map, "verification_url")
            .map_err(m)?
            .ok_or_else(|| DeviceError::Malformed("no `verification_uri`".into()))?,
    };
    let verification_uri = verification_uri(raw_uri, "verification_uri")?;

    // RFC 8628 §3.2 `verification_uri_complete`: OPTIONAL, the same URI with the user code
    // in it (§3.3.1: for a QR code).
    let verification_uri_complete = text(&map, "verification_uri_complete")
        .map_err(m)?
        .map(|u| self::verification_uri(u, "verification_uri_complete"))
        .transpose()?;

    // RFC 8628 §3.2 `expires_in`: REQUIRED, the lifetime in seconds of both codes. Capped at
    // Pixie's longest wait.
    let expires_in = seconds(&map, "expires_in")
        .map_err(m)?
        .filter(|s| *s > 0)
        .ok_or_else(|| DeviceError::Malformed("no positive `expires_in`".into()))?;
    let expires_in = Duration::from_secs(expires_in).min(MAX_DEVICE_WAIT);

    // RFC 8628 §3.2 `interval`: OPTIONAL, default 5 seconds. A zero is no interval at all and
    // gets the default too.
    let interval = match seconds(&map, "interval").map_err(m)? {
        None | Some(0) => DEFAULT_INTERVAL,
        Some(s) => Duration::from_secs(s.min(MAX_DEVICE_WAIT.as_secs())),
    };

    Ok(DeviceAuthorization {
        device_code: DeviceCode(device_code.to_owned()),
        user_code: user_code.to_owned(),
        verification_uri,
        verification_uri_complete,
        expires_in,
        interval,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use openidconnect::http::{StatusCode, header};
    use serde_json::json;

    fn json_answer(status: u16, body: serde_json::Value) -> HttpResponse {
        let mut r = HttpResponse::new(body.to_string().into_bytes());
        *r.status_mut() = StatusCode::from_u16(status).unwrap();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        r
    }

    fn form_answer(body: &str) -> HttpResponse {
        let mut r = HttpResponse::new(body.as_bytes().to_vec());
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
        r
    }

    fn good() -> serde_json::Value {
        json!({
            "device_code": "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
            "user_code": "WDJB-MJHT",
            "verification_uri": "https://example.com/device",
            "verification_uri_complete": "https://example.com/device?user_code=WDJB-MJHT",
            "expires_in": 1800,
            "interval": 5
        })
    }

    #[test]
    fn reads_the_rfc_8628_example() {
        // RFC 8628 §3.2, the example response.
        let a = read_authorization(&json_answer(200, good())).unwrap();
        assert_eq!(a.user_code, "WDJB-MJHT");
        assert_eq!(a.verification_uri.as_str(), "https://example.com/device");
        assert_eq!(
            a.verification_uri_complete.unwrap().as_str(),
            "https://example.com/device?user_code=WDJB-MJHT"
        );
        assert_eq!(a.expires_in, Duration::from_secs(1800));
        assert_eq!(a.interval, Duration::from_secs(5));
        assert!(!format!("{:?}", a.device_code).contains("GmRhm"));
    }

    #[test]
    fn reads_github_form_answer_and_defaults() {
        // GitHub without `Accept: application/json`: form-encoded, numbers as text.
        let a = read_authorization(&form_answer(
            "device_code=3584d83530557fdd1f46af8289938c8ef79f9dc5&expires_in=900&interval=5&user_code=WDJB-MJHT&verification_uri=https%3A%2F%2Fgithub.com%2Flogin%2Fdevice",
        ))
        .unwrap();
        assert_eq!(
            a.verification_uri.as_str(),
            "https://github.com/login/device"
        );
        assert_eq!(a.expires_in, Duration::from_secs(900));
        assert!(a.verification_uri_complete.is_none());
        // RFC 8628 §3.2: no interval → 5 s.
        let mut v = good();
        v.as_object_mut().unwrap().remove("interval");
        assert_eq!(
            read_authorization(&json_answer(200, v)).unwrap().interval,
            DEFAULT_INTERVAL
        );
    }

    #[test]
    fn refuses_every_kind_of_bad_answer() {
        let with = |k: &str, v: serde_json::Value| {
            let mut g = good();
            g[k] = v;
            g
        };
        let without = |k: &str| {
            let mut g = good();
            g.as_object_mut().unwrap().remove(k);
            g
        };
        let cases: Vec<(serde_json::Value, &str)> = vec![
            (without("device_code"), "device_code"),
            (without("user_code"), "user_code"),
            (without("verification_uri"), "verification_uri"),
            (without("expires_in"), "expires_in"),
            (with("device_code", json!(42)), "device_code"),
            (with("device_code", json!("a\nb")), "device_code"),
            (with("user_code", json!("x".repeat(65))), "user_code"),
            (with("user_code", json!("AB\u{7}CD")), "user_code"),
            (
                with("verification_uri", json!("javascript:alert(1)")),
                "https",
            ),
            (
                with("verification_uri", json!("http://evil.example/device")),
                "https",
            ),
            (with("verification_uri", json!("/device")), "absolute"),
            (
                with("verification_uri", json!("https://user:pw@example.com/")),
                "user info",
            ),
            (
                with(
                    "verification_uri_complete",
                    json!("http://evil.example/?c=1"),
                ),
                "verification_uri_complete",
            ),
            (with("expires_in", json!(0)), "expires_in"),
            (with("expires_in", json!(-5)), "expires_in"),
            (with("interval", json!(1.5)), "interval"),
        ];
        for (body, want) in cases {
            match read_authorization(&json_answer(200, body.clone())) {
                Err(DeviceError::Malformed(why)) => assert!(why.contains(want), "{why} / {body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        for raw in ["<html>busy</html>", "[1,2]", ""] {
            let mut r = HttpResponse::new(raw.as_bytes().to_vec());
            *r.status_mut() = StatusCode::OK;
            assert!(matches!(
                read_authorization(&r),
                Err(DeviceError::Malformed(_))
            ));
        }
        assert!(matches!(
            read_authorization(&form_answer("device_code=a&device_code=b")),
            Err(DeviceError::Malformed(_))
        ));
        assert!(matches!(
            read_authorization(&json_answer(500, json!({}))),
            Err(DeviceError::Malformed(_))
        ));
    }

    #[test]
    fn an_error_answer_is_typed_whatever_the_status() {
        for status in [200, 400, 401] {
            let err = read_authorization(&json_answer(
                status,
                json!({"error": "unauthorized_client", "error_description": "Device flow is off"}),
            ))
            .unwrap_err();
            assert_eq!(
                err,
                DeviceError::RequestRefused {
                    error: "unauthorized_client".into(),
                    description: Some("Device flow is off".into())
                }
            );
        }
    }
}
