//! Chain anchors. On a server: the newest record each device has synced, per token, so
//! the device can later prove its log was not rewritten or cut. On a device: the newest
//! record a remote confirmed it keeps (shown on the operator screen).
//!
//! A server cannot check a device's hash, only the order of its records: an anchor moves
//! forward by at most [`MAX_ANCHOR_STEP`] records at a time and never back, and a record
//! already kept keeps its hash. The first anchor of a device is taken on trust.

use rusqlite::{params, OptionalExtension};

use super::{now_ms, Store, StoreError, TokenId};
use crate::contract::Anchor;

/// The furthest an anchor may move forward in one step: the records a device may have parked
/// (never sent) between two it synced. A bigger jump is refused, so that one forged call
/// cannot move the anchor far beyond the device's real log.
pub const MAX_ANCHOR_STEP: i64 = 1000;

/// What became of an anchor sent to this server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorOutcome {
    /// Kept: the device's first, or the next after the one kept.
    Kept,
    /// The record kept already, with the same hash (a retried call).
    Again,
    /// Refused: older than the record kept (`kept`).
    Rewind {
        /// The record kept.
        kept: i64,
    },
    /// Refused: more than [`MAX_ANCHOR_STEP`] records beyond the one kept.
    Jump {
        /// The record kept.
        kept: i64,
    },
    /// Refused: the record kept, with another hash.
    OtherHash,
}

impl Store {
    /// Keeps `anchor` for `token` if it follows the one kept for that device (see
    /// [`AnchorOutcome`]); a refused one changes nothing.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn keep_anchor(
        &self,
        token: TokenId,
        anchor: &Anchor,
    ) -> Result<AnchorOutcome, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let outcome = match self.anchor(token, &anchor.device_id)? {
            None => AnchorOutcome::Kept,
            Some(kept) if kept.record_id == anchor.record_id => {
                if kept.hash == anchor.hash {
                    AnchorOutcome::Again
                } else {
                    AnchorOutcome::OtherHash
                }
            }
            Some(kept) if anchor.record_id < kept.record_id => {
                AnchorOutcome::Rewind { kept: kept.record_id }
            }
            Some(kept) if anchor.record_id - kept.record_id > MAX_ANCHOR_STEP => {
                AnchorOutcome::Jump { kept: kept.record_id }
            }
            Some(_) => AnchorOutcome::Kept,
        };
        if outcome == AnchorOutcome::Kept {
            tx.execute(
                "INSERT INTO anchors (token_id, device_id, record_id, row_hash, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (token_id, device_id) DO UPDATE
                    SET record_id = excluded.record_id, row_hash = excluded.row_hash,
                        updated_at = excluded.updated_at",
                params![token.0, anchor.device_id, anchor.record_id, anchor.hash, now_ms()],
            )?;
        }
        tx.commit()?;
        Ok(outcome)
    }

    /// The newest anchor `token` sent for `device_id`.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn anchor(&self, token: TokenId, device_id: &str) -> Result<Option<Anchor>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT record_id, row_hash FROM anchors WHERE token_id = ?1 AND device_id = ?2",
                params![token.0, device_id],
                |r| {
                    Ok(Anchor {
                        device_id: device_id.to_string(),
                        record_id: r.get(0)?,
                        hash: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// Notes that the remote keeps this device's record `record_id` as its anchor.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn note_remote_anchor(&self, record_id: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('remote_anchor', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value
                WHERE CAST(excluded.value AS INTEGER) > CAST(meta.value AS INTEGER)",
            params![record_id.to_string()],
        )?;
        Ok(())
    }

    /// The newest record a remote confirmed it keeps as this device's anchor.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn remote_anchor(&self) -> Result<Option<i64>, StoreError> {
        let value: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'remote_anchor'", [], |r| r.get(0))
            .optional()?;
        Ok(value.and_then(|v| v.parse().ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_only_move_forward_by_bounded_steps_and_keep_their_hash() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hub.db"), None).unwrap();
        let secret = store.add_token("device").unwrap();
        let token = store.authenticate(&secret).unwrap().unwrap();
        let at = |record_id: i64, hash: &str| Anchor {
            device_id: "DEVabc".into(),
            record_id,
            hash: hash.repeat(64),
        };
        assert_eq!(store.keep_anchor(token, &at(5, "a")).unwrap(), AnchorOutcome::Kept);
        assert_eq!(store.keep_anchor(token, &at(5, "a")).unwrap(), AnchorOutcome::Again);
        assert_eq!(store.keep_anchor(token, &at(5, "b")).unwrap(), AnchorOutcome::OtherHash);
        assert_eq!(
            store.keep_anchor(token, &at(4, "c")).unwrap(),
            AnchorOutcome::Rewind { kept: 5 }
        );
        assert_eq!(
            store.keep_anchor(token, &at(5 + MAX_ANCHOR_STEP + 1, "d")).unwrap(),
            AnchorOutcome::Jump { kept: 5 }
        );
        assert_eq!(
            store.anchor(token, "DEVabc").unwrap().unwrap(),
            at(5, "a"),
            "refusals change nothing"
        );
        assert_eq!(
            store.keep_anchor(token, &at(5 + MAX_ANCHOR_STEP, "e")).unwrap(),
            AnchorOutcome::Kept
        );
        assert_eq!(store.anchor(token, "DEVabc").unwrap().unwrap().record_id, 5 + MAX_ANCHOR_STEP);
    }
}
