//! Image intake: raw bytes → an upright RGB [`Picture`], or a precise reason why not.
//!
//! The contract accepts JPEG and PNG only, at most 10 MB, at least 200×200.
//! The format is sniffed from the bytes (never the file name) and the size
//! limits are checked from the header before any pixel is decoded, so a
//! decompression bomb costs nothing. EXIF orientation is applied, so a phone
//! photo taken sideways reaches the detector upright. Pictures of many megapixels
//! are decoded at reduced size, and every picture is kept to
//! [`reduced::WORKING_SIDE`] pixels on its longest side, so any accepted file
//! costs bounded memory and time.

pub mod encode;
pub mod png_chunks;
pub mod reduced;
pub mod resize;

use std::io::Cursor;

use png_chunks::{PngLayout, MAX_PNG_ANCILLARY_CHUNKS};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::domain::{Picture, PictureFormat};

pub use encode::{encode_jpeg, EncodeError};

/// Largest accepted file: the contract's 10 MB.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// Reads a picture file: at most one byte more than [`MAX_FILE_BYTES`] (so a huge file is
/// refused without reading it all), and only a regular file (a FIFO with no writer, a device
/// or a folder would block or never end).
///
/// # Errors
/// The I/O error, or `InvalidInput` for something that is not a regular file.
pub fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    if !std::fs::metadata(path)?.is_file() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}
/// Smallest accepted side in pixels: the contract's 200×200.
pub const MIN_SIDE: u32 = 200;
/// Largest accepted side: a 10 MB file can legitimately hold a 12000-pixel scan, not more.
pub const MAX_SIDE: u32 = 12_000;
/// Largest accepted pixel count (about 48 MP); beyond it decoding would need
/// hundreds of MB on a 1-4 GB device.
pub const MAX_PIXELS: u64 = 48_000_000;

/// Why a file was refused. Callers branch on it to choose the contract's answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    /// Over [`MAX_FILE_BYTES`].
    #[error("file is {bytes} bytes; the maximum is {MAX_FILE_BYTES} (10 MB)")]
    TooLarge {
        /// File size.
        bytes: usize,
    },
    /// Neither JPEG nor PNG by its leading bytes.
    #[error("not a JPEG or PNG image")]
    NotAnImage,
    /// Sniffed as JPEG/PNG but the data is broken (truncated, corrupt).
    #[error("the {format} data cannot be decoded: {reason}")]
    Undecodable {
        /// `JPEG` or `PNG`.
        format: &'static str,
        /// The decoder's explanation.
        reason: String,
    },
    /// A side under [`MIN_SIDE`].
    #[error("image is {width}x{height}; the minimum is {MIN_SIDE}x{MIN_SIDE}")]
    TooSmall {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// A picture whose decoding would cost more than the budget allows: a JPEG of more than
    /// [`MAX_JPEG_SCANS`] scans, progressive beyond [`MAX_PROGRESSIVE_PIXELS`] or
    /// [`MAX_PROGRESSIVE_SCAN_PIXELS`], an interlaced PNG beyond [`MAX_WHOLE_DECODE_BYTES`].
    #[error("{0}")]
    TooCostly(String),
    /// Declared dimensions beyond [`MAX_SIDE`] / [`MAX_PIXELS`] (a decompression bomb, or a scan far too large).
    #[error("image declares {width}x{height} pixels; the maximum is {MAX_SIDE} per side and {MAX_PIXELS} in all")]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
}

/// The most metadata segments (APPn, COM) a JPEG may have: cameras write a handful, a large
/// colour profile or depth map split in 64 KB pieces some dozens.
pub const MAX_JPEG_SEGMENTS: usize = 256;

/// The most scans a JPEG may have: each scan is a pass over the whole picture, and ordinary
/// progressive files have about ten (libjpeg's default progression: 10 in colour, 6 in grey).
pub const MAX_JPEG_SCANS: usize = 64;

/// The most pixels a progressive JPEG may have: it is decoded whole, its coefficients held in
/// memory (2 bytes a pixel per component) until the last scan, whatever size it is shrunk to.
pub const MAX_PROGRESSIVE_PIXELS: u64 = 16_000_000;

/// The most memory a progressive JPEG's coefficients may take (two bytes each, held until the
/// last scan): 12 MP without chroma subsampling (4:4:4), 16 MP at 4:2:0 or in grey.
pub const MAX_PROGRESSIVE_COEFFICIENT_BYTES: u64 = 72_000_000;

/// The most scans × pixels a progressive JPEG may have: each scan passes over the picture, so
/// its decoding time grows with both. 192 M lets through libjpeg's usual 10 scans (6 in grey)
/// at 16 MP and up to 64 scans at 3 MP.
pub const MAX_PROGRESSIVE_SCAN_PIXELS: u64 = 192_000_000;

/// The most bytes a PNG may take decoded at its own depth (16-bit RGBA is 8 bytes a pixel, a
/// tRNS chunk adds an alpha channel) to be decoded whole; beyond it, or beyond 16 MP, a
/// non-interlaced PNG is shrunk row by row and an interlaced one, whose rows arrive in seven
/// passes, is refused. 48 MB is a 16 MP picture in 8-bit RGB.
pub const MAX_WHOLE_DECODE_BYTES: u64 = 48_000_000;

/// Identifies JPEG or PNG from the first bytes; `None` for anything else.
pub fn sniff(bytes: &[u8]) -> Option<PictureFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(PictureFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(PictureFormat::Png)
    } else {
        None
    }
}

/// What [`inspect`] learned from a file's header: it passed every check that needs no pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspected {
    /// The sniffed format.
    pub format: PictureFormat,
    /// Declared width.
    pub width: u32,
    /// Declared height.
    pub height: u32,
}

/// The `image` crate's format and the name errors use, for a sniffed format.
fn image_format(format: PictureFormat) -> (ImageFormat, &'static str) {
    match format {
        PictureFormat::Jpeg => (ImageFormat::Jpeg, "JPEG"),
        PictureFormat::Png => (ImageFormat::Png, "PNG"),
    }
}

/// Checks what can be checked without decoding a pixel: size, format, declared dimensions,
/// and (JPEG) that the data is not truncated.
///
/// # Errors
/// An [`IntakeError`] naming the first limit the file breaks.
pub fn inspect(bytes: &[u8]) -> Result<Inspected, IntakeError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(IntakeError::TooLarge { bytes: bytes.len() });
    }
    let format = sniff(bytes).ok_or(IntakeError::NotAnImage)?;
    let (image_format, name) = image_format(format);
    // The structure first, from marker and chunk headers alone: the decoders' own header
    // parsing has costs of its own (a JPEG's metadata segments, a PNG's profile).
    let layout = match format {
        PictureFormat::Jpeg => {
            let layout = jpeg_layout(bytes);
            // The JPEG decoder fills a truncated scan with grey instead of failing: refuse it
            // here, or half an upload could still be matched.
            if !layout.complete {
                return Err(IntakeError::Undecodable {
                    format: name,
                    reason: "the file is truncated (no end-of-image marker)".into(),
                });
            }
            layout.within_segment_budget()?;
            Layout::Jpeg(layout)
        }
        PictureFormat::Png => {
            let layout = PngLayout::of(bytes);
            if layout.ancillary > MAX_PNG_ANCILLARY_CHUNKS {
                return Err(IntakeError::TooCostly(format!(
                    "PNG with {} ancillary chunks: at most {MAX_PNG_ANCILLARY_CHUNKS} accepted",
                    layout.ancillary
                )));
            }
            Layout::Png(layout)
        }
    };
    let header = match &layout {
        Layout::Png(png) => png.without_profile(bytes),
        Layout::Jpeg(_) => std::borrow::Cow::Borrowed(bytes),
    };
    let (width, height) = ImageReader::with_format(Cursor::new(&*header), image_format)
        .into_dimensions()
        .map_err(|e| IntakeError::Undecodable { format: name, reason: e.to_string() })?;
    check_dimensions(width, height)?;
    match layout {
        Layout::Jpeg(jpeg) => jpeg.within_budget(width, height)?,
        Layout::Png(png) if png.interlaced => {
            let decoded = png.decoded_bytes(width, height);
            let pixels = u64::from(width) * u64::from(height);
            if decoded > MAX_WHOLE_DECODE_BYTES || pixels > reduced::REDUCED_ABOVE {
                return Err(IntakeError::TooCostly(format!(
                    "interlaced PNG of {width}x{height} ({:.1} MP, {:.0} MB decoded at its depth): \
                     at most {} MP and {} MB accepted for an interlaced picture (it is decoded \
                     whole); send a non-interlaced PNG or a JPEG",
                    pixels as f64 / 1e6,
                    decoded as f64 / 1e6,
                    reduced::REDUCED_ABOVE / 1_000_000,
                    MAX_WHOLE_DECODE_BYTES / 1_000_000
                )));
            }
        }
        Layout::Png(_) => {}
    }
    Ok(Inspected { format, width, height })
}

/// A file's structure as its headers give it.
enum Layout {
    Jpeg(JpegLayout),
    Png(PngLayout),
}

/// Checks the file as [`inspect`] does, then decodes it and applies EXIF orientation.
///
/// # Errors
/// An [`IntakeError`] naming the first limit the file breaks.
pub fn decode(bytes: &[u8]) -> Result<Picture, IntakeError> {
    decode_inspected(bytes, inspect(bytes)?)
}

/// Decodes a file [`inspect`] already passed (its checks are not repeated) and applies
/// EXIF orientation.
///
/// # Errors
/// [`IntakeError::Undecodable`] when the pixel data is broken.
pub fn decode_inspected(bytes: &[u8], inspected: Inspected) -> Result<Picture, IntakeError> {
    let Inspected { format, width, height } = inspected;
    let (image_format, name) = image_format(format);
    let undecodable =
        |e: image::ImageError| IntakeError::Undecodable { format: name, reason: e.to_string() };
    // A PNG's colour profile is never read: decoded without it, so it cannot inflate.
    let png = (format == PictureFormat::Png).then(|| PngLayout::of(bytes));
    let stripped = png.as_ref().map(|layout| layout.without_profile(bytes));
    let bytes = stripped.as_deref().unwrap_or(bytes);
    let reader = || ImageReader::with_format(Cursor::new(bytes), image_format);

    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 8);
    let mut r = reader();
    r.limits(limits);
    let mut decoder = r.into_decoder().map_err(undecodable)?;
    let orientation = decoder.orientation().map_err(undecodable)?;
    let failed = |reason: String| IntakeError::Undecodable { format: name, reason };
    let large = u64::from(width) * u64::from(height) > reduced::REDUCED_ABOVE;
    let whole = |decoder| DynamicImage::from_decoder(decoder).map_err(undecodable);
    let mut image = match format {
        PictureFormat::Jpeg if large => {
            // The whole-picture decoder holds its own copy of the file (and its EXIF): gone
            // before the reduced decoding starts.
            drop(decoder);
            DynamicImage::ImageRgb8(reduced::jpeg(bytes, width, height).map_err(failed)?)
        }
        PictureFormat::Png
            if large
                || png
                    .as_ref()
                    .is_some_and(|p| p.decoded_bytes(width, height) > MAX_WHOLE_DECODE_BYTES) =>
        {
            match reduced::png(bytes).map_err(failed)? {
                Some(pixels) => DynamicImage::ImageRgb8(pixels),
                None => whole(decoder)?,
            }
        }
        _ => whole(decoder)?,
    };
    image.apply_orientation(orientation);
    Ok(Picture { pixels: reduced::to_working_size(image.into_rgb8()), format })
}

/// What a walk over a JPEG's markers finds, without decoding anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct JpegLayout {
    /// A progressive frame (SOF2, SOF6, SOF10, SOF14).
    progressive: bool,
    /// Components the frame header declares (1 grey, 3 colour, 4 CMYK).
    components: usize,
    /// Metadata segments (APP0-APP15, COM).
    segments: usize,
    /// Coefficients a pixel, in thousandths, over all components after subsampling (1000 grey,
    /// 1500 colour at 4:2:0, 3000 colour at 4:4:4).
    sampled_per_mille: u32,
    /// Start-of-scan markers.
    scans: usize,
    /// Scan data ends with an end-of-image marker.
    complete: bool,
}

impl JpegLayout {
    /// Refuses a file of more metadata segments than [`MAX_JPEG_SEGMENTS`]: the decoder's
    /// header parsing gathers some of them in time that grows with their number squared.
    fn within_segment_budget(&self) -> Result<(), IntakeError> {
        if self.segments > MAX_JPEG_SEGMENTS {
            return Err(IntakeError::TooCostly(format!(
                "JPEG with {} metadata segments: at most {MAX_JPEG_SEGMENTS} accepted",
                self.segments
            )));
        }
        Ok(())
    }

    /// Refuses what would cost more than the decoding budget: too many scans, more scans than
    /// a sequential frame has components, or a progressive frame too large to hold whole or
    /// to pass over as many times as it has scans.
    fn within_budget(&self, width: u32, height: u32) -> Result<(), IntakeError> {
        let kind = if self.progressive { "progressive JPEG" } else { "JPEG" };
        if self.scans > MAX_JPEG_SCANS {
            return Err(IntakeError::TooCostly(format!(
                "{kind} with {} scans: at most {MAX_JPEG_SCANS} accepted",
                self.scans
            )));
        }
        // A sequential frame codes each component in exactly one scan (ITU-T T.81 B.2.3);
        // more would have the decoder pass over the whole picture again for each.
        if !self.progressive && self.scans > self.components.max(1) {
            return Err(IntakeError::TooCostly(format!(
                "sequential JPEG with {} scans for {} components: one scan a component at most",
                self.scans, self.components
            )));
        }
        let pixels = u64::from(width) * u64::from(height);
        let scan_pixels = pixels.saturating_mul(self.scans as u64);
        if self.progressive && scan_pixels > MAX_PROGRESSIVE_SCAN_PIXELS {
            return Err(IntakeError::TooCostly(format!(
                "progressive JPEG of {width}x{height} with {} scans: at most {} scans accepted at \
                 this size (each scan is a pass over the picture); send a baseline JPEG",
                self.scans,
                (MAX_PROGRESSIVE_SCAN_PIXELS / pixels.max(1)).max(1)
            )));
        }
        // Two bytes a coefficient, held whole until the last scan.
        let coefficient_bytes = pixels * u64::from(self.sampled_per_mille) * 2 / 1000;
        if self.progressive && coefficient_bytes > MAX_PROGRESSIVE_COEFFICIENT_BYTES {
            return Err(IntakeError::TooCostly(format!(
                "progressive JPEG of {width}x{height} with {:.1} coefficients a pixel ({:.0} MB \
                 held while decoding): at most {} MB accepted; send a baseline JPEG or a \
                 subsampled (4:2:0) one",
                f64::from(self.sampled_per_mille) / 1000.0,
                coefficient_bytes as f64 / 1e6,
                MAX_PROGRESSIVE_COEFFICIENT_BYTES / 1_000_000
            )));
        }
        if self.progressive && pixels > MAX_PROGRESSIVE_PIXELS {
            return Err(IntakeError::TooCostly(format!(
                "progressive JPEG of {width}x{height} ({:.1} MP): at most {} MP accepted for a \
                 progressive picture (it is decoded whole); send a baseline JPEG or a smaller one",
                pixels as f64 / 1e6,
                MAX_PROGRESSIVE_PIXELS / 1_000_000
            )));
        }
        Ok(())
    }
}

/// Walks the JPEG's marker segments and scan data: embedded thumbnails sit inside APP
/// segments and are skipped whole; in scan data a literal FF byte is always stuffed as FF 00
/// and restart markers are FF D0-D7, so the next other marker ends the scan.
fn jpeg_layout(bytes: &[u8]) -> JpegLayout {
    let mut layout = JpegLayout::default();
    let mut i = 2;
    while i + 2 <= bytes.len() {
        if bytes[i] != 0xFF {
            return layout;
        }
        let marker = bytes[i + 1];
        match marker {
            0xFF => {
                i += 1; // fill byte
                continue;
            }
            0xD9 => {
                layout.complete = layout.scans > 0;
                return layout;
            }
            0xD0..=0xD7 | 0x01 => {
                i += 2; // markers without a length
                continue;
            }
            _ => {}
        }
        if i + 4 > bytes.len() {
            return layout;
        }
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        if matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE) {
            layout.progressive = true;
        }
        if matches!(marker, 0xE0..=0xEF | 0xFE) {
            layout.segments += 1;
        }
        // A start-of-frame (C0-CF but DHT C4, JPG C8, DAC CC): its component count follows
        // the precision and the two dimensions.
        // The first frame header counts: a second one is refused by the decoder.
        if (0xC0..=0xCF).contains(&marker)
            && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
            && layout.components == 0
        {
            layout.components = bytes.get(i + 9).map_or(0, |&n| usize::from(n));
            // Each component's sampling factors (a byte: horizontal, vertical) follow its id.
            let factors: Vec<(u32, u32)> = (0..layout.components)
                .filter_map(|k| bytes.get(i + 11 + 3 * k))
                .map(|&hv| (u32::from(hv >> 4).max(1), u32::from(hv & 0x0F).max(1)))
                .collect();
            let (h_max, v_max) =
                factors.iter().fold((1, 1), |(h, v), &(a, b)| (h.max(a), v.max(b)));
            layout.sampled_per_mille =
                factors.iter().map(|&(h, v)| 1000 * h * v).sum::<u32>() / (h_max * v_max);
        }
        i += 2 + len;
        if marker == 0xDA {
            layout.scans += 1;
            // The entropy-coded data runs to the next marker that is not a stuffed byte or a
            // restart marker.
            while i + 1 < bytes.len()
                && !(bytes[i] == 0xFF
                    && bytes[i + 1] != 0x00
                    && !(0xD0..=0xD7).contains(&bytes[i + 1]))
            {
                i += 1;
            }
        }
    }
    layout
}

fn check_dimensions(width: u32, height: u32) -> Result<(), IntakeError> {
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(IntakeError::TooManyPixels { width, height });
    }
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(IntakeError::TooSmall { width, height });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, RgbImage};

    /// A progressive JPEG of noise, `scans_per_component` scans for each of its components.
    fn progressive(width: u16, height: u16, scans_per_component: u8) -> Vec<u8> {
        let mut x: u32 = 7;
        let pixels: Vec<u8> = (0..usize::from(width) * usize::from(height) * 3)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 24) as u8
            })
            .collect();
        let mut out = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut out, 40);
        encoder.set_progressive_scans(scans_per_component);
        encoder.encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb).unwrap();
        out
    }

    #[test]
    fn jpegs_beyond_the_decoding_budget_are_refused_by_name() {
        let ordinary = progressive(1200, 900, 4);
        let layout = jpeg_layout(&ordinary);
        assert!(layout.progressive && layout.complete, "{layout:?}");
        assert!((2..=MAX_JPEG_SCANS).contains(&layout.scans), "{layout:?}");
        assert!(decode(&ordinary).is_ok());

        let many = progressive(1200, 900, 64);
        match inspect(&many) {
            Err(IntakeError::TooCostly(why)) => {
                assert!(
                    why.contains("progressive JPEG with") && why.contains("at most 64"),
                    "{why}"
                )
            }
            other => panic!("{other:?}"),
        }
        let large = progressive(5000, 4000, 2);
        match inspect(&large) {
            Err(IntakeError::TooCostly(why)) => assert!(why.contains("20.0 MP"), "{why}"),
            other => panic!("{other:?}"),
        }
        // 4 MP with 58 scans: within the scan count, beyond scans × pixels.
        let passes = progressive(2000, 2000, 20);
        let scans = jpeg_layout(&passes).scans;
        assert!(scans <= MAX_JPEG_SCANS && scans as u64 * 4_000_000 > MAX_PROGRESSIVE_SCAN_PIXELS);
        match inspect(&passes) {
            Err(IntakeError::TooCostly(why)) => {
                assert!(why.contains("2000x2000 with") && why.contains("at most 48 scans"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        assert!(inspect(&progressive(2000, 1000, 20)).is_ok(), "the same scans at 2 MP");
        // Without chroma subsampling (the encoder's choice at quality 90 and over) 3 coefficients
        // a pixel: 14 MP holds 84 MB; at 4:2:0 (quality 40) the same size holds 42 MB.
        let full_colour = |quality| {
            let mut out = Vec::new();
            let pixels = vec![128u8; 3500 * 4000 * 3];
            let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality);
            encoder.set_progressive_scans(2);
            encoder.encode(&pixels, 3500, 4000, jpeg_encoder::ColorType::Rgb).unwrap();
            out
        };
        match inspect(&full_colour(95)) {
            Err(IntakeError::TooCostly(why)) => {
                assert!(why.contains("3.0 coefficients a pixel (84 MB"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        assert!(inspect(&full_colour(40)).is_ok(), "4:2:0 at 14 MP");
        // A baseline picture of the same size is decoded (at reduced size), not refused.
        let baseline = jpeg(5000, 4000);
        assert_eq!(jpeg_layout(&baseline).scans, 1);
        assert!(inspect(&baseline).is_ok());
    }

    #[test]
    fn a_sequential_jpeg_with_a_scan_repeated_is_refused() {
        let plain = jpeg(400, 300);
        let layout = jpeg_layout(&plain);
        assert_eq!((layout.progressive, layout.components, layout.scans), (false, 3, 1));
        // The scan (its header and data, up to the end-of-image marker) sent four times.
        let sos = plain.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let scan = &plain[sos..plain.len() - 2];
        let mut repeated = plain[..sos].to_vec();
        for _ in 0..4 {
            repeated.extend_from_slice(scan);
        }
        repeated.extend_from_slice(&[0xFF, 0xD9]);
        match inspect(&repeated) {
            Err(IntakeError::TooCostly(why)) => {
                assert!(why.contains("4 scans for 3 components"), "{why}")
            }
            other => panic!("{other:?}"),
        }
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let img = RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 128]));
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let img = RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 128]));
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&img)
            .unwrap();
        out
    }

    /// A PNG whose IHDR declares `width`x`height` but carries almost no data.
    fn png_declaring(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = png(200, 200);
        bytes[16..20].copy_from_slice(&width.to_be_bytes());
        bytes[20..24].copy_from_slice(&height.to_be_bytes());
        // Fix the IHDR CRC so that the header itself is valid.
        let crc = crc32fast::hash(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        bytes
    }

    #[test]
    fn large_interlaced_pngs_are_refused_from_their_header() {
        let interlaced = |width: u32, height: u32| {
            let mut bytes = png_declaring(width, height);
            bytes[28] = 1; // Adam7
            let crc = crc32fast::hash(&bytes[12..29]);
            bytes[29..33].copy_from_slice(&crc.to_be_bytes());
            bytes
        };
        match inspect(&interlaced(5000, 4000)) {
            Err(IntakeError::TooCostly(why)) => {
                assert!(
                    why.contains("interlaced PNG of 5000x4000 (20.0 MP, 60 MB decoded"),
                    "{why}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(inspect(&interlaced(4000, 4000)).is_ok(), "16 MP of 8-bit RGB is within budget");
        // The same 16 MP at 16-bit RGBA takes 128 MB decoded.
        let mut deep = interlaced(4000, 4000);
        deep[24..26].copy_from_slice(&[16, 6]);
        let crc = crc32fast::hash(&deep[12..29]);
        deep[29..33].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(inspect(&deep), Err(IntakeError::TooCostly(_))));
        assert!(inspect(&png_declaring(5000, 4000)).is_ok(), "non-interlaced: shrunk row by row");
    }

    #[test]
    fn sniffs_by_content_not_name() {
        assert_eq!(sniff(&png(200, 200)), Some(PictureFormat::Png));
        assert_eq!(sniff(&jpeg(200, 200)), Some(PictureFormat::Jpeg));
        assert_eq!(sniff(b"GIF89a....."), None);
        assert_eq!(sniff(b"%PDF-1.7"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn accepts_minimum_size_jpeg_and_png() {
        let p = decode(&png(200, 300)).unwrap();
        assert_eq!((p.width(), p.height(), p.format), (200, 300, PictureFormat::Png));
        let j = decode(&jpeg(320, 200)).unwrap();
        assert_eq!((j.width(), j.height(), j.format), (320, 200, PictureFormat::Jpeg));
    }

    fn error_of(bytes: &[u8]) -> IntakeError {
        decode(bytes).expect_err("should be refused")
    }

    #[test]
    fn rejects_each_limit_with_its_reason() {
        assert_eq!(error_of(&png(199, 400)), IntakeError::TooSmall { width: 199, height: 400 });
        assert_eq!(error_of(b"GIF89a\x01\x00\x01\x00"), IntakeError::NotAnImage);
        let mut big = jpeg(200, 200);
        big.resize(MAX_FILE_BYTES + 1, 0);
        assert_eq!(error_of(&big), IntakeError::TooLarge { bytes: MAX_FILE_BYTES + 1 });
        assert_eq!(
            error_of(&png_declaring(60_000, 60_000)),
            IntakeError::TooManyPixels { width: 60_000, height: 60_000 }
        );
        assert_eq!(
            error_of(&png_declaring(10_000, 10_000)),
            IntakeError::TooManyPixels { width: 10_000, height: 10_000 }
        );
    }

    #[test]
    fn truncated_jpeg_is_undecodable_not_a_panic() {
        let full = jpeg(400, 400);
        for cut in [3, 20, full.len() / 3, full.len() - 10, full.len() - 1] {
            match decode(&full[..cut]) {
                Err(IntakeError::Undecodable { format: "JPEG", .. }) => {}
                Err(other) => panic!("cut at {cut}: {other:?}"),
                Ok(p) => panic!("cut at {cut} decoded as {}x{}", p.width(), p.height()),
            }
        }
        // Data after the end-of-image marker (camera trailers) is fine.
        let mut trailer = full.clone();
        trailer.extend_from_slice(b"\0\0trailer");
        assert!(decode(&trailer).is_ok());
        let png = png(300, 300);
        assert!(matches!(
            error_of(&png[..png.len() / 2]),
            IntakeError::Undecodable { format: "PNG", .. }
        ));
    }

    #[test]
    fn exif_orientation_is_applied() {
        // A 300x200 JPEG with an EXIF block saying "rotate 90° clockwise" (orientation 6).
        let plain = jpeg(300, 200);
        let exif: &[u8] = &[
            0xFF, 0xE1, 0x00, 0x22, b'E', b'x', b'i', b'f', 0, 0, // APP1, length 34
            b'M', b'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, // TIFF header, IFD at 8
            0x00, 0x01, // one entry
            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00,
            0x00, // Orientation = 6
            0x00, 0x00, 0x00, 0x00, // no next IFD
        ];
        let mut rotated = plain[..2].to_vec();
        rotated.extend_from_slice(exif);
        rotated.extend_from_slice(&plain[2..]);
        let p = decode(&rotated).unwrap();
        assert_eq!((p.width(), p.height()), (200, 300));
    }
}
