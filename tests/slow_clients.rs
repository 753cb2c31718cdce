//! Slow and idle clients against a real server process on loopback: they are dropped after
//! the read timeout instead of holding sockets for good, and the connection cap holds.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::server::Server;

/// Seconds until the server closes `stream` (reads until end of stream), at most `limit`.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<(Duration, String)> {
    let started = Instant::now();
    stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return Some((started.elapsed(), String::from_utf8_lossy(&seen).into_owned())),
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => {
                return Some((started.elapsed(), String::from_utf8_lossy(&seen).into_owned()))
            }
        }
    }
    None
}

fn address(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_string()
}

#[test]
fn idle_and_dripping_clients_are_dropped_after_the_read_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--read-timeout", "1"]);
    let token = server.token("t");
    let limit = Duration::from_secs(5);

    // A socket that never sends anything.
    let mut idle = TcpStream::connect(address(&server)).unwrap();
    assert!(closed_within(&mut idle, limit).is_some(), "an idle socket was kept open");

    // Headers sent one byte at a time, never finished.
    let mut drip = TcpStream::connect(address(&server)).unwrap();
    drip.write_all(b"POST /api/v2/public/facex/match HTTP/1.1\r\nHost: x\r\n").unwrap();
    let dripper = {
        let mut drip = drip.try_clone().unwrap();
        std::thread::spawn(move || {
            for _ in 0..40 {
                if drip.write_all(b"X").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    assert!(closed_within(&mut drip, limit).is_some(), "a header drip was kept open");
    dripper.join().unwrap();

    // A match body sent a few bytes at a time.
    let mut slow = TcpStream::connect(address(&server)).unwrap();
    write!(
        slow,
        "POST /api/v2/public/facex/match HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{"
    )
    .unwrap();
    let dripper = {
        let mut slow = slow.try_clone().unwrap();
        std::thread::spawn(move || {
            for _ in 0..40 {
                if slow.write_all(b" ").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let (_, answer) = closed_within(&mut slow, limit).expect("a body drip was kept open");
    assert!(answer.contains("400") && answer.contains("did not arrive within 1 s"), "{answer}");
    dripper.join().unwrap();
}

#[test]
fn connections_beyond_the_cap_wait_for_a_free_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--read-timeout", "1", "--max-connections", "4"]);
    let _held: Vec<TcpStream> =
        (0..4).map(|_| TcpStream::connect(address(&server)).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let client =
        reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let r = client.get(format!("{}/nowhere", server.base)).send().unwrap();
    let waited = started.elapsed();
    assert_eq!(r.status().as_u16(), 404, "served once a slot is free");
    assert!(waited >= Duration::from_millis(500), "the fifth connection waited: {waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}
