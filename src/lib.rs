//! facematch: offline face verification for bank kiosks and field tablets.
//!
//! A selfie and an ID document go in; the faces are found, aligned, embedded
//! and compared on the device, and a verdict comes out in the shape of the Face
//! Match API contract (`../shared/spec/face-match-api.txt`).
//!
//! The pipeline is plain functions over typed values:
//! [`intake`] (bytes → [`domain::Picture`]) → [`detection`] (faces) →
//! [`alignment`] (112×112 crops) → [`embedding`] (unit vectors) →
//! [`matching`] (calibrated percent, verdict). [`verify`] strings them together;
//! [`inference`] holds the TensorFlow Lite implementations of the detector and
//! embedder traits, so the core is testable without them.

// Our own code has no `unsafe` but the LiteRT C calls, each wrapped once in
// `inference::tflite::litert`, glibc's malloc settings (`allocator`) and the one VZEROUPPER after a
// runtime's call (`inference::vector_state`); the code Slint generates from ui/*.slint allows it for
// itself.
#![deny(unsafe_code)]

pub mod alignment;
pub mod allocator;
pub mod answer;
pub mod api;
pub mod atomic_file;
pub mod calibration;
pub mod camera;
pub mod cli;
pub mod contract;
pub mod detection;
pub mod domain;
pub mod embedding;
pub mod error_chain;
pub mod inference;
pub mod intake;
pub mod kiosk;
pub mod liveness;
pub mod matching;
pub mod model_error;
pub mod quality;
pub mod record;
pub mod review;
pub mod store;
pub mod sync;
pub mod tls;
#[cfg(feature = "kiosk")]
pub mod ui;
pub mod verify;
