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
];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Turns on WAL and foreign keys, refuses newer databases, and applies pending migrations atomically.
pub(super) fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported: VERSION,
        });
    }
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
    Ok(())
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
