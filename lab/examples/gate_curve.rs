//! Where match quality really falls with the printed face's size and sharpness: the measurement
//! behind the document quality gates (README "Quality gates").
//!
//! Every `../shared/faces` photo is printed on a synthetic card, the card is scaled so the
//! face box is W px wide (and, for the blur sweep, blurred), and the face is found, aligned and
//! embedded with the gates off. TAR at FAR 1 % and at the default threshold are computed per
//! width and per sharpness band (every other photo of the person as the selfie; every card of
//! another person as an impostor).
//!
//! cargo run --release -p facematch-lab --example gate_curve -- ../shared/faces

use std::collections::BTreeMap;

use facematch::alignment::align;
use facematch::calibration::DEFAULT_THRESHOLD;
use facematch::detection::find_faces;
use facematch::domain::{DocumentType, Embedding, Role};
use facematch::embedding::Embedder;
use facematch::inference::{models::locate_dir, Engine, RuntimeOptions};
use facematch::matching::compare;
use facematch::quality::laplacian_variance_of;
use facematch_lab::eval::{rates_at, tar_at_far, Scored};
use facematch_lab::synthetic_card::{portrait_crop, print_card};
use image::imageops::{self, FilterType};

const WIDTHS: [f32; 10] = [16.0, 20.0, 24.0, 28.0, 32.0, 36.0, 40.0, 48.0, 56.0, 64.0];
const BLURS: [f32; 6] = [0.0, 1.0, 1.5, 2.0, 2.5, 3.0];

fn main() {
    let faces = std::env::args().nth(1).unwrap_or_else(|| "../shared/faces".into());
    let mut engine = Engine::load(&locate_dir(None), RuntimeOptions::default()).expect("models");
    let document = Role::Document(DocumentType::Gov);
    // (identity, selfie embedding, card pixels, face width on the card)
    let mut photos = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&faces).expect("faces folder").flatten().collect();
    dirs.sort_by_key(|d| d.path());
    for (seed, file) in dirs
        .iter()
        .filter(|d| d.path().is_dir())
        .flat_map(|d| {
            let mut f: Vec<_> =
                std::fs::read_dir(d.path()).unwrap().flatten().map(|f| f.path()).collect();
            f.sort();
            f
        })
        .enumerate()
    {
        let identity = file.parent().unwrap().to_string_lossy().to_string();
        let photo = facematch::intake::decode(&std::fs::read(&file).unwrap()).unwrap();
        let e = &mut engine;
        let Some(face) =
            find_faces(&mut e.detector, &photo.pixels, Role::Selfie).unwrap().first().copied()
        else {
            continue;
        };
        let selfie = e.embedder.embed(&align(&photo.pixels, &face.landmarks)).unwrap();
        let card = image::load_from_memory(&print_card(
            &portrait_crop(&photo.pixels, &face.bbox),
            seed as u64,
        ))
        .unwrap()
        .to_rgb8();
        let on_card = find_faces(&mut e.detector, &card, document).unwrap();
        let Some(card_face) = on_card.first() else { continue };
        photos.push((identity, selfie, card, card_face.bbox.w));
    }
    eprintln!("gate_curve: {} photos printed", photos.len());

    println!("| face width (px) | cards with a face | TAR@FAR1% | TAR at {DEFAULT_THRESHOLD} | FAR at {DEFAULT_THRESHOLD} |");
    println!("|---|---|---|---|---|");
    for width in WIDTHS {
        let cards = embed_cards(&mut engine, &photos, |card, face_w| {
            let s = width / face_w;
            imageops::resize(
                card,
                (card.width() as f32 * s) as u32,
                (card.height() as f32 * s) as u32,
                FilterType::Triangle,
            )
        });
        let (found, pairs) = score(&photos, &cards);
        let at = rates_at(&pairs, DEFAULT_THRESHOLD);
        println!(
            "| {width} | {found}/{} | {:.1} % | {:.1} % | {:.3} % |",
            photos.len(),
            tar_at_far(&pairs, 0.01) * 100.0,
            at.tar * 100.0,
            at.far * 100.0
        );
    }

    // Sharpness: cards with the face 64 px wide, blurred more and more; pairs grouped by the
    // card face's sharpness as the gate measures it.
    let mut by_band: BTreeMap<u32, Vec<Scored>> = BTreeMap::new();
    let mut all = Vec::new();
    for sigma in BLURS {
        let cards = embed_cards(&mut engine, &photos, |card, face_w| {
            let s = 64.0 / face_w;
            let small = imageops::resize(
                card,
                (card.width() as f32 * s) as u32,
                (card.height() as f32 * s) as u32,
                FilterType::Triangle,
            );
            if sigma > 0.0 {
                imageops::blur(&small, sigma)
            } else {
                small
            }
        });
        all.extend(cards);
    }
    for (i, (id_a, selfie, _, _)) in photos.iter().enumerate() {
        for (j, card) in all.iter().enumerate() {
            let (id_b, _, _, _) = &photos[j % photos.len()];
            if j % photos.len() == i {
                continue;
            }
            if let Some((emb, sharpness)) = card {
                let band = band_of(*sharpness);
                by_band.entry(band).or_default().push(Scored {
                    percent: Some(compare(selfie, emb).percent),
                    genuine: id_a == id_b,
                });
            }
        }
    }
    println!();
    println!(
        "| sharpness of the card face | genuine pairs | TAR@FAR1% | TAR at {DEFAULT_THRESHOLD} |"
    );
    println!("|---|---|---|---|");
    for (band, pairs) in by_band {
        let genuine = pairs.iter().filter(|p| p.genuine).count();
        let at = rates_at(&pairs, DEFAULT_THRESHOLD);
        println!(
            "| {}-{} | {genuine} | {:.1} % | {:.1} % |",
            band,
            band + BAND,
            tar_at_far(&pairs, 0.01) * 100.0,
            at.tar * 100.0
        );
    }
}

const BAND: u32 = 4;

fn band_of(sharpness: f32) -> u32 {
    (sharpness as u32 / BAND).min(10) * BAND
}

/// Each card transformed, its largest face embedded with the gates off, with its sharpness.
fn embed_cards(
    engine: &mut Engine,
    photos: &[(String, Embedding, image::RgbImage, f32)],
    transform: impl Fn(&image::RgbImage, f32) -> image::RgbImage,
) -> Vec<Option<(Embedding, f32)>> {
    let document = Role::Document(DocumentType::Gov);
    photos
        .iter()
        .map(|(_, _, card, face_w)| {
            let card = transform(card, *face_w);
            let face =
                find_faces(&mut engine.detector, &card, document).unwrap().first().copied()?;
            let aligned = align(&card, &face.landmarks);
            let sharpness = laplacian_variance_of(&aligned);
            Some((engine.embedder.embed(&aligned).unwrap(), sharpness))
        })
        .collect()
}

/// Cards with a face, and every selfie-vs-card pair (same photo excluded).
fn score(
    photos: &[(String, Embedding, image::RgbImage, f32)],
    cards: &[Option<(Embedding, f32)>],
) -> (usize, Vec<Scored>) {
    let mut pairs = Vec::new();
    for (i, (id_a, selfie, _, _)) in photos.iter().enumerate() {
        for (j, (id_b, _, _, _)) in photos.iter().enumerate() {
            if i != j {
                let percent = cards[j].as_ref().map(|(e, _)| compare(selfie, e).percent);
                pairs.push(Scored { percent, genuine: id_a == id_b });
            }
        }
    }
    (cards.iter().filter(|c| c.is_some()).count(), pairs)
}
