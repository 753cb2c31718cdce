//! The API under the most expensive pictures it accepts (bench/worst.sh measures each kind):
//! matches of the worst pictures at once must stay within the memory the README states, and an
//! ordinary match sent while the slowest one decodes is answered in its normal time.

use std::path::{Path, PathBuf};
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

/// The worst picture of the kind whose file name starts with `prefix` (written once a run).
fn worst(prefix: &str) -> PathBuf {
    static ALL: std::sync::OnceLock<Vec<PathBuf>> = std::sync::OnceLock::new();
    let all = ALL.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("worst-pictures");
        worst_pictures::write_worst(&dir).unwrap()
    });
    all.iter()
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .unwrap_or_else(|| panic!("no worst picture {prefix}"))
        .clone()
}

/// What a match was answered: the HTTP status, the answer's `status` (or error `code`), and
/// how long it took.
type Answered = (u16, String, Duration);

/// Sends a match of three media ids from its own thread.
fn match_in_background(
    server: &Server,
    token: &str,
    [src, front, back]: [&str; 3],
) -> std::thread::JoinHandle<Answered> {
    let body = serde_json::json!({
        "src": src, "targetFront": front, "targetBack": back, "type": "GOV", "threshold": 85
    })
    .to_string();
    let (base, token) = (server.base.clone(), token.to_string());
    std::thread::spawn(move || {
        let client = crate::util::http_client(Some(Duration::from_secs(60)));
        let started = Instant::now();
        let r = client
            .post(format!("{base}/api/v2/public/facex/match"))
            .header("Authorization", format!("Basic {token}"))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let answer: serde_json::Value = r.json().unwrap();
        let said = answer.get("status").or(answer.get("code")).map(|v| v.to_string());
        (status, said.unwrap_or_default().replace('"', ""), started.elapsed())
    })
}

/// Uploads `path`, answers its media id.
fn upload(server: &Server, client: &reqwest::blocking::Client, token: &str, path: &Path) -> String {
    let (status, answer) = server.upload(client, token, "p.jpg", std::fs::read(path).unwrap());
    assert_eq!(status, 200, "{answer}");
    answer["_id"].as_str().unwrap().to_string()
}

#[test]
fn worst_case_matches_at_once_stay_within_the_stated_memory() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--api-rate", "0", "--token-rate", "0"]);
    let token = server.token("bank");
    let client = crate::util::http_client(None);
    // The kinds that cost the most memory in a request (docs/performance.md), three of each
    // at once.
    let kinds = ["progressive-444-16scans", "progressive-grey-12scans", "baseline-noise-4000"];
    let ids: Vec<String> =
        kinds.iter().map(|kind| upload(&server, &client, &token, &worst(kind))).collect();
    let selfie = upload(&server, &client, &token, &face("barack_obama", 1));
    let card = upload(&server, &client, &token, &face("barack_obama", 2));

    let started = Instant::now();
    let heavy: Vec<_> = (0..3)
        .map(|i| {
            let slots = [&ids[i], &ids[(i + 1) % 3], &ids[(i + 2) % 3]].map(String::as_str);
            match_in_background(&server, &token, slots)
        })
        .collect();
    let (status, _, answer) = server.match_ids(&client, &token, &selfie, &card);
    assert_eq!(status, 200, "the ordinary match: {answer}");
    assert_eq!(answer["status"], "FACE_MATCHED");
    for handle in heavy {
        let (status, said, _) = handle.join().unwrap();
        assert_eq!((status, said.as_str()), (200, "FACE_NOT_MATCHED"), "processed, not refused");
    }
    let peak = peak_rss_mb(server.pid());
    eprintln!(
        "overload: 3 worst-case matches (3 pictures each) + 1 ordinary answered in {:.1} s; \
         server peak RSS {peak:.0} MB",
        started.elapsed().as_secs_f64(),
    );
    // docs/api.md states serve's worst case: two matches holding their pictures at once, four
    // uploads being received (not sent here: at most 40 MB more) and nothing else.
    assert!(peak < 660.0, "serve peaked at {peak:.0} MB, over the 700 MB stated less 40 MB");
}

#[test]
fn an_ordinary_match_is_not_held_by_a_slow_picture() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--api-rate", "0", "--token-rate", "0"]);
    let token = server.token("bank");
    let client = crate::util::http_client(Some(Duration::from_secs(60)));
    // The slowest kind to decode (bench/worst.sh), in all three slots.
    let slow = upload(&server, &client, &token, &worst("progressive-grey-12scans"));
    let selfie = upload(&server, &client, &token, &face("barack_obama", 1));
    let card = upload(&server, &client, &token, &face("barack_obama", 2));
    let ordinary = || {
        let started = Instant::now();
        let (status, _, answer) = server.match_ids(&client, &token, &selfie, &card);
        assert_eq!((status, answer["status"].as_str()), (200, Some("FACE_MATCHED")), "{answer}");
        started.elapsed()
    };
    let mut alone: Vec<Duration> = (0..3).map(|_| ordinary()).collect();
    alone.sort();
    let normal = alone[1];
    let heavy_alone = match_in_background(&server, &token, [&slow, &slow, &slow]).join().unwrap();

    let heavy = match_in_background(&server, &token, [&slow, &slow, &slow]);
    std::thread::sleep(Duration::from_millis(150)); // the slow pictures are being decoded
    let beside = ordinary();
    let (status, said, heavy_took) = heavy.join().unwrap();
    assert_eq!((status, said.as_str()), (200, "FACE_NOT_MATCHED"));
    assert!(heavy_alone.2 > normal + Duration::from_secs(1), "the slow match is slow");
    eprintln!(
        "overload: ordinary match alone {:.2} s (median of 3), beside the slowest pictures {:.2} s; \
         the slow match alone {:.2} s, beside {:.2} s",
        normal.as_secs_f64(),
        beside.as_secs_f64(),
        heavy_alone.2.as_secs_f64(),
        heavy_took.as_secs_f64()
    );
    assert!(
        beside < normal + Duration::from_secs(1),
        "the ordinary match took {beside:?} beside the slow one, {normal:?} alone"
    );
}

/// The server's CPU time so far (user + system), in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which ends with the last ')'): utime and stime are the
    // 12th and 13th, in clock ticks (100 a second on Linux).
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

#[test]
fn each_kind_of_worst_picture_stays_within_the_decoding_budget() {
    // Each kind and what it must be answered: processed (no face in these pictures), or
    // refused without decoding (4001 naming the reason), or unreadable to the decoder.
    let kinds = [
        ("baseline-flat", "FACE_NOT_MATCHED"),
        ("baseline-noise-12000", "FACE_NOT_MATCHED"),
        ("baseline-cmyk", "FACE_NOT_MATCHED"),
        ("huge-exif", "FACE_NOT_MATCHED"),
        ("progressive-12scans", "FACE_NOT_MATCHED"),
        ("progressive-444-16scans", "FACE_NOT_MATCHED"),
        ("baseline-noise-4000x4000", "FACE_NOT_MATCHED"),
        ("progressive-grey-12scans", "FACE_NOT_MATCHED"),
        ("progressive-64scans", "FACE_NOT_MATCHED"),
        ("progressive-cmyk", "INVALID_FILE_FORMAT"),
        ("png-rgb8", "FACE_NOT_MATCHED"),
        ("png-rgba16-6900", "FACE_NOT_MATCHED"),
        ("png-rgba16-4000", "FACE_NOT_MATCHED"),
        ("png-rgba16-interlaced", "FACE_NOT_MATCHED"),
        ("png-grey-trns-interlaced", "FACE_NOT_MATCHED"),
        ("attack-png-profile-bomb", "FACE_NOT_MATCHED"),
        ("attack-jpeg-xmp-flood", "4001"),
        ("attack-png-text-flood", "4001"),
    ];
    for (kind, expected) in kinds {
        // A fresh server a kind, so that its peak memory is this picture's.
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(dir.path(), &["--api-rate", "0", "--token-rate", "0"]);
        let token = server.token("bank");
        let client = crate::util::http_client(Some(Duration::from_secs(60)));
        let id = upload(&server, &client, &token, &worst(kind));
        let cpu_before = cpu_seconds(server.pid());
        let (status, said, took) =
            match_in_background(&server, &token, [&id, &id, &id]).join().unwrap();
        let cpu = cpu_seconds(server.pid()) - cpu_before;
        let peak = peak_rss_mb(server.pid());
        eprintln!("worst {kind} in three slots: answered {status} {said} in {took:.2?}, {cpu:.2} s CPU, peak RSS {peak:.0} MB");
        assert_eq!(said, expected, "{kind}");
        // A whole three-slot request (inference included) on the 2-core VM: at most about
        // 320 MB in serve and 2.7 s of CPU (docs/performance.md); the bounds leave room for a
        // slow machine and the allocator's variation.
        assert!(peak < 360.0, "{kind}: serve peaked at {peak:.0} MB");
        assert!(cpu < 8.0, "{kind}: {cpu:.1} s of CPU for one request");
    }
}
