//! YuNet on ONNX Runtime: the same letterboxed input as TensorFlow Lite, channels first, and the
//! same decoding ([`crate::detection::yunet`]).

use std::path::Path;

use image::RgbImage;

use super::session::{channels_first, LoadedSession};
use crate::detection::yunet::{faces_in, letterbox, InputShape};
use crate::detection::{Detector, InputSize};
use crate::domain::Face;
use crate::inference::models::{YUNET_320_ONNX, YUNET_640_ONNX};
use crate::inference::RuntimeOptions;
use crate::model_error::ModelError;

/// YuNet at 320×320 and 640×640.
pub struct OnnxDetector {
    small: LoadedSession,
    large: LoadedSession,
}

impl OnnxDetector {
    /// Loads both input sizes from `dir`.
    ///
    /// # Errors
    /// A missing/altered model, a missing ONNX Runtime library or a runtime failure.
    pub fn load(dir: &Path, options: RuntimeOptions) -> Result<OnnxDetector, ModelError> {
        Ok(OnnxDetector {
            small: LoadedSession::load(dir, YUNET_320_ONNX, options)?,
            large: LoadedSession::load(dir, YUNET_640_ONNX, options)?,
        })
    }
}

impl Detector for OnnxDetector {
    fn detect(
        &mut self,
        image: &RgbImage,
        size: InputSize,
        min_score: f32,
    ) -> Result<Vec<Face>, ModelError> {
        // No 160 model here: a 160 view goes to the 320 one, enlarged to fill it.
        let (model, size) = match size {
            InputSize::S160 | InputSize::S320 => (&mut self.small, InputSize::S320),
            InputSize::S640 => (&mut self.large, size),
        };
        let shape = InputShape::square(size.side());
        let (input, scale) = letterbox(image, shape);
        let side = size.side() as usize;
        let outputs = model.run([1, 3, side, side], channels_first(&input, side))?;
        faces_in(&outputs, shape, scale, min_score)
            .map_err(|detail| ModelError::UnexpectedLayout { model: model.file.name, detail })
    }
}
