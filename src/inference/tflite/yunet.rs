//! YuNet on TensorFlow Lite: runs the model and hands its outputs to
//! [`crate::detection::yunet`] for decoding.

use std::path::Path;

use image::RgbImage;

use super::runtime::LoadedModel;
use crate::detection::yunet::{faces_in, letterbox};
use crate::detection::{Detector, InputSize};
use crate::domain::Face;
use crate::inference::models::{YUNET_320, YUNET_640};
use crate::inference::RuntimeOptions;
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
        let small = LoadedModel::load(dir, YUNET_320, options)?;
        let large = LoadedModel::load(dir, YUNET_640, options)?;
        for (model, side) in [(&small, 320), (&large, 640)] {
            let shape = model.input_shape()?;
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
            InputSize::S320 => &self.small,
            InputSize::S640 => &self.large,
        };
        let side = size.side();
        let (input, scale) = letterbox(image, side);
        model.run(&input)?;
        let outputs =
            (0..model.output_count()).map(|i| model.output(i)).collect::<Result<Vec<_>, _>>()?;
        faces_in(&outputs, side, scale, min_score)
            .map_err(|detail| ModelError::UnexpectedLayout { model: model.file.name, detail })
    }
}
