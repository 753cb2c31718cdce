//! The edge between the pipeline and the Face Match API contract: a request's raw
//! fields become typed [`MatchParams`], a request's bytes become pictures, and a
//! [`Verification`] becomes the contract's response. The API, the `match` command
//! and the benchmarks answer through here, so they answer alike.
//!
//! Failures are a typed [`AnswerError`]; only its [`AnswerError::body`] is wire format.

use std::str::FromStr;

use crate::contract::{
    BoxReport, ErrorBody, ErrorCode, InvalidFileResponse, MatchAnswer, MatchRequest, MatchResponse,
    MatchStatus,
};
use crate::detection::Detector;
use crate::domain::{DocumentType, Picture};
use crate::embedding::Embedder;
use crate::intake::{self, IntakeError};
use crate::matching::{Score, Threshold};
use crate::model_error::ModelError;
use crate::verify::{verify, FaceAnalysis, MatchParams, Pictures, Verification};

/// Why a request got no 200 answer; each maps to one contract code.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// 4001: a missing or malformed field, or a picture with impossible dimensions.
    #[error("{0}")]
    Malformed(String),
    /// 4005: a picture over the size limit.
    #[error("{0}")]
    OverLimit(String),
    /// 5001: the face models failed.
    #[error("the face models could not be run: {0}")]
    Model(#[from] ModelError),
}

impl AnswerError {
    /// The contract's code.
    pub fn code(&self) -> ErrorCode {
        match self {
            AnswerError::Malformed(_) => ErrorCode::Malformed,
            AnswerError::OverLimit(_) => ErrorCode::OverLimit,
            AnswerError::Model(_) => ErrorCode::Internal,
        }
    }

    /// The contract's error body. A model failure's detail stays on the device: clients
    /// learn only that the request could not be processed.
    pub fn body(&self) -> ErrorBody {
        match self {
            AnswerError::Model(_) => {
                ErrorBody::new(self.code(), "the face models could not be run")
            }
            _ => ErrorBody::new(self.code(), self.to_string()),
        }
    }
}

/// The typed parameters of a request: `type` in the contract's spelling, `threshold` a
/// number from 1 to 100 (text is accepted too: the command line passes text).
///
/// # Errors
/// [`AnswerError::Malformed`] saying which field is missing or wrong.
pub fn params(request: &MatchRequest) -> Result<MatchParams, AnswerError> {
    let malformed = |e: &dyn std::fmt::Display| AnswerError::Malformed(e.to_string());
    let doc_type = request
        .doc_type
        .as_deref()
        .ok_or_else(|| AnswerError::Malformed("type is required".into()))?;
    let doc_type = DocumentType::from_str(doc_type).map_err(|e| malformed(&e))?;
    let threshold = match &request.threshold {
        None => return Err(AnswerError::Malformed("threshold is required".into())),
        Some(serde_json::Value::Number(n)) => {
            Threshold::new(n.as_f64().unwrap_or(f64::NAN)).map_err(|e| malformed(&e))?
        }
        Some(serde_json::Value::String(s)) => Threshold::from_str(s).map_err(|e| malformed(&e))?,
        Some(other) => {
            return Err(AnswerError::Malformed(format!("threshold {other} is not a number")))
        }
    };
    Ok(MatchParams { doc_type, threshold })
}

/// The subject's box in the contract's ratios, when there is a subject.
pub fn box_report(analysis: &FaceAnalysis) -> Option<BoxReport> {
    let face = analysis.subject()?;
    let (w, h) = (f64::from(analysis.width), f64::from(analysis.height));
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

/// Why it did not match, for the response's `message`; `None` when it matched.
pub fn message(v: &Verification) -> Option<String> {
    if v.matched {
        return None;
    }
    if let Some(problem) = v.src.problem() {
        return Some(format!("Source image: {problem}"));
    }
    let front = v.front.problem();
    let back = v.back.as_ref().and_then(FaceAnalysis::problem);
    let back_unusable = v.back.is_none() || back.is_some();
    match (front, back) {
        (Some(f), Some(b)) => Some(format!("Target front image: {f}; target back image: {b}")),
        (Some(f), None) if back_unusable => Some(format!("Target front image: {f}")),
        _ => Some("Not matched, below threshold".into()),
    }
}

/// The contract's response for a verification.
pub fn response(v: &Verification) -> MatchResponse {
    let status = if v.matched { MatchStatus::FaceMatched } else { MatchStatus::FaceNotMatched };
    let mut r = MatchResponse::empty(v.matched, status, message(v));
    r.src_valid = v.src.valid();
    r.target_front_valid = v.front.valid();
    r.target_back_valid = v.back.as_ref().is_some_and(FaceAnalysis::valid);
    if let Some(b) = box_report(&v.src) {
        r.set_src_box(b);
    }
    if let Some(b) = box_report(&v.front) {
        r.set_front_box(b);
    }
    if let Some(b) = v.back.as_ref().and_then(box_report) {
        r.set_back_box(b);
    }
    // The contract populates a match percent only where it reached the threshold.
    let reached = |s: Option<Score>| s.filter(|s| s.reaches(v.params.threshold)).map(|s| s.percent);
    r.target_front_match = reached(v.front_score);
    r.target_back_match = reached(v.back_score);
    r
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

/// A selfie of at most this many pixels (a 2048×2048 photo, 12 MB decoded) is decoded beside
/// the document front; a larger one after it, so that at most one large picture is being
/// decoded at once.
pub const OVERLAP_MAX_PIXELS: u64 = 4_194_304;

/// A request's pictures, decoded: what inference needs, without the files.
#[derive(Debug)]
pub struct DecodedRequest {
    /// The selfie.
    pub src: Picture,
    /// The document front.
    pub front: Picture,
    /// The document back, if given.
    pub back: Option<Picture>,
}

impl DecodedRequest {
    /// The pictures as the pipeline takes them.
    pub fn pictures(&self) -> Pictures<'_> {
        Pictures { src: &self.src, front: &self.front, back: self.back.as_ref() }
    }
}

/// A picture intake refused, and which one: answered with [`intake_failure`].
#[derive(Debug)]
pub struct Refusal {
    /// Which picture.
    pub side: Side,
    /// Why.
    pub error: IntakeError,
}

impl Refusal {
    /// The contract's answer for it.
    ///
    /// # Errors
    /// 4005 for an oversized file, 4001 for bad dimensions or a picture beyond the decoding budget.
    pub fn answer(&self) -> Result<MatchAnswer, AnswerError> {
        intake_failure(self.side, &self.error)
    }
}

/// Checks every file, then decodes them: the part of a request that costs no model, kept apart
/// so that the API decodes off its one inference thread and a slow picture holds no one else.
///
/// # Errors
/// The first [`Refusal`] in the contract's order (selfie, front, back); every file is checked
/// before any is decoded, so a bad one is refused without decoding the others.
pub fn decode_request(bytes: RequestBytes<'_>) -> Result<DecodedRequest, Refusal> {
    let inspect =
        |side: Side, file: &[u8]| intake::inspect(file).map_err(|error| Refusal { side, error });
    let src = inspect(Side::Src, bytes.src)?;
    let front = inspect(Side::Front, bytes.front)?;
    let back = bytes.back.map(|b| inspect(Side::Back, b)).transpose()?;
    let decode = |side: Side, file: &[u8], inspected| {
        intake::decode_inspected(file, inspected).map_err(|error| Refusal { side, error })
    };
    let overlap = u64::from(src.width) * u64::from(src.height) <= OVERLAP_MAX_PIXELS;
    let (src, front) = std::thread::scope(|scope| {
        // No thread to be had (a loaded machine): decoded here, after the front.
        let src_decode = overlap
            .then(|| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || decode(Side::Src, bytes.src, src))
                    .ok()
            })
            .flatten();
        let front = decode(Side::Front, bytes.front, front);
        let src = match src_decode {
            Some(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => decode(Side::Src, bytes.src, src),
        };
        (src, front)
    });
    let (src, front) = (src?, front?);
    let back = bytes.back.zip(back).map(|(file, b)| decode(Side::Back, file, b)).transpose()?;
    Ok(DecodedRequest { src, front, back })
}

/// Verifies a request's decoded pictures and makes the contract's answer.
///
/// # Errors
/// [`AnswerError::Model`] when a model fails.
pub fn answer_decoded(
    detector: &mut dyn Detector,
    embedder: &mut dyn Embedder,
    pictures: &DecodedRequest,
    params: MatchParams,
) -> Result<(MatchAnswer, Option<Verification>), AnswerError> {
    let verification = verify(detector, embedder, pictures.pictures(), params)
        .inspect_err(|e| log::error!("inference failed: {e}"))?;
    Ok((MatchAnswer::Processed(Box::new(response(&verification))), Some(verification)))
}

/// Decodes a request's pictures and verifies them: the whole contract in one call.
///
/// Files that are not JPEG/PNG, or cannot be decoded, give the contract's
/// `INVALID_FILE_FORMAT` answer; files over 10 MB a 4005 error; pictures under
/// 200×200, with bomb dimensions or beyond the decoding budget a 4001 error; a model failure a
/// 5001 error.
///
/// # Errors
/// An [`AnswerError`], as above.
pub fn answer(
    detector: &mut dyn Detector,
    embedder: &mut dyn Embedder,
    bytes: RequestBytes<'_>,
    params: MatchParams,
) -> Result<(MatchAnswer, Option<Verification>), AnswerError> {
    match decode_request(bytes) {
        Ok(pictures) => answer_decoded(detector, embedder, &pictures, params),
        Err(refusal) => refusal.answer().map(|a| (a, None)),
    }
}

/// The contract's answer for a picture that intake refused.
///
/// # Errors
/// 4005 for an oversized file, 4001 for bad dimensions.
pub fn intake_failure(side: Side, error: &IntakeError) -> Result<MatchAnswer, AnswerError> {
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
        IntakeError::TooLarge { .. } => Err(AnswerError::OverLimit(details)),
        IntakeError::TooSmall { .. }
        | IntakeError::TooManyPixels { .. }
        | IntakeError::TooCostly(_) => Err(AnswerError::Malformed(details)),
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
            let request = MatchRequest {
                doc_type: t.map(str::to_string),
                threshold: th,
                ..MatchRequest::default()
            };
            match (params(&request), want) {
                (Ok(p), Ok((d, v))) => assert_eq!((p.doc_type, p.threshold.percent()), (d, v)),
                (Err(e), Err(fragment)) => {
                    let body = e.body();
                    assert_eq!(body.code, 4001);
                    assert!(
                        body.details.as_deref().unwrap_or("").contains(fragment),
                        "{body:?} lacks {fragment}"
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
        assert_eq!(e.body().code, 4005);
        assert!(e.body().details.unwrap().starts_with("targetFront: "));
        let e = intake_failure(Side::Src, &IntakeError::TooSmall { width: 100, height: 100 })
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Malformed);
    }

    #[test]
    fn a_model_failure_is_a_5001_without_its_detail() {
        let e = AnswerError::from(ModelError::Runtime { model: "m", detail: "secret".into() });
        let body = e.body();
        assert_eq!(body.code, 5001);
        assert!(!body.details.unwrap_or_default().contains("secret"));
    }
}
