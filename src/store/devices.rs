//! On a hub: each device's newest heartbeat, kept per device with the token that sent it; a
//! device whose heartbeats or anchors come with one live token takes no heartbeat from another.

use rusqlite::{params, OptionalExtension};

use super::{now_ms, Store, StoreError, TokenId};

/// What became of a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeartbeatOutcome {
    /// Kept; the hub's clock minus the device's, in ms.
    Kept {
        /// Hub minus device.
        clock_offset_ms: i64,
    },
    /// Refused: the device's heartbeats come with another token, still valid.
    OtherToken,
}

/// Whether a device whose heartbeats came with `owner` (its token, and whether that token is
/// live) belongs to another token than `token`: a revoked token lets its device go.
pub(super) fn held_by_another(owner: Option<(Option<i64>, bool)>, token: TokenId) -> bool {
    matches!(owner, Some((Some(owner), true)) if owner != token.0)
}

/// Whether another live token than `token` speaks for `device_id`: the one its heartbeats, its
/// newest anchor or its newest liveness attempt came with.
pub(super) fn another_token_holds(
    conn: &rusqlite::Connection,
    device_id: &str,
    token: TokenId,
) -> Result<bool, StoreError> {
    let owner = |sql: &str| -> Result<Option<(Option<i64>, bool)>, StoreError> {
        Ok(conn.query_row(sql, params![device_id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)
    };
    let holders = [
        owner(
            "SELECT h.token_id, t.revoked_at IS NULL AND t.id IS NOT NULL
             FROM device_heartbeats h LEFT JOIN tokens t ON t.id = h.token_id
             WHERE h.device_id = ?1",
        )?,
        owner(
            "SELECT a.token_id, t.revoked_at IS NULL AND t.id IS NOT NULL
             FROM anchor_records a LEFT JOIN tokens t ON t.id = a.token_id
             WHERE a.device_id = ?1 ORDER BY a.record_id DESC LIMIT 1",
        )?,
        owner(
            "SELECT a.token_id, t.revoked_at IS NULL AND t.id IS NOT NULL
             FROM device_attempts a LEFT JOIN tokens t ON t.id = a.token_id
             WHERE a.device_id = ?1 ORDER BY a.attempt_id DESC LIMIT 1",
        )?,
    ];
    Ok(holders.into_iter().any(|holder| held_by_another(holder, token)))
}

impl Store {
    /// Keeps `device_id`'s heartbeat (`heartbeat_json`, sent at `sent_at_ms` by its clock) in
    /// place of the one before, unless the device belongs to another live token.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn keep_heartbeat(
        &self,
        token: TokenId,
        device_id: &str,
        heartbeat_json: &str,
        sent_at_ms: i64,
    ) -> Result<HeartbeatOutcome, StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )?;
        if another_token_holds(&tx, device_id, token)? {
            return Ok(HeartbeatOutcome::OtherToken);
        }
        let now = now_ms();
        let clock_offset_ms = now.saturating_sub(sent_at_ms);
        tx.execute(
            "INSERT INTO device_heartbeats
                 (device_id, token_id, first_seen, last_seen, clock_offset_ms, heartbeat_json)
             VALUES (?1, ?2, ?3, ?3, ?4, ?5)
             ON CONFLICT (device_id) DO UPDATE SET token_id = excluded.token_id,
                 last_seen = excluded.last_seen, clock_offset_ms = excluded.clock_offset_ms,
                 heartbeat_json = excluded.heartbeat_json",
            params![device_id, token.0, now, clock_offset_ms, heartbeat_json],
        )?;
        tx.commit()?;
        Ok(HeartbeatOutcome::Kept { clock_offset_ms })
    }
}

impl Store {
    /// `device_id`'s newest heartbeat as it was kept (JSON), if it sent one.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn heartbeat_json(&self, device_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT heartbeat_json FROM device_heartbeats WHERE device_id = ?1",
                params![device_id],
                |r| r.get(0),
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_keeps_its_token_and_its_newest_heartbeat() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hub.db"), None).unwrap();
        let token = store.authenticate(&store.add_token("kiosk").unwrap()).unwrap().unwrap();
        let thief = store.authenticate(&store.add_token("other").unwrap()).unwrap().unwrap();
        let kept = store.keep_heartbeat(token, "DEVa", "{\"n\":1}", now_ms() - 5_000).unwrap();
        let HeartbeatOutcome::Kept { clock_offset_ms } = kept else { panic!("{kept:?}") };
        assert!((5_000..15_000).contains(&clock_offset_ms), "{clock_offset_ms}");
        assert_eq!(
            store.keep_heartbeat(thief, "DEVa", "{\"n\":2}", now_ms()).unwrap(),
            HeartbeatOutcome::OtherToken
        );
        store.keep_heartbeat(token, "DEVa", "{\"n\":3}", now_ms()).unwrap();
        let newest: String = store
            .conn
            .query_row("SELECT heartbeat_json FROM device_heartbeats", [], |r| r.get(0))
            .unwrap();
        assert_eq!(newest, "{\"n\":3}", "one row per device, the newest");
        // A device whose anchors come with a live token is that token's, heartbeat or not.
        let anchor = crate::contract::Anchor {
            device_id: "DEVb".into(),
            record_id: 1,
            hash: "a".repeat(64),
        };
        store.keep_anchor(token, &anchor).unwrap();
        assert_eq!(
            store.keep_heartbeat(thief, "DEVb", "{}", now_ms()).unwrap(),
            HeartbeatOutcome::OtherToken
        );
        // Once the device's token is revoked, its replacement takes the device over.
        store.revoke_token("kiosk").unwrap();
        assert!(matches!(
            store.keep_heartbeat(thief, "DEVa", "{}", now_ms()).unwrap(),
            HeartbeatOutcome::Kept { .. }
        ));
    }
}
