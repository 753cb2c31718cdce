//! What a decision looks like in the device's log: maps a request, its answer
//! and the pipeline's [`Verification`] onto the store's [`NewVerification`]; `attempt`
//! does the same for a liveness attempt.

pub mod attempt;

use std::time::Duration;

use crate::contract::{MatchAnswer, MatchRequest, MatchStatus};
use crate::inference::models;
use crate::store::{MediaId, NewVerification, TokenId};
use crate::verify::{MatchParams, Verification};

/// The media ids a request's pictures were stored under.
#[derive(Debug, Clone, Default)]
pub struct RequestMedia {
    /// Selfie.
    pub src: Option<MediaId>,
    /// Document front.
    pub front: Option<MediaId>,
    /// Document back.
    pub back: Option<MediaId>,
}

/// The log's timings of one decision: its total time in milliseconds. A caller that knows more
/// (the kiosk, whose selfie was done before the document) adds its own keys beside it.
pub fn timings(elapsed: Duration) -> serde_json::Map<String, serde_json::Value> {
    let mut timings = serde_json::Map::new();
    timings.insert("total_ms".into(), (elapsed.as_secs_f64() * 1e3).into());
    timings
}

/// The log entry for one answered request.
pub fn new_verification(
    token: Option<TokenId>,
    request: &MatchRequest,
    params: MatchParams,
    answer: &MatchAnswer,
    verification: Option<&Verification>,
    media: RequestMedia,
    elapsed: Duration,
) -> NewVerification {
    let (status, matched) = match answer {
        MatchAnswer::Processed(r) => (r.status, r.valid),
        MatchAnswer::InvalidFile(_) => (MatchStatus::InvalidFileFormat, false),
    };
    let models: serde_json::Map<String, serde_json::Value> =
        models::ALL.iter().map(|m| (m.name.to_string(), m.sha256.into())).collect();
    let embeddings = verification
        .map(|v| {
            [Some(&v.src), Some(&v.front), v.back.as_ref()]
                .into_iter()
                .flatten()
                .filter_map(|a| a.embedding.as_ref().map(|e| e.0.clone()))
                .collect()
        })
        .unwrap_or_default();
    NewVerification {
        token,
        src_media: media.src,
        front_media: media.front,
        back_media: media.back,
        doc_type: params.doc_type,
        threshold: params.threshold.percent(),
        status,
        matched,
        front_percent: verification.and_then(|v| v.front_score).map(|s| s.percent),
        back_percent: verification.and_then(|v| v.back_score).map(|s| s.percent),
        request_json: serde_json::to_string(request).unwrap_or_default(),
        response_json: serde_json::to_string(answer).unwrap_or_default(),
        models_json: serde_json::Value::Object(models).to_string(),
        timings_json: serde_json::Value::Object(timings(elapsed)).to_string(),
        embeddings,
        idempotency_key: None,
        liveness_attempt: None,
    }
}
