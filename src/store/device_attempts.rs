//! On a hub: each device's liveness attempts, sent by its sync after a heartbeat, kept in the
//! order of the device's own liveness chain. The hub cannot recompute a device's hashes (they
//! are keyed by the device's key), but it holds them in order: an attempt must name the hash of
//! the one before, an attempt sent again must be the one held, and only the device's token
//! speaks for it. A failed attempt's frame is a picture the same token uploaded first.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension};

use super::attempts::{chained_from_row, ChainedAttempt};
use super::chain::GENESIS;
use super::devices::another_token_holds;
use super::{now_ms, Store, StoreError, TokenId};

/// What became of attempts a device sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptsOutcome {
    /// Kept: how many were new, and the newest the hub now holds.
    Kept {
        /// Attempts new to the hub.
        kept: usize,
        /// The newest attempt held.
        last: Option<i64>,
    },
    /// Refused: the device's heartbeats or anchors come with another token, still valid.
    OtherToken,
    /// Refused: they do not continue what the hub holds, or name a frame this token did not
    /// upload (the reason).
    Refused(String),
}

/// The most attempts one call carries.
pub const ATTEMPT_BATCH: usize = 20;

/// What of a batch a hub keeps.
pub(super) struct ToKeep<'a> {
    /// The attempts new to the hub, in order.
    pub new: Vec<&'a ChainedAttempt>,
    /// The newest attempt the hub holds once they are kept.
    pub last: Option<i64>,
}

/// Which of `batch` (in chain order) are new to a hub that holds `held` (attempt id → hash,
/// among the batch's ids) and `newest` (its newest attempt of the device): each new one must
/// follow the one before, and one held already must be the same; the refusal's reason
/// otherwise.
pub(super) fn to_keep<'a>(
    batch: &'a [ChainedAttempt],
    newest: Option<(i64, String)>,
    held: &HashMap<i64, String>,
) -> Result<ToKeep<'a>, String> {
    let mut tip = newest;
    let mut keep = Vec::new();
    let mut before = 0;
    for a in batch {
        let id = a.attempt.id;
        if id <= before {
            return Err(format!("attempt {id} comes after attempt {before}: send them in order"));
        }
        before = id;
        if let Some(hash) = held.get(&id) {
            if *hash != a.row_hash {
                return Err(format!("attempt {id} differs from the one the hub holds"));
            }
            continue;
        }
        let follows = match &tip {
            Some((tip_id, tip_hash)) => id == tip_id + 1 && a.prev_hash == *tip_hash,
            None => id == 1 && a.prev_hash == GENESIS,
        };
        if !follows {
            let after =
                tip.as_ref().map_or("the chain's start".into(), |t| format!("attempt {}", t.0));
            return Err(format!("attempt {id} does not follow {after}, which the hub holds"));
        }
        tip = Some((id, a.row_hash.clone()));
        keep.push(a);
    }
    Ok(ToKeep { new: keep, last: tip.map(|(id, _)| id) })
}

impl Store {
    /// Keeps `device_id`'s attempts that are new to this hub (see the module doc).
    ///
    /// # Errors
    /// An SQLite error; nothing is kept then.
    pub fn keep_device_attempts(
        &self,
        token: TokenId,
        device_id: &str,
        batch: &[ChainedAttempt],
    ) -> Result<AttemptsOutcome, StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )?;
        if another_token_holds(&tx, device_id, token)? {
            return Ok(AttemptsOutcome::OtherToken);
        }
        let newest = newest_attempt(&tx, device_id)?;
        let mut held = HashMap::new();
        {
            let mut stmt = tx.prepare(
                "SELECT row_hash FROM device_attempts WHERE device_id = ?1 AND attempt_id = ?2",
            )?;
            for a in batch {
                if let Some(hash) = stmt
                    .query_row(params![device_id, a.attempt.id], |r| r.get::<_, String>(0))
                    .optional()?
                {
                    held.insert(a.attempt.id, hash);
                }
            }
        }
        let keep = match to_keep(batch, newest, &held) {
            Ok(keep) => keep,
            Err(reason) => return Ok(AttemptsOutcome::Refused(reason)),
        };
        for a in &keep.new {
            if let Some(frame) = &a.attempt.frame_media {
                let owned: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM media WHERE id = ?1 AND owner_token = ?2)",
                    params![frame, token.0],
                    |r| r.get(0),
                )?;
                if !owned {
                    return Ok(AttemptsOutcome::Refused(format!(
                        "attempt {}'s frame {frame} is not a picture this token uploaded",
                        a.attempt.id
                    )));
                }
            }
            let t = &a.attempt;
            tx.execute(
                "INSERT INTO device_attempts (device_id, attempt_id, token_id, created_at, live,
                     reason, challenge, evidence_json, frame_media, verification, prev_hash,
                     row_hash, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    device_id,
                    t.id,
                    token.0,
                    t.created_at,
                    t.live,
                    t.reason,
                    t.challenge,
                    t.evidence_json,
                    t.frame_media,
                    t.verification,
                    a.prev_hash,
                    a.row_hash,
                    now_ms()
                ],
            )?;
        }
        tx.commit()?;
        Ok(AttemptsOutcome::Kept { kept: keep.new.len(), last: keep.last })
    }

    /// The newest of `device_id`'s attempts this hub holds.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn last_device_attempt(&self, device_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(newest_attempt(&self.conn, device_id)?.map(|n| n.0))
    }

    /// `device_id`'s attempts this hub holds, newest first, at most `limit`.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn device_attempts(
        &self,
        device_id: &str,
        limit: usize,
    ) -> Result<Vec<ChainedAttempt>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT attempt_id, created_at, device_id, live, reason, challenge, evidence_json,
                    frame_media, verification, prev_hash, row_hash
             FROM device_attempts WHERE device_id = ?1 ORDER BY attempt_id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![device_id, limit as i64], chained_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The newest attempt held of `device_id`: its id and hash.
fn newest_attempt(
    conn: &rusqlite::Connection,
    device_id: &str,
) -> Result<Option<(i64, String)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT attempt_id, row_hash FROM device_attempts WHERE device_id = ?1
             ORDER BY attempt_id DESC LIMIT 1",
            params![device_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AttemptRecord;

    fn attempt(id: i64, prev: &str, hash: &str) -> ChainedAttempt {
        ChainedAttempt {
            attempt: AttemptRecord {
                id,
                created_at: 1,
                device_id: "DEV".into(),
                live: false,
                reason: Some("movement_not_seen".into()),
                challenge: "left".into(),
                evidence_json: "{}".into(),
                frame_media: None,
                verification: None,
            },
            prev_hash: prev.into(),
            row_hash: hash.into(),
        }
    }

    #[test]
    fn attempts_are_kept_in_the_devices_order_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hub.db"), None).unwrap();
        let token = store.authenticate(&store.add_token("kiosk").unwrap()).unwrap().unwrap();
        let (a, b, c) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
        let first = [attempt(1, GENESIS, &a), attempt(2, &a, &b)];
        let kept = store.keep_device_attempts(token, "DEV", &first).unwrap();
        assert_eq!(kept, AttemptsOutcome::Kept { kept: 2, last: Some(2) });
        // Sent again with the next one (a retry after a lost answer): only the new one is kept.
        let again = [attempt(2, &a, &b), attempt(3, &b, &c)];
        let kept = store.keep_device_attempts(token, "DEV", &again).unwrap();
        assert_eq!(kept, AttemptsOutcome::Kept { kept: 1, last: Some(3) });
        // A gap, a wrong predecessor, or another version of a held one: refused, nothing kept.
        for (batch, says) in [
            (vec![attempt(5, &c, &a)], "does not follow attempt 3"),
            (vec![attempt(4, &a, &a)], "does not follow attempt 3"),
            (vec![attempt(2, &a, &c)], "differs from the one the hub holds"),
            (vec![attempt(4, &c, &a), attempt(4, &a, &b)], "in order"),
        ] {
            let outcome = store.keep_device_attempts(token, "DEV", &batch).unwrap();
            let AttemptsOutcome::Refused(reason) = &outcome else { panic!("{outcome:?}") };
            assert!(reason.contains(says), "{reason}");
        }
        assert_eq!(store.last_device_attempt("DEV").unwrap(), Some(3));
        // A new device starts at its chain's start.
        let outcome = store.keep_device_attempts(token, "DEV2", &[attempt(2, &a, &b)]).unwrap();
        assert!(matches!(outcome, AttemptsOutcome::Refused(_)), "{outcome:?}");
        // A frame must be this token's upload.
        let mut framed = attempt(4, &c, &a);
        framed.attempt.frame_media = Some("MXnone".into());
        let outcome = store.keep_device_attempts(token, "DEV", &[framed]).unwrap();
        assert!(matches!(&outcome, AttemptsOutcome::Refused(r) if r.contains("frame")));
        // Another live token cannot speak for the device.
        let thief = store.authenticate(&store.add_token("other").unwrap()).unwrap().unwrap();
        store.keep_heartbeat(token, "DEV", "{}", now_ms()).unwrap();
        let outcome = store.keep_device_attempts(thief, "DEV", &[attempt(4, &c, &a)]).unwrap();
        assert_eq!(outcome, AttemptsOutcome::OtherToken);
        assert_eq!(store.device_attempts("DEV", 10).unwrap().len(), 3);
    }
}
