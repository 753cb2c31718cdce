//! TensorFlow Lite implementations of the pipeline's [`Detector`](crate::detection::Detector)
//! and [`Embedder`](crate::embedding::Embedder), on the `tflitec` runtime.
//!
//! Owns the model files and their loading (sha256-checked, see [`models`]), interpreter
//! options (threads, XNNPACK) and tensor plumbing. It knows nothing of the
//! contract, the store or the screen. Interpreters are not thread-safe: an
//! [`Engine`] belongs to one thread at a time (it is `Send`, not `Sync`).

mod banner;
pub mod models;
mod runtime;
mod sface;
mod yunet;

use std::path::Path;

pub use runtime::RuntimeOptions;
pub use sface::TfliteEmbedder;
pub use yunet::TfliteDetector;

use crate::model_error::ModelError;

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
    pub fn load(dir: &Path, options: RuntimeOptions) -> Result<Engine, ModelError> {
        Ok(Engine {
            detector: TfliteDetector::load(dir, options)?,
            embedder: TfliteEmbedder::load(dir, options)?,
        })
    }
}
