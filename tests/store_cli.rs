//! The store through the command line: `match --db`, `log`, `log verify`, `token`, `purge`,
//! and a database from a newer facematch.

use std::path::Path;

use crate::util::{face, facematch};

fn run(args: &[&str]) -> std::process::Output {
    facematch(args)
}

#[test]
fn match_records_and_log_lists_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kiosk.db");
    let db = db.to_str().unwrap();
    let (a, b, c) = (face("matt_damon", 1), face("matt_damon", 2), face("george_clooney", 1));
    for (front, doc) in [(&b, "PASSPORT"), (&c, "VOTER")] {
        let out = run(&[
            "match",
            "--src",
            a.to_str().unwrap(),
            "--front",
            front.to_str().unwrap(),
            "--type",
            doc,
            "--threshold",
            "85",
            "--db",
            db,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let key = Path::new(db).with_extension("db.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);

    let out = run(&["log", "--db", db]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("PASSPORT") && table.contains("FACE_MATCHED") && table.contains("pending"),
        "{table}"
    );
    let out = run(&["log", "--db", db, "--json", "--limit", "1"]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0]["id"].as_i64(), lines[0]["doc_type"].as_str()), (Some(2), Some("VOTER")));
    assert_eq!(lines[0]["matched"], false);

    let out = run(&["log", "verify", "--db", db]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact: 2 record(s)"));

    // Tamper with the first record's threshold: `log verify` names it and fails.
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute("UPDATE verifications SET threshold = 50 WHERE id = 1", []).unwrap();
    let out = run(&["log", "verify", "--db", db]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("broken at record 1"));

    // Retention removes pictures but keeps the records.
    let out = run(&["purge", "--db", db, "--older-than-days", "30"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("purged 0 picture(s)"));
    let n: i64 = conn
        .query_row("SELECT count(*) FROM media WHERE sealed IS NOT NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 4);
}

#[test]
fn a_newer_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("future.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;").unwrap();
    drop(conn);
    let before = std::fs::read(&db).unwrap();
    let out = run(&["log", "--db", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("schema version 99") && err.contains("not changed"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn tokens_are_shown_once_and_names_are_unique() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let db = db.to_str().unwrap();
    let out = run(&["token", "add", "--db", db, "branch-42"]);
    assert!(out.status.success());
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(token.starts_with("fm_") && token.len() > 30);
    let again = run(&["token", "add", "--db", db, "branch-42"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert!(run(&["token", "revoke", "--db", db, "branch-42"]).status.success());
    assert_eq!(run(&["token", "revoke", "--db", db, "branch-42"]).status.code(), Some(2));
}

/// A device log of two records made by the real binary, in a fresh folder.
fn logged_device() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("device.db");
    let (a, b) = (face("matt_damon", 1), face("matt_damon", 2));
    for _ in 0..2 {
        let out = run(&[
            "match",
            "--src",
            a.to_str().unwrap(),
            "--front",
            b.to_str().unwrap(),
            "--type",
            "GOV",
            "--threshold",
            "85",
            "--db",
            db.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    (dir, db)
}

/// Every file of the folder: its name, the sha256 of its bytes, its modification time.
fn snapshot(dir: &Path) -> Vec<(String, String, std::time::SystemTime)> {
    use sha2::{Digest, Sha256};
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
            let hash = hex::encode(Sha256::digest(std::fs::read(&path).unwrap()));
            (path.file_name().unwrap().to_string_lossy().into_owned(), hash, modified)
        })
        .collect();
    files.sort();
    files
}

/// Asserts that the folder holds what `before` did, unchanged: SQLite's own `-shm` index and
/// an empty `-wal`, which any reader of a WAL database opens, may have appeared.
fn assert_unchanged(dir: &Path, before: &[(String, String, std::time::SystemTime)], what: &str) {
    let empty = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b""));
    let after: Vec<_> = snapshot(dir)
        .into_iter()
        .filter(|(name, hash, _)| {
            before.iter().any(|(b, _, _)| b == name)
                || !(name.ends_with("-shm") || name.ends_with("-wal") && *hash == empty)
        })
        .collect();
    assert_eq!(after, before, "{what} wrote something");
}

fn verify(db: &Path) -> (Option<i32>, String) {
    let out = run(&["log", "verify", "--db", db.to_str().unwrap()]);
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

/// A writing open of the store (what `serve`, `sync` or the kiosk do at start).
fn open_for_writing(db: &Path) {
    drop(facematch::store::Store::open(db, None));
}

#[test]
fn log_verify_writes_nothing_and_heals_nothing() {
    let (dir, db) = logged_device();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    drop(conn);

    // Intact: verified, and not one byte or timestamp of any file changes.
    let before = snapshot(dir.path());
    let (code, text) = verify(&db);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(run(&["log", "--db", db.to_str().unwrap()]).status.code(), Some(0));
    assert_unchanged(dir.path(), &before, "log or log verify");

    // The checkpoint's MAC nulled: reported, and still reported after a writing open.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE chain_checkpoint SET mac = NULL", []).unwrap();
    drop(conn);
    let before = snapshot(dir.path());
    let (code, text) = verify(&db);
    assert_eq!(code, Some(1), "{text}");
    assert_unchanged(dir.path(), &before, "log verify of an altered checkpoint");
    assert!(text.contains("checkpoint"), "{text}");
    open_for_writing(&db);
    let (code, text) = verify(&db);
    assert_eq!(code, Some(1), "a writing open sealed the altered checkpoint: {text}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mac: Option<String> =
        conn.query_row("SELECT mac FROM chain_checkpoint", [], |r| r.get(0)).unwrap();
    assert_eq!(mac, None, "never healed");
}

#[test]
fn a_missing_counter_or_key_and_a_lowered_schema_are_reported_never_repaired() {
    let (_dir, db) = logged_device();
    let key = db.with_extension("db.key");
    let counter = db.with_extension("db.key.chain");

    // The counter beside the key deleted: reported, not written again by anyone.
    std::fs::remove_file(&counter).unwrap();
    let (code, text) = verify(&db);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("counter") && text.contains("missing"), "{text}");
    open_for_writing(&db);
    assert!(!counter.exists(), "a writing open made the counter again");
    assert_eq!(verify(&db).0, Some(1));

    // Only the explicit reseal starts it again, and every verify names the reseal after.
    let out = run(&["log", "reseal", "--db", db.to_str().unwrap(), "--reason", "SD card restored"]);
    assert_eq!(out.status.code(), Some(2), "refused without the acknowledgement");
    assert!(!counter.exists());
    let out = run(&[
        "log",
        "reseal",
        "--db",
        db.to_str().unwrap(),
        "--reason",
        "SD card restored",
        "--i-understand-earlier-deletions-become-invisible",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let (code, text) = verify(&db);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("log reseal") && text.contains("SD card restored"), "{text}");

    // The schema version lowered below what its tables show: reported; no writer upgrades it.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "user_version", 3).unwrap();
    drop(conn);
    let (code, text) = verify(&db);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("lowered"), "{text}");
    assert!(facematch::store::Store::open(&db, None).is_err(), "a writer migrated it");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 3);
    conn.pragma_update(None, "user_version", facematch::store::SCHEMA_VERSION).unwrap();
    drop(conn);

    // The key removed: reported as tampering, and `log verify` makes no new key.
    std::fs::rename(&key, key.with_extension("moved")).unwrap();
    let (code, text) = verify(&db);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("key") && text.contains("missing"), "{text}");
    assert!(!key.exists(), "log verify made a new key");
}

#[test]
fn a_rewrite_dressed_as_an_old_database_is_never_sealed_by_a_writer() {
    let (dir, db) = logged_device();
    // Without the key: the later tables dropped, a record changed and re-hashed with plain
    // SHA-256 (as the oldest schema hashed), the version set back, the counters deleted.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         DROP TABLE chain_checkpoint; DROP TABLE anchors; DROP TABLE anchor_records;
         DROP TABLE device_heartbeats; DROP TABLE device_attempts;
         ALTER TABLE verifications DROP COLUMN liveness_attempt; DROP TABLE liveness_attempts;
         ALTER TABLE media DROP COLUMN remote_url;
         UPDATE verifications SET status = 'FACE_NOT_MATCHED', matched = 0 WHERE id = 2;
         PRAGMA user_version = 3;",
    )
    .unwrap();
    drop(conn);
    for counter in ["device.db.key.chain", "device.db.key.liveness"] {
        std::fs::remove_file(dir.path().join(counter)).unwrap();
    }
    // A writing command (what serve, sync or the kiosk would do at start) refuses to seal it.
    let out = run(&["token", "add", "--db", db.to_str().unwrap(), "x"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("log upgrade"), "{err}");
    let (code, text) = verify(&db);
    assert_ne!(code, Some(0), "{text}");
    assert!(!text.contains("intact"), "{text}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 3, "nothing was migrated");
    drop(conn);
    // The explicit upgrade seals it as found, and every verify after says so.
    let out = run(&[
        "log",
        "upgrade",
        "--db",
        db.to_str().unwrap(),
        "--i-understand-the-old-chain-is-taken-as-found",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, text) = verify(&db);
    assert!(text.contains("`log upgrade`") && text.contains("schema version 3"), "{text}");

    // The database deleted beside a key and counter that still say records were written:
    // a writer will not start a new, empty log in its place.
    let (dir, db) = logged_device();
    for f in ["device.db", "device.db-wal", "device.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(f));
    }
    let out = run(&["token", "add", "--db", db.to_str().unwrap(), "x"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("deleted or replaced"), "{err}");
}

/// Runs the real binary with its stdout given to `stdout`.
fn run_into(args: &[&str], stdout: impl Into<std::process::Stdio>) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(args)
        .stdout(stdout)
        .output()
        .unwrap()
}

/// Runs the real binary with its stdout given to a pipe whose reader has already gone.
fn run_unread(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    run_into(args, writer)
}

#[test]
fn a_reader_that_stops_early_changes_no_exit_code_and_a_lost_answer_fails() {
    let (_dir, db) = logged_device();
    let db = db.to_str().unwrap();
    let no_panic = |out: &std::process::Output, what: &str| {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{what}: {err}");
    };
    for args in [&["log", "--db", db][..], &["log", "verify", "--db", db], &["--help"]] {
        let out = run_unread(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        no_panic(&out, &format!("{args:?}"));
    }
    let (a, b) = (face("matt_damon", 1), face("matt_damon", 2));
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let out =
        run_unread(&["match", "--src", a, "--front", b, "--type", "GOV", "--threshold", "85"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    no_panic(&out, "match");
    // A token is shown only once: unread, it is revoked at once and the command fails.
    let out = run_unread(&["token", "add", "--db", db, "branch-7"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("so it was revoked"));
    let live: i64 = rusqlite::Connection::open(db)
        .unwrap()
        .query_row("SELECT count(*) FROM tokens WHERE revoked_at IS NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(live, 0, "a token nobody holds is live");
    assert!(run(&["token", "add", "--db", db, "branch-7"]).status.success());
    // A full disk behind the answer turns success into failure.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = run_into(&["log", "--db", db], full);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not be written"));
    // A broken chain still says so by its exit code when nobody reads the report.
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute("UPDATE verifications SET threshold = 50 WHERE id = 1", []).unwrap();
    drop(conn);
    let out = run_unread(&["log", "verify", "--db", db]);
    assert_eq!(out.status.code(), Some(1));
    no_panic(&out, "log verify");
}
