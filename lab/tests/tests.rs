//! The lab's integration tests: the generators (synthetic cards, camera-like captures, liveness
//! sessions) through the device's real models on real pictures from `../shared`, the device's
//! kiosk and liveness check driven with generated inputs, and the real `facematch-lab` binary.

mod cards;
mod cli;
mod conditions;
#[path = "../../tests/data.rs"]
mod data;
mod documents;
mod flash;
#[cfg(feature = "kiosk")]
mod kiosk;
mod liveness;
mod recording;
mod util;
