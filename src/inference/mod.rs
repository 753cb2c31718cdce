//! TensorFlow Lite implementations of the pipeline's [`Detector`](crate::detection::Detector)
//! and [`Embedder`](crate::embedding::Embedder), on the `tflitec` runtime.
//!
//! Owns model loading (sha256-checked, see [`crate::models`]), interpreter
//! options (threads, XNNPACK) and tensor plumbing. It knows nothing of the
//! contract, the store or the screen. Interpreters are not thread-safe: an
//! [`Engine`] belongs to one thread at a time (it is `Send`, not `Sync`).

mod runtime;
mod sface;
mod yunet;

use std::path::{Path, PathBuf};

pub use runtime::RuntimeOptions;
pub use sface::TfliteEmbedder;
pub use yunet::TfliteDetector;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InferenceError {
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
    /// The TensorFlow Lite runtime reported an error.
    #[error("TensorFlow Lite failed ({model}): {detail}")]
    Runtime {
        /// Model file name.
        model: &'static str,
        /// The runtime's message.
        detail: String,
    },
}

/// The detector and embedder a verification needs, loaded together.
pub struct Engine {
    /// YuNet at both input sizes.
    pub detector: TfliteDetector,
    /// SFace.
    pub embedder: TfliteEmbedder,
}

impl Engine {
    /// Loads and checks every model in `dir`.
    ///
    /// # Errors
    /// A missing/altered model file or a runtime failure, naming the file.
    pub fn load(dir: &Path, options: RuntimeOptions) -> Result<Engine, InferenceError> {
        Ok(Engine {
            detector: TfliteDetector::load(dir, options)?,
            embedder: TfliteEmbedder::load(dir, options)?,
        })
    }
}
