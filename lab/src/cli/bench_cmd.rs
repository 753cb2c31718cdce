//! `facematch-lab bench`: per-stage and end-to-end timings on one picture pair,
//! medians over repeated runs, plus model load time and peak memory.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use super::args::BenchArgs;
use super::{load_engine, print_json};
use facematch::alignment::align;
use facematch::answer::{answer, RequestBytes};
use facematch::detection::{find_faces, input_size_for, Detector, MIN_SCORE};
use facematch::domain::Role;
use facematch::embedding::Embedder;
use facematch::matching::Threshold;
use facematch::verify::{analyse, MatchParams};

#[derive(Debug, Serialize)]
struct BenchReport {
    /// The inference runtime (`--runtime`).
    runtime: &'static str,
    runs: usize,
    threads: usize,
    xnnpack: bool,
    model_load_ms: f64,
    /// Median milliseconds per stage.
    decode_src_ms: f64,
    decode_front_ms: f64,
    detect_src_ms: f64,
    detect_front_ms: f64,
    align_ms: f64,
    embed_ms: f64,
    /// One decoded document side analysed: its faces found (closer looks and turns included),
    /// the holder's aligned and embedded.
    document_side_ms: f64,
    /// Decode + detect + align + embed + match for the pair, models already loaded.
    end_to_end_ms: f64,
    /// Peak resident memory of this process (VmHWM), MB.
    peak_rss_mb: f64,
}

/// Runs the subcommand.
///
/// # Errors
/// Unreadable pictures, no face in them, or a model failure.
pub fn run(args: BenchArgs) -> Result<()> {
    let doc_type = args.doc_type;
    let src = facematch::intake::read_file(&args.src)
        .with_context(|| format!("reading {}", args.src.display()))?;
    let front = facematch::intake::read_file(&args.front)
        .with_context(|| format!("reading {}", args.front.display()))?;
    let runs = args.runs.max(1);

    let started = Instant::now();
    let mut engine = load_engine(&args.engine).context("loading the face models")?;
    let model_load = started.elapsed();

    let document = Role::Document(doc_type);
    let src_picture = facematch::intake::decode(&src).context("decoding --src")?;
    let front_picture = facematch::intake::decode(&front).context("decoding --front")?;
    let face = find_faces(&mut engine.detector, &src_picture.pixels, Role::Selfie)?
        .first()
        .copied()
        .context("no face in --src")?;
    let aligned = align(&src_picture.pixels, &face.landmarks);

    let time = |f: &mut dyn FnMut() -> Result<()>| -> Result<f64> {
        f()?; // warm-up
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            f()?;
            samples.push(t.elapsed());
        }
        Ok(median_ms(&mut samples))
    };
    let decode_src_ms = time(&mut || facematch::intake::decode(&src).map(drop).context("decode"))?;
    let decode_front_ms =
        time(&mut || facematch::intake::decode(&front).map(drop).context("decode"))?;
    let detect_src_ms = time(&mut || {
        engine
            .detector
            .detect(&src_picture.pixels, input_size_for(Role::Selfie), MIN_SCORE)
            .map(drop)
            .context("detect")
    })?;
    let detect_front_ms = time(&mut || {
        engine
            .detector
            .detect(&front_picture.pixels, input_size_for(document), MIN_SCORE)
            .map(drop)
            .context("detect")
    })?;
    let align_ms = time(&mut || {
        align(&src_picture.pixels, &face.landmarks);
        Ok(())
    })?;
    let embed_ms = time(&mut || engine.embedder.embed(&aligned).map(drop).context("embed"))?;
    let document_side_ms = time(&mut || {
        analyse(&mut engine.detector, &mut engine.embedder, &front_picture, document)
            .map(drop)
            .context("document side")
    })?;
    let params = MatchParams { doc_type, threshold: Threshold::DEFAULT };
    let end_to_end_ms = time(&mut || {
        let bytes = RequestBytes { src: &src, front: &front, back: None };
        answer(&mut engine.detector, &mut engine.embedder, bytes, params)
            .map(drop)
            .map_err(|e| anyhow::anyhow!("match failed: {e}"))
    })?;
    let options = facematch::inference::RuntimeOptions::default();
    print_json(&BenchReport {
        runtime: engine.runtime.name(),
        runs,
        threads: args.engine.threads.unwrap_or(options.threads),
        // XNNPACK is TensorFlow Lite's delegate: ONNX Runtime has none.
        xnnpack: engine.runtime == facematch::inference::Runtime::Tflite && !args.engine.no_xnnpack,
        model_load_ms: model_load.as_secs_f64() * 1e3,
        decode_src_ms,
        decode_front_ms,
        detect_src_ms,
        detect_front_ms,
        align_ms,
        embed_ms,
        document_side_ms,
        end_to_end_ms,
        peak_rss_mb: peak_rss_mb(),
    });
    Ok(())
}

fn median_ms(samples: &mut [Duration]) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1e3
}

/// VmHWM from /proc/self/status (Linux), in MB; 0 where unavailable.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
