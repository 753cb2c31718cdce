//! SFace on TensorFlow Lite: a 112×112 aligned RGB crop in, a unit 128-d embedding out.

use std::path::Path;

use image::RgbImage;

use super::runtime::LoadedModel;
use crate::alignment::ALIGNED_SIDE;
use crate::domain::Embedding;
use crate::embedding::{normalize, Embedder};
use crate::inference::models::SFACE;
use crate::inference::RuntimeOptions;
use crate::model_error::ModelError;

/// SFace 2021dec.
pub struct TfliteEmbedder {
    model: LoadedModel,
}

impl TfliteEmbedder {
    /// Loads SFace from `dir`.
    ///
    /// # Errors
    /// A missing/altered model or a runtime failure.
    pub fn load(dir: &Path, options: RuntimeOptions) -> Result<TfliteEmbedder, ModelError> {
        let model = LoadedModel::load(dir, SFACE, options)?;
        let side = ALIGNED_SIDE as usize;
        let shape = model.input_shape();
        if shape != [1, side, side, 3] {
            return Err(ModelError::UnexpectedLayout {
                model: SFACE.name,
                detail: format!("input {shape:?}"),
            });
        }
        Ok(TfliteEmbedder { model })
    }
}

impl Embedder for TfliteEmbedder {
    fn embed(&mut self, aligned: &RgbImage) -> Result<Embedding, ModelError> {
        // RGB 0..255: SFace normalises inside its graph.
        let pixels = aligned.as_raw();
        let shape = self.model.input_shape();
        if pixels.len() != shape.iter().product::<usize>() {
            return Err(ModelError::Runtime {
                model: SFACE.name,
                detail: format!("{} values for a tensor of shape {shape:?}", pixels.len()),
            });
        }
        self.model.run_filled(|input| {
            input.iter_mut().zip(pixels).for_each(|(value, &level)| *value = f32::from(level))
        })?;
        let (shape, data) = self.model.output(0)?;
        if shape != [1, 128] {
            return Err(ModelError::UnexpectedLayout {
                model: SFACE.name,
                detail: format!("output {shape:?}"),
            });
        }
        Ok(normalize(data))
    }
}
