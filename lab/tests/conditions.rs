//! Real people's cameras and paces, through the real detector, tracker and embedder: a head
//! filmed by a cheap webcam (8 frames/s, 320×240, noise σ 10, JPEG 40, dim, all at once),
//! moving briskly, slowly or with long pauses, or turning on a neck, still passes; a print filmed by that webcam still
//! fails; `liveness eval` gives BPCER per condition from the CSV's `condition` and `fps`.

use facematch::liveness::{check, Challenge, Failure};
use facematch_lab::session_condition::SessionCondition;
use facematch_lab::synthetic_session::{generate_filmed, Species};

use crate::liveness::{generate_cli, photo};
use crate::util::{engine, facematch, json};

/// The frames of a session as the condition's camera writes them: JPEG at its quality.
fn as_written(frames: Vec<image::RgbImage>, condition: &SessionCondition) -> Vec<image::RgbImage> {
    frames
        .iter()
        .map(|f| {
            let jpeg = facematch::intake::encode_jpeg(f, condition.jpeg_quality).unwrap();
            facematch::intake::decode(&jpeg).unwrap().pixels
        })
        .collect()
}

#[test]
fn a_head_passes_under_every_camera_and_pace_and_a_print_never_does() {
    let (pixels, subject) = photo("barack_obama", 1);
    let asked: Challenge = "right up left".parse().unwrap();
    for condition in SessionCondition::EVERY {
        // The print under the worst camera, where the tracker's tolerances are widest.
        let species: &[Species] = match condition.name {
            "webcam" => &[Species::BonaFide, Species::Print],
            _ => &[Species::BonaFide],
        };
        for &species in species {
            let session = generate_filmed(&pixels, &subject, species, &asked, 11, None, &condition);
            assert_eq!(session.frames[0].dimensions(), condition.size, "{condition}");
            let frames = as_written(session.frames, &condition);
            let mut guard = engine();
            let e = &mut *guard;
            let report =
                check(&mut e.detector, &mut e.embedder, frames, asked.clone(), condition.fps, None)
                    .unwrap();
            match species {
                Species::BonaFide => {
                    assert_eq!(report.outcome, Ok(()), "{condition}: {report:?}")
                }
                _ => assert!(
                    matches!(
                        report.outcome,
                        Err(Failure::MovementNotSeen(_)
                            | Failure::Flat { .. }
                            | Failure::NotFramed)
                    ),
                    "{condition} {species}: {report:?}"
                ),
            }
        }
    }
}

#[test]
fn generate_and_eval_give_bpcer_per_condition_at_each_sessions_own_rate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sessions");
    let csv = generate_cli(&out, "bona_fide", &["--condition", "clean,webcam,webcam"]);
    assert!(csv.contains(",8,,webcam\n") && csv.contains(",15,,clean\n"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "a condition named twice is made once: {csv}");
    let webcam = csv.lines().find(|l| l.ends_with(",webcam")).unwrap();
    let folder = out.join(webcam.split(',').next().unwrap());
    let first = image::open(folder.join("000.jpg")).unwrap();
    assert_eq!((first.width(), first.height()), (320, 240));

    let sessions = out.join("sessions.csv");
    let eval = facematch(&["liveness", "eval", "--sessions", sessions.to_str().unwrap()]);
    assert_eq!(eval.status.code(), Some(0), "{}", String::from_utf8_lossy(&eval.stderr));
    let v = json(&eval);
    for condition in ["clean", "webcam"] {
        assert_eq!(v["bpcer_by_condition"][condition]["attempts"], 1, "{v}");
        assert_eq!(v["bpcer_by_condition"][condition]["bpcer"], 0.0, "{v}");
    }

    // Each row's own rate is read (not --fps), so one no camera has is refused by its column.
    let wrong = csv.replace(",8,,webcam", ",0.5,,webcam");
    std::fs::write(&sessions, wrong).unwrap();
    let eval = facematch(&["liveness", "eval", "--sessions", sessions.to_str().unwrap()]);
    assert_eq!(eval.status.code(), Some(2), "{}", String::from_utf8_lossy(&eval.stderr));
    let said = String::from_utf8_lossy(&eval.stderr);
    assert!(said.contains("row 3: the fps column must be at least 1, not 0.5"), "{said}");
}
