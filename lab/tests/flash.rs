//! The screen as a light source, through the real detector, tracker and embedder, on sessions
//! generated from a `../shared` photo under the kiosk's colours: a head answers the sequence
//! drawn for its attempt; a splice and a replay recorded under an earlier attempt's colours, a
//! phone screen and a frozen frame do not. A print, a card and a rigid mask reflect the colours
//! as a face does: the flash cannot tell them (the movement test refuses the flat ones), which
//! the test states rather than hides.

use facematch::liveness::flash::FlashVerdict;
use facematch::liveness::{check, Challenge, Failure};
use facematch_lab::session_condition::SessionCondition;
use facematch_lab::synthetic_session::{generate_filmed, ScreenLight, Species, FPS};

use crate::liveness::{generate_cli, photo, run_check};
use crate::util::{engine, facematch, json};

#[test]
fn a_head_answers_its_own_colours_and_recordings_prints_and_screens_do_not() {
    let (pixels, subject) = photo("barack_obama", 1);
    let asked: Challenge = "left up right".parse().unwrap();
    let light = ScreenLight::draw(0.15, 4);
    for species in Species::EVERY {
        let session = generate_filmed(
            &pixels,
            &subject,
            species,
            &asked,
            11,
            Some(&light),
            &SessionCondition::CLEAN,
        );
        let mut guard = engine();
        let e = &mut *guard;
        let flash = Some(light.shown.clone());
        let report =
            check(&mut e.detector, &mut e.embedder, session.frames, asked.clone(), FPS, flash)
                .unwrap();
        let figures = report.flash.as_ref().map(|f| f.1);
        eprintln!("{species}: {:?} {figures:?}", report.outcome);
        let verdict = figures.map(|f| f.verdict);
        match species {
            Species::BonaFide | Species::Mask => {
                assert_eq!(report.outcome, Ok(()), "{species}: {report:?}");
                let f = figures.unwrap();
                assert!((f.latency - light.latency).abs() <= 0.07, "{species}: {f:?}");
            }
            Species::Splice | Species::VideoReplay => {
                assert!(!report.live(), "{species}: {report:?}");
                assert_ne!(verdict, Some(FlashVerdict::Answered), "{species}: {report:?}");
            }
            Species::Print | Species::BentPrint | Species::Card => {
                // Paper reflects the colours as skin does: only the movement test refuses it.
                assert!(!report.live(), "{species}: {report:?}");
                assert_eq!(verdict, Some(FlashVerdict::Answered), "{species}: {report:?}");
            }
            Species::Screen | Species::Static => {
                // A screen gives off its own light; a frozen frame does not change at all.
                assert!(!report.live(), "{species}: {report:?}");
                assert_eq!(verdict, Some(FlashVerdict::TooFaint), "{species}: {report:?}");
            }
        }
        if species == Species::Splice {
            // The movements are the asked ones, in order: only the colours refuse it.
            assert!(report.steps.iter().all(|s| s.done), "{report:?}");
            assert!(matches!(report.outcome, Err(Failure::Flash(_))), "{report:?}");
        }
    }
}

#[test]
fn generate_and_eval_under_the_kiosks_colours_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sessions");
    let csv = generate_cli(&out, "bona_fide,splice", &["--flash", "0.15"]);
    assert!(csv.starts_with("frames,challenge,label,person,shows,fps,flash,condition\n"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "{csv}");

    let sessions = out.join("sessions.csv");
    let eval = facematch(&["liveness", "eval", "--sessions", sessions.to_str().unwrap()]);
    assert_eq!(eval.status.code(), Some(0), "{}", String::from_utf8_lossy(&eval.stderr));
    let v = json(&eval);
    assert_eq!(v["bpcer"], 0.0, "{v}");
    assert_eq!(v["apcer"]["splice"]["rate"], 0.0, "{v}");
    assert_eq!(v["apcer"]["splice"]["reasons"]["flash_not_followed"], 1, "{v}");

    // One attempt's evidence names its colours and what the face did with them.
    let row = csv.lines().find(|l| l.contains(",bona_fide,")).unwrap();
    let fields: Vec<&str> = row.split(',').collect();
    let frames = out.join(fields[0]);
    let check = |flash: &str| run_check(&frames, fields[1], &["--flash", flash]);
    let answered = check(fields[6]);
    assert_eq!(answered.status.code(), Some(0));
    let v = json(&answered);
    assert_eq!(
        (v["live"].as_bool(), v["flash"]["verdict"].as_str()),
        (Some(true), Some("answered"))
    );
    assert_eq!(v["flash"]["sequence"], fields[6]);
    assert!(v["flash"]["correlation"].as_f64().unwrap() >= 0.8, "{v}");

    // The same frames against colours drawn for another attempt: refused.
    let other = "r0.5 g0.6 b0.7 c0.5 m0.8 y0.6 r0.9 b0.5 g0.5 y0.7 c0.6 m0.5 r0.6 g0.8";
    let v = json(&check(other));
    assert_eq!(
        (v["live"].as_bool(), v["reason"].as_str()),
        (Some(false), Some("flash_not_followed")),
        "{v}"
    );

    // A sequence that cannot be read is the contract's 4001, not a panic.
    let bad = check("r0.6 x0.5");
    assert_eq!(bad.status.code(), Some(2));
    let v = json(&bad);
    assert_eq!(v["code"], 4001, "{v}");
    assert!(v["details"].as_str().unwrap().contains("--flash"), "{v}");
}
