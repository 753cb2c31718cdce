//! The liveness log: one row per attempt at the kiosk's head-movement challenge, passed or
//! failed, with its evidence. It is a keyed chain of its own (HMAC under the log key, and a
//! counter file `<key>.liveness`), so an attempt cannot be edited, removed or reordered
//! unseen. Each row also holds the verification chain's head at its time, and a verification
//! names the passed attempt its selfie came from, so the two logs' order is fixed too.
//! Attempts are not synced: the Face Match API has no place for them.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};
use serde_json::json;

use super::chain::{Counted, Counter, LogKey, GENESIS};
use super::media::MediaId;
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

/// Passed and failed attempts counted over a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AttemptCounts {
    /// Attempts that passed.
    pub passed: usize,
    /// Attempts that failed.
    pub failed: usize,
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
        let (id, prev) = Counter::Liveness.next(&tx)?;
        let after = Counter::Verifications.newest(&tx)?;
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
        self.advance_counter(Counter::Liveness, id, &row_hash);
        Ok(id)
    }

    /// The newest `limit` attempts, newest first.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn list_attempts(&self, limit: usize) -> Result<Vec<AttemptRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT a.id, a.created_at, a.device_id, a.live, a.reason, a.challenge,
                    a.evidence_json, a.frame_media, v.id
             FROM liveness_attempts a LEFT JOIN verifications v ON v.liveness_attempt = a.id
             ORDER BY a.id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |r| {
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
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Attempts since `since_ms` (ms since the epoch), passed and failed.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn attempt_counts_since(&self, since_ms: i64) -> Result<AttemptCounts, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT live, count(*) FROM liveness_attempts WHERE created_at >= ?1 GROUP BY live",
        )?;
        let mut counts = AttemptCounts::default();
        for row in stmt.query_map(params![since_ms], |r| Ok((r.get(0)?, r.get(1)?)))? {
            let (live, n): (bool, i64) = row?;
            *(if live { &mut counts.passed } else { &mut counts.failed }) = n as usize;
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

    /// Checks the liveness chain after the verifications' (`verification_hashes`: their stored
    /// hashes by id): each row's MAC and predecessor, the verification head each holds, its
    /// frame's sha256, the counter beside the key, and that every verification naming an
    /// attempt names a passed one. Returns the attempts checked and the first problem.
    pub(super) fn verify_attempts(
        &self,
        verification_hashes: &HashMap<i64, String>,
    ) -> Result<(usize, Option<String>), StoreError> {
        let mut stmt = self.conn.prepare(ATTEMPTS_WITH_FRAMES)?;
        let mut rows = stmt.query([])?;
        let (mut count, mut expected_prev, mut last_id) = (0, GENESIS.to_string(), 0);
        while let Some(row) = rows.next()? {
            let (hashed, prev, stored) = AttemptHashed::from_row(row)?;
            count += 1;
            let id = hashed.id;
            if prev != expected_prev || hashed.hash(&prev, &self.log_key) != stored {
                return Ok((
                    count,
                    Some(format!("liveness attempt {id} was altered, removed or reordered")),
                ));
            }
            if let (Some(record), Some(hash)) = (hashed.after_record, &hashed.after_hash) {
                if verification_hashes.get(&record) != Some(hash) {
                    let problem = format!(
                        "record {record} is not the one liveness attempt {id} followed: records were rewritten or removed"
                    );
                    return Ok((count, Some(problem)));
                }
            }
            let attempt = format!("liveness attempt {id}");
            let frame = [hashed.frame_media];
            if let Some(problem) = self.swapped_picture(&attempt, &frame, &[hashed.frame_sha256])? {
                return Ok((count, Some(problem)));
            }
            expected_prev = stored;
            last_id = id;
        }
        let problem = self.attempts_counter_problem(last_id)?.or(self.unmatched_attempt_names()?);
        Ok((count, problem))
    }

    /// What the liveness counter beside the key says against the newest attempt, `last_id`.
    fn attempts_counter_problem(&self, last_id: i64) -> Result<Option<String>, StoreError> {
        let counted = match Counted::read(&self.liveness_counter, &self.log_key, Counter::Liveness)
        {
            Ok(Some(counted)) => counted,
            Ok(None) => {
                return Ok(Some(format!(
                    "the liveness counter {} is missing: deleted newest attempts could not be seen",
                    self.liveness_counter.display()
                )))
            }
            Err(e) => return Ok(Some(e.to_string())),
        };
        let stored = Counter::Liveness.row_hash(&self.conn, counted.last_id)?;
        let found = counted.disagreement(Counter::Liveness, last_id, stored.as_deref());
        Ok(found.map(|(_, problem)| problem))
    }

    /// A verification that names an attempt which is not in the log or did not pass.
    fn unmatched_attempt_names(&self) -> Result<Option<String>, StoreError> {
        let found: Option<(i64, i64)> = self
            .conn
            .query_row(
                "SELECT v.id, v.liveness_attempt FROM verifications v
                 LEFT JOIN liveness_attempts a ON a.id = v.liveness_attempt
                 WHERE v.liveness_attempt IS NOT NULL AND (a.id IS NULL OR a.live = 0)
                 ORDER BY v.id LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(found.map(|(record, attempt)| {
            format!("record {record} names liveness attempt {attempt}, which is not a passed attempt in the log")
        }))
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
        let v = NewVerification { doc_type: "PAN".into(), ..NewVerification::default() };
        store.record_verification(&v).unwrap();
        let frame = store.insert_media(None, "attempt.jpg", "image/jpeg", b"frame one").unwrap();
        assert_eq!(store.record_attempt(&failed("flat", Some(frame))).unwrap(), 1);
        assert_eq!(store.record_attempt(&passed()).unwrap(), 2);
        let v = NewVerification { liveness_attempt: Some(2), ..v };
        store.record_verification(&v).unwrap();
        store
    }

    fn problem(store: &Store) -> Option<String> {
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
        assert_eq!(store.attempt_counts_since(0).unwrap(), AttemptCounts { passed: 1, failed: 1 });
        assert_eq!(store.attempt_counts_since(now_ms() + 1000).unwrap(), AttemptCounts::default());
        assert_eq!(store.failed_attempt_times_since(0).unwrap().len(), 1);
    }

    #[test]
    fn an_edited_attempt_or_a_swapped_frame_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = logged(dir.path());
        store.conn.execute("UPDATE liveness_attempts SET reason = NULL WHERE id = 1", []).unwrap();
        assert_eq!(
            problem(&store).unwrap(),
            "liveness attempt 1 was altered, removed or reordered"
        );

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
        assert!(problem(&store).unwrap().contains("of liveness attempt 1 is not the one"));
    }

    #[test]
    fn deleted_attempts_and_a_verification_naming_a_failed_one_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = logged(dir.path());
        store.conn.execute("UPDATE verifications SET liveness_attempt = NULL", []).unwrap();
        store.conn.execute("DELETE FROM liveness_attempts WHERE id = 2", []).unwrap();
        let found = problem(&store).unwrap();
        assert!(
            found.contains("record 2 was altered"),
            "the verification's hash covers its attempt: {found}"
        );

        let dir = tempfile::tempdir().unwrap();
        let mut store = logged(dir.path());
        store.record_attempt(&failed("wrong_movement", None)).unwrap();
        store.conn.execute("DELETE FROM liveness_attempts WHERE id = 3", []).unwrap();
        assert_eq!(
            problem(&store).unwrap(),
            "liveness attempts after 2 were deleted (this device wrote up to attempt 3)"
        );
        std::fs::remove_file(&store.liveness_counter).unwrap();
        assert!(problem(&store).unwrap().contains("liveness counter"));

        let dir = tempfile::tempdir().unwrap();
        let mut store = logged(dir.path());
        let v = NewVerification { liveness_attempt: Some(1), ..NewVerification::default() };
        store.record_verification(&v).unwrap();
        assert_eq!(
            problem(&store).unwrap(),
            "record 3 names liveness attempt 1, which is not a passed attempt in the log"
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
