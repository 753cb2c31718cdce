//! Resizing a picture for a model's input. The detector sees every picture shrunk to its
//! 320 or 640 input, several times per document side (the page, closer looks, the turn
//! check): with the `image` crate's scalar filter that resize was a quarter of a match's
//! time. `fast_image_resize` does the same triangle (bilinear) convolution with SIMD.

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::imageops;
use image::RgbImage;

/// `image` resized to `width`×`height` with a triangle filter as wide as the scale needs
/// (every source pixel contributes when shrinking), like `imageops::resize` with
/// `FilterType::Triangle`.
pub fn resized(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    let mut out = RgbImage::new(width.max(1), height.max(1));
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    match Resizer::new().resize(image, &mut out, &options) {
        Ok(()) => out,
        // Only for sizes the SIMD resizer refuses (an empty source): the scalar filter.
        Err(_) => {
            imageops::resize(image, width.max(1), height.max(1), imageops::FilterType::Triangle)
        }
    }
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
    fn keeps_a_flat_picture_flat() {
        let image = RgbImage::from_pixel(300, 200, Rgb([10, 200, 90]));
        let out = resized(&image, 97, 61);
        assert!(out.pixels().all(|p| *p == Rgb([10, 200, 90])));
    }
}
