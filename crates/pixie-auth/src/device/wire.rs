//! The bodies of the device flow's two endpoints as field maps: JSON as RFC 8628 §3.2 and
//! RFC 6749 §5.1 say, or form-encoded as GitHub answers a request without
//! `Accept: application/json` ("Authorizing OAuth apps", device flow).

use openidconnect::HttpResponse;
use openidconnect::http::header;
use serde_json::{Map, Value};

/// The answer's fields. A form-encoded body (by its `Content-Type`) gives strings; anything
/// else must be one JSON object. Each field at most once (RFC 6749 §3.1).
pub(crate) fn fields(response: &HttpResponse) -> Result<Map<String, Value>, String> {
    let form = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if form {
        let mut out = Map::new();
        for (k, v) in url::form_urlencoded::parse(response.body()) {
            if out
                .insert(k.clone().into_owned(), Value::String(v.into_owned()))
                .is_some()
            {
                return Err(format!("the field `{k}` appears twice"));
            }
        }
        return Ok(out);
    }
    match serde_json::from_slice::<Value>(response.body()) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("the answer is JSON but not an object".into()),
        Err(_) => Err("the answer is neither JSON nor form-encoded".into()),
    }
}

/// A text field: absent, or a string (anything else is an error).
pub(crate) fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("`{key}` is not a string")),
    }
}

/// A whole number of seconds: a JSON number, or digits in a form-encoded answer.
pub(crate) fn seconds(map: &Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("`{key}` is not a whole number of seconds")),
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s
            .parse()
            .map(Some)
            .map_err(|_| format!("`{key}` is out of range")),
        Some(_) => Err(format!("`{key}` is not a whole number of seconds")),
    }
}

/// RFC 6749 §5.2: an error answer's `error` and `error_description`, whatever the HTTP
/// status (GitHub sends them with 200). `None` when the answer carries no `error`.
pub(crate) fn error_of(map: &Map<String, Value>) -> Option<(String, Option<String>)> {
    let error = text(map, "error").ok().flatten()?;
    // RFC 6749 §5.2: error codes are %x20-21 / %x23-5B / %x5D-7E; anything else is shown
    // shortened, never trusted as markup (the window inserts it as text).
    let error: String = error.chars().filter(|c| !c.is_control()).take(64).collect();
    let description = text(map, "error_description")
        .ok()
        .flatten()
        .map(|d| d.chars().filter(|c| !c.is_control()).take(300).collect());
    Some((error, description))
}
