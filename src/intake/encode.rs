//! Pictures → JPEG bytes: the device's one JPEG encoder (`jpeg-encoder`, SIMD on x86-64). The
//! kiosk's evidence (the log's pictures), the frames `kiosk --capture-sessions` writes and the
//! lab's generated cards and sessions all go through [`encode_jpeg`], which fails with an
//! [`EncodeError`] instead of panicking: a kiosk must never go down over one bad frame, and a
//! truncated picture must never be stored as if it were whole.

use image::RgbImage;

/// Why a picture could not be encoded as JPEG.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// A side is over JPEG's limit.
    #[error("{width}×{height} pixels: JPEG sides end at 65535")]
    TooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The encoder refused the picture.
    #[error("{0}")]
    Encoder(#[from] jpeg_encoder::EncodingError),
}

/// Encodes an RGB picture as a baseline JPEG at `quality` (1-100).
///
/// # Errors
/// A side over 65535 pixels, or the encoder's own error.
pub fn encode_jpeg(pixels: &RgbImage, quality: u8) -> Result<Vec<u8>, EncodeError> {
    let (width, height) = pixels.dimensions();
    let too_large = || EncodeError::TooLarge { width, height };
    let w = u16::try_from(width).map_err(|_| too_large())?;
    let h = u16::try_from(height).map_err(|_| too_large())?;
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, quality).encode(
        pixels.as_raw(),
        w,
        h,
        jpeg_encoder::ColorType::Rgb,
    )?;
    Ok(jpeg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unencodable_frame_is_an_error_not_an_empty_picture() {
        assert!(encode_jpeg(&RgbImage::new(70_000, 1), 90).is_err(), "JPEG sides end at 65535");
        let jpeg = encode_jpeg(&RgbImage::new(8, 8), 90).unwrap();
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    }
}
