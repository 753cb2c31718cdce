//! The hub's tables in PostgreSQL and their versioned migrations. Each migration runs once, in
//! one transaction with the version it brings, under a lock that makes replicas starting
//! together take turns; a database from a newer facematch is refused unchanged.

use postgres::GenericClient;

use super::super::StoreError;

/// The schema version this build writes.
pub const VERSION: i32 = 3;

/// The migrations in order: `MIGRATIONS[n]` takes a database from version `n` to `n + 1`.
const MIGRATIONS: [&str; VERSION as usize] = [
    // 1: tokens, the call counts of the rate limits, media, the verification log (with the
    // device each synced record came from, as its sync named it), anchors; the auditors'
    // read-only views (schema `facematch_audit`: no picture, embedding, token hash or request).
    "CREATE TABLE meta (
         key   TEXT PRIMARY KEY,
         value TEXT NOT NULL
     );
     CREATE TABLE tokens (
         id           BIGSERIAL PRIMARY KEY,
         name         TEXT NOT NULL UNIQUE,
         token_sha256 TEXT NOT NULL UNIQUE,
         created_at   BIGINT NOT NULL,
         revoked_at   BIGINT
     );
     CREATE TABLE calls (
         token_id BIGINT NOT NULL REFERENCES tokens (id),
         api      TEXT NOT NULL,
         at_ms    BIGINT NOT NULL
     );
     CREATE INDEX calls_by_token ON calls (token_id, at_ms);
     CREATE TABLE request_counts (
         token_id BIGINT NOT NULL REFERENCES tokens (id),
         api      TEXT NOT NULL,
         day      BIGINT NOT NULL,
         count    INTEGER NOT NULL,
         PRIMARY KEY (token_id, api, day)
     );
     CREATE TABLE media (
         id              TEXT PRIMARY KEY,
         owner_token     BIGINT REFERENCES tokens (id),
         original_name   TEXT NOT NULL,
         content_type    TEXT NOT NULL,
         size            BIGINT NOT NULL,
         sha256          TEXT NOT NULL,
         sealed          BYTEA,
         created_at      BIGINT NOT NULL,
         purged_at       BIGINT,
         idempotency_key TEXT
     );
     -- A key names one upload per owner; uploads without a key are not limited.
     CREATE UNIQUE INDEX media_by_key ON media (owner_token, idempotency_key)
         WHERE idempotency_key IS NOT NULL;
     CREATE TABLE verifications (
         id                BIGINT PRIMARY KEY,
         created_at        BIGINT NOT NULL,
         device_id         TEXT NOT NULL,
         token_id          BIGINT REFERENCES tokens (id),
         src_media         TEXT REFERENCES media (id),
         front_media       TEXT REFERENCES media (id),
         back_media        TEXT REFERENCES media (id),
         doc_type          TEXT NOT NULL,
         threshold         DOUBLE PRECISION NOT NULL,
         status            TEXT NOT NULL,
         matched           BOOLEAN NOT NULL,
         front_percent     DOUBLE PRECISION,
         back_percent      DOUBLE PRECISION,
         request_json      TEXT NOT NULL,
         response_json     TEXT NOT NULL,
         models_json       TEXT NOT NULL,
         timings_json      TEXT NOT NULL,
         embeddings_sealed BYTEA,
         prev_hash         TEXT NOT NULL,
         row_hash          TEXT NOT NULL,
         idempotency_key   TEXT,
         liveness_attempt  BIGINT,
         source_device     TEXT,
         source_record     BIGINT
     );
     CREATE UNIQUE INDEX verifications_by_key ON verifications (token_id, idempotency_key)
         WHERE idempotency_key IS NOT NULL;
     CREATE TABLE anchor_records (
         device_id TEXT NOT NULL,
         record_id BIGINT NOT NULL,
         row_hash  TEXT NOT NULL,
         token_id  BIGINT REFERENCES tokens (id),
         kept_at   BIGINT NOT NULL,
         PRIMARY KEY (device_id, record_id)
     );
     CREATE TABLE devices (
         device_id       TEXT PRIMARY KEY,
         token_id        BIGINT REFERENCES tokens (id),
         first_seen      BIGINT NOT NULL,
         last_seen       BIGINT NOT NULL,
         clock_offset_ms BIGINT NOT NULL,
         heartbeat_json  TEXT NOT NULL
     );
     CREATE INDEX verifications_by_source ON verifications (source_device, source_record);
     CREATE INDEX verifications_by_time ON verifications (created_at);
     CREATE SCHEMA facematch_audit;
     CREATE VIEW facematch_audit.schema_version AS SELECT max(version) AS version FROM facematch_schema;
     CREATE VIEW facematch_audit.verifications AS
       SELECT id, created_at, to_timestamp(created_at / 1000.0) AS decided_at,
              device_id AS decided_by, source_device, source_record, token_id, doc_type,
              threshold, status, matched, front_percent, back_percent, response_json,
              prev_hash, row_hash
         FROM verifications;
     CREATE VIEW facematch_audit.anchors AS
       SELECT device_id, record_id, row_hash, kept_at, to_timestamp(kept_at / 1000.0) AS kept_time
         FROM anchor_records;
     CREATE VIEW facematch_audit.devices AS
       SELECT device_id, a.anchors, a.newest_record, to_timestamp(a.last_kept / 1000.0) AS last_synced,
              to_timestamp(d.last_seen / 1000.0) AS last_heartbeat,
              d.heartbeat_json::json ->> 'softwareVersion' AS software_version,
              (d.heartbeat_json::json ->> 'lastRecord')::BIGINT AS last_record,
              (d.heartbeat_json::json ->> 'pending')::BIGINT AS pending,
              (d.heartbeat_json::json ->> 'parked')::BIGINT AS parked,
              (d.heartbeat_json::json ->> 'disagreements')::BIGINT AS disagreements,
              (d.heartbeat_json::json ->> 'freeDiskBytes')::BIGINT AS free_disk_bytes,
              d.clock_offset_ms
         FROM (SELECT device_id, count(*) AS anchors, max(record_id) AS newest_record,
                      max(kept_at) AS last_kept
                 FROM anchor_records GROUP BY device_id) a
         FULL JOIN devices d USING (device_id);
     CREATE VIEW facematch_audit.tokens AS
       SELECT id, name, to_timestamp(created_at / 1000.0) AS created,
              to_timestamp(revoked_at / 1000.0) AS revoked
         FROM tokens;",
    // 2: each device's liveness attempts, in its chain's order; the auditors' views of them
    // and of the records each device's newest heartbeat says need a person.
    "CREATE TABLE device_attempts (
         device_id     TEXT NOT NULL,
         attempt_id    BIGINT NOT NULL,
         token_id      BIGINT REFERENCES tokens (id),
         created_at    BIGINT NOT NULL,
         live          BOOLEAN NOT NULL,
         reason        TEXT,
         challenge     TEXT NOT NULL,
         evidence_json TEXT NOT NULL,
         frame_media   TEXT REFERENCES media (id),
         verification  BIGINT,
         prev_hash     TEXT NOT NULL,
         row_hash      TEXT NOT NULL,
         received_at   BIGINT NOT NULL,
         PRIMARY KEY (device_id, attempt_id)
     );
     CREATE VIEW facematch_audit.liveness_attempts AS
       SELECT device_id, attempt_id, to_timestamp(created_at / 1000.0) AS attempted_at, live,
              reason, challenge, evidence_json, frame_media IS NOT NULL AS has_frame,
              verification AS device_record, prev_hash, row_hash,
              to_timestamp(received_at / 1000.0) AS received
         FROM device_attempts;
     CREATE VIEW facematch_audit.open_records AS
       SELECT d.device_id, (r ->> 'record')::BIGINT AS device_record, r ->> 'reason' AS reason,
              r ->> 'deviceStatus' AS device_status, r ->> 'remoteStatus' AS remote_status,
              r ->> 'refusal' AS refusal, to_timestamp((r ->> 'sinceMs')::BIGINT / 1000.0) AS since,
              to_timestamp(d.last_seen / 1000.0) AS reported
         FROM devices d,
              json_array_elements(coalesce(d.heartbeat_json::json -> 'openRecords', '[]'::json)) r;",
    // 3: the review page: staff accounts (argon2id), their sessions (only digests), each view
    // of a customer's picture, the staff's decisions (a keyed hash chain of their own), the
    // anchors a device sent that did not follow what the hub kept; the auditors' views of the
    // decisions, the views of pictures and the staff (no password hash, no session).
    "CREATE TABLE staff (
         id             BIGSERIAL PRIMARY KEY,
         name           TEXT NOT NULL UNIQUE,
         password_hash  TEXT NOT NULL,
         created_at     BIGINT NOT NULL,
         removed_at     BIGINT,
         failed_signins INTEGER NOT NULL DEFAULT 0,
         locked_until   BIGINT NOT NULL DEFAULT 0
     );
     CREATE TABLE staff_sessions (
         token_sha256 TEXT PRIMARY KEY,
         staff_id     BIGINT NOT NULL REFERENCES staff (id),
         csrf         TEXT NOT NULL,
         created_at   BIGINT NOT NULL,
         last_used    BIGINT NOT NULL
     );
     CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id, created_at);
     CREATE TABLE picture_views (
         id        BIGSERIAL PRIMARY KEY,
         staff_id  BIGINT NOT NULL REFERENCES staff (id),
         media_id  TEXT NOT NULL REFERENCES media (id),
         item      TEXT NOT NULL,
         viewed_at BIGINT NOT NULL
     );
     CREATE TABLE review_decisions (
         id         BIGINT PRIMARY KEY,
         decided_at BIGINT NOT NULL,
         staff_id   BIGINT NOT NULL REFERENCES staff (id),
         staff_name TEXT NOT NULL,
         item_kind  TEXT NOT NULL,
         device_id  TEXT NOT NULL,
         item_id    BIGINT NOT NULL,
         decision   TEXT NOT NULL,
         note       TEXT NOT NULL,
         prev_hash  TEXT NOT NULL,
         row_hash   TEXT NOT NULL
     );
     CREATE INDEX review_decisions_by_item ON review_decisions (item_kind, device_id, item_id, id);
     CREATE INDEX device_attempts_failed ON device_attempts (received_at) WHERE NOT live;
     CREATE TABLE anchor_refusals (
         device_id  TEXT NOT NULL,
         record_id  BIGINT NOT NULL,
         outcome    TEXT NOT NULL,
         token_id   BIGINT REFERENCES tokens (id),
         refused_at BIGINT NOT NULL,
         PRIMARY KEY (device_id, record_id, outcome)
     );
     CREATE VIEW facematch_audit.review_decisions AS
       SELECT id, to_timestamp(decided_at / 1000.0) AS decided_at, staff_id, staff_name, item_kind,
              device_id, item_id, decision, note, prev_hash, row_hash
         FROM review_decisions;
     CREATE VIEW facematch_audit.picture_views AS
       SELECT v.id, s.name AS staff_name, v.media_id, v.item,
              to_timestamp(v.viewed_at / 1000.0) AS viewed_at
         FROM picture_views v JOIN staff s ON s.id = v.staff_id;
     CREATE VIEW facematch_audit.staff AS
       SELECT id, name, to_timestamp(created_at / 1000.0) AS created,
              to_timestamp(removed_at / 1000.0) AS removed
         FROM staff;
     CREATE VIEW facematch_audit.anchor_refusals AS
       SELECT device_id, record_id, outcome, to_timestamp(refused_at / 1000.0) AS refused_at
         FROM anchor_refusals;",
];

/// The advisory lock replicas take to migrate one at a time (any fixed number; "fmhub").
const MIGRATION_LOCK: i64 = 0x0066_6d68_7562;

/// Brings the database to [`VERSION`]; returns the version it had.
///
/// # Errors
/// [`StoreError::NewerSchema`] for a database written by a newer facematch (left unchanged), or
/// a database error (the migration that failed is not applied at all).
pub(super) fn migrate(client: &mut postgres::Client, name: &str) -> Result<i32, StoreError> {
    let mut tx = client.transaction().map_err(super::db_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).map_err(super::db_error)?;
    let found = version(&mut tx)?;
    if found > VERSION {
        return Err(StoreError::NewerSchema {
            path: name.into(),
            found: i64::from(found),
            supported: i64::from(VERSION),
        });
    }
    check_shape(&mut tx, name, found)?;
    if found == VERSION {
        return Ok(found);
    }
    if found == 0 {
        tx.batch_execute("CREATE TABLE facematch_schema (version INTEGER NOT NULL)")
            .map_err(super::db_error)?;
    }
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch_execute(sql).map_err(super::db_error)?;
        log::info!("store: {name} migrated to schema version {}", from + 1);
    }
    tx.execute("DELETE FROM facematch_schema", &[]).map_err(super::db_error)?;
    tx.execute("INSERT INTO facematch_schema (version) VALUES ($1)", &[&VERSION])
        .map_err(super::db_error)?;
    tx.commit().map_err(super::db_error)?;
    Ok(found)
}

/// What each version must hold beside its tables (`SHAPE[n]`: version `n + 1`): development
/// builds made databases labelled version 1 without these, which are refused rather than taken
/// as current or migrated further.
const SHAPE: [&[&str]; VERSION as usize] = [
    &["devices", "media_by_key", "verifications_by_key", "facematch_audit.devices"],
    &["device_attempts", "facematch_audit.liveness_attempts", "facematch_audit.open_records"],
    &["staff_sessions", "review_decisions", "anchor_refusals", "facematch_audit.picture_views"],
];

/// Refuses a database labelled version `found` that lacks part of it.
fn check_shape(client: &mut impl GenericClient, name: &str, found: i32) -> Result<(), StoreError> {
    let versions = SHAPE.iter().take(usize::try_from(found).unwrap_or(0));
    for relation in versions.flat_map(|relations| relations.iter()) {
        let present: bool = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&relation])
            .map_err(super::db_error)?
            .get(0);
        if !present {
            return Err(StoreError::Tampered(format!(
                "{name} says schema version {found} but has no {relation}: it was made by a \
                 development build before version {found} was fixed; nothing was changed. Make \
                 a new database for the hub"
            )));
        }
    }
    Ok(())
}

/// The schema version a database has (0: none yet).
pub(super) fn version(client: &mut impl GenericClient) -> Result<i32, StoreError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('facematch_schema') IS NOT NULL", &[])
        .map_err(super::db_error)?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = client
        .query_opt("SELECT max(version) FROM facematch_schema", &[])
        .map_err(super::db_error)?;
    Ok(row.and_then(|r| r.get::<_, Option<i32>>(0)).unwrap_or(0))
}
