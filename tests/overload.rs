//! The API under the most expensive pictures it accepts (bench/worst.sh measures them):
//! three matches of 48-megapixel pictures at once must not take the device down, and an
//! ordinary match sent alongside is still answered.

use std::time::{Duration, Instant};

use crate::server::Server;
use crate::util::face;

#[allow(dead_code)] // its `main` is the example's
#[path = "../examples/worst_pictures.rs"]
mod worst_pictures;

/// The server's peak resident memory so far (VmHWM), in MB.
fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024.0
}

#[test]
fn an_ordinary_match_is_answered_beside_three_worst_case_ones() {
    let dir = tempfile::tempdir().unwrap();
    let [jpeg, png] = worst_pictures::write_worst(&dir.path().join("worst")).unwrap();
    let server = Server::start(dir.path(), &["--api-rate", "0", "--token-rate", "0"]);
    let token = server.token("bank");
    let client = crate::util::http_client(None);
    let upload = |path: &std::path::Path| {
        let (status, answer) =
            server.upload(&client, &token, "p.jpg", std::fs::read(path).unwrap());
        assert_eq!(status, 200, "{answer}");
        answer["_id"].as_str().unwrap().to_string()
    };
    let (big_jpeg, big_png) = (upload(&jpeg), upload(&png));
    let selfie = upload(&face("barack_obama", 1));
    let card = upload(&face("barack_obama", 2));

    let started = Instant::now();
    let worst: Vec<_> = [(&big_jpeg, &big_png), (&big_png, &big_jpeg), (&big_jpeg, &big_jpeg)]
        .into_iter()
        .map(|(src, front)| {
            let body = serde_json::json!({
                "src": src, "targetFront": front, "targetBack": big_png, "type": "GOV", "threshold": 85
            })
            .to_string();
            let (base, token) = (server.base.clone(), token.clone());
            std::thread::spawn(move || {
                let client = crate::util::http_client(Some(Duration::from_secs(60)));
                let r = client
                    .post(format!("{base}/api/v2/public/facex/match"))
                    .header("Authorization", format!("Basic {token}"))
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .unwrap();
                (r.status().as_u16(), started.elapsed())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let (status, _, answer) = server.match_ids(&client, &token, &selfie, &card);
    assert_eq!(status, 200, "the ordinary match: {answer}");
    assert_eq!(answer["status"], "FACE_MATCHED");
    for handle in worst {
        let (status, _) = handle.join().unwrap();
        assert_eq!(status, 200, "a worst-case picture is processed, not refused");
    }
    eprintln!(
        "overload: 3 worst-case matches (3 pictures each) + 1 ordinary answered in {:.1} s; server peak RSS {:.0} MB",
        started.elapsed().as_secs_f64(),
        peak_rss_mb(server.pid())
    );
}
