//! The evaluation report's pictures: a ROC curve and a score histogram, as
//! self-contained SVG files (no plotting dependency, readable in any browser).

use std::fmt::Write as _;
use std::path::Path;

use crate::eval::{roc, Scored};

const W: f64 = 640.0;
const H: f64 = 420.0;
const M: f64 = 50.0;

/// Writes `roc.svg` and `scores.svg` into `dir` (created if needed).
///
/// # Errors
/// When the folder or files cannot be written.
pub fn write(dir: &Path, pairs: &[Scored], threshold: f64) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("roc.svg"), roc_svg(pairs))?;
    std::fs::write(dir.join("scores.svg"), histogram_svg(pairs, threshold))
}

fn frame(title: &str, x_label: &str, y_label: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{cx}" y="20" text-anchor="middle" font-size="15">{title}</text>
<line x1="{M}" y1="{b}" x2="{r}" y2="{b}" stroke="black"/><line x1="{M}" y1="{M}" x2="{M}" y2="{b}" stroke="black"/>
<text x="{cx}" y="{xl}" text-anchor="middle">{x_label}</text>
<text x="14" y="{cy}" text-anchor="middle" transform="rotate(-90 14 {cy})">{y_label}</text>
"##,
        cx = W / 2.0,
        cy = H / 2.0,
        b = H - M,
        r = W - M,
        xl = H - 12.0,
    );
    s
}

/// ROC with FAR on a log axis from 1e-4 to 1, TAR linear.
fn roc_svg(pairs: &[Scored]) -> String {
    let mut s = frame("ROC (log FAR)", "false accept rate", "true accept rate");
    let x = |far: f64| M + (far.max(1e-4).log10() + 4.0) / 4.0 * (W - 2.0 * M);
    let y = |tar: f64| H - M - tar * (H - 2.0 * M);
    for (i, label) in ["1e-4", "1e-3", "1e-2", "1e-1", "1"].iter().enumerate() {
        let px = x(10f64.powi(i as i32 - 4));
        let _ = writeln!(
            s,
            r##"<line x1="{px}" y1="{M}" x2="{px}" y2="{}" stroke="#ddd"/><text x="{px}" y="{}" text-anchor="middle">{label}</text>"##,
            H - M,
            H - M + 15.0
        );
    }
    for t in [0.0, 0.5, 0.9, 1.0] {
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end">{t}</text>"##,
            M - 4.0,
            y(t) + 4.0
        );
    }
    let points: Vec<String> =
        roc(pairs).iter().map(|&(far, tar)| format!("{:.1},{:.1}", x(far), y(tar))).collect();
    let _ = writeln!(
        s,
        r##"<polyline fill="none" stroke="#1565c0" stroke-width="2" points="{}"/>"##,
        points.join(" ")
    );
    s.push_str("</svg>\n");
    s
}

/// Histograms of genuine and impostor match percentages, with the threshold marked.
fn histogram_svg(pairs: &[Scored], threshold: f64) -> String {
    let mut s = frame(
        "Match percent: genuine (green) vs impostor (red)",
        "match percent",
        "share of pairs",
    );
    const BINS: usize = 50;
    let hist = |genuine: bool| {
        let mut h = [0f64; BINS];
        let scores: Vec<f64> =
            pairs.iter().filter(|p| p.genuine == genuine).filter_map(|p| p.percent).collect();
        for p in &scores {
            h[((p / 100.0 * BINS as f64) as usize).min(BINS - 1)] += 1.0;
        }
        let n = scores.len().max(1) as f64;
        h.map(|c| c / n)
    };
    let (g, i) = (hist(true), hist(false));
    let peak = g.iter().chain(i.iter()).cloned().fold(0.01, f64::max);
    let bw = (W - 2.0 * M) / BINS as f64;
    for (series, colour) in [(i, "#c62828"), (g, "#2e7d32")] {
        for (k, v) in series.iter().enumerate() {
            let h = v / peak * (H - 2.0 * M);
            let _ = writeln!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}" fill-opacity="0.55"/>"##,
                M + k as f64 * bw,
                H - M - h,
                bw,
                h
            );
        }
    }
    for t in [0, 25, 50, 75, 100] {
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" text-anchor="middle">{t}</text>"##,
            M + f64::from(t) / 100.0 * (W - 2.0 * M),
            H - M + 15.0
        );
    }
    let tx = M + threshold / 100.0 * (W - 2.0 * M);
    let _ = writeln!(
        s,
        r##"<line x1="{tx}" y1="{M}" x2="{tx}" y2="{}" stroke="black" stroke-dasharray="4"/><text x="{tx}" y="{}" text-anchor="middle">threshold {threshold}</text>"##,
        H - M,
        M - 5.0
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_both_files_with_data() {
        let dir = tempfile::tempdir().unwrap();
        let pairs: Vec<Scored> = (0..20)
            .map(|i| Scored { percent: Some(f64::from(i) * 5.0), genuine: i >= 10 })
            .collect();
        write(dir.path(), &pairs, 80.0).unwrap();
        let roc = std::fs::read_to_string(dir.path().join("roc.svg")).unwrap();
        assert!(roc.starts_with("<svg") && roc.contains("<polyline"));
        let hist = std::fs::read_to_string(dir.path().join("scores.svg")).unwrap();
        assert!(hist.contains("threshold 80") && hist.matches("<rect").count() > 100);
    }
}
