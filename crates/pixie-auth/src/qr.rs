//! A QR code of the verification URI (RFC 8628 §3.3.1: "the authorization server MAY provide
//! a … QR code" and the client may render `verification_uri_complete` as one), made in the
//! core as a PNG `data:` URL so the window needs nothing but `img-src data:`.

use base64::Engine;
use image::{ImageBuffer, ImageFormat, Luma};
use qrcode::{Color, EcLevel, QrCode};

/// Pixels per QR module: crisp on HiDPI, still a small image.
const SCALE: u32 = 8;
/// The quiet zone around the code, in modules (ISO/IEC 18004 §6.3.8: 4 modules).
const QUIET: u32 = 4;
/// Longest text put in a code. Verification URIs are a few dozen characters.
pub const MAX_QR_TEXT: usize = 512;

/// `text` as a black-on-white QR code (error correction M, ~15 %), as a
/// `data:image/png;base64,…` URL; `None` when it is empty or too long to scan well.
pub fn qr_png_data_url(text: &str) -> Option<String> {
    if text.is_empty() || text.len() > MAX_QR_TEXT {
        return None;
    }
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let modules = u32::try_from(code.width()).ok()?;
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let image = ImageBuffer::<Luma<u8>, Vec<u8>>::from_fn(side, side, |x, y| {
        let (mx, my) = (x / SCALE, y / SCALE);
        let dark = mx >= QUIET
            && my >= QUIET
            && mx < modules + QUIET
            && my < modules + QUIET
            && colors.get(((my - QUIET) * modules + (mx - QUIET)) as usize) == Some(&Color::Dark);
        Luma([if dark { 0 } else { 255 }])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    image.write_to(&mut png, ImageFormat::Png).ok()?;
    Some(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png.into_inner())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decode a data URL made above back to its text (with `rqrr`, an independent decoder).
    pub(crate) fn decode(data_url: &str) -> String {
        let b64 = data_url.strip_prefix("data:image/png;base64,").unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let img = image::load_from_memory_with_format(&png, ImageFormat::Png)
            .unwrap()
            .to_luma8();
        let (w, h) = img.dimensions();
        let mut prepared =
            rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
                img.get_pixel(x as u32, y as u32)[0]
            });
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        grids[0].decode().unwrap().1
    }

    #[test]
    fn the_code_decodes_to_the_uri() {
        for uri in [
            "https://example.com/device?user_code=WDJB-MJHT",
            "http://127.0.0.1:43121/device?user_code=BDWP-HQPK",
            "https://microsoft.com/devicelogin",
        ] {
            let url = qr_png_data_url(uri).unwrap();
            assert_eq!(decode(&url), uri);
        }
        assert!(qr_png_data_url("").is_none());
        assert!(qr_png_data_url(&"x".repeat(MAX_QR_TEXT + 1)).is_none());
    }
}
