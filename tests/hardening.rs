//! Careless or hostile use of the command line and the store, with the real binary and
//! real files: blank token names, a FIFO given as a picture, a read-only database, file modes.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant};

use facematch::store::Store;

fn facematch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_facematch"))
}

#[test]
fn token_names_must_be_printable_and_a_revoked_name_can_be_used_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("api.db");
    let db = db.to_str().unwrap();
    let add = |name: &str| facematch().args(["token", "add", "--db", db, name]).output().unwrap();
    for blank in ["", "   ", "tab\\there"] {
        let out = add(&blank.replace("\\t", "\t"));
        assert_eq!(out.status.code(), Some(2), "{blank:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("token name"), "{blank:?}");
    }
    let first = add("bank");
    assert!(first.status.success());
    let revoke = facematch().args(["token", "revoke", "--db", db, "bank"]).output().unwrap();
    assert!(revoke.status.success());
    let again = add("bank");
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let store = Store::open(std::path::Path::new(db), None).unwrap();
    let old = String::from_utf8(first.stdout).unwrap();
    let new = String::from_utf8(again.stdout).unwrap();
    assert!(store.authenticate(old.trim()).unwrap().is_none(), "the revoked token stays revoked");
    assert!(store.authenticate(new.trim()).unwrap().is_some());
}

#[test]
fn a_fifo_is_refused_at_once_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("selfie.jpg");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let started = Instant::now();
    let mut child = facematch()
        .args(["match", "--src", fifo.to_str().unwrap(), "--front", fifo.to_str().unwrap()])
        .args(["--type", "GOV", "--threshold", "85"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("facematch match waited on a FIFO with no writer");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["code"], 4001);
    assert!(answer["details"].as_str().unwrap().contains("not a regular file"), "{answer}");
}

#[test]
fn the_database_and_its_journal_are_private_to_their_owner() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    // An older install left the files readable by everyone.
    {
        let store = Store::open(&db, None).unwrap();
        store.add_token("bank").unwrap();
    }
    for f in ["log.db", "log.db-wal", "log.db-shm"] {
        let path = dir.path().join(f);
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let store = Store::open(&db, None).unwrap();
    store.add_token("branch").unwrap();
    for f in ["log.db", "log.db-wal", "log.db-shm"] {
        let path = dir.path().join(f);
        if let Ok(meta) = std::fs::metadata(&path) {
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{f}");
        }
    }
    let fresh = dir.path().join("fresh.db");
    let store = Store::open(&fresh, None).unwrap();
    store.add_token("bank").unwrap();
    for f in ["fresh.db", "fresh.db-wal", "fresh.db-shm"] {
        let mode = std::fs::metadata(dir.path().join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
}

#[test]
#[ignore = "needs root to give the files to another user; scripts/test.sh runs it as root"]
fn serve_refuses_to_start_on_a_read_only_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("api.db");
    Store::open(&db, None).unwrap().add_token("bank").unwrap();
    // The service user (here: nobody) owns the files, but the database is read-only (0444):
    // SQLite then opens it for reading only, and every write would fail.
    let chown = Command::new("chown").args(["-R", "65534:65534"]).arg(dir.path()).status();
    assert!(chown.is_ok_and(|s| s.success()), "changing owners needs root");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let started = Instant::now();
    let mut child = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_facematch"))
        .args(["serve", "--db", db.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .env("FACEMATCH_MODELS", facematch::inference::models::locate_dir(None))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("serve started on a database it cannot write");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot be written") && err.contains("records every decision"), "{err}");
}
