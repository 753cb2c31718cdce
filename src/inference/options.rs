//! Which inference runtime runs the models, and how.

use std::fmt;
use std::str::FromStr;

/// The inference runtime: both run the same YuNet and SFace (see `models/README.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// The TensorFlow Lite models (`models/*.tflite`) on LiteRT with XNNPACK: x86-64, and every
    /// ARMv8 core (Raspberry Pi 4 and 5). The default.
    Tflite,
    /// ONNX Runtime (`models/*.onnx`), loaded at run time: the fallback (slower, more memory).
    Onnx,
}

impl Runtime {
    /// The runtimes this build carries (features `tflite`, `onnx`).
    pub const BUILT: &'static [Runtime] = &[
        #[cfg(feature = "tflite")]
        Runtime::Tflite,
        #[cfg(feature = "onnx")]
        Runtime::Onnx,
    ];

    /// The name `--runtime` takes.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Tflite => "tflite",
            Runtime::Onnx => "onnx",
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Runtime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "tflite" => Ok(Runtime::Tflite),
            "onnx" => Ok(Runtime::Onnx),
            other => Err(format!("unknown runtime {other:?}: expected tflite or onnx")),
        }
    }
}

/// How the models run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuntimeOptions {
    /// Which runtime (default: the first this build carries, TensorFlow Lite when present).
    pub runtime: Runtime,
    /// CPU threads per model.
    pub threads: usize,
    /// TensorFlow Lite only: use the XNNPACK delegate (faster on x86 and ARM; README "Speed").
    pub xnnpack: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map(|n| n.get().min(4)).unwrap_or(1);
        let runtime = Runtime::BUILT.first().copied().unwrap_or(Runtime::Tflite);
        RuntimeOptions { runtime, threads, xnnpack: true }
    }
}
