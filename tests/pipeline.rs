//! The pipeline with the real models on real photos.

use facematch::answer::{box_report, response};
use facematch::domain::{DocumentType, Role};
use facematch::matching::Threshold;
use facematch::verify::{analyse, verify, MatchParams, Pictures};

use crate::data::picture;
use crate::util::{engine, face, shared};

/// The whole pipeline on decoded pictures.
fn run(
    e: &mut facematch::inference::Engine,
    src: &facematch::domain::Picture,
    front: &facematch::domain::Picture,
    back: Option<&facematch::domain::Picture>,
    params: MatchParams,
) -> facematch::verify::Verification {
    verify(&mut e.detector, &mut e.embedder, Pictures { src, front, back }, params).unwrap()
}

fn check(a: (&str, u32), b: (&str, u32), should_match: bool) {
    let mut e = engine();
    let e = &mut *e;
    let (src, front) = (picture(&face(a.0, a.1)), picture(&face(b.0, b.1)));
    let params = MatchParams { doc_type: DocumentType::Gov, threshold: Threshold::DEFAULT };
    let v = run(e, &src, &front, None, params);
    let r = response(&v);
    assert_eq!(v.matched, should_match, "{a:?} vs {b:?}: {:?}", v.best_score());
    assert!(r.src_valid && r.target_front_valid);
    assert_eq!(r.target_front_match.is_some(), should_match);
    for ratio in
        [r.src_left, r.src_top, r.src_width, r.src_height, r.target_front_width].map(Option::unwrap)
    {
        assert!((0.0..=1.0).contains(&ratio), "box ratio {ratio}");
    }
}

#[test]
fn genuine_pairs_match() {
    check(("angelina_jolie", 1), ("angelina_jolie", 2), true);
    check(("barack_obama", 1), ("barack_obama", 3), true);
    check(("sundar_pichai", 1), ("sundar_pichai", 2), true);
    // greyscale 300x300 tight crops (bbt_faceapi subset): the face fills the frame.
    check(("kaley_cuoco", 1), ("kaley_cuoco", 2), true);
}

#[test]
fn impostor_pairs_do_not_match() {
    check(("angelina_jolie", 1), ("scarlett_johansson", 1), false);
    check(("barack_obama", 1), ("joe_biden", 1), false);
    check(("jim_parsons", 1), ("johnny_galecki", 1), false);
}

#[test]
fn every_face_photo_yields_a_usable_face_in_both_roles() {
    let mut e = engine();
    let e = &mut *e;
    let mut failures = Vec::new();
    let mut count = 0;
    for dir in
        std::fs::read_dir(shared().join("faces")).unwrap().flatten().filter(|d| d.path().is_dir())
    {
        for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let p = picture(&file.path());
            for role in [Role::Selfie, Role::Document(DocumentType::Gov)] {
                count += 1;
                let a = analyse(&mut e.detector, &mut e.embedder, &p, role).unwrap();
                if !a.valid() {
                    failures.push(format!(
                        "{} as {role:?}: {:?}",
                        file.path().display(),
                        a.problem()
                    ));
                }
            }
        }
    }
    assert_eq!(count, 232);
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn faces_are_found_on_specimen_documents() {
    let mut e = engine();
    let e = &mut *e;
    let mut found = 0;
    let mut missed = Vec::new();
    let docs: Vec<_> = std::fs::read_dir(shared().join("documents"))
        .unwrap()
        .flatten()
        .map(|d| d.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jpg" || x == "png"))
        .collect();
    for path in &docs {
        let p = picture(path);
        let a =
            analyse(&mut e.detector, &mut e.embedder, &p, Role::Document(DocumentType::Passport))
                .unwrap();
        if let Some(subject) = a.subject() {
            // The holder photo sits in a document's left or right part, never the whole page.
            let r = box_report(&a).unwrap();
            assert!(r.width < 0.5 && r.height < 0.8, "{}: {r:?}", path.display());
            assert!(subject.score >= 0.8);
            found += 1;
        } else {
            missed.push(path.file_name().unwrap().to_string_lossy().to_string());
        }
    }
    eprintln!("documents: face found in {found}/{}; missed {missed:?}", docs.len());
    // 17 specimens: the Latvian page is turned a quarter turn (found by the turned retry); the
    // greyscale Hungarian photo scores 0.50 even in OpenCV's own YuNet, under the 0.8 floor.
    assert!(found >= 16, "found faces in only {found}/{}: missed {missed:?}", docs.len());
}

#[test]
fn document_faces_of_one_holder_match_and_others_do_not() {
    // Four UTOPIA specimens print the same ICAO sample photo; the Finnish one shows someone else.
    let mut e = engine();
    let e = &mut *e;
    let doc = |name: &str| picture(&shared().join("documents").join(name));
    let params = MatchParams { doc_type: DocumentType::Passport, threshold: Threshold::DEFAULT };
    let (a, b, other) =
        (doc("01_100_pass-uto.jpg"), doc("05_passport-td3.jpg"), doc("14_100_pass-fin.png"));
    let same = run(e, &a, &b, None, params);
    assert!(same.matched, "{:?}", same.best_score());
    let diff = run(e, &a, &other, None, params);
    assert!(!diff.matched, "{:?}", diff.best_score());
}

#[test]
fn back_side_can_carry_the_match() {
    let mut e = engine();
    let e = &mut *e;
    let (src, wrong, right) = (
        picture(&face("elon_musk", 1)),
        picture(&face("jeff_bezos", 1)),
        picture(&face("elon_musk", 2)),
    );
    let params = MatchParams { doc_type: DocumentType::Dl, threshold: Threshold::DEFAULT };
    let v = run(e, &src, &wrong, Some(&right), params);
    let r = response(&v);
    assert!(r.valid && r.target_back_valid && r.target_front_valid);
    assert!(r.target_front_match.is_none() && r.target_back_match.is_some());
}

/// A real photo scaled by `factor`, pasted at (x, y) on a grey canvas.
fn compose(
    canvas: (u32, u32),
    parts: &[(&std::path::Path, f32, i64, i64)],
) -> facematch::domain::Picture {
    let mut out = image::RgbImage::from_pixel(canvas.0, canvas.1, image::Rgb([128, 128, 128]));
    for (path, factor, x, y) in parts {
        let p = picture(path).pixels;
        let (w, h) = ((p.width() as f32 * factor) as u32, (p.height() as f32 * factor) as u32);
        let small = image::imageops::resize(&p, w, h, image::imageops::FilterType::Triangle);
        image::imageops::replace(&mut out, &small, *x, *y);
    }
    facematch::domain::Picture { pixels: out, format: facematch::domain::PictureFormat::Png }
}

#[test]
fn with_several_faces_the_largest_is_the_subject() {
    let mut e = engine();
    let e = &mut *e;
    // Sundar Pichai large on the right, Jeff Bezos small on the left: a bystander in the selfie.
    let (big, small) = (face("sundar_pichai", 1), face("jeff_bezos", 1));
    let big_w = picture(&big).width() as f32;
    let scene =
        compose((1400, 900), &[(&small, 300.0 / big_w, 20, 300), (&big, 700.0 / big_w, 650, 50)]);
    let a = analyse(&mut e.detector, &mut e.embedder, &scene, Role::Selfie).unwrap();
    assert!(a.faces.len() >= 2, "expected two faces, got {:?}", a.faces);
    let subject = a.subject().unwrap();
    assert!(
        subject.bbox.x > 650.0,
        "subject should be the large face on the right: {:?}",
        subject.bbox
    );
    let params = MatchParams { doc_type: DocumentType::Gov, threshold: Threshold::DEFAULT };
    let (same, other) = (picture(&face("sundar_pichai", 2)), picture(&face("jeff_bezos", 2)));
    let v = run(e, &scene, &same, None, params);
    assert!(v.matched, "{:?}", v.best_score());
    let v = run(e, &scene, &other, None, params);
    assert!(!v.matched, "the bystander must not be matched: {:?}", v.best_score());
}

#[test]
fn low_quality_pictures_are_refused_with_a_reason() {
    use facematch::quality::QualityIssue;
    let mut e = engine();
    let e = &mut *e;
    let original = picture(&face("barack_obama", 1));
    let mut issue = |p: &facematch::domain::Picture, role| {
        let a = analyse(&mut e.detector, &mut e.embedder, p, role).unwrap();
        assert!(a.subject().is_some() || a.issue.is_none());
        (a.subject().is_some(), a.issue)
    };

    let mut dark = original.clone();
    dark.pixels.pixels_mut().for_each(|p| p.0 = p.0.map(|c| c / 10));
    let got = issue(&dark, Role::Selfie);
    assert!(matches!(got, (true, Some(QualityIssue::TooDark { .. }))), "{got:?}");

    // Washed out: refused, either as too bright or, if the detector gives up, as no face.
    let mut bright = original.clone();
    bright.pixels.pixels_mut().for_each(|p| p.0 = p.0.map(|c| 236u8.saturating_add(c / 13)));
    let got = issue(&bright, Role::Selfie);
    assert!(matches!(got, (false, None) | (true, Some(QualityIssue::TooBright { .. }))), "{got:?}");

    let blurred = facematch::domain::Picture {
        pixels: image::imageops::blur(&original.pixels, 12.0),
        ..original.clone()
    };
    let got = issue(&blurred, Role::Selfie);
    assert!(matches!(got, (true, Some(QualityIssue::TooBlurry { .. }))), "{got:?}");

    // A face about 50 px wide: too small for a selfie, fine on a passport page.
    let w = original.width() as f32;
    let tiny = compose((400, 400), &[(&face("barack_obama", 1), 180.0 / w, 100, 100)]);
    let got = issue(&tiny, Role::Selfie);
    assert!(matches!(got, (true, Some(QualityIssue::TooSmall { .. }))), "{got:?}");
    assert_eq!(issue(&tiny, Role::Document(DocumentType::Passport)), (true, None));
}
