//! A kiosk verification recorded through `kiosk::recording` with the real models and a real
//! SQLite file: a verdict that reaches the log is shown; one the log refuses is not.

use facematch::domain::{DocumentType, Role};
use facematch::kiosk::recording::{result_view, verify_and_record, Captures, RecordingError};
use facematch::matching::Threshold;
use facematch::store::Store;
use facematch::synthetic_card::{portrait_crop, print_card};
use facematch::verify::MatchParams;

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
        verify_and_record(&mut e.detector, &mut e.embedder, Some(&mut store), PARAMS, &shots)
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
        verify_and_record(&mut e.detector, &mut e.embedder, Some(&mut store), PARAMS, &shots)
    };
    assert!(matches!(outcome, Err(RecordingError::Store(_))), "{outcome:?}");
    let view = result_view(outcome, shots, PARAMS);
    assert!(!view.matched && view.percent.is_none(), "no verdict without a record");
    assert!(view.reason.contains("could not be saved"), "{}", view.reason);
    assert_eq!(store.list_verifications(5).unwrap().len(), 1, "nothing half-written");
}
