//! One loaded TensorFlow Lite model with its interpreter.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use tflitec::interpreter::{Interpreter, Options};
use tflitec::model::Model;
use tflitec::tensor::{DataType, Shape};

use crate::inference::models::{self, ModelFile};
use crate::inference::RuntimeOptions;
use crate::model_error::ModelError;

/// An interpreter over a model that lives as long as the process.
///
/// tflitec's interpreter borrows its model, which borrows the model bytes. Each pinned model
/// is loaded once per process and kept (a few MB, read-only and `Sync`), so an interpreter can
/// own its borrow without any lifetime trickery; engines loaded later share it.
pub(super) struct LoadedModel {
    interpreter: Interpreter<'static>,
    pub(super) file: ModelFile,
}

/// The process's models, by pinned sha256 (a file that passed its check has exactly these bytes).
fn process_model(bytes: Vec<u8>, file: ModelFile) -> Result<&'static Model<'static>, ModelError> {
    static MODELS: OnceLock<Mutex<HashMap<&'static str, &'static Model<'static>>>> =
        OnceLock::new();
    let mut loaded = MODELS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(model) = loaded.get(file.sha256) {
        return Ok(model);
    }
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    let model = Model::from_bytes(bytes)
        .map_err(|e| ModelError::Runtime { model: file.name, detail: e.to_string() })?;
    let model: &'static Model<'static> = Box::leak(Box::new(model));
    loaded.insert(file.sha256, model);
    Ok(model)
}

impl LoadedModel {
    /// Reads `file` from `dir` (sha256 checked) and builds an interpreter with tensors allocated.
    pub(super) fn load(
        dir: &Path,
        file: ModelFile,
        options: RuntimeOptions,
    ) -> Result<LoadedModel, ModelError> {
        let runtime = |detail: String| ModelError::Runtime { model: file.name, detail };
        let model = process_model(models::read_verified(dir, file)?, file)?;
        let opts =
            Options { thread_count: options.threads as i32, is_xnnpack_enabled: options.xnnpack };
        let interpreter = super::banner::quietly(|| Interpreter::new(model, Some(opts)))
            .map_err(|e| runtime(e.to_string()))?;
        interpreter.allocate_tensors().map_err(|e| runtime(e.to_string()))?;
        Ok(LoadedModel { interpreter, file })
    }

    /// The input tensor's shape.
    pub(super) fn input_shape(&self) -> Result<Vec<usize>, ModelError> {
        let t = self.interpreter.input(0).map_err(|e| self.runtime(e))?;
        Ok(t.shape().dimensions().clone())
    }

    /// Copies `input` into input 0 and runs the model.
    pub(super) fn run(&self, input: &[f32]) -> Result<(), ModelError> {
        self.interpreter.copy(input, 0).map_err(|e| self.runtime(e))?;
        self.interpreter.invoke().map_err(|e| self.runtime(e))
    }

    /// Number of outputs.
    pub(super) fn output_count(&self) -> usize {
        self.interpreter.output_tensor_count()
    }

    /// Output `index` as its shape and a copy of its f32 data.
    pub(super) fn output(&self, index: usize) -> Result<(Vec<usize>, Vec<f32>), ModelError> {
        let t = self.interpreter.output(index).map_err(|e| self.runtime(e))?;
        if t.data_type() != DataType::Float32 {
            return Err(ModelError::UnexpectedLayout {
                model: self.file.name,
                detail: format!("output {index} is {:?}, expected Float32", t.data_type()),
            });
        }
        let shape: Shape = t.shape().clone();
        Ok((shape.dimensions().clone(), t.data::<f32>().to_vec()))
    }

    fn runtime(&self, e: tflitec::Error) -> ModelError {
        ModelError::Runtime { model: self.file.name, detail: e.to_string() }
    }
}
