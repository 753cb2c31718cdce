//! A hub on PostgreSQL: two `serve --store postgres://...` replicas on one real database
//! (tests/postgres.rs) answer as one server: idempotency, media, rate limits and device anchors
//! are the database's, not a process's; the database going away is a 503 with Retry-After, and
//! a replica recovers by itself when it is back; a newer schema or another key is refused.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use reqwest::blocking::{multipart, Client};

use crate::postgres::Postgres;
use crate::server::Server;
use crate::util::{face, http_client, record_photo_pair, record_photo_pair_with};

fn facematch(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(args)
        .env_remove("FACEMATCH_STORE")
        .env_remove("FACEMATCH_HUB_KEY")
        .envs(envs.iter().copied())
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `token add` on the hub's database; the token.
fn hub_token(pg: &Postgres, key: &Path, name: &str) -> String {
    let url = pg.url();
    let out =
        facematch(&["token", "add", "--store", &url, "--key", key.to_str().unwrap(), name], &[]);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn upload(
    client: &Client,
    base: &str,
    token: &str,
    key: &str,
    bytes: Vec<u8>,
) -> serde_json::Value {
    let form =
        multipart::Form::new().part("file", multipart::Part::bytes(bytes).file_name("p.jpg"));
    let r = client
        .post(format!("{base}/api/v1/public/media/image/multipart"))
        .header("Authorization", format!("Basic {token}"))
        .header("Idempotency-Key", key)
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().unwrap()
}

/// facex/match with an Idempotency-Key: status, the verification header, the body as text.
fn match_keyed(
    client: &Client,
    base: &str,
    token: &str,
    key: &str,
    body: &serde_json::Value,
) -> (u16, Option<String>, String) {
    let r = client
        .post(format!("{base}/api/v2/public/facex/match"))
        .header("Authorization", format!("Basic {token}"))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .unwrap();
    let id = r.headers().get("x-facematch-verification").map(|v| v.to_str().unwrap().to_string());
    (r.status().as_u16(), id, r.text().unwrap())
}

/// `GET` the anchors of a device: status, Retry-After, body.
fn anchors(client: &Client, base: &str, token: &str) -> (u16, Option<String>, String) {
    let r = client
        .get(format!("{base}/api/v2/facematch/anchors/DEVnone"))
        .header("Authorization", format!("Basic {token}"))
        .send()
        .unwrap();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (r.status().as_u16(), retry, r.text().unwrap())
}

#[test]
fn two_replicas_answer_as_one_server() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("hub.key");
    let token = hub_token(&pg, &key, "branch-17");
    let limits = ["--api-rate", "8", "--token-rate", "0"];
    let (a, b) =
        (Server::start_hub(&pg.url(), &key, &limits), Server::start_hub(&pg.url(), &key, &limits));
    let client = http_client(Some(Duration::from_secs(60)));

    // Pictures uploaded to A are B's too; the same upload key on B answers A's id.
    let selfie = std::fs::read(face("sundar_pichai", 1)).unwrap();
    let src = upload(&client, &a.base, &token, "up-1", selfie.clone());
    let again = upload(&client, &b.base, &token, "up-1", selfie.clone());
    assert_eq!(src["_id"], again["_id"], "an upload retried on the other replica is stored once");
    let front =
        upload(&client, &b.base, &token, "up-2", std::fs::read(face("sundar_pichai", 2)).unwrap());
    assert_eq!(pg.sql("SELECT count(*) FROM media"), "2");
    // Sealed: the picture's bytes are not in the database.
    let head = hex::encode(&selfie[..64]);
    assert_eq!(
        pg.sql(&format!(
            "SELECT count(*) FROM media WHERE position(decode('{head}', 'hex') in sealed) > 0"
        )),
        "0"
    );

    // A match decided on B is answered from the log when retried on A.
    let body = serde_json::json!({"src": src["_id"], "targetFront": front["_id"], "type": "GOV", "threshold": 85});
    let (status, id_b, answer_b) = match_keyed(&client, &b.base, &token, "match-1", &body);
    assert_eq!(status, 200, "{answer_b}");
    assert!(answer_b.contains("FACE_MATCHED"), "{answer_b}");
    let (status, id_a, answer_a) = match_keyed(&client, &a.base, &token, "match-1", &body);
    assert_eq!(
        (status, &id_a, &answer_a),
        (200, &id_b, &answer_b),
        "the retry is answered as decided"
    );
    // The key names that request: another one under it is refused on either replica.
    let other = serde_json::json!({"src": src["_id"], "targetFront": front["_id"], "type": "GOV", "threshold": 95});
    let (status, _, refused) = match_keyed(&client, &a.base, &token, "match-1", &other);
    assert_eq!(status, 400, "{refused}");
    assert!(refused.contains("Idempotency-Key"), "{refused}");
    assert_eq!(pg.sql("SELECT count(*) FROM verifications"), "1", "decided once");

    // A second decision continues the hub's one chain, whichever replica makes it.
    let (status, id2, _) = match_keyed(&client, &a.base, &token, "match-2", &body);
    assert_eq!(status, 200);
    assert_eq!(id2.as_deref(), Some("2"));
    assert_eq!(
        pg.sql("SELECT count(*) FROM verifications v JOIN verifications p ON p.id = v.id - 1 WHERE v.prev_hash = p.row_hash"),
        "1"
    );

    // The rate limit counts both replicas' calls: 8 match-API calls a minute in all. Four were
    // made above; two more on each replica fill it, and the next is refused on either.
    for base in [&a.base, &b.base, &a.base, &b.base] {
        assert_eq!(anchors(&client, base, &token).0, 200);
    }
    for base in [&a.base, &b.base] {
        let (status, retry, body) = anchors(&client, base, &token);
        assert_eq!(status, 429, "{body}");
        assert!(body.contains("4292"), "{body}");
        assert!(retry.is_some_and(|s| s.parse::<u64>().unwrap() <= 60));
    }
    // Uploads are another API, with room of their own.
    upload(&client, &b.base, &token, "up-3", selfie);
}

#[test]
fn a_device_syncs_to_one_replica_and_verifies_against_the_other() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("hub.key");
    let token = hub_token(&pg, &key, "kiosk-1");
    let (a, b) = (Server::start_hub(&pg.url(), &key, &[]), Server::start_hub(&pg.url(), &key, &[]));
    let db = dir.path().join("device.db");
    {
        let mut store = facematch::store::Store::open(&db, None).unwrap();
        record_photo_pair(&mut store, "sundar_pichai", 1, 2);
        record_photo_pair(&mut store, "barack_obama", 1, 2);
    }
    let db = db.to_str().unwrap();
    let env = [("FACEMATCH_REMOTE_TOKEN", token.as_str())];
    let out = facematch(&["sync", "--db", db, "--remote", &a.base, "--once"], &env);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        pg.sql("SELECT count(*) FROM anchor_records"),
        "2",
        "each synced record's anchor is kept"
    );
    // The hub has the device's heartbeat: what it runs, its log and queue, its clock.
    let device = facematch::store::Store::open_read_only(Path::new(db), None)
        .unwrap()
        .device_id()
        .to_string();
    let fleet = pg.sql(&format!(
        "SELECT software_version, last_record, pending, parked, free_disk_bytes > 0, \
         abs(clock_offset_ms) < 60000 FROM facematch_audit.devices WHERE device_id = '{device}'"
    ));
    assert_eq!(fleet, format!("{}|2|0|0|t|t", env!("CARGO_PKG_VERSION")));
    let models = pg.sql(&format!(
        "SELECT json_array_length(heartbeat_json::json -> 'models') FROM devices WHERE device_id = '{device}'"
    ));
    assert_eq!(models, facematch::inference::models::ALL.len().to_string());
    // Another live token cannot speak for the device.
    let other = hub_token(&pg, &key, "someone-else");
    let client = http_client(Some(Duration::from_secs(30)));
    let beat = serde_json::json!({"softwareVersion": "9.9.9", "models": [], "lastRecord": 1,
        "pending": 0, "parked": 0, "disagreements": 0, "freeDiskBytes": null, "sentAtMs": 0});
    let r = client
        .post(format!("{}/api/v2/facematch/devices/{device}/heartbeat", b.base))
        .header("Authorization", format!("Basic {other}"))
        .json(&beat)
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("another token"));
    let kept = pg.sql("SELECT heartbeat_json FROM devices");
    assert!(kept.contains(env!("CARGO_PKG_VERSION")) && !kept.contains("9.9.9"), "{kept}");
    let verify =
        facematch(&["log", "verify", "--db", db, "--remote", &b.base, "--token", &token], &[]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
    // The device's history rewritten is caught by the other replica: the anchors are the database's.
    pg.sql("UPDATE anchor_records SET row_hash = repeat('0', 64) WHERE record_id = 1");
    let verify =
        facematch(&["log", "verify", "--db", db, "--remote", &b.base, "--token", &token], &[]);
    assert_ne!(verify.status.code(), Some(0), "{}", text(&verify));
}

/// Records `n` liveness attempts on the device, every third failed with a frame kept.
fn record_attempts(store: &mut facematch::store::Store, n: usize) {
    for i in 0..n {
        record_attempt(store, i % 3 == 2);
    }
}

/// Records one liveness attempt, passed or failed (with a frame kept).
fn record_attempt(store: &mut facematch::store::Store, failed: bool) {
    let frame = std::fs::read(face("barack_obama", 3)).unwrap();
    let frame_media =
        failed.then(|| store.insert_media(None, "frame.jpg", "image/jpeg", &frame).unwrap());
    let attempt = facematch::store::NewAttempt {
        live: !failed,
        reason: failed.then(|| "movement_not_seen".to_string()),
        challenge: "left up right".into(),
        evidence_json: "{\"frames\": 40}".into(),
        frame_media,
    };
    store.record_attempt(&attempt).unwrap();
}

#[test]
fn a_device_sends_its_liveness_attempts_and_the_records_that_need_a_person() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("hub.key");
    let token = hub_token(&pg, &key, "kiosk-4");
    let (a, b) = (Server::start_hub(&pg.url(), &key, &[]), Server::start_hub(&pg.url(), &key, &[]));
    let db = dir.path().join("device.db");
    let device = {
        let mut store = facematch::store::Store::open(&db, None).unwrap();
        // 25 attempts: more than one call carries.
        record_attempts(&mut store, 25);
        record_photo_pair(&mut store, "sundar_pichai", 1, 2);
        // The device said "not matched" of a genuine pair: the hub will decide otherwise.
        record_photo_pair_with(&mut store, "barack_obama", 1, 2, |v| {
            v.status = facematch::contract::MatchStatus::FaceNotMatched;
            v.matched = false;
        });
        let parked = record_photo_pair(&mut store, "angelina_jolie", 1, 2);
        store.mark_parked(parked, "HTTP 400 code 4007: incompatible file type").unwrap();
        store.device_id().to_string()
    };
    let db = db.to_str().unwrap();
    let env = [("FACEMATCH_REMOTE_TOKEN", token.as_str())];
    let sync = |base: &str| {
        let out = facematch(&["sync", "--db", db, "--remote", base, "--once"], &env);
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let report = sync(&a.base);
    assert_eq!(report["liveness_attempts_sent"], 25, "{report}");
    assert_eq!(
        pg.sql(&format!(
            "SELECT count(*), min(attempt_id), max(attempt_id), count(frame_media), \
             count(*) FILTER (WHERE NOT live) FROM device_attempts WHERE device_id = '{device}'"
        )),
        "25|1|25|8|8"
    );
    // In the device's order, each naming the one before.
    assert_eq!(
        pg.sql(
            "SELECT count(*) FROM device_attempts d JOIN device_attempts p \
             ON p.device_id = d.device_id AND p.attempt_id = d.attempt_id - 1 \
             WHERE d.prev_hash = p.row_hash"
        ),
        "24"
    );
    // Each frame is a sealed picture of the hub's, uploaded by the device's token.
    assert_eq!(
        pg.sql(
            "SELECT count(*) FROM device_attempts d JOIN media m ON m.id = d.frame_media \
             JOIN tokens t ON t.id = m.owner_token WHERE t.name = 'kiosk-4' AND m.sealed IS NOT NULL"
        ),
        "8"
    );
    // Nothing twice: the next run, on the other replica, sends only what is new.
    assert_eq!(sync(&b.base)["liveness_attempts_sent"], 0);
    // A passed attempt waits for the verification its selfie is for, and goes with that link.
    {
        let mut store = facematch::store::Store::open(Path::new(db), None).unwrap();
        record_attempt(&mut store, false);
    }
    assert_eq!(sync(&b.base)["liveness_attempts_sent"], 0, "attempt 26 waits for its record");
    {
        let mut store = facematch::store::Store::open(Path::new(db), None).unwrap();
        let linked = record_photo_pair_with(&mut store, "barack_obama", 1, 1, |v| {
            v.liveness_attempt = Some(26);
        });
        assert_eq!(linked, 4);
        record_attempt(&mut store, true);
        record_attempt(&mut store, true);
    }
    assert_eq!(sync(&b.base)["liveness_attempts_sent"], 3);
    assert_eq!(pg.sql("SELECT verification FROM device_attempts WHERE attempt_id = 26"), "4");
    assert_eq!(pg.sql("SELECT count(*) FROM device_attempts"), "28");
    assert_eq!(pg.sql("SELECT count(*) FROM media WHERE original_name = 'frame.jpg'"), "10");

    // The records that need a person, as the device's newest heartbeat tells them, and the
    // attempts, read by an auditor through the views.
    pg.sql(AUDITOR_GRANTS);
    let open = pg
        .sql_as(
            "auditor",
            "SELECT device_record, reason, device_status, coalesce(remote_status, '-'), \
             coalesce(refusal, '-') FROM facematch_audit.open_records ORDER BY device_record",
        )
        .unwrap();
    assert_eq!(
        open,
        "2|disagreement|FACE_NOT_MATCHED|FACE_MATCHED|-\n\
         3|parked|FACE_MATCHED|-|HTTP 400 code 4007: incompatible file type"
    );
    assert_eq!(
        pg.sql_as(
            "auditor",
            "SELECT count(*), count(*) FILTER (WHERE has_frame) FROM facematch_audit.liveness_attempts"
        )
        .unwrap(),
        "28|10"
    );

    // Attempts that do not continue what the hub holds are refused, and nothing is kept.
    let client = http_client(Some(Duration::from_secs(30)));
    let post = |body: serde_json::Value, as_token: &str| {
        let r = client
            .post(format!("{}/api/v2/facematch/devices/{device}/attempts", a.base))
            .header("Authorization", format!("Basic {as_token}"))
            .json(&body)
            .send()
            .unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    let attempt = |id: i64, prev: &str| {
        serde_json::json!({"id": id, "createdAt": 1, "live": true, "reason": null,
            "challenge": "left", "evidenceJson": "{}", "frameMedia": null, "verification": null,
            "prevHash": prev, "rowHash": "a".repeat(64)})
    };
    let (status, said) =
        post(serde_json::json!({"attempts": [attempt(29, &"b".repeat(64))]}), &token);
    assert_eq!(status, 400, "{said}");
    assert!(said.contains("does not follow attempt 28"), "{said}");
    let (status, said) =
        post(serde_json::json!({"attempts": [attempt(3, &"b".repeat(64))]}), &token);
    assert_eq!(status, 400, "{said}");
    assert!(said.contains("differs from the one the hub holds"), "{said}");
    // Another token cannot speak for the device.
    let other = hub_token(&pg, &key, "someone-else");
    let (status, said) =
        post(serde_json::json!({"attempts": [attempt(1, &"0".repeat(64))]}), &other);
    assert_eq!(status, 400, "{said}");
    assert!(said.contains("another token"), "{said}");
    // Over the bounds: too many in one call, a hash that is not one.
    let many: Vec<_> = (29..29 + 21).map(|id| attempt(id, &"b".repeat(64))).collect();
    let (status, said) = post(serde_json::json!({"attempts": many}), &token);
    assert_eq!(status, 400, "{said}");
    let (status, said) = post(serde_json::json!({"attempts": [attempt(29, "not a hash")]}), &token);
    assert_eq!(status, 400, "{said}");
    assert_eq!(pg.sql("SELECT count(*) FROM device_attempts"), "28");
}

#[test]
fn a_hub_on_sqlite_takes_the_attempts_and_open_records_too() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Server::start(dir.path(), &[]);
    let token = hub.token("kiosk-5");
    let db = dir.path().join("device.db");
    let device = {
        let mut store = facematch::store::Store::open(&db, None).unwrap();
        record_attempts(&mut store, 4);
        let parked = record_photo_pair(&mut store, "angelina_jolie", 1, 2);
        store.mark_parked(parked, "HTTP 400 code 4016: no face").unwrap();
        store.device_id().to_string()
    };
    let env = [("FACEMATCH_REMOTE_TOKEN", token.as_str())];
    let out =
        facematch(&["sync", "--db", db.to_str().unwrap(), "--remote", &hub.base, "--once"], &env);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["liveness_attempts_sent"], 4, "{report}");
    let hub_db = facematch::store::Store::open_read_only(&dir.path().join("log.db"), None).unwrap();
    let held = hub_db.device_attempts(&device, 10).unwrap();
    assert_eq!(held.iter().map(|a| a.attempt.id).collect::<Vec<_>>(), [4, 3, 2, 1]);
    assert!(held[1].attempt.frame_media.is_some(), "attempt 3 failed: its frame is at the hub");
    let beat = hub_db.heartbeat_json(&device).unwrap().unwrap();
    assert!(beat.contains("\"reason\":\"parked\"") && beat.contains("code 4016"), "{beat}");
}

#[test]
fn the_database_down_is_a_503_with_retry_after_and_the_replica_recovers() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("hub.key");
    let token = hub_token(&pg, &key, "branch-2");
    let mut replica = Server::start_hub(&pg.url(), &key, &[]);
    let client = http_client(Some(Duration::from_secs(30)));
    assert_eq!(anchors(&client, &replica.base, &token).0, 200);
    pg.stop();
    let (status, retry, body) = anchors(&client, &replica.base, &token);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("5001"), "{body}");
    assert_eq!(retry.as_deref(), Some("5"));
    assert!(replica.is_running(), "the replica keeps running without its database");
    pg.start_again();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _, body) = anchors(&client, &replica.base, &token);
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "not back 20 s after the database: {status} {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Stopped as systemd stops it: a clean exit (PostgreSQL's client let go outside tokio).
    assert!(replica.terminate().success());
}

#[test]
fn a_newer_schema_or_another_key_is_refused_and_nothing_is_changed() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("hub.key");
    hub_token(&pg, &key, "first");
    let url = pg.url();
    let add = |key_args: &[&str], envs: &[(&str, &str)]| {
        let mut args = vec!["token", "add", "--store", url.as_str()];
        args.extend_from_slice(key_args);
        args.push("second");
        facematch(&args, envs)
    };
    // A database from a newer facematch.
    pg.sql("UPDATE facematch_schema SET version = 99");
    let out = add(&["--key", key.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("schema version 99, newer than this facematch supports (3)"),
        "{}",
        text(&out)
    );
    // A database of version 1, as the release before version 2 left it.
    pg.sql(
        "DROP VIEW facematch_audit.review_decisions, facematch_audit.picture_views, \
         facematch_audit.staff, facematch_audit.anchor_refusals; \
         DROP TABLE review_decisions, picture_views, staff_sessions, staff, anchor_refusals; \
         DROP VIEW facematch_audit.open_records, facematch_audit.liveness_attempts; \
         DROP TABLE device_attempts; UPDATE facematch_schema SET version = 1",
    );
    // A database labelled version 1 that lacks part of it is refused, not completed.
    pg.sql("ALTER TABLE devices RENAME TO devices_aside");
    let out = add(&["--key", key.to_str().unwrap()], &[]);
    assert!(text(&out).contains("has no devices"), "{}", text(&out));
    assert_eq!(pg.sql("SELECT to_regclass('devices') IS NULL"), "t", "nothing was changed");
    assert_eq!(pg.sql("SELECT version FROM facematch_schema"), "1");
    pg.sql("ALTER TABLE devices_aside RENAME TO devices");
    // Another key, as a file or from the environment; a new file is not made for a sealed database.
    let other = dir.path().join("other.key");
    let out = add(&["--key", other.to_str().unwrap()], &[]);
    assert!(text(&out).contains("No such file"), "{}", text(&out));
    assert!(!other.exists(), "no key is made for a database sealed under another");
    let out = add(&[], &[("FACEMATCH_HUB_KEY", &"ab".repeat(32))]);
    assert!(
        text(&out).contains("not the key the hub's database was sealed with"),
        "{}",
        text(&out)
    );
    let out = add(&[], &[("FACEMATCH_HUB_KEY", "not hex")]);
    assert!(text(&out).contains("64 hex digits"), "{}", text(&out));
    // The key given as hex opens it.
    let hex_key = hex::encode(std::fs::read(&key).unwrap());
    let out = add(&[], &[("FACEMATCH_HUB_KEY", &hex_key)]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(pg.sql("SELECT string_agg(name, ',' ORDER BY id) FROM tokens"), "first,second");
    // ...and brings version 1 to version 3.
    assert_eq!(
        pg.sql(
            "SELECT version, to_regclass('device_attempts') IS NOT NULL, \
             to_regclass('facematch_audit.open_records') IS NOT NULL, \
             to_regclass('review_decisions') IS NOT NULL FROM facematch_schema"
        ),
        "3|t|t|t"
    );
    // No key at all; plain text asked for with a database on another machine.
    let out = add(&[], &[]);
    assert!(text(&out).contains("needs its key"), "{}", text(&out));
    let plain = "postgres://hub@db.bank.example/hub?sslmode=disable";
    let out =
        facematch(&["token", "add", "--store", plain, "--key", key.to_str().unwrap(), "x"], &[]);
    assert!(text(&out).contains("in plain text"), "{}", text(&out));
}

#[test]
fn a_replica_killed_mid_sync_loses_and_doubles_nothing() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("hub.key");
    let token = hub_token(&pg, &key, "kiosk-2");
    let mut a = Server::start_hub(&pg.url(), &key, &[]);
    let b = Server::start_hub(&pg.url(), &key, &[]);
    let db = dir.path().join("device.db");
    let records = 8;
    {
        let mut store = facematch::store::Store::open(&db, None).unwrap();
        for n in 0..records {
            record_photo_pair(&mut store, "angelina_jolie", 1 + n % 9, 1 + (n + 1) % 9);
        }
    }
    let db = db.to_str().unwrap();
    let mut sync = Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(["sync", "--db", db, "--remote", &a.base, "--once", "--max-attempts", "2"])
        .args(["--base-delay-ms", "50", "--max-delay-ms", "200"])
        .env("FACEMATCH_REMOTE_TOKEN", &token)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while pg.sql("SELECT count(*) FROM verifications").parse::<u32>().unwrap() < 2 {
        assert!(Instant::now() < deadline, "the sync never reached the hub");
        std::thread::sleep(Duration::from_millis(20));
    }
    a.kill();
    sync.wait().unwrap();
    let before: u32 = pg.sql("SELECT count(*) FROM verifications").parse().unwrap();
    assert!(before < records, "A was killed after the sync ended: nothing was tested");
    // The device goes on with the other replica (a load balancer's part, done by hand here).
    let env = [("FACEMATCH_REMOTE_TOKEN", token.as_str())];
    let out = facematch(&["sync", "--db", db, "--remote", &b.base, "--once"], &env);
    assert!(out.status.success(), "{}", text(&out));
    let keys = pg.sql(
        "SELECT count(*) || ' ' || count(DISTINCT idempotency_key) FROM verifications \
         WHERE idempotency_key LIKE '%-verification-%'",
    );
    assert_eq!(keys, format!("{records} {records}"), "one hub record per device record");
    assert_eq!(pg.sql("SELECT count(*) FROM anchor_records"), records.to_string());
    let verify =
        facematch(&["log", "verify", "--db", db, "--remote", &b.base, "--token", &token], &[]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
}

#[test]
fn the_connection_to_postgresql_is_tls_verified_with_the_banks_ca() {
    let pki = crate::tls::Pki::new();
    let leaf = pki.leaf("db", &["localhost"], -1, 30);
    let pg = Postgres::start_with_tls(&leaf.cert, &leaf.key);
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("hub.key");
    let (key, ca) = (key.to_str().unwrap(), pki.ca_file());
    let url = pg.url_as("localhost", "require");
    let out = facematch(
        &["token", "add", "--store", &url, "--key", key, "--store-ca", ca.to_str().unwrap(), "t"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let replica = Server::start_hub(&url, Path::new(key), &["--store-ca", ca.to_str().unwrap()]);
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let client = http_client(Some(Duration::from_secs(30)));
    assert_eq!(anchors(&client, &replica.base, &token).0, 200);
    // The replica's connections are TLS (psql's own, from this test, is plain).
    let tls = pg.sql(
        "SELECT count(*) FILTER (WHERE s.ssl) || '/' || count(*) FROM pg_stat_ssl s \
         JOIN pg_stat_activity a USING (pid) WHERE a.datname = 'hub' AND a.pid <> pg_backend_pid()",
    );
    assert!(tls.split('/').next().unwrap().parse::<u32>().unwrap() >= 1, "{tls}");
    assert_eq!(tls.split('/').next(), tls.split('/').nth(1), "every connection is TLS: {tls}");
    // A certificate the given CA did not sign is refused, and says why.
    let stranger = crate::tls::Pki::named("Some Public Root CA");
    let out = facematch(&["token", "add", "--store", &url, "--key", key, "--store-ca"], &[]);
    assert!(!out.status.success());
    let stranger_ca = stranger.ca_file();
    let out = facematch(
        &[
            "token",
            "add",
            "--store",
            &url,
            "--key",
            key,
            "--store-ca",
            stranger_ca.to_str().unwrap(),
            "u",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("UnknownIssuer"), "{}", text(&out));
    // The certificate names localhost: the same server by another name is refused too.
    let by_ip = pg.url_as("127.0.0.1", "require");
    let out = facematch(
        &["token", "add", "--store", &by_ip, "--key", key, "--store-ca", ca.to_str().unwrap(), "v"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not valid for name"), "{}", text(&out));
    assert_eq!(pg.sql("SELECT count(*) FROM tokens"), "1");
}

/// What docs/hub.md tells a bank's DBA to run for its auditors.
const AUDITOR_GRANTS: &str = "CREATE ROLE auditor LOGIN; \
    GRANT USAGE ON SCHEMA facematch_audit TO auditor; \
    GRANT SELECT ON ALL TABLES IN SCHEMA facematch_audit TO auditor;";

#[test]
fn an_auditor_reads_the_hubs_log_through_its_views_and_nothing_else() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("hub.key");
    let token = hub_token(&pg, &key, "kiosk-3");
    let replica = Server::start_hub(&pg.url(), &key, &[]);
    let db = dir.path().join("device.db");
    let device = {
        let mut store = facematch::store::Store::open(&db, None).unwrap();
        record_photo_pair(&mut store, "sundar_pichai", 1, 2);
        record_photo_pair(&mut store, "barack_obama", 1, 2);
        store.device_id().to_string()
    };
    let env = [("FACEMATCH_REMOTE_TOKEN", token.as_str())];
    let out = facematch(
        &["sync", "--db", db.to_str().unwrap(), "--remote", &replica.base, "--once"],
        &env,
    );
    assert!(out.status.success(), "{}", text(&out));
    pg.sql(AUDITOR_GRANTS);
    let as_auditor = pg.url_for("auditor");
    let log = |extra: &[&str]| {
        let mut args = vec!["log", "--store", as_auditor.as_str(), "--json"];
        args.extend_from_slice(extra);
        let out = facematch(&args, &[]);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    let records = log(&["--device", &device]);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["device_id"], device.as_str());
    assert_eq!(
        (records[0]["device_record"].as_i64(), records[1]["device_record"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(records[1]["status"], "FACE_MATCHED");
    assert_eq!(log(&["--since", "1h"]).len(), 2);
    assert_eq!(log(&["--since", "2999-01-01T00:00:00Z"]).len(), 0);
    assert_eq!(log(&["--device", "DEVsomeone-else"]).len(), 0);
    // The views only: no picture, embedding, token hash or request.
    for table in ["media", "verifications", "tokens", "anchor_records"] {
        let refused =
            pg.sql_as("auditor", &format!("SELECT count(*) FROM public.{table}")).unwrap_err();
        assert!(refused.contains("permission denied"), "{table}: {refused}");
    }
    assert_eq!(pg.sql_as("auditor", "SELECT count(*) FROM facematch_audit.anchors").unwrap(), "2");
    assert!(pg
        .sql_as("auditor", "DELETE FROM facematch_audit.anchors")
        .unwrap_err()
        .contains("permission denied"));
    // A reader never migrates: a hub of another version is refused and left as it is.
    pg.sql("UPDATE facematch_schema SET version = 7");
    let out = facematch(&["log", "--store", &pg.url(), "--json"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("schema version 7, this facematch reads version 3"),
        "{}",
        text(&out)
    );
    assert_eq!(pg.sql("SELECT version FROM facematch_schema"), "7");
}

/// An upload without an Idempotency-Key: its id.
fn upload_unkeyed(client: &Client, base: &str, token: &str, bytes: Vec<u8>) -> String {
    let form =
        multipart::Form::new().part("file", multipart::Part::bytes(bytes).file_name("p.jpg"));
    let r = client
        .post(format!("{base}/api/v1/public/media/image/multipart"))
        .header("Authorization", format!("Basic {token}"))
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<serde_json::Value>().unwrap()["_id"].as_str().unwrap().to_string()
}

#[test]
fn calls_without_keys_same_key_races_and_released_keys_each_decide_once_and_the_chain_holds() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("hub.key");
    let token = hub_token(&pg, &key, "client");
    let (a, b) = (Server::start_hub(&pg.url(), &key, &[]), Server::start_hub(&pg.url(), &key, &[]));
    let client = http_client(Some(Duration::from_secs(60)));
    let picture = |n| std::fs::read(face("angelina_jolie", n)).unwrap();

    // Without keys, every upload and every match is its own.
    let src = upload_unkeyed(&client, &a.base, &token, picture(1));
    let src_again = upload_unkeyed(&client, &b.base, &token, picture(1));
    assert_ne!(src, src_again);
    let front = upload_unkeyed(&client, &a.base, &token, picture(2));
    let body =
        serde_json::json!({"src": src, "targetFront": front, "type": "GOV", "threshold": 85});
    for base in [&a.base, &b.base] {
        let r = client
            .post(format!("{base}/api/v2/public/facex/match"))
            .header("Authorization", format!("Basic {token}"))
            .json(&body)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    }
    assert_eq!(pg.sql("SELECT count(*) FROM verifications"), "2");

    // One key sent to both replicas at once: decided once, both answered with that decision.
    let answers: Vec<_> = std::thread::scope(|scope| {
        let calls: Vec<_> = [&a.base, &b.base]
            .map(|base| scope.spawn(|| match_keyed(&client, base, &token, "race-1", &body)))
            .into_iter()
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    assert_eq!(answers[0].0, 200, "{}", answers[0].2);
    assert_eq!(answers[0], answers[1], "one decision, answered on both replicas");
    assert_eq!(pg.sql("SELECT count(*) FROM verifications"), "3");

    // A key past its 24 h names nothing: released for a new upload, and again after that.
    let mut holder = upload(&client, &a.base, &token, "old-key", picture(3));
    for round in 0..2 {
        pg.sql(
            "UPDATE media SET created_at = created_at - 90000000 WHERE idempotency_key = 'old-key'",
        );
        let next = upload(&client, &b.base, &token, "old-key", picture(4 + round));
        assert_ne!(holder["_id"], next["_id"], "round {round}");
        holder = next;
    }
    assert_eq!(pg.sql("SELECT count(*) FROM media WHERE idempotency_key = 'old-key'"), "1");

    // The hub's chain, recomputed with its key (read-only), holds; an edited record is named.
    let url = pg.url();
    let verify = |key_args: &[&str], envs: &[(&str, &str)]| {
        let mut args = vec!["log", "verify-hub", "--store", url.as_str()];
        args.extend_from_slice(key_args);
        facematch(&args, envs)
    };
    let key_arg = ["--key", key.to_str().unwrap()];
    let out = verify(&key_arg, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("intact: 3 record(s)"), "{}", text(&out));
    let other = dir.path().join("other.key");
    let out = verify(&["--key", other.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!other.exists(), "a verifier makes no key");
    let out = verify(&[], &[("FACEMATCH_HUB_KEY", &"cd".repeat(32))]);
    assert!(text(&out).contains("not the key"), "{}", text(&out));
    pg.sql("UPDATE verifications SET threshold = 50 WHERE id = 2");
    let out = verify(&key_arg, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("breaks at record 2"), "{}", text(&out));
}
