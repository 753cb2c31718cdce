//! Accuracy figures from scored pairs: TAR/FAR at a threshold, TAR at a fixed
//! FAR, the equal error rate and the ROC curve. Pure arithmetic over scores.
//!
//! Conventions: a pair is accepted when its score is at or above the threshold.
//! A pair where either picture had no usable face is scored `None`: it is never
//! accepted (a false reject when genuine, a correct reject when an impostor).

/// One labelled comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// Calibrated percent, `None` when a picture had no usable face.
    pub percent: Option<f64>,
    /// Same person.
    pub genuine: bool,
}

/// Acceptance rates at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Rates {
    /// Threshold in percent.
    pub threshold: f64,
    /// True accept rate: genuine pairs accepted / genuine pairs.
    pub tar: f64,
    /// False accept rate: impostor pairs accepted / impostor pairs.
    pub far: f64,
    /// False reject rate: 1 − TAR.
    pub frr: f64,
    /// Correct decisions / all pairs.
    pub accuracy: f64,
}

/// Rates at `threshold` (percent).
pub fn rates_at(pairs: &[Scored], threshold: f64) -> Rates {
    let accepted = |s: &Scored| s.percent.is_some_and(|p| p >= threshold);
    let (mut ta, mut g, mut fa, mut i) = (0usize, 0usize, 0usize, 0usize);
    for s in pairs {
        if s.genuine {
            g += 1;
            ta += usize::from(accepted(s));
        } else {
            i += 1;
            fa += usize::from(accepted(s));
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let tar = ratio(ta, g);
    Rates {
        threshold,
        tar,
        far: ratio(fa, i),
        frr: 1.0 - tar,
        accuracy: ratio(ta + (i - fa), g + i),
    }
}

fn split(pairs: &[Scored]) -> (Vec<f64>, Vec<f64>) {
    let score = |s: &Scored| s.percent.unwrap_or(f64::NEG_INFINITY);
    let genuine = pairs.iter().filter(|s| s.genuine).map(score).collect();
    let impostor = pairs.iter().filter(|s| !s.genuine).map(score).collect();
    (genuine, impostor)
}

/// The highest TAR reachable while FAR stays at or below `max_far`: the threshold is
/// put just above the impostor score that would push FAR past `max_far`.
pub fn tar_at_far(pairs: &[Scored], max_far: f64) -> f64 {
    let (genuine, mut impostor) = split(pairs);
    if genuine.is_empty() {
        return 0.0;
    }
    impostor.sort_by(|a, b| b.total_cmp(a));
    let allowed = (max_far * impostor.len() as f64).floor() as usize;
    let accepted = match impostor.get(allowed) {
        // Everything strictly above the first impostor that must be rejected.
        Some(&bar) => genuine.iter().filter(|&&g| g > bar && g.is_finite()).count(),
        None => genuine.iter().filter(|g| g.is_finite()).count(),
    };
    accepted as f64 / genuine.len() as f64
}

/// The equal error rate: where the false accept and false reject rates cross
/// (the mean of the two at the threshold where they are closest).
pub fn eer(pairs: &[Scored]) -> f64 {
    let mut thresholds: Vec<f64> = pairs.iter().filter_map(|s| s.percent).collect();
    thresholds.sort_by(f64::total_cmp);
    thresholds.dedup();
    thresholds.push(f64::INFINITY);
    let mut best = (f64::INFINITY, 1.0);
    for t in thresholds {
        let r = rates_at(pairs, t);
        let gap = (r.far - r.frr).abs();
        if gap < best.0 {
            best = (gap, (r.far + r.frr) / 2.0);
        }
    }
    best.1
}

/// ROC points `(far, tar)` for every distinct score, from the strictest threshold down.
pub fn roc(pairs: &[Scored]) -> Vec<(f64, f64)> {
    let mut thresholds: Vec<f64> = pairs.iter().filter_map(|s| s.percent).collect();
    thresholds.sort_by(|a, b| b.total_cmp(a));
    thresholds.dedup();
    thresholds.iter().map(|&t| rates_at(pairs, t)).map(|r| (r.far, r.tar)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(genuine: &[f64], impostor: &[f64]) -> Vec<Scored> {
        genuine
            .iter()
            .map(|&p| Scored { percent: Some(p), genuine: true })
            .chain(impostor.iter().map(|&p| Scored { percent: Some(p), genuine: false }))
            .collect()
    }

    #[test]
    fn rates_at_a_threshold() {
        let p = pairs(&[90.0, 80.0, 70.0, 60.0], &[75.0, 50.0, 40.0, 30.0]);
        let r = rates_at(&p, 70.0);
        assert_eq!((r.tar, r.far, r.frr), (0.75, 0.25, 0.25));
        assert_eq!(r.accuracy, 6.0 / 8.0);
        // No usable face: never accepted.
        let mut q = p.clone();
        q.push(Scored { percent: None, genuine: true });
        assert_eq!(rates_at(&q, 1.0).tar, 0.8);
    }

    #[test]
    fn tar_at_far_puts_the_bar_above_the_right_impostor() {
        let impostor: Vec<f64> = (0..100).map(f64::from).collect(); // 0..99
        let p = pairs(&[99.5, 98.5, 97.0, 50.0], &impostor);
        // FAR <= 1%: one impostor (99) may pass; the bar sits above 98.
        assert_eq!(tar_at_far(&p, 0.01), 0.5);
        // FAR <= 0.1% of 100 impostors: none may pass; the bar sits above 99.
        assert_eq!(tar_at_far(&p, 0.001), 0.25);
        assert_eq!(tar_at_far(&p, 1.0), 1.0);
    }

    #[test]
    fn eer_of_separable_and_overlapping_scores() {
        assert_eq!(eer(&pairs(&[90.0, 80.0], &[10.0, 20.0])), 0.0);
        // One of four on the wrong side each way: FAR = FRR = 0.25.
        let p = pairs(&[90.0, 80.0, 70.0, 35.0], &[60.0, 30.0, 20.0, 10.0]);
        assert_eq!(eer(&p), 0.25);
    }

    #[test]
    fn roc_runs_from_strict_to_lenient() {
        let p = pairs(&[90.0, 70.0], &[80.0, 10.0]);
        assert_eq!(roc(&p), vec![(0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)]);
    }
}
