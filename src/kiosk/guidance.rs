//! Live-selfie guidance: what to tell the person in front of the camera, from
//! the faces found in one preview frame, and when the picture is good enough to
//! take by itself.

use crate::tr;
use image::RgbImage;

use crate::domain::{Face, FaceBox};

/// The one line shown under the live preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guidance {
    /// No face in the frame.
    LookAtCamera,
    /// Another face nearly as large as the subject's.
    OneFacePlease,
    /// The face is too small in the frame.
    MoveCloser,
    /// The face is too dark.
    MoreLight,
    /// The face moved since the last frame.
    HoldStill,
    /// Good: one large, lit, steady face.
    Ready,
}

impl Guidance {
    /// The words on screen.
    pub fn text(self) -> &'static str {
        match self {
            Guidance::LookAtCamera => tr!("Look at the camera"),
            Guidance::OneFacePlease => tr!("One face please"),
            Guidance::MoveCloser => tr!("Move closer"),
            Guidance::MoreLight => tr!("More light please"),
            Guidance::HoldStill => tr!("Hold still"),
            Guidance::Ready => tr!("Hold still... taking the picture"),
        }
    }
}

/// The face must be at least this share of the frame's width.
pub const MIN_FACE_SHARE: f32 = 0.18;
/// A second face at least this share of the subject's area counts as another person.
pub const SECOND_FACE_SHARE: f32 = 0.25;
/// Mean luma inside the face box below which more light is asked for.
pub const MIN_FACE_LUMA: f32 = 60.0;
/// Movement of the face centre, as a share of the frame width, that counts as moving.
pub const MAX_MOVE_SHARE: f32 = 0.03;
/// Consecutive ready frames before the picture is taken automatically.
pub const READY_FRAMES: u32 = 4;

/// Guidance for one frame; `previous` is the subject's box in the frame before.
pub fn assess(faces: &[Face], frame: &RgbImage, previous: Option<FaceBox>) -> Guidance {
    let Some(subject) = faces.first() else { return Guidance::LookAtCamera };
    if faces[1..].iter().any(|f| f.bbox.area() >= SECOND_FACE_SHARE * subject.bbox.area()) {
        return Guidance::OneFacePlease;
    }
    let width = frame.width() as f32;
    if subject.bbox.w < MIN_FACE_SHARE * width {
        return Guidance::MoveCloser;
    }
    if mean_luma(frame, &subject.bbox) < MIN_FACE_LUMA {
        return Guidance::MoreLight;
    }
    if moved(previous, &subject.bbox, MAX_MOVE_SHARE * width) {
        return Guidance::HoldStill;
    }
    Guidance::Ready
}

/// The box's centre moved more than `limit` pixels since the `previous` frame's box.
pub fn moved(previous: Option<FaceBox>, current: &FaceBox, limit: f32) -> bool {
    previous.is_some_and(|p| p.centre_distance(current) > limit)
}

fn mean_luma(frame: &RgbImage, b: &FaceBox) -> f32 {
    mean_in_box(frame, b, 2, |p| {
        0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
    })
}

/// Mean of `value` over the pixels of the box (clipped to the frame), every `step`-th pixel
/// each way; 0 for a box outside the frame.
pub fn mean_in_box(
    frame: &RgbImage,
    b: &FaceBox,
    step: usize,
    value: impl Fn(&image::Rgb<u8>) -> f32,
) -> f32 {
    let (w, h) = (frame.width() as f32, frame.height() as f32);
    let (x0, y0) = (b.x.clamp(0.0, w) as u32, b.y.clamp(0.0, h) as u32);
    let (x1, y1) = ((b.x + b.w).clamp(0.0, w) as u32, (b.y + b.h).clamp(0.0, h) as u32);
    let (mut sum, mut n) = (0f32, 0u32);
    for y in (y0..y1).step_by(step) {
        for x in (x0..x1).step_by(step) {
            sum += value(frame.get_pixel(x, y));
            n += 1;
        }
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f32
    }
}

/// Takes the picture by itself after [`READY_FRAMES`] ready frames in a row (selfie and
/// document alike).
#[derive(Debug, Default, Clone, Copy)]
pub struct AutoCapture {
    streak: u32,
}

impl AutoCapture {
    /// Counts a frame that is `ready` or not; true when the picture should be taken now.
    pub fn update(&mut self, ready: bool) -> bool {
        self.streak = if ready { self.streak + 1 } else { 0 };
        if self.streak >= READY_FRAMES {
            self.streak = 0;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32, w: f32) -> Face {
        Face { bbox: FaceBox { x, y: 50.0, w, h: w }, score: 0.9, landmarks: [[0.0; 2]; 5] }
    }

    #[test]
    fn each_problem_gets_its_line() {
        let lit = RgbImage::from_pixel(640, 480, image::Rgb([150, 140, 130]));
        let dark = RgbImage::from_pixel(640, 480, image::Rgb([20, 20, 20]));
        let check =
            |faces: &[Face], frame: &RgbImage, previous: Option<FaceBox>, want: Guidance| {
                assert_eq!(assess(faces, frame, previous), want);
            };
        check(&[], &lit, None, Guidance::LookAtCamera);
        check(&[face(100.0, 200.0), face(400.0, 150.0)], &lit, None, Guidance::OneFacePlease);
        // A small face far behind is a bystander, not a second person.
        check(&[face(100.0, 200.0), face(500.0, 40.0)], &lit, None, Guidance::Ready);
        check(&[face(100.0, 80.0)], &lit, None, Guidance::MoveCloser);
        check(&[face(100.0, 200.0)], &dark, None, Guidance::MoreLight);
        check(&[face(100.0, 200.0)], &lit, Some(face(160.0, 200.0).bbox), Guidance::HoldStill);
        check(&[face(100.0, 200.0)], &lit, Some(face(105.0, 200.0).bbox), Guidance::Ready);
        assert_eq!(Guidance::MoveCloser.text(), tr!("Move closer"));
    }

    #[test]
    fn auto_capture_needs_a_steady_streak() {
        let mut auto = AutoCapture::default();
        let mut fired = Vec::new();
        for g in [
            Guidance::Ready,
            Guidance::Ready,
            Guidance::HoldStill,
            Guidance::Ready,
            Guidance::Ready,
            Guidance::Ready,
            Guidance::Ready,
            Guidance::Ready,
        ] {
            fired.push(auto.update(g == Guidance::Ready));
        }
        assert_eq!(fired, vec![false, false, false, false, false, false, true, false]);
    }
}
