//! TensorFlow Lite implementations of the [`Detector`](crate::detection::Detector) and
//! [`Embedder`](crate::embedding::Embedder) on the `tflitec` runtime (XNNPACK delegate).

mod banner;
mod runtime;
mod sface;
mod yunet;

pub use sface::TfliteEmbedder;
pub use yunet::TfliteDetector;
