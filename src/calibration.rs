//! The calibrated mapping from SFace cosine similarity to the contract's 1-100
//! match percentage.
//!
//! The mapping is piecewise linear through anchor points measured on
//! `../shared/faces` (all genuine pairs, and every cross-identity pair for the
//! false-match rate) with `facematch-lab eval --all-impostors`. Each anchor ties a
//! percentage to a false-accept rate, so a bank picks a threshold by the FAR it
//! tolerates (docs/accuracy.md "Choosing a threshold"):
//! 100 − percent ≈ the share of impostor comparisons at or above that score,
//! stretched logarithmically below 1 %.

/// `(cosine, percent)` anchors, increasing in both; the false-accept rate measured at each
/// percent is in docs/accuracy.md.
pub const ANCHORS: [(f32, f64); 11] = [
    (-1.0, 0.0),
    (0.0, 25.0),
    (0.147, 50.0),
    (0.209, 60.0),
    (0.278, 70.0),
    (0.303, 75.0),
    (0.353, 80.0),
    (0.400, 85.0),
    (0.450, 90.0),
    (0.550, 95.0),
    (1.0, 100.0),
];

/// The default match threshold in percent: the lowest whole percent at which the false-accept
/// rate over every impostor pair measured (`../shared/faces` and each camera-like capture
/// condition of the lab, about 199 000 pairs) stays under 1e-4 (docs/accuracy.md). At the
/// contract's example of 85 it is about 2e-4.
pub const DEFAULT_THRESHOLD: f64 = 89.0;

/// The match percentage for a cosine similarity, in 0..=100.
pub fn percent(cosine: f32) -> f64 {
    let c = cosine.clamp(-1.0, 1.0);
    for pair in ANCHORS.windows(2) {
        let ((c0, p0), (c1, p1)) = (pair[0], pair[1]);
        if c <= c1 {
            let t = f64::from((c - c0) / (c1 - c0));
            return p0 + t * (p1 - p0);
        }
    }
    100.0
}

/// The cosine at which the mapping reaches `percent` (the inverse of [`percent`]).
pub fn cosine_for(percent: f64) -> f32 {
    let p = percent.clamp(0.0, 100.0);
    for pair in ANCHORS.windows(2) {
        let ((c0, p0), (c1, p1)) = (pair[0], pair[1]);
        if p <= p1 {
            let t = ((p - p0) / (p1 - p0)) as f32;
            return c0 + t * (c1 - c0);
        }
    }
    1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_hit_and_mapping_is_monotonic() {
        for (c, p) in ANCHORS {
            assert!((percent(c) - p).abs() < 1e-9, "{c} -> {}", percent(c));
            assert!((cosine_for(p) - c).abs() < 1e-6);
        }
        let mut last = -1.0;
        for i in -100..=100 {
            let p = percent(i as f32 / 100.0);
            assert!(p >= last && (0.0..=100.0).contains(&p));
            last = p;
        }
        assert_eq!(percent(-5.0), 0.0);
        assert_eq!(percent(5.0), 100.0);
    }

    #[test]
    fn interpolates_between_anchors() {
        let (c0, p0) = ANCHORS[3];
        let (c1, p1) = ANCHORS[4];
        let mid = percent((c0 + c1) / 2.0);
        assert!((mid - (p0 + p1) / 2.0).abs() < 1e-4);
        assert!((cosine_for(percent(0.47)) - 0.47).abs() < 1e-5);
    }

    #[test]
    fn anchors_strictly_increase() {
        for w in ANCHORS.windows(2) {
            assert!(w[0].0 < w[1].0 && w[0].1 < w[1].1);
        }
    }
}
