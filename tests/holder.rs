//! Which face of a document side is the subject, on composed pictures of real `../shared`
//! photos: a photo used as the document, its subject larger and whole, a smaller person pasted
//! beside them at the picture's edge (the case the card rules must not overrule). The card cases
//! (a cut-off bystander, a passport's ghost) are in `lab/tests/documents.rs` and `lab/tests/cards.rs`.

use facematch::detection::find_faces;
use facematch::detection::holder::{eye_span, NEAR_LARGEST_AREA};
use facematch::domain::{DocumentType, FaceBox, Picture, PictureFormat, Role};
use facematch::intake;
use facematch::verify::analyse;
use image::{imageops, RgbImage};

use crate::data::PEOPLE;
use crate::util::{engine, face};

fn photo(who: &str, n: u32) -> RgbImage {
    intake::decode(&std::fs::read(face(who, n)).unwrap()).unwrap().pixels
}

fn largest_face(pixels: &RgbImage) -> FaceBox {
    find_faces(&mut engine().detector, pixels, Role::Selfie).unwrap()[0].bbox
}

/// `subject`'s photo widened by a plain strip on the right, `other`'s face (and some of its
/// surroundings) pasted whole in that strip, scaled so that its face is 0.75 of the subject's
/// width (0.56 of the area): a smaller person beside the subject, at the picture's edge. The
/// subject's photo is toned down (contrast halved, as in shade), so that the detector is less
/// sure of it than of the pasted face.
fn beside(subject: &RgbImage, subject_face: FaceBox, other: &RgbImage) -> RgbImage {
    let other_face = largest_face(other);
    let scale = 0.75 * subject_face.w / other_face.w;
    let margin = 0.4 * other_face.w;
    let (x, y) = ((other_face.x - margin).max(0.0), (other_face.y - margin).max(0.0));
    let crop_w = (other_face.w + 2.0 * margin).min(other.width() as f32 - x);
    let crop_h = (other_face.h + 2.0 * margin).min(other.height() as f32 - y);
    let crop = imageops::crop_imm(other, x as u32, y as u32, crop_w as u32, crop_h as u32);
    let (w, h) = ((crop_w * scale) as u32, (crop_h * scale) as u32);
    let pasted = imageops::resize(&crop.to_image(), w, h, imageops::FilterType::Triangle);
    let height = subject.height().max(h + 4);
    let mut out =
        RgbImage::from_pixel(subject.width() + w + 8, height, image::Rgb([200, 200, 200]));
    let shaded = RgbImage::from_fn(subject.width(), subject.height(), |x, y| {
        image::Rgb(subject.get_pixel(x, y).0.map(|v| v / 2 + 40))
    });
    imageops::replace(&mut out, &shaded, 0, 0);
    let py = ((subject_face.y + subject_face.h / 2.0) as u32).saturating_sub(h / 2).min(height - h);
    imageops::replace(&mut out, &pasted, i64::from(subject.width() + 4), i64::from(py));
    out
}

#[test]
fn a_much_larger_whole_face_stays_the_subject_beside_a_wider_eyed_smaller_one() {
    let mut smaller_competes = 0;
    for (i, who) in PEOPLE.iter().enumerate() {
        let other_name = PEOPLE[(i + 3) % PEOPLE.len()];
        let subject = photo(who, 2);
        let subject_face = largest_face(&subject);
        let pixels = beside(&subject, subject_face, &photo(other_name, 1));
        let picture = Picture { pixels, format: PictureFormat::Jpeg };
        let mut e = engine();
        let e = &mut *e;
        let document = Role::Document(DocumentType::Gov);
        let a = analyse(&mut e.detector, &mut e.embedder, &picture, document).unwrap();
        assert!(a.faces.len() >= 2, "{who}: both faces are found: {:?}", a.faces);
        let pasted = a.faces.iter().find(|f| f.bbox.x > subject.width() as f32);
        // The pasted face competes (at least half the largest's area) and its eyes lie wider
        // apart for its height: the eye-span rule alone would take it.
        let largest = a.faces.iter().map(|f| f.bbox.area()).fold(0.0, f32::max);
        smaller_competes += usize::from(pasted.is_some_and(|p| {
            p.bbox.area() >= NEAR_LARGEST_AREA * largest && eye_span(p) > eye_span(&a.faces[0])
        }));
        let chosen = a.subject().unwrap().bbox;
        assert!(
            (chosen.x - subject_face.x).abs() < 0.1 * subject_face.w,
            "{who} beside {other_name}: the subject is {chosen:?}, not {subject_face:?}"
        );
        // And it is compared: the subject's own other photo matches it.
        let own = intake::decode(&std::fs::read(face(who, 1)).unwrap()).unwrap();
        let s = analyse(&mut e.detector, &mut e.embedder, &own, Role::Selfie).unwrap();
        let percent = facematch::matching::compare(
            s.embedding.as_ref().unwrap(),
            a.embedding.as_ref().unwrap(),
        )
        .percent;
        assert!(percent >= 85.0, "{who} beside {other_name}: {percent:.1}");
    }
    eprintln!(
        "holder: of 8 composed photos, the smaller pasted face competed with wider eyes on {smaller_competes}"
    );
    // The rule this guards is exercised: the eye-span rule alone would pick the pasted one.
    assert!(
        smaller_competes >= 1,
        "the pasted face competed with wider eyes on {smaller_competes} of 8"
    )
}
