//! Shared helpers of the lab's tests: where the evaluation data is, one engine per test binary,
//! running the lab's binary and the device's.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use crate::data::{engine, face, json, shared};

/// The device's `facematch` binary of this build: beside the lab's in the workspace's target
/// folder (`target/<profile>/`; this test runs from its `deps/`). Cargo names only a package's
/// own binaries to its tests; `cargo test --workspace` (scripts/test.sh) builds both.
pub fn device_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .join(format!("facematch{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the device binary {} is not built: run `cargo test --workspace` (or build -p facematch first)",
        bin.display()
    );
    bin
}

/// Runs the device's binary with `args` in a fresh temporary folder.
pub fn facematch(args: &[&str]) -> Output {
    run(&device_binary(), args)
}

/// Runs the lab's binary with `args` in a fresh temporary folder.
pub fn lab(args: &[&str]) -> Output {
    run(Path::new(env!("CARGO_BIN_EXE_facematch-lab")), args)
}

fn run(program: &Path, args: &[&str]) -> Output {
    let cwd = tempfile::tempdir().unwrap();
    Command::new(program).args(args).current_dir(cwd.path()).output().expect("run the binary")
}
