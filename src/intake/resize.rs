//! Resizing a picture for a model's input. The detector sees every picture shrunk to its
//! 320 or 640 input, several times per document side (the page, closer looks, the turn
//! check): with the `image` crate's scalar filter that resize was a quarter of a match's
//! time. `fast_image_resize` does the same triangle (bilinear) convolution with SIMD.
//!
//! Large pictures (a phone's 12-megapixel photo brought to the working size, each kiosk
//! camera frame brought to the preview's) are shrunk with the same filter. The resizer keeps
//! an intermediate image the source's width by the output's height (28 MB for a 12-megapixel
//! photo brought to 3072 px in one go), so they are given to it a band of output rows at a
//! time.

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::imageops;
use image::RgbImage;

/// Output rows per call in [`shrunk_in_bands`]: the intermediate then holds the source's
/// width for 64 rows (0.8 MB for a 4032-pixel-wide photo).
const BAND_ROWS: usize = 64;

/// `image` resized to `width`×`height` with a triangle filter as wide as the scale needs
/// (every source pixel contributes when shrinking), like `imageops::resize` with
/// `FilterType::Triangle`.
pub fn resized(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (width, height) = (width.max(1), height.max(1));
    let mut out = RgbImage::new(width, height);
    match Resizer::new().resize(image, &mut out, &triangle()) {
        Ok(()) => out,
        // Only for sizes the SIMD resizer refuses (an empty source): the scalar filter.
        Err(_) => scalar(image, width, height),
    }
}

/// `image` shrunk to `width`×`height` with the same filter as [`resized`], a band of output
/// rows at a time, so that the working memory beside the two pictures is [`BAND_ROWS`] rows of
/// the source's width, not the output's whole height. The bands join as one resize would, to a
/// level at most.
pub fn shrunk_in_bands(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (width, height) = (width.max(1), height.max(1));
    let mut out = RgbImage::new(width, height);
    match resize_bands_into(image, &mut out) {
        Ok(()) => out,
        Err(_) => scalar(image, width, height),
    }
}

/// Fills `out` band by band: each band is the part of `image` its rows cover, resized with the
/// filter reaching into the rows around that part, so the bands join as one resize would.
fn resize_bands_into(image: &RgbImage, out: &mut RgbImage) -> Result<(), String> {
    let (width, height) = out.dimensions();
    let source_rows = f64::from(image.height());
    let scale = source_rows / f64::from(height);
    let row_bytes = width as usize * 3;
    let mut resizer = Resizer::new();
    for (band, pixels) in out.chunks_mut(BAND_ROWS * row_bytes).enumerate() {
        let rows = pixels.len() / row_bytes;
        let top = (band * BAND_ROWS) as f64 * scale;
        let covered = (rows as f64 * scale).min(source_rows - top);
        let options = triangle().crop(0.0, top, f64::from(image.width()), covered);
        let mut view = Image::from_slice_u8(width, rows as u32, pixels, PixelType::U8x3)
            .map_err(|e| e.to_string())?;
        resizer.resize(image, &mut view, &options).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The `image` crate's scalar triangle filter: what the SIMD resizer's refusals fall back to.
fn scalar(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    imageops::resize(image, width, height, imageops::FilterType::Triangle)
}

/// The SIMD resizer's triangle convolution, its kernel widened with the scale.
fn triangle() -> ResizeOptions {
    ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// A picture with detail at every scale: a gradient crossed by a fine checkerboard.
    fn detailed(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| {
            let check = if (x / 3 + y / 3) % 2 == 0 { 60 } else { 0 };
            Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, check + (x % 7) as u8 * 20])
        })
    }

    #[test]
    fn shrinks_like_the_scalar_triangle_filter() {
        let image = detailed(910, 1137);
        let (w, h) = (256, 320);
        let ours = resized(&image, w, h);
        let scalar = imageops::resize(&image, w, h, imageops::FilterType::Triangle);
        assert_eq!(ours.dimensions(), (w, h));
        let worst =
            ours.as_raw().iter().zip(scalar.as_raw()).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
        // Fixed-point weights against f32 ones: a level or two apart, never a different picture.
        assert!(worst <= 2, "largest difference {worst} levels");
    }

    #[test]
    fn the_bands_join_as_one_resize() {
        // Several bands and a short last one; a size whose band edges round differently.
        for (source, (w, h)) in [((1000, 1411), (437, 617)), ((1280, 811), (640, 406))] {
            let image = detailed(source.0, source.1);
            let banded = shrunk_in_bands(&image, w, h);
            let whole = resized(&image, w, h);
            assert_eq!(banded.dimensions(), (w, h));
            let worst = banded
                .as_raw()
                .iter()
                .zip(whole.as_raw())
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap();
            assert!(worst <= 1, "{w}x{h}: largest difference {worst} levels");
        }
    }

    #[test]
    fn keeps_a_flat_picture_flat() {
        let image = RgbImage::from_pixel(300, 200, Rgb([10, 200, 90]));
        for out in [resized(&image, 97, 61), shrunk_in_bands(&image, 97, 61)] {
            assert!(out.pixels().all(|p| *p == Rgb([10, 200, 90])));
        }
    }
}
