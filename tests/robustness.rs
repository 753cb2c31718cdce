//! No panic on any input: thousands of damaged JPEG and PNG files (bit flips,
//! overwritten headers, truncations, junk appended) go through intake and, when
//! they decode, through the whole pipeline. Every outcome must be an answer or a
//! clear refusal, never a panic.

use std::panic::{catch_unwind, AssertUnwindSafe};

use facematch::domain::{DocumentType, Role};
use facematch::intake;
use facematch::verify::analyse;

use crate::util::{engine, face, shared};

/// A small deterministic random source (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One damaged copy of `original`.
fn damage(original: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = original.to_vec();
    match rng.below(5) {
        0 => {
            for _ in 0..1 + rng.below(20) {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            // Scribble over the first kilobyte, where the headers and tables are.
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(bytes.len().min(1024));
                bytes[i] = rng.next() as u8;
            }
        }
        2 => bytes.truncate(rng.below(bytes.len())),
        3 => bytes.extend((0..rng.below(5000)).map(|_| rng.next() as u8)),
        _ => {
            let (a, b) = (rng.below(bytes.len()), rng.below(bytes.len()));
            let (lo, hi) = (a.min(b), a.max(b));
            bytes.drain(lo..hi.min(lo + 4096));
        }
    }
    bytes
}

#[test]
fn damaged_files_never_panic() {
    let mut originals = vec![std::fs::read(face("kit_harington", 1)).unwrap()];
    originals.push(std::fs::read(shared().join("documents/08_62_pass-pol.png")).unwrap());
    originals.push(std::fs::read(shared().join("documents/10_100_pass-chn.jpg")).unwrap());
    let mut e = engine();
    let e = &mut *e;
    let mut rng = Rng(0x5EED_F00D);
    let (mut decoded, mut refused) = (0, 0);
    for round in 0..1500 {
        let original = &originals[round % originals.len()];
        let bytes = damage(original, &mut rng);
        let outcome = catch_unwind(AssertUnwindSafe(|| match intake::decode(&bytes) {
            Ok(picture) => {
                // A decodable damaged picture still goes through detection and embedding (every 10th, for time).
                if round % 10 == 0 {
                    analyse(
                        &mut e.detector,
                        &mut e.embedder,
                        &picture,
                        Role::Document(DocumentType::Gov),
                    )
                    .unwrap();
                }
                true
            }
            Err(_) => false,
        }));
        match outcome {
            Ok(true) => decoded += 1,
            Ok(false) => refused += 1,
            Err(_) => panic!("round {round}: intake or the pipeline panicked on a damaged file"),
        }
    }
    eprintln!("robustness: 1500 damaged files, {decoded} decoded, {refused} refused, no panic");
    assert!(refused > 100 && decoded > 100, "the damage should produce both outcomes");
}
