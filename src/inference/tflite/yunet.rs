//! YuNet on TensorFlow Lite: runs the model and hands its outputs to
//! [`crate::detection::yunet`] for decoding.

use std::path::Path;

use image::RgbImage;

use super::runtime::{LoadedModel, ReadModel};
use crate::detection::yunet::{faces_in, fits_at_scale, letterbox_into, InputShape, WIDE_640};
use crate::detection::{Detector, InputSize};
use crate::domain::Face;
use crate::inference::models::{YUNET_320, YUNET_640, YUNET_640_WIDE};
use crate::inference::{side_by_side, RuntimeOptions};
use crate::model_error::ModelError;

/// YuNet at 320×320, at 640×416 for wide pages, and at 640×640 for the other pages.
///
/// The 640×640 model is read and checked with the others but compiled on its first use: a
/// card or a camera frame never needs it (only a portrait page, a page searched turned a
/// quarter or in tiles, or a tight crop retried with a border does), and compiled it holds
/// XNNPACK's working memory for a 640×640 input.
pub struct TfliteDetector {
    small: LoadedModel,
    wide: LoadedModel,
    square: Option<LoadedModel>,
    square_model: ReadModel,
    options: RuntimeOptions,
}

impl TfliteDetector {
    /// Loads the 320 and wide 640 models from `dir`, and reads the square 640 one.
    ///
    /// # Errors
    /// A missing/altered model or a runtime failure.
    pub fn load(dir: &Path, options: RuntimeOptions) -> Result<TfliteDetector, ModelError> {
        // Side by side: each is prepared by its first run (`ReadModel::compile`).
        let ((wide, square_model), small) = side_by_side(
            || {
                Ok((
                    LoadedModel::load(dir, YUNET_640_WIDE, options)?,
                    ReadModel::read(dir, YUNET_640)?,
                ))
            },
            || LoadedModel::load(dir, YUNET_320, options),
        )?;
        check_layout(&small, InputShape::square(320))?;
        check_layout(&wide, WIDE_640)?;
        Ok(TfliteDetector { small, wide, square: None, square_model, options })
    }

    /// The model for a picture of `width`×`height` at `size`, compiled if it was not yet.
    fn model_for(
        &mut self,
        width: u32,
        height: u32,
        size: InputSize,
    ) -> Result<(&mut LoadedModel, InputShape), ModelError> {
        let side = size.side();
        if size == InputSize::S320 {
            return Ok((&mut self.small, InputShape::square(side)));
        }
        if fits_at_scale(width, height, side, WIDE_640) {
            return Ok((&mut self.wide, WIDE_640));
        }
        let square = match self.square.take() {
            Some(square) => square,
            None => {
                let square = self.square_model.compile(self.options)?;
                check_layout(&square, InputShape::square(side))?;
                square
            }
        };
        Ok((self.square.insert(square), InputShape::square(side)))
    }
}

/// The model takes a `shape` input and gives YuNet's 12 outputs.
fn check_layout(model: &LoadedModel, shape: InputShape) -> Result<(), ModelError> {
    let input = model.input_shape();
    let expected = [1, shape.height as usize, shape.width as usize, 3];
    if input != expected || model.output_count() != 12 {
        return Err(ModelError::UnexpectedLayout {
            model: model.file.name,
            detail: format!("input {input:?} with {} outputs", model.output_count()),
        });
    }
    Ok(())
}

impl Detector for TfliteDetector {
    fn detect(
        &mut self,
        image: &RgbImage,
        size: InputSize,
        min_score: f32,
    ) -> Result<Vec<Face>, ModelError> {
        let (model, shape) = self.model_for(image.width(), image.height(), size)?;
        let scale = model.run_filled(|input| letterbox_into(image, shape, input))?;
        let outputs =
            (0..model.output_count()).map(|i| model.output(i)).collect::<Result<Vec<_>, _>>()?;
        faces_in(&outputs, shape, scale, min_score)
            .map_err(|detail| ModelError::UnexpectedLayout { model: model.file.name, detail })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::MIN_SCORE;
    use crate::inference::models::locate_dir;

    #[test]
    fn the_square_model_is_compiled_only_for_a_page_that_needs_it() {
        let mut detector =
            TfliteDetector::load(&locate_dir(None), RuntimeOptions::default()).unwrap();
        assert!(detector.square.is_none());
        // A card and a 16:9 frame fit the wide input; a selfie goes to the 320 model.
        for (w, h) in [(856, 540), (1280, 720)] {
            detector.detect(&RgbImage::new(w, h), InputSize::S640, MIN_SCORE).unwrap();
        }
        detector.detect(&RgbImage::new(540, 856), InputSize::S320, MIN_SCORE).unwrap();
        assert!(detector.square.is_none());
        // A portrait page does not.
        detector.detect(&RgbImage::new(540, 856), InputSize::S640, MIN_SCORE).unwrap();
        assert!(detector.square.is_some());
    }
}
