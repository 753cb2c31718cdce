//! One loaded TensorFlow Lite model, compiled on LiteRT for the CPU.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use super::litert::{Compiled, CpuSettings, Model};
use crate::inference::models::{self, ModelFile};
use crate::inference::RuntimeOptions;
use crate::model_error::ModelError;

/// A model compiled with its input and output buffers.
///
/// Each pinned model is parsed once per process and kept (a few MB, read-only), so every
/// compiled copy (engines loaded later, other threads) reads the same bytes.
pub(super) struct LoadedModel {
    compiled: Compiled,
    pub(super) file: ModelFile,
}

/// The process's models, by pinned sha256 (a file that passed its check has exactly these bytes).
fn process_model(bytes: Vec<u8>, file: ModelFile) -> Result<&'static Model, ModelError> {
    static MODELS: OnceLock<Mutex<HashMap<&'static str, &'static Model>>> = OnceLock::new();
    let mut loaded = MODELS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(model) = loaded.get(file.sha256) {
        return Ok(model);
    }
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    let model = Model::from_bytes(bytes)
        .map_err(|detail| ModelError::Runtime { model: file.name, detail })?;
    let model: &'static Model = Box::leak(Box::new(model));
    loaded.insert(file.sha256, model);
    Ok(model)
}

/// A model read, checked and parsed, not compiled yet: what a model used only now and then
/// costs until its first use (its compiled form holds XNNPACK's working memory).
#[derive(Clone, Copy)]
pub(super) struct ReadModel {
    model: &'static Model,
    file: ModelFile,
}

impl ReadModel {
    /// Reads `file` from `dir` (sha256 checked) and parses it.
    pub(super) fn read(dir: &Path, file: ModelFile) -> Result<ReadModel, ModelError> {
        Ok(ReadModel { model: process_model(models::read_verified(dir, file)?, file)?, file })
    }

    /// Compiles the model with its buffers. LiteRT finishes preparing it (XNNPACK's working
    /// memory, several times a later run's cost: docs/performance.md) on its first run.
    pub(super) fn compile(self, options: RuntimeOptions) -> Result<LoadedModel, ModelError> {
        let ReadModel { model, file } = self;
        let settings = CpuSettings { threads: options.threads, xnnpack: options.xnnpack };
        let compiled = Compiled::new(model, settings)
            .map_err(|detail| ModelError::Runtime { model: file.name, detail })?;
        if compiled.inputs.len() != 1 || compiled.outputs.iter().any(|t| !t.is_f32) {
            return Err(ModelError::UnexpectedLayout {
                model: file.name,
                detail: format!(
                    "{} inputs; outputs must be f32 ({} outputs)",
                    compiled.inputs.len(),
                    compiled.outputs.len()
                ),
            });
        }
        Ok(LoadedModel { compiled, file })
    }
}

impl LoadedModel {
    /// Reads `file` from `dir` (sha256 checked), compiles it with its buffers and runs it once
    /// on zeros: its preparation is done here, on the loading thread (the detector and the
    /// embedder load side by side), not in the first request.
    pub(super) fn load(
        dir: &Path,
        file: ModelFile,
        options: RuntimeOptions,
    ) -> Result<LoadedModel, ModelError> {
        let mut loaded = ReadModel::read(dir, file)?.compile(options)?;
        loaded.run_filled(|input| input.fill(0.0))?;
        Ok(loaded)
    }

    /// The input tensor's shape.
    pub(super) fn input_shape(&self) -> Vec<usize> {
        self.compiled.inputs[0].shape.clone()
    }

    /// Lets `fill` write the input in place (its element count is the input shape's), then runs
    /// the model; returns what `fill` returned.
    pub(super) fn run_filled<T>(
        &mut self,
        fill: impl FnOnce(&mut [f32]) -> T,
    ) -> Result<T, ModelError> {
        let filled = self.compiled.inputs[0].fill(fill).map_err(|e| self.runtime(e))?;
        self.compiled.run().map_err(|e| self.runtime(e))?;
        Ok(filled)
    }

    /// Number of outputs.
    pub(super) fn output_count(&self) -> usize {
        self.compiled.outputs.len()
    }

    /// Output `index` as its shape and a copy of its f32 data.
    pub(super) fn output(&self, index: usize) -> Result<(Vec<usize>, Vec<f32>), ModelError> {
        let tensor =
            self.compiled.outputs.get(index).ok_or_else(|| ModelError::UnexpectedLayout {
                model: self.file.name,
                detail: format!("no output {index}"),
            })?;
        Ok((tensor.shape.clone(), tensor.read().map_err(|e| self.runtime(e))?))
    }

    fn runtime(&self, detail: String) -> ModelError {
        ModelError::Runtime { model: self.file.name, detail }
    }
}
