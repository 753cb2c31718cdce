//! Durability: a burst of concurrent matches while the server is killed with
//! SIGKILL. After restart the database is intact, every answered (200) match is
//! in the log with the answer that was sent, and the hash chain verifies.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use facematch::store::Store;

use crate::server::Server;
use crate::util::face;

#[test]
fn sigkill_during_a_burst_loses_no_answered_match() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    let token = server.token("burst");
    let client = crate::util::http_client(Some(Duration::from_secs(20)));
    let upload = |who: &str, n: u32| {
        let (status, v) =
            server.upload(&client, &token, "p.jpg", std::fs::read(face(who, n)).unwrap());
        assert_eq!(status, 200);
        v["_id"].as_str().unwrap().to_string()
    };
    let (a, b, c) =
        (upload("sundar_pichai", 1), upload("sundar_pichai", 2), upload("mark_zuckerberg", 1));

    let stop = Arc::new(AtomicBool::new(false));
    let base = server.base.clone();
    let mut clients = Vec::new();
    for i in 0..4 {
        let (stop, token, base) = (stop.clone(), token.clone(), base.clone());
        let (src, front) = (a.clone(), if i % 2 == 0 { b.clone() } else { c.clone() });
        clients.push(std::thread::spawn(move || {
            let client = crate::util::http_client(Some(Duration::from_secs(20)));
            let body = serde_json::json!({"src": src, "targetFront": front, "type": "GOV", "threshold": 85}).to_string();
            let mut answered = Vec::new();
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(20) {
                let sent = client
                    .post(format!("{base}/api/v2/public/facex/match"))
                    .header("Authorization", format!("Basic {token}"))
                    .header("Content-Type", "application/json")
                    .body(body.clone())
                    .send();
                let Ok(response) = sent else { break }; // the server is gone
                if response.status().as_u16() != 200 {
                    continue;
                }
                let id: i64 = response.headers()["x-facematch-verification"].to_str().unwrap().parse().unwrap();
                if let Ok(json) = response.json::<serde_json::Value>() {
                    answered.push((id, json));
                }
            }
            answered
        }));
    }
    // Killed mid-burst: once the log holds a few decisions, while the clients keep sending. Each
    // of the 4 clients has one request in flight at most, so a decision logged may not be answered
    // yet: 8 logged mean at least 4 answered.
    let started = Instant::now();
    while logged_count(&server.db) < 8 {
        assert!(started.elapsed() < Duration::from_secs(30), "the burst logged nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    stop.store(true, Ordering::Relaxed);
    let answered: Vec<(i64, serde_json::Value)> =
        clients.into_iter().flat_map(|c| c.join().unwrap()).collect();
    assert!(answered.len() >= 4, "the burst got only {} answers before the kill", answered.len());

    let store = Store::open(&server.db, None).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let chain = store.verify_chain().unwrap();
    assert_eq!(chain.first_broken, None);
    let logged: HashMap<i64, serde_json::Value> = store
        .list_verifications(100_000)
        .unwrap()
        .into_iter()
        .map(|r| (r.id, serde_json::from_str(&r.response_json).unwrap()))
        .collect();
    for (id, sent) in &answered {
        assert_eq!(
            logged.get(id),
            Some(sent),
            "answered verification {id} is missing or differs in the log"
        );
    }
    eprintln!(
        "durability: {} answered before SIGKILL, {} in the log after restart",
        answered.len(),
        chain.rows
    );
    drop(store);

    // The server comes back on the same files and goes on appending to the chain.
    let restarted = Server::start(dir.path(), &[]);
    let (status, id, _) = restarted.match_ids(&client, &token, &a, &b);
    assert_eq!(status, 200);
    assert_eq!(id, Some(chain.rows as i64 + 1));
    assert_eq!(
        Store::open(&restarted.db, None).unwrap().verify_chain().unwrap().first_broken,
        None
    );
}

/// Verifications the server has logged so far (read beside it, as any reader would).
fn logged_count(db: &std::path::Path) -> i64 {
    rusqlite::Connection::open(db)
        .and_then(|c| c.query_row("SELECT count(*) FROM verifications", [], |r| r.get(0)))
        .unwrap_or(0)
}
