//! A kiosk verification recorded through `kiosk::recording` with the real models and a real
//! SQLite file: a verdict that reaches the log is shown; one the log refuses is not; a selfie
//! prepared ahead changes nothing but the wait.

use facematch::domain::{DocumentType, Role};
use facematch::inference::Engine;
use facematch::kiosk::recording::{
    evidence_jpeg, result_view, verify_and_record, Captures, PreparedSelfie, RecordingError,
};
use facematch::matching::Threshold;
use facematch::store::Store;
use facematch::verify::{MatchParams, Verification};
use facematch_lab::synthetic_card::{portrait_crop, print_card};

use crate::util::{engine, face};

fn captures() -> Captures {
    let decode = |n| facematch::intake::decode(&std::fs::read(face("barack_obama", n)).unwrap());
    let (selfie, photo) = (decode(1).unwrap(), decode(2).unwrap());
    let mut e = engine();
    let subject =
        facematch::detection::find_faces(&mut e.detector, &photo.pixels, Role::Selfie).unwrap()[0];
    let card = print_card(&portrait_crop(&photo.pixels, &subject.bbox), 3);
    let front = facematch::intake::decode(&card).unwrap().pixels;
    Captures::from_frames(selfie.pixels, front, None)
}

const PARAMS: MatchParams =
    MatchParams { doc_type: DocumentType::Passport, threshold: Threshold::DEFAULT };

#[test]
fn a_recorded_verdict_is_shown_and_one_the_log_refuses_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kiosk.db");
    let mut store = Store::open(&db, None).unwrap();
    let shots = captures();
    let outcome = {
        let mut e = engine();
        let e = &mut *e;
        verify_and_record(&mut e.detector, &mut e.embedder, Some(&mut store), PARAMS, &shots, None)
    };
    let view = result_view(outcome, shots.clone(), PARAMS);
    assert!(view.matched, "{} {}", view.verdict, view.reason);
    assert_eq!(store.list_verifications(5).unwrap().len(), 1);

    // The disk refuses the next record (a real SQLite failure, raised by a trigger).
    let refuse = rusqlite::Connection::open(&db).unwrap();
    refuse
        .execute_batch(
            "CREATE TRIGGER full BEFORE INSERT ON verifications BEGIN SELECT RAISE(FAIL, 'disk full'); END;",
        )
        .unwrap();
    let outcome = {
        let mut e = engine();
        let e = &mut *e;
        verify_and_record(&mut e.detector, &mut e.embedder, Some(&mut store), PARAMS, &shots, None)
    };
    assert!(matches!(outcome, Err(RecordingError::Store(_))), "{outcome:?}");
    let view = result_view(outcome, shots, PARAMS);
    assert!(!view.matched && view.percent.is_none(), "no verdict without a record");
    assert!(view.reason.contains("could not be saved"), "{}", view.reason);
    assert_eq!(store.list_verifications(5).unwrap().len(), 1, "nothing half-written");
}

/// Verifies and records `shots` in a new log; returns the verification and the selfie the log kept.
fn verify_in_new_log(
    e: &mut Engine,
    shots: &Captures,
    prepared: Option<&PreparedSelfie>,
) -> (Verification, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kiosk.db");
    let mut store = Store::open(&db, None).unwrap();
    let v = verify_and_record(
        &mut e.detector,
        &mut e.embedder,
        Some(&mut store),
        PARAMS,
        shots,
        prepared,
    )
    .unwrap();
    let id: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT id FROM media WHERE original_name = 'kiosk-selfie.jpg'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(store.list_verifications(5).unwrap().len(), 1);
    (v, store.media_bytes(&id, None).unwrap())
}

#[test]
fn a_selfie_prepared_ahead_stands_in_only_for_its_own_pixels() {
    let shots = captures();
    let mut e = engine();
    let e = &mut *e;
    let (plain, plain_selfie) = verify_in_new_log(e, &shots, None);
    assert!(plain.matched, "{:?}", plain.front_score);
    assert_eq!(plain_selfie, evidence_jpeg(&shots.selfie.pixels).unwrap(), "the capture is kept");

    // Made from the captured selfie: the same verdict, score, faces and kept picture.
    let pixels = shots.selfie.pixels.clone();
    let ahead = PreparedSelfie::prepare(&mut e.detector, &mut e.embedder, pixels, true).unwrap();
    assert!(ahead.is_of(&shots.selfie.pixels));
    let (v, selfie) = verify_in_new_log(e, &shots, Some(&ahead));
    assert_eq!((v.matched, v.front_score), (plain.matched, plain.front_score));
    assert_eq!((&v.src.faces, &v.front.faces), (&plain.src.faces, &plain.front.faces));
    assert_eq!(selfie, plain_selfie);

    // Made from other pixels (another photo of the same person, which would also match, with
    // another score): not used, neither its analysis nor its picture.
    let other =
        facematch::intake::decode(&std::fs::read(face("barack_obama", 3)).unwrap()).unwrap();
    let other =
        PreparedSelfie::prepare(&mut e.detector, &mut e.embedder, other.pixels, true).unwrap();
    assert!(!other.is_of(&shots.selfie.pixels));
    let (v, selfie) = verify_in_new_log(e, &shots, Some(&other));
    assert_eq!((v.matched, v.front_score), (plain.matched, plain.front_score));
    assert_eq!(v.src.faces, plain.src.faces);
    assert_eq!(selfie, plain_selfie);
}

/// The kiosk demo (`scripts/kiosk.sh`): the selfie is a frame of a bona fide session made from
/// the bundled sample, the card is printed with another photo generated from it
/// (`card --other-photo`); that pair is a match, while the bundled card printed from the
/// sample itself is refused by the copy rule, as a card held up to the camera is.
#[test]
fn the_demo_card_matches_the_demo_selfie_and_a_card_of_the_same_photo_is_refused() {
    use facematch_lab::synthetic_session::{generate, posed, Species, OTHER_PHOTO_POSE};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let sample = |name: &str| {
        let bytes = std::fs::read(root.join("assets/samples").join(name)).unwrap();
        facematch::intake::decode(&bytes).unwrap().pixels
    };
    let photo = sample("selfie_astronaut.png");
    let mut e = engine();
    let e = &mut *e;
    let subject =
        facematch::detection::find_faces(&mut e.detector, &photo, Role::Selfie).unwrap()[0];
    let challenge = "left up right".parse().unwrap();
    let session = generate(&photo, &subject, Species::BonaFide, &challenge, 1);
    let selfie = session.frames[0].clone();
    let other = posed(&photo, &subject, OTHER_PHOTO_POSE, 1);
    let other_face =
        facematch::detection::find_faces(&mut e.detector, &other, Role::Selfie).unwrap()[0];
    let demo_card = print_card(&portrait_crop(&other, &other_face.bbox), 1);
    let demo_card = facematch::intake::decode(&demo_card).unwrap().pixels;
    let mut verify = |front| {
        let shots = Captures::from_frames(selfie.clone(), front, None);
        verify_and_record(&mut e.detector, &mut e.embedder, None, PARAMS, &shots, None).unwrap()
    };
    let demo = verify(demo_card);
    let cosine = demo.best_score().unwrap().cosine;
    eprintln!("demo card: cosine {cosine:.3}");
    assert!(demo.matched && !demo.document_copy, "the demo's happy path: cosine {cosine}");
    assert!(cosine < 0.85, "clear of the copy rule (0.90): {cosine}");
    let copy = verify(sample("card_astronaut.jpg"));
    let cosine = copy.best_score().unwrap().cosine;
    eprintln!("bundled card of the same photo: cosine {cosine:.3}");
    assert!(copy.document_copy && !copy.matched, "a card of the selfie's own photo: {cosine}");
}
