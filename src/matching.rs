//! Matching: two embeddings → a calibrated score, and scores → the verdict.

use crate::calibration;
use crate::domain::Embedding;
use crate::embedding::cosine;

/// A match threshold in percent, 1 to 100: the only way to make one is through its checks.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Threshold(f64);

/// Why a value is not a threshold.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ThresholdError {
    /// Not a finite number.
    #[error("threshold {0} is not a number")]
    NotANumber(String),
    /// A number outside 1-100.
    #[error("threshold {0} is outside 1-100")]
    OutOfRange(f64),
}

impl Threshold {
    /// The calibrated default (README "Choosing a threshold").
    pub const DEFAULT: Threshold = Threshold(calibration::DEFAULT_THRESHOLD);

    /// A threshold of `percent`.
    ///
    /// # Errors
    /// [`ThresholdError`] for a value that is not finite or lies outside 1-100.
    pub fn new(percent: f64) -> Result<Threshold, ThresholdError> {
        if !percent.is_finite() {
            return Err(ThresholdError::NotANumber(percent.to_string()));
        }
        if !(1.0..=100.0).contains(&percent) {
            return Err(ThresholdError::OutOfRange(percent));
        }
        Ok(Threshold(percent))
    }

    /// The threshold moved by `step` points, kept inside 1-100 (the operator's − and + buttons).
    pub fn stepped(self, step: f64) -> Threshold {
        Threshold((self.0 + step).clamp(1.0, 100.0))
    }

    /// The value in percent.
    pub fn percent(self) -> f64 {
        self.0
    }
}

impl std::str::FromStr for Threshold {
    type Err = ThresholdError;

    /// A number written as text (the command line, a settings file), surrounding spaces allowed.
    fn from_str(s: &str) -> Result<Threshold, ThresholdError> {
        let value: f64 =
            s.trim().parse().map_err(|_| ThresholdError::NotANumber(format!("{s:?}")))?;
        if !value.is_finite() {
            return Err(ThresholdError::NotANumber(format!("{s:?}")));
        }
        Threshold::new(value)
    }
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

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

impl Score {
    /// This score reaches `threshold`.
    pub fn reaches(self, threshold: Threshold) -> bool {
        self.percent >= threshold.percent()
    }
}

/// The contract's rule: matched when the front or the back reaches the threshold.
pub fn matched(front: Option<Score>, back: Option<Score>, threshold: Threshold) -> bool {
    [front, back].into_iter().flatten().any(|s| s.reaches(threshold))
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
            assert_eq!(matched(front, back, Threshold::new(threshold).unwrap()), expected)
        };
        check(s(90.0), None, 85.0, true);
        check(s(85.0), None, 85.0, true);
        check(s(84.9), None, 85.0, false);
        check(s(10.0), s(86.0), 85.0, true);
        check(None, s(86.0), 85.0, true);
        check(None, None, 1.0, false);
    }

    #[test]
    fn thresholds_are_checked_once_with_reasons() {
        assert_eq!(Threshold::new(1.0).unwrap().percent(), 1.0);
        assert_eq!(" 89 ".parse::<Threshold>().unwrap(), Threshold::DEFAULT);
        assert_eq!("100".parse::<Threshold>().unwrap().percent(), 100.0);
        for (bad, says) in [
            ("0", "threshold 0 is outside 1-100"),
            ("101", "threshold 101 is outside 1-100"),
            ("abc", "threshold \"abc\" is not a number"),
            ("NaN", "threshold \"NaN\" is not a number"),
            ("inf", "is not a number"),
        ] {
            let e = bad.parse::<Threshold>().unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
        assert!(Threshold::new(f64::NAN).is_err());
        let t = Threshold::new(99.0).unwrap();
        assert_eq!((t.stepped(5.0).percent(), t.stepped(-200.0).percent()), (100.0, 1.0));
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
