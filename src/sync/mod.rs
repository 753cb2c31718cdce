//! Offline first, synced later: pushes the device's verifications to the remote
//! Face Match API and records the remote verdict beside the local one.
//!
//! For each pending outbox item: upload its pictures (once: the remote media id
//! is stored as soon as it is known), ask the remote `facex/match` with the same
//! type and threshold, then mark the item synced with the remote's answer — a
//! different verdict is flagged as a disagreement. Every call has an idempotency
//! key derived from the device and record ids, so a retry after a crash is
//! answered by the remote instead of repeated: at-least-once on the wire,
//! exactly-once in both logs.
//!
//! Faults: transient ones (no connection, timeout, 5xx, 429) are retried with
//! exponential backoff and jitter, honouring `Retry-After`; a permanent refusal
//! parks the item with its reason and the queue goes on; 401/403 and a refused
//! certificate stop the run; a failure of the local store is reported as the store's,
//! never as the remote's. Remote media ids are kept per remote, and a remote that says
//! it does not know one gets the picture again, once.
//! The network stays behind the [`Remote`] trait; no UI here.

pub mod attempts;
pub mod heartbeat;
pub mod remote;

use std::time::{Duration, Instant};

pub use remote::{HttpRemote, Remote, RemoteAnswer, RemoteError, RemoteSetupError, Transport};

use crate::contract::{Anchor, MatchRequest};
use crate::store::{OutboxItem, Store, StoreError};

/// Retry and pacing settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Attempts per remote call before the run gives up on the remote for now.
    pub max_attempts: u32,
    /// First backoff delay.
    pub base_delay: Duration,
    /// Longest backoff delay (and longest `Retry-After` honoured).
    pub max_delay: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SyncReport {
    /// Items marked synced.
    pub synced: usize,
    /// Items parked (refused for good).
    pub parked: usize,
    /// Synced items whose remote verdict differs from ours.
    pub disagreements: usize,
    /// Pictures uploaded.
    pub uploads: usize,
    /// HTTP requests made, retries included.
    pub requests: usize,
    /// Retries after transient failures.
    pub retries: usize,
    /// Records synced whose anchor the remote did not keep (a facematch hub keeps each one it
    /// can check: several in a row mean the device's anchors were taken by someone else).
    pub unanchored: usize,
    /// Items still pending when the run ended.
    pub pending_left: i64,
    /// Liveness attempts a facematch hub newly kept after the run (sent with its heartbeat).
    pub liveness_attempts_sent: usize,
    /// Wall time of the run.
    pub elapsed_ms: u128,
    /// Why the run ended early (the remote stayed unreachable), if it did.
    pub stopped: Option<String>,
}

/// Why a run had to stop with an error.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The remote refused the token: nothing more can be done until it is fixed.
    #[error("the remote refused the token: {0}")]
    Unauthorized(String),
    /// The remote's certificate was refused: nothing more can be done until the CA, the pins,
    /// the URL or the remote's certificate change.
    #[error("{0}; retrying will not help: fix the CA file, the pins or the URL")]
    Certificate(crate::tls::CertificateProblem),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Syncs every pending item once; returns when the queue is empty or the remote stays unreachable.
///
/// # Errors
/// [`SyncError::Unauthorized`] on 401/403, [`SyncError::Certificate`] on a refused
/// certificate, or a store error.
pub fn sync_once(
    store: &Store,
    remote: &dyn Remote,
    policy: Policy,
) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    let mut report = SyncReport::default();
    let mut last_seen = 0;
    'queue: loop {
        let batch: Vec<OutboxItem> = store
            .pending_outbox(64)?
            .into_iter()
            .filter(|i| i.verification_id > last_seen)
            .collect();
        if batch.is_empty() {
            break;
        }
        for item in batch {
            last_seen = item.verification_id;
            let failure = match sync_item(store, remote, policy, &item, &mut report) {
                Ok(()) => continue,
                Err(ItemFailure::Local(e)) => return Err(SyncError::Store(e)),
                Err(ItemFailure::Remote(e)) => e,
            };
            match failure {
                RemoteError::Permanent { reason } => {
                    store.mark_parked(item.verification_id, &reason)?;
                    report.parked += 1;
                }
                RemoteError::Unauthorized { reason } => {
                    return Err(SyncError::Unauthorized(reason))
                }
                RemoteError::Certificate(problem) => {
                    store.note_sync_failure(item.verification_id, &problem.to_string())?;
                    return Err(SyncError::Certificate(problem));
                }
                RemoteError::Transient { reason, .. } => {
                    store.note_sync_failure(item.verification_id, &reason)?;
                    report.stopped = Some(format!(
                        "remote unavailable after {} attempts: {reason}",
                        policy.max_attempts
                    ));
                    break 'queue;
                }
                RemoteError::NotTheContract { reason } => {
                    store.note_sync_failure(item.verification_id, &reason)?;
                    report.stopped = Some(format!(
                        "the remote does not answer as the Face Match API does (is the URL right?): \
                         {reason}; every record stays pending"
                    ));
                    break 'queue;
                }
            }
        }
    }
    report.pending_left = store.sync_counts()?.pending;
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

/// Why one item could not be synced: the remote's answer, or this device's own store.
enum ItemFailure {
    Remote(RemoteError),
    Local(StoreError),
}

impl From<RemoteError> for ItemFailure {
    fn from(e: RemoteError) -> Self {
        ItemFailure::Remote(e)
    }
}

impl From<StoreError> for ItemFailure {
    fn from(e: StoreError) -> Self {
        match e {
            // The record's picture is gone (purged, or never kept): this record cannot be
            // sent, the others can.
            StoreError::NotFound(what) => ItemFailure::Remote(RemoteError::Permanent {
                reason: format!("{what}: cannot be synced"),
            }),
            other => ItemFailure::Local(other),
        }
    }
}

/// Whether a permanent refusal says that a media id is unknown to the remote (its 4001 "not
/// found"): the id was given by another remote, or this one lost it.
fn unknown_media(reason: &str) -> bool {
    reason.contains("code 4001") && reason.contains("not found")
}

/// Uploads what is missing, asks for the match, records the answer. A remote that does not
/// know a media id it is sent gets the record's pictures again, once.
fn sync_item(
    store: &Store,
    remote: &dyn Remote,
    policy: Policy,
    item: &OutboxItem,
    report: &mut SyncReport,
) -> Result<(), ItemFailure> {
    match send_item(store, remote, policy, item, report, "") {
        Err(ItemFailure::Remote(RemoteError::Permanent { reason })) if unknown_media(&reason) => {
            log::warn!(
                "sync: record {}: {reason}; uploading its pictures again",
                item.verification_id
            );
            for media in item.media.iter().flatten() {
                store.forget_media_remote_id(media)?;
            }
            // New idempotency keys: a remote that still holds the old ones would answer the
            // upload with the id it just called unknown.
            send_item(store, remote, policy, item, report, "-again")
        }
        other => other,
    }
}

/// One try at an item: its missing uploads (their idempotency keys ending in `upload_key_suffix`),
/// then the match.
fn send_item(
    store: &Store,
    remote: &dyn Remote,
    policy: Policy,
    item: &OutboxItem,
    report: &mut SyncReport,
    upload_key_suffix: &str,
) -> Result<(), ItemFailure> {
    let device = store.device_id().to_string();
    let mut remote_ids: [Option<String>; 3] = [None, None, None];
    for (slot, media) in item.media.iter().enumerate() {
        let Some(media) = media else { continue };
        remote_ids[slot] = Some(match store.media_remote_id(media, remote.name())? {
            Some(id) => id,
            None => {
                let (name, bytes) = store.media_for_sync(media)?;
                let key = format!("{device}-media-{}{upload_key_suffix}", media.0);
                let id = with_retries(policy, report, || remote.upload(&name, &bytes, &key))?;
                report.uploads += 1;
                store.set_media_remote_id(media, remote.name(), &id)?;
                id
            }
        });
    }
    let [src, front, back] = remote_ids;
    let (Some(src), Some(front)) = (src, front) else {
        return Err(RemoteError::Permanent {
            reason: "the record has no selfie or no document front to send".into(),
        }
        .into());
    };
    let request = MatchRequest {
        src: Some(src),
        target_front: Some(front),
        target_back: back,
        doc_type: Some(item.doc_type.as_str().into()),
        threshold: Some(item.threshold.into()),
    };
    let key = format!("{device}-verification-{}", item.verification_id);
    let anchor =
        Anchor { device_id: device, record_id: item.verification_id, hash: item.row_hash.clone() };
    let answer = with_retries(policy, report, || remote.facex_match(&request, &key, &anchor))?;
    store.mark_synced(item.verification_id, answer.verdict, &answer.raw)?;
    if answer.anchored {
        store.note_remote_anchor(item.verification_id)?;
    } else {
        report.unanchored += 1;
    }
    report.synced += 1;
    report.disagreements += usize::from(answer.verdict.valid != item.matched);
    Ok(())
}

/// Calls `f` until it succeeds, fails for good, or `policy.max_attempts` transient failures.
fn with_retries<T>(
    policy: Policy,
    report: &mut SyncReport,
    mut f: impl FnMut() -> Result<T, RemoteError>,
) -> Result<T, RemoteError> {
    let mut attempt = 0;
    loop {
        report.requests += 1;
        match f() {
            Err(RemoteError::Transient { reason, retry_after })
                if attempt + 1 < policy.max_attempts =>
            {
                let delay = backoff(policy, attempt, retry_after);
                log::warn!("sync: {reason}; retrying in {:.1} s", delay.as_secs_f64());
                std::thread::sleep(delay);
                attempt += 1;
                report.retries += 1;
            }
            other => return other,
        }
    }
}

/// The wait before retry `attempt` (0-based): exponential with "equal jitter"
/// (half fixed, half random), or the server's `Retry-After` when it asked for
/// longer; never more than `policy.max_delay`.
pub fn backoff(policy: Policy, attempt: u32, retry_after: Option<Duration>) -> Duration {
    let exp = policy.base_delay.saturating_mul(1u32 << attempt.min(20)).min(policy.max_delay);
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    let jittered = exp / 2 + exp.mul_f64(f64::from(byte[0]) / 255.0 / 2.0);
    retry_after.map_or(jittered, |r| r.max(jittered)).min(policy.max_delay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{MatchStatus, MatchVerdict};

    #[test]
    fn backoff_grows_jitters_and_honours_retry_after() {
        let p = Policy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        };
        for attempt in 0..8 {
            let exp = Duration::from_millis(100 * (1 << attempt)).min(Duration::from_secs(2));
            let d = backoff(p, attempt, None);
            assert!(
                d >= exp / 2 && d <= exp,
                "attempt {attempt}: {d:?} outside [{:?}, {exp:?}]",
                exp / 2
            );
        }
        assert_eq!(backoff(p, 0, Some(Duration::from_secs(1))), Duration::from_secs(1));
        assert_eq!(backoff(p, 0, Some(Duration::from_secs(30))), Duration::from_secs(2), "capped");
    }

    /// Local sanity of the queue rules with a scripted remote (the wire is tested in tests/sync.rs).
    struct Scripted(std::cell::RefCell<Vec<Result<(bool, MatchStatus), RemoteError>>>);

    impl Remote for Scripted {
        fn name(&self) -> &str {
            "scripted"
        }
        fn upload(&self, _: &str, _: &[u8], key: &str) -> Result<String, RemoteError> {
            Ok(format!("R{key}"))
        }
        fn facex_match(
            &self,
            _: &MatchRequest,
            _: &str,
            _: &Anchor,
        ) -> Result<RemoteAnswer, RemoteError> {
            let (valid, status) = self.0.borrow_mut().remove(0)?;
            let verdict = MatchVerdict { valid, status };
            Ok(RemoteAnswer { verdict, raw: "{}".into(), anchored: false })
        }
    }

    #[test]
    fn permanent_refusals_park_and_the_queue_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db"), None).unwrap();
        for _ in 0..3 {
            let a = store.insert_media(None, "a.jpg", "image/jpeg", b"a").unwrap();
            let b = store.insert_media(None, "b.jpg", "image/jpeg", b"b").unwrap();
            let v = crate::store::NewVerification {
                src_media: Some(a),
                front_media: Some(b),
                doc_type: crate::domain::DocumentType::Gov,
                threshold: 85.0,
                status: MatchStatus::FaceMatched,
                matched: true,
                ..Default::default()
            };
            store.record_verification(&v).unwrap();
        }
        let remote = Scripted(std::cell::RefCell::new(vec![
            Ok((true, MatchStatus::FaceMatched)),
            Err(RemoteError::Permanent { reason: "HTTP 400 code 4007".into() }),
            Ok((false, MatchStatus::FaceNotMatched)),
        ]));
        let p = Policy { max_attempts: 1, ..Policy::default() };
        let report = sync_once(&store, &remote, p).unwrap();
        assert_eq!(
            (report.synced, report.parked, report.disagreements, report.uploads),
            (2, 1, 1, 6)
        );
        let counts = store.sync_counts().unwrap();
        assert_eq!(
            (counts.pending, counts.synced, counts.parked, counts.disagreement),
            (0, 2, 1, 1)
        );
        assert_eq!(store.sync_error(2).unwrap().as_deref(), Some("HTTP 400 code 4007"));
        assert_eq!(
            store.media_remote_id(&crate::store::MediaId("x".into()), "scripted").unwrap(),
            None
        );
    }
}
