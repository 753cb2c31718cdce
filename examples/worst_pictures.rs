//! Writes the most expensive pictures the intake accepts, for the memory and time
//! benchmark (`bench/worst.sh`) and the API's overload test (`tests/overload.rs`, which
//! includes this file): a flat 12000×4000 JPEG (about 1.3 MB declaring 48 MP) and a
//! 6900×6900 PNG of zeros (about 140 KB declaring 47.6 MP).
//!
//! Usage: cargo run --release --example worst_pictures -- DIR

use std::path::{Path, PathBuf};

use image::{ImageEncoder, RgbImage};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: worst_pictures DIR")?;
    for path in write_worst(Path::new(&dir))? {
        println!("{} ({} bytes)", path.display(), std::fs::metadata(&path)?.len());
    }
    Ok(())
}

/// Writes both pictures into `dir`; returns their paths (JPEG, PNG).
pub fn write_worst(dir: &Path) -> Result<[PathBuf; 2], Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let flat = RgbImage::from_pixel(12_000, 4_000, image::Rgb([128, 128, 128]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 50).encode_image(&flat)?;
    drop(flat);
    let jpeg_path = dir.join("worst-12000x4000.jpg");
    std::fs::write(&jpeg_path, &jpeg)?;
    let zeros = vec![0u8; 6_900 * 6_900 * 3];
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::NoFilter,
    )
    .write_image(&zeros, 6_900, 6_900, image::ExtendedColorType::Rgb8)?;
    let png_path = dir.join("worst-6900x6900.png");
    std::fs::write(&png_path, &png)?;
    Ok([jpeg_path, png_path])
}
