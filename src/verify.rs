//! The verification pipeline: typed parameters and decoded pictures in, a
//! [`Verification`] out. picture → faces → subject + quality → aligned crop →
//! embedding → score → verdict.
//!
//! Plain functions over values; the models come in as the [`Detector`] and
//! [`Embedder`] traits, so this module never sees TensorFlow Lite, files, HTTP
//! or the contract's wire format (that mapping is [`crate::answer`]).
//! Ordinary outcomes (no face, low quality, below threshold) are values of
//! [`Verification`], not errors; only a model failure is an `Err`.

use crate::alignment::align;
use crate::detection::{find_oriented_faces, Detector};
use crate::domain::{DocumentType, Embedding, Face, Picture, Role};
use crate::embedding::Embedder;
use crate::matching::{compare, matched, Score, Threshold};
use crate::model_error::ModelError;
use crate::quality::{assess, QualityIssue};

/// The validated parameters of a match request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchParams {
    /// Document type.
    pub doc_type: DocumentType,
    /// The match threshold.
    pub threshold: Threshold,
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
) -> Result<FaceAnalysis, ModelError> {
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
    /// The selfie was refused as a copy of the document's own photo (the kiosk's liveness
    /// rule, [`crate::liveness::document_copy`]); `matched` is then false.
    pub document_copy: bool,
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
) -> Result<Verification, ModelError> {
    let src = analyse(detector, embedder, pictures.src, Role::Selfie)?;
    verify_against(detector, embedder, src, pictures.front, pictures.back, params)
}

/// The pipeline for a selfie analysed already (the kiosk analyses it while the customer
/// presents the document): the document's sides analysed, the verdict drawn.
///
/// # Errors
/// Only when a model fails.
pub fn verify_against(
    detector: &mut dyn Detector,
    embedder: &mut dyn Embedder,
    src: FaceAnalysis,
    front: &Picture,
    back: Option<&Picture>,
    params: MatchParams,
) -> Result<Verification, ModelError> {
    let document = Role::Document(params.doc_type);
    let front = analyse(detector, embedder, front, document)?;
    let back = back.map(|p| analyse(detector, embedder, p, document)).transpose()?;
    Ok(conclude(params, src, front, back))
}

/// The verdict from the three analyses: the selfie compared with each document side.
/// For callers that analyse one picture at a time (so that only one is decoded at once).
pub fn conclude(
    params: MatchParams,
    src: FaceAnalysis,
    front: FaceAnalysis,
    back: Option<FaceAnalysis>,
) -> Verification {
    let score = |side: Option<&FaceAnalysis>| {
        Some(compare(src.embedding.as_ref()?, side?.embedding.as_ref()?))
    };
    let front_score = score(Some(&front));
    let back_score = score(back.as_ref());
    let matched = matched(front_score, back_score, params.threshold);
    Verification {
        params,
        src,
        front,
        back,
        front_score,
        back_score,
        matched,
        document_copy: false,
    }
}

impl Verification {
    /// Refuses the selfie when it is the document's own photo held up to the camera (a
    /// kiosk's selfie must be a living face; the API's `src` is whatever the caller sends).
    pub fn refuse_document_copy(&mut self) {
        if self.best_score().is_some_and(crate::liveness::document_copy::is_document_copy) {
            self.matched = false;
            self.document_copy = true;
        }
    }

    /// The best of the front and back scores.
    pub fn best_score(&self) -> Option<Score> {
        [self.front_score, self.back_score]
            .into_iter()
            .flatten()
            .max_by(|a, b| a.percent.total_cmp(&b.percent))
    }
}
