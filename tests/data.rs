//! The evaluation data and the engine, shared by the device's tests and the lab's (which
//! include this file): where `../shared` is, its face photos, one engine per test binary.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Mutex, MutexGuard, OnceLock};

use facematch::inference::{Engine, RuntimeOptions};

/// `../shared` beside the project (or `FACEMATCH_SHARED`).
pub fn shared() -> PathBuf {
    let dir = std::env::var_os("FACEMATCH_SHARED").map(PathBuf::from).unwrap_or_else(|| {
        // Beside the workspace: the device's tests run from its root, the lab's one deeper.
        // The workspace's root holds Cargo.lock.
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let in_lab = crate_dir.join("../Cargo.lock").is_file();
        let workspace = if in_lab { crate_dir.join("..") } else { crate_dir.to_path_buf() };
        workspace.join("../shared")
    });
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
            let dir = facematch::inference::models::locate_dir(None);
            Mutex::new(Engine::load(&dir, RuntimeOptions::default()).expect("shipped models load"))
        })
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Eight people of `../shared/faces` with at least two photos each, for composed pictures.
pub const PEOPLE: [&str; 8] = [
    "angelina_jolie",
    "barack_obama",
    "george_clooney",
    "jeff_bezos",
    "mark_zuckerberg",
    "sundar_pichai",
    "elon_musk",
    "joe_biden",
];

/// A picture file decoded as the pipeline takes it.
pub fn picture(path: &Path) -> facematch::domain::Picture {
    facematch::intake::decode(&std::fs::read(path).unwrap()).unwrap()
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

/// The worker's settings for these tests: shipped models, default threshold, no pause between frames.
#[cfg(feature = "kiosk")]
pub fn worker_config(
    camera: String,
    document_source: String,
    db: Option<PathBuf>,
) -> facematch::ui::WorkerConfig {
    facematch::ui::WorkerConfig {
        camera: facematch::camera::CameraSpec::parse(&camera).unwrap(),
        document_source: facematch::camera::DocumentSource::parse(&document_source).unwrap(),
        models: facematch::inference::models::locate_dir(None),
        runtime: RuntimeOptions::default(),
        db,
        key: None,
        threshold: facematch::matching::Threshold::DEFAULT,
        frame_interval: std::time::Duration::from_millis(1),
        liveness: facematch::kiosk::liveness_step::LivenessMode::Random,
        capture_sessions: None,
        camera_trust: Default::default(),
        screen_colours: Default::default(),
    }
}
