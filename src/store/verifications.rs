//! The verification log: one row per decision, hash-chained so that an edited,
//! removed or reordered row is detected, with its sync outbox entry written in
//! the same transaction.

use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};

use super::attempts::AttemptRows;
use super::chain::{Chain, Checkpoint, Counted, Hashed, LogKey, ROWS_WITH_PICTURES};
use super::walk::{ChainProblem, ChainReport, ChainRows, Link};

use super::media::MediaId;
use super::states::{OutboxState, SyncState};
use super::{now_ms, Store, StoreError, TokenId};
use crate::contract::MatchStatus;
use crate::domain::DocumentType;

/// What sealed embeddings are bound to: their row's hash.
pub(super) fn embeddings_context(row_hash: &str) -> String {
    format!("facematch embeddings v1 {row_hash}")
}

/// A decision to record.
#[derive(Debug, Clone, Default)]
pub struct NewVerification {
    /// The API token that asked (None: the device's own CLI or kiosk).
    pub token: Option<TokenId>,
    /// Selfie media.
    pub src_media: Option<MediaId>,
    /// Document front media.
    pub front_media: Option<MediaId>,
    /// Document back media.
    pub back_media: Option<MediaId>,
    /// The document type (stored as its contract spelling, `UIDAI`, `DL`, ...).
    pub doc_type: DocumentType,
    /// Threshold in percent.
    pub threshold: f64,
    /// The contract's status.
    pub status: MatchStatus,
    /// The verdict.
    pub matched: bool,
    /// Front match percent (kept even below the threshold).
    pub front_percent: Option<f64>,
    /// Back match percent.
    pub back_percent: Option<f64>,
    /// The request as received.
    pub request_json: String,
    /// The full response sent.
    pub response_json: String,
    /// sha256 of every model used, as JSON.
    pub models_json: String,
    /// Stage timings in ms, as JSON.
    pub timings_json: String,
    /// The embeddings compared (sealed before storage).
    pub embeddings: Vec<Vec<f32>>,
    /// The client's `Idempotency-Key`, unique per token: a retried request is answered from the log.
    pub idempotency_key: Option<String>,
    /// The kiosk's passed liveness attempt the selfie came from ([`Store::record_attempt`]).
    pub liveness_attempt: Option<i64>,
}

/// A verification found by its idempotency key: what it answered, and what it was asked,
/// so that a key reused for another request is refused rather than answered.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyedVerification {
    /// Row id.
    pub id: i64,
    /// The answer sent.
    pub response_json: String,
    /// Selfie, front and back media ids.
    pub media: [Option<String>; 3],
    /// Document type asked.
    pub doc_type: String,
    /// Threshold asked.
    pub threshold: f64,
    /// When it was decided (ms since the epoch).
    pub created_at: i64,
}

/// A logged decision as listed by `facematch log`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VerificationRecord {
    /// Row id (chain position).
    pub id: i64,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Device that decided.
    pub device_id: String,
    /// Document type.
    #[serde(serialize_with = "super::states::serialize_doc_type")]
    pub doc_type: DocumentType,
    /// Threshold.
    pub threshold: f64,
    /// Contract status.
    pub status: MatchStatus,
    /// Verdict.
    pub matched: bool,
    /// Front percent.
    pub front_percent: Option<f64>,
    /// Back percent.
    pub back_percent: Option<f64>,
    /// Sync state (None: no outbox entry).
    pub sync_state: Option<SyncState>,
    /// Why it was parked, or the last sync failure.
    pub sync_note: Option<String>,
    /// The remote's status once synced.
    pub remote_status: Option<String>,
    /// The response JSON.
    pub response_json: String,
    /// The liveness attempt the selfie came from (kiosk verifications with liveness on).
    pub liveness_attempt: Option<i64>,
}

impl NewVerification {
    /// Its hashed content as record `id` of `device_id`'s chain, decided now, its pictures'
    /// sha256 given (a device's log and a hub's chain hash records alike).
    pub(super) fn hashed(
        &self,
        id: i64,
        device_id: String,
        media_sha256: [Option<String>; 3],
    ) -> Hashed {
        Hashed {
            id,
            media_sha256,
            created_at: now_ms(),
            device_id,
            token_id: self.token.map(|t| t.0),
            media: [&self.src_media, &self.front_media, &self.back_media]
                .map(|m| m.as_ref().map(|m| m.0.clone())),
            doc_type: self.doc_type.as_str().to_string(),
            threshold: self.threshold,
            status: self.status,
            matched: self.matched,
            percents: [self.front_percent, self.back_percent],
            request_json: self.request_json.clone(),
            response_json: self.response_json.clone(),
            models_json: self.models_json.clone(),
            timings_json: self.timings_json.clone(),
            liveness_attempt: self.liveness_attempt,
        }
    }

    /// Its embeddings sealed under `key`, bound to its row's hash (`None` without embeddings).
    ///
    /// # Errors
    /// [`StoreError::Crypto`] when sealing fails.
    pub(super) fn sealed_embeddings(
        &self,
        key: &super::DeviceKey,
        row_hash: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        (!self.embeddings.is_empty())
            .then(|| {
                let plain = serde_json::to_vec(&self.embeddings)
                    .expect("a list of float vectors serialises");
                key.seal(&plain, &embeddings_context(row_hash))
            })
            .transpose()
    }
}

impl Store {
    /// Appends a verification to the chain and enqueues it for sync, in one transaction.
    /// Returns its id.
    ///
    /// # Errors
    /// An SQLite error (nothing is written then).
    pub fn record_verification(&mut self, v: &NewVerification) -> Result<i64, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (id, prev) = Chain::Verifications.next(&tx)?;
        let sha256 = |m: &Option<MediaId>| -> rusqlite::Result<Option<String>> {
            let Some(m) = m else { return Ok(None) };
            tx.query_row("SELECT sha256 FROM media WHERE id = ?1", params![m.0], |r| r.get(0))
                .optional()
        };
        let media_sha256 = [sha256(&v.src_media)?, sha256(&v.front_media)?, sha256(&v.back_media)?];
        let hashed = v.hashed(id, self.device_id.clone(), media_sha256);
        let row_hash = hashed.keyed_hash(&prev, &self.log_key);
        let embeddings = v.sealed_embeddings(&self.key, &row_hash)?;
        let [src, front, back] = hashed.media.clone();
        tx.execute(
            "INSERT INTO verifications (id, created_at, device_id, token_id, src_media, front_media, back_media,
                doc_type, threshold, status, matched, front_percent, back_percent, request_json, response_json,
                models_json, timings_json, embeddings_sealed, prev_hash, row_hash, idempotency_key,
                liveness_attempt)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
            params![
                id,
                hashed.created_at,
                hashed.device_id,
                hashed.token_id,
                src,
                front,
                back,
                hashed.doc_type,
                hashed.threshold,
                hashed.status,
                hashed.matched,
                v.front_percent,
                v.back_percent,
                hashed.request_json,
                hashed.response_json,
                hashed.models_json,
                hashed.timings_json,
                embeddings,
                prev,
                row_hash,
                v.idempotency_key,
                v.liveness_attempt
            ],
        )
        .map_err(|e| {
            if super::media::is_unique_violation(&e) {
                StoreError::Exists(format!("verification with idempotency key {:?}", v.idempotency_key))
            } else {
                e.into()
            }
        })?;
        tx.execute(
            "INSERT INTO outbox (verification_id, updated_at) VALUES (?1, ?2)",
            params![id, hashed.created_at],
        )?;
        tx.commit()?;
        self.advance_counter(Chain::Verifications, id, &row_hash);
        Ok(id)
    }

    /// Moves `kind`'s counter beside the key to row `id` (never backwards: another process may
    /// have written a later row). A missing or altered counter is left alone for `log verify`
    /// to report; recreating it would hide what happened.
    pub(super) fn advance_counter(&self, kind: Chain, id: i64, row_hash: &str) {
        let path = self.counter_file(kind);
        match Counted::read(path, &self.log_key, kind) {
            Ok(Some(counted)) if counted.last_id < id => {
                let next = Counted { last_id: id, last_hash: row_hash.to_string(), ..counted };
                if let Err(e) = next.write(path, &self.log_key, kind) {
                    log::warn!("the chain counter was not advanced: {e}");
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => log::warn!("the chain counter {} is missing", path.display()),
            Err(e) => log::warn!("the chain counter is not advanced: {e}"),
        }
    }

    /// The device id the newest record holds (covered by its chain hash), if there is one.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn chain_device_id(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT device_id FROM verifications ORDER BY id DESC LIMIT 1", [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// The counter file of `kind`'s chain.
    pub(super) fn counter_file(&self, kind: Chain) -> &std::path::Path {
        match kind {
            Chain::Verifications => &self.counter,
            Chain::Liveness => &self.liveness_counter,
        }
    }

    /// The verification `token` made with idempotency `key` within [`super::IDEMPOTENCY_TTL`],
    /// if any.
    /// A key older than that is released (the old record keeps everything but the key),
    /// so it can name a new request.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn verification_by_key(
        &self,
        token: Option<TokenId>,
        key: &str,
    ) -> Result<Option<KeyedVerification>, StoreError> {
        let found = self
            .conn
            .query_row(
                "SELECT id, response_json, src_media, front_media, back_media, doc_type, threshold, created_at
                 FROM verifications WHERE token_id IS ?1 AND idempotency_key = ?2",
                params![token.map(|t| t.0), key],
                |r| {
                    Ok(KeyedVerification {
                        id: r.get(0)?,
                        response_json: r.get(1)?,
                        media: [r.get(2)?, r.get(3)?, r.get(4)?],
                        doc_type: r.get(5)?,
                        threshold: r.get(6)?,
                        created_at: r.get(7)?,
                    })
                },
            )
            .optional()?;
        match found {
            Some(v) if super::key_expired(v.created_at) => {
                self.conn.execute(
                    "UPDATE verifications SET idempotency_key = NULL WHERE id = ?1",
                    params![v.id],
                )?;
                Ok(None)
            }
            other => Ok(other),
        }
    }

    /// The newest `limit` verifications, newest first.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn list_verifications(&self, limit: usize) -> Result<Vec<VerificationRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT v.id, v.created_at, v.device_id, v.doc_type, v.threshold, v.status, v.matched,
                    v.front_percent, v.back_percent,
                    o.state, o.disagreement, v.response_json, o.last_error, o.remote_status,
                    v.liveness_attempt
             FROM verifications v LEFT JOIN outbox o ON o.verification_id = v.id
             ORDER BY v.id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |r| {
            Ok(VerificationRecord {
                id: r.get(0)?,
                created_at: r.get(1)?,
                device_id: r.get(2)?,
                doc_type: r.get(3)?,
                threshold: r.get(4)?,
                status: r.get(5)?,
                matched: r.get(6)?,
                front_percent: r.get(7)?,
                back_percent: r.get(8)?,
                sync_state: r.get::<_, Option<OutboxState>>(9)?.map(|state| {
                    SyncState::of(
                        state,
                        r.get::<_, Option<bool>>(10).ok().flatten().unwrap_or(false),
                    )
                }),
                response_json: r.get(11)?,
                sync_note: r.get(12)?,
                remote_status: r.get(13)?,
                liveness_attempt: r.get(14)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The embeddings recorded with a verification (None once retention purged them).
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Crypto`] or an SQLite error.
    pub fn verification_embeddings(&self, id: i64) -> Result<Option<Vec<Vec<f32>>>, StoreError> {
        let row: Option<(Option<Vec<u8>>, String)> = self
            .conn
            .query_row(
                "SELECT embeddings_sealed, row_hash FROM verifications WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (sealed, hash) =
            row.ok_or_else(|| StoreError::NotFound(format!("verification {id}")))?;
        let Some(sealed) = sealed else { return Ok(None) };
        let plain = self.key.open(&sealed, &embeddings_context(&hash))?;
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|_| StoreError::Crypto { what: format!("verification {id}") })
    }

    /// Recomputes both chains from their first rows: for the verifications, plain hashes up
    /// to the checkpoint and keyed hashes after it; checks the checkpoint's and the counters'
    /// MACs, that no row after a counter's was deleted or rewritten, that every picture still
    /// stored has the sha256 its row covers, that each attempt's verification head is in the
    /// log and that every verification naming an attempt names a passed one. Names the first
    /// problem.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn verify_chain(&self) -> Result<ChainReport, StoreError> {
        let Some(checkpoint) = Checkpoint::read(&self.conn)? else {
            return Ok(ChainReport::new(0, 0, Some(ChainProblem::CheckpointMissing)));
        };
        if !checkpoint.is_sealed_by(&self.log_key) {
            return Ok(ChainReport::new(0, 0, Some(ChainProblem::CheckpointAltered)));
        }
        let records =
            self.walk(&VerificationRows { checkpoint: &checkpoint, key: &self.log_key })?;
        if records.problem.is_some() {
            return Ok(ChainReport::new(records.rows, 0, records.problem));
        }
        let attempts =
            self.walk(&AttemptRows { verification_hashes: &records.hashes, key: &self.log_key })?;
        let problem = match attempts.problem {
            Some(problem) => Some(problem),
            None => self.unmatched_attempt_names()?,
        };
        Ok(ChainReport::new(records.rows, attempts.rows, problem))
    }

    /// The newest record's id and hash (the chain's head), if any.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn chain_head(&self) -> Result<Option<(i64, String)>, StoreError> {
        Ok(Chain::Verifications.newest(&self.conn)?)
    }

    /// A record's chain hash.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn row_hash(&self, id: i64) -> Result<Option<String>, StoreError> {
        Ok(Chain::Verifications.row_hash(&self.conn, id)?)
    }
}

/// The verification chain as `log verify`'s walk reads it: plain hashes up to the checkpoint,
/// keyed hashes after it.
struct VerificationRows<'a> {
    checkpoint: &'a Checkpoint,
    key: &'a LogKey,
}

impl ChainRows for VerificationRows<'_> {
    const CHAIN: Chain = Chain::Verifications;
    const SQL: &'static str = ROWS_WITH_PICTURES;

    fn link(&self, row: &Row<'_>) -> rusqlite::Result<Link> {
        let (hashed, prev, stored) = Hashed::from_row(row)?;
        let (id, last_v1) = (hashed.id, &self.checkpoint);
        let recomputed = if id <= last_v1.last_v1_id {
            hashed.plain_hash(&prev)
        } else {
            hashed.keyed_hash(&prev, self.key)
        };
        let own_problem = (id == last_v1.last_v1_id && stored != last_v1.last_v1_hash)
            .then_some(ChainProblem::RewrittenBeforeCheckpoint { id });
        let pictures = hashed.media.into_iter().zip(hashed.media_sha256).collect();
        Ok(Link { id, prev, stored, recomputed, own_problem, pictures })
    }

    fn after_rows(&self, last_id: i64) -> Option<ChainProblem> {
        let checkpoint = self.checkpoint.last_v1_id;
        (checkpoint > last_id)
            .then_some(ChainProblem::DeletedBeforeCheckpoint { last_id, checkpoint })
    }

    fn against_counter(&self, counted: &Counted) -> Option<ChainProblem> {
        (counted.checkpoint != self.checkpoint.last_v1_id
            || counted.checkpoint_hash != self.checkpoint.last_v1_hash)
            .then_some(ChainProblem::CheckpointRemade)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn sample(n: u8) -> NewVerification {
        NewVerification {
            doc_type: DocumentType::Gov,
            threshold: 85.0,
            status: MatchStatus::FaceMatched,
            matched: true,
            front_percent: Some(90.0 + f64::from(n)),
            request_json: format!("{{\"n\":{n}}}"),
            response_json: "{}".into(),
            models_json: "{}".into(),
            timings_json: "{}".into(),
            embeddings: vec![vec![0.5, -0.25], vec![1.0, 0.0]],
            ..NewVerification::default()
        }
    }

    fn open(dir: &Path) -> Store {
        Store::open(&dir.join("log.db"), None).unwrap()
    }

    #[test]
    fn chain_verifies_and_names_the_first_tampered_row() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path());
        for n in 0..5 {
            assert_eq!(store.record_verification(&sample(n)).unwrap(), i64::from(n) + 1);
        }
        assert_eq!(
            store.verify_chain().unwrap(),
            ChainReport { rows: 5, attempts: 0, first_broken: None, problem: None }
        );
        assert_eq!(
            store.verification_embeddings(2).unwrap(),
            Some(vec![vec![0.5, -0.25], vec![1.0, 0.0]])
        );
        let listed = store.list_verifications(3).unwrap();
        assert_eq!(listed.iter().map(|r| r.id).collect::<Vec<_>>(), vec![5, 4, 3]);
        assert_eq!(listed[0].sync_state, Some(SyncState::Pending));

        store
            .conn
            .execute("UPDATE verifications SET front_percent = 99.9 WHERE id = 3", [])
            .unwrap();
        assert_eq!(store.verify_chain().unwrap().first_broken, Some(3));
        store
            .conn
            .execute("UPDATE verifications SET front_percent = 92.0 WHERE id = 3", [])
            .unwrap();
        assert_eq!(store.verify_chain().unwrap().first_broken, None);
        // Deleting a row breaks the link of the next one.
        store.conn.execute("DELETE FROM outbox WHERE verification_id = 2", []).unwrap();
        store.conn.execute("DELETE FROM verifications WHERE id = 2", []).unwrap();
        assert_eq!(store.verify_chain().unwrap().first_broken, Some(3));
    }

    #[test]
    fn idempotency_keys_expire_and_are_released() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path());
        let entry = NewVerification { idempotency_key: Some("K".into()), ..sample(1) };
        let id = store.record_verification(&entry).unwrap();
        assert_eq!(store.verification_by_key(None, "K").unwrap().map(|v| v.id), Some(id));
        let day_and_a_bit = super::super::IDEMPOTENCY_TTL.as_millis() as i64 + 60_000;
        store
            .conn
            .execute("UPDATE verifications SET created_at = created_at - ?1", [day_and_a_bit])
            .unwrap();
        assert_eq!(store.verification_by_key(None, "K").unwrap(), None, "expired");
        // Released: the key can name a new request; the old record stays, without the key.
        let new_id = store.record_verification(&entry).unwrap();
        assert_eq!(store.verification_by_key(None, "K").unwrap().map(|v| v.id), Some(new_id));
        assert_eq!(store.list_verifications(5).unwrap().len(), 2);
    }

    #[test]
    fn media_are_sealed_scoped_and_purged() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let alice = store.add_token("alice").unwrap();
        let bob = store.add_token("bob").unwrap();
        assert!(matches!(store.add_token("alice"), Err(StoreError::Exists(_))));
        let (a, b) = (
            store.authenticate(&alice).unwrap().unwrap(),
            store.authenticate(&bob).unwrap().unwrap(),
        );
        assert_eq!(store.authenticate("fm_wrong").unwrap(), None);

        let id =
            store.insert_media(Some(a), "me.jpg", "image/jpeg", b"\xff\xd8\xffpicture").unwrap();
        assert!(id.0.starts_with("MX") && id.0.len() == 20, "{id:?}");
        assert_eq!(store.media_bytes(&id.0, Some(a)).unwrap(), b"\xff\xd8\xffpicture");
        assert!(matches!(store.media_bytes(&id.0, Some(b)), Err(StoreError::NotFound(_))));
        assert!(matches!(store.media_bytes("MXnope", Some(a)), Err(StoreError::NotFound(_))));
        let raw: Vec<u8> =
            store.conn.query_row("SELECT sealed FROM media", [], |r| r.get(0)).unwrap();
        assert!(!raw.windows(7).any(|w| w == b"picture"), "bytes are encrypted at rest");

        store.revoke_token("alice").unwrap();
        assert_eq!(store.authenticate(&alice).unwrap(), None);

        assert_eq!(store.purge_older_than(1, false).unwrap(), 0);
        store.conn.execute("UPDATE media SET created_at = created_at - 2 * 86400000", []).unwrap();
        assert_eq!(store.purge_older_than(1, false).unwrap(), 1);
        assert!(store.media_record(&id.0).unwrap().purged);
        assert!(matches!(store.media_bytes(&id.0, Some(a)), Err(StoreError::NotFound(_))));
    }

    #[test]
    fn retention_keeps_records_and_chain() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path());
        let media = store.insert_media(None, "a.png", "image/png", b"png bytes").unwrap();
        let mut v = sample(1);
        v.src_media = Some(media.clone());
        store.record_verification(&v).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        // Zero days: everything recorded before now is old enough, but the record waits
        // for sync, so its picture is kept unless unsynced pictures are included.
        assert_eq!(store.purge_older_than(0, false).unwrap(), 0);
        assert!(!store.media_record(&media.0).unwrap().purged);
        assert_eq!(store.purge_older_than(0, true).unwrap(), 1);
        assert_eq!(store.verification_embeddings(1).unwrap(), None);
        assert!(store.media_record(&media.0).unwrap().purged);
        assert_eq!(store.list_verifications(10).unwrap().len(), 1);
        assert_eq!(
            store.verify_chain().unwrap(),
            ChainReport { rows: 1, attempts: 0, first_broken: None, problem: None }
        );
    }
}
