//! The HTTP API against a real server process, real HTTP and a real SQLite file.

use serde_json::json;

use facematch::store::Store;

use crate::server::Server;
use crate::util::{face, png_declaring};

fn photo(who: &str, n: u32) -> Vec<u8> {
    std::fs::read(face(who, n)).unwrap()
}

fn code(v: &serde_json::Value) -> u64 {
    v["code"].as_u64().unwrap_or_else(|| panic!("not an error body: {v}"))
}

#[test]
fn upload_then_match_is_answered_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let token = server.token("bank");
    let client = crate::util::http_client(None);
    let (status, a) = server.upload(&client, &token, "selfie.jpg", photo("barack_obama", 1));
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["originalName"], "selfie.jpg");
    let a = a["_id"].as_str().unwrap().to_string();
    assert!(a.starts_with("MX"));
    let (_, b) = server.upload(&client, &token, "card.jpg", photo("barack_obama", 2));
    let (_, c) = server.upload(&client, &token, "other.jpg", photo("joe_biden", 1));
    let (b, c) = (b["_id"].as_str().unwrap().to_string(), c["_id"].as_str().unwrap().to_string());

    let (status, id, v) = server.match_ids(&client, &token, &a, &b);
    assert_eq!(status, 200, "{v}");
    assert_eq!((v["valid"].as_bool(), v["status"].as_str()), (Some(true), Some("FACE_MATCHED")));
    assert!(v["targetFrontMatch"].as_f64().unwrap() >= 85.0);
    let (status, id2, v) = server.match_ids(&client, &token, &a, &c);
    assert_eq!(status, 200);
    assert_eq!(v["status"], "FACE_NOT_MATCHED");
    // The back side carries the match when the front does not.
    let body = json!({"src": a, "targetFront": c, "targetBack": b, "type": "DL", "threshold": 85})
        .to_string();
    let (status, _, v) =
        server.match_raw(&client, Some(&token), Some("application/json; charset=utf-8"), &body);
    assert_eq!(status, 200);
    assert_eq!((v["valid"].as_bool(), v["targetBackValid"].as_bool()), (Some(true), Some(true)));

    let store = Store::open(&server.db, None).unwrap();
    let log = store.list_verifications(10).unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[2].id, id.unwrap());
    assert_eq!(log[1].id, id2.unwrap());
    assert_eq!(log[1].status.as_str(), "FACE_NOT_MATCHED");
    assert!(log[1].front_percent.unwrap() < 85.0, "scores below the threshold are kept in the log");
    assert_eq!(store.verify_chain().unwrap().first_broken, None);
    assert_eq!(store.verification_embeddings(log[2].id).unwrap().map(|e| e.len()), Some(2));
}

#[test]
fn authorization_is_required_and_revocable() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let client = crate::util::http_client(None);
    let body =
        json!({"src": "MXa", "targetFront": "MXb", "type": "GOV", "threshold": 85}).to_string();
    for token in [None, Some("fm_unknown"), Some("")] {
        let (status, _, v) = server.match_raw(&client, token, Some("application/json"), &body);
        assert_eq!((status, code(&v)), (401, 4016), "{token:?}");
    }
    let token = server.token("teller");
    let (status, _) = server.upload(&client, &token, "a.jpg", photo("kit_harington", 1));
    assert_eq!(status, 200);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(["token", "revoke", "--db", server.db.to_str().unwrap(), "teller"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let (status, v) = server.upload(&client, &token, "a.jpg", photo("kit_harington", 1));
    assert_eq!((status, code(&v)), (401, 4016));
    // Only the token's hash is stored.
    let db = std::fs::read(&server.db).unwrap();
    assert!(!db.windows(token.len()).any(|w| w == token.as_bytes()));
}

#[test]
fn malformed_requests_get_4001() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let (alice, bob) = (server.token("alice"), server.token("bob"));
    let client = crate::util::http_client(None);
    let (_, a) = server.upload(&client, &alice, "a.jpg", photo("kit_harington", 1));
    let a = a["_id"].as_str().unwrap().to_string();
    let (_, b) = server.upload(&client, &bob, "b.jpg", photo("kit_harington", 2));
    let bobs = b["_id"].as_str().unwrap().to_string();

    let check = |content_type: Option<&str>, body: String, fragment: &str| {
        let (status, id, v) = server.match_raw(&client, Some(&alice), content_type, &body);
        assert_eq!((status, code(&v)), (400, 4001), "{body}: {v}");
        assert!(v["details"].as_str().unwrap().contains(fragment), "{body}: {v}");
        assert_eq!(id, None);
    };
    let good = |threshold: serde_json::Value, doc: &str| {
        json!({"src": a, "targetFront": a, "type": doc, "threshold": threshold}).to_string()
    };
    check(None, good(json!(85), "GOV"), "Content-Type");
    check(Some("text/plain"), good(json!(85), "GOV"), "Content-Type");
    check(Some("application/json"), "{\"src\": ".into(), "malformed JSON");
    check(Some("application/json"), "[1,2]".into(), "malformed JSON");
    check(
        Some("application/json"),
        json!({"src": 5, "targetFront": a, "type": "GOV", "threshold": 85}).to_string(),
        "malformed JSON",
    );
    check(Some("application/json"), good(json!(0), "GOV"), "outside 1-100");
    check(Some("application/json"), good(json!(101), "GOV"), "outside 1-100");
    check(Some("application/json"), good(json!("abc"), "GOV"), "not a number");
    check(Some("application/json"), good(json!(85), "AADHAAR"), "not one of");
    check(
        Some("application/json"),
        json!({"targetFront": a, "type": "GOV", "threshold": 85}).to_string(),
        "src is required",
    );
    check(
        Some("application/json"),
        json!({"src": a, "type": "GOV", "threshold": 85}).to_string(),
        "targetFront is required",
    );
    check(
        Some("application/json"),
        json!({"src": a, "targetFront": a, "threshold": 85}).to_string(),
        "type is required",
    );
    check(
        Some("application/json"),
        json!({"src": a, "targetFront": "MXnope", "type": "GOV", "threshold": 85}).to_string(),
        "targetFront: media MXnope not found",
    );
    // Media are scoped per token: Bob's upload is invisible to Alice.
    check(
        Some("application/json"),
        json!({"src": a, "targetFront": bobs, "type": "GOV", "threshold": 85}).to_string(),
        "not found",
    );
    check(Some("application/json"), "x".repeat(20_000), "body");
    // Wrong API version and unknown paths keep the error shape.
    let r = client
        .post(format!("{}/api/v3/public/facex/match", server.base))
        .header("Authorization", format!("Basic {alice}"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = client.get(format!("{}/api/v2/public/facex/match", server.base)).send().unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let r = client.get(format!("{}/nothing", server.base)).send().unwrap();
    assert_eq!((r.status().as_u16(), code(&r.json().unwrap())), (404, 4001));
}

#[test]
fn bad_files_get_4005_4007_or_invalid_file_format() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let token = server.token("t");
    let client = crate::util::http_client(None);
    let (status, v) =
        server.upload(&client, &token, "x.jpg", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec());
    assert_eq!((status, code(&v)), (400, 4007));
    let mut big = photo("kit_harington", 1);
    big.resize(10 * 1024 * 1024 + 100, 0);
    let (status, v) = server.upload(&client, &token, "big.jpg", big);
    assert_eq!((status, code(&v)), (400, 4005), "{v}");
    let form = reqwest::blocking::multipart::Form::new().text("other", "x");
    let r = client
        .post(format!("{}/api/v1/public/media/image/multipart", server.base))
        .header("Authorization", format!("Basic {token}"))
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.json::<serde_json::Value>().unwrap()["details"].as_str().unwrap().contains("`file`"));

    // A truncated JPEG uploads (it sniffs as JPEG) but is answered INVALID_FILE_FORMAT.
    let good = photo("kit_harington", 1);
    let (_, ok) = server.upload(&client, &token, "ok.jpg", good.clone());
    let (_, cut) = server.upload(&client, &token, "cut.jpg", good[..good.len() / 2].to_vec());
    let (ok, cut) = (ok["_id"].as_str().unwrap(), cut["_id"].as_str().unwrap());
    let (status, id, v) = server.match_ids(&client, &token, ok, cut);
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["valid"].as_bool()),
        (Some("INVALID_FILE_FORMAT"), Some(false))
    );
    assert!(id.is_some(), "processed answers are recorded");

    // A PNG declaring 60000x60000 is refused from its header.
    let (status, bomb) = server.upload(&client, &token, "bomb.png", png_declaring(60_000, 60_000));
    assert_eq!(status, 200);
    let (status, _, v) = server.match_ids(&client, &token, ok, bomb["_id"].as_str().unwrap());
    assert_eq!((status, code(&v)), (400, 4001), "{v}");
    assert!(v["details"].as_str().unwrap().contains("60000x60000"));
}

#[test]
fn rate_limits_answer_429_with_their_codes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--token-rate", "4", "--api-rate", "2"]);
    let token = server.token("t");
    let client = crate::util::http_client(None);
    let body =
        json!({"src": "MXa", "targetFront": "MXb", "type": "GOV", "threshold": 85}).to_string();
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(code(
            &server.match_raw(&client, Some(&token), Some("application/json"), &body).2,
        ));
    }
    assert_eq!(
        codes,
        vec![4001, 4001, 4292],
        "the third match in a minute breaks the per-API limit"
    );
    let (s1, _) = server.upload(&client, &token, "a.jpg", photo("kit_harington", 1));
    let (s2, _) = server.upload(&client, &token, "a.jpg", photo("kit_harington", 1));
    let (s3, v) = server.upload(&client, &token, "a.jpg", photo("kit_harington", 1));
    assert_eq!(
        (s1, s2, s3, code(&v)),
        (200, 200, 429, 4291),
        "the fifth call in a minute breaks the per-token limit"
    );
    drop(server);

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--token-daily", "3", "--api-daily", "2"]);
    let token = server.token("t");
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(code(
            &server.match_raw(&client, Some(&token), Some("application/json"), &body).2,
        ));
    }
    assert_eq!(codes, vec![4001, 4001, 4294]);
    let (s1, _) = server.upload(&client, &token, "a.jpg", photo("kit_harington", 1));
    let (s2, v) = server.upload(&client, &token, "a.jpg", photo("kit_harington", 1));
    assert_eq!((s1, s2, code(&v)), (200, 429, 4293));
}

#[test]
fn refusals_say_when_to_retry_and_daily_counts_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--api-daily", "2", "--api-rate", "1"];
    let server = Server::start(dir.path(), &args);
    let token = server.token("t");
    let client = crate::util::http_client(None);
    let body =
        json!({"src": "MXa", "targetFront": "MXb", "type": "GOV", "threshold": 85}).to_string();
    let send = |server: &Server| {
        client
            .post(format!("{}/api/v2/public/facex/match", server.base))
            .header("Authorization", format!("Basic {token}"))
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .unwrap()
    };
    assert_eq!(send(&server).status().as_u16(), 400, "counted (a 4001 is an accepted call)");
    let limited = send(&server);
    assert_eq!(limited.status().as_u16(), 429);
    let wait: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "per minute: {wait} s");
    assert_eq!(code(&limited.json().unwrap()), 4292);
    drop(server);

    // A restart a minute later (the minute window faked away with --api-rate 0) keeps the day.
    let server = Server::start(dir.path(), &["--api-daily", "2", "--api-rate", "0"]);
    assert_eq!(send(&server).status().as_u16(), 400, "the second call of the day");
    let limited = send(&server);
    assert_eq!(limited.status().as_u16(), 429, "the day's count outlived the restart");
    let wait: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&wait), "until the next UTC day: {wait} s");
    assert_eq!(code(&limited.json().unwrap()), 4294);
}

#[test]
fn store_failure_is_a_5001_without_details_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let token = server.token("t");
    let client = crate::util::http_client(None);
    let (_, a) = server.upload(&client, &token, "a.jpg", photo("kit_harington", 1));
    let a = a["_id"].as_str().unwrap().to_string();
    // Break the outbox from another connection: recording a decision now fails inside its transaction.
    let conn = rusqlite::Connection::open(&server.db).unwrap();
    conn.execute_batch("ALTER TABLE outbox RENAME TO outbox_gone").unwrap();
    let (status, id, v) = server.match_ids(&client, &token, &a, &a);
    assert_eq!((status, id), (500, None));
    assert_eq!(v, json!({"code": 5001, "message": "Request could not be processed"}));
    let n: i64 = conn.query_row("SELECT count(*) FROM verifications", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0, "a decision that could not be logged leaves nothing behind");
}
