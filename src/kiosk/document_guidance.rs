//! Document guidance with a camera: what to tell the customer holding their card up, from
//! the faces found in one preview frame, and when the card is good enough to take by itself
//! (steady, sharp, the right way up, no reflection on the photo, its face large enough).
//! With a flatbed scanner the same lines are shown; the picture is taken with the button.

use crate::tr;
use image::RgbImage;

use super::back_side::BackCheck;
use super::guidance::{mean_in_box, moved};
use crate::alignment::align;
use crate::detection::orientation::is_upright;
use crate::domain::{Face, FaceBox};
use crate::quality::{laplacian_variance_of, MIN_DOCUMENT_FACE_PX, MIN_DOCUMENT_SHARPNESS};

/// The one line shown under the document preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentGuidance {
    /// No photo found on a document in the frame.
    ShowDocument,
    /// The photo's face is upside down.
    TurnDocument,
    /// The photo's face is too small to use or only just large enough.
    MoveCloser,
    /// A reflection covers part of the photo.
    Glare,
    /// The card moved since the last frame, or the photo is blurred.
    HoldStill,
    /// Good: take the picture.
    Ready,
}

impl DocumentGuidance {
    /// The words on screen; `automatic` when a good picture is taken by itself (a camera),
    /// not with the button (a scanner).
    pub fn text(self, automatic: bool) -> &'static str {
        match self {
            DocumentGuidance::ShowDocument => {
                tr!("Hold the document inside the frame, photo side up")
            }
            DocumentGuidance::TurnDocument => tr!("Turn the document the right way up"),
            DocumentGuidance::MoveCloser => tr!("Bring the document closer"),
            DocumentGuidance::Glare => {
                tr!("Tilt the document a little: light reflects on the photo")
            }
            DocumentGuidance::HoldStill => tr!("Hold the document still"),
            DocumentGuidance::Ready if automatic => tr!("Hold still... taking the picture"),
            DocumentGuidance::Ready => tr!("Photo found on the document: take the picture"),
        }
    }
}

/// The line under the back step's preview where the back needs words of its own: the front
/// still shown (turn it over), or a back without a photo (which is no reason to ask for the
/// photo side). None: the back carries a face, guided as a front is ([`assess`]).
pub fn back_text(check: BackCheck, faces: &[Face], automatic: bool) -> Option<&'static str> {
    match check {
        BackCheck::SamePicture if !automatic => {
            Some(tr!("Turn the document over and scan its back"))
        }
        BackCheck::SamePicture | BackCheck::FrontAgain => {
            Some(tr!("This is the front again. Turn the document over to show its back."))
        }
        BackCheck::New if !faces.is_empty() => None,
        BackCheck::New if automatic => {
            Some(tr!("Hold the back of the document inside the frame, then take the picture"))
        }
        BackCheck::New => Some(tr!("Back of the document found: take the picture")),
    }
}

/// A face this wide (a quarter over the quality gate) is large enough to take by itself:
/// a little margin, so the picture taken does not fail the gate by a pixel.
pub const READY_FACE_PX: f32 = 1.25 * MIN_DOCUMENT_FACE_PX;
/// Share of the face box's pixels that may be blown out white before it counts as glare.
pub const MAX_GLARE_SHARE: f32 = 0.05;
/// A pixel whose darkest channel is at least this is blown out.
const BLOWN_OUT: u8 = 245;
/// Movement of the face centre, as a share of the frame width, that counts as moving.
pub const MAX_MOVE_SHARE: f32 = 0.02;
/// Sharpness needed to take the picture by itself: three times the document's blur gate. The
/// gate lets a soft photo sent from elsewhere through; at the kiosk the customer can hold the
/// card still for a sharper one.
pub const READY_SHARPNESS: f32 = 3.0 * MIN_DOCUMENT_SHARPNESS;

/// Guidance for one frame; `faces` as [`crate::detection::find_faces`] gives them for a
/// document (the holder's first), `previous` the holder's box in the frame before.
pub fn assess(faces: &[Face], frame: &RgbImage, previous: Option<FaceBox>) -> DocumentGuidance {
    let Some(face) = faces.first() else { return DocumentGuidance::ShowDocument };
    if !is_upright(face) {
        return DocumentGuidance::TurnDocument;
    }
    if face.bbox.w.min(face.bbox.h) < READY_FACE_PX {
        return DocumentGuidance::MoveCloser;
    }
    if blown_out_share(frame, &face.bbox) > MAX_GLARE_SHARE {
        return DocumentGuidance::Glare;
    }
    if moved(previous, &face.bbox, MAX_MOVE_SHARE * frame.width() as f32) {
        return DocumentGuidance::HoldStill;
    }
    if laplacian_variance_of(&align(frame, &face.landmarks)) < READY_SHARPNESS {
        return DocumentGuidance::HoldStill;
    }
    DocumentGuidance::Ready
}

/// Share of the box's pixels that are blown out white.
fn blown_out_share(frame: &RgbImage, b: &FaceBox) -> f32 {
    mean_in_box(frame, b, 1, |p| f32::from(u8::from(p[0].min(p[1]).min(p[2]) >= BLOWN_OUT)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alignment::TEMPLATE;
    use crate::detection::Orientation;

    /// A face `side` px wide at (x, 40) with the template's landmarks scaled onto it.
    fn face(x: f32, side: f32) -> Face {
        let s = side / 112.0;
        Face {
            bbox: FaceBox { x, y: 40.0, w: side, h: side },
            score: 0.9,
            landmarks: TEMPLATE.map(|[u, v]| [x + u * s, 40.0 + v * s]),
        }
    }

    fn textured() -> RgbImage {
        RgbImage::from_fn(640, 360, |x, y| {
            let v = if (x / 2 + y / 2) % 2 == 0 { 170 } else { 90 };
            image::Rgb([v, v, v])
        })
    }

    #[test]
    fn the_back_has_words_of_its_own_except_with_a_face() {
        let turn = back_text(BackCheck::SamePicture, &[], false).unwrap();
        assert!(turn.starts_with("Turn the document over"), "a scanner's last page: {turn}");
        let still = back_text(BackCheck::SamePicture, &[], true).unwrap();
        assert!(still.starts_with("This is the front again"), "a camera: {still}");
        let again = back_text(BackCheck::FrontAgain, &[face(100.0, 60.0)], true).unwrap();
        assert!(again.starts_with("This is the front again"));
        for automatic in [false, true] {
            let text = back_text(BackCheck::New, &[], automatic).unwrap();
            assert!(!text.contains("photo side"), "{text}");
        }
        assert_eq!(back_text(BackCheck::New, &[face(100.0, 60.0)], true), None);
    }

    #[test]
    fn each_problem_gets_its_line() {
        let frame = textured();
        assert_eq!(assess(&[], &frame, None), DocumentGuidance::ShowDocument);
        let upside_down = Orientation::UpsideDown.to_original(&face(100.0, 60.0), 640.0, 360.0);
        assert_eq!(assess(&[upside_down], &frame, None), DocumentGuidance::TurnDocument);
        assert_eq!(assess(&[face(100.0, 26.0)], &frame, None), DocumentGuidance::MoveCloser);
        assert_eq!(assess(&[face(100.0, 60.0)], &frame, None), DocumentGuidance::Ready);
        let moved = Some(face(130.0, 60.0).bbox);
        assert_eq!(assess(&[face(100.0, 60.0)], &frame, moved), DocumentGuidance::HoldStill);
        let flat = RgbImage::from_pixel(640, 360, image::Rgb([128, 128, 128]));
        assert_eq!(assess(&[face(100.0, 60.0)], &flat, None), DocumentGuidance::HoldStill);
        let mut glare = textured();
        for y in 40..60 {
            for x in 100..160 {
                glare.put_pixel(x, y, image::Rgb([255, 255, 255]));
            }
        }
        assert_eq!(assess(&[face(100.0, 60.0)], &glare, None), DocumentGuidance::Glare);
        // Only a camera takes the picture by itself; a scanner's page waits for the button.
        assert_eq!(DocumentGuidance::Ready.text(true), tr!("Hold still... taking the picture"));
        assert!(DocumentGuidance::Ready.text(false).contains("take the picture"));
    }
}
