//! The liveness log: one row per attempt at the kiosk's head-movement challenge, passed or
//! failed, with its evidence. It is a keyed chain of its own (HMAC under the log key, and a
//! counter file `<key>.liveness`), so an attempt cannot be edited, removed or reordered
//! unseen. Each row also holds the verification chain's head at its time, and a verification
//! names the passed attempt its selfie came from, so the two logs' order is fixed too.
//! The Face Match API has no place for attempts; a facematch hub takes them (`sync::attempts`),
//! and keeps each device's as [`ChainedAttempt`]s (`device_attempts`).

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};
use serde_json::json;

use super::chain::{Chain, LogKey};
use super::media::MediaId;
use super::walk::{ChainProblem, ChainRows, Link};
use super::{now_ms, Store, StoreError};

/// An attempt to record.
#[derive(Debug, Clone, Default)]
pub struct NewAttempt {
    /// Whether it passed.
    pub live: bool,
    /// The failure's code (None when it passed).
    pub reason: Option<String>,
    /// The challenge asked, e.g. `left up right`.
    pub challenge: String,
    /// The evidence (steps, parallax, frames seen and with a face...) as JSON.
    pub evidence_json: String,
    /// A failed attempt's frame, kept sealed as evidence under the usual retention (a passed
    /// attempt's selfie is kept with its verification).
    pub frame_media: Option<MediaId>,
}

/// A logged attempt, as `facematch log` lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AttemptRecord {
    /// Row id (position in the liveness chain).
    pub id: i64,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Device that ran it.
    pub device_id: String,
    /// Whether it passed.
    pub live: bool,
    /// The failure's code.
    pub reason: Option<String>,
    /// The challenge asked.
    pub challenge: String,
    /// The evidence, as JSON.
    pub evidence_json: String,
    /// The failed attempt's sealed frame.
    pub frame_media: Option<String>,
    /// The verification that used its selfie, if any.
    pub verification: Option<i64>,
}

/// An attempt with its place in the liveness chain: what a device sends its hub, and what a hub
/// keeps of each device's attempts (its frame then named by the hub's media id).
#[derive(Debug, Clone, PartialEq)]
pub struct ChainedAttempt {
    /// The attempt (its `device_id` the device's).
    pub attempt: AttemptRecord,
    /// The hash of the attempt before it in the device's chain (64 zeros for the first).
    pub prev_hash: String,
    /// Its hash in the device's chain.
    pub row_hash: String,
}

/// Passed and failed attempts counted over a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AttemptCounts {
    /// Attempts that passed.
    pub passed: usize,
    /// Attempts that failed.
    pub failed: usize,
    /// Attempts on which the screen's colours were too faint on the face to tell anything
    /// (the evidence's `flash.verdict`), refused or decided by the movement test alone.
    pub faint: usize,
    /// Attempts made with the screen's colours off (the evidence's `screenColoursOff`: staff
    /// turned them off for a customer, or the kiosk has them off).
    pub colours_off: usize,
}

/// The hashed content of an attempt, in a fixed order.
struct AttemptHashed {
    id: i64,
    created_at: i64,
    device_id: String,
    live: bool,
    reason: Option<String>,
    challenge: String,
    evidence_json: String,
    frame_media: Option<String>,
    frame_sha256: Option<String>,
    after_record: Option<i64>,
    after_hash: Option<String>,
}

impl AttemptHashed {
    fn hash(&self, prev: &str, key: &LogKey) -> String {
        let fields = json!([
            self.id,
            self.created_at,
            self.device_id,
            self.live,
            self.reason,
            self.challenge,
            self.evidence_json,
            self.frame_media,
            self.frame_sha256,
            self.after_record,
            self.after_hash,
        ]);
        key.mac(&["facematch liveness v1", prev, &fields.to_string()])
    }

    /// A row of [`ATTEMPTS_WITH_FRAMES`] with its stored `prev_hash` and `row_hash`.
    fn from_row(r: &Row<'_>) -> rusqlite::Result<(AttemptHashed, String, String)> {
        Ok((
            AttemptHashed {
                id: r.get("id")?,
                created_at: r.get("created_at")?,
                device_id: r.get("device_id")?,
                live: r.get("live")?,
                reason: r.get("reason")?,
                challenge: r.get("challenge")?,
                evidence_json: r.get("evidence_json")?,
                frame_media: r.get("frame_media")?,
                frame_sha256: r.get("frame_sha256")?,
                after_record: r.get("after_record")?,
                after_hash: r.get("after_hash")?,
            },
            r.get("prev_hash")?,
            r.get("row_hash")?,
        ))
    }
}

/// The columns [`attempt_from_row`] reads, in [`AttemptRecord`]'s order, of the device's
/// `liveness_attempts a` and the `verifications v` that used each.
const ATTEMPT_COLUMNS: &str = "a.id, a.created_at, a.device_id, a.live, a.reason, a.challenge,
     a.evidence_json, a.frame_media, v.id";

/// An attempt from a row's first nine columns, in [`AttemptRecord`]'s order.
pub(super) fn attempt_from_row(r: &Row<'_>) -> rusqlite::Result<AttemptRecord> {
    Ok(AttemptRecord {
        id: r.get(0)?,
        created_at: r.get(1)?,
        device_id: r.get(2)?,
        live: r.get(3)?,
        reason: r.get(4)?,
        challenge: r.get(5)?,
        evidence_json: r.get(6)?,
        frame_media: r.get(7)?,
        verification: r.get(8)?,
    })
}

/// An attempt from a row of [`attempt_from_row`]'s columns then its `prev_hash` and `row_hash`.
pub(super) fn chained_from_row(r: &Row<'_>) -> rusqlite::Result<ChainedAttempt> {
    Ok(ChainedAttempt { attempt: attempt_from_row(r)?, prev_hash: r.get(9)?, row_hash: r.get(10)? })
}

/// Every attempt with its frame's sha256, in chain order.
const ATTEMPTS_WITH_FRAMES: &str = "SELECT a.*, m.sha256 AS frame_sha256
     FROM liveness_attempts a LEFT JOIN media m ON m.id = a.frame_media
     ORDER BY a.id";

impl Store {
    /// Appends an attempt to the liveness chain. Returns its id.
    ///
    /// # Errors
    /// An SQLite error (an unknown frame media id included); nothing is written then.
    pub fn record_attempt(&mut self, attempt: &NewAttempt) -> Result<i64, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (id, prev) = Chain::Liveness.next(&tx)?;
        let after = Chain::Verifications.newest(&tx)?;
        let frame_sha256: Option<String> = match &attempt.frame_media {
            Some(m) => tx
                .query_row("SELECT sha256 FROM media WHERE id = ?1", params![m.0], |r| r.get(0))
                .optional()?,
            None => None,
        };
        let hashed = AttemptHashed {
            id,
            created_at: now_ms(),
            device_id: self.device_id.clone(),
            live: attempt.live,
            reason: attempt.reason.clone(),
            challenge: attempt.challenge.clone(),
            evidence_json: attempt.evidence_json.clone(),
            frame_media: attempt.frame_media.as_ref().map(|m| m.0.clone()),
            frame_sha256,
            after_record: after.as_ref().map(|a| a.0),
            after_hash: after.map(|a| a.1),
        };
        let row_hash = hashed.hash(&prev, &self.log_key);
        tx.execute(
            "INSERT INTO liveness_attempts (id, created_at, device_id, live, reason, challenge,
                evidence_json, frame_media, after_record, after_hash, prev_hash, row_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                id,
                hashed.created_at,
                hashed.device_id,
                hashed.live,
                hashed.reason,
                hashed.challenge,
                hashed.evidence_json,
                hashed.frame_media,
                hashed.after_record,
                hashed.after_hash,
                prev,
                row_hash
            ],
        )?;
        tx.commit()?;
        self.advance_counter(Chain::Liveness, id, &row_hash);
        Ok(id)
    }

    /// The newest `limit` attempts, newest first.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn list_attempts(&self, limit: usize) -> Result<Vec<AttemptRecord>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ATTEMPT_COLUMNS} FROM liveness_attempts a
             LEFT JOIN verifications v ON v.liveness_attempt = a.id
             ORDER BY a.id DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map(params![limit as i64], attempt_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Up to `limit` attempts after attempt `after`, oldest first, with their chain hashes.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn attempts_after(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<ChainedAttempt>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ATTEMPT_COLUMNS}, a.prev_hash, a.row_hash FROM liveness_attempts a
             LEFT JOIN verifications v ON v.liveness_attempt = a.id
             WHERE a.id > ?1 ORDER BY a.id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![after, limit as i64], chained_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Attempts since `since_ms` (ms since the epoch), passed and failed.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn attempt_counts_since(&self, since_ms: i64) -> Result<AttemptCounts, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT live, count(*),
                    sum(CASE WHEN json_valid(evidence_json)
                        THEN coalesce(json_extract(evidence_json, '$.flash.verdict'), '') = 'too_faint'
                        ELSE 0 END),
                    sum(CASE WHEN json_valid(evidence_json)
                        THEN json_extract(evidence_json, '$.screenColoursOff') IS NOT NULL
                        ELSE 0 END)
             FROM liveness_attempts WHERE created_at >= ?1 GROUP BY live",
        )?;
        let mut counts = AttemptCounts::default();
        let rows = stmt
            .query_map(params![since_ms], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        for row in rows {
            let (live, n, faint, off): (bool, i64, i64, i64) = row?;
            *(if live { &mut counts.passed } else { &mut counts.failed }) = n as usize;
            counts.faint += faint as usize;
            counts.colours_off += off as usize;
        }
        Ok(counts)
    }

    /// When the failed attempts since `since_ms` happened (ms since the epoch), oldest first:
    /// the kiosk's limit on failures across sessions holds across a restart.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn failed_attempt_times_since(&self, since_ms: i64) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT created_at FROM liveness_attempts
             WHERE live = 0 AND created_at >= ?1 ORDER BY created_at",
        )?;
        let times = stmt.query_map(params![since_ms], |r| r.get(0))?;
        Ok(times.collect::<Result<_, _>>()?)
    }
}

/// The liveness chain as `log verify`'s walk reads it, after the verifications'
/// (`verification_hashes`: their stored hashes by id, which each attempt's head must be among).
pub(super) struct AttemptRows<'a> {
    pub(super) verification_hashes: &'a HashMap<i64, String>,
    pub(super) key: &'a LogKey,
}

impl ChainRows for AttemptRows<'_> {
    const CHAIN: Chain = Chain::Liveness;
    const SQL: &'static str = ATTEMPTS_WITH_FRAMES;

    fn link(&self, row: &Row<'_>) -> rusqlite::Result<Link> {
        let (hashed, prev, stored) = AttemptHashed::from_row(row)?;
        let (id, recomputed) = (hashed.id, hashed.hash(&prev, self.key));
        let own_problem = match (hashed.after_record, &hashed.after_hash) {
            (Some(record), Some(hash)) if self.verification_hashes.get(&record) != Some(hash) => {
                Some(ChainProblem::FollowedRecordGone { record, attempt: id })
            }
            _ => None,
        };
        let pictures = vec![(hashed.frame_media, hashed.frame_sha256)];
        Ok(Link { id, prev, stored, recomputed, own_problem, pictures })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewVerification;

    fn failed(reason: &str, frame: Option<MediaId>) -> NewAttempt {
        NewAttempt {
            live: false,
            reason: Some(reason.into()),
            challenge: "left up right".into(),
            evidence_json: format!("{{\"reason\":\"{reason}\"}}"),
            frame_media: frame,
        }
    }

    fn passed() -> NewAttempt {
        NewAttempt {
            live: true,
            challenge: "down right up".into(),
            evidence_json: "{\"live\":true}".into(),
            ..NewAttempt::default()
        }
    }

    /// A store with a verification, a failed attempt with a sealed frame, a passed attempt and
    /// the verification its selfie went to.
    fn logged(dir: &std::path::Path) -> Store {
        let mut store = Store::open(&dir.join("log.db"), None).unwrap();
        let v = NewVerification {
            doc_type: crate::domain::DocumentType::Pan,
            ..NewVerification::default()
        };
        store.record_verification(&v).unwrap();
        let frame = store.insert_media(None, "attempt.jpg", "image/jpeg", b"frame one").unwrap();
        assert_eq!(store.record_attempt(&failed("flat", Some(frame))).unwrap(), 1);
        assert_eq!(store.record_attempt(&passed()).unwrap(), 2);
        let v = NewVerification { liveness_attempt: Some(2), ..v };
        store.record_verification(&v).unwrap();
        store
    }

    fn problem(store: &Store) -> Option<ChainProblem> {
        store.verify_chain().unwrap().problem
    }

    #[test]
    fn attempts_are_listed_counted_and_verified() {
        let dir = tempfile::tempdir().unwrap();
        let store = logged(dir.path());
        let report = store.verify_chain().unwrap();
        assert_eq!((report.rows, report.attempts, report.problem), (2, 2, None));
        let listed = store.list_attempts(10).unwrap();
        assert_eq!(listed.iter().map(|a| a.id).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!((listed[0].live, listed[0].verification), (true, Some(2)));
        assert_eq!((listed[1].reason.as_deref(), listed[1].verification), (Some("flat"), None));
        assert!(listed[1].frame_media.is_some());
        assert_eq!(store.list_verifications(1).unwrap()[0].liveness_attempt, Some(2));
        assert_eq!(
            store.attempt_counts_since(0).unwrap(),
            AttemptCounts { passed: 1, failed: 1, faint: 0, colours_off: 0 }
        );
        assert_eq!(store.attempt_counts_since(now_ms() + 1000).unwrap(), AttemptCounts::default());
        assert_eq!(store.failed_attempt_times_since(0).unwrap().len(), 1);
    }

    #[test]
    fn an_edited_attempt_or_a_swapped_frame_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = logged(dir.path());
        store.conn.execute("UPDATE liveness_attempts SET reason = NULL WHERE id = 1", []).unwrap();
        assert_eq!(problem(&store), Some(ChainProblem::Altered { chain: Chain::Liveness, id: 1 }));

        let dir = tempfile::tempdir().unwrap();
        let store = logged(dir.path());
        let other = store.insert_media(None, "x.jpg", "image/jpeg", b"another frame").unwrap();
        // The row keeps its media id; the sealed bytes under it are another picture's.
        store
            .conn
            .execute(
                "UPDATE media SET sealed = (SELECT sealed FROM media WHERE id = ?1)
                 WHERE id = (SELECT frame_media FROM liveness_attempts WHERE id = 1)",
                params![other.0],
            )
            .unwrap();
        assert!(matches!(
            problem(&store),
            Some(ChainProblem::PictureSwapped { chain: Chain::Liveness, id: 1, .. })
        ));
    }

    #[test]
    fn deleted_attempts_and_a_verification_naming_a_failed_one_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = logged(dir.path());
        store.conn.execute("UPDATE verifications SET liveness_attempt = NULL", []).unwrap();
        store.conn.execute("DELETE FROM liveness_attempts WHERE id = 2", []).unwrap();
        assert_eq!(
            problem(&store),
            Some(ChainProblem::Altered { chain: Chain::Verifications, id: 2 }),
            "the verification's hash covers its attempt"
        );

        let dir = tempfile::tempdir().unwrap();
        let mut store = logged(dir.path());
        store.record_attempt(&failed("wrong_movement", None)).unwrap();
        store.conn.execute("DELETE FROM liveness_attempts WHERE id = 3", []).unwrap();
        assert_eq!(
            problem(&store),
            Some(ChainProblem::NewestDeleted { chain: Chain::Liveness, last_id: 2, wrote: 3 })
        );
        std::fs::remove_file(&store.liveness_counter).unwrap();
        assert!(matches!(
            problem(&store),
            Some(ChainProblem::CounterMissing { chain: Chain::Liveness, .. })
        ));

        let dir = tempfile::tempdir().unwrap();
        let mut store = logged(dir.path());
        let v = NewVerification { liveness_attempt: Some(1), ..NewVerification::default() };
        store.record_verification(&v).unwrap();
        assert_eq!(
            problem(&store),
            Some(ChainProblem::UnpassedAttemptNamed { record: 3, attempt: 1 })
        );
    }

    #[test]
    fn an_attempt_holds_the_verification_head_it_followed() {
        let dir = tempfile::tempdir().unwrap();
        let store = logged(dir.path());
        let (after, hash): (i64, String) = store
            .conn
            .query_row(
                "SELECT after_record, after_hash FROM liveness_attempts WHERE id = 2",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((after, Some(hash)), (1, store.row_hash(1).unwrap()));
    }
}
