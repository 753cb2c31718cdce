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
    let client = crate::util::http_client(Some(Duration::from_secs(10)));
    let r = client.get(format!("{}/nowhere", server.base)).send().unwrap();
    let waited = started.elapsed();
    assert_eq!(r.status().as_u16(), 404, "served once a slot is free");
    assert!(waited >= Duration::from_millis(500), "the fifth connection waited: {waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

/// The server process's resident memory, in KB.
fn rss_kb(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn uploads_with_a_wrong_token_are_answered_at_once_and_never_held_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--read-timeout", "30"]);
    let before = rss_kb(&server);
    // Sixteen clients announce 10 MB uploads with a wrong token and keep sending them.
    let chunk = vec![b'x'; 64 * 1024];
    let mut clients: Vec<TcpStream> = (0..16)
        .map(|_| {
            let mut s = TcpStream::connect(address(&server)).unwrap();
            write!(
                s,
                "POST /api/v1/public/media/image/multipart HTTP/1.1\r\nHost: x\r\n\
                 Authorization: Basic fm_wrong\r\nContent-Type: multipart/form-data; boundary=b\r\n\
                 Content-Length: 10000000\r\n\r\n"
            )
            .unwrap();
            s.set_write_timeout(Some(Duration::from_millis(200))).unwrap();
            s
        })
        .collect();
    let started = Instant::now();
    let mut answered = vec![None; clients.len()];
    while started.elapsed() < Duration::from_secs(10) && answered.iter().any(Option::is_none) {
        for (i, s) in clients.iter_mut().enumerate() {
            if answered[i].is_some() {
                continue;
            }
            let _ = s.write_all(&chunk); // fails once the server has closed: fine
            s.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
            let mut buf = [0u8; 512];
            if let Ok(n) = s.read(&mut buf) {
                if n > 0 {
                    answered[i] =
                        Some((started.elapsed(), String::from_utf8_lossy(&buf[..n]).into_owned()));
                }
            }
        }
    }
    let grown = rss_kb(&server).saturating_sub(before);
    for (i, answer) in answered.iter().enumerate() {
        let (after, text) =
            answer.clone().unwrap_or_else(|| panic!("client {i} got no answer in 10 s"));
        assert!(text.starts_with("HTTP/1.1 401"), "client {i}: {text}");
        assert!(text.to_ascii_lowercase().contains("connection: close"), "client {i}: {text}");
        assert!(after < Duration::from_secs(5), "client {i} waited {after:?}");
    }
    // Held in memory, sixteen 10 MB bodies would be 160 MB; thrown away, a few MB of buffers.
    assert!(grown < 40 * 1024, "the server grew by {} MB", grown / 1024);
}

/// A connection to `server` from the loopback address `ip` (another client of the same
/// machine), with a small receive buffer, as a client that reads slowly would have.
fn connect_from(ip: &str, server: &Server) -> TcpStream {
    use socket2::{Domain, SockAddr, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let from: std::net::SocketAddr = format!("{ip}:0").parse().unwrap();
    socket.bind(&SockAddr::from(from)).unwrap();
    let to: std::net::SocketAddr = address(server).parse().unwrap();
    socket.connect(&SockAddr::from(to)).unwrap();
    socket.into()
}

/// Clients that pipeline requests and never read an answer, until `stop`.
fn hogs(
    ip: &'static str,
    n: usize,
    server: &Server,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..n)
        .map(|_| {
            let mut stream = connect_from(ip, server);
            let stop = stop.clone();
            std::thread::spawn(move || {
                stream.set_write_timeout(Some(Duration::from_millis(100))).unwrap();
                let request = b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n".repeat(64);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    match stream.write(&request) {
                        Ok(_) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                        Err(_) => return, // closed by the server
                    }
                }
            })
        })
        .collect()
}

/// How long an ordinary request from 127.0.0.1 waits for its answer.
fn ordinary_request(server: &Server) -> Duration {
    let started = Instant::now();
    let client = crate::util::http_client(Some(Duration::from_secs(30)));
    let answer = client.get(format!("{}/nowhere", server.base)).send().unwrap();
    assert_eq!(answer.status().as_u16(), 404);
    started.elapsed()
}

#[test]
fn clients_that_never_read_are_dropped_and_one_address_cannot_take_every_slot() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let args =
        ["--read-timeout", "2", "--max-connections", "4", "--max-connections-per-client", "3"];
    let server = Server::start(dir.path(), &args);
    let stop = std::sync::Arc::new(AtomicBool::new(false));

    // One address with four greedy connections gets three slots; the fourth is closed.
    let greedy = hogs("127.0.0.2", 4, &server, &stop);
    std::thread::sleep(Duration::from_millis(500));
    let waited = ordinary_request(&server);
    assert!(waited < Duration::from_secs(2), "an ordinary client waited {waited:?}");

    // Three addresses, four connections that never read, every slot taken: the writes that
    // make no progress close them after the read timeout, and the ordinary client is served.
    stop.store(true, Ordering::Relaxed);
    greedy.into_iter().for_each(|h| h.join().unwrap());
    std::thread::sleep(Duration::from_millis(500));
    stop.store(false, Ordering::Relaxed);
    let mut all = hogs("127.0.0.3", 2, &server, &stop);
    all.extend(hogs("127.0.0.4", 2, &server, &stop));
    std::thread::sleep(Duration::from_millis(500));
    let waited = ordinary_request(&server);
    stop.store(true, Ordering::Relaxed);
    all.into_iter().for_each(|h| h.join().unwrap());
    assert!(waited < Duration::from_secs(10), "an ordinary client waited {waited:?}");
}

#[test]
fn uploads_in_flight_are_capped_and_one_more_is_told_when_to_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--read-timeout", "30", "--max-uploads", "2"]);
    let token = server.token("teller");
    let before = rss_kb(&server);
    // Two clients with the right token send 10 MB uploads slowly: both are being received.
    let start_upload = || {
        let mut s = TcpStream::connect(address(&server)).unwrap();
        write!(
            s,
            "POST /api/v1/public/media/image/multipart HTTP/1.1\r\nHost: x\r\n\
             Authorization: Basic {token}\r\nContent-Type: multipart/form-data; boundary=b\r\n\
             Content-Length: 10000000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"a.jpg\"\r\n\r\n"
        )
        .unwrap();
        s.write_all(&vec![0xAB; 1 << 20]).unwrap();
        s
    };
    let held = [start_upload(), start_upload()];
    std::thread::sleep(Duration::from_millis(300));
    // A third is answered at once: 4292 with Retry-After, its body never kept.
    let started = Instant::now();
    let mut third = start_upload();
    third.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = vec![0u8; 2048];
    let n = third.read(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(
        answer.contains("4292") && answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    // Two uploads of at most 10 MB each, whatever else arrives.
    let grown = rss_kb(&server).saturating_sub(before);
    assert!(grown < 60 * 1024, "the server grew by {} MB", grown / 1024);
    drop(held);
}
