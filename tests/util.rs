//! Shared helpers: where the evaluation data is, one engine per test binary, running the CLI.

use std::process::{Command, Output};

pub use crate::data::{engine, face, json, shared};

/// Runs the real binary with `args` in a fresh temporary folder.
pub fn facematch(args: &[&str]) -> Output {
    let cwd = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(args)
        .current_dir(cwd.path())
        .output()
        .expect("run facematch")
}

/// A PNG whose header declares `width`x`height` with a valid CRC, carrying almost no pixel data.
pub fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::RgbImage::new(200, 200)
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let mut crc = 0xFFFF_FFFFu32;
    for &b in &bytes[12..29] {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    bytes[29..33].copy_from_slice(&(!crc).to_be_bytes());
    bytes
}

/// A blocking HTTP client for the tests' plain-http calls to loopback servers. The crate
/// builds reqwest over rustls without a built-in crypto provider: ring is installed first.
pub fn http_client(timeout: Option<std::time::Duration>) -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::blocking::Client::builder();
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    builder.build().expect("HTTP client")
}

/// Records a verification of photo `n_src` against photo `n_front` of `who` (from
/// `../shared/faces`) in `store`, its pictures stored, the local verdict FACE_MATCHED at 85.
pub fn record_photo_pair(
    store: &mut facematch::store::Store,
    who: &str,
    n_src: u32,
    n_front: u32,
) -> i64 {
    record_photo_pair_with(store, who, n_src, n_front, |_| {})
}

/// [`record_photo_pair`] with the entry changed by `change` before it is recorded (another
/// verdict, a liveness attempt named).
pub fn record_photo_pair_with(
    store: &mut facematch::store::Store,
    who: &str,
    n_src: u32,
    n_front: u32,
    change: impl FnOnce(&mut facematch::store::NewVerification),
) -> i64 {
    let insert = |n: u32| {
        let bytes = std::fs::read(face(who, n)).unwrap();
        store.insert_media(None, &format!("{who}-{n}.jpg"), "image/jpeg", &bytes).unwrap()
    };
    let (src, front) = (insert(n_src), insert(n_front));
    let mut entry = facematch::store::NewVerification {
        src_media: Some(src),
        front_media: Some(front),
        doc_type: facematch::domain::DocumentType::Gov,
        threshold: 85.0,
        status: facematch::contract::MatchStatus::FaceMatched,
        matched: true,
        ..facematch::store::NewVerification::default()
    };
    change(&mut entry);
    store.record_verification(&entry).unwrap()
}
