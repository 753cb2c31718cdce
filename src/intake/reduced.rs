//! Large pictures decoded within a memory budget. A 10 MB file can declare tens of
//! megapixels (a flat-colour 12000×4000 JPEG is 280 KB); decoding that at full size costs
//! 144 MB before anything is done with it. Nothing downstream needs that many pixels (the
//! detector sees 640×640, the embedder a 112×112 crop), so such files are decoded straight
//! to a smaller size: JPEG by scaling in the DCT (1/2, 1/4 or 1/8 per side), PNG row by row
//! into a box-filtered image. Every picture, decoded this way or not, is then kept to at
//! most [`WORKING_SIDE`] pixels on its longest side.

use std::borrow::Cow;
use std::io::Cursor;

use image::RgbImage;

/// The longest side of a picture as the pipeline works on it. The contract's box ratios
/// are unchanged by the scale; the stored file stays the original.
pub const WORKING_SIDE: u32 = 3072;

/// Pictures above this many pixels are decoded at reduced size.
pub const REDUCED_ABOVE: u64 = 16_000_000;

/// `pixels` shrunk so that its longest side is at most [`WORKING_SIDE`].
pub fn to_working_size(pixels: RgbImage) -> RgbImage {
    match shrunk(&pixels, WORKING_SIDE) {
        Cow::Borrowed(_) => pixels,
        Cow::Owned(smaller) => smaller,
    }
}

/// The image itself when its longest side is at most `longest`, else a copy shrunk to it
/// (the working size here, the detector's padding retry, the kiosk's preview).
pub fn shrunk(image: &RgbImage, longest: u32) -> Cow<'_, RgbImage> {
    let (w, h) = image.dimensions();
    if w.max(h) <= longest {
        return Cow::Borrowed(image);
    }
    let scale = f64::from(longest) / f64::from(w.max(h));
    let size = |side: u32| ((f64::from(side) * scale).round() as u32).max(1);
    Cow::Owned(super::resize::shrunk_in_bands(image, size(w), size(h)))
}

/// A JPEG decoded with DCT scaling to the smallest size whose longest side still reaches
/// half of [`WORKING_SIDE`], as RGB. (The decoder's own buffers are twice its output, so
/// the smaller scale matters most for the largest files.)
///
/// # Errors
/// The decoder's message.
pub fn jpeg(bytes: &[u8], width: u32, height: u32) -> Result<RgbImage, String> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    let factor = (f64::from(WORKING_SIDE / 2) / f64::from(width.max(height))).min(1.0);
    let want = |side: u32| ((f64::from(side) * factor).ceil() as u16).max(1);
    let (w, h) = decoder.scale(want(width), want(height)).map_err(|e| e.to_string())?;
    let data = decoder.decode().map_err(|e| e.to_string())?;
    let info = decoder.info().ok_or("no frame information")?;
    let (w, h) = (u32::from(w), u32::from(h));
    let rgb: Vec<u8> = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => data,
        jpeg_decoder::PixelFormat::L8 => data.iter().flat_map(|&v| [v, v, v]).collect(),
        jpeg_decoder::PixelFormat::L16 => {
            data.chunks_exact(2).flat_map(|v| [v[0], v[0], v[0]]).collect()
        }
        jpeg_decoder::PixelFormat::CMYK32 => data
            .chunks_exact(4)
            .flat_map(|p| {
                let k = u16::from(255 - p[3]);
                [0, 1, 2].map(|i| ((u16::from(255 - p[i]) * k) / 255) as u8)
            })
            .collect(),
    };
    RgbImage::from_raw(w, h, rgb).ok_or_else(|| "the decoded size is not the declared one".into())
}

/// A non-interlaced PNG decoded row by row into an image `factor` times smaller per side
/// (each output pixel the mean of a factor×factor block), as RGB. `None` for an interlaced
/// PNG, whose rows do not arrive in order.
///
/// # Errors
/// The decoder's message.
pub fn png(bytes: &[u8]) -> Result<Option<RgbImage>, String> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    if reader.info().interlaced {
        return Ok(None);
    }
    let (width, height) = (reader.info().width, reader.info().height);
    let factor = width.max(height).div_ceil(WORKING_SIDE).max(1);
    let (out_w, out_h) = (width.div_ceil(factor), height.div_ceil(factor));
    let channels = match reader.output_color_type().0 {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err("an indexed PNG was not expanded".into()),
    };
    // Sums of one band of `factor` rows, per output pixel and colour.
    let mut sums = vec![0u32; out_w as usize * 3];
    let mut counts = vec![0u32; out_w as usize];
    let mut out = Vec::with_capacity(out_w as usize * out_h as usize * 3);
    let mut row_index = 0u32;
    let block = factor as usize * channels;
    while let Some(row) = reader.next_row().map_err(|e| e.to_string())? {
        // One output column at a time: its `factor` source pixels are one contiguous slice.
        for (o, source) in row.data().chunks(block).enumerate() {
            let (mut r, mut g, mut b) = (0u32, 0u32, 0u32);
            for pixel in source.chunks_exact(channels) {
                let (pr, pg, pb) = if channels < 3 {
                    (pixel[0], pixel[0], pixel[0])
                } else {
                    (pixel[0], pixel[1], pixel[2])
                };
                r += u32::from(pr);
                g += u32::from(pg);
                b += u32::from(pb);
            }
            sums[o * 3] += r;
            sums[o * 3 + 1] += g;
            sums[o * 3 + 2] += b;
            counts[o] += (source.len() / channels) as u32;
        }
        row_index += 1;
        if row_index.is_multiple_of(factor) || row_index == height {
            for (o, &n) in counts.iter().enumerate() {
                for c in 0..3 {
                    out.push((sums[o * 3 + c] / n.max(1)) as u8);
                }
            }
            sums.fill(0);
            counts.fill(0);
        }
    }
    if row_index != height {
        return Err(format!("the image data ends after {row_index} of {height} rows"));
    }
    Ok(RgbImage::from_raw(out_w, out_h, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgb};

    #[test]
    fn pictures_shrink_to_their_longest_side_and_small_ones_stay() {
        assert_eq!(shrunk(&RgbImage::new(1280, 720), 640).dimensions(), (640, 360));
        assert!(matches!(shrunk(&RgbImage::new(300, 200), 640), Cow::Borrowed(_)));
        assert_eq!(to_working_size(RgbImage::new(6144, 1000)).dimensions(), (3072, 500));
    }

    #[test]
    fn large_pictures_come_out_at_working_size_with_their_content() {
        // A 9000x3000 picture, left half red, right half blue.
        let big = RgbImage::from_fn(9000, 3000, |x, _| {
            if x < 4500 {
                Rgb([200, 0, 0])
            } else {
                Rgb([0, 0, 200])
            }
        });
        let mut jpeg_bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg_bytes, 80)
            .encode_image(&big)
            .unwrap();
        let mut png_bytes = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png_bytes)
            .write_image(big.as_raw(), 9000, 3000, image::ExtendedColorType::Rgb8)
            .unwrap();
        let from_jpeg = to_working_size(jpeg(&jpeg_bytes, 9000, 3000).unwrap());
        let from_png = to_working_size(png(&png_bytes).unwrap().unwrap());
        assert_eq!(from_jpeg.dimensions(), (2250, 750), "1/4 in the DCT");
        assert_eq!(from_png.dimensions(), (3000, 1000), "3x3 blocks");
        for (name, p) in [("jpeg", from_jpeg), ("png", from_png)] {
            let (w, h) = p.dimensions();
            let left = p.get_pixel(w / 40, h / 2);
            let right = p.get_pixel(w - w / 40, h / 2);
            assert!(left[0] > 150 && left[2] < 50, "{name}: {left:?}");
            assert!(right[2] > 150 && right[0] < 50, "{name}: {right:?}");
        }
    }
}
