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
