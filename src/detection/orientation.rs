//! Pages that do not arrive upright: a card laid sideways on a scanner, a page photographed
//! upside down. A face is only ever used the right way up: one whose eyes lie below its
//! mouth in the view it was found in is not a face of that view ([`is_upright`]), so the
//! page is tried turned until its faces stand upright. And since the detector now and then
//! takes an upside-down face for an upright one (placing its "eyes" on the mouth), a document's
//! subject is also scored turned 180°: the page is read the way its face scores higher.

use std::borrow::Cow;

use image::RgbImage;

use super::{find_faces, Detector, InputSize};
use crate::domain::{Face, FaceBox, Role};
use crate::model_error::ModelError;

/// How a picture was turned before its faces were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    /// As it came.
    Upright,
    /// Turned 90° clockwise.
    Clockwise,
    /// Turned 90° counter-clockwise.
    CounterClockwise,
    /// Turned 180°.
    UpsideDown,
}

impl Orientation {
    /// The picture turned this way.
    pub fn apply(self, image: &RgbImage) -> Cow<'_, RgbImage> {
        match self {
            Orientation::Upright => Cow::Borrowed(image),
            Orientation::Clockwise => Cow::Owned(image::imageops::rotate90(image)),
            Orientation::CounterClockwise => Cow::Owned(image::imageops::rotate270(image)),
            Orientation::UpsideDown => Cow::Owned(image::imageops::rotate180(image)),
        }
    }

    /// A face found in the turned picture, in the coordinates of the original
    /// `width`×`height` picture.
    pub fn to_original(self, face: &Face, width: f32, height: f32) -> Face {
        let point = |[u, v]: [f32; 2]| match self {
            Orientation::Upright => [u, v],
            Orientation::Clockwise => [v, height - u],
            Orientation::CounterClockwise => [width - v, u],
            Orientation::UpsideDown => [width - u, height - v],
        };
        let b = face.bbox;
        let bbox = match self {
            Orientation::Upright => b,
            Orientation::Clockwise => FaceBox { x: b.y, y: height - (b.x + b.w), w: b.h, h: b.w },
            Orientation::CounterClockwise => {
                FaceBox { x: width - (b.y + b.h), y: b.x, w: b.h, h: b.w }
            }
            Orientation::UpsideDown => {
                FaceBox { x: width - (b.x + b.w), y: height - (b.y + b.h), w: b.w, h: b.h }
            }
        };
        Face { bbox, score: face.score, landmarks: face.landmarks.map(point) }
    }
}

/// The face stands the right way up in its picture: the eyes' midpoint lies above the
/// mouth's (image y grows downwards), their line within [`UPRIGHT_MAX_DEGREES`] of the
/// vertical. YuNet now and then finds a face on an upside-down or sideways page with its
/// "eye" points below or beside its "mouth" points; scoring that face compares a turned face
/// and tells a genuine customer "not matched".
pub fn is_upright(face: &Face) -> bool {
    let [re, le, _, rm, lm] = face.landmarks;
    let dx = (rm[0] + lm[0] - re[0] - le[0]) / 2.0;
    let dy = (rm[1] + lm[1] - re[1] - le[1]) / 2.0;
    dy > 0.0 && dx.abs() <= dy * UPRIGHT_MAX_DEGREES.to_radians().tan()
}

/// Largest angle between a face's eye-to-mouth line and the vertical for it to stand upright.
pub const UPRIGHT_MAX_DEGREES: f32 = 60.0;

/// A selfie's faces as they come (a rolled head is for the quality gate to refuse, with its
/// reason). A document page's upright faces as it came (read upside down when its subject
/// scores higher so); where there are none, the most confident of the page turned 180° and a
/// quarter turn each way. Faces are in the coordinates of the turned picture the returned
/// [`Orientation`] makes, the subject first.
///
/// # Errors
/// When the model cannot be run.
pub fn find_oriented_faces(
    detector: &mut dyn Detector,
    image: &RgbImage,
    role: Role,
) -> Result<(Vec<Face>, Orientation), ModelError> {
    if role == Role::Selfie {
        return Ok((find_faces(detector, image, role)?, Orientation::Upright));
    }
    let upright =
        |faces: Vec<Face>| -> Vec<Face> { faces.into_iter().filter(is_upright).collect() };
    let faces = upright(find_faces(detector, image, role)?);
    if let Some(subject) = faces.first() {
        if !looks_upside_down(detector, image, subject)? {
            return Ok((faces, Orientation::Upright));
        }
        let turned = upright(find_faces(detector, &Orientation::UpsideDown.apply(image), role)?);
        if turned.is_empty() {
            return Ok((faces, Orientation::Upright));
        }
        return Ok((turned, Orientation::UpsideDown));
    }
    // The other three turns, keeping the most confident: a wrong turn shows the face sideways
    // or upside down, which YuNet still finds now and then, with a lower score.
    let mut best: (Vec<Face>, Orientation) = (Vec::new(), Orientation::Upright);
    for orientation in
        [Orientation::UpsideDown, Orientation::Clockwise, Orientation::CounterClockwise]
    {
        let faces = upright(find_faces(detector, &orientation.apply(image), role)?);
        let score = |fs: &[Face]| fs.first().map_or(0.0, |f| f.score);
        if score(&faces) > score(&best.0) {
            best = (faces, orientation);
        }
    }
    Ok(best)
}

/// The subject's surroundings score higher as a face turned 180° than as they are: the
/// detector took an upside-down face for an upright one (its "eyes" on the mouth). Both views
/// are scored alike, through the 160 detector with the face about 40 px wide (a quarter of the
/// 320 detector's work; the scores decide the same way, README "Speed").
fn looks_upside_down(
    detector: &mut dyn Detector,
    image: &RgbImage,
    subject: &Face,
) -> Result<bool, ModelError> {
    let Some((region, _)) = super::closer_look::region_around(image, subject) else {
        return Ok(false);
    };
    // Shrunk to the input once, as the detector would shrink it, and turned small: the same two
    // views for less work than shrinking the full-resolution region twice.
    let input = InputSize::S160;
    let side = input.side();
    let region = if region.width().max(region.height()) > side {
        let ((w, h), _) = super::yunet::fitted(region.width(), region.height(), side);
        crate::intake::resize::resized(&region, w, h)
    } else {
        region
    };
    let mut best = |view: &RgbImage| -> Result<f32, ModelError> {
        let faces = detector.detect(view, input, super::closer_look::CANDIDATE_SCORE)?;
        Ok(faces.iter().map(|f| f.score).fold(0.0, f32::max))
    };
    let as_is = best(&region)?;
    let turned = best(&image::imageops::rotate180(&region))?;
    Ok(turned > as_is)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alignment::TEMPLATE;
    use image::Rgb;

    #[test]
    fn turned_faces_map_back_to_the_original() {
        // A 300x200 picture with a marked pixel at (250, 20): find it in each turned view.
        let mut image = RgbImage::new(300, 200);
        image.put_pixel(250, 20, Rgb([255, 255, 255]));
        for orientation in [
            Orientation::Upright,
            Orientation::Clockwise,
            Orientation::CounterClockwise,
            Orientation::UpsideDown,
        ] {
            let view = orientation.apply(&image);
            let (u, v) = view
                .enumerate_pixels()
                .find(|(_, _, p)| p[0] == 255)
                .map(|(x, y, _)| (x, y))
                .unwrap();
            // A 1x1 box on that pixel, and a landmark at its centre.
            let (u, v) = (u as f32, v as f32);
            let face = Face {
                bbox: FaceBox { x: u, y: v, w: 1.0, h: 1.0 },
                score: 0.9,
                landmarks: [[u + 0.5, v + 0.5]; 5],
            };
            let back = orientation.to_original(&face, 300.0, 200.0);
            assert_eq!(back.bbox, FaceBox { x: 250.0, y: 20.0, w: 1.0, h: 1.0 }, "{orientation:?}");
            assert_eq!(back.landmarks[0], [250.5, 20.5], "{orientation:?}");
        }
    }

    #[test]
    fn a_face_with_its_eyes_below_its_mouth_is_not_upright() {
        let face = Face {
            bbox: FaceBox { x: 0.0, y: 0.0, w: 112.0, h: 112.0 },
            score: 0.9,
            landmarks: TEMPLATE,
        };
        assert!(is_upright(&face));
        let turned = Orientation::UpsideDown.to_original(&face, 112.0, 112.0);
        assert!(!is_upright(&turned));
        // Rolled 45 degrees: still the right way up; 80 degrees: sideways.
        let rolled_by = |degrees: f32| {
            let (s, c) = degrees.to_radians().sin_cos();
            Face {
                landmarks: TEMPLATE.map(|[x, y]| {
                    [56.0 + (x - 56.0) * c - (y - 56.0) * s, 56.0 + (x - 56.0) * s + (y - 56.0) * c]
                }),
                ..face
            }
        };
        assert!(is_upright(&rolled_by(45.0)));
        assert!(!is_upright(&rolled_by(80.0)));
        let (s, c) = 45f32.to_radians().sin_cos();
        let rolled = Face {
            landmarks: TEMPLATE.map(|[x, y]| {
                [56.0 + (x - 56.0) * c - (y - 56.0) * s, 56.0 + (x - 56.0) * s + (y - 56.0) * c]
            }),
            ..face
        };
        assert!(is_upright(&rolled));
    }
}
