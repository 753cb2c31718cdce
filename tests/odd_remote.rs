//! Sync against a remote that does not speak the contract: a real HTTP server on a
//! loopback port that answers every request the same canned way (an HTML 404 from a
//! wrong URL, a proxy's 413, a redirect, a 300 MB body, a verdict outside the contract).
//! Records must stay pending (or, for a bad verdict, park), never be parked wholesale.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use facematch::contract::MatchStatus;
use facematch::store::{MediaId, NewVerification, Store};

/// How the canned server answers: writes a whole HTTP response.
type Answer = fn(&mut std::net::TcpStream);

/// A server answering every request with `answer` (status line + headers + body made by it).
struct Canned {
    base: String,
    stop: Arc<AtomicBool>,
}

impl Canned {
    fn start(answer: Answer) -> Canned {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                        read_request(&mut stream);
                        answer(&mut stream);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Canned { base, stop }
    }
}

impl Drop for Canned {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads one request: headers, then `Content-Length` bytes of body.
fn read_request(stream: &mut std::net::TcpStream) {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        line.clear();
    }
    let _ = reader.take(length as u64).read_to_end(&mut Vec::new());
}

fn reply(stream: &mut std::net::TcpStream, status: &str, content_type: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A remote that takes every upload (as MX1) and answers every match with a status outside the
/// contract.
fn answers_maybe(stream: &mut std::net::TcpStream) {
    let body = r#"{"_id": "MX1", "originalName": "a.jpg", "valid": true, "status": "MAYBE"}"#;
    reply(stream, "200 OK", "application/json", body)
}

/// A device log with two pending records over small pictures.
fn device() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("device.db");
    let mut store = Store::open(&db, None).unwrap();
    for i in 0..2 {
        let a = store.insert_media(None, &format!("a{i}.jpg"), "image/jpeg", b"\xFF\xD8a").unwrap();
        let b = store.insert_media(None, &format!("b{i}.jpg"), "image/jpeg", b"\xFF\xD8b").unwrap();
        let v = NewVerification {
            src_media: Some(a),
            front_media: Some(b),
            doc_type: facematch::domain::DocumentType::Gov,
            threshold: 85.0,
            status: MatchStatus::FaceMatched,
            matched: true,
            ..NewVerification::default()
        };
        store.record_verification(&v).unwrap();
    }
    (dir, db)
}

fn sync(db: &std::path::Path, base: &str, extra: &[&str]) -> (Option<i32>, String) {
    sync_with_token(db, base, "fm_test", extra)
}

fn counts(db: &std::path::Path) -> (i64, i64, i64) {
    let c = Store::open(db, None).unwrap().sync_counts().unwrap();
    (c.pending, c.synced, c.parked)
}

#[test]
fn answers_that_are_not_the_contract_stop_the_run_and_park_nothing() {
    let answers: [(Answer, &str); 4] = [
        (
            |s| reply(s, "404 Not Found", "text/html", "<html><body>Not Found</body></html>"),
            "HTTP 404",
        ),
        (|s| reply(s, "413 Payload Too Large", "text/html", "<html>nginx</html>"), "HTTP 413"),
        (
            |s| {
                let _ = write!(s, "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            },
            "HTTP 302",
        ),
        (|s| reply(s, "200 OK", "text/html", "<html>captive portal</html>"), "not the contract"),
    ];
    for (answer, says) in answers {
        let (_dir, db) = device();
        let remote = Canned::start(answer);
        let (code, all) = sync(&db, &remote.base, &[]);
        assert_eq!(code, Some(3), "{says}: {all}");
        assert!(all.contains(says) && all.contains("is the URL right?"), "{says}: {all}");
        assert_eq!(counts(&db), (2, 0, 0), "{says}: every record stays pending");
    }
}

#[test]
fn a_huge_answer_is_not_read_whole() {
    let (_dir, db) = device();
    let remote = Canned::start(|s| {
        let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 314572800\r\n\r\n");
        let chunk = vec![b' '; 1 << 16];
        for _ in 0..(300 << 4) {
            if s.write_all(&chunk).is_err() {
                return; // the client stopped reading, as it should
            }
        }
    });
    let (code, all) = sync(&db, &remote.base, &[]);
    assert_eq!(code, Some(3), "{all}");
    assert!(all.contains("larger than 1048576 bytes"), "{all}");
    assert_eq!(counts(&db), (2, 0, 0));
}

#[test]
fn a_verdict_outside_the_contract_parks_that_record_and_requeue_brings_it_back() {
    let (_dir, db) = device();
    let remote = Canned::start(answers_maybe);
    let (code, all) = sync(&db, &remote.base, &[]);
    assert_eq!(code, Some(0), "{all}");
    assert_eq!(counts(&db), (0, 0, 2), "never stored as synced: {all}");
    let store = Store::open(&db, None).unwrap();
    assert!(store.sync_error(1).unwrap().unwrap().contains("outside the contract"));
    drop(store);

    // The operator puts one back; with the remote still answering MAYBE it parks again.
    let (code, all) = sync(&db, &remote.base, &["--requeue-parked", "2"]);
    assert_eq!(code, Some(0), "{all}");
    assert!(all.contains("1 parked record(s) back in the queue"), "{all}");
    assert_eq!(counts(&db), (0, 0, 2));
    let (_, all) = sync(&db, "http://127.0.0.1:9", &["--requeue-parked"]);
    assert!(all.contains("2 parked record(s) back in the queue"), "{all}");
    assert_eq!(counts(&db), (2, 0, 0), "unreachable remote: both wait, pending");
}

#[test]
fn media_ids_of_another_remote_are_not_sent_to_the_next_one() {
    // A remote that took the uploads (its ids MX1) and then answered outside the contract.
    let (_dir, db) = device_with_photos();
    let first = Canned::start(answers_maybe);
    let (code, all) = sync(&db, &first.base, &[]);
    assert_eq!((code, counts(&db)), (Some(0), (0, 0, 2)), "{all}");

    // The records go to a real remote, which has never seen MX1: fresh uploads, all synced.
    let server_dir = tempfile::tempdir().unwrap();
    let second = crate::server::Server::start(server_dir.path(), &[]);
    let token = second.token("device");
    let (code, all) = sync_with_token(&db, &second.base, &token, &["--requeue-parked"]);
    assert_eq!(code, Some(0), "{all}");
    assert_eq!(counts(&db), (0, 2, 0), "{all}");
    assert!(all.contains("\"uploads\": 4") || all.contains("\"uploads\":4"), "{all}");
}

#[test]
fn a_remote_that_lost_a_media_id_gets_the_picture_again_once() {
    let (_dir, db) = device_with_photos();
    let server_dir = tempfile::tempdir().unwrap();
    let remote = crate::server::Server::start(server_dir.path(), &[]);
    let token = remote.token("device");
    let (code, all) = sync_with_token(&db, &remote.base, &token, &[]);
    assert_eq!((code, counts(&db)), (Some(0), (0, 2, 0)), "{all}");

    // A new record over the first record's pictures; the remote loses the selfie meanwhile.
    {
        let mut store = Store::open(&db, None).unwrap();
        let (src, front): (String, String) = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT src_media, front_media FROM verifications WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        let (src, front) = (MediaId(src), MediaId(front));
        let v = NewVerification {
            src_media: Some(src.clone()),
            front_media: Some(front),
            doc_type: facematch::domain::DocumentType::Gov,
            threshold: 85.0,
            status: MatchStatus::FaceMatched,
            matched: true,
            ..NewVerification::default()
        };
        store.record_verification(&v).unwrap();
        let remote_id = store
            .media_remote_id(&src, &remote.base)
            .unwrap()
            .expect("the selfie's id at this remote is kept");
        let conn = rusqlite::Connection::open(&remote.db).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        assert_eq!(conn.execute("DELETE FROM media WHERE id = ?1", [remote_id]).unwrap(), 1);
    }
    let (code, all) = sync_with_token(&db, &remote.base, &token, &[]);
    assert_eq!(code, Some(0), "{all}");
    assert_eq!(counts(&db), (0, 3, 0), "synced after one fresh upload, not parked: {all}");
    assert!(all.contains("\"uploads\": 2") || all.contains("\"uploads\":2"), "{all}");
}

#[test]
fn a_remote_that_drips_its_answer_is_cut_off_at_the_call_timeout() {
    let (_dir, db) = device();
    let remote = Canned::start(|s| {
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        );
        for _ in 0..1000 {
            if s.write_all(b" ").is_err() {
                return; // the client hung up, as it should
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    });
    let started = std::time::Instant::now();
    let (code, all) = sync(&db, &remote.base, &["--call-timeout", "3"]);
    let took = started.elapsed();
    assert_eq!(code, Some(3), "{all}");
    assert!(all.contains("timed out"), "{all}");
    // Two attempts of 3 s each, and a short backoff between them.
    assert!(took < Duration::from_secs(12), "two 3 s calls took {took:?}");
    assert_eq!(counts(&db), (2, 0, 0));
}

/// A device log with two pending records over real photos (a real remote decides them).
fn device_with_photos() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("device.db");
    let mut store = Store::open(&db, None).unwrap();
    for who in ["sundar_pichai", "jeff_bezos"] {
        crate::util::record_photo_pair(&mut store, who, 1, 2);
    }
    (dir, db)
}

fn sync_with_token(
    db: &std::path::Path,
    base: &str,
    token: &str,
    extra: &[&str],
) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(["sync", "--db", db.to_str().unwrap(), "--remote", base, "--once"])
        .args(["--max-attempts", "2", "--base-delay-ms", "10", "--max-delay-ms", "20"])
        .args(extra)
        .env("FACEMATCH_REMOTE_TOKEN", token)
        .output()
        .unwrap();
    let all =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), all)
}
