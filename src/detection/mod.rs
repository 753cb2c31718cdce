//! Face detection: the [`Detector`] capability, and the rules that turn its raw
//! boxes into the one face a verification is about.
//!
//! Rules (documented in README "How faces are chosen"):
//! - the detector runs at the input size the picture's [`Role`] asks for
//!   (320 for selfies, 640 for document pages, where a printed face may be only
//!   60-120 px wide);
//! - boxes under [`MIN_SCORE`] are dropped and overlapping boxes merged by NMS;
//! - on document pages, small faces and candidates down to a lower score get a
//!   closer look at full resolution, and a page that yields nothing is searched
//!   in tiles ([`closer_look`]);
//! - when nothing is found, the picture is tried once more inside a wide border:
//!   tight crops whose face fills the whole frame are otherwise missed;
//! - only faces standing the right way up are used; document pages are read the
//!   way their face stands upright (turned 180° or a quarter turn, [`orientation`]);
//! - the subject is the largest face in a selfie; on a document the face of near-largest
//!   size whose eyes lie widest apart for its height (whole and frontal), unless a much larger
//!   whole face is there ([`holder`]);
//!   the others are kept for the caller to report (a passport's small "ghost" copy,
//!   bystanders).

pub mod closer_look;
pub mod holder;
pub mod nms;
pub mod orientation;
pub mod yunet;

pub use orientation::{find_oriented_faces, Orientation};

use image::{Rgb, RgbImage};

use crate::domain::{Face, FaceBox, Role};
use crate::model_error::ModelError;

/// Lowest detector score accepted as a face (a 0.71 false positive was seen below it).
pub const MIN_SCORE: f32 = 0.8;
/// IoU above which two boxes are the same face.
pub const NMS_IOU: f32 = 0.3;

/// The square input sizes the detector models exist for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputSize {
    /// 160×160: a region around a face already found, asked only which way up it is (the 180°
    /// turn check, [`orientation`]).
    S160,
    /// 320×320: fast, for pictures where the face is large.
    S320,
    /// 640×640: for document pages with small printed faces.
    S640,
}

impl InputSize {
    /// Side length in pixels.
    pub fn side(self) -> u32 {
        match self {
            InputSize::S160 => 160,
            InputSize::S320 => 320,
            InputSize::S640 => 640,
        }
    }
}

/// Finds faces in an RGB image. Implemented in `inference` on each runtime (TensorFlow Lite,
/// ONNX Runtime).
pub trait Detector {
    /// All faces scoring at least `min_score` ([`MIN_SCORE`] for faces to use; lower for
    /// candidates worth a closer look), after NMS, in image pixels.
    ///
    /// # Errors
    /// When the model cannot be run.
    fn detect(
        &mut self,
        image: &RgbImage,
        size: InputSize,
        min_score: f32,
    ) -> Result<Vec<Face>, ModelError>;
}

/// A boxed detector (an engine's, whichever runtime it is) is a detector.
impl<D: Detector + ?Sized> Detector for Box<D> {
    fn detect(
        &mut self,
        image: &RgbImage,
        size: InputSize,
        min_score: f32,
    ) -> Result<Vec<Face>, ModelError> {
        (**self).detect(image, size, min_score)
    }
}

/// The detector input size for a picture's role.
pub fn input_size_for(role: Role) -> InputSize {
    match role {
        Role::Selfie => InputSize::S320,
        Role::Document(_) => InputSize::S640,
    }
}

/// Every face in the image, the subject first ([`holder::order`]), using the closer look
/// and the padding retry described in the module doc.
///
/// # Errors
/// When the model cannot be run.
pub fn find_faces(
    detector: &mut dyn Detector,
    image: &RgbImage,
    role: Role,
) -> Result<Vec<Face>, ModelError> {
    let size = input_size_for(role);
    let mut faces = match role {
        Role::Selfie => detector.detect(image, size, MIN_SCORE)?,
        Role::Document(_) => {
            let candidates = detector.detect(image, size, closer_look::CANDIDATE_SCORE)?;
            let input_scale = size.side() as f32 / image.width().max(image.height()) as f32;
            let faces = closer_look::look_closer(detector, image, candidates, input_scale)?;
            if faces.is_empty() && input_scale < 1.0 {
                let candidates = closer_look::tiled(detector, image, input_scale)?;
                closer_look::look_closer(detector, image, candidates, input_scale)?
            } else {
                faces
            }
        }
    };
    if faces.is_empty() {
        // The detector sees the padded picture at its input size anyway: pad a copy no
        // larger than twice that, so the retry costs the same on any picture.
        let small = crate::intake::reduced::shrunk(image, 2 * size.side());
        let scale = image.width() as f32 / small.width() as f32;
        let border = small.width().max(small.height()) / 2;
        let padded = pad(&small, border);
        faces = detector.detect(&padded, size, MIN_SCORE)?;
        for face in &mut faces {
            shift(face, -(border as f32), small.width() as f32, small.height() as f32);
            *face = placed(face, (0.0, 0.0), scale);
        }
    }
    holder::order(&mut faces, role, image.width(), image.height());
    Ok(faces)
}

/// A face found in a part of a picture (a crop at `offset`, shrunk by 1 / `scale`), in the
/// whole picture's coordinates: every coordinate moved by `offset`, then multiplied by `scale`.
fn placed(face: &Face, offset: (f32, f32), scale: f32) -> Face {
    let (ox, oy) = offset;
    let b = face.bbox;
    Face {
        bbox: FaceBox {
            x: (b.x + ox) * scale,
            y: (b.y + oy) * scale,
            w: b.w * scale,
            h: b.h * scale,
        },
        score: face.score,
        landmarks: face.landmarks.map(|[x, y]| [(x + ox) * scale, (y + oy) * scale]),
    }
}

/// The image centred in a grey border `border` pixels wide.
fn pad(image: &RgbImage, border: u32) -> RgbImage {
    let mut out = RgbImage::from_pixel(
        image.width() + 2 * border,
        image.height() + 2 * border,
        Rgb([127, 127, 127]),
    );
    image::imageops::replace(&mut out, image, i64::from(border), i64::from(border));
    out
}

/// Moves a face found in a padded image back to the original's coordinates, clipping the box to it.
fn shift(face: &mut Face, by: f32, width: f32, height: f32) {
    for p in &mut face.landmarks {
        p[0] += by;
        p[1] += by;
    }
    let b = face.bbox;
    let (x1, y1) = ((b.x + by).max(0.0), (b.y + by).max(0.0));
    let (x2, y2) = ((b.x + b.w + by).min(width), (b.y + b.h + by).min(height));
    face.bbox = FaceBox { x: x1, y: y1, w: (x2 - x1).max(0.0), h: (y2 - y1).max(0.0) };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A detector that finds one face only when the image is at least 1.5x the original size,
    /// standing in for YuNet missing a face that fills the whole frame.
    struct NeedsBorder {
        original: (u32, u32),
        calls: usize,
    }

    impl Detector for NeedsBorder {
        fn detect(
            &mut self,
            image: &RgbImage,
            _: InputSize,
            _: f32,
        ) -> Result<Vec<Face>, ModelError> {
            self.calls += 1;
            if image.width() < self.original.0 * 3 / 2 {
                return Ok(vec![]);
            }
            let c = image.width() as f32 / 2.0;
            Ok(vec![Face {
                bbox: FaceBox { x: c - 160.0, y: c - 160.0, w: 320.0, h: 320.0 },
                score: 0.9,
                landmarks: [
                    [c - 40.0, c - 20.0],
                    [c + 40.0, c - 20.0],
                    [c, c],
                    [c - 30.0, c + 40.0],
                    [c + 30.0, c + 40.0],
                ],
            }])
        }
    }

    #[test]
    fn padding_retry_maps_faces_back_and_clips_boxes() {
        let image = RgbImage::new(300, 300);
        let mut det = NeedsBorder { original: (300, 300), calls: 0 };
        let faces = find_faces(&mut det, &image, Role::Selfie).unwrap();
        assert_eq!(det.calls, 2);
        assert_eq!(faces.len(), 1);
        let f = faces[0];
        // Centre 150 in the original; the 320-wide box is clipped to the 300-pixel frame.
        assert_eq!(f.bbox, FaceBox { x: 0.0, y: 0.0, w: 300.0, h: 300.0 });
        assert_eq!(f.landmarks[2], [150.0, 150.0]);
    }

    #[test]
    fn roles_choose_input_sizes() {
        assert_eq!(input_size_for(Role::Selfie), InputSize::S320);
        assert_eq!(
            input_size_for(Role::Document(crate::domain::DocumentType::Pan)),
            InputSize::S640
        );
    }
}
