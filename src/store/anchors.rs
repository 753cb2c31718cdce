//! Chain anchors. On a server: the newest record each device has synced, per token, so
//! the device can later prove its log was not rewritten or cut. On a device: the newest
//! record a remote confirmed it keeps (shown on the operator screen).

use rusqlite::{params, OptionalExtension};

use super::{now_ms, Store, StoreError, TokenId};
use crate::contract::Anchor;

impl Store {
    /// Keeps `anchor` for `token` unless a newer record of that device is already kept.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn keep_anchor(&self, token: TokenId, anchor: &Anchor) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO anchors (token_id, device_id, record_id, row_hash, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (token_id, device_id) DO UPDATE
                SET record_id = excluded.record_id, row_hash = excluded.row_hash,
                    updated_at = excluded.updated_at
                WHERE excluded.record_id >= anchors.record_id",
            params![token.0, anchor.device_id, anchor.record_id, anchor.hash, now_ms()],
        )?;
        Ok(())
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
