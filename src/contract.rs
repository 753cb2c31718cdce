//! Wire types of the Face Match API contract (`../shared/spec/face-match-api.txt`):
//! the match request, both response shapes, and the error body with its codes.
//! Field names follow the contract exactly; only serde lives here, no rules.

use serde::{Deserialize, Serialize};

/// `POST /api/v2/public/facex/match` body as it arrives; fields are checked by
/// [`crate::answer::params`] so that every problem gets a 4001 with details.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MatchRequest {
    /// Media id (or, on the command line, path) of the selfie.
    pub src: Option<String>,
    /// Media id of the document front.
    pub target_front: Option<String>,
    /// Media id of the document back, if any.
    pub target_back: Option<String>,
    /// `UIDAI`, `DL`, `PAN`, `VOTER`, `PASSPORT` or `GOV`.
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    /// Match threshold, a number from 1 to 100 (kept raw to report `"abc"` clearly).
    pub threshold: Option<serde_json::Value>,
}

/// The outcome names of the contract's `status` field.
/// The default is the conservative one, not matched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MatchStatus {
    /// A face in a document side reached the threshold.
    FaceMatched,
    /// Processed, but no side reached the threshold (or a picture had no usable face).
    #[default]
    FaceNotMatched,
    /// A picture is not a JPEG or PNG, or cannot be decoded.
    InvalidFileFormat,
}

impl MatchStatus {
    /// The contract's spelling (`FACE_MATCHED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            MatchStatus::FaceMatched => "FACE_MATCHED",
            MatchStatus::FaceNotMatched => "FACE_NOT_MATCHED",
            MatchStatus::InvalidFileFormat => "INVALID_FILE_FORMAT",
        }
    }

    /// The status for the contract's spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<MatchStatus> {
        [MatchStatus::FaceMatched, MatchStatus::FaceNotMatched, MatchStatus::InvalidFileFormat]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// The verdict part of any remote match answer: what the sync records beside ours.
/// A status outside the contract's three fails to parse, so it is never taken as a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct MatchVerdict {
    /// True when matched.
    pub valid: bool,
    /// The outcome.
    pub status: MatchStatus,
}

/// A face box and its confidence as the contract reports it: ratios of the
/// picture's width/height, confidence in percent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxReport {
    /// Box height / picture height.
    pub height: f64,
    /// Box width / picture width.
    pub width: f64,
    /// Left edge / picture width.
    pub left: f64,
    /// Top edge / picture height.
    pub top: f64,
    /// Detector confidence, percent.
    pub confidence: f64,
}

/// The HTTP 200 answer to a match request that was processed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchResponse {
    /// True when the front or the back matched at the threshold.
    pub valid: bool,
    /// Outcome.
    pub status: MatchStatus,
    /// Why it did not match (null when it matched).
    pub message: Option<String>,
    /// A usable face was found in the selfie.
    pub src_valid: bool,
    /// A usable face was found in the document front.
    pub target_front_valid: bool,
    /// A usable face was found in the document back.
    pub target_back_valid: bool,
    /// Selfie box height ratio.
    pub src_height: Option<f64>,
    /// Selfie box width ratio.
    pub src_width: Option<f64>,
    /// Selfie box left ratio.
    pub src_left: Option<f64>,
    /// Selfie box top ratio.
    pub src_top: Option<f64>,
    /// Selfie face confidence, percent.
    pub src_confidence: Option<f64>,
    /// Front box height ratio.
    pub target_front_height: Option<f64>,
    /// Front box width ratio.
    pub target_front_width: Option<f64>,
    /// Front box left ratio.
    pub target_front_left: Option<f64>,
    /// Front box top ratio.
    pub target_front_top: Option<f64>,
    /// Front face confidence, percent.
    pub target_front_confidence: Option<f64>,
    /// Front match percent; populated only when it reached the threshold (contract).
    pub target_front_match: Option<f64>,
    /// Back box height ratio.
    pub target_back_height: Option<f64>,
    /// Back box width ratio.
    pub target_back_width: Option<f64>,
    /// Back box left ratio.
    pub target_back_left: Option<f64>,
    /// Back box top ratio.
    pub target_back_top: Option<f64>,
    /// Back face confidence, percent.
    pub target_back_confidence: Option<f64>,
    /// Back match percent; populated only when it reached the threshold (contract).
    pub target_back_match: Option<f64>,
}

impl MatchResponse {
    /// A response with the verdict and validity flags set and every box field null.
    pub fn empty(valid: bool, status: MatchStatus, message: Option<String>) -> MatchResponse {
        MatchResponse {
            valid,
            status,
            message,
            src_valid: false,
            target_front_valid: false,
            target_back_valid: false,
            src_height: None,
            src_width: None,
            src_left: None,
            src_top: None,
            src_confidence: None,
            target_front_height: None,
            target_front_width: None,
            target_front_left: None,
            target_front_top: None,
            target_front_confidence: None,
            target_front_match: None,
            target_back_height: None,
            target_back_width: None,
            target_back_left: None,
            target_back_top: None,
            target_back_confidence: None,
            target_back_match: None,
        }
    }

    /// Fills the selfie's box fields.
    pub fn set_src_box(&mut self, b: BoxReport) {
        self.src_height = Some(b.height);
        self.src_width = Some(b.width);
        self.src_left = Some(b.left);
        self.src_top = Some(b.top);
        self.src_confidence = Some(b.confidence);
    }

    /// Fills the document front's box fields.
    pub fn set_front_box(&mut self, b: BoxReport) {
        self.target_front_height = Some(b.height);
        self.target_front_width = Some(b.width);
        self.target_front_left = Some(b.left);
        self.target_front_top = Some(b.top);
        self.target_front_confidence = Some(b.confidence);
    }

    /// Fills the document back's box fields.
    pub fn set_back_box(&mut self, b: BoxReport) {
        self.target_back_height = Some(b.height);
        self.target_back_width = Some(b.width);
        self.target_back_left = Some(b.left);
        self.target_back_top = Some(b.top);
        self.target_back_confidence = Some(b.confidence);
    }
}

/// The contract's short answer when a picture is not a usable JPEG/PNG:
/// `{"valid": false, "srcValid": ..., "status": "INVALID_FILE_FORMAT", "message": ...}`.
/// The target flags are added (our extension) when the bad file was a document side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvalidFileResponse {
    /// Always false.
    pub valid: bool,
    /// False when the selfie is the bad file.
    pub src_valid: bool,
    /// Present and false when the document front is the bad file.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target_front_valid: Option<bool>,
    /// Present and false when the document back is the bad file.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target_back_valid: Option<bool>,
    /// Always `INVALID_FILE_FORMAT`.
    pub status: MatchStatus,
    /// `Image incompatible file type` or a decoding problem.
    pub message: String,
}

/// Any HTTP 200 answer to a match request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MatchAnswer {
    /// The request was processed: matched or not.
    Processed(Box<MatchResponse>),
    /// A picture was not a usable JPEG/PNG.
    InvalidFile(InvalidFileResponse),
}

/// A device's newest synced record as a facematch remote keeps it (our extension of the
/// contract, for `log verify --remote`): sent by `sync` in the `X-Facematch-Anchor` header
/// as `DEVICE:RECORD:HASH`, answered by `GET /api/v2/facematch/anchors/{device}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Anchor {
    /// The device's id.
    pub device_id: String,
    /// Its record id.
    pub record_id: i64,
    /// That record's chain hash.
    pub hash: String,
}

impl Anchor {
    /// The header name.
    pub const HEADER: &'static str = "x-facematch-anchor";
    /// The header a remote answers with when it kept the anchor: the record id.
    pub const KEPT_HEADER: &'static str = "x-facematch-anchored";

    /// The header value: `DEVICE:RECORD:HASH`.
    pub fn header_value(&self) -> String {
        format!("{}:{}:{}", self.device_id, self.record_id, self.hash)
    }

    /// Reads a header value; `None` unless it is `DEVICE:RECORD:HASH` with a 64-digit hex hash.
    pub fn parse_header(value: &str) -> Option<Anchor> {
        let mut parts = value.trim().split(':');
        let (device_id, record, hash) = (parts.next()?, parts.next()?, parts.next()?);
        let valid_device = !device_id.is_empty()
            && device_id.len() <= 64
            && device_id.chars().all(|c| c.is_ascii_alphanumeric());
        let valid_hash = hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit());
        let record_id: i64 = record.parse().ok().filter(|id| *id > 0)?;
        (parts.next().is_none() && valid_device && valid_hash).then(|| Anchor {
            device_id: device_id.into(),
            record_id,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

/// `GET /api/v2/facematch/anchors/{device}[?after=N]`'s answer: the newest anchor kept (or
/// `null`), and a page of every anchor kept after record `after`, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorAnswer {
    /// The newest record of the device the server keeps.
    pub anchor: Option<Anchor>,
    /// The anchors kept after the record asked for, oldest first (one page; ask again after
    /// the last one for more). Absent from servers that keep only the newest.
    #[serde(default)]
    pub kept: Vec<Anchor>,
}

/// `GET /api/v2/facematch/hub`'s answer (our extension): the remote is a facematch hub, which
/// takes the fleet's heartbeats. A plain Face Match API answers 404, and `sync` sends it none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubInfo {
    /// Always `facematch`.
    pub hub: String,
    /// The hub's software version.
    pub version: String,
}

/// A model a device runs, by its pinned sha256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelPin {
    /// The model file's name.
    pub name: String,
    /// Its sha256, lowercase hex.
    pub sha256: String,
}

/// A device's heartbeat to a facematch hub (our extension), sent by `sync` after each run:
/// `POST /api/v2/facematch/devices/{device}/heartbeat`. What it runs and how its queue stands,
/// so the bank sees a device that falls behind or goes silent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Heartbeat {
    /// The device's facematch version.
    pub software_version: String,
    /// The models its build pins.
    pub models: Vec<ModelPin>,
    /// The newest record of its log.
    pub last_record: Option<i64>,
    /// Records waiting to be synced.
    pub pending: u64,
    /// Records the remote refused for good.
    pub parked: u64,
    /// Records whose remote verdict differs from the device's.
    pub disagreements: u64,
    /// Free space where its log is, in bytes.
    pub free_disk_bytes: Option<u64>,
    /// The device's clock when it sent this (ms since the epoch).
    pub sent_at_ms: i64,
    /// Its records that need a person, newest first, at most [`Heartbeat::MAX_OPEN_RECORDS`]:
    /// parked ones and those the remote decided otherwise (absent from older devices).
    #[serde(default)]
    pub open_records: Vec<OpenRecord>,
}

/// Why a device's record needs a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpenReason {
    /// The remote refused it for good: it waits on the device, parked.
    Parked,
    /// The remote decided it otherwise than the device did.
    Disagreement,
}

/// A record of a device's log that needs a person, as its heartbeat tells the hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenRecord {
    /// Its id in the device's log.
    pub record: i64,
    /// Why it needs a person.
    pub reason: OpenReason,
    /// The device's decision.
    pub device_status: MatchStatus,
    /// The remote's decision (a disagreement's).
    pub remote_status: Option<MatchStatus>,
    /// What the remote said when it refused it (a parked record's).
    pub refusal: Option<String>,
    /// When its outbox entry last changed (ms since the epoch, the device's clock).
    pub since_ms: i64,
}

impl OpenRecord {
    /// The longest refusal a heartbeat carries (a device cuts a longer one).
    pub const MAX_REFUSAL_BYTES: usize = 200;
}

impl Heartbeat {
    /// The most open records one heartbeat carries (the newest; the counts say how many in all):
    /// with their refusals, the heartbeat stays within the 16 KiB that hubs before open records
    /// read.
    pub const MAX_OPEN_RECORDS: usize = 20;

    /// Whether a hub should keep it: short strings, a bounded list of models and of open
    /// records, counts a database's signed 64-bit integers hold.
    pub fn is_reasonable(&self) -> bool {
        let short = |s: &str| !s.is_empty() && s.len() <= 100 && !s.chars().any(char::is_control);
        let fits = |n: u64| i64::try_from(n).is_ok();
        short(&self.software_version)
            && self.models.len() <= 32
            && self.models.iter().all(|m| short(&m.name) && short(&m.sha256))
            && [self.pending, self.parked, self.disagreements].into_iter().all(fits)
            && self.free_disk_bytes.is_none_or(fits)
            && self.open_records.len() <= Self::MAX_OPEN_RECORDS
            && self.open_records.iter().all(|r| {
                r.refusal.as_ref().is_none_or(|s| s.len() <= OpenRecord::MAX_REFUSAL_BYTES)
                    && is_time(r.since_ms)
            })
    }
}

/// Whether `ms` (since the epoch) is a time a database can show: from 1970 to the year 9999.
fn is_time(ms: i64) -> bool {
    (0..=253_402_300_799_999).contains(&ms)
}

/// A liveness attempt of a device's log, sent to its hub (our extension):
/// `POST /api/v2/facematch/devices/{device}/attempts` takes them in the order of the device's
/// liveness chain, each naming the hash of the one before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceAttempt {
    /// Its id in the device's liveness chain.
    pub id: i64,
    /// When it was made (ms since the epoch, the device's clock).
    pub created_at: i64,
    /// Whether it passed.
    pub live: bool,
    /// Why it failed.
    pub reason: Option<String>,
    /// The challenge asked.
    pub challenge: String,
    /// Its evidence, as the device logged it (JSON).
    pub evidence_json: String,
    /// A failed attempt's frame, uploaded to the hub first: its media id there.
    pub frame_media: Option<String>,
    /// The device's verification that used its selfie.
    pub verification: Option<i64>,
    /// The hash of the attempt before it in the device's chain (64 zeros for the first).
    pub prev_hash: String,
    /// Its hash in the device's chain.
    pub row_hash: String,
}

impl DeviceAttempt {
    /// Whether a hub should keep it: bounded strings, hashes of 64 hex digits.
    pub fn is_reasonable(&self) -> bool {
        let hash = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        self.id > 0
            && is_time(self.created_at)
            && self.reason.as_ref().is_none_or(|r| r.len() <= 200)
            && self.challenge.len() <= 200
            && self.evidence_json.len() <= DeviceAttempt::MAX_EVIDENCE_BYTES
            && self.frame_media.as_ref().is_none_or(|m| m.len() <= 100)
            && hash(&self.row_hash)
            && hash(&self.prev_hash)
    }

    /// The largest evidence a hub keeps (a device sends a note in place of evidence whose JSON
    /// string is larger).
    pub const MAX_EVIDENCE_BYTES: usize = 16 * 1024;
}

/// Attempts sent to a hub in one call, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptBatch {
    /// The attempts.
    pub attempts: Vec<DeviceAttempt>,
}

/// What a hub answers to attempts sent: how many it newly kept, and the newest it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptsAnswer {
    /// Attempts kept by this call (those it held already are not counted).
    pub kept: u64,
    /// The newest of the device's attempts the hub holds.
    pub last_attempt: Option<i64>,
}

/// A hub's answer to a heartbeat: kept, and how far the device's clock is from the hub's
/// (hub minus device, the network's delay included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatAnswer {
    /// Kept.
    pub kept: bool,
    /// The hub's clock minus the device's, in ms.
    pub clock_offset_ms: i64,
    /// Whether the hub takes the device's liveness attempts (false from hubs that do not).
    #[serde(default)]
    pub takes_attempts: bool,
    /// The newest of the device's liveness attempts the hub holds: the device sends those
    /// after it.
    #[serde(default)]
    pub last_attempt: Option<i64>,
}

/// The media upload's answer: `{"_id": "MX…", "originalName": "selfie.jpg"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaUploaded {
    /// The new media id.
    #[serde(rename = "_id")]
    pub id: String,
    /// The file name the client sent.
    #[serde(rename = "originalName")]
    pub original_name: String,
}

/// The contract's error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 400 / 4001: malformed data or missing required parameter values.
    Malformed,
    /// 400 / 4005: the contract's "low credits" code, which the media upload
    /// also uses for a file over the size limit.
    OverLimit,
    /// 400 / 4007: incompatible file type (media upload).
    IncompatibleFileType,
    /// 401 / 4016: invalid client authorization.
    InvalidAuthorization,
    /// 403 / 4031: unauthorized access.
    Unauthorized,
    /// 429 / 4291: account rate limit.
    AccountRateLimit,
    /// 429 / 4292: API rate limit.
    ApiRateLimit,
    /// 429 / 4293: account daily limit.
    AccountDailyLimit,
    /// 429 / 4294: API daily limit.
    ApiDailyLimit,
    /// 500 / 5001: request could not be processed.
    Internal,
}

impl ErrorCode {
    /// The numeric code of the error body.
    pub fn code(self) -> u32 {
        match self {
            ErrorCode::Malformed => 4001,
            ErrorCode::OverLimit => 4005,
            ErrorCode::IncompatibleFileType => 4007,
            ErrorCode::InvalidAuthorization => 4016,
            ErrorCode::Unauthorized => 4031,
            ErrorCode::AccountRateLimit => 4291,
            ErrorCode::ApiRateLimit => 4292,
            ErrorCode::AccountDailyLimit => 4293,
            ErrorCode::ApiDailyLimit => 4294,
            ErrorCode::Internal => 5001,
        }
    }

    /// The HTTP status that goes with the code.
    pub fn http_status(self) -> u16 {
        match self.code() / 10 {
            400 => 400,
            401 => 401,
            403 => 403,
            429 => 429,
            _ => 500,
        }
    }

    /// The contract's fixed message for the code.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "Malformed data or missing required parameter values",
            ErrorCode::OverLimit => "Image size over the limit",
            ErrorCode::IncompatibleFileType => "Image incompatible file type",
            ErrorCode::InvalidAuthorization => "Invalid client authorization",
            ErrorCode::Unauthorized => "Unauthorized access",
            ErrorCode::AccountRateLimit => "Maximum account rate limit exceeded",
            ErrorCode::ApiRateLimit => "Maximum API rate limit exceeded",
            ErrorCode::AccountDailyLimit => "Maximum account daily limit exceeded",
            ErrorCode::ApiDailyLimit => "Maximum API daily limit exceeded",
            ErrorCode::Internal => "Request could not be processed",
        }
    }
}

/// The contract's error body: `{"code": 4001, "message": "...", "details": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Numeric error code.
    pub code: u32,
    /// The contract's message for the code.
    pub message: String,
    /// What exactly was wrong, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub details: Option<String>,
}

impl ErrorBody {
    /// The body for `code` with an explanation.
    pub fn new(code: ErrorCode, details: impl Into<String>) -> ErrorBody {
        ErrorBody {
            code: code.code(),
            message: code.message().to_string(),
            details: Some(details.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_keys_are_the_contracts() {
        let mut r = MatchResponse::empty(true, MatchStatus::FaceMatched, None);
        r.set_front_box(BoxReport {
            height: 0.5,
            width: 0.25,
            left: 0.1,
            top: 0.2,
            confidence: 99.0,
        });
        let v = serde_json::to_value(&r).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        for key in [
            "valid",
            "status",
            "message",
            "srcValid",
            "targetFrontValid",
            "targetBackValid",
            "srcHeight",
            "srcWidth",
            "srcLeft",
            "srcTop",
            "srcConfidence",
            "targetFrontHeight",
            "targetFrontWidth",
            "targetFrontLeft",
            "targetFrontTop",
            "targetFrontConfidence",
            "targetFrontMatch",
            "targetBackHeight",
            "targetBackWidth",
            "targetBackLeft",
            "targetBackTop",
            "targetBackConfidence",
            "targetBackMatch",
        ] {
            assert!(keys.contains(&key), "missing {key}");
        }
        assert_eq!(keys.len(), 23);
        assert_eq!(v["status"], "FACE_MATCHED");
        assert_eq!(v["targetFrontWidth"], 0.25);
        assert!(v["targetBackMatch"].is_null());
    }

    #[test]
    fn invalid_file_answer_has_the_short_shape() {
        let r = InvalidFileResponse {
            valid: false,
            src_valid: false,
            target_front_valid: None,
            target_back_valid: None,
            status: MatchStatus::InvalidFileFormat,
            message: "Image incompatible file type".into(),
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"valid": false, "srcValid": false, "status": "INVALID_FILE_FORMAT",
                "message": "Image incompatible file type"})
        );
    }

    #[test]
    fn anchors_travel_in_one_header() {
        let a = Anchor { device_id: "DEVabc123".into(), record_id: 12, hash: "ab".repeat(32) };
        assert_eq!(Anchor::parse_header(&a.header_value()), Some(a));
        for bad in ["", "DEV:1", "DEV:0:00", "DEV:x:00", "DEV 1:1:00", "D:1:zz", "D:1:00:extra"] {
            assert_eq!(Anchor::parse_header(bad), None, "{bad}");
        }
    }

    #[test]
    fn statuses_keep_the_contracts_spelling() {
        for s in
            [MatchStatus::FaceMatched, MatchStatus::FaceNotMatched, MatchStatus::InvalidFileFormat]
        {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(MatchStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(MatchStatus::parse("MAYBE"), None);
        let verdict: Result<MatchVerdict, _> =
            serde_json::from_str(r#"{"valid": true, "status": "MAYBE"}"#);
        assert!(verdict.is_err(), "an unknown status is not a verdict");
    }

    #[test]
    fn error_codes_map_to_http_statuses() {
        let check = |code: ErrorCode, n: u32, status: u16| {
            assert_eq!((code.code(), code.http_status()), (n, status), "{code:?}");
        };
        check(ErrorCode::Malformed, 4001, 400);
        check(ErrorCode::OverLimit, 4005, 400);
        check(ErrorCode::IncompatibleFileType, 4007, 400);
        check(ErrorCode::InvalidAuthorization, 4016, 401);
        check(ErrorCode::Unauthorized, 4031, 403);
        check(ErrorCode::ApiRateLimit, 4292, 429);
        check(ErrorCode::ApiDailyLimit, 4294, 429);
        check(ErrorCode::Internal, 5001, 500);
    }
}
