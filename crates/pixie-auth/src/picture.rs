//! Fetching the profile picture once, in the core, with size and type limits, so the
//! webview never talks to the network and gets only a `data:` URL: a PNG Pixie wrote itself,
//! at most [`KEPT_SIZE`] pixels a side, never the provider's original bytes.

use std::io::Cursor;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use url::Url;

use crate::Error;
use crate::http::{HttpClient, PICTURE_LIMIT, Request, is_allowed_url};
use crate::proxy::is_loopback_host;

/// Largest width and height decoded, read from the image header before decoding.
pub const MAX_DIMENSION: u32 = 4096;
/// The side of the copy kept: the window shows the picture at 96 CSS px, twice that for HiDPI.
pub const KEPT_SIZE: u32 = 192;

/// The image types we accept, by their magic bytes. SVG is never accepted: it is a document
/// that can carry script.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    sniff_format(bytes).map(|f| f.to_mime_type())
}

fn sniff_format(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::WebP)
    } else {
        None
    }
}

/// Where a picture may come from: a provider on the network must not make Pixie send a
/// request to a service on this computer (a blind GET whose status and timing would show in
/// the flow trace). RFC 9700 §2.6 / RFC 8252 §8.3: https, plain http on loopback only; and
/// loopback only when the issuer itself is on loopback (a local development provider).
pub fn check_picture_url(url: &Url, issuer: &str) -> Result<(), Error> {
    if !is_allowed_url(url) {
        return Err(Error::Picture("the picture URL must use https".into()));
    }
    let issuer_is_local = Url::parse(issuer).is_ok_and(|i| is_loopback_host(&i));
    if is_loopback_host(url) && !issuer_is_local {
        return Err(Error::Picture(
            "a provider on the network may not point at this computer".into(),
        ));
    }
    Ok(())
}

/// Decode a picture (its dimensions checked from the header first), scale it down to at
/// most [`KEPT_SIZE`] a side, and write it as PNG.
pub fn shrink_picture(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let format = sniff_format(bytes)
        .ok_or_else(|| Error::Picture("not a PNG, JPEG, GIF or WebP image".into()))?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    // One RGBA frame at the largest size, and room for the scaled copy.
    limits.max_alloc = Some(u64::from(MAX_DIMENSION) * u64::from(MAX_DIMENSION) * 4 + (8 << 20));
    reader.limits(limits);
    let too_big = || {
        Error::Picture(format!(
            "the picture is larger than {MAX_DIMENSION}×{MAX_DIMENSION} pixels"
        ))
    };
    let decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => too_big(),
        other => Error::Picture(format!("the picture could not be read: {other}")),
    })?;
    let (width, height) = decoder.dimensions();
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(too_big());
    }
    if width == 0 || height == 0 {
        return Err(Error::Picture("the picture is empty".into()));
    }
    let image = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => too_big(),
        other => Error::Picture(format!("the picture could not be read: {other}")),
    })?;
    let image = if width.max(height) > KEPT_SIZE {
        image.thumbnail(KEPT_SIZE, KEPT_SIZE)
    } else {
        image
    };
    let mut png = Vec::new();
    DynamicImage::ImageRgba8(image.to_rgba8())
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|e| Error::Picture(format!("the picture could not be written: {e}")))?;
    Ok(png)
}

/// Download the picture of an account at `issuer` and return the kept copy as a `data:` URL.
pub async fn fetch_picture(http: &HttpClient, url: &str, issuer: &str) -> Result<String, Error> {
    let url = Url::parse(url).map_err(|_| Error::Picture("not a URL".into()))?;
    check_picture_url(&url, issuer)?;
    let request = Request::get(&url)
        .accept("image/png,image/jpeg,image/webp,image/gif")
        .build()
        .map_err(|_| Error::Picture("not a URL".into()))?;
    let response = http
        .with_body_limit(PICTURE_LIMIT)
        .execute(request)
        .await
        .map_err(|e| Error::Picture(e.to_string()))?;
    if !response.status().is_success() {
        return Err(Error::Picture(format!("HTTP {}", response.status())));
    }
    let bytes = response.into_body();
    // Decoding is CPU work: off the async threads.
    let png = tokio::task::spawn_blocking(move || shrink_picture(&bytes))
        .await
        .map_err(|_| Error::Picture("the picture could not be read".into()))??;
    Ok(format!("data:image/png;base64,{}", STANDARD.encode(png)))
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

    #[test]
    fn a_loopback_picture_only_for_a_loopback_issuer() {
        let cases = [
            (
                "https://lh3.googleusercontent.com/a/x=s96-c",
                "https://accounts.google.com",
                true,
            ),
            (
                "http://127.0.0.1:4000/avatar/a.png",
                "http://127.0.0.1:4000",
                true,
            ),
            ("http://localhost:631/admin", "http://127.0.0.1:4000", true),
            (
                "http://127.0.0.1:631/admin",
                "https://accounts.google.com",
                false,
            ),
            ("http://[::1]:8080/", "https://id.example", false),
            ("http://localhost:9200/_cat", "https://id.example", false),
            ("https://localhost:8443/", "https://id.example", false),
            ("https://127.0.0.1/", "https://id.example", false),
            ("http://pictures.example/a.png", "https://id.example", false),
        ];
        for (url, issuer, ok) in cases {
            assert_eq!(
                check_picture_url(&Url::parse(url).unwrap(), issuer).is_ok(),
                ok,
                "{url} for {issuer}"
            );
        }
    }

    fn encoded(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
        let image = DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        }));
        let mut out = Vec::new();
        image.write_to(&mut Cursor::new(&mut out), format).unwrap();
        out
    }

    #[test]
    fn the_kept_copy_is_a_small_png_never_the_original() {
        for (format, w, h, want) in [
            (ImageFormat::Png, 1000, 500, (192, 96)),
            (ImageFormat::Jpeg, 300, 600, (96, 192)),
            (ImageFormat::Gif, 64, 64, (64, 64)),
        ] {
            let original = encoded(w, h, format);
            let kept = shrink_picture(&original).unwrap();
            assert_ne!(kept, original);
            assert_eq!(sniff_image(&kept), Some("image/png"));
            let back = image::load_from_memory(&kept).unwrap();
            assert_eq!((back.width(), back.height()), want, "{format:?}");
        }
    }

    #[test]
    fn dimensions_are_capped_before_decoding() {
        let wide = encoded(MAX_DIMENSION + 1, 1, ImageFormat::Png);
        let e = shrink_picture(&wide).unwrap_err();
        assert!(e.to_string().contains("4096×4096"), "{e}");
        assert!(shrink_picture(&encoded(MAX_DIMENSION, 1, ImageFormat::Png)).is_ok());
        assert!(shrink_picture(b"\x89PNG\r\n\x1a\nnot really").is_err());
    }
}
