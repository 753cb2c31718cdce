//! The `facematch` binary: the contract's answers and every bad input.

use std::path::Path;

use crate::util::{face, facematch, json, png_declaring};

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

/// `match --src SRC --front FRONT --type DOC --threshold T`.
fn match_args<'a>(src: &'a str, front: &'a str, doc: &'a str, threshold: &'a str) -> [&'a str; 9] {
    ["match", "--src", src, "--front", front, "--type", doc, "--threshold", threshold]
}

/// Runs `match` and expects a processed answer (exit 0).
fn processed(args: &[&str]) -> serde_json::Value {
    let out = facematch(args);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    json(&out)
}

/// Runs `match` and expects the contract's error body with `code` (exit 2) mentioning `fragment`.
fn error(args: &[&str], code: u64, fragment: &str) {
    let out = facematch(args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}: stdout {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = json(&out);
    assert_eq!(v["code"], code, "{v}");
    assert!(v["message"].is_string());
    let details = v["details"].as_str().unwrap_or("");
    assert!(details.contains(fragment), "details {details:?} lack {fragment:?}");
}

#[test]
fn a_match_says_nothing_on_stderr() {
    // LiteRT writes "INFO: ..." lines to descriptor 2 while it makes its environment and compiles
    // each model (and has no switch for them): `inference::tflite::quiet` keeps them out.
    let (a, b) = (face("barack_obama", 1), face("barack_obama", 2));
    let out = facematch(&match_args(path(&a), path(&b), "GOV", "85"));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn match_prints_the_contract_response() {
    let (a, b) = (face("barack_obama", 1), face("barack_obama", 2));
    let v = processed(&match_args(path(&a), path(&b), "GOV", "85"));
    assert_eq!(v["valid"], true);
    assert_eq!(v["status"], "FACE_MATCHED");
    assert!(v["message"].is_null());
    assert!(v["targetFrontMatch"].as_f64().unwrap() >= 85.0);
    assert!(v["srcConfidence"].as_f64().unwrap() > 80.0);
    assert!(v["targetBackHeight"].is_null() && v["targetBackValid"] == false);

    let c = face("jeff_bezos", 1);
    let v = processed(&match_args(path(&a), path(&c), "PAN", "85"));
    assert_eq!(
        (v["valid"].as_bool(), v["status"].as_str()),
        (Some(false), Some("FACE_NOT_MATCHED"))
    );
    assert_eq!(v["message"], "Not matched, below threshold");
    assert!(v["targetFrontMatch"].is_null(), "match ratio is populated only above the threshold");
    assert!(v["targetFrontWidth"].as_f64().is_some());
}

#[test]
fn no_face_is_a_processed_not_matched_answer() {
    let dir = tempfile::tempdir().unwrap();
    // A 400x400 PNG of smooth colour: decodes, but has no face.
    let mut png = Vec::new();
    let img =
        image::RgbImage::from_fn(400, 400, |x, y| image::Rgb([(x / 2) as u8, (y / 2) as u8, 120]));
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    let blank = write(dir.path(), "blank.png", &png);
    let a = face("kit_harington", 1);
    let v = processed(&match_args(path(&a), &blank, "DL", "50"));
    assert_eq!(v["status"], "FACE_NOT_MATCHED");
    assert_eq!(v["srcValid"], true);
    assert_eq!(v["targetFrontValid"], false);
    assert_eq!(v["message"], "Target front image: no face detected");
    let v = processed(&match_args(&blank, path(&a), "DL", "50"));
    assert_eq!(v["message"], "Source image: no face detected");
    assert_eq!(v["srcValid"], false);
}

#[test]
fn unsupported_and_broken_files_are_invalid_file_format() {
    let dir = tempfile::tempdir().unwrap();
    let a = face("kit_harington", 1);
    let gif = write(
        dir.path(),
        "photo.jpg",
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,",
    );
    let v = processed(&match_args(&gif, path(&a), "GOV", "80"));
    assert_eq!(
        v,
        serde_json::json!({"valid": false, "srcValid": false, "status": "INVALID_FILE_FORMAT",
            "message": "Image incompatible file type"})
    );
    let full = std::fs::read(&a).unwrap();
    let truncated = write(dir.path(), "cut.jpg", &full[..full.len() / 3]);
    let v = processed(&match_args(path(&a), &truncated, "GOV", "80"));
    assert_eq!(v["status"], "INVALID_FILE_FORMAT");
    assert_eq!(v["targetFrontValid"], false);
    assert!(v["message"].as_str().unwrap().contains("targetFront"), "{v}");
}

#[test]
fn a_picture_that_fails_to_decode_is_named_and_the_selfie_is_named_first() {
    // A whole PNG (its header reads well) whose compressed pixels are damaged: refused only
    // when decoded, which for the selfie happens beside the document's analysis.
    let dir = tempfile::tempdir().unwrap();
    let noise = image::RgbImage::from_fn(300, 300, |x, y| {
        image::Rgb([(x * 7 + y * 13) as u8, (x * y) as u8, (x ^ y) as u8])
    });
    let mut bytes = Vec::new();
    noise.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    let data = bytes.windows(4).position(|w| w == b"IDAT").unwrap() + 4;
    bytes[data + 200..data + 264].fill(0xFF);
    let damaged = write(dir.path(), "damaged.png", &bytes);
    let good = face("kit_harington", 1);
    for (src, front, named) in [
        (damaged.as_str(), path(&good), "src"),
        (path(&good), damaged.as_str(), "targetFront"),
        (damaged.as_str(), damaged.as_str(), "src"),
    ] {
        let v = processed(&match_args(src, front, "GOV", "80"));
        assert_eq!(v["status"], "INVALID_FILE_FORMAT", "{v}");
        assert_eq!(v["srcValid"], named != "src", "{v}");
        let message = v["message"].as_str().unwrap();
        assert!(message.contains(&format!("({named}: ")), "{v}");
    }
}

#[test]
fn malformed_requests_get_4001_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let a = face("kit_harington", 1);
    let a = path(&a);
    for (doc_type, threshold, fragment) in [
        ("GOV", "0", "outside 1-100"),
        ("GOV", "101", "outside 1-100"),
        ("GOV", "-5", "outside 1-100"),
        ("GOV", "abc", "not a number"),
        ("AADHAAR", "80", "not one of"),
        ("gov", "80", "not one of"),
    ] {
        let args =
            ["match", "--src", a, "--front", a, "--type", doc_type, "--threshold", threshold];
        error(&args, 4001, fragment);
    }
    error(&["match", "--src", a, "--front", a, "--threshold", "80"], 4001, "type is required");
    error(
        &["match", "--src", a, "--type", "GOV", "--threshold", "80"],
        4001,
        "--front is required",
    );
    error(&["match", "--src", a, "--front", a, "--type", "GOV"], 4001, "threshold is required");
    error(
        &["match", "--src", "/no/such.jpg", "--front", a, "--type", "GOV", "--threshold", "80"],
        4001,
        "cannot read",
    );
    error(
        &["match", "--src", a, "--front", a, "--type", "GOV", "--threshold", "80", "--bogus"],
        4001,
        "--bogus",
    );

    // Over 10 MB: 4005 (the contract's size code), without reading the whole file.
    let mut big = std::fs::read(a).unwrap();
    big.resize(10 * 1024 * 1024 + 5, 0);
    let big = write(dir.path(), "big.jpg", &big);
    error(
        &["match", "--src", &big, "--front", a, "--type", "GOV", "--threshold", "80"],
        4005,
        "10 MB",
    );

    // Under 200x200, and a PNG declaring 60000x60000 (decompression bomb).
    let mut small = Vec::new();
    image::RgbImage::new(150, 150)
        .write_to(&mut std::io::Cursor::new(&mut small), image::ImageFormat::Png)
        .unwrap();
    let small = write(dir.path(), "small.png", &small);
    error(
        &["match", "--src", a, "--front", &small, "--type", "GOV", "--threshold", "80"],
        4001,
        "150x150",
    );
    let bomb = write(dir.path(), "bomb.png", &png_declaring(60_000, 60_000));
    error(
        &["match", "--src", &bomb, "--front", a, "--type", "GOV", "--threshold", "80"],
        4001,
        "60000x60000",
    );
}

#[test]
fn altered_or_missing_models_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    for m in facematch::inference::models::ALL {
        std::fs::copy(shipped.join(m.name), dir.path().join(m.name)).unwrap();
    }
    let sface = dir.path().join(facematch::inference::models::SFACE.name);
    let mut bytes = std::fs::read(&sface).unwrap();
    bytes[1000] ^= 1;
    std::fs::write(&sface, bytes).unwrap();
    let a = face("kit_harington", 1);
    let models = dir.path().to_str().unwrap();
    let args = [
        "match",
        "--src",
        path(&a),
        "--front",
        path(&a),
        "--type",
        "GOV",
        "--threshold",
        "80",
        "--models",
        models,
    ];
    let out = facematch(&args);
    assert_eq!(out.status.code(), Some(2));
    let v = json(&out);
    assert_eq!(v["code"], 5001);
    assert!(
        v["details"]
            .as_str()
            .unwrap()
            .contains(&format!("{} is altered", facematch::inference::models::SFACE.name)),
        "{v}"
    );
    std::fs::remove_file(&sface).unwrap();
    let v = json(&facematch(&args));
    assert!(v["details"].as_str().unwrap().contains("cannot be read"), "{v}");
}

#[test]
fn help_explains_the_commands() {
    let out = facematch(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["match", "serve", "sync", "log", "liveness"] {
        assert!(text.contains(word), "{text}");
    }
    let out = facematch(&["match", "--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--threshold"));
    // The generators and measurements are the lab's (`facematch-lab`), not the device's.
    for lab in ["eval", "bench", "card", "captures", "voice"] {
        assert_eq!(facematch(&[lab, "--help"]).status.code(), Some(2), "{lab}");
    }
}
