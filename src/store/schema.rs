//! Schema migrations, tracked in `PRAGMA user_version`.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

/// Migrations in order; `MIGRATIONS[i]` takes the schema from version i to i+1.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE TABLE media (
    id            TEXT PRIMARY KEY,
    owner_token   INTEGER REFERENCES tokens(id),
    original_name TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    sealed        BLOB,
    created_at    INTEGER NOT NULL,
    purged_at     INTEGER
);
CREATE TABLE verifications (
    id                INTEGER PRIMARY KEY,
    created_at        INTEGER NOT NULL,
    device_id         TEXT NOT NULL,
    token_id          INTEGER REFERENCES tokens(id),
    src_media         TEXT REFERENCES media(id),
    front_media       TEXT REFERENCES media(id),
    back_media        TEXT REFERENCES media(id),
    doc_type          TEXT NOT NULL,
    threshold         REAL NOT NULL,
    status            TEXT NOT NULL,
    matched           INTEGER NOT NULL,
    front_percent     REAL,
    back_percent      REAL,
    request_json      TEXT NOT NULL,
    response_json     TEXT NOT NULL,
    models_json       TEXT NOT NULL,
    timings_json      TEXT NOT NULL,
    embeddings_sealed BLOB,
    prev_hash         TEXT NOT NULL,
    row_hash          TEXT NOT NULL
);
CREATE TABLE outbox (
    verification_id INTEGER PRIMARY KEY REFERENCES verifications(id),
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX media_created ON media(created_at);
",
    r"
-- v2: sync. Remote media ids (upload once), the remote verdict beside the local
-- one, and idempotency keys so that a retried call is answered, not repeated.
ALTER TABLE media ADD COLUMN remote_id TEXT;
ALTER TABLE media ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX media_idempotency ON media(owner_token, idempotency_key) WHERE idempotency_key IS NOT NULL;
ALTER TABLE verifications ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX verifications_idempotency ON verifications(token_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
ALTER TABLE outbox ADD COLUMN remote_status TEXT;
ALTER TABLE outbox ADD COLUMN remote_valid INTEGER;
ALTER TABLE outbox ADD COLUMN remote_response_json TEXT;
ALTER TABLE outbox ADD COLUMN disagreement INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN synced_at INTEGER;
CREATE INDEX outbox_state ON outbox(state, verification_id);
",
    r"
-- v3: each UTC day's request counts per token and API ('' = all its APIs), so that
-- daily rate limits hold across restarts.
CREATE TABLE request_counts (
    token_id INTEGER NOT NULL REFERENCES tokens(id),
    api      TEXT NOT NULL,
    day      INTEGER NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (token_id, api, day)
);
",
    r"
-- v4: the keyed chain. Rows so far keep their plain SHA-256 hashes; the checkpoint records
-- the last of them (sealed with the log key at the next open) and later rows are HMACs.
CREATE TABLE chain_checkpoint (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    last_v1_id   INTEGER NOT NULL,
    last_v1_hash TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    mac          TEXT
);
INSERT INTO chain_checkpoint (id, last_v1_id, last_v1_hash, created_at)
SELECT 1, COALESCE(MAX(id), 0),
       COALESCE((SELECT row_hash FROM verifications ORDER BY id DESC LIMIT 1),
                '0000000000000000000000000000000000000000000000000000000000000000'),
       CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM verifications;
-- What this server keeps for the devices that sync to it: the newest record seen per device.
CREATE TABLE anchors (
    token_id   INTEGER NOT NULL REFERENCES tokens(id),
    device_id  TEXT NOT NULL,
    record_id  INTEGER NOT NULL,
    row_hash   TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (token_id, device_id)
);
",
    r"
-- v5: the liveness log. Every attempt at the kiosk's challenge, passed or failed, in a keyed
-- chain of its own that also holds the verification chain's head at its time; a verification
-- names the attempt its selfie came from (covered by its hash).
CREATE TABLE liveness_attempts (
    id             INTEGER PRIMARY KEY,
    created_at     INTEGER NOT NULL,
    device_id      TEXT NOT NULL,
    live           INTEGER NOT NULL,
    reason         TEXT,
    challenge      TEXT NOT NULL,
    evidence_json  TEXT NOT NULL,
    frame_media    TEXT REFERENCES media(id),
    after_record   INTEGER,
    after_hash     TEXT,
    prev_hash      TEXT NOT NULL,
    row_hash       TEXT NOT NULL
);
CREATE INDEX liveness_attempts_created ON liveness_attempts(created_at);
ALTER TABLE verifications ADD COLUMN liveness_attempt INTEGER REFERENCES liveness_attempts(id);
",
    r"
-- v6: a remote media id belongs to the remote that gave it (its base URL); ids kept before
-- name none, and are uploaded again (under the same idempotency key) when next needed.
ALTER TABLE media ADD COLUMN remote_url TEXT;
-- On a hub: every anchor kept, per device whichever token sent it, never replaced, so that a
-- device's later honest records cannot cover a rewrite of earlier ones.
CREATE TABLE anchor_records (
    device_id TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    row_hash  TEXT NOT NULL,
    token_id  INTEGER REFERENCES tokens(id),
    kept_at   INTEGER NOT NULL,
    PRIMARY KEY (device_id, record_id)
);
INSERT OR IGNORE INTO anchor_records (device_id, record_id, row_hash, token_id, kept_at)
SELECT device_id, record_id, row_hash, token_id, updated_at FROM anchors;
",
    r"
-- v7: on a hub, each device's newest heartbeat (what it runs, its queue, its clock).
CREATE TABLE device_heartbeats (
    device_id       TEXT PRIMARY KEY,
    token_id        INTEGER REFERENCES tokens(id),
    first_seen      INTEGER NOT NULL,
    last_seen       INTEGER NOT NULL,
    clock_offset_ms INTEGER NOT NULL,
    heartbeat_json  TEXT NOT NULL
);
",
    r"
-- v8: on a hub, each device's liveness attempts, in its chain's order (device_attempts.rs).
CREATE TABLE device_attempts (
    device_id     TEXT NOT NULL,
    attempt_id    INTEGER NOT NULL,
    token_id      INTEGER REFERENCES tokens(id),
    created_at    INTEGER NOT NULL,
    live          INTEGER NOT NULL,
    reason        TEXT,
    challenge     TEXT NOT NULL,
    evidence_json TEXT NOT NULL,
    frame_media   TEXT REFERENCES media(id),
    verification  INTEGER,
    prev_hash     TEXT NOT NULL,
    row_hash      TEXT NOT NULL,
    received_at   INTEGER NOT NULL,
    PRIMARY KEY (device_id, attempt_id)
);
",
];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// The version that added the liveness log (its counter file starts when a database reaches it).
pub(super) const LIVENESS_LOG: i64 = 5;

/// The version that added the keyed chain's checkpoint (sealed by the open that made it).
pub(super) const KEYED_CHAIN: i64 = 4;

/// The lowest version whose data holds what each later version added: a table or column that a
/// migration creates. A database at a lower `user_version` than this had its version lowered,
/// so that an upgrade would rebuild its checkpoint from whatever chain it finds.
fn implied_version(conn: &Connection) -> Result<i64, StoreError> {
    let has_table = |name: &str| -> Result<bool, StoreError> {
        Ok(conn
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                params![name],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    };
    let has_column = |table: &str, column: &str| -> Result<bool, StoreError> {
        let mut stmt = conn.prepare(&format!("PRAGMA table_info({table})"))?;
        let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
        for name in names {
            if name? == column {
                return Ok(true);
            }
        }
        Ok(false)
    };
    let marks = [
        (7, has_table("device_heartbeats")?),
        (6, has_column("media", "remote_url")? || has_table("anchor_records")?),
        (5, has_table("liveness_attempts")?),
        (4, has_table("chain_checkpoint")? || has_table("anchors")?),
        (3, has_table("request_counts")?),
        (2, has_column("media", "remote_id")?),
    ];
    Ok(marks.iter().find(|(_, present)| *present).map_or(0, |(version, _)| *version))
}

/// Whether the database holds any verification record.
///
/// # Errors
/// An SQLite error.
pub(super) fn has_records(conn: &Connection) -> Result<bool, StoreError> {
    let table: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'verifications'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if table.is_none() {
        return Ok(false);
    }
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM verifications)", [], |r| r.get(0))?)
}

/// The version of a database about to be read or upgraded, refused when it is newer than this
/// build or lower than its own data implies.
///
/// # Errors
/// [`StoreError::NewerSchema`], [`StoreError::Tampered`], or an SQLite error.
pub(super) fn readable_version(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported: VERSION,
        });
    }
    let implied = implied_version(conn)?;
    if implied > found {
        return Err(StoreError::Tampered(format!(
            "{} says schema version {found}, but its tables are those of version {implied}: the \
             version was lowered (an upgrade would rebuild the chain's checkpoint); nothing was \
             changed",
            path.display()
        )));
    }
    Ok(found)
}

/// Turns on WAL and foreign keys, refuses newer databases and lowered versions, and applies
/// pending migrations atomically. Returns the version the database had before.
pub(super) fn migrate(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    let found = readable_version(conn, path)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
    // FULL: a decision answered 200 survives a power cut, not only a process crash.
    conn.pragma_update(None, "synchronous", "FULL")?;
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version as i64 + 1)?;
        tx.commit()?;
    }
    Ok(found)
}

/// The device id stored in `meta`, made on first use.
pub(super) fn device_id(conn: &Connection) -> Result<String, StoreError> {
    let existing: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| r.get(0))
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id = format!("DEV{}", super::crypto::random_base62(12)?);
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('device_id', ?1)", params![id])?;
    Ok(conn.query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::MatchStatus;
    use crate::store::chain::{Hashed, GENESIS};
    use crate::store::{ChainProblem, NewVerification, Store};

    /// Record `id` as the old test database holds it (front match `percent`).
    fn old_row(id: i64, percent: f64) -> Hashed {
        Hashed {
            id,
            created_at: 1_700_000_000_000 + id,
            device_id: "DEVold".into(),
            token_id: None,
            media: [None, None, None],
            media_sha256: [None, None, None],
            doc_type: "GOV".into(),
            threshold: 85.0,
            status: MatchStatus::FaceMatched,
            matched: true,
            percents: [Some(percent), None],
            request_json: "{}".into(),
            response_json: "{}".into(),
            models_json: "{}".into(),
            timings_json: "{}".into(),
            liveness_attempt: None,
        }
    }

    /// A database as the release before the keyed chain left it: schema v3, plain hashes.
    fn old_database(path: &Path, rows: i64) {
        let conn = Connection::open(path).unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute("INSERT INTO meta (key, value) VALUES ('device_id', 'DEVold')", []).unwrap();
        let mut prev = GENESIS.to_string();
        for id in 1..=rows {
            let hashed = old_row(id, 90.0);
            let hash = hashed.plain_hash(&prev);
            conn.execute(
                "INSERT INTO verifications (id, created_at, device_id, doc_type, threshold, status,
                    matched, front_percent, request_json, response_json, models_json, timings_json,
                    prev_hash, row_hash)
                 VALUES (?1, ?2, 'DEVold', 'GOV', 85.0, 'FACE_MATCHED', 1, 90.0, '{}', '{}', '{}', '{}', ?3, ?4)",
                params![id, hashed.created_at, prev, hash],
            )
            .unwrap();
            prev = hash;
        }
    }

    #[test]
    fn an_old_plain_chain_migrates_under_a_sealed_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        old_database(&path, 3);
        let mut store = Store::open_upgrading_old(&path, None).unwrap();
        assert_eq!(store.verify_chain().unwrap().problem, None, "old rows verify as they were");
        let new = NewVerification {
            doc_type: crate::domain::DocumentType::Pan,
            threshold: 85.0,
            ..Default::default()
        };
        assert_eq!(store.record_verification(&new).unwrap(), 4);
        assert_eq!(store.verify_chain().unwrap().rows, 4);
        assert_eq!(store.verify_chain().unwrap().problem, None);

        // Rewriting old history with plain hashes (no key needed for v1) is caught at the
        // checkpoint, which holds record 3's hash.
        let conn = Connection::open(&path).unwrap();
        conn.execute("UPDATE verifications SET front_percent = 10.0 WHERE id = 2", []).unwrap();
        let mut prev: String = conn
            .query_row("SELECT row_hash FROM verifications WHERE id = 1", [], |r| r.get(0))
            .unwrap();
        for id in 2..=3 {
            let hashed = old_row(id, if id == 2 { 10.0 } else { 90.0 });
            let hash = hashed.plain_hash(&prev);
            conn.execute(
                "UPDATE verifications SET prev_hash = ?1, row_hash = ?2 WHERE id = ?3",
                params![prev, hash, id],
            )
            .unwrap();
            prev = hash;
        }
        let report = store.verify_chain().unwrap();
        assert_eq!(report.first_broken, Some(3), "{report:?}");
        assert_eq!(report.problem, Some(ChainProblem::RewrittenBeforeCheckpoint { id: 3 }));
    }

    #[test]
    fn migrates_once_and_refuses_newer_databases() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        migrate(&conn, &path).unwrap();
        migrate(&conn, &path).unwrap();
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, VERSION);
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 1);

        conn.pragma_update(None, "user_version", VERSION + 1).unwrap();
        let before = std::fs::read(&path).unwrap();
        match migrate(&conn, &path) {
            Err(StoreError::NewerSchema { found, supported, .. }) => {
                assert_eq!((found, supported), (VERSION + 1, VERSION))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(std::fs::read(&path).unwrap(), before, "a newer database is never altered");
    }

    #[test]
    fn a_version_1_database_is_upgraded_with_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO media (id, original_name, content_type, size, sha256, created_at) VALUES ('MX1', 'a', 'image/png', 1, 'x', 0)",
            [],
        )
        .unwrap();
        migrate(&conn, &path).unwrap();
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, VERSION);
        let (name, remote): (String, Option<String>) = conn
            .query_row("SELECT original_name, remote_id FROM media WHERE id = 'MX1'", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((name.as_str(), remote), ("a", None));
    }
}
