//! Shared helpers: where the evaluation data is, one engine per test binary, running the CLI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock};

use facematch::inference::{Engine, RuntimeOptions};

/// `../shared` beside the project (or `FACEMATCH_SHARED`).
pub fn shared() -> PathBuf {
    let dir = std::env::var_os("FACEMATCH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    assert!(
        dir.join("faces/pairs.csv").is_file(),
        "evaluation data not found at {}",
        dir.display()
    );
    dir
}

/// A picture of `../shared/faces`, e.g. `face("barack_obama", 1)`.
pub fn face(identity: &str, n: u32) -> PathBuf {
    shared().join(format!("faces/{identity}/{n}.jpg"))
}

/// The process-wide engine with the shipped models (interpreters are not thread-safe: one user at a time).
pub fn engine() -> MutexGuard<'static, Engine> {
    static ENGINE: OnceLock<Mutex<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let dir = facematch::models::locate_dir(None);
            Mutex::new(Engine::load(&dir, RuntimeOptions::default()).expect("shipped models load"))
        })
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs the real binary with `args` in a fresh temporary folder.
pub fn facematch(args: &[&str]) -> Output {
    let cwd = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(args)
        .current_dir(cwd.path())
        .output()
        .expect("run facematch")
}

/// Stdout parsed as JSON.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
