//! What a liveness attempt looks like: one JSON shape for `liveness check`'s answer and the
//! evidence the liveness log keeps ([`NewAttempt`]), so the two never disagree.

use serde::Serialize;

use crate::liveness::Report;
use crate::store::{MediaId, NewAttempt};

/// One attempt's outcome and evidence, as `liveness check` prints it and the log keeps it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptJson {
    /// Whether it passed.
    pub live: bool,
    /// The failure's code, null when live.
    pub reason: Option<&'static str>,
    /// The failure in words, null when live.
    pub message: Option<String>,
    /// The challenge asked, e.g. `left up right`.
    pub challenge: String,
    /// Each asked movement as it went.
    pub steps: Vec<StepJson>,
    /// The weakest parallax among the movements done, eye distances.
    pub parallax: f32,
    /// Frames seen.
    pub frames: usize,
    /// Frames with a face.
    pub face_frames: usize,
    /// 0-based index of the frame taken as the selfie, once passed.
    pub selfie_frame: Option<usize>,
    /// The lowest match percentage of a kept frame against the selfie.
    pub identity: Option<f64>,
}

/// One asked movement as it went.
#[derive(Debug, Serialize)]
pub struct StepJson {
    /// `left`, `right`, `up` or `down`.
    pub movement: &'static str,
    /// Whether it was seen.
    pub done: bool,
    /// The largest nose parallax toward the asked direction, eye distances.
    pub parallax: f32,
    /// The detector's landmark movement toward it, in its thresholds (1 = seen).
    pub landmarks: f32,
}

impl From<&Report> for AttemptJson {
    fn from(r: &Report) -> AttemptJson {
        let round = |v: f32| (v * 1000.0).round() / 1000.0;
        AttemptJson {
            live: r.live(),
            reason: r.outcome.err().map(|f| f.code()),
            message: r.outcome.err().map(|f| f.to_string()),
            challenge: r.challenge.to_string(),
            steps: r
                .steps
                .iter()
                .map(|s| StepJson {
                    movement: s.direction.name(),
                    done: s.done,
                    parallax: round(s.parallax),
                    landmarks: round(s.landmarks),
                })
                .collect(),
            parallax: round(r.parallax),
            frames: r.frames,
            face_frames: r.face_frames,
            selfie_frame: r.selfie_frame,
            identity: r.identity_percent.map(|p| (p * 10.0).round() / 10.0),
        }
    }
}

/// The liveness log's entry for `report`; `frame_media` is a failed attempt's kept frame.
pub fn new_attempt(report: &Report, frame_media: Option<MediaId>) -> NewAttempt {
    let evidence = AttemptJson::from(report);
    NewAttempt {
        live: evidence.live,
        reason: evidence.reason.map(str::to_string),
        challenge: evidence.challenge.clone(),
        evidence_json: serde_json::to_string(&evidence).unwrap_or_default(),
        frame_media,
    }
}
