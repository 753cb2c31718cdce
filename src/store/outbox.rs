//! The sync outbox: which verifications still have to reach the remote service,
//! and what it answered. States ([`OutboxState`]): pending → synced (with the
//! remote verdict, and a disagreement flag when it differs from ours) or parked
//! (a permanent refusal, with the reason; it no longer blocks the queue).

use rusqlite::params;

use super::media::MediaId;
use super::states::OutboxState;
use super::{now_ms, Store, StoreError};
use crate::contract::{MatchStatus, MatchVerdict};
use crate::domain::DocumentType;

/// A verification waiting to be synced.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    /// The local verification id.
    pub verification_id: i64,
    /// Document type sent with the request.
    pub doc_type: DocumentType,
    /// Threshold sent with the request.
    pub threshold: f64,
    /// Our verdict.
    pub matched: bool,
    /// Selfie, front and back media (back optional).
    pub media: [Option<MediaId>; 3],
    /// Attempts so far.
    pub attempts: i64,
    /// Its chain hash (sent as the device's anchor).
    pub row_hash: String,
}

/// How many outbox entries are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncCounts {
    /// Not yet synced.
    pub pending: i64,
    /// Synced, remote verdict recorded.
    pub synced: i64,
    /// Refused for good, with a reason.
    pub parked: i64,
    /// Synced, but the remote verdict differs from ours: flagged for review.
    pub disagreement: i64,
}

/// A record that needs a person: parked, or decided otherwise by the remote.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenOutboxRecord {
    /// The verification's id.
    pub verification_id: i64,
    /// Parked (true) or a disagreement.
    pub parked: bool,
    /// Our decision.
    pub status: MatchStatus,
    /// The remote's decision, once synced.
    pub remote_status: Option<MatchStatus>,
    /// What parked it.
    pub last_error: Option<String>,
    /// When its entry last changed (ms since the epoch).
    pub updated_at: i64,
}

impl Store {
    /// The newest `limit` records that need a person: parked ones and disagreements.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn open_records(&self, limit: usize) -> Result<Vec<OpenOutboxRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT o.verification_id, o.state = ?2, v.status, o.remote_status, o.last_error,
                    o.updated_at
             FROM outbox o JOIN verifications v ON v.id = o.verification_id
             WHERE o.state = ?2 OR o.disagreement ORDER BY o.verification_id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64, OutboxState::Parked], |r| {
            Ok(OpenOutboxRecord {
                verification_id: r.get(0)?,
                parked: r.get(1)?,
                status: r.get(2)?,
                remote_status: r.get(3)?,
                last_error: r.get(4)?,
                updated_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The oldest `limit` pending items.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn pending_outbox(&self, limit: usize) -> Result<Vec<OutboxItem>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT v.id, v.doc_type, v.threshold, v.matched, v.src_media, v.front_media, v.back_media, o.attempts,
                    v.row_hash
             FROM outbox o JOIN verifications v ON v.id = o.verification_id
             WHERE o.state = ?2 ORDER BY o.verification_id LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64, OutboxState::Pending], |r| {
            let media = |i: usize| -> rusqlite::Result<Option<MediaId>> {
                Ok(r.get::<_, Option<String>>(i)?.map(MediaId))
            };
            Ok(OutboxItem {
                verification_id: r.get(0)?,
                doc_type: r.get(1)?,
                threshold: r.get(2)?,
                matched: r.get(3)?,
                media: [media(4)?, media(5)?, media(6)?],
                attempts: r.get(7)?,
                row_hash: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records the remote verdict and marks the item synced, flagging a disagreement with ours.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn mark_synced(
        &self,
        verification_id: i64,
        remote: MatchVerdict,
        remote_response_json: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET state = ?6, remote_status = ?2, remote_valid = ?3, remote_response_json = ?4,
                    disagreement = (?3 != (SELECT matched FROM verifications WHERE id = ?1)),
                    synced_at = ?5, updated_at = ?5, last_error = NULL
             WHERE verification_id = ?1 AND state = ?7",
            params![
                verification_id,
                remote.status,
                remote.valid,
                remote_response_json,
                now_ms(),
                OutboxState::Synced,
                OutboxState::Pending
            ],
        )?;
        Ok(())
    }

    /// Parks an item that the remote refused for good, with the reason.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn mark_parked(&self, verification_id: i64, reason: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET state = ?4, last_error = ?2, updated_at = ?3, attempts = attempts + 1
             WHERE verification_id = ?1 AND state = ?5",
            params![verification_id, reason, now_ms(), OutboxState::Parked, OutboxState::Pending],
        )?;
        Ok(())
    }

    /// Puts parked items back in the queue (all of them, or those of `ids`), clearing their
    /// reason; returns how many. For the operator, once what parked them is fixed.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn requeue_parked(&self, ids: Option<&[i64]>) -> Result<usize, StoreError> {
        let sql = "UPDATE outbox SET state = ?1, last_error = NULL, updated_at = ?2
                   WHERE state = ?3 AND (?4 IS NULL OR verification_id = ?4)";
        let run = |id: Option<i64>| {
            self.conn.execute(sql, params![OutboxState::Pending, now_ms(), OutboxState::Parked, id])
        };
        Ok(match ids {
            None => run(None)?,
            Some(ids) => {
                let mut n = 0;
                for id in ids {
                    n += run(Some(*id))?;
                }
                n
            }
        })
    }

    /// Counts a failed attempt (the item stays pending).
    ///
    /// # Errors
    /// An SQLite error.
    pub fn note_sync_failure(&self, verification_id: i64, reason: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, updated_at = ?3 WHERE verification_id = ?1",
            params![verification_id, reason, now_ms()],
        )?;
        Ok(())
    }

    /// Counts per state.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn sync_counts(&self) -> Result<SyncCounts, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FILTER (WHERE state = ?1),
                    count(*) FILTER (WHERE state = ?2),
                    count(*) FILTER (WHERE state = ?3),
                    count(*) FILTER (WHERE disagreement)
             FROM outbox",
            params![OutboxState::Pending, OutboxState::Synced, OutboxState::Parked],
            |r| {
                Ok(SyncCounts {
                    pending: r.get(0)?,
                    synced: r.get(1)?,
                    parked: r.get(2)?,
                    disagreement: r.get(3)?,
                })
            },
        )?)
    }

    /// The reason an item was parked or last failed.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn sync_error(&self, verification_id: i64) -> Result<Option<String>, StoreError> {
        Ok(self.conn.query_row(
            "SELECT last_error FROM outbox WHERE verification_id = ?1",
            params![verification_id],
            |r| r.get(0),
        )?)
    }

    /// Retention after sync: deletes the picture bytes of media used only by synced
    /// verifications. Returns how many pictures were purged.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn purge_synced(&self) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            &format!(
                "UPDATE media SET sealed = NULL, purged_at = ?1
                 WHERE sealed IS NOT NULL AND id IN ({}) AND id NOT IN ({})",
                super::media_of_verifications_where("o.state = ?2"),
                super::media_of_verifications_where("o.state != ?2")
            ),
            params![now_ms(), OutboxState::Synced],
        )?)
    }
}
