//! The `facematch-lab` binary: `eval`'s figures and report on a small CSV, `--runtime onnx`
//! accuracy on the labelled pairs, a missing speech synthesiser named, the commands' help.

use std::path::Path;

use crate::util::{face, json, lab};

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn eval_reports_the_bars_on_a_small_csv() {
    // Paths in the CSV are relative to its folder: copy four photos beside it (in a temp dir).
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("imgs")).unwrap();
    for (who, n) in [
        ("barack_obama", 1),
        ("barack_obama", 2),
        ("joe_biden", 1),
        ("angelina_jolie", 1),
        ("angelina_jolie", 3),
    ] {
        std::fs::copy(face(who, n), dir.path().join(format!("imgs/{who}_{n}.jpg"))).unwrap();
    }
    let csv = "a,b,same,note\n\
               imgs/barack_obama_1.jpg,imgs/barack_obama_2.jpg,1,x\n\
               imgs/barack_obama_1.jpg,imgs/joe_biden_1.jpg,0,y\n\
               imgs/angelina_jolie_1.jpg,imgs/angelina_jolie_3.jpg,1,z\n\
               imgs/angelina_jolie_1.jpg,imgs/barack_obama_2.jpg,0,w\n";
    let list = dir.path().join("pairs.csv");
    std::fs::write(&list, csv).unwrap();
    let report = dir.path().join("report");
    let out = lab(&["eval", "--pairs", path(&list), "--report", path(&report)]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    for key in [
        "pairs",
        "genuine",
        "impostor",
        "no_face",
        "threshold",
        "threshold_cosine",
        "accuracy",
        "tar",
        "far",
        "false_accepts",
        "tar_at_far_1e-2",
        "tar_at_far_1e-3",
        "tar_at_far_1e-4",
        "eer",
    ] {
        assert!(!v[key].is_null(), "missing {key}: {v}");
    }
    assert_eq!(
        (v["pairs"].as_u64(), v["genuine"].as_u64(), v["impostor"].as_u64()),
        (Some(4), Some(2), Some(2))
    );
    assert_eq!(v["accuracy"], 1.0);
    assert_eq!(v["threshold"], facematch::calibration::DEFAULT_THRESHOLD);
    assert!(report.join("roc.svg").is_file() && report.join("scores.svg").is_file());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("eval: analysed"),
        "progress goes to stderr"
    );

    // A CSV without the `same` column is refused with its name.
    std::fs::write(&list, "a,b\nimgs/barack_obama_1.jpg,imgs/barack_obama_2.jpg\n").unwrap();
    let out = lab(&["eval", "--pairs", path(&list)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no column \"same\""));
}

#[cfg(feature = "onnx")]
#[test]
fn onnx_runtime_accuracy_is_no_worse_on_the_labelled_pairs() {
    let pairs = crate::util::shared().join("faces/pairs.csv");
    let out = lab(&["eval", "--runtime", "onnx", "--pairs", pairs.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = json(&out);
    // TensorFlow Lite's figures (docs/accuracy.md): at the default threshold (89) 98.76 %
    // accuracy, at 85 98.97 %; TAR 97.93 % at FAR 1e-3.
    assert!(report["accuracy"].as_f64().unwrap() >= 0.9876, "{report}");
    let at_85 = report["table"].as_array().unwrap().iter().find(|r| r["threshold"] == 85.0);
    assert!(at_85.unwrap()["accuracy"].as_f64().unwrap() >= 0.9896, "{report}");
    assert!(report["tar_at_far_1e-3"].as_f64().unwrap() >= 0.9793, "{report}");
    assert_eq!(report["no_face"], 0, "{report}");
}

#[test]
fn a_missing_synthesiser_is_a_clear_error() {
    let out = tempfile::tempdir().unwrap();
    let run = lab(&[
        "voice",
        "--out",
        out.path().join("voice").to_str().unwrap(),
        "--espeak",
        "/no/such/espeak-ng",
    ]);
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("espeak-ng") && !err.contains("panicked"), "{err}");
    assert!(!out.path().join("voice").exists(), "nothing half-written");
}

#[test]
fn help_explains_the_commands() {
    let out = lab(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["eval", "bench", "card", "captures", "liveness", "voice", "kiosk-fps"] {
        assert!(text.contains(word), "{text}");
    }
    let out = lab(&["liveness", "generate", "--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--per-person"));
}
