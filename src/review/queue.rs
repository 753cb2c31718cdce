//! What needs a person, as rules over what the store holds: a device's problems (silent, its
//! anchors refused, its log behind what the hub kept) and the queue's and fleet's rows as the
//! pages show them, in the request's language. No I/O: the pages read the store and hand the
//! rows here.

use serde::Serialize;

use super::words::{label, tr};

use crate::store::review::{
    Closes, DecisionKept, DeviceAttemptView, FleetDevice, ItemKind, OpenDeviceRecord,
};

/// Something wrong with a device that a person must look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceProblem {
    /// Nothing came from it (no heartbeat, no synced record) for longer than the hub allows.
    Silent {
        /// When it was last heard from.
        since_ms: i64,
    },
    /// It sent anchors that did not follow what the hub kept: a record with another hash, an
    /// older one, or one too far ahead. Its log was rewritten, cut, or is not the one it was.
    AnchorsRefused {
        /// How many.
        count: i64,
        /// When the newest came.
        last_ms: i64,
    },
    /// Its heartbeat names a newest record older than records the hub keeps anchors of: its
    /// log went back (restored from a copy, or cut).
    Behind {
        /// The newest record it says it has.
        said: i64,
        /// The newest record the hub keeps.
        kept: i64,
        /// When the hub kept that record's anchor: the device has been behind since (its
        /// heartbeats move on; this does not until the device passes the record again).
        since_ms: i64,
    },
}

impl DeviceProblem {
    /// Since when the problem is seen: a decision older than that does not close it.
    pub fn since_ms(&self) -> i64 {
        match self {
            DeviceProblem::Silent { since_ms } => *since_ms,
            DeviceProblem::AnchorsRefused { last_ms, .. } => *last_ms,
            DeviceProblem::Behind { since_ms, .. } => *since_ms,
        }
    }

    /// The problem in words, for staff.
    pub fn describe(&self, now_ms: i64) -> String {
        match self {
            DeviceProblem::Silent { since_ms } => {
                tr(label!("silent for {}"), &[ago(now_ms, *since_ms)])
            }
            DeviceProblem::AnchorsRefused { count, .. } => tr(
                label!("{} anchor(s) refused: its log does not follow the records the hub kept"),
                &[count.to_string()],
            ),
            DeviceProblem::Behind { said, kept, .. } => tr(
                label!(
                    "its log ends at record {}, the hub kept anchors up to {}: its log went back"
                ),
                &[said.to_string(), kept.to_string()],
            ),
        }
    }
}

/// The problems of `device` at `now_ms`, when it counts as silent after `silent_after_ms`.
pub fn device_problems(
    device: &FleetDevice,
    now_ms: i64,
    silent_after_ms: i64,
) -> Vec<DeviceProblem> {
    let mut problems = Vec::new();
    let heard = device.last_seen_ms.max(device.last_anchor_ms);
    if let Some(heard) = heard.filter(|heard| now_ms.saturating_sub(*heard) > silent_after_ms) {
        problems.push(DeviceProblem::Silent { since_ms: heard });
    }
    if let (count @ 1.., Some(last_ms)) = (device.refusals, device.last_refusal_ms) {
        problems.push(DeviceProblem::AnchorsRefused { count, last_ms });
    }
    if let (Some(said), Some(kept), Some(since_ms)) =
        (device.last_record, device.newest_anchor, device.last_anchor_ms)
    {
        if said < kept {
            problems.push(DeviceProblem::Behind { said, kept, since_ms });
        }
    }
    problems
}

/// Whether a decision closed `device`'s problems (one made after the newest was seen).
pub fn device_closed(device: &FleetDevice, problems: &[DeviceProblem]) -> bool {
    let since = problems.iter().map(DeviceProblem::since_ms).max();
    Closes::item(device.last.as_ref(), since)
}

/// A row of the queue as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct QueueRow {
    /// `record`, `attempt` or `device`.
    pub kind: &'static str,
    /// The device.
    pub device: String,
    /// The record or attempt id (0: the device).
    pub id: i64,
    /// What it is, in a few words.
    pub title: String,
    /// Why it needs a person.
    pub why: String,
    /// When (UTC).
    pub when: String,
    /// Whether a picture goes with it (a failed attempt's frame).
    pub has_picture: bool,
    /// "escalated by NAME" when the newest decision escalated it.
    pub escalated: Option<String>,
}

/// The page's row of a device's open record.
pub fn record_row(r: &OpenDeviceRecord) -> QueueRow {
    let why = match (r.reason.as_str(), &r.remote_status, &r.refusal) {
        ("disagreement", Some(remote), _) => {
            tr(label!("device said {}, the remote {}"), &[r.device_status.clone(), remote.clone()])
        }
        (_, _, Some(refusal)) => {
            tr(label!("parked: the remote refused it ({})"), std::slice::from_ref(refusal))
        }
        (reason, _, _) => reason.to_string(),
    };
    QueueRow {
        kind: ItemKind::Record.as_str(),
        device: r.device_id.clone(),
        id: r.record,
        title: tr(label!("record {}"), &[r.record.to_string()]),
        why,
        when: utc(r.since_ms),
        has_picture: false,
        escalated: escalated(r.last.as_ref()),
    }
}

/// The page's row of a failed attempt.
pub fn attempt_row(a: &DeviceAttemptView) -> QueueRow {
    QueueRow {
        kind: ItemKind::Attempt.as_str(),
        device: a.device_id.clone(),
        id: a.attempt_id,
        title: tr(label!("liveness attempt {}"), &[a.attempt_id.to_string()]),
        why: tr(
            label!("failed: {} (asked: {})"),
            &[
                a.reason.clone().unwrap_or_else(|| tr(label!("no reason recorded"), &[])),
                a.challenge.clone(),
            ],
        ),
        when: utc(a.created_at_ms),
        has_picture: a.frame_media.is_some(),
        escalated: escalated(a.last.as_ref()),
    }
}

/// The page's row of a device with problems.
pub fn device_row(d: &FleetDevice, problems: &[DeviceProblem], now_ms: i64) -> QueueRow {
    QueueRow {
        kind: ItemKind::Device.as_str(),
        device: d.device_id.clone(),
        id: 0,
        title: tr(label!("device"), &[]),
        why: problems.iter().map(|p| p.describe(now_ms)).collect::<Vec<_>>().join("; "),
        when: utc(problems.iter().map(DeviceProblem::since_ms).max().unwrap_or(0)),
        has_picture: false,
        escalated: escalated(d.last.as_ref()),
    }
}

fn escalated(last: Option<&DecisionKept>) -> Option<String> {
    last.filter(|d| d.decision == crate::store::review::Decision::Escalate)
        .map(|d| tr(label!("escalated by {} ({})"), &[d.staff_name.clone(), utc(d.decided_at_ms)]))
}

/// A device as the fleet page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct FleetRow {
    /// The device.
    pub device: String,
    /// When it was last heard from (UTC), or "never".
    pub last_seen: String,
    /// Its software version.
    pub version: String,
    /// Records waiting, parked, disagreeing.
    pub queue: String,
    /// Free disk.
    pub free_disk: String,
    /// Its log against the hub's anchors, in words.
    pub chain: String,
    /// Whether anything is wrong (the row is marked).
    pub attention: bool,
}

/// The fleet page's row of `d`.
pub fn fleet_row(d: &FleetDevice, now_ms: i64, silent_after_ms: i64) -> FleetRow {
    let problems = device_problems(d, now_ms, silent_after_ms);
    let chain = problems
        .iter()
        .filter(|p| !matches!(p, DeviceProblem::Silent { .. }))
        .map(|p| p.describe(now_ms))
        .collect::<Vec<_>>();
    let chain = match (chain.is_empty(), d.newest_anchor) {
        (false, _) => chain.join("; "),
        (true, Some(kept)) => {
            tr(label!("follows its anchors (up to record {})"), &[kept.to_string()])
        }
        (true, None) => tr(label!("no anchor kept yet"), &[]),
    };
    let n = |v: Option<i64>| v.map_or("-".to_string(), |v| v.to_string());
    FleetRow {
        device: d.device_id.clone(),
        last_seen: d.last_seen_ms.map_or_else(
            || tr(label!("never"), &[]),
            |at| tr(label!("{} ({} ago)"), &[utc(at), ago(now_ms, at)]),
        ),
        version: d.software_version.clone().unwrap_or_else(|| "-".into()),
        queue: tr(
            label!("{} waiting, {} parked, {} disagreeing"),
            &[n(d.pending), n(d.parked), n(d.disagreements)],
        ),
        free_disk: d.free_disk_bytes.map_or("-".into(), |b| format!("{:.1} GB", b as f64 / 1e9)),
        chain,
        attention: !problems.is_empty(),
    }
}

/// `ms` since the epoch as UTC to the second.
pub fn utc(ms: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(at).to_string().replace('T', " ")
}

/// How long before `now_ms` `then_ms` was, roughly.
fn ago(now_ms: i64, then_ms: i64) -> String {
    let s = now_ms.saturating_sub(then_ms).max(0) / 1000;
    match s {
        0..=119 => tr(label!("{} s"), &[s.to_string()]),
        120..=7199 => tr(label!("{} min"), &[(s / 60).to_string()]),
        7200..=172_799 => hours((s / 3600).unsigned_abs()),
        _ => tr(label!("{} days"), &[(s / 86_400).to_string()]),
    }
}

/// A setting's length of `secs` seconds, in words: in the largest unit that divides it.
pub fn duration(secs: u64) -> String {
    match secs {
        s if s >= 172_800 && s % 86_400 == 0 => tr(label!("{} days"), &[(s / 86_400).to_string()]),
        s if s >= 3600 && s % 3600 == 0 => hours(s / 3600),
        s if s >= 60 && s % 60 == 0 => tr(label!("{} min"), &[(s / 60).to_string()]),
        s => tr(label!("{} s"), &[s.to_string()]),
    }
}

/// `h` hours, in words.
fn hours(h: u64) -> String {
    tr(label!("{} h"), &[h.to_string()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::review::Decision;

    const HOUR: i64 = 3_600_000;

    fn device() -> FleetDevice {
        FleetDevice {
            device_id: "DEV1".into(),
            last_seen_ms: Some(100 * HOUR),
            last_record: Some(40),
            newest_anchor: Some(40),
            last_anchor_ms: Some(99 * HOUR),
            ..FleetDevice::default()
        }
    }

    #[test]
    fn a_settings_length_is_said_in_its_largest_whole_unit() {
        assert_eq!(duration(24 * 3600), "24 h");
        assert_eq!(duration(3 * 86_400), "3 days");
        assert_eq!(duration(90 * 60), "90 min");
        assert_eq!(duration(45), "45 s");
    }

    #[test]
    fn a_device_that_heartbeats_and_follows_its_anchors_has_no_problem() {
        assert!(device_problems(&device(), 101 * HOUR, 24 * HOUR).is_empty());
    }

    #[test]
    fn silence_refused_anchors_and_a_log_gone_back_are_each_seen() {
        let now = 130 * HOUR;
        assert_eq!(
            device_problems(&device(), now, 24 * HOUR),
            vec![DeviceProblem::Silent { since_ms: 100 * HOUR }]
        );
        let refused = FleetDevice { refusals: 2, last_refusal_ms: Some(100 * HOUR), ..device() };
        assert!(device_problems(&refused, 101 * HOUR, 24 * HOUR)
            .contains(&DeviceProblem::AnchorsRefused { count: 2, last_ms: 100 * HOUR }));
        let behind = FleetDevice { last_record: Some(38), ..device() };
        assert_eq!(
            device_problems(&behind, 101 * HOUR, 24 * HOUR),
            vec![DeviceProblem::Behind { said: 38, kept: 40, since_ms: 99 * HOUR }]
        );
        // A device only ever heard through its synced records goes silent too.
        let no_heartbeat = FleetDevice { last_seen_ms: None, last_record: None, ..device() };
        assert_eq!(
            device_problems(&no_heartbeat, now, 24 * HOUR),
            vec![DeviceProblem::Silent { since_ms: 99 * HOUR }]
        );
    }

    #[test]
    fn a_decision_closes_a_device_until_its_problem_is_seen_again() {
        let silent = device();
        let problems = device_problems(&silent, 130 * HOUR, 24 * HOUR);
        let decided = |at| FleetDevice {
            last: Some(DecisionKept {
                decision: Decision::Confirm,
                staff_name: "a".into(),
                decided_at_ms: at,
                note: String::new(),
            }),
            ..silent.clone()
        };
        assert!(!device_closed(&silent, &problems));
        assert!(device_closed(&decided(129 * HOUR), &problems));
        assert!(!device_closed(&decided(99 * HOUR), &problems));
    }
}
