//! Integration tests: the real TensorFlow Lite and ONNX Runtime runtimes and models on real
//! pictures from `../shared`, and the real `facematch` binary.

mod accessibility;
mod api;
mod architecture;
mod audit;
mod cards;
mod cli;
mod documents;
mod durability;
mod hardening;
mod holder;
#[cfg(feature = "kiosk")]
mod kiosk;
#[cfg(feature = "kiosk")]
mod languages;
mod liveness;
mod odd_remote;
mod overload;
mod pipeline;
mod recording;
mod robustness;
mod router;
#[cfg(all(feature = "onnx", feature = "tflite"))]
mod runtimes;
mod server;
mod slow_clients;
mod store_cli;
mod sync;
mod tls;
mod util;
mod voice;
