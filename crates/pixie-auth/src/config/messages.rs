//! Mistakes in the providers file, said where they are and how to fix them: the line and
//! column of a byte offset, the field a message is about, and "did you mean" for a misspelt
//! field.

use url::Url;

use crate::http::is_allowed_url;

/// RFC 9700 §2.6 / RFC 8252 §8.3: https, or plain http on loopback only.
pub(super) fn check_url(s: &str) -> Result<(), String> {
    match Url::parse(s) {
        Ok(u) if is_allowed_url(&u) => Ok(()),
        Ok(_) => Err("must use https (plain http only on loopback)".into()),
        Err(e) => Err(format!("not a URL: {e}")),
    }
}

pub(super) fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The key written on the line where a value error points.
pub(super) fn key_on_line(text: &str, line: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    let (key, _) = l.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_owned())
}

/// The field a serde message names (`unknown field `x``, `missing field `x``).
pub(super) fn field_in(message: &str) -> Option<String> {
    if !(message.starts_with("unknown field") || message.starts_with("missing field")) {
        return None;
    }
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_owned())
}

/// Edit distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// serde's "unknown field `x`, expected one of `a`, `b`, …" made short: the nearest name
/// when there is one, else the list.
pub(super) fn friendlier(message: &str, field: Option<&str>) -> String {
    let (Some(field), Some((_, expected))) = (field, message.split_once("expected")) else {
        return message.to_owned();
    };
    if !message.starts_with("unknown field") {
        return message.to_owned();
    }
    let names: Vec<&str> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|n| !n.is_empty())
        .collect();
    match names.iter().min_by_key(|n| distance(field, n)) {
        Some(best) if distance(field, best) <= 3 => {
            format!("unknown field; did you mean `{best}`?")
        }
        _ => format!("unknown field; the fields are {}", names.join(", ")),
    }
}
