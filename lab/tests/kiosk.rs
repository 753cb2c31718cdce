//! The kiosk headless (Slint's testing backend, software renderer): a whole
//! session from welcome to verdict with folder cameras and real photos from
//! `../shared`, the verdict read back from the screen's properties, a declined
//! session that stores nothing, and a snapshot of every screen written to
//! `target/kiosk-screens/` and checked not to be blank; a document held up to the camera
//! taken by itself. Here, beside the generators, because the camera plays a generated liveness
//! session and the scanner a synthetic card; the preview's frame rate is a benchmark, not a
//! test (`facematch-lab kiosk-fps`). The kiosk's tests without a window are the device's.

use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use facematch::camera::CameraSpec;
use facematch::detection::find_faces;
use facematch::domain::{DocumentType, Role};
use facematch::kiosk::flow::{Event, Screen};
use facematch::kiosk::language::Language;
use facematch::kiosk::liveness_step::{LivenessMode, ScreenColours};
use facematch::liveness::flash::Tint;
use facematch::liveness::Challenge;
use facematch::matching::Threshold;
use facematch::store::Store;
use facematch::ui::{
    init, spawn_worker, AppWindow, Arrow, Controller, DocChoice, Kiosk, Settings, ToWorker,
    WorkerConfig,
};
use facematch_lab::synthetic_capture::{capture, Condition};
use facematch_lab::synthetic_card::encode_jpeg;
use facematch_lab::synthetic_card::{portrait_crop, print_card};
use facematch_lab::synthetic_session::{generate, Species};
use image::RgbImage;
use slint::{ComponentHandle, Model};

use crate::data::worker_config;
use crate::util::{engine, face};

/// Saves the window as a PNG and checks that it shows something.
fn snapshot(window: &AppWindow, name: &str) {
    let shot = window.window().take_snapshot().expect("the software renderer draws the window");
    let image =
        image::RgbaImage::from_raw(shot.width(), shot.height(), shot.as_bytes().to_vec()).unwrap();
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../target/kiosk-screens/{name}.png"));
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    image.save(&file).unwrap();
    let mut colours: Vec<[u8; 4]> = image.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 8, "screen {name} looks blank ({} colours)", colours.len());
}

/// A kiosk window at the size of a 10" panel, shown.
fn shown_window() -> AppWindow {
    let window = init().unwrap();
    window.window().set_size(slint::PhysicalSize::new(1024, 768));
    window.show().unwrap();
    window
}

/// A kiosk with its worker, no operator PIN and no saved settings, taken through consent and
/// the document type `choice` to the selfie screen.
fn at_the_selfie(
    config: WorkerConfig,
    camera: &Path,
    choice: DocChoice,
) -> (std::sync::mpsc::Sender<ToWorker>, std::thread::JoinHandle<()>, AppWindow, Rc<Controller>) {
    let (to_worker, from_worker, worker) = spawn_worker(config);
    let window = shown_window();
    let settings = customer_settings(camera, Language::English);
    let controller = Controller::new(&window, to_worker.clone(), from_worker, settings);
    let k = window.global::<Kiosk>();
    k.invoke_start();
    k.invoke_consent(true);
    k.invoke_choose_type(choice);
    (to_worker, worker, window, controller)
}

/// A kiosk's settings without operator PIN or saved choices, starting in `language`, its voice
/// on an ALSA device that does not exist (it fails as on a kiosk without audio, and says so).
fn customer_settings(camera: &Path, language: Language) -> Settings {
    Settings {
        doc_type: DocumentType::Gov,
        idle_timeout: Duration::from_secs(600),
        operator_pin: None,
        threshold: Threshold::DEFAULT,
        camera: CameraSpec::Folder(camera.to_path_buf()),
        settings_file: None,
        pin_state_file: None,
        language,
        voice: true,
        audio_device: Some("facematch-test-no-audio".into()),
        screen_colours: true,
    }
}

/// Pumps the controller until `done` holds, failing after `limit`.
fn wait_for(
    controller: &Controller,
    limit: Duration,
    what: &str,
    done: impl Fn(&Controller) -> bool,
) {
    let started = Instant::now();
    while !done(controller) {
        controller.pump();
        assert!(
            started.elapsed() < limit,
            "timed out waiting for {what} (screen {:?})",
            controller.screen()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_session_from_welcome_to_verdict_with_folder_cameras() {
    // The testing backend with a real software rasterizer, so that snapshots show the pixels.
    let options = i_slint_backend_testing::TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    };
    slint::platform::set_platform(Box::new(i_slint_backend_testing::TestingBackend::new(options)))
        .expect("no other Slint platform in this process");
    let dir = tempfile::tempdir().unwrap();
    let (camera, scanner) = (dir.path().join("camera"), dir.path().join("scanner"));
    std::fs::create_dir_all(&camera).unwrap();
    std::fs::create_dir_all(&scanner).unwrap();
    // The camera plays a generated bona fide session: still, then left, up and right.
    let challenge: Challenge = "left up right".parse().unwrap();
    {
        let photo =
            facematch::intake::decode(&std::fs::read(face("barack_obama", 1)).unwrap()).unwrap();
        let subject = find_faces(&mut engine().detector, &photo.pixels, Role::Selfie).unwrap()[0];
        let session = generate(&photo.pixels, &subject, Species::BonaFide, &challenge, 3);
        // A longer still start, so the challenge begins before the head moves.
        let still = std::iter::repeat_n(&session.frames[0], 12);
        for (i, frame) in still.chain(&session.frames).enumerate() {
            std::fs::write(camera.join(format!("{i:03}.jpg")), encode_jpeg(frame, 90)).unwrap();
        }
    }
    {
        // The scanner holds an ID card printed with another photo of the same person.
        let photo =
            facematch::intake::decode(&std::fs::read(face("barack_obama", 2)).unwrap()).unwrap();
        let mut e = engine();
        let subject = find_faces(&mut e.detector, &photo.pixels, Role::Selfie).unwrap()[0];
        std::fs::write(
            scanner.join("card.jpg"),
            print_card(&portrait_crop(&photo.pixels, &subject.bbox), 3),
        )
        .unwrap();
    }
    let db = dir.path().join("kiosk.db");
    let captured = dir.path().join("captured-sessions");
    let config = WorkerConfig {
        liveness: LivenessMode::Fixed(challenge),
        capture_sessions: Some(captured.clone()),
        camera_trust: Default::default(),
        ..worker_config(
            format!("dir:{}", camera.display()),
            format!("dir:{}", scanner.display()),
            Some(db.clone()),
        )
    };
    let (to_worker, from_worker, worker) = spawn_worker(config);
    let window = shown_window();
    let saved = dir.path().join("kiosk-settings.toml");
    let settings = Settings {
        doc_type: DocumentType::Gov,
        idle_timeout: Duration::from_secs(600),
        operator_pin: Some({
            use facematch::kiosk::pin::{hash_pin, PinSecret, StaffPin};
            let secret = PinSecret::new([7; 32]);
            StaffPin::new(hash_pin("246813", &secret).unwrap(), Some(secret))
        }),
        threshold: Threshold::DEFAULT,
        camera: CameraSpec::Folder(camera.to_path_buf()),
        settings_file: Some(saved.clone()),
        pin_state_file: Some(dir.path().join("kiosk-pin-lock.toml")),
        language: Language::English,
        voice: true,
        // No such ALSA device: the voice fails as on a kiosk without audio, and says so.
        audio_device: Some("facematch-test-no-audio".into()),
        screen_colours: true,
    };
    let controller = Controller::new(&window, to_worker.clone(), from_worker, settings.clone());
    let k = window.global::<Kiosk>();

    // As `ui::run` does for `kiosk --capture-sessions`: the consent says the attempt is recorded.
    k.set_capture_sessions(true);
    // The camera plays a recording, which cannot answer colours drawn after it was made: staff
    // turn them off for this customer, as for one whom flashing light troubles.
    assert!(k.get_screen_colours() && k.get_kiosk_colours());
    k.invoke_staff();
    for d in [2, 4, 6, 8, 1, 3] {
        k.invoke_pin_digit(d);
    }
    k.invoke_pin_ok();
    assert_eq!(controller.screen(), Screen::Operator);
    k.invoke_toggle_screen_colours();
    assert!(!k.get_screen_colours());
    snapshot(&window, "0-operator-colours-off");
    k.invoke_back();
    assert_eq!(controller.screen(), Screen::Welcome);
    assert!(!k.get_screen_colours(), "still off for the customer who comes next");
    snapshot(&window, "1-welcome");
    k.invoke_start();
    assert_eq!(controller.screen(), Screen::Consent);
    // Back to the welcome screen from the consent (to choose another language) is the same
    // customer: the colours stay off.
    k.invoke_back();
    assert_eq!(controller.screen(), Screen::Welcome);
    assert!(!k.get_screen_colours(), "off still, for the same customer");
    k.invoke_start();
    assert_eq!(controller.screen(), Screen::Consent);
    snapshot(&window, "2-consent");
    the_bar_stays_a_bar_on_a_large_screen(&window, "2-consent", NEUTRAL);
    k.invoke_consent(true);
    snapshot(&window, "3-document-type");
    the_bar_stays_a_bar_on_a_large_screen(&window, "3-document-type", NEUTRAL);
    k.invoke_choose_type(DocChoice::Passport);
    assert_eq!(controller.screen(), Screen::Selfie);

    // The live preview arrives with a face box and guidance; a steady, large face is taken by itself.
    wait_for(&controller, Duration::from_secs(30), "the first selfie preview", |c| {
        *c.previews.borrow() > 0
    });
    assert!(k.get_preview_face().shown && !k.get_guidance().is_empty());
    snapshot(&window, "4-selfie");
    the_bar_stays_a_bar_on_a_large_screen(&window, "4-selfie", NEUTRAL);
    // The challenge: each movement asked with its arrow and "Step n of 3", then the selfie is
    // taken from inside the attempt.
    for (n, (words, arrow)) in [
        ("to your left", Arrow::Left),
        ("Lift your chin", Arrow::Up),
        ("to your right", Arrow::Right),
    ]
    .into_iter()
    .enumerate()
    {
        wait_for(&controller, Duration::from_secs(60), words, |_| {
            k.get_guidance().contains(words) && k.get_challenge_progress() > 0.3
        });
        assert_eq!(k.get_challenge_arrow(), arrow);
        assert_eq!((k.get_challenge_step(), k.get_challenge_steps()), (n as i32 + 1, 3));
        assert!(k.get_liveness_on(), "no button skips the challenge");
        snapshot(
            &window,
            &format!("4{}-liveness-{}", ["a", "b", "c"][n], ["left", "up", "right"][n]),
        );
    }
    wait_for(&controller, Duration::from_secs(60), "the selfie after the challenge", |c| {
        c.screen() == Screen::DocumentFront
    });
    // The document preview (its rate on this machine: `facematch-lab kiosk-fps`); taken with the button.
    let before = *controller.previews.borrow();
    wait_for(&controller, Duration::from_secs(30), "document previews", |c| {
        *c.previews.borrow() >= before + 10
    });
    assert!(k.get_preview_face().shown, "the face on the card is boxed");
    assert!(k.get_can_take(), "a frame is there to take");
    snapshot(&window, "5-document-front");
    k.invoke_capture();
    assert_eq!(controller.screen(), Screen::DocumentBack);
    assert!(!k.get_can_take(), "no picture of the back yet");
    // The scanner still shows the front: the screen asks to turn it over, and neither the
    // button nor a tap on it takes the front as the back.
    wait_for(&controller, Duration::from_secs(30), "the back step seeing the front", |_| {
        k.get_turn_over()
    });
    assert!(!k.get_can_take() && !k.get_preview_face().shown);
    assert_eq!(k.get_guidance(), "Turn the document over and scan its back");
    snapshot(&window, "6-document-back-turn-over");
    k.invoke_capture();
    assert_eq!(controller.screen(), Screen::DocumentBack, "the front is not its own back");
    // The back is scanned: a page of print without a face.
    let back = scanner.join("back.png");
    back_of_card().save(&back).unwrap();
    wait_for(&controller, Duration::from_secs(30), "the back's preview", |_| k.get_can_take());
    assert!(!k.get_turn_over());
    assert_eq!(k.get_guidance(), "Back of the document found: take the picture");
    snapshot(&window, "6-document-back");
    k.invoke_capture();
    assert_eq!(controller.screen(), Screen::Processing);
    // The next sessions' scanner shows the card's front again.
    std::fs::remove_file(&back).unwrap();
    snapshot(&window, "7-processing");
    wait_for(&controller, Duration::from_secs(60), "the verdict", |c| c.screen() == Screen::Result);
    assert!(k.get_matched(), "verdict: {} {}", k.get_verdict(), k.get_reason());
    assert_eq!(k.get_verdict(), "Identity confirmed: it's a match");
    assert!(k.get_percent().starts_with("Match 9"), "{}", k.get_percent());
    assert!(k.get_selfie_face().shown && k.get_document_face().shown);
    snapshot(&window, "8-result");
    the_bar_stays_a_bar_on_a_large_screen(&window, "8-result", CONFIRM);
    // The liveness attempt was recorded for in-house testing, and replays as live from the command line.
    let rows = std::fs::read_to_string(captured.join("sessions.csv")).unwrap();
    let row: Vec<&str> = rows.lines().nth(1).expect("one attempt recorded").split(',').collect();
    assert_eq!(&row[1..], ["left up right", "unlabelled", "true", ""], "{rows}");
    let out = crate::util::facematch(&[
        "liveness",
        "check",
        "--frames",
        captured.join(row[0]).to_str().unwrap(),
        "--challenge",
        row[1],
    ]);
    assert_eq!(crate::util::json(&out)["live"], true);

    k.invoke_done();
    assert_eq!(controller.screen(), Screen::Welcome);
    assert!(k.get_screen_colours(), "the colours are back on once that customer's session ended");

    // A declined session stores nothing; so does a cancelled one.
    k.invoke_start();
    k.invoke_consent(false);
    assert_eq!(controller.screen(), Screen::Welcome);
    k.invoke_start();
    k.invoke_consent(true);
    k.invoke_choose_type(DocChoice::Pan);
    assert_eq!(controller.screen(), Screen::Selfie);
    k.invoke_cancel();
    assert_eq!(controller.screen(), Screen::Welcome);

    // Staff: a wrong PIN is refused, the right one opens the operator screen with the log.
    k.invoke_staff();
    assert_eq!(controller.screen(), Screen::OperatorPin);
    // The keypad stays where it is as the dots and the message come and go.
    let keypad = || *rows_of(&window, ACTION).start();
    let empty = keypad();
    for d in [1, 1, 1, 1, 1, 1] {
        k.invoke_pin_digit(d);
    }
    assert_eq!(keypad(), empty, "the dots moved the keypad");
    k.invoke_pin_ok();
    assert_eq!(controller.screen(), Screen::OperatorPin);
    assert!(k.get_pin_message().contains("Wrong PIN"), "{}", k.get_pin_message());
    assert_eq!(keypad(), empty, "the message moved the keypad");
    for d in [2, 4, 6, 8, 1, 3] {
        k.invoke_pin_digit(d);
    }
    snapshot(&window, "9-operator-pin");
    k.invoke_pin_ok();
    assert_eq!(controller.screen(), Screen::Operator);
    wait_for(&controller, Duration::from_secs(10), "the recent log", |_| {
        k.get_recent().row_count() > 0
    });
    let first = k.get_recent().row_data(0).unwrap();
    assert!(
        first.contains("Passport") && first.contains("FACE_MATCHED") && first.contains("pending"),
        "{first}"
    );
    assert!(k.get_sync_summary().contains("1 pending"), "{}", k.get_sync_summary());
    assert!(k.get_sync_summary().contains("Log head #1 "), "{}", k.get_sync_summary());
    // The session spoke on a kiosk with no audio device: the operator is told, nothing failed.
    assert!(
        k.get_sync_summary().contains("Voice guidance: no audio output"),
        "{}",
        k.get_sync_summary()
    );
    k.invoke_threshold_step(1);
    assert_eq!(k.get_threshold_value(), 90);
    // The last session chose PAN, which stays preselected; the next in the list is VOTER.
    assert_eq!(k.get_default_type_name(), "PAN card");
    k.invoke_next_default_type();
    assert_eq!(k.get_default_type_name(), "Voter ID");
    // The camera choices are the configured folder and this machine's cameras (none in CI).
    k.invoke_next_camera();
    assert_eq!(k.get_default_language_name(), "English");
    k.invoke_next_default_language();
    assert_eq!(k.get_default_language_name(), "Hindi");
    assert_eq!(k.get_language(), "en", "staff screens stay in English");
    assert!(k.get_operator_message().is_empty(), "{}", k.get_operator_message());
    snapshot(&window, "10-operator");
    k.invoke_back();
    assert_eq!(controller.screen(), Screen::Welcome);

    // The operator's choices are on disk, and a restarted kiosk starts with them.
    let choices = facematch::kiosk::settings::load(&saved).unwrap();
    assert_eq!(choices.threshold, Some(90.0));
    assert_eq!(choices.document_type(), Some(DocumentType::Voter));
    assert_eq!(choices.camera.as_deref(), Some(k.get_camera_name().as_str()));
    assert_eq!(choices.language(), Some(Language::Hindi));
    assert_eq!(k.get_language(), "hi", "back on the welcome screen, in the new default language");
    let restarted = Settings {
        doc_type: choices.document_type().unwrap(),
        threshold: choices.threshold().unwrap(),
        language: choices.language().unwrap(),
        ..settings.clone()
    };
    let window2 = init().unwrap();
    let (idle_to_worker, _idle_inbox) = std::sync::mpsc::channel();
    let (_idle_outbox, idle_from_worker) = std::sync::mpsc::channel();
    let _again = Controller::new(&window2, idle_to_worker, idle_from_worker, restarted);
    let k2 = window2.global::<Kiosk>();
    assert_eq!((k2.get_threshold_value(), k2.get_default_type_name().as_str()), (90, "Voter ID"));
    assert_eq!(k2.get_language(), "hi");

    // A choice that cannot be saved says so on the operator screen; the old file stays.
    let unwritable = Settings { settings_file: Some(db.join("s.toml")), ..settings };
    let window3 = init().unwrap();
    let (to3, _inbox3) = std::sync::mpsc::channel();
    let (_outbox3, from3) = std::sync::mpsc::channel();
    let _third = Controller::new(&window3, to3, from3, unwritable);
    let k3 = window3.global::<Kiosk>();
    k3.invoke_threshold_step(-1);
    assert!(k3.get_operator_message().contains("Not saved"), "{}", k3.get_operator_message());
    assert_eq!(facematch::kiosk::settings::load(&saved).unwrap(), choices);

    to_worker.send(ToWorker::Quit).unwrap();
    worker.join().unwrap();
    let store = Store::open(&db, None).unwrap();
    let log = store.list_verifications(10).unwrap();
    assert_eq!(log.len(), 1, "only the finished session is recorded");
    assert_eq!((log[0].doc_type.as_str(), log[0].status.as_str()), ("PASSPORT", "FACE_MATCHED"));
    // The selfie was analysed and encoded when the customer turned to the document.
    let timings: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT timings_json FROM verifications", [], |r| r.get(0))
        .unwrap();
    assert!(timings.contains(r#""selfie_prepared":true"#), "{timings}");
    // The passed attempt is in the liveness log with its evidence, and the verification names it.
    let attempts = store.list_attempts(10).unwrap();
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert!(attempts[0].live && attempts[0].frame_media.is_none());
    // What filmed it is in the evidence: here the folder standing in for the camera.
    let evidence: serde_json::Value = serde_json::from_str(&attempts[0].evidence_json).unwrap();
    let filmed_by = format!("picture folder {}", camera.display());
    assert_eq!(evidence["camera"], filmed_by.as_str(), "{evidence}");
    // And that the screen showed no colours, and why.
    assert_eq!(evidence["screenColoursOff"], "off_for_this_customer", "{evidence}");
    assert!(evidence.get("flash").is_none(), "{evidence}");
    assert_eq!(
        (attempts[0].verification, log[0].liveness_attempt),
        (Some(log[0].id), Some(attempts[0].id))
    );
    drop(store);
    let db_arg = db.to_str().unwrap();
    let out = crate::util::facematch(&["log", "--db", db_arg, "--json"]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let attempt = lines.iter().find(|l| l["record"] == "liveness").expect("the attempt is listed");
    let evidence = &attempt["evidence"];
    assert_eq!(
        (evidence["live"].as_bool(), evidence["challenge"].as_str()),
        (Some(true), Some("left up right"))
    );
    assert!(evidence["steps"].as_array().unwrap().iter().all(|s| s["done"] == true), "{evidence}");
    assert!(evidence["parallax"].as_f64().unwrap() >= 0.05, "{evidence}");
    assert!(evidence["faceFrames"].as_u64().unwrap() > 20, "{evidence}");
    assert_eq!(
        attempt["verification"],
        lines.iter().find(|l| l["record"] == "verification").unwrap()["id"]
    );
    let out = crate::util::facematch(&["log", "verify", "--db", db_arg]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("intact: 1 record(s), 1 liveness attempt(s)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    document_held_up_to_the_camera_is_taken_by_itself(dir.path());
    a_photo_held_still_fails_the_challenge_three_times_then_staff(dir.path());
    a_worker_that_stops_sends_the_screen_to_staff_instead_of_processing_for_ever(dir.path());
    for (default, chosen, panel) in [
        (Language::English, None, PANEL_7_INCH),
        (Language::Hindi, None, PANEL_10_INCH),
        (Language::Bengali, None, PANEL_10_INCH),
        (Language::English, Some(Language::Tamil), PANEL_10_INCH),
        (Language::English, None, WINDOW_800_600),
    ] {
        a_whole_session_in_one_language(&camera, &scanner, default, chosen, panel);
    }
}

/// The rows of `window`'s picture where `colour` (a button's, unique on the screen) is drawn
/// across at least 40 pixels: where that button is, from its top row to its bottom row.
fn rows_of(window: &AppWindow, colour: [u8; 3]) -> std::ops::RangeInclusive<u32> {
    let shot = window.window().take_snapshot().expect("the software renderer draws the window");
    let (w, h) = (shot.width(), shot.height());
    let bytes = shot.as_bytes();
    let rows: Vec<u32> = (0..h)
        .filter(|&y| {
            let row = &bytes[(y * w * 4) as usize..((y + 1) * w * 4) as usize];
            row.chunks_exact(4).filter(|p| p[..3] == colour).count() >= 40
        })
        .collect();
    assert!(!rows.is_empty(), "no {colour:?} on the screen");
    rows[0]..=rows[rows.len() - 1]
}

/// The colour of `window`'s page, in its top-left corner (nothing is drawn there).
fn page_corner(window: &AppWindow) -> [u8; 3] {
    let shot = window.window().take_snapshot().expect("the software renderer draws the window");
    let p = &shot.as_bytes()[(4 * shot.width() + 4) as usize * 4..][..3];
    [p[0], p[1], p[2]]
}

/// Cancel (`Theme.danger`, the bar's last button) is whole on `window`'s screen: neither its
/// bottom nor its right side at the window's edge, where a layout too large is cut off.
fn cancel_is_whole(window: &AppWindow, name: &str) {
    let shot = window.window().take_snapshot().expect("the software renderer draws the window");
    let (w, h) = (shot.width(), shot.height());
    let red = shot.as_bytes().chunks_exact(4).enumerate().filter(|(_, p)| p[..3] == DANGER);
    let (right, bottom) =
        red.fold((0, 0), |(r, b), (i, _)| (r.max(i as u32 % w), b.max(i as u32 / w)));
    assert!(bottom > 0, "{name}: no Cancel button");
    assert!(
        right + 2 < w && bottom + 2 < h,
        "{name}: Cancel cut off at ({right}, {bottom}) of {w}x{h}"
    );
}

/// On a 1920×1080 screen the bottom button drawn in `colour` (Back, or Done) is as tall as a
/// button, not a band stretched over the spare height; the screen is kept as `name`-1920x1080.
fn the_bar_stays_a_bar_on_a_large_screen(window: &AppWindow, name: &str, colour: [u8; 3]) {
    window.window().set_size(slint::PhysicalSize::new(1920, 1080));
    let button = rows_of(window, colour);
    let height = button.end() - button.start() + 1;
    snapshot(window, &format!("{name}-1920x1080"));
    window.window().set_size(slint::PhysicalSize::new(1024, 768));
    assert!((60..=130).contains(&height), "{name}: the button is {height} px tall at 1920x1080");
}

/// The Back button's colour (`Theme.neutral`), Done's (`Theme.confirm`), and the PIN pad's
/// digits' (`Theme.action`).
const NEUTRAL: [u8; 3] = [0x45, 0x5a, 0x64];
const CONFIRM: [u8; 3] = [0x2e, 0x7d, 0x32];
const DANGER: [u8; 3] = [0xb7, 0x1c, 0x1c];
const ACTION: [u8; 3] = [0x15, 0x65, 0xc0];

/// The back of an ID card as a scanner gives it: lines of print on a pale ground, no photo.
fn back_of_card() -> RgbImage {
    RgbImage::from_fn(1011, 638, |x, y| {
        let printed = y % 36 < 5 && (60..950).contains(&x) && (80..560).contains(&y);
        image::Rgb(if printed { [40, 44, 70] } else { [236, 238, 242] })
    })
}

/// The Raspberry Pi 7" panel (the compact theme) and the 10" panels the screens are laid out for.
const PANEL_7_INCH: (u32, u32) = (800, 480);
const PANEL_10_INCH: (u32, u32) = (1024, 768);
/// A desktop window as X11 gives it without a window manager.
const WINDOW_800_600: (u32, u32) = (800, 600);

/// A session in one language from welcome to verdict on a `panel`-sized screen, every screen
/// rendered to `target/kiosk-screens/<code>/` (`en-800x480/` for the 7" panel): the kiosk
/// starts in `default` (`--language`), and the customer may choose `chosen` on the welcome
/// screen; the words Rust sends are in the session's language and digits, and the next
/// session starts in `default` again.
fn a_whole_session_in_one_language(
    camera: &Path,
    scanner: &Path,
    default: Language,
    chosen: Option<Language>,
    panel: (u32, u32),
) {
    let language = chosen.unwrap_or(default);
    // The camera plays a recording, which cannot answer colours drawn after it was made: the
    // worker shows none (as `kiosk --screen-colours off` would), while the screen's settings
    // keep them on so that the consent's words about them are drawn and said in each language.
    let (to_worker, from_worker, worker) = spawn_worker(WorkerConfig {
        liveness: LivenessMode::Fixed("left up right".parse().unwrap()),
        screen_colours: ScreenColours { on: false, ..ScreenColours::default() },
        ..worker_config(
            format!("dir:{}", camera.display()),
            format!("dir:{}", scanner.display()),
            None,
        )
    });
    let window = shown_window();
    window.window().set_size(slint::PhysicalSize::new(panel.0, panel.1));
    let settings = customer_settings(camera, default);
    let controller = Controller::new(&window, to_worker.clone(), from_worker, settings);
    let k = window.global::<Kiosk>();
    let folder = match panel {
        PANEL_10_INCH => language.code().to_string(),
        (w, h) => format!("{}-{w}x{h}", language.code()),
    };
    let shot = |name: &str| snapshot(&window, &format!("{folder}/{name}"));
    assert_eq!(k.get_language(), default.code());
    assert_eq!(k.get_languages().row_count(), 4, "every language is offered");
    if let Some(chosen) = chosen {
        // The customer who chooses a language also asks for large text.
        k.invoke_choose_language(chosen.code().into());
        k.invoke_toggle_large_text();
        assert!(k.get_large_text());
    }
    // The Bengali customer turns the voice off with the speaker button.
    let silent = language == Language::Bengali;
    if silent {
        k.invoke_toggle_voice();
        assert!(!k.get_voice_on());
    }
    assert_eq!(
        (k.get_language().as_str(), k.get_font_family().as_str()),
        (language.code(), language.font_family())
    );
    shot("1-welcome");
    let step = |n: f64| {
        language.format("Step {} of {}", &[language.number(n, 0), language.number(4.0, 0)])
    };
    k.invoke_start();
    assert_eq!(k.get_flow_step_text(), step(1.0));
    shot("2-consent");
    cancel_is_whole(&window, &format!("{folder}/2-consent"));
    k.invoke_consent(true);
    assert_eq!(k.get_flow_step_text(), step(2.0));
    shot("3-document-type");
    cancel_is_whole(&window, &format!("{folder}/3-document-type"));
    k.invoke_choose_type(DocChoice::Passport);
    assert_eq!(k.get_flow_step_text(), step(3.0));
    let said = |english: &str| language.translate(english).to_string();
    if language != Language::English {
        assert_ne!(
            said("Turn your head slowly to your left"),
            "Turn your head slowly to your left"
        );
    }
    wait_for(&controller, Duration::from_secs(60), "the first movement asked", |_| {
        k.get_guidance() == said("Turn your head slowly to your left")
    });
    // The movements are counted in other words than the session's steps shown above them.
    let movement =
        language.format("Movement {} of {}", &[language.number(1.0, 0), language.number(3.0, 0)]);
    assert_eq!(k.get_challenge_step_text(), movement);
    assert_ne!(k.get_challenge_step_text(), k.get_flow_step_text());
    shot("4-selfie-challenge");
    wait_for(&controller, Duration::from_secs(60), "the document screen", |c| {
        c.screen() == Screen::DocumentFront
    });
    assert_eq!(k.get_doc_type_name(), said("passport"));
    assert_eq!(k.get_flow_step_text(), step(4.0));
    wait_for(&controller, Duration::from_secs(30), "a document preview", |_| {
        k.get_preview_face().shown
    });
    shot("5-document-front");
    cancel_is_whole(&window, &format!("{folder}/5-document-front"));
    k.invoke_capture();
    wait_for(&controller, Duration::from_secs(30), "the back step seeing the front", |_| {
        k.get_turn_over()
    });
    shot("6-document-back");
    cancel_is_whole(&window, &format!("{folder}/6-document-back"));
    k.invoke_skip_back();
    shot("7-processing");
    wait_for(&controller, Duration::from_secs(60), "the verdict", |c| c.screen() == Screen::Result);
    assert!(k.get_matched(), "{} {}", k.get_verdict(), k.get_reason());
    assert_eq!(k.get_verdict(), said("Identity confirmed: it's a match"));
    let needed = language
        .format("Needed: {} %", &[language.number(facematch::calibration::DEFAULT_THRESHOLD, 0)]);
    assert_eq!(k.get_threshold_text(), needed);
    if language == Language::Bengali {
        assert!(k.get_percent().contains('৯'), "Bengali digits: {}", k.get_percent());
    }
    shot("8-result");
    k.invoke_done();
    assert_eq!(controller.screen(), Screen::Welcome);
    assert_eq!(k.get_language(), default.code(), "the next session starts in the default language");
    assert!(!k.get_large_text(), "and with normal text");
    assert!(k.get_voice_on(), "and the voice on again");
    // What was said, in order: each screen's instruction, then the verdict (the live hints of
    // this fast folder camera come quicker than they may be spoken; the still photo's are).
    let asked = controller.voice_asked();
    if silent {
        assert!(asked.is_empty(), "the speaker button silences the session: {asked:?}");
    } else {
        let position = |words: &str| {
            asked
                .iter()
                .position(|a| a == words)
                .unwrap_or_else(|| panic!("{words:?} not said: {asked:?}"))
        };
        let order = [
            "Your consent",
            "Which document do you have?",
            "Look at the camera",
            "Show the front of your passport",
            "Comparing your face with your document.",
            "Identity confirmed: it's a match",
        ];
        let positions: Vec<usize> = order.iter().map(|w| position(w)).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{asked:?}");
        assert_eq!(
            chosen.is_some(),
            asked.first().is_some_and(|a| a == "Verify your identity"),
            "{asked:?}"
        );
        for prompt in facematch::kiosk::voice::all_prompts() {
            assert!(prompt.file(&facematch::kiosk::voice::locate_dir(), language).is_file());
        }
    }
    to_worker.send(ToWorker::Quit).unwrap();
    worker.join().unwrap();
}

/// A still photo as the camera (what a print held perfectly still shows): the first movement is
/// asked, never seen, retried twice with words saying what to do, then staff are asked for; the
/// button cannot take the selfie; every failed attempt is in the liveness log with its frame and
/// no match decision, the operator's summary counts them, and a restart keeps the limit.
fn a_photo_held_still_fails_the_challenge_three_times_then_staff(dir: &Path) {
    let camera = dir.join("camera-still");
    std::fs::create_dir_all(&camera).unwrap();
    std::fs::copy(face("barack_obama", 1), camera.join("photo.jpg")).unwrap();
    let db = dir.join("still-photo.db");
    let config = WorkerConfig {
        liveness: LivenessMode::Fixed("down left up".parse().unwrap()),
        ..worker_config(
            format!("dir:{}", camera.display()),
            "dir:/no/such/scanner".into(),
            Some(db.clone()),
        )
    };
    let (to_worker, worker, window, controller) =
        at_the_selfie(config.clone(), &camera, DocChoice::Uidai);
    let k = window.global::<Kiosk>();
    wait_for(&controller, Duration::from_secs(30), "the first movement asked", |_| {
        k.get_guidance().contains("Lower your chin")
    });
    assert_eq!((k.get_challenge_arrow(), k.get_challenge_step()), (Arrow::Down, 1));
    // The screen lights the face: the page takes the colours drawn for the attempt, the words
    // stay on a dark panel.
    wait_for(&controller, Duration::from_secs(10), "the screen's colours", |_| k.get_flash_on());
    let tints: Vec<[u8; 3]> = Tint::ALL.iter().map(|t| t.srgb()).collect();
    let corner = page_corner(&window);
    assert!(tints.contains(&corner), "the page shows {corner:?}, not one of the colours");
    snapshot(&window, "4d-liveness-down");
    k.invoke_capture();
    assert_eq!(controller.screen(), Screen::Selfie, "the button cannot skip the challenge");
    wait_for(&controller, Duration::from_secs(60), "the retry", |_| {
        k.get_guidance().contains("We could not see the movement")
    });
    assert_eq!(k.get_challenge_steps(), 0, "no step row over the retry message");
    // No colours between attempts (the last one stays at most its shortest hold, 0.5 s).
    wait_for(&controller, Duration::from_secs(2), "the colours to stop", |_| !k.get_flash_on());
    assert!(!tints.contains(&page_corner(&window)));
    snapshot(&window, "4e-liveness-retry");
    wait_for(&controller, Duration::from_secs(120), "staff asked for", |_| k.get_challenge_staff());
    assert_eq!(k.get_guidance(), "Please ask a member of staff");
    assert_eq!(controller.screen(), Screen::Selfie);
    snapshot(&window, "4f-liveness-staff");
    to_worker.send(ToWorker::Recent).unwrap();
    wait_for(&controller, Duration::from_secs(10), "the operator's count", |_| {
        k.get_sync_summary().contains("Liveness today (UTC): 0 passed, 3 failed")
    });
    // A new session does not buy three more tries: five failures in three minutes on this
    // kiosk, and staff are asked for after the second.
    k.invoke_cancel();
    k.invoke_start();
    k.invoke_consent(true);
    k.invoke_choose_type(DocChoice::Uidai);
    wait_for(&controller, Duration::from_secs(30), "the new session's first movement", |_| {
        k.get_guidance().contains("Lower your chin")
    });
    wait_for(&controller, Duration::from_secs(120), "staff asked for again", |_| {
        k.get_challenge_staff()
    });
    to_worker.send(ToWorker::Recent).unwrap();
    wait_for(&controller, Duration::from_secs(10), "the operator's count", |_| {
        k.get_sync_summary().contains("0 passed, 5 failed")
    });
    k.invoke_cancel();
    to_worker.send(ToWorker::Quit).unwrap();
    worker.join().unwrap();
    // The live hints were spoken, paced: the movement asked, the retry, then staff.
    let asked = controller.voice_asked();
    for hint in [
        "Lower your chin slowly",
        "We could not see the movement. Let's try again, a little further",
        "Please ask a member of staff",
    ] {
        assert!(asked.iter().any(|a| a == hint), "{hint:?} not said: {asked:?}");
    }

    // Restarting the kiosk does not reset the limit: it is counted from the log.
    let (to_worker, worker, window, controller) = at_the_selfie(config, &camera, DocChoice::Pan);
    let k = window.global::<Kiosk>();
    wait_for(&controller, Duration::from_secs(30), "staff asked for after a restart", |_| {
        k.get_challenge_staff()
    });
    k.invoke_cancel();
    to_worker.send(ToWorker::Quit).unwrap();
    worker.join().unwrap();

    let store = Store::open(&db, None).unwrap();
    let attempts = store.list_attempts(10).unwrap();
    assert_eq!(attempts.len(), 5, "every attempt is logged, none after the restart: {attempts:?}");
    for a in &attempts {
        assert_eq!(
            (a.live, a.reason.as_deref(), a.challenge.as_str()),
            (false, Some("movement_not_seen"), "down left up")
        );
        let frame = a.frame_media.as_deref().expect("a failed attempt keeps its frame");
        let jpeg = store.media_bytes(frame, None).unwrap();
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "the frame is a JPEG, sealed in the store");
    }
    assert!(
        store.list_verifications(10).unwrap().is_empty(),
        "a failed attempt records no match decision"
    );
    let chain = store.verify_chain().unwrap();
    assert_eq!((chain.attempts, chain.problem), (5, None));
}

/// Documents from the camera (no scanner): the preview shows the card-shaped guide and the
/// document's hint, and a card held still, its photo found at a usable size, is taken without
/// the button. The camera plays a 1280×720 capture of a card 500 px wide.
fn document_held_up_to_the_camera_is_taken_by_itself(dir: &Path) {
    let camera = dir.join("camera-card");
    std::fs::create_dir_all(&camera).unwrap();
    {
        let photo =
            facematch::intake::decode(&std::fs::read(face("barack_obama", 2)).unwrap()).unwrap();
        let mut e = engine();
        let subject = find_faces(&mut e.detector, &photo.pixels, Role::Selfie).unwrap()[0];
        let portrait = portrait_crop(&photo.pixels, &subject.bbox);
        std::fs::write(camera.join("card.jpg"), capture(&portrait, Condition::UnevenLight, 5))
            .unwrap();
    }
    // The selfie is not this test's subject: liveness off, as at a staffed desk.
    let config = WorkerConfig {
        liveness: LivenessMode::Off,
        ..worker_config(format!("dir:{}", camera.display()), "camera".into(), None)
    };
    let (to_worker, worker, window, controller) = at_the_selfie(config, &camera, DocChoice::Dl);
    let k = window.global::<Kiosk>();
    wait_for(&controller, Duration::from_secs(30), "a selfie preview", |c| {
        *c.previews.borrow() > 0
    });
    // The card's small face is no selfie: the guide is not drawn, the button takes it.
    assert!(!k.get_card_guide());
    wait_for(&controller, Duration::from_secs(30), "liveness off reported", |_| {
        !k.get_liveness_on()
    });
    k.invoke_capture();
    assert_eq!(controller.screen(), Screen::DocumentFront);
    let before = *controller.previews.borrow();
    wait_for(&controller, Duration::from_secs(30), "a document preview", |c| {
        *c.previews.borrow() > before
    });
    assert!(k.get_card_guide(), "the card-shaped guide is drawn for the camera");
    assert!(k.get_preview_face().shown, "the photo on the card is boxed");
    snapshot(&window, "5-document-front-camera");
    wait_for(&controller, Duration::from_secs(30), "the card taken by itself", |c| {
        c.screen() == Screen::DocumentBack
    });
    // The camera still sees the front: it is neither taken by itself nor by the button.
    wait_for(&controller, Duration::from_secs(30), "the back step seeing the front", |_| {
        k.get_turn_over()
    });
    assert_eq!(
        k.get_guidance(),
        "This is the front again. Turn the document over to show its back."
    );
    assert!(!k.get_can_take());
    snapshot(&window, "6-document-back-camera-front-again");
    k.invoke_capture();
    assert_eq!(controller.screen(), Screen::DocumentBack);
    k.invoke_cancel();
    to_worker.send(ToWorker::Quit).unwrap();
    worker.join().unwrap();
}

/// (Run inside the session test, which owns the process's Slint platform.)
fn a_worker_that_stops_sends_the_screen_to_staff_instead_of_processing_for_ever(dir: &Path) {
    // The worker's ends of both channels, held here: dropping them is the worker thread ending.
    let (to_worker, inbox) = std::sync::mpsc::channel();
    let (outbox, from_worker) = std::sync::mpsc::channel::<facematch::ui::FromWorker>();
    let window = shown_window();
    let settings = customer_settings(dir, Language::English);
    let controller = Controller::new(&window, to_worker, from_worker, settings);
    let picture = || image::RgbImage::from_pixel(640, 480, image::Rgb([90, 90, 90]));
    for event in [
        Event::Start,
        Event::Consent(true),
        Event::ChooseType(DocumentType::Gov),
        Event::Captured(picture()),
        Event::Captured(picture()),
        Event::SkipBack,
    ] {
        controller.apply(event);
    }
    assert_eq!(controller.screen(), Screen::Processing);
    let asked = inbox.try_iter().any(|m| matches!(m, ToWorker::Verify { .. }));
    assert!(asked, "the verification was asked of the worker");
    controller.pump();
    assert_eq!(controller.screen(), Screen::Processing, "a live worker is waited for");

    drop((inbox, outbox));
    controller.pump();
    assert_eq!(controller.screen(), Screen::OperatorPin);
    let k = window.global::<Kiosk>();
    assert_eq!(k.get_pin_message().as_str(), facematch::ui::WORKER_STOPPED);
    snapshot(&window, "9b-worker-stopped");
    // A new customer cannot start a session that would wait on it.
    controller.apply(Event::Back);
    controller.pump();
    assert_eq!(controller.screen(), Screen::OperatorPin, "{}", k.get_pin_message());
}
