//! Fetching the profile picture once, in the core, with size and type limits, so the
//! webview never talks to the network and gets only a `data:` URL.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openidconnect::HttpRequest;
use url::Url;

use crate::Error;
use crate::http::{HttpClient, PICTURE_LIMIT, is_allowed_url};

/// The image types we accept, by their magic bytes. SVG is never accepted: it is a document
/// that can carry script.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Download the picture and return it as a `data:` URL.
pub async fn fetch_picture(http: &HttpClient, url: &str) -> Result<String, Error> {
    let url = Url::parse(url).map_err(|_| Error::Picture("not a URL".into()))?;
    if !is_allowed_url(&url) {
        return Err(Error::Picture("the picture URL must use https".into()));
    }
    let request = HttpRequest::new(Vec::new());
    let (mut parts, body) = request.into_parts();
    parts.method = openidconnect::http::Method::GET;
    parts.uri = url
        .as_str()
        .parse()
        .map_err(|_| Error::Picture("not a URL".into()))?;
    parts.headers.insert(
        openidconnect::http::header::ACCEPT,
        openidconnect::http::HeaderValue::from_static("image/png,image/jpeg,image/webp,image/gif"),
    );
    let response = http
        .with_body_limit(PICTURE_LIMIT)
        .execute(HttpRequest::from_parts(parts, body))
        .await
        .map_err(|e| Error::Picture(e.to_string()))?;
    if !response.status().is_success() {
        return Err(Error::Picture(format!("HTTP {}", response.status())));
    }
    let mime = sniff_image(response.body())
        .ok_or_else(|| Error::Picture("not a PNG, JPEG, GIF or WebP image".into()))?;
    Ok(format!(
        "data:{mime};base64,{}",
        STANDARD.encode(response.body())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_only_raster_images() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_image(b"GIF89a.."), Some("image/gif"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(
            sniff_image(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            None
        );
        assert_eq!(sniff_image(b"<html>"), None);
        assert_eq!(sniff_image(b""), None);
    }
}
