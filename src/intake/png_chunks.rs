//! What a PNG's chunk headers say before any pixel is decoded: enough to refuse a file whose
//! decoding would cost more than the budget, and to drop the colour profile, which the
//! pipeline never reads and whose compressed data can inflate to hundreds of megabytes.

use std::borrow::Cow;
use std::ops::Range;

/// The most chunks other than image header, palette, image data and end a PNG may carry:
/// each text or other chunk is kept by the decoder as its own allocation.
pub const MAX_PNG_ANCILLARY_CHUNKS: usize = 256;

/// What a walk over a PNG's chunks finds, without inflating anything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PngLayout {
    /// Adam7: the rows arrive in seven passes.
    pub interlaced: bool,
    /// Bits a channel (1, 2, 4, 8 or 16).
    pub bit_depth: u8,
    /// The header's colour type (0 grey, 2 RGB, 3 palette, 4 grey and alpha, 6 RGBA).
    pub color_type: u8,
    /// A tRNS chunk: the decoder adds an alpha channel.
    pub transparency: bool,
    /// Chunks other than IHDR, PLTE, IDAT and IEND.
    pub ancillary: usize,
    /// Where the colour profile (iCCP) chunk lies, header and checksum included.
    pub profile: Option<Range<usize>>,
}

impl PngLayout {
    /// Walks the chunk headers of `bytes` (a sniffed PNG); stops at the end of the image, or where
    /// the file ends or breaks (the decoder then reports what is wrong).
    pub fn of(bytes: &[u8]) -> PngLayout {
        let mut layout = PngLayout::default();
        let mut i = 8;
        while let Some(header) = bytes.get(i..i + 8) {
            let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
            let kind = &header[4..8];
            let end = i.saturating_add(12).saturating_add(len);
            match kind {
                b"IHDR" => {
                    if let Some(h) = bytes.get(i + 8..i + 21) {
                        layout.bit_depth = h[8];
                        layout.color_type = h[9];
                        layout.interlaced = h[12] != 0;
                    }
                }
                b"IEND" => break,
                b"PLTE" | b"IDAT" => {}
                b"tRNS" => {
                    layout.transparency = true;
                    layout.ancillary += 1;
                }
                b"iCCP" => {
                    layout.profile = Some(i..end.min(bytes.len()));
                    layout.ancillary += 1;
                }
                _ => layout.ancillary += 1,
            }
            i = end;
        }
        layout
    }

    /// What the picture takes decoded whole at its own depth, with the alpha channel a tRNS
    /// chunk adds; palette and sub-byte depths count one byte a channel, as they are expanded.
    pub fn decoded_bytes(&self, width: u32, height: u32) -> u64 {
        let depth_bytes = if self.bit_depth == 16 { 2 } else { 1 };
        let channels = match self.color_type {
            0 => 1,
            4 => 2,
            6 => 4,
            _ => 3, // RGB, or a palette expanded to RGB
        } + u64::from(self.transparency && matches!(self.color_type, 0 | 2 | 3));
        u64::from(width) * u64::from(height) * channels * depth_bytes
    }

    /// `bytes` without the colour profile chunk, when it has one.
    pub fn without_profile<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        match &self.profile {
            None => Cow::Borrowed(bytes),
            Some(range) => {
                let mut kept = Vec::with_capacity(bytes.len() - range.len());
                kept.extend_from_slice(&bytes[..range.start]);
                kept.extend_from_slice(&bytes[range.end..]);
                Cow::Owned(kept)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
        out
    }

    #[test]
    fn the_walk_reads_the_header_counts_chunks_and_finds_the_profile() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0, 0, 1, 0, 0, 0, 1, 0, 8, 0, 0, 0, 1]));
        let profile_at = png.len();
        png.extend(chunk(b"iCCP", b"name\0\0zzzz"));
        let profile_end = png.len();
        png.extend(chunk(b"tRNS", &[0, 0]));
        png.extend(chunk(b"tEXt", b"a\0b"));
        png.extend(chunk(b"IDAT", &[1, 2, 3]));
        png.extend(chunk(b"IEND", &[]));
        let layout = PngLayout::of(&png);
        assert_eq!(
            layout,
            PngLayout {
                interlaced: true,
                bit_depth: 8,
                color_type: 0,
                transparency: true,
                ancillary: 3,
                profile: Some(profile_at..profile_end),
            }
        );
        // Grey with transparency decodes as grey and alpha: two bytes a pixel.
        assert_eq!(layout.decoded_bytes(256, 1), 512);
        let stripped = layout.without_profile(&png);
        assert_eq!(stripped.len(), png.len() - (profile_end - profile_at));
        assert_eq!(PngLayout::of(&stripped).profile, None);
        // A broken length stops the walk without a panic.
        png[profile_at..profile_at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(PngLayout::of(&png).ancillary <= 1);
    }
}
