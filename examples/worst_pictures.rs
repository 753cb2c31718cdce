//! Writes the most expensive pictures the intake accepts, one of each kind, for the memory and
//! time benchmark (`bench/worst.sh`) and the API's tests (`tests/overload.rs`, which includes
//! this file). Each is inside the contract's limits (10 MB, 12000 px a side, 48 MP) and inside
//! the intake's decoding budget (`facematch::intake`'s scan, progressive and interlaced
//! limits): the largest the rules let through.
//!
//! Usage: cargo run --release --example worst_pictures -- DIR

use std::io::Write;
use std::path::{Path, PathBuf};

use image::{ImageEncoder, RgbImage};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: worst_pictures DIR")?;
    for path in write_worst(Path::new(&dir))? {
        println!("{} ({} bytes)", path.display(), std::fs::metadata(&path)?.len());
    }
    Ok(())
}

/// One kind of worst picture: its file name and how it is made.
struct Kind {
    name: &'static str,
    make: fn() -> Result<Vec<u8>, Box<dyn std::error::Error>>,
}

/// Every kind, the most expensive of each that the intake accepts.
const KINDS: &[Kind] = &[
    // A flat baseline JPEG declaring 48 MP in 1.3 MB.
    Kind { name: "baseline-flat-12000x4000.jpg", make: baseline_flat },
    // Noise: the most entropy-coded data a baseline 48 MP JPEG can carry within 10 MB.
    Kind { name: "baseline-noise-12000x4000.jpg", make: baseline_noise },
    // Progressive at the 16 MP limit with the 12 scans the budget allows there, of noise.
    Kind { name: "progressive-12scans-4000x4000.jpg", make: progressive_rgb },
    // Without chroma subsampling (4:4:4): twice the colour coefficients to hold, so at most
    // 12 MP, with the 16 scans the scan budget allows there.
    Kind { name: "progressive-444-16scans-4000x3000.jpg", make: progressive_444 },
    // Baseline at the 16 MP the intake still decodes whole (larger ones are decoded scaled).
    Kind { name: "baseline-noise-4000x4000.jpg", make: baseline_16mp },
    // The same in greyscale.
    Kind { name: "progressive-grey-12scans-4000x4000.jpg", make: progressive_grey },
    // Progressive with the 64 scans the budget allows at 3 MP, of noise.
    Kind { name: "progressive-64scans-2000x1500.jpg", make: progressive_many_scans },
    // Progressive CMYK (four components) at 16 MP with 12 scans.
    Kind { name: "progressive-cmyk-12scans-4000x4000.jpg", make: progressive_cmyk },
    // Baseline CMYK declaring 48 MP.
    Kind { name: "baseline-cmyk-12000x4000.jpg", make: baseline_cmyk },
    // 9.9 MB of EXIF/APP segments in front of a 48 MP baseline picture.
    Kind { name: "huge-exif-12000x4000.jpg", make: huge_exif },
    // A PNG of zeros declaring 47.6 MP in 140 KB.
    Kind { name: "png-rgb8-6900x6900.png", make: png_rgb8 },
    // 16-bit RGBA (8 bytes a pixel), non-interlaced, 47.6 MP.
    Kind { name: "png-rgba16-6900x6900.png", make: png_rgba16 },
    // Interlaced (Adam7, decoded whole) 16-bit RGBA at the 48 MB limit (6 MP).
    Kind { name: "png-rgba16-interlaced-2449x2449.png", make: png_rgba16_interlaced },
    // 16-bit RGBA non-interlaced at 16 MP: over 48 MB, so shrunk row by row.
    Kind { name: "png-rgba16-4000x4000.png", make: png_rgba16_16mp },
    // Interlaced 8-bit grey with transparency (decoded as grey and alpha) at 16 MP.
    Kind { name: "png-grey-trns-interlaced-4000x4000.png", make: png_grey_trns_interlaced },
    // Attacks on the decoders' header parsing, refused or made harmless by the intake:
    // a colour profile of 520 KB of deflated zeros (inflates to about 512 MB),
    Kind { name: "attack-png-profile-bomb.png", make: png_profile_bomb },
    // 10 MB of minimal extended-XMP segments (quadratic in the JPEG decoder's header parsing),
    Kind { name: "attack-jpeg-xmp-flood.jpg", make: jpeg_xmp_flood },
    // 9 MB of tiny text chunks (each kept as its own allocation by the PNG decoder).
    Kind { name: "attack-png-text-flood.png", make: png_text_flood },
];

/// Writes every kind into `dir`; returns their paths.
pub fn write_worst(dir: &Path) -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let mut paths = Vec::new();
    for kind in KINDS {
        let bytes = (kind.make)()?;
        assert!(bytes.len() <= 10 * 1024 * 1024, "{} is {} bytes", kind.name, bytes.len());
        let path = dir.join(kind.name);
        std::fs::write(&path, bytes)?;
        paths.push(path);
    }
    Ok(paths)
}

/// Deterministic noise bytes (a linear congruential generator: the same pictures every run).
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect()
}

fn baseline_flat() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let flat = RgbImage::from_pixel(12_000, 4_000, image::Rgb([128, 128, 128]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 50).encode_image(&flat)?;
    Ok(jpeg)
}

/// Noise in 8×8 blocks of one grey level each, the rest flat: the coarsest noise that still
/// fills the file close to 10 MB at 48 MP.
fn baseline_noise() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let (w, h) = (12_000usize, 4_000usize);
    let cells = noise((w / 4) * (h / 4), 11);
    let pixels: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            let v = cells[(i / w / 4) * (w / 4) + (i % w) / 4];
            [v, v, v]
        })
        .collect();
    encode(&pixels, 12_000, 4_000, jpeg_encoder::ColorType::Rgb, 30, None)
}

fn baseline_16mp() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let pixels = noise(4_000 * 4_000 * 3, 19);
    encode(&pixels, 4_000, 4_000, jpeg_encoder::ColorType::Rgb, 25, None)
}

fn progressive_rgb() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let pixels = noise(4_000 * 4_000 * 3, 7);
    let baseline = encode(&pixels, 4_000, 4_000, jpeg_encoder::ColorType::Rgb, 40, None)?;
    progressive(&baseline, "0,1,2", 2, &[(0, 1, 63, 4), (1, 1, 63, 3), (2, 1, 63, 3)])
}

fn progressive_444() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    // Noise in 2×2 cells, so that full-resolution colour still fits in 10 MB.
    let (w, h) = (4_000usize, 3_000usize);
    let cells = noise((w / 2) * (h / 2) * 3, 17);
    let pixels: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            let cell = ((i / w) / 2) * (w / 2) + (i % w) / 2;
            [cells[cell * 3], cells[cell * 3 + 1], cells[cell * 3 + 2]]
        })
        .collect();
    let mut baseline = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut baseline, 50);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);
    encoder.encode(&pixels, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)?;
    let bands = [(0, 1, 63, 5), (1, 1, 63, 5), (2, 1, 63, 4)];
    progressive(&baseline, "0,1,2", 2, &bands)
}

fn progressive_grey() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let pixels = noise(4_000 * 4_000, 9);
    let baseline = encode(&pixels, 4_000, 4_000, jpeg_encoder::ColorType::Luma, 70, None)?;
    progressive(&baseline, "0", 2, &[(0, 1, 63, 10)])
}

fn progressive_many_scans() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let pixels = noise(2_000 * 1_500 * 3, 5);
    let baseline = encode(&pixels, 2_000, 1_500, jpeg_encoder::ColorType::Rgb, 95, None)?;
    let bands = [(0, 1, 31, 11), (0, 32, 63, 11), (1, 1, 31, 11), (1, 32, 63, 11), (2, 1, 63, 11)];
    progressive(&baseline, "0,1,2", 9, &bands)
}

fn progressive_cmyk() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let pixels = noise(4_000 * 4_000 * 4, 13);
    let baseline = encode(&pixels, 4_000, 4_000, jpeg_encoder::ColorType::Cmyk, 25, None)?;
    progressive(
        &baseline,
        "0,1,2,3",
        2,
        &[(0, 1, 63, 4), (1, 1, 63, 2), (2, 1, 63, 2), (3, 1, 63, 2)],
    )
}

/// `baseline` rewritten losslessly (libjpeg's `jpegtran`) as a progressive JPEG in the
/// costliest layout for its scans: the DC coefficients of `dc_components` in `dc_scans` scans,
/// then each `(component, first, last, scans)` band of AC coefficients sent over `scans`
/// scans a bit at a time (successive approximation), so that every scan visits every block.
fn progressive(
    baseline: &[u8],
    dc_components: &str,
    dc_scans: u8,
    ac_bands: &[(u8, u8, u8, u8)],
) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut script = String::new();
    let mut bit_by_bit = |what: &str, scans: u8| {
        script += &format!("{what}, 0, {};\n", scans - 1);
        for bit in (1..scans).rev() {
            script += &format!("{what}, {bit}, {};\n", bit - 1);
        }
    };
    bit_by_bit(&format!("{dc_components}: 0-0"), dc_scans);
    for (component, first, last, scans) in ac_bands {
        bit_by_bit(&format!("{component}: {first}-{last}"), *scans);
    }
    let dir = tempfile::tempdir()?;
    let (input, scans) = (dir.path().join("in.jpg"), dir.path().join("scans.txt"));
    std::fs::write(&input, baseline)?;
    std::fs::write(&scans, script)?;
    let out = std::process::Command::new("jpegtran")
        .arg("-scans")
        .arg(&scans)
        .arg(&input)
        .output()
        .map_err(|e| format!("jpegtran (Debian libjpeg-turbo-progs, scripts/setup.sh): {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
    }
    Ok(out.stdout)
}

fn baseline_cmyk() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let pixels = vec![60u8; 12_000 * 4_000 * 4];
    encode(&pixels, 12_000, 4_000, jpeg_encoder::ColorType::Cmyk, 50, None)
}

/// A JPEG whose marker segments before the frame fill the file to 9.9 MB: an EXIF block
/// first (orientation 6), then APP1 and APP2 segments of 64 KB each.
fn huge_exif() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let picture = baseline_flat()?;
    let mut out = picture[..2].to_vec();
    let exif: &[u8] = &[
        0xFF, 0xE1, 0x00, 0x22, b'E', b'x', b'i', b'f', 0, 0, b'M', b'M', 0x00, 0x2A, 0x00, 0x00,
        0x00, 0x08, 0x00, 0x01, 0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    out.extend_from_slice(exif);
    let body = noise(65_533, 3);
    let mut marker = 0xE1;
    while out.len() + picture.len() + 65_537 < 9_900_000 {
        out.extend_from_slice(&[0xFF, marker, 0xFF, 0xFF]);
        out.extend_from_slice(b"Exif\0\0");
        out.extend_from_slice(&body[6..]);
        marker = if marker == 0xE1 { 0xE2 } else { 0xE1 };
    }
    out.extend_from_slice(&picture[2..]);
    Ok(out)
}

fn encode(
    pixels: &[u8],
    width: u16,
    height: u16,
    color: jpeg_encoder::ColorType,
    quality: u8,
    progressive_scans: Option<u8>,
) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    if let Some(scans) = progressive_scans {
        encoder.set_progressive_scans(scans);
    }
    encoder.encode(pixels, width, height, color)?;
    Ok(out)
}

fn png_rgb8() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    png_of_zeros(6_900, 6_900, image::ExtendedColorType::Rgb8)
}

fn png_rgba16() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    png_of_zeros(6_900, 6_900, image::ExtendedColorType::Rgba16)
}

fn png_rgba16_16mp() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    png_of_zeros(4_000, 4_000, image::ExtendedColorType::Rgba16)
}

fn png_of_zeros(
    width: u32,
    height: u32,
    color: image::ExtendedColorType,
) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let zeros = vec![0u8; width as usize * height as usize * color.bits_per_pixel() as usize / 8];
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::NoFilter,
    )
    .write_image(&zeros, width, height, color)?;
    Ok(png)
}

fn png_rgba16_interlaced() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    interlaced(2_449, 2_449, 16, 6, &[])
}

fn png_grey_trns_interlaced() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    interlaced(4_000, 4_000, 8, 0, &[(*b"tRNS", vec![0, 0])])
}

/// A 200×200 PNG of zeros with `extra` chunks after its header.
fn png_with(extra: &[([u8; 4], Vec<u8>)]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let plain = png_of_zeros(200, 200, image::ExtendedColorType::Rgb8)?;
    let mut png = plain[..33].to_vec(); // signature and IHDR
    for (kind, data) in extra {
        chunk(&mut png, kind, data);
    }
    png.extend_from_slice(&plain[33..]);
    Ok(png)
}

fn png_profile_bomb() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![0u8; 500 << 20])?;
    let mut profile = b"bomb\0\0".to_vec();
    profile.extend(z.finish()?);
    png_with(&[(*b"iCCP", profile)])
}

fn png_text_flood() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let text: Vec<_> = (0..600_000).map(|_| (*b"tEXt", b"k\0v".to_vec())).collect();
    png_with(&text)
}

fn jpeg_xmp_flood() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let picture = baseline_flat()?;
    let mut out = picture[..2].to_vec();
    let mut segment = b"http://ns.adobe.com/xmp/extension/\0".to_vec();
    segment.extend_from_slice(&[b'0'; 32]); // the digest
    segment.extend_from_slice(&1u32.to_be_bytes()); // full length
    segment.extend_from_slice(&0u32.to_be_bytes()); // offset
    let len = (segment.len() + 2) as u16;
    while out.len() + picture.len() + segment.len() + 4 < 9_900_000 {
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&segment);
    }
    out.extend_from_slice(&picture[2..]);
    Ok(out)
}

/// An Adam7-interlaced PNG of zeros of the given depth and colour type, with `extra` chunks
/// (the encoders at hand write no interlaced files: the seven passes are laid out here).
fn interlaced(
    width: u32,
    height: u32,
    depth: u8,
    color: u8,
    extra: &[([u8; 4], Vec<u8>)],
) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let channels = match color {
        0 => 1,
        2 => 3,
        4 => 2,
        _ => 4,
    };
    let pixel_bytes = channels * usize::from(depth) / 8;
    // Each pass: first column, first row, column step, row step.
    const PASSES: [(u32, u32, u32, u32); 7] = [
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ];
    let mut raw = Vec::new();
    for (x0, y0, dx, dy) in PASSES {
        let columns = width.saturating_sub(x0).div_ceil(dx);
        let rows = height.saturating_sub(y0).div_ceil(dy);
        if columns == 0 {
            continue;
        }
        for _ in 0..rows {
            raw.push(0); // filter: none
            raw.resize(raw.len() + columns as usize * pixel_bytes, 0);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&raw)?;
    let data = z.finish()?;
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[depth, color, 0, 0, 1]); // deflate, adaptive filters, Adam7
    chunk(&mut png, b"IHDR", &ihdr);
    for (kind, data) in extra {
        chunk(&mut png, kind, data);
    }
    chunk(&mut png, b"IDAT", &data);
    chunk(&mut png, b"IEND", &[]);
    Ok(png)
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    png.extend_from_slice(&crc.finalize().to_be_bytes());
}
