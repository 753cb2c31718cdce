//! What the result screen says, in a customer's words: the verdict, the score,
//! why a picture could not be used, and which retakes to offer. Made from a
//! [`Verification`] that was recorded, or from a failure; never from a verdict
//! that could not be recorded (a bank must not act on a decision it has no trace of).

use image::RgbImage;

use crate::domain::FaceBox;
use crate::matching::Threshold;
use crate::quality::QualityIssue;
use crate::tr;
use crate::verify::{FaceAnalysis, Verification};

/// The result screen's content.
#[derive(Debug, Clone)]
pub struct ResultView {
    /// The verdict.
    pub matched: bool,
    /// The verdict in a customer's words (an English message id, translated where shown).
    pub verdict: &'static str,
    /// The match percentage, when there is one.
    pub percent: Option<f64>,
    /// The threshold in percent.
    pub threshold: f64,
    /// Why a picture could not be used, or what to do next (a message id); may be empty.
    pub reason: &'static str,
    /// The selfie.
    pub selfie: RgbImage,
    /// Selfie face box.
    pub selfie_face: Option<FaceBox>,
    /// The document side shown.
    pub document: RgbImage,
    /// Document face box.
    pub document_face: Option<FaceBox>,
    /// Offer "Retake selfie".
    pub retake_selfie: bool,
    /// Offer "Retake document".
    pub retake_document: bool,
}

/// Why no verdict can be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The face models are missing or failed.
    Models,
    /// The verdict was reached but could not be written to the log.
    NotRecorded,
}

impl ResultView {
    /// The result of a recorded verification. The document side shown is the one that
    /// matched best (the back only when it carried the match).
    pub fn of(
        v: &Verification,
        selfie: RgbImage,
        front: RgbImage,
        back: Option<RgbImage>,
    ) -> ResultView {
        let back_better = matches!(
            (v.back_score, v.front_score),
            (Some(b), f) if f.is_none_or(|f| b.percent > f.percent)
        );
        let (document, document_analysis) = match (back, &v.back) {
            (Some(b), Some(a)) if back_better => (b, a),
            _ => (front, &v.front),
        };
        let face = |a: &FaceAnalysis| a.subject().map(|f| f.bbox);
        let (verdict, reason, retake_selfie, retake_document) = if v.matched {
            (tr!("Identity confirmed: it's a match"), "", false, false)
        } else if v.document_copy {
            (
                tr!("We could not use your photo"),
                tr!("Your photo shows the picture on your document. Please look at the camera yourself."),
                true,
                false,
            )
        } else if !v.src.valid() {
            (tr!("We could not use your photo"), selfie_reason(&v.src), true, false)
        } else if !v.front.valid() && v.back.as_ref().is_none_or(|b| !b.valid()) {
            (
                tr!("We could not read the photo on your document"),
                document_reason(&v.front),
                false,
                true,
            )
        } else {
            (tr!("The faces do not match"), tr!("Please see a member of staff."), true, true)
        };
        ResultView {
            matched: v.matched,
            verdict,
            percent: v.best_score().map(|s| s.percent),
            threshold: v.params.threshold.percent(),
            reason,
            selfie_face: face(&v.src),
            selfie,
            document_face: face(document_analysis),
            document,
            retake_selfie,
            retake_document,
        }
    }

    /// No verdict: the check could not run, or its result could not be recorded.
    pub fn failure(
        failure: Failure,
        selfie: RgbImage,
        document: RgbImage,
        threshold: Threshold,
    ) -> ResultView {
        let reason = match failure {
            Failure::Models => tr!("The check could not run. Please see a member of staff."),
            Failure::NotRecorded => {
                tr!("The result could not be saved, so it is not shown. Please see a member of staff.")
            }
        };
        ResultView {
            matched: false,
            verdict: tr!("Something went wrong"),
            percent: None,
            threshold: threshold.percent(),
            reason,
            selfie,
            selfie_face: None,
            document,
            document_face: None,
            retake_selfie: false,
            retake_document: false,
        }
    }
}

/// Why the selfie could not be used, and what to do, in a customer's words (the figures
/// behind it are in the log's response).
fn selfie_reason(a: &FaceAnalysis) -> &'static str {
    match (a.subject(), a.issue) {
        (None, _) | (_, None) => {
            tr!("We could not see your face. Please look at the camera and try again.")
        }
        (_, Some(QualityIssue::TooSmall { .. })) => {
            tr!("Your face was too small in the picture. Please come closer and try again.")
        }
        (_, Some(QualityIssue::TooDark { .. })) => {
            tr!("Your photo was too dark. Please find more light and try again.")
        }
        (_, Some(QualityIssue::TooBright { .. })) => {
            tr!("Your photo was too bright. Please move out of direct light and try again.")
        }
        (_, Some(QualityIssue::TooBlurry { .. })) => {
            tr!("Your photo was blurred. Please hold still and try again.")
        }
        (_, Some(QualityIssue::TooTilted { .. })) => {
            tr!("Your head was tilted. Please hold your head straight and try again.")
        }
    }
}

/// Why the document's photo could not be used, and what to do.
fn document_reason(a: &FaceAnalysis) -> &'static str {
    match (a.subject(), a.issue) {
        (None, _) | (_, None) => {
            tr!("We could not find the photo on your document. Please show the side with your photo.")
        }
        (_, Some(QualityIssue::TooSmall { .. })) => {
            tr!("The photo on your document is too small in the picture. Please bring the document closer.")
        }
        (_, Some(QualityIssue::TooDark { .. })) => {
            tr!("The picture of your document is too dark. Please find more light.")
        }
        (_, Some(QualityIssue::TooBright { .. })) => {
            tr!("Light reflects on your document. Please tilt it a little.")
        }
        (_, Some(QualityIssue::TooBlurry { .. })) => {
            tr!("The picture of your document is blurred. Please hold it still.")
        }
        (_, Some(QualityIssue::TooTilted { .. })) => {
            tr!("The photo on your document is tilted. Please hold the document straight.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DocumentType, Embedding, Face};
    use crate::matching::Score;
    use crate::quality::QualityIssue;
    use crate::verify::MatchParams;

    fn analysis(face: bool, issue: Option<QualityIssue>) -> FaceAnalysis {
        let subject = Face {
            bbox: FaceBox { x: 10.0, y: 20.0, w: 30.0, h: 40.0 },
            score: 0.9,
            landmarks: [[0.0; 2]; 5],
        };
        FaceAnalysis {
            width: 100,
            height: 100,
            faces: if face { vec![subject] } else { vec![] },
            embedding: (face && issue.is_none()).then(|| Embedding(vec![1.0])),
            issue,
        }
    }

    fn verification(src: FaceAnalysis, front: FaceAnalysis, percent: Option<f64>) -> Verification {
        let threshold = Threshold::new(85.0).unwrap();
        let front_score = percent.map(|percent| Score { cosine: 0.0, percent });
        Verification {
            params: MatchParams { doc_type: DocumentType::Gov, threshold },
            matched: front_score.is_some_and(|s| s.reaches(threshold)),
            src,
            front,
            back: None,
            front_score,
            back_score: None,
            document_copy: false,
        }
    }

    fn view(v: &Verification) -> ResultView {
        ResultView::of(v, RgbImage::new(2, 2), RgbImage::new(3, 3), None)
    }

    #[test]
    fn a_match_is_confirmed_with_its_score_and_no_retakes() {
        let r = view(&verification(analysis(true, None), analysis(true, None), Some(96.74)));
        assert!(r.matched);
        assert_eq!(r.verdict, "Identity confirmed: it's a match");
        assert_eq!((r.percent, r.threshold), (Some(96.74), 85.0));
        assert!(!r.retake_selfie && !r.retake_document);
        assert_eq!(r.document.width(), 3, "the front is shown");
        assert!(r.selfie_face.is_some() && r.document_face.is_some());
    }

    #[test]
    fn each_unusable_picture_offers_its_own_retake() {
        let r = view(&verification(analysis(false, None), analysis(true, None), None));
        assert_eq!(r.verdict, "We could not use your photo");
        assert!(r.reason.starts_with("We could not see your face"), "{}", r.reason);
        assert!(r.retake_selfie && !r.retake_document);

        let r = view(&verification(analysis(true, None), analysis(false, None), None));
        assert_eq!(r.verdict, "We could not read the photo on your document");
        assert!(r.reason.starts_with("We could not find the photo"), "{}", r.reason);
        assert!(!r.retake_selfie && r.retake_document);

        let small = QualityIssue::TooSmall { size: 20.0, min: 24.0 };
        let r = view(&verification(analysis(true, None), analysis(true, Some(small)), None));
        assert!(r.reason.contains("bring the document closer"), "{}", r.reason);
        let blurred = QualityIssue::TooBlurry { sharpness: 3.0, min: 8.0 };
        let r = view(&verification(analysis(true, Some(blurred)), analysis(true, None), None));
        assert!(r.reason.starts_with("Your photo was blurred"), "{}", r.reason);

        let r = view(&verification(analysis(true, None), analysis(true, None), Some(40.0)));
        assert_eq!(r.verdict, "The faces do not match");
        assert_eq!(r.percent, Some(40.0));
        assert!(r.retake_selfie && r.retake_document);
    }

    #[test]
    fn failures_show_no_verdict() {
        let t = Threshold::new(90.0).unwrap();
        for failure in [Failure::Models, Failure::NotRecorded] {
            let r = ResultView::failure(failure, RgbImage::new(1, 1), RgbImage::new(1, 1), t);
            assert!(!r.matched && r.percent.is_none(), "{failure:?}");
            assert_eq!(r.verdict, "Something went wrong");
            assert_eq!(r.threshold, 90.0);
        }
        let r =
            ResultView::failure(Failure::NotRecorded, RgbImage::new(1, 1), RgbImage::new(1, 1), t);
        assert!(r.reason.contains("could not be saved"), "{}", r.reason);
    }

    #[test]
    fn the_documents_own_photo_as_the_selfie_is_refused_not_matched() {
        let mut v = verification(analysis(true, None), analysis(true, None), Some(99.0));
        v.front_score = Some(Score { cosine: 0.95, percent: 99.0 });
        assert!(v.matched);
        v.refuse_document_copy();
        assert!(!v.matched && v.document_copy);
        let view = ResultView::of(&v, RgbImage::new(4, 4), RgbImage::new(4, 4), None);
        assert!(view.reason.contains("picture on your document"), "{}", view.reason);
        assert!(view.retake_selfie && !view.retake_document);

        // Two photographs of one person never came this close on ../shared: a match stays one.
        let mut v = verification(analysis(true, None), analysis(true, None), Some(99.0));
        v.front_score = Some(Score { cosine: 0.87, percent: 99.0 });
        v.refuse_document_copy();
        assert!(v.matched && !v.document_copy);
    }
}
