//! SFace on ONNX Runtime: a 112×112 aligned RGB crop in (channels first), a unit 128-d
//! embedding out.

use std::path::Path;

use image::RgbImage;

use super::session::{channels_first, LoadedSession};
use crate::alignment::ALIGNED_SIDE;
use crate::domain::Embedding;
use crate::embedding::{normalize, Embedder};
use crate::inference::models::SFACE_ONNX;
use crate::inference::RuntimeOptions;
use crate::model_error::ModelError;

/// SFace 2021dec.
pub struct OnnxEmbedder {
    model: LoadedSession,
}

impl OnnxEmbedder {
    /// Loads SFace from `dir`.
    ///
    /// # Errors
    /// A missing/altered model, a missing ONNX Runtime library or a runtime failure.
    pub fn load(dir: &Path, options: RuntimeOptions) -> Result<OnnxEmbedder, ModelError> {
        Ok(OnnxEmbedder { model: LoadedSession::load(dir, SFACE_ONNX, options)? })
    }
}

impl Embedder for OnnxEmbedder {
    fn embed(&mut self, aligned: &RgbImage) -> Result<Embedding, ModelError> {
        let side = ALIGNED_SIDE as usize;
        // RGB 0..255, planes: SFace normalises inside its graph.
        let interleaved: Vec<f32> = aligned.as_raw().iter().map(|&v| f32::from(v)).collect();
        let mut outputs = self.model.run([1, 3, side, side], channels_first(&interleaved, side))?;
        match outputs.pop() {
            Some((shape, data)) if outputs.is_empty() && shape == [1, 128] => Ok(normalize(data)),
            other => Err(ModelError::UnexpectedLayout {
                model: SFACE_ONNX.name,
                detail: format!("output {:?}", other.map(|(shape, _)| shape)),
            }),
        }
    }
}
