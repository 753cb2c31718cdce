//! The kiosk without a window: the worker reports a missing camera and a log it cannot open
//! instead of crashing, `facematch kiosk` refuses bad settings clearly, `facematch cameras`
//! lists this device's cameras. The whole session on the headless Slint backend, which plays
//! generated liveness sessions and cards, is the lab's (`lab/tests/kiosk.rs`).

use std::time::Duration;

use facematch::domain::DocumentType;
use facematch::ui::{spawn_worker, ToWorker};

use crate::data::worker_config;

#[test]
fn a_missing_camera_is_a_message_on_screen() {
    // The flow and worker without a window: the worker reports the problem instead of crashing.
    let config = worker_config("/dev/video9".into(), "dir:/no/such/scanner".into(), None);
    let (to_worker, from_worker, worker) = spawn_worker(config);
    let mut messages = Vec::new();
    for shot in [facematch::kiosk::flow::Shot::Selfie, facematch::kiosk::flow::Shot::Front] {
        to_worker.send(ToWorker::Watch(Some(shot))).unwrap();
        // Reports about the screen watched before may still be on their way, as in the kiosk.
        loop {
            match from_worker.recv_timeout(Duration::from_secs(30)).unwrap() {
                facematch::ui::FromWorker::CameraProblem { shot: about, message, detail }
                    if about == shot =>
                {
                    assert!(message.starts_with("The camera is not working"), "{message}");
                    messages.push(detail);
                    break;
                }
                facematch::ui::FromWorker::CameraProblem { .. } => {}
                other => panic!("{other:?}"),
            }
        }
    }
    to_worker.send(ToWorker::Quit).unwrap();
    worker.join().unwrap();
    assert!(messages[0].contains("/dev/video9 is not available"), "{messages:?}");
    assert!(messages[1].contains("/no/such/scanner"), "{messages:?}");
}

#[test]
fn no_verdict_is_shown_when_the_log_cannot_be_opened() {
    // The log asked for is a folder: the store cannot open it, so nothing can be recorded.
    let dir = tempfile::tempdir().unwrap();
    let config = worker_config(
        "dir:assets/kiosk/camera".into(),
        "dir:assets/kiosk/scanner".into(),
        Some(dir.path().to_path_buf()),
    );
    let (to_worker, from_worker, worker) = spawn_worker(config);
    let frame = || image::RgbImage::new(320, 240);
    let verify = ToWorker::Verify {
        doc_type: DocumentType::Pan,
        selfie: frame(),
        front: frame(),
        back: None,
    };
    to_worker.send(verify).unwrap();
    let view = loop {
        match from_worker.recv_timeout(Duration::from_secs(60)).unwrap() {
            facematch::ui::FromWorker::Verified(view) => break view,
            _ => continue,
        }
    };
    to_worker.send(ToWorker::Quit).unwrap();
    worker.join().unwrap();
    assert!(!view.matched && view.percent.is_none(), "{view:?}");
    assert!(view.reason.contains("could not be saved"), "{}", view.reason);
}

#[test]
fn the_kiosk_command_refuses_bad_settings_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = |args: &[&str]| {
        let out = crate::util::facematch(args);
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = stderr(&["kiosk", "--camera", "webcam"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--camera") && err.contains("/dev/videoN"), "{err}");
    let (code, err) = stderr(&["kiosk", "--threshold", "0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("outside 1-100"), "{err}");
    let (code, err) = stderr(&["kiosk", "--language", "fr"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--language") && err.contains("one of en, hi, ta, bn"), "{err}");

    // No screen to draw on (a DRM device that does not exist, even on a machine with a screen):
    // damaged saved choices are reported, then the display's failure, exit 2.
    let saved = dir.path().join("kiosk-settings.toml");
    std::fs::write(&saved, "threshold = 400").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(["kiosk", "--display", "kms", "--settings", saved.to_str().unwrap()])
        .args(["--camera", "dir:assets/kiosk/camera"])
        // Where /dev/dri has a card, Slint's KMS backend is sent to an output no card has.
        .env("SLINT_DRM_OUTPUT", "facematch-test-no-such-output")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let (code, err) = (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("saved choices are ignored") && err.contains("outside 1-100"), "{err}");
    assert!(err.contains("the kiosk cannot start its display"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&saved).unwrap(),
        "threshold = 400",
        "left for staff to see"
    );
}

#[test]
fn cameras_lists_this_devices_cameras_or_says_there_is_none() {
    let out = crate::util::facematch(&["cameras"]);
    let has_camera = std::fs::read_dir("/dev")
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_str().is_some_and(|n| n.starts_with("video")));
    if has_camera {
        assert_eq!(out.status.code(), Some(0));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.lines().all(|l| l.starts_with("/dev/video")), "{stdout}");
    } else {
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("no camera found"));
    }
}
