//! Finding and loading the ONNX Runtime library once per process.

use std::path::PathBuf;
use std::sync::OnceLock;

use ort::environment::{Environment, GlobalThreadPoolOptions};

/// The library's file name, as PyPI's `onnxruntime` wheel names its SONAME.
const LIBRARY: &str = "libonnxruntime.so.1";

/// Where the ONNX Runtime library is: `FACEMATCH_ONNXRUNTIME` if set, else beside the executable
/// (an installed bundle), else the source tree's `.onnxruntime/<arch>/` (`scripts/setup.sh`).
fn locate_library() -> PathBuf {
    if let Some(path) = std::env::var_os("FACEMATCH_ONNXRUNTIME") {
        return PathBuf::from(path);
    }
    if let Some(path) =
        std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join(LIBRARY)))
    {
        if path.is_file() {
            return path;
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(".onnxruntime")
        .join(std::env::consts::ARCH)
        .join(LIBRARY)
}

/// The process's ONNX Runtime environment, the library loaded on first use, with one pool of
/// `threads` threads that every session shares (the first caller's count holds for the process).
/// A failure is kept and returned to every later caller, naming the file.
pub(super) fn environment(threads: usize) -> Result<&'static Environment, String> {
    static ENVIRONMENT: OnceLock<Result<Environment, String>> = OnceLock::new();
    ENVIRONMENT
        .get_or_init(|| {
            let path = locate_library();
            let named = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
            // The library first: ort reaches for it on any other call.
            let builder = ort::init_from(&path).map_err(|e| named(&e))?;
            // One shared pool: the engine runs its models one after another, and a pool per model
            // left spinning after its run takes the cores from the next (docs/models.md).
            let pool = GlobalThreadPoolOptions::default()
                .with_intra_threads(threads.max(1))
                .and_then(|pool| pool.with_inter_threads(1))
                .map_err(|e| named(&e))?;
            builder
                .with_name("facematch")
                .with_global_thread_pool(pool)
                .build()
                .map_err(|e| named(&e))
        })
        .as_ref()
        .map_err(Clone::clone)
}
