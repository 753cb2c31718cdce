//! The verification pipeline, from pictures to the contract's answer:
//! picture → faces → subject + quality → aligned crop → embedding → score → verdict.
//!
//! Plain functions over values; the models come in as the [`Detector`] and
//! [`Embedder`] traits, so this module never sees TensorFlow Lite, files or HTTP.
//! Ordinary outcomes (no face, low quality, below threshold) are values of
//! [`Verification`], not errors; only a model failure is an `Err`.

use crate::alignment::align;
use crate::contract::{
    BoxReport, ErrorBody, ErrorCode, InvalidFileResponse, MatchAnswer, MatchResponse, MatchStatus,
};
use crate::detection::{find_oriented_faces, Detector};
use crate::domain::{DocumentType, Embedding, Face, Picture, Role};
use crate::embedding::Embedder;
use crate::inference::InferenceError;
use crate::intake::{self, IntakeError};
use crate::matching::{compare, matched, Score};
use crate::quality::{assess, QualityIssue};

/// The validated parameters of a match request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchParams {
    /// Document type.
    pub doc_type: DocumentType,
    /// Threshold in percent, 1..=100.
    pub threshold: f64,
}

impl MatchParams {
    /// Validates the raw `type` and `threshold` of a request.
    ///
    /// # Errors
    /// A 4001 body saying which field is missing or wrong.
    pub fn parse(
        doc_type: Option<&str>,
        threshold: Option<&serde_json::Value>,
    ) -> Result<MatchParams, ErrorBody> {
        let malformed = |details: String| ErrorBody::new(ErrorCode::Malformed, details);
        let doc_type = doc_type.ok_or_else(|| malformed("type is required".into()))?;
        let doc_type = DocumentType::parse(doc_type).ok_or_else(|| {
            malformed(format!(
                "type {doc_type:?} is not one of UIDAI, DL, PAN, VOTER, PASSPORT, GOV"
            ))
        })?;
        let threshold = threshold.ok_or_else(|| malformed("threshold is required".into()))?;
        let value = match threshold {
            serde_json::Value::Number(n) => n.as_f64(),
            // The command line passes text; the JSON API must send a number.
            serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|v| v.is_finite())
        .ok_or_else(|| malformed(format!("threshold {threshold} is not a number")))?;
        if !(1.0..=100.0).contains(&value) {
            return Err(malformed(format!("threshold {value} is outside 1-100")));
        }
        Ok(MatchParams { doc_type, threshold: value })
    }
}

/// What the pipeline learned about one picture.
#[derive(Debug, Clone)]
pub struct FaceAnalysis {
    /// Picture width in pixels.
    pub width: u32,
    /// Picture height in pixels.
    pub height: u32,
    /// Every face found, largest first.
    pub faces: Vec<Face>,
    /// Why the subject face cannot be used, if so.
    pub issue: Option<QualityIssue>,
    /// The subject's embedding, when it passed the quality gates.
    pub embedding: Option<Embedding>,
}

impl FaceAnalysis {
    /// The face the verification is about: the largest.
    pub fn subject(&self) -> Option<&Face> {
        self.faces.first()
    }

    /// A usable face was found.
    pub fn valid(&self) -> bool {
        self.embedding.is_some()
    }

    /// The subject's box in the contract's ratios, when there is a subject.
    pub fn box_report(&self) -> Option<BoxReport> {
        let face = self.subject()?;
        let (w, h) = (f64::from(self.width), f64::from(self.height));
        let b = face.bbox;
        let (x1, y1) = (f64::from(b.x).clamp(0.0, w), f64::from(b.y).clamp(0.0, h));
        let (x2, y2) = (f64::from(b.x + b.w).clamp(0.0, w), f64::from(b.y + b.h).clamp(0.0, h));
        Some(BoxReport {
            height: (y2 - y1) / h,
            width: (x2 - x1) / w,
            left: x1 / w,
            top: y1 / h,
            confidence: f64::from(face.score) * 100.0,
        })
    }

    /// Why this picture cannot be used, in words for the response's `message`; `None` when usable.
    pub fn problem(&self) -> Option<String> {
        match (&self.issue, self.subject()) {
            (_, None) => Some("no face detected".into()),
            (Some(issue), _) => Some(issue.to_string()),
            (None, Some(_)) => None,
        }
    }
}

/// Finds, checks, aligns and embeds the subject face of one picture.
///
/// # Errors
/// Only when a model fails.
pub fn analyse(
    detector: &mut dyn Detector,
    embedder: &mut dyn Embedder,
    picture: &Picture,
    role: Role,
) -> Result<FaceAnalysis, InferenceError> {
    let (faces, orientation) = find_oriented_faces(detector, &picture.pixels, role)?;
    let (width, height) = (picture.width(), picture.height());
    let mut analysis =
        FaceAnalysis { width, height, faces: Vec::new(), issue: None, embedding: None };
    if let Some(subject) = faces.first() {
        // Align and judge the face upright, in the turned view it was found in.
        let aligned = align(&orientation.apply(&picture.pixels), &subject.landmarks);
        analysis.issue = assess(subject, &aligned, role);
        if analysis.issue.is_none() {
            analysis.embedding = Some(embedder.embed(&aligned)?);
        }
    }
    analysis.faces =
        faces.iter().map(|f| orientation.to_original(f, width as f32, height as f32)).collect();
    Ok(analysis)
}

/// The pictures of one request, decoded.
#[derive(Debug, Clone, Copy)]
pub struct Pictures<'a> {
    /// The selfie.
    pub src: &'a Picture,
    /// The document front.
    pub front: &'a Picture,
    /// The document back, if given.
    pub back: Option<&'a Picture>,
}

/// The full outcome of a verification, richer than the contract's response
/// (scores below the threshold are kept for the log, the eval and the kiosk).
#[derive(Debug, Clone)]
pub struct Verification {
    /// The request's parameters.
    pub params: MatchParams,
    /// Selfie analysis.
    pub src: FaceAnalysis,
    /// Document front analysis.
    pub front: FaceAnalysis,
    /// Document back analysis, if a back was given.
    pub back: Option<FaceAnalysis>,
    /// Selfie vs front, when both have a usable face.
    pub front_score: Option<Score>,
    /// Selfie vs back, when both have a usable face.
    pub back_score: Option<Score>,
    /// The verdict.
    pub matched: bool,
}

/// Runs the pipeline on a request's pictures.
///
/// # Errors
/// Only when a model fails.
pub fn verify(
    detector: &mut dyn Detector,
    embedder: &mut dyn Embedder,
    pictures: Pictures<'_>,
    params: MatchParams,
) -> Result<Verification, InferenceError> {
    let document = Role::Document(params.doc_type);
    let src = analyse(detector, embedder, pictures.src, Role::Selfie)?;
    let front = analyse(detector, embedder, pictures.front, document)?;
    let back = pictures.back.map(|p| analyse(detector, embedder, p, document)).transpose()?;
    let score = |side: Option<&FaceAnalysis>| {
        Some(compare(src.embedding.as_ref()?, side?.embedding.as_ref()?))
    };
    let front_score = score(Some(&front));
    let back_score = score(back.as_ref());
    let matched = matched(front_score, back_score, params.threshold);
    Ok(Verification { params, src, front, back, front_score, back_score, matched })
}

impl Verification {
    /// The best of the front and back scores.
    pub fn best_score(&self) -> Option<Score> {
        [self.front_score, self.back_score]
            .into_iter()
            .flatten()
            .max_by(|a, b| a.percent.total_cmp(&b.percent))
    }

    /// Why it did not match, for `message`; `None` when it matched.
    pub fn message(&self) -> Option<String> {
        if self.matched {
            return None;
        }
        if let Some(problem) = self.src.problem() {
            return Some(format!("Source image: {problem}"));
        }
        let front = self.front.problem();
        let back = self.back.as_ref().and_then(FaceAnalysis::problem);
        let back_unusable = self.back.is_none() || back.is_some();
        match (front, back) {
            (Some(f), Some(b)) => Some(format!("Target front image: {f}; target back image: {b}")),
            (Some(f), None) if back_unusable => Some(format!("Target front image: {f}")),
            _ => Some("Not matched, below threshold".into()),
        }
    }

    /// The contract's response.
    pub fn response(&self) -> MatchResponse {
        let status =
            if self.matched { MatchStatus::FaceMatched } else { MatchStatus::FaceNotMatched };
        let mut r = MatchResponse::empty(self.matched, status, self.message());
        r.src_valid = self.src.valid();
        r.target_front_valid = self.front.valid();
        r.target_back_valid = self.back.as_ref().is_some_and(FaceAnalysis::valid);
        if let Some(b) = self.src.box_report() {
            r.set_src_box(b);
        }
        if let Some(b) = self.front.box_report() {
            r.set_front_box(b);
        }
        if let Some(b) = self.back.as_ref().and_then(FaceAnalysis::box_report) {
            r.set_back_box(b);
        }
        let reached =
            |s: Option<Score>| s.filter(|s| s.percent >= self.params.threshold).map(|s| s.percent);
        r.target_front_match = reached(self.front_score);
        r.target_back_match = reached(self.back_score);
        r
    }
}

/// The raw bytes of a request's pictures.
#[derive(Debug, Clone, Copy)]
pub struct RequestBytes<'a> {
    /// Selfie file.
    pub src: &'a [u8],
    /// Document front file.
    pub front: &'a [u8],
    /// Document back file, if given.
    pub back: Option<&'a [u8]>,
}

/// Which picture of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `src`.
    Src,
    /// `targetFront`.
    Front,
    /// `targetBack`.
    Back,
}

impl Side {
    /// The contract's field name.
    pub fn field(self) -> &'static str {
        match self {
            Side::Src => "src",
            Side::Front => "targetFront",
            Side::Back => "targetBack",
        }
    }
}

/// Decodes a request's pictures and verifies them: the whole contract in one call.
///
/// Files that are not JPEG/PNG, or cannot be decoded, give the contract's
/// `INVALID_FILE_FORMAT` answer; files over 10 MB a 4005 error; pictures under
/// 200×200 or with bomb dimensions a 4001 error; a model failure a 5001 error.
///
/// # Errors
/// The contract's error body, as above.
pub fn answer(
    detector: &mut dyn Detector,
    embedder: &mut dyn Embedder,
    bytes: RequestBytes<'_>,
    params: MatchParams,
) -> Result<(MatchAnswer, Option<Verification>), ErrorBody> {
    let decode = |side: Side, b: &[u8]| intake::decode(b).map_err(|e| (side, e));
    let decoded = (|| {
        let src = decode(Side::Src, bytes.src)?;
        let front = decode(Side::Front, bytes.front)?;
        let back = bytes.back.map(|b| decode(Side::Back, b)).transpose()?;
        Ok((src, front, back))
    })();
    let (src, front, back) = match decoded {
        Ok(p) => p,
        Err((side, error)) => return intake_failure(side, &error).map(|a| (a, None)),
    };
    let pictures = Pictures { src: &src, front: &front, back: back.as_ref() };
    let verification = verify(detector, embedder, pictures, params).map_err(|e| {
        eprintln!("facematch: inference failed: {e}");
        ErrorBody::new(ErrorCode::Internal, "the face models could not be run")
    })?;
    Ok((MatchAnswer::Processed(Box::new(verification.response())), Some(verification)))
}

/// The contract's answer for a picture that intake refused.
///
/// # Errors
/// 4005 for an oversized file, 4001 for bad dimensions.
pub fn intake_failure(side: Side, error: &IntakeError) -> Result<MatchAnswer, ErrorBody> {
    let details = format!("{}: {error}", side.field());
    match error {
        IntakeError::NotAnImage | IntakeError::Undecodable { .. } => {
            let message = match error {
                IntakeError::NotAnImage => "Image incompatible file type".to_string(),
                _ => format!("Image could not be read ({details})"),
            };
            Ok(MatchAnswer::InvalidFile(InvalidFileResponse {
                valid: false,
                src_valid: side != Side::Src,
                target_front_valid: (side == Side::Front).then_some(false),
                target_back_valid: (side == Side::Back).then_some(false),
                status: MatchStatus::InvalidFileFormat,
                message,
            }))
        }
        IntakeError::TooLarge { .. } => Err(ErrorBody::new(ErrorCode::OverLimit, details)),
        IntakeError::TooSmall { .. } | IntakeError::TooManyPixels { .. } => {
            Err(ErrorBody::new(ErrorCode::Malformed, details))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn params_are_validated_with_reasons() {
        let check = |t: Option<&str>,
                     th: Option<serde_json::Value>,
                     want: Result<(DocumentType, f64), &str>| {
            let got = MatchParams::parse(t, th.as_ref());
            match (got, want) {
                (Ok(p), Ok((d, v))) => assert_eq!((p.doc_type, p.threshold), (d, v)),
                (Err(e), Err(fragment)) => {
                    assert_eq!(e.code, 4001);
                    assert!(
                        e.details.as_deref().unwrap_or("").contains(fragment),
                        "{e:?} lacks {fragment}"
                    );
                }
                (got, want) => panic!("{got:?} vs {want:?}"),
            }
        };
        check(Some("GOV"), Some(json!(85)), Ok((DocumentType::Gov, 85.0)));
        check(Some("PAN"), Some(json!("1")), Ok((DocumentType::Pan, 1.0)));
        check(Some("PASSPORT"), Some(json!(100.0)), Ok((DocumentType::Passport, 100.0)));
        check(Some("GOV"), Some(json!(0)), Err("outside 1-100"));
        check(Some("GOV"), Some(json!(101)), Err("outside 1-100"));
        check(Some("GOV"), Some(json!("abc")), Err("not a number"));
        check(Some("GOV"), Some(json!(true)), Err("not a number"));
        check(Some("GOV"), Some(json!("NaN")), Err("not a number"));
        check(Some("GOV"), None, Err("threshold is required"));
        check(Some("gov"), Some(json!(85)), Err("not one of"));
        check(Some("AADHAAR"), Some(json!(85)), Err("not one of"));
        check(None, Some(json!(85)), Err("type is required"));
    }

    #[test]
    fn intake_failures_map_to_the_contract() {
        match intake_failure(Side::Src, &IntakeError::NotAnImage).unwrap() {
            MatchAnswer::InvalidFile(r) => {
                assert!(!r.valid && !r.src_valid);
                assert_eq!(r.message, "Image incompatible file type");
            }
            other => panic!("{other:?}"),
        }
        match intake_failure(Side::Back, &IntakeError::NotAnImage).unwrap() {
            MatchAnswer::InvalidFile(r) => {
                assert_eq!((r.src_valid, r.target_back_valid), (true, Some(false)))
            }
            other => panic!("{other:?}"),
        }
        let e =
            intake_failure(Side::Front, &IntakeError::TooLarge { bytes: 11 << 20 }).unwrap_err();
        assert_eq!(e.code, 4005);
        assert!(e.details.unwrap().starts_with("targetFront: "));
        let e = intake_failure(Side::Src, &IntakeError::TooSmall { width: 100, height: 100 })
            .unwrap_err();
        assert_eq!(e.code, 4001);
    }
}
