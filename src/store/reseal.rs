//! `log reseal`: the one deliberate way to start the counters beside the key again, after
//! they were lost or replaced. Nothing else ever writes a counter that is missing or altered
//! (that would hide deleted records); a reseal is kept in the database and `log verify` names
//! it every time, because records deleted before it can no longer be seen.

use rusqlite::{params, OptionalExtension};

use super::chain::{Chain, Checkpoint, Counted, GENESIS};
use super::{now_ms, Store, StoreError};

impl Store {
    /// Writes both counters afresh at the chains' current heads and records that it did, with
    /// `reason` and what each counter said before. Returns one line per counter.
    ///
    /// # Errors
    /// A counter that cannot be written, or an SQLite error.
    pub fn reseal(&self, reason: &str) -> Result<Vec<String>, StoreError> {
        let (checkpoint, checkpoint_hash) = Checkpoint::read(&self.conn)?
            .map_or((0, GENESIS.to_string()), |c| (c.last_v1_id, c.last_v1_hash));
        let mut lines = Vec::new();
        for kind in [Chain::Verifications, Chain::Liveness] {
            let path = self.counter_file(kind).to_path_buf();
            let before = match Counted::read(&path, &self.log_key, kind) {
                Ok(Some(counted)) => format!("at {}", counted.last_id),
                Ok(None) => "missing".to_string(),
                Err(e) => format!("unusable ({e})"),
            };
            let (last_id, last_hash) = kind.newest(&self.conn)?.unwrap_or((0, GENESIS.to_string()));
            let (checkpoint, checkpoint_hash) = match kind {
                Chain::Verifications => (checkpoint, checkpoint_hash.clone()),
                Chain::Liveness => (0, GENESIS.to_string()),
            };
            Counted { checkpoint, checkpoint_hash, last_id, last_hash }.write(
                &path,
                &self.log_key,
                kind,
            )?;
            lines.push(format!("{}: was {before}, now at {last_id}", path.display()));
        }
        self.record_note("log reseal", reason, &lines)?;
        Ok(lines)
    }

    /// Keeps a note that `what` (`log reseal`, `log upgrade`) accepted the log as found.
    pub(super) fn record_note(
        &self,
        what: &str,
        reason: &str,
        details: &[String],
    ) -> Result<(), StoreError> {
        let entry = serde_json::json!({ "at": now_ms(), "what": what, "reason": reason, "counters": details });
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('reseals', ?1)
             ON CONFLICT (key) DO UPDATE SET value = meta.value || char(10) || excluded.value",
            params![entry.to_string()],
        )?;
        Ok(())
    }

    /// Every reseal or old-database upgrade this database records, oldest first (one JSON
    /// object each: `at`, `what`, `reason`, `counters`).
    ///
    /// # Errors
    /// An SQLite error.
    pub fn reseals(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'reseals'", [], |r| r.get(0))
            .optional()?;
        Ok(text
            .unwrap_or_default()
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or(serde_json::Value::String(line.into()))
            })
            .collect())
    }
}
