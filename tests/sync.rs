//! Sync against a real remote: a second `facematch serve` process on a loopback
//! port with its own SQLite file. After every scenario the two sides agree:
//! nothing lost, nothing doubled.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use facematch::contract::MatchStatus;
use facematch::store::{MediaId, NewVerification, Store, SyncState};

use crate::server::Server;
use crate::util::face;

/// A local device log with verifications over real pictures (the local verdicts are given).
struct Device {
    _dir: tempfile::TempDir,
    db: PathBuf,
    media: usize,
}

impl Device {
    /// One shared selfie against each `(front picture bytes, local verdict)`.
    fn seed(items: &[(Vec<u8>, bool)]) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("device.db");
        let mut store = Store::open(&db, None).unwrap();
        let src = store
            .insert_media(
                None,
                "selfie.jpg",
                "image/jpeg",
                &std::fs::read(face("sundar_pichai", 1)).unwrap(),
            )
            .unwrap();
        for (i, (front, matched)) in items.iter().enumerate() {
            let front =
                store.insert_media(None, &format!("front{i}.jpg"), "image/jpeg", front).unwrap();
            record(&mut store, &src, &front, *matched);
        }
        Device { _dir: dir, db, media: items.len() + 1 }
    }

    fn store(&self) -> Store {
        Store::open(&self.db, None).unwrap()
    }

    fn sync_command(&self, remote: &str, token: &str, extra: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_facematch"));
        c.args([
            "sync",
            "--db",
            self.db.to_str().unwrap(),
            "--remote",
            remote,
            "--once",
            "--base-delay-ms",
            "50",
            "--max-delay-ms",
            "400",
        ])
        .args(extra)
        .env("FACEMATCH_REMOTE_TOKEN", token);
        c
    }

    fn sync(&self, remote: &str, token: &str, extra: &[&str]) -> (Output, serde_json::Value) {
        let out = self.sync_command(remote, token, extra).output().unwrap();
        let report = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        (out, report)
    }
}

fn record(store: &mut Store, src: &MediaId, front: &MediaId, matched: bool) {
    let v = NewVerification {
        src_media: Some(src.clone()),
        front_media: Some(front.clone()),
        doc_type: facematch::domain::DocumentType::Gov,
        threshold: 85.0,
        status: if matched { MatchStatus::FaceMatched } else { MatchStatus::FaceNotMatched },
        matched,
        request_json: "{}".into(),
        response_json: "{}".into(),
        models_json: "{}".into(),
        timings_json: "{}".into(),
        ..NewVerification::default()
    };
    store.record_verification(&v).unwrap();
}

fn photo(who: &str, n: u32) -> Vec<u8> {
    std::fs::read(face(who, n)).unwrap()
}

/// (verifications, media) in a server's database.
fn remote_counts(db: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let count = |table: &str| {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
    };
    (count("verifications"), count("media"))
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn happy_path_uploads_once_records_both_verdicts_and_flags_disagreement() {
    // Three correct local verdicts and one wrong one (a genuine pair the device called not matched).
    let device = Device::seed(&[
        (photo("sundar_pichai", 2), true),
        (photo("jeff_bezos", 1), false),
        (photo("elon_musk", 1), false),
        (photo("sundar_pichai", 2), false),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let remote = Server::start(dir.path(), &[]);
    let token = remote.token("device-1");
    let (out, report) = device.sync(&remote.base, &token, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(report["synced"], 4, "{report}");
    assert_eq!(report["uploads"], 5, "the shared selfie is uploaded once");
    assert_eq!(report["disagreements"], 1);
    assert!(!text(&out).contains(&token), "the token never appears in output");
    let counts = device.store().sync_counts().unwrap();
    assert_eq!((counts.pending, counts.synced, counts.parked, counts.disagreement), (0, 4, 0, 1));
    assert_eq!(remote_counts(&remote.db), (4, device.media as i64));

    let log = device.store().list_verifications(10).unwrap();
    let flagged: Vec<i64> = log
        .iter()
        .filter(|r| r.sync_state == Some(SyncState::Disagreement))
        .map(|r| r.id)
        .collect();
    assert_eq!(flagged, vec![4]);
    assert_eq!(log[0].remote_status.as_deref(), Some("FACE_MATCHED"));
    let table = Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(["log", "--db", device.db.to_str().unwrap()])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("disagreement") && table.contains("synced 4"), "{table}");

    // Nothing left: a second run makes no request.
    let (out, report) = device.sync(&remote.base, &token, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!((report["requests"].as_u64(), report["synced"].as_u64()), (Some(0), Some(0)));
    assert_eq!(remote_counts(&remote.db), (4, device.media as i64));
}

#[test]
#[cfg(feature = "test-faults")] // `serve --inject-faults` exists only in test builds
fn rate_limited_and_failing_remote_is_retried_until_it_answers() {
    let device =
        Device::seed(&[(photo("sundar_pichai", 2), true), (photo("jeff_bezos", 1), false)]);
    let dir = tempfile::tempdir().unwrap();
    let remote = Server::start(dir.path(), &["--inject-faults", "429x2,500x2,503x1"]);
    let token = remote.token("device-1");
    // An upload answered early (the injected 429/5xx) may also break its connection while the
    // picture is still being written: one more retry, so a few attempts to spare.
    let (out, report) = device.sync(&remote.base, &token, &["--max-attempts", "10"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(report["synced"], 2);
    let retries = report["retries"].as_u64().unwrap();
    assert!((5..10).contains(&retries), "each of the 5 faults retried: {report}");
    assert!(text(&out).contains("retrying in"), "{}", text(&out));
    assert_eq!(remote_counts(&remote.db), (2, 3));
}

#[test]
fn a_permanent_refusal_parks_the_item_and_the_queue_goes_on() {
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
    let device = Device::seed(&[
        (photo("sundar_pichai", 2), true),
        (gif, false),
        (photo("jeff_bezos", 1), false),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let remote = Server::start(dir.path(), &[]);
    let token = remote.token("device-1");
    let (out, report) = device.sync(&remote.base, &token, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!((report["synced"].as_u64(), report["parked"].as_u64()), (Some(2), Some(1)));
    let store = device.store();
    assert!(store.sync_error(2).unwrap().unwrap().contains("4007"));
    let table = Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(["log", "--db", device.db.to_str().unwrap()])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("parked 2: HTTP 400 code 4007"), "{table}");
    assert_eq!(remote_counts(&remote.db).0, 2);
}

#[test]
fn a_wrong_token_stops_the_run_and_changes_nothing() {
    let device = Device::seed(&[(photo("sundar_pichai", 2), true)]);
    let dir = tempfile::tempdir().unwrap();
    let remote = Server::start(dir.path(), &[]);
    let (out, _) = device.sync(&remote.base, "fm_not-a-real-token", &[]);
    assert_eq!(out.status.code(), Some(2));
    let all = text(&out);
    assert!(all.contains("refused the token") && all.contains("4016"), "{all}");
    assert!(!all.contains("fm_not-a-real-token"));
    assert_eq!(device.store().sync_counts().unwrap().pending, 1);
    assert_eq!(remote_counts(&remote.db), (0, 0));
}

/// Waits until the remote has logged at least `n` verifications.
fn wait_for_remote(db: &Path, n: i64, child: &mut Child) {
    let started = Instant::now();
    while remote_counts(db).0 < n {
        assert!(started.elapsed() < Duration::from_secs(60), "the sync made no progress");
        assert!(child.try_wait().unwrap().is_none(), "sync ended too early");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn eight_items() -> Device {
    let people = [
        "jeff_bezos",
        "elon_musk",
        "joe_biden",
        "matt_damon",
        "katy_perry",
        "rose_leslie",
        "kit_harington",
        "jim_parsons",
    ];
    Device::seed(&people.iter().map(|p| (photo(p, 1), false)).collect::<Vec<_>>())
}

#[test]
fn the_remote_killed_and_restarted_mid_sync_loses_and_doubles_nothing() {
    let device = eight_items();
    let dir = tempfile::tempdir().unwrap();
    let mut remote = Server::start(dir.path(), &[]);
    let token = remote.token("device-1");
    let address = remote.base.trim_start_matches("http://").to_string();
    let mut sync = device
        .sync_command(&remote.base, &token, &["--max-attempts", "40"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The sync's warnings as they come, so the test can wait for it to see the remote gone.
    let (lines, warned) = std::sync::mpsc::channel::<String>();
    let stderr = sync.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    wait_for_remote(&remote.db, 2, &mut sync);
    remote.kill();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !warned.recv_timeout(Duration::from_secs(30)).unwrap().contains("retrying") {
        assert!(Instant::now() < deadline, "the sync never saw the remote go away");
    }
    let remote = Server::start_on(dir.path(), &address, &[]);
    let out = sync.wait_with_output().unwrap();
    let warnings = reader.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}{warnings}", text(&out));
    assert_eq!(device.store().sync_counts().unwrap().synced, 8);
    assert_eq!(
        remote_counts(&remote.db),
        (8, device.media as i64),
        "nothing doubled on the remote"
    );
}

#[test]
fn sigkill_of_the_sync_mid_run_loses_and_doubles_nothing() {
    let device = eight_items();
    let dir = tempfile::tempdir().unwrap();
    let remote = Server::start(dir.path(), &[]);
    let token = remote.token("device-1");
    let mut sync = device
        .sync_command(&remote.base, &token, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_remote(&remote.db, 3, &mut sync);
    sync.kill().unwrap();
    sync.wait().unwrap();
    let (out, report) = device.sync(&remote.base, &token, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(report["synced"].as_u64().unwrap() <= 6, "{report}");
    let store = device.store();
    assert_eq!(store.sync_counts().unwrap().synced, 8);
    assert_eq!(store.verify_chain().unwrap().first_broken, None);
    assert_eq!(
        remote_counts(&remote.db),
        (8, device.media as i64),
        "nothing doubled on the remote"
    );
}

#[test]
fn watch_syncs_new_records_as_they_arrive_and_purges_synced_pictures() {
    let device = Device::seed(&[(photo("sundar_pichai", 2), true)]);
    let dir = tempfile::tempdir().unwrap();
    let remote = Server::start(dir.path(), &[]);
    let token = remote.token("device-1");
    // Remote and token from a config file this time.
    let config = dir.path().join("sync.toml");
    std::fs::write(
        &config,
        format!("remote = \"{}\"\ntoken = \"{token}\"\npurge_after_sync = true\n", remote.base),
    )
    .unwrap();
    let mut watch = Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args([
            "sync",
            "--db",
            device.db.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--watch",
            "--poll-secs",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_remote(&remote.db, 1, &mut watch);
    // A new verification arrives while the watcher runs.
    {
        let mut store = device.store();
        let a = store.insert_media(None, "s.jpg", "image/jpeg", &photo("elon_musk", 1)).unwrap();
        let b = store.insert_media(None, "f.jpg", "image/jpeg", &photo("elon_musk", 2)).unwrap();
        record(&mut store, &a, &b, true);
    }
    wait_for_remote(&remote.db, 2, &mut watch);
    // Synced, and the synced records' pictures purged (the watcher purges right after).
    let kept = || -> i64 {
        rusqlite::Connection::open(&device.db)
            .and_then(|c| {
                c.query_row("SELECT count(*) FROM media WHERE sealed IS NOT NULL", [], |r| r.get(0))
            })
            .unwrap_or(-1)
    };
    let started = Instant::now();
    while device.store().sync_counts().unwrap().synced < 2 || kept() != 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "not synced and purged in 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    watch.kill().unwrap();
    let out = watch.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&token));

    // Retention after sync: pictures gone, records, both verdicts and the chain stay.
    let store = device.store();
    let conn = rusqlite::Connection::open(&device.db).unwrap();
    let kept: i64 = conn
        .query_row("SELECT count(*) FROM media WHERE sealed IS NOT NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 0);
    let log = store.list_verifications(10).unwrap();
    assert_eq!(log.len(), 2);
    assert!(log
        .iter()
        .all(|r| r.remote_status.is_some() && r.sync_state == Some(SyncState::Synced)));
    assert_eq!(store.verify_chain().unwrap().first_broken, None);
}
