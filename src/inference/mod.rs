//! The runtime implementations of the pipeline's [`Detector`] and [`Embedder`]: TensorFlow Lite
//! (`tflite`, feature `tflite`) and ONNX Runtime (`onnx`, feature `onnx`), over the same models.
//!
//! Owns the model files and their loading (sha256-checked, see [`models`]), runtime options
//! (threads, XNNPACK) and tensor plumbing. It knows nothing of the contract, the store or the
//! screen. Models are not thread-safe: an [`Engine`] belongs to one thread at a time (it is
//! `Send`, not `Sync`).

pub mod models;
#[cfg(feature = "onnx")]
mod onnx;
mod options;
#[cfg(feature = "tflite")]
mod tflite;
#[cfg(any(feature = "tflite", feature = "onnx"))]
mod vector_state;

use std::path::Path;

#[cfg(feature = "onnx")]
pub use onnx::{OnnxDetector, OnnxEmbedder};
pub use options::{Runtime, RuntimeOptions};
#[cfg(feature = "tflite")]
pub use tflite::{TfliteDetector, TfliteEmbedder};

use crate::detection::Detector;
use crate::embedding::Embedder;
use crate::model_error::ModelError;

/// The detector and embedder a verification needs, loaded together on one runtime.
pub struct Engine {
    /// YuNet at both input sizes.
    pub detector: Box<dyn Detector + Send>,
    /// SFace.
    pub embedder: Box<dyn Embedder + Send>,
    /// The runtime they run on.
    pub runtime: Runtime,
}

impl Engine {
    /// Loads and checks every model `options.runtime` needs from `dir`.
    ///
    /// # Errors
    /// A missing/altered model file, a runtime this build does not carry, or a runtime failure,
    /// naming the file.
    pub fn load(dir: &Path, options: RuntimeOptions) -> Result<Engine, ModelError> {
        match options.runtime {
            #[cfg(feature = "tflite")]
            Runtime::Tflite => Engine::loaded_side_by_side(
                Runtime::Tflite,
                || TfliteDetector::load(dir, options),
                || TfliteEmbedder::load(dir, options),
            ),
            #[cfg(feature = "onnx")]
            Runtime::Onnx => Engine::loaded_side_by_side(
                Runtime::Onnx,
                || OnnxDetector::load(dir, options),
                || OnnxEmbedder::load(dir, options),
            ),
            #[allow(unreachable_patterns)]
            other => Err(ModelError::Runtime {
                model: "-",
                detail: format!(
                    "this build has no {other} runtime (it has: {})",
                    Runtime::BUILT.iter().map(|r| r.name()).collect::<Vec<_>>().join(", ")
                ),
            }),
        }
    }

    /// The detector and the embedder loaded at the same time, the embedder on a second thread:
    /// reading, checking and preparing the models is nearly half of a one-shot `match`, and the
    /// two are independent (each runtime guards its process-wide state itself).
    #[allow(dead_code)] // unused only in a build without any runtime
    fn loaded_side_by_side<D, E>(
        runtime: Runtime,
        detector: impl FnOnce() -> Result<D, ModelError>,
        embedder: impl FnOnce() -> Result<E, ModelError> + Send,
    ) -> Result<Engine, ModelError>
    where
        D: Detector + Send + 'static,
        E: Embedder + Send + 'static,
    {
        let (detector, embedder) = side_by_side(detector, embedder)?;
        Ok(Engine { detector: Box::new(detector), embedder: Box::new(embedder), runtime })
    }
}

/// `first` on this thread and `second` on another at the same time: both results, or the first
/// failure (a thread that cannot be started or stops is a runtime error, not a panic).
#[allow(dead_code)] // unused only in a build without any runtime
pub(crate) fn side_by_side<A, B>(
    first: impl FnOnce() -> Result<A, ModelError>,
    second: impl FnOnce() -> Result<B, ModelError> + Send,
) -> Result<(A, B), ModelError>
where
    B: Send,
{
    let failed = |detail: String| ModelError::Runtime { model: "-", detail };
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .spawn_scoped(scope, second)
            .map_err(|e| failed(format!("no thread to load a model on: {e}")))?;
        let first = first();
        let second = thread
            .join()
            .unwrap_or_else(|_| Err(failed("the thread loading a model stopped".into())));
        Ok((first?, second?))
    })
}
