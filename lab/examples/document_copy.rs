//! How close a selfie can come to the document's own photo: the measurement behind
//! `liveness::document_copy::COPY_COSINE` (README "Liveness").
//!
//! - Two separate photographs of one person: every genuine pair of `../shared/faces`.
//! - The document's photo shown to the camera: each photo printed on a card, scanned (the
//!   document side), and the same card photographed by the camera 400-600 px wide, tilted, in
//!   glare (the "selfie" of someone holding the card up).
//!
//! cargo run --release -p facematch-lab --example document_copy -- ../shared/faces

use facematch::alignment::align;
use facematch::detection::find_faces;
use facematch::domain::{DocumentType, Embedding, Role};
use facematch::embedding::{cosine, Embedder};
use facematch::inference::{models::locate_dir, Engine, RuntimeOptions};
use facematch_lab::synthetic_capture::{capture, Condition};
use facematch_lab::synthetic_card::{portrait_crop, print_card};
use image::RgbImage;

fn embed(engine: &mut Engine, pixels: &RgbImage, role: Role) -> Option<Embedding> {
    let faces = find_faces(&mut engine.detector, pixels, role).ok()?;
    let face = faces.first()?;
    engine.embedder.embed(&align(pixels, &face.landmarks)).ok()
}

fn decode(bytes: &[u8]) -> RgbImage {
    facematch::intake::decode(bytes).expect("a picture").pixels
}

fn percentiles(name: &str, mut v: Vec<f32>) {
    v.sort_by(f32::total_cmp);
    let at = |q: f32| v[((v.len() - 1) as f32 * q).round() as usize];
    let share = |t: f32| 100.0 * v.iter().filter(|&&c| c >= t).count() as f32 / v.len() as f32;
    println!(
        "{name}: n={} min={:.3} p1={:.3} p50={:.3} p99={:.3} max={:.3}; at or above 0.88: {:.1} %, 0.90: {:.1} %, 0.92: {:.1} %",
        v.len(),
        v[0],
        at(0.01),
        at(0.5),
        at(0.99),
        v[v.len() - 1],
        share(0.88),
        share(0.90),
        share(0.92)
    );
}

fn main() {
    let faces = std::env::args().nth(1).unwrap_or_else(|| "../shared/faces".into());
    let mut engine = Engine::load(&locate_dir(None), RuntimeOptions::default()).expect("models");
    let document = Role::Document(DocumentType::Gov);
    let mut people: Vec<(String, Vec<Embedding>)> = Vec::new();
    let mut copies = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&faces).expect("faces folder").flatten().collect();
    dirs.sort_by_key(|d| d.path());
    for (seed, dir) in dirs.iter().filter(|d| d.path().is_dir()).enumerate() {
        let mut files: Vec<_> =
            std::fs::read_dir(dir.path()).unwrap().flatten().map(|f| f.path()).collect();
        files.sort();
        let mut embeddings = Vec::new();
        for (n, file) in
            files.iter().filter(|f| f.extension().is_some_and(|e| e == "jpg")).enumerate()
        {
            let photo = decode(&std::fs::read(file).unwrap());
            let Some(e) = embed(&mut engine, &photo, Role::Selfie) else { continue };
            embeddings.push(e);
            let subject = find_faces(&mut engine.detector, &photo, Role::Selfie).unwrap()[0];
            let portrait = portrait_crop(&photo, &subject.bbox);
            let scan = decode(&print_card(&portrait, seed as u64 * 31 + n as u64));
            let Some(document_face) = embed(&mut engine, &scan, document) else { continue };
            for condition in
                [Condition::Small, Condition::Tilt, Condition::Glare, Condition::AllEffects]
            {
                let held_up = decode(&capture(&portrait, condition, seed as u64 * 97 + n as u64));
                if let Some(selfie) = embed(&mut engine, &held_up, document) {
                    copies.push(cosine(&selfie, &document_face));
                }
            }
        }
        people.push((dir.file_name().to_string_lossy().to_string(), embeddings));
    }
    let mut genuine = Vec::new();
    for (_, e) in &people {
        for i in 0..e.len() {
            for j in i + 1..e.len() {
                genuine.push(cosine(&e[i], &e[j]));
            }
        }
    }
    percentiles("two photographs of one person (cosine)", genuine);
    percentiles("the document's photo held up to the camera vs its scan (cosine)", copies);
}
