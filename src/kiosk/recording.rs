//! A kiosk verification from captured frames to the log: verify, store the
//! pictures (JPEG, sealed) and the decision in one place, and say what the
//! screen may show. A verdict is shown only once it is recorded. Liveness attempts are
//! recorded here too, a failed one with its frame.

use std::time::Instant;

use image::RgbImage;

use super::result_view::{Failure, ResultView};
use crate::answer::response;
use crate::contract::{MatchAnswer, MatchRequest};
use crate::detection::Detector;
use crate::domain::{Picture, PictureFormat};
use crate::embedding::Embedder;
use crate::liveness::Report;
use crate::model_error::ModelError;
use crate::record::attempt::new_attempt;
use crate::record::{new_verification, RequestMedia};
use crate::store::{MediaId, Store, StoreError};
use crate::verify::{verify, MatchParams, Pictures, Verification};

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
    Encode(#[from] image::ImageError),
    /// The log refused the record.
    #[error("the verification could not be recorded: {0}")]
    Store(#[from] StoreError),
}

/// Verifies the captures and records the result when there is a store.
///
/// # Errors
/// [`RecordingError`]: nothing is recorded then, and no verdict may be shown.
pub fn verify_and_record(
    detector: &mut dyn Detector,
    embedder: &mut dyn Embedder,
    store: Option<&mut Store>,
    params: MatchParams,
    captures: &Captures,
) -> Result<Verification, RecordingError> {
    let started = Instant::now();
    let pictures =
        Pictures { src: &captures.selfie, front: &captures.front, back: captures.back.as_ref() };
    let mut verification = verify(detector, embedder, pictures, params)?;
    verification.refuse_document_copy();
    if let Some(store) = store {
        record(store, &verification, params, captures, started)?;
    }
    Ok(verification)
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

/// Encodes a frame as the JPEG kept in the log.
///
/// # Errors
/// The encoder's error (never a truncated picture stored as if it were whole).
pub fn encode_jpeg(pixels: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY)
        .encode_image(pixels)?;
    Ok(jpeg)
}

fn record(
    store: &mut Store,
    verification: &Verification,
    params: MatchParams,
    captures: &Captures,
    started: Instant,
) -> Result<i64, RecordingError> {
    let save = |store: &Store, picture: &Picture, name: &str| -> Result<MediaId, RecordingError> {
        Ok(store.insert_media(None, name, "image/jpeg", &encode_jpeg(&picture.pixels)?)?)
    };
    let media = RequestMedia {
        src: Some(save(store, &captures.selfie, "kiosk-selfie.jpg")?),
        front: Some(save(store, &captures.front, "kiosk-front.jpg")?),
        back: captures.back.as_ref().map(|b| save(store, b, "kiosk-back.jpg")).transpose()?,
    };
    let request = MatchRequest {
        src: Some("kiosk camera".into()),
        target_front: Some("kiosk document".into()),
        target_back: captures.back.as_ref().map(|_| "kiosk document back".into()),
        doc_type: Some(params.doc_type.as_str().into()),
        threshold: Some(params.threshold.percent().into()),
    };
    let answer = MatchAnswer::Processed(Box::new(response(verification)));
    let mut entry = new_verification(
        None,
        &request,
        params,
        &answer,
        Some(verification),
        media,
        started.elapsed(),
    );
    entry.liveness_attempt = captures.liveness_attempt;
    Ok(store.record_verification(&entry)?)
}

/// Records a liveness attempt in the log, a failed one with `frame` sealed as evidence (it
/// records no match decision). Returns the attempt's id.
///
/// # Errors
/// The frame cannot be encoded, or the log refuses the record.
pub fn record_attempt(
    store: &mut Store,
    report: &Report,
    frame: Option<&RgbImage>,
) -> Result<i64, RecordingError> {
    let media = match frame {
        Some(f) => {
            Some(store.insert_media(None, "kiosk-liveness.jpg", "image/jpeg", &encode_jpeg(f)?)?)
        }
        None => None,
    };
    Ok(store.record_attempt(&new_attempt(report, media))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unencodable_frame_is_an_error_not_an_empty_picture() {
        assert!(encode_jpeg(&RgbImage::new(70_000, 1)).is_err(), "JPEG sides end at 65535");
        let jpeg = encode_jpeg(&RgbImage::new(8, 8)).unwrap();
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    }
}
