//! One loaded TensorFlow Lite model with its interpreter, and the runtime options.

use std::path::Path;

use tflitec::interpreter::{Interpreter, Options};
use tflitec::model::Model;
use tflitec::tensor::{DataType, Shape};

use super::InferenceError;
use crate::models::{self, ModelFile};

/// How interpreters run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuntimeOptions {
    /// CPU threads per interpreter.
    pub threads: usize,
    /// Use the XNNPACK delegate (faster on x86 and ARM; see README "Speed").
    pub xnnpack: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map(|n| n.get().min(4)).unwrap_or(1);
        RuntimeOptions { threads, xnnpack: true }
    }
}

/// A model and its interpreter, kept together because tflitec's interpreter borrows the model,
/// which borrows the model bytes.
pub(super) struct LoadedModel {
    // Field order is drop order: the interpreter goes before the model, the model before its bytes.
    interpreter: Interpreter<'static>,
    _model: Box<Model<'static>>,
    _bytes: Box<[u8]>,
    pub(super) file: ModelFile,
}

// SAFETY: tflitec marks Interpreter Send (one thread at a time) and Model Send + Sync; the
// bytes are plain memory. LoadedModel hands out no shared references across threads.
unsafe impl Send for LoadedModel {}

impl LoadedModel {
    /// Reads `file` from `dir` (sha256 checked) and builds an interpreter with tensors allocated.
    pub(super) fn load(
        dir: &Path,
        file: ModelFile,
        options: RuntimeOptions,
    ) -> Result<LoadedModel, InferenceError> {
        let runtime = |detail: String| InferenceError::Runtime { model: file.name, detail };
        let bytes = models::read_verified(dir, file)?.into_boxed_slice();
        // SAFETY: `bytes` and `model` are boxed, so their addresses do not change when
        // LoadedModel moves, and the field order above drops every borrower first.
        let bytes_ref: &'static [u8] = unsafe { &*(bytes.as_ref() as *const [u8]) };
        let model = Box::new(Model::from_bytes(bytes_ref).map_err(|e| runtime(e.to_string()))?);
        let model_ref: &'static Model<'static> =
            unsafe { &*(model.as_ref() as *const Model<'static>) };
        let opts =
            Options { thread_count: options.threads as i32, is_xnnpack_enabled: options.xnnpack };
        let interpreter =
            Interpreter::new(model_ref, Some(opts)).map_err(|e| runtime(e.to_string()))?;
        interpreter.allocate_tensors().map_err(|e| runtime(e.to_string()))?;
        Ok(LoadedModel { interpreter, _model: model, _bytes: bytes, file })
    }

    /// The input tensor's shape.
    pub(super) fn input_shape(&self) -> Result<Vec<usize>, InferenceError> {
        let t = self.interpreter.input(0).map_err(|e| self.runtime(e))?;
        Ok(t.shape().dimensions().clone())
    }

    /// Copies `input` into input 0 and runs the model.
    pub(super) fn run(&self, input: &[f32]) -> Result<(), InferenceError> {
        self.interpreter.copy(input, 0).map_err(|e| self.runtime(e))?;
        self.interpreter.invoke().map_err(|e| self.runtime(e))
    }

    /// Number of outputs.
    pub(super) fn output_count(&self) -> usize {
        self.interpreter.output_tensor_count()
    }

    /// Output `index` as its shape and a copy of its f32 data.
    pub(super) fn output(&self, index: usize) -> Result<(Vec<usize>, Vec<f32>), InferenceError> {
        let t = self.interpreter.output(index).map_err(|e| self.runtime(e))?;
        if t.data_type() != DataType::Float32 {
            return Err(InferenceError::UnexpectedLayout {
                model: self.file.name,
                detail: format!("output {index} is {:?}, expected Float32", t.data_type()),
            });
        }
        let shape: Shape = t.shape().clone();
        Ok((shape.dimensions().clone(), t.data::<f32>().to_vec()))
    }

    fn runtime(&self, e: tflitec::Error) -> InferenceError {
        InferenceError::Runtime { model: self.file.name, detail: e.to_string() }
    }
}
