//! What a liveness attempt looks like: one JSON shape for `liveness check`'s answer and the
//! evidence the liveness log keeps ([`NewAttempt`]), so the two never disagree; and a logged
//! attempt on its way to a hub and back ([`device_attempt`], [`chained`]).

use serde::Serialize;

use crate::contract::DeviceAttempt;
use crate::liveness::Report;
use crate::store::{AttemptRecord, ChainedAttempt, MediaId, NewAttempt};

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
    /// The screen's colours and the face's answer, when the attempt had them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flash: Option<FlashJson>,
    /// What filmed it: the kiosk camera's identity (`/dev/video0 "HD Webcam C270" (uvcvideo,
    /// usb 046d:0825, serial ...)`) or a picture folder; absent for a recording checked later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub camera: Option<String>,
    /// Why the screen showed no colours during a kiosk attempt: `off_for_this_customer`
    /// (staff turned them off) or `off_on_this_kiosk` (`kiosk --screen-colours off`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screen_colours_off: Option<&'static str>,
}

/// How the kiosk filmed an attempt, for its evidence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filming {
    /// What filmed it: the camera's identity, or a picture folder.
    pub camera: Option<String>,
    /// Why the screen showed no colours, when it did not ([`AttemptJson::screen_colours_off`]).
    pub screen_colours_off: Option<&'static str>,
}

/// The screen's colours and how the face answered them ([`crate::liveness::flash`]).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlashJson {
    /// The colours and their holds, e.g. `r0.6 g0.5 b0.8`.
    pub sequence: String,
    /// `answered`, `too_short`, `too_faint` or `not_followed`.
    pub verdict: &'static str,
    /// Frames inside the sequence.
    pub samples: usize,
    /// The camera's latency found, seconds.
    pub latency: f32,
    /// The face's chromaticity against the screen's at that latency (-1 to 1).
    pub correlation: f32,
    /// The face's change of chromaticity per unit of the screen's.
    pub gain: f32,
    /// How much less light the face's sides, and its top and bottom, return than its middle
    /// (evidence only, not decided on).
    pub curvature: [f32; 2],
    /// True when the colours were too faint to tell anything and the movement test alone
    /// decided (`kiosk --faint-colours movement-only`; otherwise such an attempt is refused).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub movement_only: bool,
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
            flash: r.flash.as_ref().map(|(sequence, f)| FlashJson {
                sequence: sequence.to_string(),
                verdict: f.verdict.code(),
                samples: f.samples,
                latency: round(f.latency),
                correlation: round(f.correlation),
                gain: (f.gain * 10_000.0).round() / 10_000.0,
                curvature: f.curvature.map(round),
                movement_only: r.movement_only,
            }),
            camera: None,
            screen_colours_off: None,
        }
    }
}

/// The liveness log's entry for `report`; `frame_media` is a failed attempt's kept frame,
/// `filming` how the kiosk filmed it.
pub fn new_attempt(report: &Report, frame_media: Option<MediaId>, filming: Filming) -> NewAttempt {
    let Filming { camera, screen_colours_off } = filming;
    let evidence = AttemptJson { camera, screen_colours_off, ..AttemptJson::from(report) };
    NewAttempt {
        live: evidence.live,
        reason: evidence.reason.map(str::to_string),
        challenge: evidence.challenge.clone(),
        evidence_json: serde_json::to_string(&evidence).unwrap_or_default(),
        frame_media,
    }
}

/// A logged attempt as a device sends it to its hub, its frame named by `frame_at_hub` (the
/// hub's media id). Evidence larger than a hub keeps is sent as a note of its size.
pub fn device_attempt(logged: &ChainedAttempt, frame_at_hub: Option<String>) -> DeviceAttempt {
    let a = &logged.attempt;
    // Measured as sent, inside a JSON string: its quotes and backslashes escaped.
    let escaped = serde_json::to_string(&a.evidence_json).map_or(usize::MAX, |s| s.len());
    let evidence_json = if escaped <= DeviceAttempt::MAX_EVIDENCE_BYTES {
        a.evidence_json.clone()
    } else {
        serde_json::json!({ "omitted": format!("{} bytes of evidence, kept on the device", a.evidence_json.len()) })
            .to_string()
    };
    DeviceAttempt {
        id: a.id,
        created_at: a.created_at,
        live: a.live,
        reason: a.reason.clone(),
        challenge: a.challenge.clone(),
        evidence_json,
        frame_media: frame_at_hub,
        verification: a.verification,
        prev_hash: logged.prev_hash.clone(),
        row_hash: logged.row_hash.clone(),
    }
}

/// An attempt `device` sent, as a hub keeps it.
pub fn chained(device: &str, sent: DeviceAttempt) -> ChainedAttempt {
    ChainedAttempt {
        attempt: AttemptRecord {
            id: sent.id,
            created_at: sent.created_at,
            device_id: device.to_string(),
            live: sent.live,
            reason: sent.reason,
            challenge: sent.challenge,
            evidence_json: sent.evidence_json,
            frame_media: sent.frame_media,
            verification: sent.verification,
        },
        prev_hash: sent.prev_hash,
        row_hash: sent.row_hash,
    }
}
