//! Selfie vs synthetic ID card: a `../shared/faces` photo printed on a card at
//! document scale (blur, JPEG loss), matched against another photo of the same
//! person. The bar: TAR ≥ 95 % at FAR ≤ 1 %.

use std::collections::BTreeMap;

use facematch::detection::find_faces;
use facematch::domain::{DocumentType, Embedding, Role};
use facematch::eval::{rates_at, tar_at_far, Scored};
use facematch::intake;
use facematch::matching::compare;
use facematch::synthetic_card::{portrait_crop, print_card};
use facematch::verify::analyse;

use crate::util::{engine, shared};

/// One photo's embedding as a selfie, and the embedding of the card printed from it.
type PhotoAndCard = (Option<Embedding>, Option<Embedding>);

#[test]
fn selfie_matches_the_same_person_printed_on_a_card() {
    let mut e = engine();
    let e = &mut *e;
    let document = Role::Document(DocumentType::Gov);
    let mut people: BTreeMap<String, Vec<PhotoAndCard>> = BTreeMap::new();
    let mut seed = 0;
    let mut dirs: Vec<_> =
        std::fs::read_dir(shared().join("faces")).unwrap().flatten().map(|d| d.path()).collect();
    dirs.sort();
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        let mut files: Vec<_> =
            std::fs::read_dir(dir).unwrap().flatten().map(|f| f.path()).collect();
        files.sort();
        for file in files {
            seed += 1;
            let photo = intake::decode(&std::fs::read(&file).unwrap()).unwrap();
            let selfie = analyse(&mut e.detector, &mut e.embedder, &photo, Role::Selfie).unwrap();
            let face = find_faces(&mut e.detector, &photo.pixels, Role::Selfie).unwrap()[0];
            let card_jpeg = print_card(&portrait_crop(&photo.pixels, &face.bbox), seed);
            let card = intake::decode(&card_jpeg).unwrap();
            let on_card = analyse(&mut e.detector, &mut e.embedder, &card, document).unwrap();
            if let Some(subject) = on_card.subject() {
                // Document scale: the printed face is 60-120 px wide.
                assert!(
                    (50.0..=130.0).contains(&subject.bbox.w),
                    "{}: card face {:?}",
                    file.display(),
                    subject.bbox
                );
            }
            let name = dir.file_name().unwrap().to_string_lossy().to_string();
            people.entry(name).or_default().push((selfie.embedding, on_card.embedding));
        }
    }
    let mut pairs = Vec::new();
    let score = |a: &Option<Embedding>, b: &Option<Embedding>| match (a, b) {
        (Some(a), Some(b)) => Some(compare(a, b).percent),
        _ => None,
    };
    for (name, photos) in &people {
        for (i, (selfie, _)) in photos.iter().enumerate() {
            for (j, (_, card)) in photos.iter().enumerate() {
                if i != j {
                    pairs.push(Scored { percent: score(selfie, card), genuine: true });
                }
            }
            for (other, their) in &people {
                if other != name {
                    for (_, card) in their {
                        pairs.push(Scored { percent: score(selfie, card), genuine: false });
                    }
                }
            }
        }
    }
    let genuine = pairs.iter().filter(|p| p.genuine).count();
    let no_face = pairs.iter().filter(|p| p.genuine && p.percent.is_none()).count();
    let tar = tar_at_far(&pairs, 0.01);
    let at_default = rates_at(&pairs, facematch::calibration::DEFAULT_THRESHOLD);
    eprintln!(
        "cards: {genuine} genuine / {} impostor pairs, {no_face} genuine without a usable face; \
         TAR@FAR1% {tar:.4}; at the default threshold TAR {:.4} FAR {:.5}",
        pairs.len() - genuine,
        at_default.tar,
        at_default.far
    );
    assert!(tar >= 0.95, "TAR at FAR 1% is {tar}");
}
