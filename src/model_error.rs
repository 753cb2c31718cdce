//! What a face model can fail with. It belongs to the side that defines the model
//! capabilities ([`crate::detection::Detector`], [`crate::embedding::Embedder`]):
//! the pipeline names it, and `inference` (which implements those traits) raises it.

use std::path::PathBuf;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The model file cannot be read.
    #[error("model file {path} cannot be read: {reason}")]
    ModelMissing {
        /// Expected location.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// The model file's sha256 is not the pinned one.
    #[error("model file {path} is altered: sha256 {got}, expected {expected}")]
    ModelAltered {
        /// Location.
        path: PathBuf,
        /// Pinned hash.
        expected: &'static str,
        /// Actual hash.
        got: String,
    },
    /// The model loaded but does not have the tensors the code expects.
    #[error("model {model} has an unexpected layout: {detail}")]
    UnexpectedLayout {
        /// Model file name.
        model: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The inference runtime (TensorFlow Lite or ONNX Runtime) could not be loaded or reported an
    /// error.
    #[error("the inference runtime failed ({model}): {detail}")]
    Runtime {
        /// Model file name.
        model: &'static str,
        /// The runtime's message.
        detail: String,
    },
}
