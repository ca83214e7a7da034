//! A generated avatar per user: a symmetric 5×5 pattern in a colour taken from the subject,
//! like the identicons code hosts give new accounts. PNG, 160×160.

use sha2::{Digest, Sha256};

const SIZE: u32 = 160;
const CELLS: u32 = 5;
const MARGIN: u32 = 20;

fn hsl_to_rgb(h: f32, s: f32, l: f32) -> [u8; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    [r, g, b].map(|v| ((v + m) * 255.0).round() as u8)
}

/// PNG bytes of the avatar for `seed` (the subject identifier).
pub fn avatar_png(seed: &str) -> Vec<u8> {
    let hash = Sha256::digest(seed.as_bytes());
    let hue = f32::from(u16::from_be_bytes([hash[0], hash[1]]) % 360);
    let fg = hsl_to_rgb(hue, 0.55, 0.52);
    let bg = hsl_to_rgb(hue, 0.35, 0.93);
    // 15 bits decide the left three columns; the right two mirror them.
    let bits = u32::from_be_bytes([hash[2], hash[3], hash[4], hash[5]]);
    let on = |col: u32, row: u32| {
        let c = if col > 2 { CELLS - 1 - col } else { col };
        bits >> (c * CELLS + row) & 1 == 1
    };
    let cell = (SIZE - 2 * MARGIN) / CELLS;
    let mut pixels = Vec::with_capacity((SIZE * SIZE * 3) as usize);
    for y in 0..SIZE {
        for x in 0..SIZE {
            let inside =
                (MARGIN..SIZE - MARGIN).contains(&x) && (MARGIN..SIZE - MARGIN).contains(&y);
            let lit = inside && on((x - MARGIN) / cell, (y - MARGIN) / cell);
            pixels.extend_from_slice(if lit { &fg } else { &bg });
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, SIZE, SIZE);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        // Writing into a Vec cannot fail for a well-formed header and full frame.
        if let Ok(mut writer) = encoder.write_header() {
            let _ = writer.write_image_data(&pixels);
        }
    }
    out
}

/// A black 1-bit PNG of `width`×`height`: a few kilobytes that decode to as many pixels as
/// asked (the `picture-huge-dimensions` fault).
#[cfg(feature = "faults")]
pub(crate) fn blank_png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        encoder.set_compression(png::Compression::Fast);
        let row = width.div_ceil(8) as usize;
        if let Ok(mut writer) = encoder.write_header() {
            let _ = writer.write_image_data(&vec![0u8; row * height as usize]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_png_and_differs_per_user() {
        let a = avatar_png("ada");
        let b = avatar_png("grace");
        assert!(a.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_ne!(a, b);
        let decoder = png::Decoder::new(std::io::Cursor::new(&a));
        let reader = decoder.read_info().unwrap();
        assert_eq!(reader.info().width, SIZE);
    }
}
