//! The audit log against an insider with the database file, with real files, the real
//! binary and a real remote: a rewrite with recomputed plain SHA-256 hashes, a swapped
//! picture and a deleted newest record are reported by `log verify`; a rewrite or a cut
//! made even with the device key is reported by `log verify --remote` once synced.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use facematch::contract::MatchStatus;
use facematch::store::{NewVerification, Store};
use rusqlite::{params, Connection};
use sha2::{Digest, Sha256};

use crate::server::Server;
use crate::util::face;

/// A device log of three verifications over real photos.
fn device(dir: &Path) -> PathBuf {
    let db = dir.join("device.db");
    let mut store = Store::open(&db, None).unwrap();
    for (i, who) in ["barack_obama", "jeff_bezos", "sundar_pichai"].into_iter().enumerate() {
        let photo = std::fs::read(face(who, 1)).unwrap();
        let card = std::fs::read(face(who, 2)).unwrap();
        let src = store.insert_media(None, &format!("s{i}.jpg"), "image/jpeg", &photo).unwrap();
        let front = store.insert_media(None, &format!("f{i}.jpg"), "image/jpeg", &card).unwrap();
        let entry = NewVerification {
            src_media: Some(src),
            front_media: Some(front),
            doc_type: facematch::domain::DocumentType::Gov,
            threshold: 85.0,
            status: MatchStatus::FaceMatched,
            matched: true,
            front_percent: Some(95.0),
            request_json: "{}".into(),
            response_json: "{}".into(),
            models_json: "{}".into(),
            timings_json: "{}".into(),
            ..NewVerification::default()
        };
        store.record_verification(&entry).unwrap();
    }
    db
}

fn verify(db: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(["log", "verify", "--db", db.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

/// The documented v1 serialisation an attacker would recompute: plain SHA-256.
fn plain_hash(conn: &Connection, id: i64, prev: &str) -> String {
    let content: String = conn
        .query_row(
            "SELECT json_array(id, created_at, device_id, token_id, json_array(src_media, front_media, back_media),
                    doc_type, threshold, status, CASE matched WHEN 1 THEN json('true') ELSE json('false') END,
                    json_array(front_percent, back_percent), request_json, response_json, models_json, timings_json)
             FROM verifications WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )
        .unwrap();
    hex::encode(Sha256::digest(format!("{prev}\n{content}")))
}

#[test]
fn rewriting_with_plain_hashes_swapping_a_picture_and_cutting_the_end_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = device(dir.path());
    assert_eq!(verify(&db, &[]).0, Some(0));
    let backup = std::fs::read(&db).unwrap();

    // Record 2 turned into a non-match, and the chain recomputed as v1 documented it.
    let conn = Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE verifications SET status = 'FACE_NOT_MATCHED', matched = 0 WHERE id = 2",
        [],
    )
    .unwrap();
    let mut prev: String = conn
        .query_row("SELECT row_hash FROM verifications WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    for id in 2..=3 {
        let hash = plain_hash(&conn, id, &prev);
        conn.execute(
            "UPDATE verifications SET prev_hash = ?1, row_hash = ?2 WHERE id = ?3",
            params![prev, hash, id],
        )
        .unwrap();
        prev = hash;
    }
    drop(conn);
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("record 2"), "{text}");

    // A picture swapped under record 2 (another picture's sealed bytes).
    std::fs::write(&db, &backup).unwrap();
    let _ = std::fs::remove_file(dir.path().join("device.db-wal"));
    let _ = std::fs::remove_file(dir.path().join("device.db-shm"));
    let conn = Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE media SET sealed = (SELECT sealed FROM media WHERE original_name = 'f0.jpg')
         WHERE original_name = 's1.jpg'",
        [],
    )
    .unwrap();
    drop(conn);
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("picture") && text.contains("record 2"), "{text}");

    // The newest record deleted: the counter beside the key still says 3.
    std::fs::write(&db, &backup).unwrap();
    let _ = std::fs::remove_file(dir.path().join("device.db-wal"));
    let _ = std::fs::remove_file(dir.path().join("device.db-shm"));
    let conn = Connection::open(&db).unwrap();
    conn.execute("DELETE FROM outbox WHERE verification_id = 3", []).unwrap();
    conn.execute("DELETE FROM verifications WHERE id = 3", []).unwrap();
    drop(conn);
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("deleted") && text.contains("record 3"), "{text}");
}

#[test]
fn a_rewrite_or_a_cut_made_with_the_key_is_reported_against_the_remote() {
    let dir = tempfile::tempdir().unwrap();
    let db = device(dir.path());
    let remote_dir = tempfile::tempdir().unwrap();
    let remote = Server::start(remote_dir.path(), &[]);
    let token = remote.token("device-1");
    let sync = Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(["sync", "--db", db.to_str().unwrap(), "--remote", &remote.base, "--once"])
        .env("FACEMATCH_REMOTE_TOKEN", &token)
        .output()
        .unwrap();
    assert!(sync.status.success(), "{}", String::from_utf8_lossy(&sync.stderr));
    let with_remote = ["--remote", remote.base.as_str(), "--token", token.as_str()];
    let (code, text) = verify(&db, &with_remote);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("records up to 3 match"), "{text}");
    assert_eq!(Store::open(&db, None).unwrap().remote_anchor().unwrap(), Some(3));

    // An insider with the key makes a whole new, valid log for the same device, with its
    // own counter beside the key: records rewritten (3 records, the last one different) or
    // cut (2 records). The local check cannot tell; the remote's anchor can.
    let device_id = Store::open(&db, None).unwrap().device_id().to_string();
    let original = std::fs::read(&db).unwrap();
    let original_counter = std::fs::read(dir.path().join("device.db.key.chain")).unwrap();
    // Every anchor the remote kept is compared, so the first forged record is named (the
    // forged records differ from the first on, in their times at least).
    for (records, says) in
        [(3, "record 1 differs from what was synced"), (2, "record 1 differs from what was synced")]
    {
        let forged_dir = tempfile::tempdir().unwrap();
        let forged = forged_dir.path().join("forged.db");
        std::fs::copy(dir.path().join("device.db.key"), forged_dir.path().join("forged.db.key"))
            .unwrap();
        drop(Store::open(&forged, None).unwrap());
        let conn = Connection::open(&forged).unwrap();
        conn.execute("UPDATE meta SET value = ?1 WHERE key = 'device_id'", params![device_id])
            .unwrap();
        drop(conn);
        let mut store = Store::open(&forged, None).unwrap();
        for n in 0..records {
            let entry = NewVerification {
                doc_type: facematch::domain::DocumentType::Gov,
                threshold: 85.0,
                front_percent: Some(if n == 2 { 20.0 } else { 95.0 }),
                ..NewVerification::default()
            };
            store.record_verification(&entry).unwrap();
        }
        drop(store);
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.path().join(format!("device.db{suffix}")));
        }
        let checkpointed = Connection::open(&forged).unwrap();
        checkpointed.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
        drop(checkpointed);
        std::fs::copy(&forged, &db).unwrap();
        std::fs::copy(
            forged_dir.path().join("forged.db.key.chain"),
            dir.path().join("device.db.key.chain"),
        )
        .unwrap();
        assert_eq!(verify(&db, &[]).0, Some(0), "a valid forged log passes the local check");
        let (code, text) = verify(&db, &with_remote);
        assert_eq!(code, Some(1), "{text}");
        assert!(text.contains(says), "{text}");
        if records == 3 {
            // The forged log goes on: its next record, honest, syncs and is anchored. The
            // rewrite of the records before it is still found (every kept anchor is compared).
            let mut store = Store::open(&db, None).unwrap();
            crate::util::record_photo_pair(&mut store, "joe_biden", 1, 2);
            drop(store);
            let synced = Command::new(env!("CARGO_BIN_EXE_facematch"))
                .args(["sync", "--db", db.to_str().unwrap(), "--remote", &remote.base, "--once"])
                .env("FACEMATCH_REMOTE_TOKEN", &token)
                .output()
                .unwrap();
            assert!(synced.status.success(), "{}", String::from_utf8_lossy(&synced.stderr));
            assert_eq!(Store::open(&db, None).unwrap().remote_anchor().unwrap(), Some(4));
            let (code, text) = verify(&db, &with_remote);
            assert_eq!(code, Some(1), "{text}");
            assert!(text.contains(says), "{text}");
        }
    }
    std::fs::write(&db, &original).unwrap();
    std::fs::write(dir.path().join("device.db.key.chain"), &original_counter).unwrap();

    // A cut with the key: the newest synced record deleted, the counters restarted by a reseal.
    // The local check passes (naming the reseal); the remote's anchors still hold record 3.
    let conn = Connection::open(&db).unwrap();
    conn.execute("DELETE FROM outbox WHERE verification_id = 3", []).unwrap();
    conn.execute("DELETE FROM verifications WHERE id = 3", []).unwrap();
    drop(conn);
    let resealed = Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(["log", "reseal", "--db", db.to_str().unwrap(), "--reason", "cut"])
        .arg("--i-understand-earlier-deletions-become-invisible")
        .output()
        .unwrap();
    assert!(resealed.status.success(), "{}", String::from_utf8_lossy(&resealed.stderr));
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("log reseal"), "{text}");
    let (code, text) = verify(&db, &with_remote);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("record 3 was synced, and is no longer in this log"), "{text}");
    std::fs::write(&db, &original).unwrap();
    std::fs::write(dir.path().join("device.db.key.chain"), &original_counter).unwrap();

    // A remote that keeps no anchors says so plainly.
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", plain.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in plain.incoming().flatten().take(3) {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut stream, &mut buf);
            let _ = std::io::Write::write_all(
                &mut stream,
                b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
            );
        }
    });
    let (code, text) = verify(&db, &["--remote", &address, "--token", "fm_x"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("keeps no anchors"), "{text}");
}

#[test]
fn a_token_holder_cannot_move_a_devices_anchor_where_its_log_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let db = device(dir.path());
    let remote_dir = tempfile::tempdir().unwrap();
    let remote = Server::start(remote_dir.path(), &[]);
    let token = remote.token("device-1");
    let sync = || {
        let out = Command::new(env!("CARGO_BIN_EXE_facematch"))
            .args(["sync", "--db", db.to_str().unwrap(), "--remote", &remote.base, "--once"])
            .env("FACEMATCH_REMOTE_TOKEN", &token)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    sync();
    let device_id = Store::open(&db, None).unwrap().device_id().to_string();
    let with_remote = ["--remote", remote.base.as_str(), "--token", token.as_str()];

    // Someone holding the sync token decides one real match and sends a forged anchor with
    // it: a far jump named by its own Idempotency-Key, a next record under another call's key,
    // and a rewind of a kept record.
    let client = crate::util::http_client(None);
    let picture = std::fs::read(crate::util::face("sundar_pichai", 1)).unwrap();
    let (_, uploaded) = remote.upload(&client, &token, "x.jpg", picture);
    let media = uploaded["_id"].as_str().unwrap().to_string();
    let forged_hash = "ab".repeat(32);
    // (The rewind reuses record 2's key with other pictures: refused as a different request.)
    for (record, key, status) in [
        (999_999, format!("{device_id}-verification-999999"), 200),
        (4, "someone-else".to_string(), 200),
        (2, format!("{device_id}-verification-2"), 400),
    ] {
        let answer = client
            .post(format!("{}/api/v2/public/facex/match", remote.base))
            .header("Authorization", format!("Basic {token}"))
            .header("Idempotency-Key", key)
            .header("X-Facematch-Anchor", format!("{device_id}:{record}:{forged_hash}"))
            .json(&serde_json::json!({"src": media, "targetFront": media, "type": "GOV", "threshold": 85}))
            .send()
            .unwrap();
        assert_eq!(answer.status().as_u16(), status, "record {record}");
        assert!(answer.headers().get("x-facematch-anchored").is_none(), "record {record} was kept");
    }
    let (code, text) = verify(&db, &with_remote);
    assert_eq!(code, Some(0), "the honest log still matches: {text}");
    assert!(text.contains("records up to 3 match"), "{text}");

    // The device goes on: its next record moves the anchor as before.
    {
        let mut store = Store::open(&db, None).unwrap();
        crate::util::record_photo_pair(&mut store, "joe_biden", 1, 2);
    }
    sync();
    let (code, text) = verify(&db, &with_remote);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("records up to 4 match"), "{text}");
}
