//! Chain anchors. On a server (a hub): every record each device has synced, with its hash,
//! kept for good, so the device can later prove its log was not rewritten or cut: each kept
//! record is compared, not only the newest. On a device: the newest record a remote confirmed
//! it keeps (shown on the operator screen).
//!
//! A hub cannot check a device's hash, only the order of its records: an anchor moves forward
//! by at most [`MAX_ANCHOR_STEP`] records at a time and never back, a kept record keeps its
//! hash, and a device whose anchors came with one live token takes none from another. The
//! first anchor of a device is taken on trust.

use rusqlite::{params, OptionalExtension};

use super::{now_ms, Store, StoreError, TokenId};
use crate::contract::Anchor;

/// The furthest an anchor may move forward in one step: the records a device may have parked
/// (never sent) between two it synced. A bigger jump is refused, so that one forged call
/// cannot move the anchor far beyond the device's real log.
pub const MAX_ANCHOR_STEP: i64 = 1000;

/// The most kept anchors one page of [`Store::anchors_after`] holds.
pub const ANCHOR_PAGE: usize = 500;

/// What became of an anchor sent to this server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorOutcome {
    /// Kept: the device's first, or the next after the newest kept.
    Kept,
    /// The record kept already, with the same hash (a retried call).
    Again,
    /// Refused: older than the newest record kept (`kept`), and not kept itself.
    Rewind {
        /// The newest record kept.
        kept: i64,
    },
    /// Refused: more than [`MAX_ANCHOR_STEP`] records beyond the newest kept.
    Jump {
        /// The newest record kept.
        kept: i64,
    },
    /// Refused: a record kept already, with another hash.
    OtherHash,
    /// Refused: the device's anchors come with another token, still valid.
    OtherToken,
}

/// What becomes of `anchor`, sent with `token`, given the hash kept for its record (`same`)
/// and the device's newest kept record with its token and whether that token is live
/// (`newest`): the rules of [`AnchorOutcome`], for a device's SQLite store and a hub's
/// PostgreSQL alike.
pub(super) fn outcome(
    anchor: &Anchor,
    token: TokenId,
    same: Option<String>,
    newest: Option<(i64, Option<i64>, bool)>,
) -> AnchorOutcome {
    match (same, newest) {
        (Some(hash), _) if hash == anchor.hash => AnchorOutcome::Again,
        (Some(_), _) => AnchorOutcome::OtherHash,
        (None, None) => AnchorOutcome::Kept,
        (None, Some((_, Some(owner), true))) if owner != token.0 => AnchorOutcome::OtherToken,
        (None, Some((kept, _, _))) if anchor.record_id < kept => AnchorOutcome::Rewind { kept },
        (None, Some((kept, _, _))) if anchor.record_id - kept > MAX_ANCHOR_STEP => {
            AnchorOutcome::Jump { kept }
        }
        (None, Some(_)) => AnchorOutcome::Kept,
    }
}

impl Store {
    /// Keeps `anchor`, sent with `token`, if it follows what is kept for that device (see
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
        let same: Option<String> = tx
            .query_row(
                "SELECT row_hash FROM anchor_records WHERE device_id = ?1 AND record_id = ?2",
                params![anchor.device_id, anchor.record_id],
                |r| r.get(0),
            )
            .optional()?;
        let newest: Option<(i64, Option<i64>, bool)> = tx
            .query_row(
                "SELECT a.record_id, a.token_id, t.revoked_at IS NULL AND t.id IS NOT NULL
                 FROM anchor_records a LEFT JOIN tokens t ON t.id = a.token_id
                 WHERE a.device_id = ?1 ORDER BY a.record_id DESC LIMIT 1",
                params![anchor.device_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let outcome = outcome(anchor, token, same, newest);
        if outcome == AnchorOutcome::Kept {
            tx.execute(
                "INSERT INTO anchor_records (device_id, record_id, row_hash, token_id, kept_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![anchor.device_id, anchor.record_id, anchor.hash, token.0, now_ms()],
            )?;
        }
        tx.commit()?;
        Ok(outcome)
    }

    /// The newest anchor kept for `device_id`.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn anchor(&self, device_id: &str) -> Result<Option<Anchor>, StoreError> {
        Ok(self.anchors_after(device_id, i64::MAX - 1, true)?.pop())
    }

    /// The anchors kept for `device_id` after record `after`, oldest first, at most
    /// [`ANCHOR_PAGE`] (`newest_only`: just the newest of all).
    ///
    /// # Errors
    /// An SQLite error.
    pub fn anchors_after(
        &self,
        device_id: &str,
        after: i64,
        newest_only: bool,
    ) -> Result<Vec<Anchor>, StoreError> {
        let sql = if newest_only {
            "SELECT record_id, row_hash FROM anchor_records WHERE device_id = ?1
             ORDER BY record_id DESC LIMIT 1"
        } else {
            "SELECT record_id, row_hash FROM anchor_records WHERE device_id = ?1 AND record_id > ?2
             ORDER BY record_id LIMIT ?3"
        };
        let mut stmt = self.conn.prepare(sql)?;
        let row = |r: &rusqlite::Row<'_>| {
            Ok(Anchor { device_id: device_id.to_string(), record_id: r.get(0)?, hash: r.get(1)? })
        };
        let rows = if newest_only {
            stmt.query_map(params![device_id], row)?.collect::<Result<Vec<_>, _>>()?
        } else {
            stmt.query_map(params![device_id, after, ANCHOR_PAGE as i64], row)?
                .collect::<Result<Vec<_>, _>>()?
        };
        Ok(rows)
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
    fn anchors_only_move_forward_by_bounded_steps_keep_their_hash_and_their_token() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hub.db"), None).unwrap();
        let token = store.authenticate(&store.add_token("device").unwrap()).unwrap().unwrap();
        let thief = store.authenticate(&store.add_token("other").unwrap()).unwrap().unwrap();
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
        assert_eq!(store.keep_anchor(thief, &at(6, "e")).unwrap(), AnchorOutcome::OtherToken);
        assert_eq!(store.anchor("DEVabc").unwrap().unwrap(), at(5, "a"), "refusals change nothing");
        assert_eq!(store.keep_anchor(token, &at(7, "f")).unwrap(), AnchorOutcome::Kept);
        // Every kept anchor stays, in order; a later one never replaces an earlier one.
        let kept = store.anchors_after("DEVabc", 0, false).unwrap();
        assert_eq!(kept, vec![at(5, "a"), at(7, "f")]);
        assert_eq!(store.keep_anchor(token, &at(5, "g")).unwrap(), AnchorOutcome::OtherHash);
        // Once the device's token is revoked, its replacement continues the same anchors.
        store.revoke_token("device").unwrap();
        assert_eq!(store.keep_anchor(thief, &at(8, "h")).unwrap(), AnchorOutcome::Kept);
        assert_eq!(
            store.keep_anchor(thief, &at(6, "i")).unwrap(),
            AnchorOutcome::Rewind { kept: 8 }
        );
    }
}
