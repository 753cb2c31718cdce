//! Matching: two embeddings → a calibrated score, and scores → the verdict.

use crate::calibration;
use crate::domain::Embedding;
use crate::embedding::cosine;

/// How alike two faces are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// Raw cosine similarity, -1..=1.
    pub cosine: f32,
    /// Calibrated match percentage, 0..=100.
    pub percent: f64,
}

/// Scores two embeddings.
pub fn compare(a: &Embedding, b: &Embedding) -> Score {
    let cosine = cosine(a, b);
    Score { cosine, percent: calibration::percent(cosine) }
}

/// The contract's rule: matched when the front or the back reaches the threshold.
pub fn matched(front: Option<Score>, back: Option<Score>, threshold: f64) -> bool {
    [front, back].into_iter().flatten().any(|s| s.percent >= threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(percent: f64) -> Option<Score> {
        Some(Score { cosine: 0.0, percent })
    }

    #[test]
    fn either_side_reaching_the_threshold_matches() {
        let check = |front, back, threshold, expected| {
            assert_eq!(matched(front, back, threshold), expected)
        };
        check(s(90.0), None, 85.0, true);
        check(s(85.0), None, 85.0, true);
        check(s(84.9), None, 85.0, false);
        check(s(10.0), s(86.0), 85.0, true);
        check(None, s(86.0), 85.0, true);
        check(None, None, 1.0, false);
    }

    #[test]
    fn compare_uses_the_calibration() {
        let a = Embedding(vec![1.0, 0.0]);
        let b = Embedding(vec![0.6, 0.8]);
        let score = compare(&a, &b);
        assert!((score.cosine - 0.6).abs() < 1e-6);
        assert_eq!(score.percent, calibration::percent(score.cosine));
    }
}
