//! Load figure for `facex/match` on loopback: N concurrent clients for a fixed
//! time, then requests per second and latency percentiles as JSON.
//!
//! cargo run --release --example api_load -- BASE_URL TOKEN SRC_ID FRONT_ID CLIENTS SECONDS
//! (bench/load.sh starts a server, uploads two pictures and runs this for 2 and 8 clients.)

use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 6 {
        eprintln!("usage: api_load BASE_URL TOKEN SRC_ID FRONT_ID CLIENTS SECONDS");
        std::process::exit(2);
    }
    let (base, token, src, front) =
        (args[0].clone(), args[1].clone(), args[2].clone(), args[3].clone());
    let clients: usize = args[4].parse().expect("CLIENTS is a number");
    let seconds: u64 = args[5].parse().expect("SECONDS is a number");
    let body = format!(r#"{{"src":"{src}","targetFront":"{front}","type":"GOV","threshold":85}}"#);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (base, token, body) = (base.clone(), token.clone(), body.clone());
            std::thread::spawn(move || {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let client = reqwest::blocking::Client::new();
                let (mut latencies, mut errors) = (Vec::new(), 0usize);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let r = client
                        .post(format!("{base}/api/v2/public/facex/match"))
                        .header("Authorization", format!("Basic {token}"))
                        .header("Content-Type", "application/json")
                        .body(body.clone())
                        .send();
                    let ok = r.is_ok_and(|r| r.status().is_success() && r.bytes().is_ok());
                    if ok {
                        latencies.push(t.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut all, mut errors) = (Vec::new(), 0);
    for w in workers {
        let (l, e) = w.join().expect("client thread");
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "{{\"clients\":{clients},\"seconds\":{elapsed:.1},\"ok\":{},\"errors\":{errors},\"rps\":{:.1},\"p50_ms\":{:.1},\"p99_ms\":{:.1}}}",
        all.len(),
        all.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99)
    );
}
