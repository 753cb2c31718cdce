//! YuNet (OpenCV Zoo, 2023mar) pre- and post-processing, independent of the runtime.
//!
//! Input: `[1, H, W, 3]` float BGR 0..255 (W×H: 320×320, 640×640, or for pages of other shapes
//! at the 640 scale 640×416, 640×480 or 480×640: [`INPUTS_640`]),
//! the picture resized to fit and padded bottom/right. Output, per stride s ∈ {8, 16, 32} with
//! N = (W/s)·(H/s) cells: `cls [N]`, `obj [N]`, `bbox [N,4]`, `kps [N,10]`.
//! Cell i sits at row i / (W/s), column i % (W/s); its score is
//! sqrt(cls·obj), its box centre (col+b0)·s, (row+b1)·s and size exp(b2)·s, exp(b3)·s.

use std::borrow::Cow;

use image::RgbImage;

use crate::domain::{Face, FaceBox};

/// The raw outputs of one stride level, borrowed from the interpreter.
#[derive(Debug, Clone, Copy)]
pub struct StrideOutputs<'a> {
    /// 8, 16 or 32.
    pub stride: u32,
    /// Class scores, N values.
    pub cls: &'a [f32],
    /// Objectness, N values.
    pub obj: &'a [f32],
    /// Box offsets, 4N values.
    pub bbox: &'a [f32],
    /// Landmark offsets, 10N values.
    pub kps: &'a [f32],
}

/// A model input's size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputShape {
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
}

impl InputShape {
    /// A `side`×`side` input.
    pub const fn square(side: u32) -> InputShape {
        InputShape { width: side, height: side }
    }

    /// Values in the model's input tensor (three channels).
    pub fn values(self) -> usize {
        self.width as usize * self.height as usize * 3
    }
}

/// The input for wide pages: a card (1.59:1) or a 16:9 camera frame with its longest side 640
/// fills 640×416 with a few rows of padding where 640×640 has 236 or more: the same picture at
/// the same scale for about two thirds of the work.
pub const WIDE_640: InputShape = InputShape { width: 640, height: 416 };

/// The input for landscape 4:3 pages: a passport's data page (1.42:1), a 4:3 camera frame
/// (640×480 at the 640 scale, where 640×640 would pad 160 or more rows).
pub const LANDSCAPE_640: InputShape = InputShape { width: 640, height: 480 };

/// The input for portrait pages up to 3:4: a phone's upright photo, a portrait photo sent as the
/// document (480 or fewer columns at the 640 scale).
pub const PORTRAIT_640: InputShape = InputShape { width: 480, height: 640 };

/// The inputs a page is seen in at the 640 scale, least work first: [`input_640`] takes the first
/// the page fits at that scale, so every page is seen at the same scale as in the square input,
/// with as little padding to compute as these shapes allow.
pub const INPUTS_640: [InputShape; 4] =
    [WIDE_640, LANDSCAPE_640, PORTRAIT_640, InputShape::square(640)];

/// The input of [`INPUTS_640`] a `width`×`height` page goes to at the 640 scale.
pub fn input_640(width: u32, height: u32) -> InputShape {
    INPUTS_640
        .into_iter()
        .find(|&shape| fits_at_scale(width, height, 640, shape))
        .unwrap_or(InputShape::square(640))
}

/// A `width`×`height` picture fitted to its longest side `side` also fits in `shape`: it is
/// seen there at the same scale as in a `side`×`side` input, with less padding.
pub fn fits_at_scale(width: u32, height: u32, side: u32, shape: InputShape) -> bool {
    let ((w, h), _) = fitted(width, height, side);
    w <= shape.width && h <= shape.height && shape.width.max(shape.height) == side
}

/// One model output as a runtime hands it over: its shape and a copy of its data.
pub type RawOutput = (Vec<usize>, Vec<f32>);

/// The stride levels in a model's outputs (`(shape, data)` each, in any order), matched by shape:
/// per stride, two `[1,N,1]` (cls and obj, which enter the score symmetrically, so their order does
/// not matter), one `[1,N,4]` and one `[1,N,10]`.
///
/// # Errors
/// What does not match, for the caller's layout error.
fn stride_levels(
    outputs: &[RawOutput],
    shape: InputShape,
) -> Result<Vec<StrideOutputs<'_>>, String> {
    let mut levels = Vec::with_capacity(3);
    for stride in [8u32, 16, 32] {
        let cells = ((shape.width / stride) * (shape.height / stride)) as usize;
        let with = |last: usize| -> Vec<&[f32]> {
            outputs
                .iter()
                .filter(|(shape, _)| shape[..] == [1, cells, last])
                .map(|(_, d)| d.as_slice())
                .collect()
        };
        let (scores, bbox, kps) = (with(1), with(4), with(10));
        if scores.len() != 2 || bbox.len() != 1 || kps.len() != 1 {
            return Err(format!("stride {stride}: outputs do not match [1,{cells},1|4|10]"));
        }
        levels.push(StrideOutputs {
            stride,
            cls: scores[0],
            obj: scores[1],
            bbox: bbox[0],
            kps: kps[0],
        });
    }
    Ok(levels)
}

/// The faces in a model's raw outputs (any order, matched by shape), after NMS, in image pixels:
/// the post-processing every runtime shares.
///
/// # Errors
/// Outputs that do not match YuNet's layout, for the caller's layout error.
pub fn faces_in(
    outputs: &[RawOutput],
    shape: InputShape,
    scale: f32,
    min_score: f32,
) -> Result<Vec<Face>, String> {
    let levels = stride_levels(outputs, shape)?;
    Ok(super::nms::nms(decode(&levels, shape.width, scale, min_score), super::NMS_IOU))
}

/// The size a `width`×`height` picture has in a `side`×`side` input (its longest side `side`),
/// and the factor from picture pixels to input pixels.
pub fn fitted(width: u32, height: u32, side: u32) -> ((u32, u32), f32) {
    fitted_in(width, height, InputShape::square(side))
}

/// The size a `width`×`height` picture has when resized to fit a `shape` input (as large as
/// fits, aspect kept), and the factor from picture pixels to input pixels.
pub fn fitted_in(width: u32, height: u32, shape: InputShape) -> ((u32, u32), f32) {
    let scale = (shape.width as f32 / width as f32).min(shape.height as f32 / height as f32);
    let rw = ((width as f32 * scale).round() as u32).clamp(1, shape.width);
    let rh = ((height as f32 * scale).round() as u32).clamp(1, shape.height);
    ((rw, rh), scale)
}

/// The model input for `image`, and the factor from image pixels to input pixels.
pub fn letterbox(image: &RgbImage, shape: InputShape) -> (Vec<f32>, f32) {
    let mut input = vec![0f32; shape.values()];
    let scale = letterbox_into(image, shape, &mut input);
    (input, scale)
}

/// Writes the model input for `image` into `input` (a reused buffer of the `shape`'s size, e.g.
/// the runtime's own, so no copy of it is made): the picture resized to fit ([`fitted_in`]),
/// BGR, zeros in the padding. Returns the factor from image pixels to input pixels.
///
/// # Panics
/// If `input` does not hold the shape's values (the caller's model shape check).
pub fn letterbox_into(image: &RgbImage, shape: InputShape, input: &mut [f32]) -> f32 {
    let row_len = shape.width as usize * 3;
    assert_eq!(input.len(), shape.values(), "a {}×{}×3 input", shape.width, shape.height);
    let (w, h) = image.dimensions();
    let ((rw, rh), scale) = fitted_in(w, h, shape);
    let resized = if (rw, rh) == (w, h) {
        Cow::Borrowed(image)
    } else {
        Cow::Owned(crate::intake::resize::resized(image, rw, rh))
    };
    let (picture, padding) = input.split_at_mut(row_len * resized.height() as usize);
    for (row, pixels) in picture.chunks_exact_mut(row_len).zip(resized.rows()) {
        let (filled, rest) = row.split_at_mut(pixels.len() * 3);
        for (out, p) in filled.chunks_exact_mut(3).zip(pixels) {
            out.copy_from_slice(&[f32::from(p[2]), f32::from(p[1]), f32::from(p[0])]);
        }
        rest.fill(0.0);
    }
    padding.fill(0.0);
    scale
}

/// Faces scoring at least `min_score`, in image pixels (before NMS), from the outputs of an
/// input `input_width` pixels wide.
pub fn decode(
    levels: &[StrideOutputs<'_>],
    input_width: u32,
    scale: f32,
    min_score: f32,
) -> Vec<Face> {
    let mut faces = Vec::new();
    for level in levels {
        let cols = (input_width / level.stride) as usize;
        let s = level.stride as f32;
        let n = level
            .cls
            .len()
            .min(level.obj.len())
            .min(level.bbox.len() / 4)
            .min(level.kps.len() / 10);
        for i in 0..n {
            let score = (level.cls[i].clamp(0.0, 1.0) * level.obj[i].clamp(0.0, 1.0)).sqrt();
            if score < min_score {
                continue;
            }
            let (row, col) = ((i / cols) as f32, (i % cols) as f32);
            let b = &level.bbox[i * 4..i * 4 + 4];
            let cx = (col + b[0]) * s;
            let cy = (row + b[1]) * s;
            let w = b[2].exp() * s;
            let h = b[3].exp() * s;
            let k = &level.kps[i * 10..i * 10 + 10];
            let mut landmarks = [[0f32; 2]; 5];
            for (j, p) in landmarks.iter_mut().enumerate() {
                *p = [(col + k[2 * j]) * s / scale, (row + k[2 * j + 1]) * s / scale];
            }
            faces.push(Face {
                bbox: FaceBox {
                    x: (cx - w / 2.0) / scale,
                    y: (cy - h / 2.0) / scale,
                    w: w / scale,
                    h: h / scale,
                },
                score,
                landmarks,
            });
        }
    }
    faces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letterbox_keeps_aspect_pads_and_swaps_to_bgr() {
        let image = RgbImage::from_pixel(400, 200, image::Rgb([10, 20, 30]));
        let (input, scale) = letterbox(&image, InputShape::square(320));
        assert_eq!(scale, 0.8);
        assert_eq!(input.len(), 320 * 320 * 3);
        assert_eq!(&input[0..3], &[30.0, 20.0, 10.0]);
        // Row 159 is the last image row (200 * 0.8 = 160 rows); row 160 is padding.
        let at = |x: usize, y: usize| &input[(y * 320 + x) * 3..(y * 320 + x) * 3 + 3];
        assert_eq!(at(319, 159), &[30.0, 20.0, 10.0]);
        assert_eq!(at(0, 160), &[0.0, 0.0, 0.0]);
    }

    #[test]
    fn a_reused_buffer_gets_exactly_the_fresh_input() {
        // The runtime's buffer still holds the last picture: its padding must be zeroed again.
        let wide = RgbImage::from_fn(400, 200, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let tall = RgbImage::from_fn(150, 300, |x, y| image::Rgb([y as u8, x as u8, 9]));
        let mut reused = vec![f32::NAN; 320 * 320 * 3];
        for image in [&tall, &wide, &tall] {
            let scale = letterbox_into(image, InputShape::square(320), &mut reused);
            assert_eq!((reused.clone(), scale), letterbox(image, InputShape::square(320)));
        }
    }

    #[test]
    fn a_picture_shrunk_to_its_fitted_size_gives_the_same_input() {
        // The turn check shrinks a region once and turns the small copy: the detector must see
        // exactly what it would have made of the full-size region.
        let image = RgbImage::from_fn(721, 539, |x, y| {
            image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
        });
        let ((w, h), scale) = fitted(721, 539, 320);
        assert_eq!(((w, h), scale), ((320, 239), 320.0 / 721.0));
        let shrunk = crate::intake::resize::resized(&image, w, h);
        let square = InputShape::square(320);
        assert_eq!(letterbox(&shrunk, square).0, letterbox(&image, square).0);
    }

    #[test]
    fn a_wide_page_fills_the_wide_input_at_the_square_inputs_scale() {
        // A card 856×540: 640×404 in either input; the wide one has 12 rows of padding, not 236.
        let card = RgbImage::from_fn(856, 540, |x, y| image::Rgb([x as u8, y as u8, 3]));
        assert!(fits_at_scale(856, 540, 640, WIDE_640));
        let (wide, wide_scale) = letterbox(&card, WIDE_640);
        let (square, square_scale) = letterbox(&card, InputShape::square(640));
        assert_eq!(wide_scale, square_scale);
        assert_eq!(wide.len(), 640 * 416 * 3);
        assert_eq!(wide[..], square[..wide.len()]);
        assert!(square[wide.len()..].iter().all(|&v| v == 0.0));
        // A 4:3 photo (640×480 at that scale) and a portrait page do not fit it.
        assert!(!fits_at_scale(1600, 1200, 640, WIDE_640));
        assert!(!fits_at_scale(540, 856, 640, WIDE_640));
        // Nor does anything at the 320 scale.
        assert!(!fits_at_scale(856, 540, 320, WIDE_640));
    }

    #[test]
    fn each_page_goes_to_the_smallest_640_input_it_fits() {
        let input = |w, h| input_640(w, h);
        // A card and a 16:9 frame: 640×416.
        assert_eq!(input(856, 540), WIDE_640);
        assert_eq!(input(1280, 720), WIDE_640);
        // A passport's data page (125×88 mm), a 4:3 frame: 640×480.
        assert_eq!(input(1250, 880), LANDSCAPE_640);
        assert_eq!(input(1280, 960), LANDSCAPE_640);
        // A phone's upright 3:4 photo, a tall portrait: 480×640.
        assert_eq!(input(960, 1280), PORTRAIT_640);
        assert_eq!(input(626, 1200), PORTRAIT_640);
        // Nearly square pages, and small ones seen larger at that scale, alike: 640×640.
        assert_eq!(input(910, 1137), InputShape::square(640));
        assert_eq!(input(1000, 1000), InputShape::square(640));
        assert_eq!(input(300, 280), InputShape::square(640));
        // Each is at the scale the square input would show it at.
        for (w, h) in [(856, 540), (1250, 880), (626, 1200)] {
            let shape = input(w, h);
            assert_eq!(fitted_in(w, h, shape), fitted(w, h, 640), "{w}×{h}");
        }
    }

    #[test]
    fn cells_of_a_wide_input_are_read_row_by_row_of_its_width() {
        // Stride 32 on a 64×32 input: 2 columns, 1 row. Cell 1 = row 0, col 1.
        let (cls, obj) = ([0.0, 0.81], [1.0, 1.0]);
        let (bbox, kps) = ([0f32; 8], [0f32; 20]);
        let level = StrideOutputs { stride: 32, cls: &cls, obj: &obj, bbox: &bbox, kps: &kps };
        let faces = decode(&[level], 64, 1.0, 0.8);
        assert_eq!(faces.len(), 1);
        assert_eq!(faces[0].landmarks[0], [32.0, 0.0]);
        let outputs: Vec<RawOutput> = [1, 1, 4, 10, 1, 1, 4, 10, 1, 1, 4, 10]
            .iter()
            .zip([8, 8, 8, 8, 16, 16, 16, 16, 32, 32, 32, 32])
            .map(|(&last, stride)| (vec![1, (64 / stride) * (32 / stride), last], vec![0.0; 1]))
            .collect();
        assert!(stride_levels(&outputs, InputShape { width: 64, height: 32 }).is_ok());
        assert!(stride_levels(&outputs, InputShape::square(64)).is_err());
    }

    #[test]
    fn decode_places_a_cell_in_image_pixels() {
        // One stride-32 level on a 64-pixel input: 2x2 cells. Cell 3 = row 1, col 1.
        let cls = [0.0, 0.0, 0.0, 0.81];
        let obj = [1.0, 1.0, 1.0, 1.0];
        let mut bbox = [0f32; 16];
        bbox[12..16].copy_from_slice(&[0.5, 0.25, 0.0, (2f32).ln()]);
        let mut kps = [0f32; 40];
        kps[30..40].copy_from_slice(&[0.0, 0.0, 1.0, 0.0, 0.5, 0.5, 0.0, 1.0, 1.0, 1.0]);
        let level = StrideOutputs { stride: 32, cls: &cls, obj: &obj, bbox: &bbox, kps: &kps };
        // The image was downscaled by 0.5 to make the input: coordinates double.
        let faces = decode(&[level], 64, 0.5, 0.8);
        assert_eq!(faces.len(), 1);
        let f = faces[0];
        assert!((f.score - 0.9).abs() < 1e-6);
        // centre (1.5*32, 1.25*32) = (48, 40); size 32 x 64; then /0.5.
        let expect = FaceBox { x: (48.0 - 16.0) * 2.0, y: (40.0 - 32.0) * 2.0, w: 64.0, h: 128.0 };
        for (got, want) in
            [(f.bbox.x, expect.x), (f.bbox.y, expect.y), (f.bbox.w, expect.w), (f.bbox.h, expect.h)]
        {
            assert!((got - want).abs() < 1e-3, "{:?} vs {:?}", f.bbox, expect);
        }
        assert_eq!(f.landmarks[0], [64.0, 64.0]);
        assert_eq!(f.landmarks[2], [96.0, 96.0]);
        assert_eq!(f.landmarks[4], [128.0, 128.0]);
    }

    #[test]
    fn decode_drops_low_scores() {
        let level = StrideOutputs {
            stride: 32,
            cls: &[0.6],
            obj: &[1.0],
            bbox: &[0.0; 4],
            kps: &[0.0; 10],
        };
        assert!(decode(&[level], 32, 1.0, 0.8).is_empty());
    }
}
