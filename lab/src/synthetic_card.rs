//! A synthetic ID card printer: puts a face photo onto a card image at document
//! scale, then degrades it the way a printed, re-photographed card is degraded
//! (halftone-like blur, JPEG loss, colour cast).
//!
//! The specimen documents in `../shared/documents` belong to no one in
//! `../shared/faces`, so genuine selfie-vs-document pairs are built with this.

use image::{imageops, Rgb, RgbImage};

use facematch::domain::FaceBox;

/// Card size in pixels: ID-1 (85.6 × 54 mm) at about 250 dpi.
pub const CARD_SIZE: (u32, u32) = (856, 540);
/// Photo box on the card: 34 × 44 mm at the same resolution, so a face prints 70-110 px wide.
pub const PHOTO_SIZE: (u32, u32) = (176, 228);

/// Photo box of the Aadhaar-like style: 11 × 14 mm, a face 40-65 px wide on the card.
pub const SMALL_PHOTO_SIZE: (u32, u32) = (110, 142);

/// How the holder's photo is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardStyle {
    /// A colour photo in a 34 × 44 mm box (passport-style ID).
    Standard,
    /// A small greyscale photo of low contrast, as on Aadhaar print-outs and PVC cards.
    SmallGreyscale,
}

/// A small deterministic random source (splitmix64), so a seed always draws the same card.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    pub(crate) fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (self.next() >> 40) as f32 / (1u64 << 24) as f32 * (hi - lo)
    }
}

/// The passport-style portrait around a detected face: a 3:4 crop where the
/// face box takes about 55 % of the width. Where the crop reaches past the
/// photo (tight face crops), a plain light background fills in, as on an ID photo.
pub fn portrait_crop(photo: &RgbImage, face: &FaceBox) -> RgbImage {
    let w = (face.w / 0.55).max(face.h * 0.75 / 0.7).max(8.0);
    let h = w * 4.0 / 3.0;
    let x = face.x + face.w / 2.0 - w / 2.0;
    let y = face.y + face.h * 0.45 - h / 2.0;
    let mut out = RgbImage::from_pixel(w as u32, h as u32, Rgb([222, 226, 230]));
    imageops::replace(&mut out, photo, -(x.round() as i64), -(y.round() as i64));
    out
}

/// A portrait of the holder with a second person partly in the picture at the right edge,
/// nearer the camera than the holder (their face is drawn 10 % larger) and about a third of
/// their face cut off by the photo's edge: what the largest-face rule gets wrong.
pub fn portrait_with_bystander(
    holder: &RgbImage,
    holder_face: &FaceBox,
    other: &RgbImage,
    other_face: &FaceBox,
) -> RgbImage {
    let width = holder_face.w / 0.42;
    let height = width * 4.0 / 3.0;
    let mut out = RgbImage::from_pixel(width as u32, height as u32, Rgb([222, 226, 230]));
    let hx = holder_face.x + holder_face.w / 2.0 - 0.36 * width;
    let hy = holder_face.y + holder_face.h * 0.45 - 0.45 * height;
    imageops::replace(&mut out, holder, -(hx.round() as i64), -(hy.round() as i64));

    let scale = 1.1 * holder_face.w / other_face.w.max(1.0);
    let other = imageops::resize(
        other,
        ((other.width() as f32 * scale) as u32).max(1),
        ((other.height() as f32 * scale) as u32).max(1),
        imageops::FilterType::Triangle,
    );
    let face_w = other_face.w * scale;
    // Face centre so that 35 % of the face lies beyond the right edge.
    let (cx, cy) = (width - 0.15 * face_w, 0.42 * height);
    let (fx, fy) = other_face.centre();
    let (ox, oy) = (fx * scale - cx, fy * scale - cy);
    let split = (width - 0.68 * face_w).max(0.0) as u32;
    for y in 0..out.height() {
        for x in split..out.width() {
            let (sx, sy) = (x as f32 + ox, y as f32 + oy);
            if sx >= 0.0 && sy >= 0.0 && (sx as u32) < other.width() && (sy as u32) < other.height()
            {
                out.put_pixel(x, y, *other.get_pixel(sx as u32, sy as u32));
            }
        }
    }
    out
}

/// Prints `portrait` on a card drawn from `seed` and returns the card as JPEG bytes
/// (quality 55-80, blurred first): a card as a flatbed scanner delivers it.
pub fn print_card(portrait: &RgbImage, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    let (card, _) = draw_card(portrait, &mut rng, CardStyle::Standard);
    let blurred = imageops::blur(&card, rng.range(0.6, 1.3));
    let quality = rng.range(55.0, 80.0) as u8;
    encode_jpeg(&blurred, quality)
}

/// The card itself, before any scanner or camera sees it, and the photo's box on it.
pub(crate) fn draw_card(
    portrait: &RgbImage,
    rng: &mut Rng,
    style: CardStyle,
) -> (RgbImage, FaceBox) {
    let (cw, ch) = CARD_SIZE;
    let base = [rng.range(200.0, 245.0), rng.range(205.0, 245.0), rng.range(200.0, 240.0)];
    let band = [rng.range(20.0, 120.0), rng.range(40.0, 140.0), rng.range(90.0, 180.0)];
    let (fx, fy) = (rng.range(0.02, 0.06), rng.range(0.02, 0.06));
    let mut card = RgbImage::from_fn(cw, ch, |x, y| {
        if y < 80 {
            return Rgb(band.map(|c| c as u8));
        }
        // A guilloche-like wave pattern over a pastel ground.
        let wave = ((x as f32 * fx).sin() * (y as f32 * fy).cos() * 12.0) as i32;
        Rgb(base.map(|c| (c as i32 + wave).clamp(0, 255) as u8))
    });

    let (pw, ph) = match style {
        CardStyle::Standard => PHOTO_SIZE,
        CardStyle::SmallGreyscale => SMALL_PHOTO_SIZE,
    };
    let mut fitted = imageops::resize(portrait, pw, ph, imageops::FilterType::Triangle);
    if style == CardStyle::SmallGreyscale {
        // Grey, with the washed-out contrast of a laser print.
        for p in fitted.pixels_mut() {
            let luma = 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]);
            let v = (60.0 + luma * 0.7) as u8;
            *p = Rgb([v, v, v]);
        }
    }
    let (px, py) = (rng.range(30.0, 60.0) as i64, rng.range(110.0, 150.0) as i64);
    imageops::replace(&mut card, &fitted, px, py);

    // Text lines: dark bars of random length right of the photo.
    let ink = Rgb([30, 30, 40]);
    let mut y = py as u32;
    while y + 18 < ch - 30 {
        let len = rng.range(120.0, 520.0) as u32;
        for yy in y..y + 14 {
            for xx in 280..(280 + len).min(cw - 20) {
                card.put_pixel(xx, yy, ink);
            }
        }
        y += rng.range(30.0, 50.0) as u32;
    }

    let cast = [rng.range(0.9, 1.1), rng.range(0.9, 1.1), rng.range(0.9, 1.1)];
    for p in card.pixels_mut() {
        for c in 0..3 {
            p[c] = (f32::from(p[c]) * cast[c]).clamp(0.0, 255.0) as u8;
        }
    }
    let photo = FaceBox { x: px as f32, y: py as f32, w: pw as f32, h: ph as f32 };
    (card, photo)
}

/// JPEG bytes of a generated picture, through the device's one encoder
/// ([`facematch::intake::encode_jpeg`]), so the lab's cards and frames are encoded exactly as
/// the kiosk encodes what it records.
///
/// # Panics
/// Never for the lab's pictures: they are a few thousand pixels a side at most, far inside
/// JPEG's 65535, the one limit the encoder enforces on an in-memory RGB picture.
pub fn encode_jpeg(image: &RgbImage, quality: u8) -> Vec<u8> {
    facematch::intake::encode_jpeg(image, quality)
        .expect("a generated picture is far inside JPEG's 65535-pixel sides")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_card_and_document_scale() {
        let portrait =
            RgbImage::from_fn(300, 400, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let a = print_card(&portrait, 7);
        assert_eq!(a, print_card(&portrait, 7));
        assert_ne!(a, print_card(&portrait, 8));
        let card = image::load_from_memory(&a).unwrap();
        assert_eq!((card.width(), card.height()), CARD_SIZE);
    }

    #[test]
    fn portrait_crop_centres_the_face_and_stays_inside() {
        let photo = RgbImage::from_pixel(1000, 800, Rgb([0, 0, 0]));
        let face = FaceBox { x: 400.0, y: 300.0, w: 110.0, h: 140.0 };
        let crop = portrait_crop(&photo, &face);
        assert_eq!((crop.width(), crop.height()), (200, 266));
        assert_eq!(crop.get_pixel(100, 100), &Rgb([0, 0, 0]));
        // A face filling a tight crop: the portrait is wider than the photo and padded.
        let tight = RgbImage::from_pixel(300, 300, Rgb([0, 0, 0]));
        let padded = portrait_crop(&tight, &FaceBox { x: 0.0, y: 0.0, w: 300.0, h: 300.0 });
        assert_eq!(padded.width(), 545);
        assert_eq!(padded.get_pixel(5, 5), &Rgb([222, 226, 230]));
        assert_eq!(padded.get_pixel(272, 300), &Rgb([0, 0, 0]));
    }
}
