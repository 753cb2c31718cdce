//! One ONNX Runtime session over a pinned model file.

use std::path::Path;

use ort::session::Session;
use ort::value::Tensor;

use super::library::environment;
use crate::detection::yunet::RawOutput;
use crate::inference::models::{self, ModelFile};
use crate::inference::RuntimeOptions;
use crate::model_error::ModelError;

/// A model loaded into ONNX Runtime, with its one input.
pub(super) struct LoadedSession {
    session: Session,
    pub(super) file: ModelFile,
}

impl LoadedSession {
    /// Reads `file` from `dir` (sha256 checked) and builds a session on the process's shared
    /// thread pool (`options.threads`, see [`environment`]).
    pub(super) fn load(
        dir: &Path,
        file: ModelFile,
        options: RuntimeOptions,
    ) -> Result<LoadedSession, ModelError> {
        let runtime = |detail: String| ModelError::Runtime { model: file.name, detail };
        let bytes = models::read_verified(dir, file)?;
        let environment = environment(options.threads).map_err(runtime)?;
        let session = Session::builder(environment).and_then(|mut b| b.commit_from_memory(&bytes));
        // Building the session runs ONNX Runtime's code on this thread (graph optimisation) too.
        crate::inference::vector_state::clean_after_runtime();
        let session = session.map_err(|e| runtime(e.to_string()))?;
        if session.inputs().len() != 1 {
            return Err(ModelError::UnexpectedLayout {
                model: file.name,
                detail: format!("{} inputs, expected 1", session.inputs().len()),
            });
        }
        Ok(LoadedSession { session, file })
    }

    /// Runs the model on `input` (channels first, of `shape`) and returns every output as its
    /// shape and a copy of its f32 data, in the model's output order.
    pub(super) fn run(
        &mut self,
        shape: [usize; 4],
        input: Vec<f32>,
    ) -> Result<Vec<RawOutput>, ModelError> {
        let name = self.file.name;
        let runtime = |e: ort::Error| ModelError::Runtime { model: name, detail: e.to_string() };
        let tensor = Tensor::from_array((shape, input)).map_err(runtime)?;
        let outputs = self.session.run(ort::inputs![tensor]);
        crate::inference::vector_state::clean_after_runtime();
        let outputs = outputs.map_err(runtime)?;
        outputs
            .iter()
            .map(|(_, value)| {
                let (shape, data) = value.try_extract_tensor::<f32>().map_err(runtime)?;
                let shape = shape.iter().map(|&d| usize::try_from(d).unwrap_or(0)).collect();
                Ok((shape, data.to_vec()))
            })
            .collect()
    }
}

/// An interleaved `side`×`side`×3 input as three planes (the layout both ONNX models take).
pub(super) fn channels_first(interleaved: &[f32], side: usize) -> Vec<f32> {
    let plane = side * side;
    let mut planar = vec![0f32; plane * 3];
    for (i, pixel) in interleaved.chunks_exact(3).take(plane).enumerate() {
        for (c, &v) in pixel.iter().enumerate() {
            planar[c * plane + i] = v;
        }
    }
    planar
}

#[cfg(test)]
mod tests {
    use super::channels_first;

    #[test]
    fn planes_keep_each_channel_in_pixel_order() {
        assert_eq!(channels_first(&[1.0, 2.0, 3.0], 1), vec![1.0, 2.0, 3.0]);
        let interleaved: Vec<f32> = (0..12).map(|v| v as f32).collect();
        assert_eq!(
            channels_first(&interleaved, 2),
            vec![0.0, 3.0, 6.0, 9.0, 1.0, 4.0, 7.0, 10.0, 2.0, 5.0, 8.0, 11.0]
        );
    }
}
