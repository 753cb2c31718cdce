//! Small printed faces looked at with the resolution they have. A document page is shrunk to
//! the detector's 640 input, so the 30-50 px face of a card photographed at arm's length
//! becomes 15-25 px there: YuNet then misses it, scores it low, or places its landmarks
//! poorly. Each such small face or candidate, however low it scores, gets a second look: the region
//! around it, cut from the full-resolution picture, through the 320 detector, where the face
//! is about 80 px wide (docs/match.md "How faces are chosen"). A picture smaller than the input
//! (a phone's photo sent at 600 px) gets the same look: the region enlarged shows the detector a
//! face of the size it places landmarks on best.

use image::RgbImage;

use super::{placed, Detector, InputSize, MIN_SCORE};
use crate::domain::{Face, FaceBox};
use crate::model_error::ModelError;

/// Lowest first-pass score of a candidate worth a closer look (measured on camera-like
/// captures: the faces the first pass missed scored 0.3-0.8 there).
pub const CANDIDATE_SCORE: f32 = 0.3;
/// A face narrower than this in the detector's input gets a closer look.
pub const SMALL_IN_INPUT_PX: f32 = 40.0;
/// Closer looks per picture at most: each costs one 320 detection (about 5 ms on 2 x86 cores).
pub const MAX_LOOKS: usize = 3;
/// Before tiling, a picture is shrunk to at most this side (twice the 640 input).
const TILED_MAX_SIDE: u32 = 1280;
/// Tiles are searched only when they show the page at least this many times larger than the
/// whole-page pass did (a 1280×720 frame: 0.89 against 0.5). A card scanned sideways at 856 px
/// (0.75 against 1.0) is not tiled: there a tile found its sideways face as an upright one.
const MIN_TILE_GAIN: f32 = 1.5;
/// Tiles overlap by at least this share of their side, so a face on a seam is whole in one.
const TILE_OVERLAP: f32 = 0.3;

/// Faces scoring at least [`CANDIDATE_SCORE`] in overlapping square tiles of the picture,
/// each given the 640 input to itself: for pages where the whole-page pass (which saw the page
/// at `page_scale`) found nothing. A 1280×720 camera frame is 3 tiles of 720 px (input scale
/// 0.89 instead of 0.5).
///
/// # Errors
/// When the model cannot be run.
pub fn tiled(
    detector: &mut dyn Detector,
    image: &RgbImage,
    page_scale: f32,
) -> Result<Vec<Face>, ModelError> {
    let shrunk = crate::intake::reduced::shrunk(image, TILED_MAX_SIDE);
    let back = image.width() as f32 / shrunk.width() as f32;
    let (w, h) = shrunk.dimensions();
    let side = w.min(h).max(InputSize::S640.side()).min(w.max(h));
    let tile_scale = InputSize::S640.side() as f32 / side as f32 / back;
    if tile_scale < MIN_TILE_GAIN * page_scale {
        // Tiles barely larger than the whole page add false faces, not resolution.
        return Ok(Vec::new());
    }
    let starts = |length: u32| -> Vec<u32> {
        if length <= side {
            return vec![0];
        }
        let step = side as f32 * (1.0 - TILE_OVERLAP);
        let n = ((length - side) as f32 / step).ceil() as u32 + 1;
        (0..n).map(|i| ((length - side) as f32 * i as f32 / (n - 1) as f32) as u32).collect()
    };
    let mut faces = Vec::new();
    for y in starts(h) {
        for x in starts(w) {
            let tile =
                image::imageops::crop_imm(&*shrunk, x, y, side.min(w), side.min(h)).to_image();
            for f in detector.detect(&tile, InputSize::S640, CANDIDATE_SCORE)? {
                faces.push(placed(&f, (x as f32, y as f32), back));
            }
        }
    }
    Ok(super::nms::nms(faces, super::NMS_IOU))
}

/// The region looked at is this many face widths wide, so the face is about 80 px in the 320 input.
const REGION_IN_FACES: f32 = 4.0;

/// The faces of the first pass (every one scoring at least [`CANDIDATE_SCORE`], found in the
/// picture shrunk by `input_scale`), with the small ones replaced by what a closer look finds;
/// unsure candidates (under [`MIN_SCORE`]) that are large, or that a closer look does not
/// confirm, are dropped.
///
/// # Errors
/// When the model cannot be run.
pub fn look_closer(
    detector: &mut dyn Detector,
    image: &RgbImage,
    first_pass: Vec<Face>,
    input_scale: f32,
) -> Result<Vec<Face>, ModelError> {
    log::debug!(
        "document candidates (page input scale {input_scale:.2}): {:?}",
        first_pass.iter().map(|f| (f.score, f.bbox.w.round())).collect::<Vec<_>>()
    );
    // Only small faces get a closer look: a large face that scores low is not held back by
    // resolution (it is turned, or not a face), and looking closer would only make it look surer.
    let needs_look = |f: &Face| f.bbox.w.max(f.bbox.h) * input_scale < SMALL_IN_INPUT_PX;
    let (mut looks, mut faces): (Vec<Face>, Vec<Face>) =
        first_pass.into_iter().partition(needs_look);
    faces.retain(|f| f.score >= MIN_SCORE);
    looks.sort_by(|a, b| b.score.total_cmp(&a.score));
    for (n, candidate) in looks.into_iter().enumerate() {
        let found = if n < MAX_LOOKS { closer(detector, image, &candidate)? } else { None };
        match found {
            Some(face) => faces.push(face),
            None if candidate.score >= MIN_SCORE => faces.push(candidate),
            None => {}
        }
    }
    Ok(faces)
}

/// The face a full-resolution look around `candidate` finds nearest its centre.
fn closer(
    detector: &mut dyn Detector,
    image: &RgbImage,
    candidate: &Face,
) -> Result<Option<Face>, ModelError> {
    let Some((region, offset)) = region_around(image, candidate) else { return Ok(None) };
    let (cx, cy) = candidate.bbox.centre();
    let nearest = detector
        .detect(&region, InputSize::S320, MIN_SCORE)?
        .iter()
        .map(|f| placed(f, offset, 1.0))
        .filter(|f| contains(&f.bbox, cx, cy))
        .min_by(|a, c| distance(a, cx, cy).total_cmp(&distance(c, cx, cy)));
    Ok(nearest)
}

/// The full-resolution square around `face`, [`REGION_IN_FACES`] face widths wide (clipped to
/// the picture), and its top-left corner; `None` when almost nothing of it is inside.
pub fn region_around(image: &RgbImage, face: &Face) -> Option<(RgbImage, (f32, f32))> {
    let b = face.bbox;
    let side = (b.w.max(b.h) * REGION_IN_FACES).max(64.0);
    let (cx, cy) = b.centre();
    let x0 = (cx - side / 2.0).clamp(0.0, image.width() as f32) as u32;
    let y0 = (cy - side / 2.0).clamp(0.0, image.height() as f32) as u32;
    let x1 = ((cx + side / 2.0).max(0.0) as u32).min(image.width());
    let y1 = ((cy + side / 2.0).max(0.0) as u32).min(image.height());
    if x1 <= x0 + 8 || y1 <= y0 + 8 {
        return None;
    }
    let region = image::imageops::crop_imm(image, x0, y0, x1 - x0, y1 - y0).to_image();
    Some((region, (x0 as f32, y0 as f32)))
}

fn contains(b: &FaceBox, x: f32, y: f32) -> bool {
    (b.x..=b.x + b.w).contains(&x) && (b.y..=b.y + b.h).contains(&y)
}

fn distance(f: &Face, x: f32, y: f32) -> f32 {
    let (fx, fy) = f.bbox.centre();
    (fx - x).hypot(fy - y)
}
