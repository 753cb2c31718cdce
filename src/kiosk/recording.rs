//! A kiosk verification from captured frames to the log: verify, store the
//! pictures (JPEG, sealed) and the decision in one place, and say what the
//! screen may show. A verdict is shown only once it is recorded. Liveness attempts are
//! recorded here too, a failed one with its frame.
//!
//! The customer's wait after the document's capture is kept to the document's own work: the
//! selfie can be analysed and encoded beforehand ([`PreparedSelfie`], while the customer
//! presents the document), and the document's pictures are encoded for the log while its
//! faces are sought.

use std::time::Instant;

use image::RgbImage;

use super::result_view::{Failure, ResultView};
use crate::answer::response;
use crate::contract::{MatchAnswer, MatchRequest};
use crate::detection::Detector;
use crate::domain::{Picture, PictureFormat, Role};
use crate::embedding::Embedder;
use crate::intake::{encode_jpeg, EncodeError};
use crate::liveness::Report;
use crate::model_error::ModelError;
use crate::record::attempt::{new_attempt, Filming};
use crate::record::{new_verification, timings, RequestMedia};
use crate::store::{MediaId, Store, StoreError};
use crate::verify::{analyse, verify_against, FaceAnalysis, MatchParams, Verification};

/// JPEG quality of the pictures kept as evidence.
const JPEG_QUALITY: u8 = 92;

/// The frames one session captured, as the pipeline's pictures.
#[derive(Debug, Clone)]
pub struct Captures {
    /// The selfie.
    pub selfie: Picture,
    /// The document front.
    pub front: Picture,
    /// The document back, if captured.
    pub back: Option<Picture>,
    /// The passed liveness attempt the selfie came from, as the liveness log numbers it.
    pub liveness_attempt: Option<i64>,
}

impl Captures {
    /// The captured camera frames (kept as JPEG in the log).
    pub fn from_frames(selfie: RgbImage, front: RgbImage, back: Option<RgbImage>) -> Captures {
        let picture = |pixels| Picture { pixels, format: PictureFormat::Jpeg };
        Captures {
            selfie: picture(selfie),
            front: picture(front),
            back: back.map(picture),
            liveness_attempt: None,
        }
    }
}

/// Why a kiosk verification has no verdict to show.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// The face models failed.
    #[error("inference failed: {0}")]
    Model(#[from] ModelError),
    /// A picture could not be encoded for the log.
    #[error("a picture could not be encoded: {0}")]
    Encode(#[from] EncodeError),
    /// The log refused the record.
    #[error("the verification could not be recorded: {0}")]
    Store(#[from] StoreError),
}

/// The selfie analysed, and encoded for the log, before the document is captured: what
/// [`verify_and_record`] would otherwise do first, after the document's capture.
#[derive(Debug, Clone)]
pub struct PreparedSelfie {
    picture: Picture,
    analysis: FaceAnalysis,
    jpeg: Option<Vec<u8>>,
}

impl PreparedSelfie {
    /// Analyses `pixels` as a selfie, and encodes it as the log keeps it when `for_log`.
    ///
    /// # Errors
    /// The models fail, or the picture cannot be encoded.
    pub fn prepare(
        detector: &mut dyn Detector,
        embedder: &mut dyn Embedder,
        pixels: RgbImage,
        for_log: bool,
    ) -> Result<PreparedSelfie, RecordingError> {
        let picture = Picture { pixels, format: PictureFormat::Jpeg };
        let analysis = analyse(detector, embedder, &picture, Role::Selfie)?;
        let jpeg = for_log.then(|| evidence_jpeg(&picture.pixels)).transpose()?;
        Ok(PreparedSelfie { picture, analysis, jpeg })
    }

    /// Whether this was prepared from exactly these pixels (only then may it stand for them).
    pub fn is_of(&self, pixels: &RgbImage) -> bool {
        self.picture.pixels == *pixels
    }
}

/// Verifies the captures and records the result when there is a store. A `prepared` selfie
/// stands in for the selfie's analysis and encoding when it was made from the captured
/// selfie's very pixels, and is ignored otherwise.
///
/// # Errors
/// [`RecordingError`]: nothing is recorded then, and no verdict may be shown.
pub fn verify_and_record(
    detector: &mut dyn Detector,
    embedder: &mut dyn Embedder,
    store: Option<&mut Store>,
    params: MatchParams,
    captures: &Captures,
    prepared: Option<&PreparedSelfie>,
) -> Result<Verification, RecordingError> {
    let started = Instant::now();
    let prepared = prepared.filter(|p| p.is_of(&captures.selfie.pixels));
    let for_log = store.is_some();
    // The pictures are encoded for the log on a second thread while the faces are sought.
    let (verification, jpegs) = std::thread::scope(|scope| {
        let encoding = for_log.then(|| scope.spawn(|| encode_captures(captures, prepared)));
        let verification = (|| {
            let src = match prepared {
                Some(p) => p.analysis.clone(),
                None => analyse(detector, embedder, &captures.selfie, Role::Selfie)?,
            };
            let (front, back) = (&captures.front, captures.back.as_ref());
            verify_against(detector, embedder, src, front, back, params)
        })();
        let jpegs = encoding
            .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .transpose();
        (verification, jpegs)
    });
    let mut verification = verification?;
    verification.refuse_document_copy();
    if let (Some(store), Some(jpegs)) = (store, jpegs?) {
        let selfie_prepared = prepared.is_some();
        record(store, &verification, params, captures, jpegs, selfie_prepared, started)?;
    }
    Ok(verification)
}

/// The captures as the log keeps them: selfie, front, back.
struct Jpegs {
    selfie: Vec<u8>,
    front: Vec<u8>,
    back: Option<Vec<u8>>,
}

fn encode_captures(
    captures: &Captures,
    prepared: Option<&PreparedSelfie>,
) -> Result<Jpegs, EncodeError> {
    let selfie = match prepared.and_then(|p| p.jpeg.clone()) {
        Some(jpeg) => jpeg,
        None => evidence_jpeg(&captures.selfie.pixels)?,
    };
    Ok(Jpegs {
        selfie,
        front: evidence_jpeg(&captures.front.pixels)?,
        back: captures.back.as_ref().map(|b| evidence_jpeg(&b.pixels)).transpose()?,
    })
}

/// The result screen for [`verify_and_record`]'s outcome; failures are logged for staff.
pub fn result_view(
    outcome: Result<Verification, RecordingError>,
    captures: Captures,
    params: MatchParams,
) -> ResultView {
    match outcome {
        Ok(v) => ResultView::of(
            &v,
            captures.selfie.pixels,
            captures.front.pixels,
            captures.back.map(|b| b.pixels),
        ),
        Err(e) => {
            log::error!("kiosk: {e}");
            let failure = match e {
                RecordingError::Model(_) => Failure::Models,
                RecordingError::Encode(_) | RecordingError::Store(_) => Failure::NotRecorded,
            };
            let (selfie, front) = (captures.selfie.pixels, captures.front.pixels);
            ResultView::failure(failure, selfie, front, params.threshold)
        }
    }
}

/// Encodes a frame as the JPEG kept in the log (quality 92), with the device's one encoder.
///
/// # Errors
/// The encoder's error (never a truncated picture stored as if it were whole).
pub fn evidence_jpeg(pixels: &RgbImage) -> Result<Vec<u8>, EncodeError> {
    encode_jpeg(pixels, JPEG_QUALITY)
}

fn record(
    store: &mut Store,
    verification: &Verification,
    params: MatchParams,
    captures: &Captures,
    jpegs: Jpegs,
    selfie_prepared: bool,
    started: Instant,
) -> Result<i64, RecordingError> {
    let save = |store: &Store, jpeg: &[u8], name: &str| -> Result<MediaId, RecordingError> {
        Ok(store.insert_media(None, name, "image/jpeg", jpeg)?)
    };
    let media = RequestMedia {
        src: Some(save(store, &jpegs.selfie, "kiosk-selfie.jpg")?),
        front: Some(save(store, &jpegs.front, "kiosk-front.jpg")?),
        back: jpegs.back.as_deref().map(|b| save(store, b, "kiosk-back.jpg")).transpose()?,
    };
    let request = MatchRequest {
        src: Some("kiosk camera".into()),
        target_front: Some("kiosk document".into()),
        target_back: captures.back.as_ref().map(|_| "kiosk document back".into()),
        doc_type: Some(params.doc_type.as_str().into()),
        threshold: Some(params.threshold.percent().into()),
    };
    let answer = MatchAnswer::Processed(Box::new(response(verification)));
    let elapsed = started.elapsed();
    let mut entry =
        new_verification(None, &request, params, &answer, Some(verification), media, elapsed);
    if selfie_prepared {
        // The log says what its time is: the wait after the document, the selfie done before.
        let mut noted = timings(elapsed);
        noted.insert("selfie_prepared".into(), true.into());
        entry.timings_json = serde_json::Value::Object(noted).to_string();
    }
    entry.liveness_attempt = captures.liveness_attempt;
    Ok(store.record_verification(&entry)?)
}

/// Records a liveness attempt in the log, a failed one with `frame` sealed as evidence (it
/// records no match decision), and how the kiosk filmed it (the camera's identity, the screen's
/// colours). Returns the attempt's id.
///
/// # Errors
/// The frame cannot be encoded, or the log refuses the record.
pub fn record_attempt(
    store: &mut Store,
    report: &Report,
    frame: Option<&RgbImage>,
    filming: Filming,
) -> Result<i64, RecordingError> {
    let media = match frame {
        Some(f) => Some(store.insert_media(
            None,
            "kiosk-liveness.jpg",
            "image/jpeg",
            &evidence_jpeg(f)?,
        )?),
        None => None,
    };
    Ok(store.record_attempt(&new_attempt(report, media, filming))?)
}
