//! The kiosk's back step on real specimen documents from `../shared/documents`, with the real
//! models: the front shown again (the same scan, or the page scanned again elsewhere on the
//! glass) is refused; another document, a page without a face, and the photo at a ghost
//! image's size are taken.

use facematch::detection::find_faces;
use facematch::domain::{DocumentType, Face, Role};
use facematch::intake;
use facematch::kiosk::back_side::{BackCheck, Front};
use image::{imageops, Rgb, RgbImage};

use crate::util::{engine, shared};

fn document(name: &str) -> RgbImage {
    let path = shared().join("documents").join(name);
    intake::decode(&std::fs::read(path).unwrap()).unwrap().pixels
}

fn faces(picture: &RgbImage) -> Vec<Face> {
    find_faces(&mut engine().detector, picture, Role::Document(DocumentType::Passport)).unwrap()
}

fn check(front: &Front, picture: &RgbImage) -> BackCheck {
    let found = faces(picture);
    front.check(picture, &found, &mut engine().embedder).unwrap()
}

/// `page` scaled by `scale` on a white glass of `width`×`height`, at (`x`, `y`), then through
/// JPEG at quality 80, as a flatbed scan of the page placed again.
fn rescanned(
    page: &RgbImage,
    scale: f32,
    (x, y): (i64, i64),
    (width, height): (u32, u32),
) -> RgbImage {
    let (w, h) = ((page.width() as f32 * scale) as u32, (page.height() as f32 * scale) as u32);
    let scaled = imageops::resize(page, w, h, imageops::FilterType::Triangle);
    let mut glass = RgbImage::from_pixel(width, height, Rgb([250, 250, 248]));
    imageops::replace(&mut glass, &scaled, x, y);
    let jpeg = intake::encode_jpeg(&glass, 80).unwrap();
    intake::decode(&jpeg).unwrap().pixels
}

#[test]
fn the_front_again_is_refused_and_a_real_back_is_taken() {
    // The Czech specimen: the holder photo and a small ghost image of it.
    let page = document("13_100_pass-cze2.jpg");
    let glass = (page.width() + 120, page.height() + 90);
    let front_picture = rescanned(&page, 1.0, (10, 10), glass);
    let front_faces = faces(&front_picture);
    assert!(!front_faces.is_empty(), "the specimen's photo is found");
    let front = Front::new(&front_picture, &front_faces, &mut engine().embedder).unwrap();

    assert_eq!(check(&front, &front_picture), BackCheck::SamePicture, "the scanner's last page");
    let moved = rescanned(&page, 0.95, (90, 60), glass);
    assert_eq!(check(&front, &moved), BackCheck::FrontAgain, "the front placed again");

    let another = rescanned(&document("14_100_pass-fin.png"), 1.0, (10, 10), glass);
    assert!(!faces(&another).is_empty());
    assert_eq!(check(&front, &another), BackCheck::New, "another person's page");
    let blank = RgbImage::from_fn(glass.0, glass.1, |x, y| {
        // Lines of print, no face.
        if y % 24 < 3 && (40..glass.0 - 40).contains(&x) {
            Rgb([40, 40, 60])
        } else {
            Rgb([245, 244, 240])
        }
    });
    assert_eq!(check(&front, &blank), BackCheck::New, "a back of print only");
    // The same photo printed at half the size, as a ghost image on a back.
    let ghost = rescanned(&page, 0.5, (40, 40), glass);
    let ghost_faces = faces(&ghost);
    assert!(
        !ghost_faces.is_empty(),
        "the small copy is found, so the size rule is what lets it pass"
    );
    assert_eq!(check(&front, &ghost), BackCheck::New, "a ghost image's size");
}
