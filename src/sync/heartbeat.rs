//! The device's heartbeat to a facematch hub: what it runs (version, pinned models), how its
//! log and queue stand, the free space beside its log and its clock, sent after a sync run so
//! that the bank sees a device falling behind or going silent, with the records that need a
//! person (parked, or decided otherwise by the remote). A plain Face Match API remote is asked
//! nothing: the hub says what it is first.

use std::path::Path;
use std::time::{Duration, Instant};

use super::remote::{HttpRemote, RemoteError};
use crate::contract::{Heartbeat, HeartbeatAnswer, ModelPin, OpenReason, OpenRecord};
use crate::store::{Store, StoreError};

/// How often `sync --watch` sends a heartbeat (a `--once` run sends one).
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(60);

/// This device's heartbeat now, its log at `db`.
///
/// # Errors
/// The store cannot be read.
pub fn heartbeat_of(store: &Store, db: &Path) -> Result<Heartbeat, StoreError> {
    let counts = store.sync_counts()?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let models = crate::inference::models::ALL
        .iter()
        .map(|m| ModelPin { name: m.name.into(), sha256: m.sha256.into() })
        .collect();
    Ok(Heartbeat {
        software_version: env!("CARGO_PKG_VERSION").into(),
        models,
        last_record: store.list_verifications(1)?.first().map(|r| r.id),
        pending: count(counts.pending),
        parked: count(counts.parked),
        disagreements: count(counts.disagreement),
        free_disk_bytes: free_bytes(db),
        open_records: store
            .open_records(Heartbeat::MAX_OPEN_RECORDS)?
            .into_iter()
            .map(|r| OpenRecord {
                record: r.verification_id,
                reason: if r.parked { OpenReason::Parked } else { OpenReason::Disagreement },
                device_status: r.status,
                remote_status: r.remote_status,
                refusal: r
                    .last_error
                    .filter(|_| r.parked)
                    .map(|e| clip(e, OpenRecord::MAX_REFUSAL_BYTES)),
                since_ms: r.updated_at,
            })
            .collect(),
        sent_at_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
    })
}

/// `text` without control characters (each would take 6 bytes as JSON), cut to at most `max`
/// bytes at a character's edge.
fn clip(text: String, max: usize) -> String {
    let mut text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// Free space (for an unprivileged writer) on the file system holding `db`.
fn free_bytes(db: &Path) -> Option<u64> {
    let folder = db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let stat = rustix::fs::statvfs(folder).ok()?;
    stat.f_bavail.checked_mul(stat.f_frsize)
}

/// Sends heartbeats to a remote when it is a facematch hub, tried at most every
/// [`HEARTBEAT_EVERY`] whether the last try went through or not.
#[derive(Debug, Default)]
pub struct Heartbeats {
    /// Whether the remote said it is a hub (`None`: not known yet). A remote that answers the
    /// question with anything but a hub's answer or a transient failure is asked no more.
    is_hub: Option<bool>,
    last_try: Option<Instant>,
}

impl Heartbeats {
    /// Sends this device's heartbeat if the remote is a hub and a try is due; the hub's answer,
    /// or `None` when none was sent.
    ///
    /// # Errors
    /// The remote failed or refused it, or the store cannot be read: the sync goes on.
    pub fn send_if_due(
        &mut self,
        store: &Store,
        db: &Path,
        remote: &HttpRemote,
    ) -> Result<Option<HeartbeatAnswer>, HeartbeatError> {
        if self.is_hub == Some(false)
            || self.last_try.is_some_and(|at| at.elapsed() < HEARTBEAT_EVERY)
        {
            return Ok(None);
        }
        self.last_try = Some(Instant::now());
        if self.is_hub.is_none() {
            match remote.hub_info() {
                Ok(info) => {
                    self.is_hub = Some(info.is_some_and(|i| i.hub == "facematch"));
                }
                Err(e @ RemoteError::Transient { .. }) => return Err(e.into()),
                Err(e) => {
                    // Not a hub's answer (a plain API's page, a refusal): asked no more.
                    self.is_hub = Some(false);
                    return Err(e.into());
                }
            }
        }
        if self.is_hub != Some(true) {
            return Ok(None);
        }
        let beat = heartbeat_of(store, db)?;
        Ok(Some(remote.heartbeat(store.device_id(), &beat)?))
    }
}

/// Why a heartbeat was not sent.
#[derive(Debug, thiserror::Error)]
pub enum HeartbeatError {
    /// The remote failed or refused it.
    #[error("the hub: {0}")]
    Remote(#[from] RemoteError),
    /// The device's store cannot be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}
