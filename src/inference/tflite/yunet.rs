//! YuNet on TensorFlow Lite: runs the model and hands its outputs to
//! [`crate::detection::yunet`] for decoding.

use std::path::Path;

use image::RgbImage;

use super::runtime::LoadedModel;
use crate::detection::yunet::{faces_in, letterbox_into};
use crate::detection::{Detector, InputSize};
use crate::domain::Face;
use crate::inference::models::{YUNET_320, YUNET_640};
use crate::inference::{side_by_side, RuntimeOptions};
use crate::model_error::ModelError;

/// YuNet at 320×320 and 640×640.
pub struct TfliteDetector {
    small: LoadedModel,
    large: LoadedModel,
}

impl TfliteDetector {
    /// Loads both input sizes from `dir`.
    ///
    /// # Errors
    /// A missing/altered model or a runtime failure.
    pub fn load(dir: &Path, options: RuntimeOptions) -> Result<TfliteDetector, ModelError> {
        // Side by side: each is prepared by its first run (`LoadedModel::load`), 640's the longest.
        let (large, small) = side_by_side(
            || LoadedModel::load(dir, YUNET_640, options),
            || LoadedModel::load(dir, YUNET_320, options),
        )?;
        for (model, side) in [(&small, 320), (&large, 640)] {
            let shape = model.input_shape();
            if shape != [1, side, side, 3] || model.output_count() != 12 {
                return Err(ModelError::UnexpectedLayout {
                    model: model.file.name,
                    detail: format!("input {shape:?} with {} outputs", model.output_count()),
                });
            }
        }
        Ok(TfliteDetector { small, large })
    }
}

impl Detector for TfliteDetector {
    fn detect(
        &mut self,
        image: &RgbImage,
        size: InputSize,
        min_score: f32,
    ) -> Result<Vec<Face>, ModelError> {
        let model = match size {
            InputSize::S320 => &mut self.small,
            InputSize::S640 => &mut self.large,
        };
        let side = size.side();
        let scale = model.run_filled(|input| letterbox_into(image, side, input))?;
        let outputs =
            (0..model.output_count()).map(|i| model.output(i)).collect::<Result<Vec<_>, _>>()?;
        faces_in(&outputs, side, scale, min_score)
            .map_err(|detail| ModelError::UnexpectedLayout { model: model.file.name, detail })
    }
}
