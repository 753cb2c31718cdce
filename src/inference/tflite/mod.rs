//! TensorFlow Lite implementations of the [`Detector`](crate::detection::Detector) and
//! [`Embedder`](crate::embedding::Embedder) on LiteRT, TensorFlow Lite's runtime (XNNPACK
//! kernels), through `litert-sys`.

#[allow(unsafe_code)] // the LiteRT C calls, each wrapped once, with its safety argument
mod litert;
mod quiet;
mod runtime;
mod sface;
mod yunet;

pub use sface::TfliteEmbedder;
pub use yunet::TfliteDetector;
