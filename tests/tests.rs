//! Integration tests: the real TensorFlow Lite and ONNX Runtime runtimes and models on real
//! pictures from `../shared`, and the real `facematch` binary. Tests that need generated pictures
//! (synthetic cards, captures, liveness sessions) live with the generators, in `lab/tests/`.

mod accessibility;
mod api;
mod architecture;
mod audit;
mod back_side;
#[cfg(feature = "kiosk")]
mod bare_x_session;
mod cli;
mod data;
mod durability;
mod hardening;
mod holder;
mod hub;
#[cfg(feature = "kiosk")]
mod kiosk;
#[cfg(feature = "kiosk")]
mod languages;
mod odd_remote;
mod overload;
mod pipeline;
mod postgres;
mod review;
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
