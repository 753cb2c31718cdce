//! Liveness through the real detector, embedder and CLI, on sessions generated from
//! `../shared` photos: a bona fide rendering passes; a print, a phone screen, the ID card
//! held up and a frozen frame fail; a replayed video of another order fails; `liveness check`
//! and `liveness eval` answer in their documented shapes.

use std::path::Path;

use facematch::detection::find_faces;
use facematch::domain::{Face, Role};
use facematch::liveness::{check, Attempt, Challenge, Failure};
use facematch_lab::synthetic_card::encode_jpeg;
use facematch_lab::synthetic_session::{generate, Species, FPS};
use image::RgbImage;

use crate::util::{engine, face, facematch, json};

/// A frontal photo of ../shared and its face.
pub fn photo(identity: &str, n: u32) -> (RgbImage, Face) {
    let bytes = std::fs::read(face(identity, n)).unwrap();
    let pixels = facematch::intake::decode(&bytes).unwrap().pixels;
    let faces = find_faces(&mut engine().detector, &pixels, Role::Selfie).unwrap();
    (pixels, faces[0])
}

fn write_frames(dir: &Path, frames: &[RgbImage]) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, f) in frames.iter().enumerate() {
        std::fs::write(dir.join(format!("{i:03}.jpg")), encode_jpeg(f, 90)).unwrap();
    }
}

#[test]
fn a_head_passes_and_flat_pictures_frozen_frames_and_wrong_orders_fail() {
    let (pixels, subject) = photo("barack_obama", 1);
    let asked: Challenge = "left up right".parse().unwrap();
    for &species in Species::ALL {
        let session = generate(&pixels, &subject, species, &asked, 11);
        let mut guard = engine();
        let e = &mut *guard;
        let report =
            check(&mut e.detector, &mut e.embedder, session.frames, asked.clone(), FPS, None)
                .unwrap();
        match species {
            Species::BonaFide => {
                assert_eq!(report.outcome, Ok(()), "{report:?}");
                assert!(report.steps.iter().all(|s| s.done && s.parallax >= 0.06), "{report:?}");
                assert!(report.identity_percent.unwrap() > 90.0, "{report:?}");
                assert!(report.selfie_frame.is_some());
            }
            Species::VideoReplay => {
                assert_ne!(session.shows, asked.0, "seed 11 replays another order");
                assert!(!report.live(), "{species}: {report:?}");
            }
            _ => assert!(
                matches!(
                    report.outcome,
                    Err(Failure::MovementNotSeen(_) | Failure::Flat { .. } | Failure::NotFramed)
                ),
                "{species}: {report:?}"
            ),
        }
        if species != Species::BonaFide {
            // No attack moved the nose off the face plane as a head does.
            assert!(report.steps.iter().all(|s| !s.done || species == Species::VideoReplay));
        }
    }
}

/// `facematch-lab liveness generate` of jennifer_aniston's sessions of `species` into `out`,
/// with `more` arguments; its sessions.csv, after checking it exited 0.
pub fn generate_cli(out: &Path, species: &str, more: &[&str]) -> String {
    let faces = crate::util::shared().join("faces");
    let mut args = vec!["liveness", "generate", "--faces", faces.to_str().unwrap()];
    args.extend(["--out", out.to_str().unwrap(), "--person", "jennifer_aniston"]);
    args.extend(["--species", species]);
    args.extend(more);
    let made = crate::util::lab(&args);
    assert_eq!(made.status.code(), Some(0), "{}", String::from_utf8_lossy(&made.stderr));
    std::fs::read_to_string(out.join("sessions.csv")).unwrap()
}

/// `facematch liveness check` on a folder, asked `challenge`, with `more` arguments.
pub fn run_check(frames: &Path, challenge: &str, more: &[&str]) -> std::process::Output {
    let mut args = vec!["liveness", "check", "--frames", frames.to_str().unwrap()];
    args.extend(["--challenge", challenge]);
    args.extend(more);
    facematch(&args)
}

/// `facematch liveness check` on a folder: its JSON, after checking it exited 0.
fn check_cli(frames: &Path, challenge: &str) -> serde_json::Value {
    let out = run_check(frames, challenge, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    json(&out)
}

#[test]
fn liveness_check_and_eval_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (pixels, subject) = photo("jennifer_aniston", 1);
    let asked: Challenge = "right down left".parse().unwrap();
    let mut csv = String::from("frames,challenge,label,note\n");
    for species in [Species::BonaFide, Species::Print, Species::Card, Species::Static] {
        let session = generate(&pixels, &subject, species, &asked, 5);
        write_frames(&dir.path().join(species.label()), &session.frames);
        csv.push_str(&format!("{0},{asked},{0},x\n", species.label()));
    }
    std::fs::write(dir.path().join("sessions.csv"), csv).unwrap();

    let bona_fide = dir.path().join("bona_fide");
    let v = check_cli(&bona_fide, "right down left");
    assert_eq!(v["live"], true, "{v}");
    assert!(v["reason"].is_null());
    assert_eq!(v["steps"].as_array().unwrap().len(), 3);
    assert_eq!(v["steps"][1]["movement"], "down");
    assert!(v["parallax"].as_f64().unwrap() >= 0.06);
    assert!(v["faceFrames"].as_u64().unwrap() <= v["frames"].as_u64().unwrap());

    // The same frames against another order: not live, and the reason says why.
    let v = check_cli(&bona_fide, "left,down,right");
    assert_eq!((v["live"].as_bool(), v["reason"].as_str()), (Some(false), Some("wrong_movement")));

    let out = facematch(&[
        "liveness",
        "eval",
        "--sessions",
        dir.path().join("sessions.csv").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!((v["sessions"].as_u64(), v["bona_fide"].as_u64()), (Some(4), Some(1)));
    assert_eq!(v["attacks"], 3);
    assert_eq!(v["bpcer"], 0.0, "{v}");
    for species in ["print", "card", "static"] {
        assert_eq!(v["apcer"][species]["rate"], 0.0, "{v}");
        assert_eq!(v["apcer"][species]["attempts"], 1);
    }
    assert_eq!(v["apcer_max"], 0.0);
}

#[test]
fn bad_liveness_input_gets_the_contracts_4001() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("000.jpg"), b"not a picture").unwrap();
    let empty = tempfile::tempdir().unwrap();
    let cases: [(&Path, &str, &str); 4] = [
        (dir.path(), "left up right", "not a usable picture"),
        (empty.path(), "left up right", "no JPEG or PNG frames"),
        (Path::new("/no/such/folder"), "left", "cannot read the frames folder"),
        (dir.path(), "left sideways", "unknown movement"),
    ];
    for (frames, challenge, says) in cases {
        let out = run_check(frames, challenge, &[]);
        assert_eq!(out.status.code(), Some(2), "{challenge}");
        let v = json(&out);
        assert_eq!(v["code"], 4001, "{v}");
        assert!(v["details"].as_str().unwrap().contains(says), "{v}");
    }
}

/// The seam for a passive model: none ships, so the check here stands for one. It can turn a
/// passed attempt into a refusal, and is asked about the selfie frame only.
struct Verdict(bool, std::rc::Rc<std::cell::Cell<u32>>);

impl facematch::liveness::passive::PassiveCheck for Verdict {
    fn looks_live(
        &mut self,
        _: &RgbImage,
        face: &Face,
    ) -> Result<bool, facematch::model_error::ModelError> {
        assert!(face.bbox.w > 100.0, "the selfie's face");
        self.1.set(self.1.get() + 1);
        Ok(self.0)
    }
}

#[test]
fn a_passive_check_can_refuse_a_passed_attempt_but_not_pass_a_failed_one() {
    let (pixels, subject) = photo("barack_obama", 1);
    let asked: Challenge = "down right up".parse().unwrap();
    let head = generate(&pixels, &subject, Species::BonaFide, &asked, 2).frames;
    let print = generate(&pixels, &subject, Species::Print, &asked, 2).frames;
    for (frames, passive_says, live) in
        [(&head, true, true), (&head, false, false), (&print, true, false)]
    {
        let asked_times = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut attempt = Attempt::new(asked.clone(), FPS)
            .with_passive(Box::new(Verdict(passive_says, asked_times.clone())));
        let mut guard = engine();
        let e = &mut *guard;
        for frame in frames {
            attempt.observe(&mut e.detector, frame).unwrap();
        }
        let report = attempt.conclude(&mut e.embedder).unwrap();
        assert_eq!(report.live(), live, "{report:?}");
        let passed_movements = frames == &head;
        if passed_movements && !live {
            assert_eq!(report.outcome, Err(Failure::PassiveRefused));
        }
        assert_eq!(
            asked_times.get(),
            u32::from(passed_movements),
            "asked about passed attempts only"
        );
    }
}
