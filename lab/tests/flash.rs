//! The screen as a light source, through the real detector, tracker and embedder, on sessions
//! generated from a `../shared` photo under the kiosk's colours: a head answers the sequence
//! drawn for its attempt; a splice and a replay recorded under an earlier attempt's colours, a
//! phone screen and a frozen frame do not. A print, a card and a rigid mask reflect the colours
//! as a face does: the flash cannot tell them (the movement test refuses the flat ones), which
//! the test states rather than hides.

use std::time::{Duration, Instant};

use facematch::detection::find_faces;
use facematch::domain::Role;
use facematch::kiosk::liveness_step::{FlashShow, LivenessMode, LivenessStep, ScreenColours};
use facematch::liveness::flash::{FlashRefusal, FlashSequence, FlashVerdict};
use facematch::liveness::{check, Challenge, Failure, FaintFlash, Report};
use facematch_lab::session_condition::{Pace, SessionCondition};
use facematch_lab::synthetic_session::{generate_filmed, LiveHead, ScreenLight, Species, FPS};

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
            Species::FoldedPrint => {
                // Folded along the nose, paper shows depth as a head does, and reflects the
                // colours as skin does: neither test refuses it (docs/liveness.md).
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

/// What lights the person in front of the kiosk in [`kiosk_attempt`].
#[derive(Clone)]
enum Lit {
    /// The colours the kiosk's step draws for the attempt: a person in front of its screen.
    ByTheScreen,
    /// Colours drawn for an earlier attempt: a recording made then, or clips spliced from it,
    /// injected in place of the camera.
    Earlier(FlashSequence),
    /// None: a feed made away from the screen (or a screen held up, which gives off its own).
    Nothing,
}

/// The camera's latency in [`kiosk_attempt`]: a frame shows the colour on screen this long
/// before it came.
const LATENCY: f32 = 0.12;

/// One attempt of the kiosk's selfie step closed round a person filmed and paced as
/// `condition` says: frames come at its rate on a clock of their own, the step draws its colours
/// when the attempt starts, and each frame shows the person lit as `lit` says at the frame's
/// time (the screen's light at 0.15 of the room's on a surface facing it). Returns the step's
/// report, the colours it drew and its last words.
fn kiosk_attempt(
    lit: Lit,
    colours: ScreenColours,
    condition: &SessionCondition,
) -> (Report, Option<FlashShow>, &'static str) {
    let (pixels, subject) = photo("barack_obama", 1);
    let asked: Challenge = "left up right".parse().unwrap();
    let fps = condition.fps;
    let mut person = LiveHead::new(&pixels, &subject, &asked, 5, condition);
    let mut step = LivenessStep::default();
    step.colours = colours;
    let mode = LivenessMode::Fixed(asked);
    let clock = Instant::now();
    let (mut started_at, mut shown, mut previous) = (None::<usize>, None::<FlashShow>, None);
    for i in 0..900 {
        let taken = clock + Duration::from_secs_f32(i as f32 / fps);
        let light = |sequence: &FlashSequence, started: Instant| {
            let t = (taken - Duration::from_secs_f32(LATENCY)).checked_duration_since(started);
            t.and_then(|t| sequence.at(t.as_secs_f32()))
                .map_or([0.0; 3], |(tint, _)| tint.light().map(|l| 0.15 * l))
        };
        let on_face = match (&lit, &shown) {
            (Lit::ByTheScreen, Some(s)) => light(&s.sequence, s.started),
            (Lit::Earlier(sequence), Some(s)) => light(sequence, s.started),
            _ => [0.0; 3],
        };
        let frame = person.frame(started_at.map(|s| i - s), on_face);
        let mut guard = engine();
        let e = &mut *guard;
        let faces = find_faces(&mut e.detector, &frame, Role::Selfie).unwrap();
        let out = step.frame(&mode, &frame, taken, &faces, previous, fps, &mut e.embedder).unwrap();
        previous = faces.first().map(|f| f.bbox);
        if started_at.is_none() && (out.flash.is_some() || out.view.steps > 0) {
            // The attempt started on this frame (with colours, the step says so at once):
            // the person starts the movements.
            started_at = Some(i + 1);
            shown = out.flash.clone();
        }
        if let Some(ended) = out.ended {
            assert!(out.flash.is_none(), "the colours stop with the attempt");
            return (ended.report, shown, out.text);
        }
        if started_at.is_some() {
            assert_eq!(out.flash, shown, "the same colours throughout the attempt");
        }
    }
    panic!("the attempt did not end in 60 s of frames");
}

#[test]
fn the_kiosk_draws_its_colours_per_attempt_and_only_a_person_lit_by_them_passes() {
    const CLEAN: SessionCondition = SessionCondition::CLEAN;
    let refuse = ScreenColours { on: true, faint: FaintFlash::Refuse };

    // A person in front of the screen answers the colours drawn for the attempt, at the
    // camera's latency.
    let (report, shown, _) = kiosk_attempt(Lit::ByTheScreen, refuse, &CLEAN);
    let shown = shown.expect("the step drew colours for the attempt");
    let (sequence, f) = report.flash.clone().expect("the report keeps the colours' figures");
    eprintln!("person: {:?} {f:?}", report.outcome);
    assert_eq!(sequence, shown.sequence);
    assert_eq!(report.outcome, Ok(()), "{report:?}");
    assert_eq!(f.verdict, FlashVerdict::Answered, "{f:?}");
    // The first colour comes on a little after the attempt starts, so that the screen shows
    // it whole; the latency found is the camera's, measured from the frames.
    assert!((f.latency - LATENCY).abs() <= 0.07, "{f:?}");
    assert!(!report.movement_only);

    // The same movements recorded under an earlier attempt's colours and injected: every
    // movement is done, in order; the colours refuse it.
    let earlier = FlashSequence::draw({
        let mut n = 0u64;
        move || {
            n = n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            n >> 33
        }
    });
    let (report, _, text) = kiosk_attempt(Lit::Earlier(earlier), refuse, &CLEAN);
    eprintln!("splice: {:?} {:?}", report.outcome, report.flash.as_ref().map(|f| f.1));
    assert!(report.steps.iter().all(|s| s.done), "{report:?}");
    assert_eq!(report.outcome, Err(Failure::Flash(FlashRefusal::NotFollowed)), "{report:?}");
    assert_eq!(text, "Please stay in front of the camera. Let's try again");

    // Frames lit by nothing the screen shows: refused as too faint, and the customer is asked
    // to come closer...
    let (report, _, text) = kiosk_attempt(Lit::Nothing, refuse, &CLEAN);
    assert_eq!(report.outcome, Err(Failure::Flash(FlashRefusal::TooFaint)), "{report:?}");
    assert_eq!(text, "Please come a little closer to the screen. Let's try again");
    // ...or, where the kiosk is set so, decided by the movement test alone and said so.
    let movement_only = ScreenColours { on: true, faint: FaintFlash::MovementOnly };
    let (report, _, _) = kiosk_attempt(Lit::Nothing, movement_only, &CLEAN);
    assert_eq!(report.outcome, Ok(()), "{report:?}");
    assert!(report.movement_only, "{report:?}");
    let evidence = facematch::record::attempt::new_attempt(&report, None, Default::default());
    let v: serde_json::Value = serde_json::from_str(&evidence.evidence_json).unwrap();
    assert_eq!(
        (v["flash"]["verdict"].as_str(), v["flash"]["movementOnly"].as_bool()),
        (Some("too_faint"), Some(true)),
        "{v}"
    );

    // With the colours off (staff turned them off for a customer) nothing is drawn, and the
    // movement test decides.
    let off = ScreenColours { on: false, faint: FaintFlash::Refuse };
    let (report, shown, _) = kiosk_attempt(Lit::Nothing, off, &CLEAN);
    assert!(shown.is_none() && report.flash.is_none(), "{report:?}");
    assert_eq!(report.outcome, Ok(()), "{report:?}");

    // A brisk person who does not pause is done with the movements within 3 s of colours,
    // before the face can have answered 6 changes of colour (each held at least 0.5 s): the
    // step has them hold still until it has.
    let brisk: SessionCondition = "brisk".parse().unwrap();
    let pace = Pace { pause: 0.0, hold: 0.0, ..brisk.pace };
    let briskest = SessionCondition { name: "briskest", pace, ..brisk };
    let (report, shown, _) = kiosk_attempt(Lit::ByTheScreen, refuse, &briskest);
    let f = report.flash.as_ref().map(|f| f.1);
    eprintln!("briskest: {:?} {f:?}, {} frames", report.outcome, report.frames);
    assert_eq!(report.outcome, Ok(()), "{report:?}");
    assert_eq!(f.map(|f| f.verdict), Some(FlashVerdict::Answered), "{report:?}");
    let decided_at = shown.unwrap().sequence.seconds_to_decide();
    assert!(report.frames as f32 / briskest.fps > decided_at, "{report:?}");
}
