//! Integration tests: the real TensorFlow Lite runtime and models on real
//! pictures from `../shared`, and the real `facematch` binary.

mod cards;
mod cli;
mod pipeline;
mod util;
