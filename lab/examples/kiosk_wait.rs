//! The kiosk customer's wait after the document's capture: from the document in hand to a
//! recorded verdict (`kiosk::recording::verify_and_record` with a real SQLite log), with the
//! selfie prepared ahead (analysed and encoded while the customer presents the document, what
//! the kiosk's worker does) and without, and the preparation's own time (spent before, off the
//! wait). Medians of N alternated runs, as JSON.
//!
//! The pictures: a 1280×720 camera frame holding `barack_obama/1.jpg` as the selfie, and a card
//! printed from `barack_obama/2.jpg` as the document front (both from ../shared/faces).
//!
//! cargo run --release -p facematch-lab --example kiosk_wait -- ../shared/faces [RUNS]

use std::time::Instant;

use facematch::detection::find_faces;
use facematch::domain::{DocumentType, Role};
use facematch::inference::{models::locate_dir, Engine, RuntimeOptions};
use facematch::kiosk::recording::{verify_and_record, Captures, PreparedSelfie};
use facematch::matching::Threshold;
use facematch::store::Store;
use facematch::verify::MatchParams;
use facematch_lab::synthetic_card::{portrait_crop, print_card};
use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};

fn main() {
    let faces = std::env::args().nth(1).unwrap_or_else(|| "../shared/faces".into());
    let runs: usize = std::env::args().nth(2).map_or(30, |n| n.parse().expect("RUNS is a number"));
    let decode = |n: u32| {
        let file = format!("{faces}/barack_obama/{n}.jpg");
        facematch::intake::decode(&std::fs::read(&file).expect("../shared/faces photo"))
            .expect("a decodable photo")
            .pixels
    };
    let mut engine = Engine::load(&locate_dir(None), RuntimeOptions::default()).expect("models");
    let e = &mut engine;

    // The selfie as a 1280×720 camera frame shows it: the photo 720 px high, centred.
    let photo = decode(1);
    let height = 720;
    let width = photo.width() * height / photo.height();
    let mut selfie = RgbImage::from_pixel(1280, 720, Rgb([128, 128, 128]));
    let scaled = imageops::resize(&photo, width, height, FilterType::Triangle);
    imageops::overlay(&mut selfie, &scaled, i64::from((1280 - width) / 2), 0);
    let holder = decode(2);
    let subject = find_faces(&mut e.detector, &holder, Role::Selfie).expect("detector")[0];
    let card = print_card(&portrait_crop(&holder, &subject.bbox), 3);
    let front = facematch::intake::decode(&card).expect("the printed card").pixels;
    let captures = Captures::from_frames(selfie, front, None);
    let params = MatchParams { doc_type: DocumentType::Passport, threshold: Threshold::DEFAULT };

    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut store = Store::open(&dir.path().join("kiosk.db"), None).expect("the log");
    let (mut prepare, mut plain, mut ahead) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..=runs {
        let t = Instant::now();
        let pixels = captures.selfie.pixels.clone();
        let prepared = PreparedSelfie::prepare(&mut e.detector, &mut e.embedder, pixels, true)
            .expect("the selfie prepared");
        let prepare_ms = t.elapsed().as_secs_f64() * 1e3;
        let mut wait = |prepared| {
            let t = Instant::now();
            let v = verify_and_record(
                &mut e.detector,
                &mut e.embedder,
                Some(&mut store),
                params,
                &captures,
                prepared,
            )
            .expect("a recorded verdict");
            assert!(v.matched, "the pair matches");
            t.elapsed().as_secs_f64() * 1e3
        };
        // Alternated, the order swapped each run; the first run warms up and is not counted.
        let (a, b) = if run % 2 == 0 {
            let a = wait(None);
            (a, wait(Some(&prepared)))
        } else {
            let b = wait(Some(&prepared));
            (wait(None), b)
        };
        if run > 0 {
            prepare.push(prepare_ms);
            plain.push(a);
            ahead.push(b);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "{{\"runs\": {runs}, \"wait_ms\": {:.1}, \"wait_with_selfie_prepared_ms\": {:.1}, \"prepare_ms\": {:.1}}}",
        median(&mut plain),
        median(&mut ahead),
        median(&mut prepare)
    );
}
