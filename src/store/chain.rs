//! The verification log's chain, keyed so that the database file alone cannot rewrite it.
//!
//! Each row's hash covers the previous row's hash and every field that decides or records
//! the verification, the sha256 of each of its pictures included. Rows written since the
//! keyed scheme (v2) are HMAC-SHA256 under a log key derived from the device key, which is
//! not in the database. Rows written before it (v1, plain SHA-256) stay as they were: a
//! checkpoint, sealed with the log key when a database first opens with this scheme, records
//! the last v1 row and its hash, so rewriting that history changes a hash the checkpoint
//! holds. Beside the key, a counter file records the checkpoint and the newest row with
//! its hash, sealed the same way, so deleting the newest rows is seen on the device itself.
//! Remote anchors (`sync`, `log verify --remote`) cover what a holder of the key could do.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::crypto::DeviceKey;
use super::StoreError;
use crate::contract::MatchStatus;

/// The chain's starting hash.
pub(super) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The key the chain's MACs are made with, derived from the device key.
pub(super) struct LogKey([u8; 32]);

impl LogKey {
    /// The log key of `device`.
    pub(super) fn of(device: &DeviceKey) -> LogKey {
        LogKey(device.derive(b"facematch log key v1"))
    }

    /// HMAC-SHA256 of `parts` joined by newlines, as hex.
    pub(super) fn mac(&self, parts: &[&str]) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(parts.join("\n").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// The hashed content of a row, in a fixed order.
pub(super) struct Hashed {
    pub(super) id: i64,
    pub(super) created_at: i64,
    pub(super) device_id: String,
    pub(super) token_id: Option<i64>,
    pub(super) media: [Option<String>; 3],
    /// sha256 of each picture's bytes (v2 only).
    pub(super) media_sha256: [Option<String>; 3],
    pub(super) doc_type: String,
    pub(super) threshold: f64,
    pub(super) status: MatchStatus,
    pub(super) matched: bool,
    pub(super) percents: [Option<f64>; 2],
    pub(super) request_json: String,
    pub(super) response_json: String,
    pub(super) models_json: String,
    pub(super) timings_json: String,
    /// The liveness attempt that gave the selfie (kiosk rows with liveness on).
    pub(super) liveness_attempt: Option<i64>,
}

impl Hashed {
    fn fields(&self) -> Vec<serde_json::Value> {
        vec![
            json!(self.id),
            json!(self.created_at),
            json!(self.device_id),
            json!(self.token_id),
            json!(self.media),
            json!(self.doc_type),
            json!(self.threshold),
            json!(self.status.as_str()),
            json!(self.matched),
            json!(self.percents),
            json!(self.request_json),
            json!(self.response_json),
            json!(self.models_json),
            json!(self.timings_json),
        ]
    }

    /// The v1 hash: plain SHA-256 (rows written before the keyed scheme).
    pub(super) fn plain_hash(&self, prev: &str) -> String {
        let mut h = Sha256::new();
        h.update(prev.as_bytes());
        h.update(b"\n");
        h.update(serde_json::Value::Array(self.fields()).to_string().as_bytes());
        hex::encode(h.finalize())
    }

    /// The v2 hash: HMAC under the log key, the pictures' sha256 included, and the liveness
    /// attempt when there is one (so rows without one keep the hash they were written with).
    pub(super) fn keyed_hash(&self, prev: &str, key: &LogKey) -> String {
        let mut fields = self.fields();
        fields.push(json!(self.media_sha256));
        if let Some(attempt) = self.liveness_attempt {
            fields.push(json!({ "liveness_attempt": attempt }));
        }
        key.mac(&["facematch log v2", prev, &serde_json::Value::Array(fields).to_string()])
    }

    /// A row of `SELECT v.*, src/front/back sha256` with its stored `prev_hash` and `row_hash`.
    pub(super) fn from_row(r: &Row<'_>) -> rusqlite::Result<(Hashed, String, String)> {
        Ok((
            Hashed {
                id: r.get("id")?,
                created_at: r.get("created_at")?,
                device_id: r.get("device_id")?,
                token_id: r.get("token_id")?,
                media: [r.get("src_media")?, r.get("front_media")?, r.get("back_media")?],
                media_sha256: [r.get("src_sha256")?, r.get("front_sha256")?, r.get("back_sha256")?],
                doc_type: r.get("doc_type")?,
                threshold: r.get("threshold")?,
                status: r.get("status")?,
                matched: r.get("matched")?,
                percents: [r.get("front_percent")?, r.get("back_percent")?],
                request_json: r.get("request_json")?,
                response_json: r.get("response_json")?,
                models_json: r.get("models_json")?,
                timings_json: r.get("timings_json")?,
                liveness_attempt: r.get("liveness_attempt")?,
            },
            r.get("prev_hash")?,
            r.get("row_hash")?,
        ))
    }
}

/// Every verification with its pictures' sha256, in chain order.
pub(super) const ROWS_WITH_PICTURES: &str = "SELECT v.*, s.sha256 AS src_sha256,
        f.sha256 AS front_sha256, b.sha256 AS back_sha256
     FROM verifications v
     LEFT JOIN media s ON s.id = v.src_media
     LEFT JOIN media f ON f.id = v.front_media
     LEFT JOIN media b ON b.id = v.back_media
     ORDER BY v.id";

/// Where the plain (v1) rows end: the last of them and its hash, sealed under the log key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Checkpoint {
    pub(super) last_v1_id: i64,
    pub(super) last_v1_hash: String,
    pub(super) mac: Option<String>,
}

impl Checkpoint {
    fn expected_mac(&self, key: &LogKey) -> String {
        key.mac(&["facematch checkpoint v1", &self.last_v1_id.to_string(), &self.last_v1_hash])
    }

    /// The database's checkpoint, if any.
    pub(super) fn read(conn: &Connection) -> Result<Option<Checkpoint>, StoreError> {
        Ok(conn
            .query_row(
                "SELECT last_v1_id, last_v1_hash, mac FROM chain_checkpoint WHERE id = 1",
                [],
                |r| {
                    Ok(Checkpoint {
                        last_v1_id: r.get(0)?,
                        last_v1_hash: r.get(1)?,
                        mac: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Whether its MAC is the log key's.
    pub(super) fn is_sealed_by(&self, key: &LogKey) -> bool {
        self.mac.as_deref() == Some(self.expected_mac(key).as_str())
    }
}

/// Seals the checkpoint the schema migration left unsealed (the first open with the keyed
/// scheme), and starts the counter file beside the key.
pub(super) fn seal_checkpoint(
    conn: &Connection,
    key: &LogKey,
    key_path: &Path,
) -> Result<(), StoreError> {
    let counter = Chain::Verifications.path(key_path);
    let counter = counter.as_path();
    let Some(checkpoint) = Checkpoint::read(conn)? else { return Ok(()) };
    if checkpoint.mac.is_some() {
        return Ok(());
    }
    let mac = checkpoint.expected_mac(key);
    conn.execute(
        "UPDATE chain_checkpoint SET mac = ?1 WHERE id = 1 AND mac IS NULL",
        params![mac],
    )?;
    if !counter.exists() {
        let head = Counted {
            checkpoint: checkpoint.last_v1_id,
            checkpoint_hash: checkpoint.last_v1_hash.clone(),
            last_id: checkpoint.last_v1_id,
            last_hash: checkpoint.last_v1_hash,
        };
        head.write(counter, key, Chain::Verifications)?;
    }
    Ok(())
}

/// One of the log's two chains: the table that holds its rows and the counter file beside the
/// key that follows it. Each counter file is MACed under its own label, so one cannot stand in
/// for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    /// The verifications (`<key>.chain`).
    Verifications,
    /// The liveness attempts (`<key>.liveness`).
    Liveness,
}

impl Chain {
    /// The table of the chain's rows (each with `id` and `row_hash`).
    fn table(self) -> &'static str {
        match self {
            Chain::Verifications => "verifications",
            Chain::Liveness => "liveness_attempts",
        }
    }

    /// The newest row of the chain: its id and hash.
    pub(super) fn newest(self, conn: &Connection) -> rusqlite::Result<Option<(i64, String)>> {
        let sql = format!("SELECT id, row_hash FROM {} ORDER BY id DESC LIMIT 1", self.table());
        conn.query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?))).optional()
    }

    /// Where the next row goes: its id and the hash it chains to.
    pub(super) fn next(self, conn: &Connection) -> rusqlite::Result<(i64, String)> {
        Ok(self.newest(conn)?.map_or((1, GENESIS.to_string()), |(id, hash)| (id + 1, hash)))
    }

    /// Row `id`'s stored hash.
    pub(super) fn row_hash(self, conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
        let sql = format!("SELECT row_hash FROM {} WHERE id = ?1", self.table());
        conn.query_row(&sql, params![id], |r| r.get(0)).optional()
    }

    /// What the chain's rows are called in a problem: many, the newest the device wrote, one.
    pub(super) fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Chain::Verifications => ("records", "record", "record"),
            Chain::Liveness => ("liveness attempts", "attempt", "liveness attempt"),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Chain::Verifications => "facematch counter v1",
            Chain::Liveness => "facematch liveness counter v1",
        }
    }

    /// The counter file for the key at `key_path`.
    pub(super) fn path(self, key_path: &Path) -> PathBuf {
        match self {
            Chain::Verifications => super::with_suffix(key_path, ".chain"),
            Chain::Liveness => super::with_suffix(key_path, ".liveness"),
        }
    }

    /// Starts an empty chain's counter file, unless it exists.
    pub(super) fn start(self, key_path: &Path, key: &LogKey) -> Result<(), StoreError> {
        let path = self.path(key_path);
        if path.exists() {
            return Ok(());
        }
        let empty = Counted {
            checkpoint: 0,
            checkpoint_hash: GENESIS.into(),
            last_id: 0,
            last_hash: GENESIS.into(),
        };
        empty.write(&path, key, self)
    }
}

/// A counter file beside the key: the checkpoint and the newest row this device wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Counted {
    pub(super) checkpoint: i64,
    pub(super) checkpoint_hash: String,
    pub(super) last_id: i64,
    pub(super) last_hash: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CounterFile {
    #[serde(flatten)]
    counted: Counted,
    mac: String,
}

impl Counted {
    fn mac(&self, key: &LogKey, kind: Chain) -> String {
        key.mac(&[
            kind.label(),
            &self.checkpoint.to_string(),
            &self.checkpoint_hash,
            &self.last_id.to_string(),
            &self.last_hash,
        ])
    }

    /// Reads the counter file: `Ok(None)` when there is none.
    ///
    /// # Errors
    /// [`StoreError::Chain`] when it is damaged or its MAC is not the log key's.
    pub(super) fn read(
        path: &Path,
        key: &LogKey,
        kind: Chain,
    ) -> Result<Option<Counted>, StoreError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::Chain(format!("{}: {e}", path.display()))),
        };
        let file: CounterFile = toml::from_str(&text)
            .map_err(|e| StoreError::Chain(format!("{} is damaged: {e}", path.display())))?;
        if file.mac != file.counted.mac(key, kind) {
            return Err(StoreError::Chain(format!(
                "{} was altered (its MAC fails)",
                path.display()
            )));
        }
        Ok(Some(file.counted))
    }

    /// Replaces the counter file in one step.
    pub(super) fn write(&self, path: &Path, key: &LogKey, kind: Chain) -> Result<(), StoreError> {
        let io = |e: std::io::Error| StoreError::Chain(format!("{}: {e}", path.display()));
        let file = CounterFile { counted: self.clone(), mac: self.mac(key, kind) };
        let text = toml::to_string(&file).map_err(std::io::Error::other).map_err(io)?;
        crate::atomic_file::replace(path, text.as_bytes()).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_depend_on_the_key_and_every_part() {
        let dir = tempfile::tempdir().unwrap();
        let a = LogKey::of(&DeviceKey::load_or_create(&dir.path().join("a.key")).unwrap());
        let b = LogKey::of(&DeviceKey::load_or_create(&dir.path().join("b.key")).unwrap());
        assert_ne!(a.mac(&["x", "y"]), b.mac(&["x", "y"]));
        assert_ne!(a.mac(&["x", "y"]), a.mac(&["x", "z"]));
        assert_eq!(a.mac(&["x", "y"]), a.mac(&["x", "y"]));
    }

    #[test]
    fn the_counter_file_refuses_edits() {
        let dir = tempfile::tempdir().unwrap();
        let key = LogKey::of(&DeviceKey::load_or_create(&dir.path().join("k.key")).unwrap());
        let path = dir.path().join("k.key.chain");
        let counted = Counted {
            checkpoint: 0,
            checkpoint_hash: GENESIS.into(),
            last_id: 7,
            last_hash: "ab".into(),
        };
        counted.write(&path, &key, Chain::Verifications).unwrap();
        assert_eq!(Counted::read(&path, &key, Chain::Verifications).unwrap(), Some(counted));
        let other = Counted::read(&path, &key, Chain::Liveness).unwrap_err();
        assert!(other.to_string().contains("altered"), "one chain's counter is not the other's");
        let text = std::fs::read_to_string(&path).unwrap().replace("last_id = 7", "last_id = 5");
        std::fs::write(&path, text).unwrap();
        let edited = Counted::read(&path, &key, Chain::Verifications).unwrap_err();
        assert!(edited.to_string().contains("altered"));
    }
}
