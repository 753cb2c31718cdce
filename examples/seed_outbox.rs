//! Seeds a device log with N pending verifications over real pictures, for the
//! sync figure (bench/sync.sh). Each record has its own selfie and front.
//!
//! cargo run --release --example seed_outbox -- DB N SELFIE DOCUMENT

use facematch::store::{NewVerification, Store};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 4 {
        eprintln!("usage: seed_outbox DB N SELFIE DOCUMENT");
        std::process::exit(2);
    }
    let n: usize = args[1].parse().expect("N is a number");
    let selfie = std::fs::read(&args[2]).expect("read SELFIE");
    let document = std::fs::read(&args[3]).expect("read DOCUMENT");
    let mut store = Store::open(std::path::Path::new(&args[0]), None).expect("open the store");
    for _ in 0..n {
        let src = store.insert_media(None, "selfie.jpg", "image/jpeg", &selfie).expect("insert");
        let front =
            store.insert_media(None, "document.jpg", "image/jpeg", &document).expect("insert");
        let v = NewVerification {
            src_media: Some(src),
            front_media: Some(front),
            doc_type: facematch::domain::DocumentType::Gov,
            threshold: 85.0,
            status: facematch::contract::MatchStatus::FaceMatched,
            matched: true,
            request_json: "{}".into(),
            response_json: "{}".into(),
            models_json: "{}".into(),
            timings_json: "{}".into(),
            ..NewVerification::default()
        };
        store.record_verification(&v).expect("record");
    }
    eprintln!("seeded {n} pending verifications");
}
