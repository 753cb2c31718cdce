//! What shrinking a large picture costs: a kiosk camera frame brought to the preview's 640 px,
//! a phone photo brought to the 3072 px working size (`intake::reduced::shrunk`). The banded
//! SIMD triangle filter it uses against the `image` crate's area average (`thumbnail`, the
//! simpler choice), medians of 31 on each picture given, and their mean difference.
//!
//! cargo run --release --example shrink_cost -- FRAME.jpg PHOTO.jpg ...

use std::hint::black_box;
use std::time::Instant;

use facematch::intake::reduced::{shrunk, WORKING_SIDE};

/// Median of `runs` timings of `work`, in milliseconds.
fn median_ms<T>(runs: usize, mut work: impl FnMut() -> T) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            black_box(work());
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn main() {
    for path in std::env::args().skip(1) {
        let picture = image::open(&path).expect("a picture").to_rgb8();
        let (w, h) = picture.dimensions();
        // Pictures over the working size are shrunk to it; frames to the kiosk's preview.
        let longest = if w.max(h) > WORKING_SIDE { WORKING_SIDE } else { 640 };
        let ours = shrunk(&picture, longest).into_owned();
        let (tw, th) = ours.dimensions();
        let area = median_ms(31, || image::imageops::thumbnail(&picture, tw, th));
        let banded = median_ms(31, || shrunk(&picture, longest));
        let averaged = image::imageops::thumbnail(&picture, tw, th);
        let mean = averaged
            .as_raw()
            .iter()
            .zip(ours.as_raw())
            .map(|(x, y)| f64::from(x.abs_diff(*y)))
            .sum::<f64>()
            / averaged.as_raw().len() as f64;
        println!(
            "{path} {w}x{h} -> {tw}x{th}: area average {area:.2} ms, banded triangle {banded:.2} ms \
             ({:.2}x), mean difference {mean:.2} levels",
            banded / area
        );
    }
}
