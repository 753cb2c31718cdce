//! The few LiteRT C calls facematch makes (`litert-sys`: bindings to LiteRT 2.1.4's C API), each
//! wrapped once so the rest of the runtime is safe code: the process's environment, a model
//! compiled for the CPU with a given number of threads, and its input and output buffers.
//!
//! Why LiteRT's own library (`libLiteRt.so`, 7 MB, from PyPI `ai-edge-litert`) and not the
//! TensorFlow Lite C library: the same XNNPACK kernels, but the 132 MB library alone adds many
//! times as much to every process's peak memory (docs/performance.md, "Memory").

use std::ffi::{c_char, c_void, CString};
use std::ptr::null_mut;
use std::sync::OnceLock;

use litert_sys as sys;

use super::quiet::quietly;

/// A LiteRT call that failed: what was asked and the status it returned.
fn check(status: sys::LiteRtStatus, what: &str) -> Result<(), String> {
    if status == sys::kLiteRtStatusOk {
        Ok(())
    } else {
        Err(format!("LiteRT {what} failed (status {status})"))
    }
}

/// The process's LiteRT environment: made once (CPU accelerator only, so no GPU or NPU library is
/// looked for) and kept, like the models compiled in it.
fn environment() -> Result<sys::LiteRtEnvironment, String> {
    struct Environment(sys::LiteRtEnvironment);
    // SAFETY: the environment is made once, never destroyed, and LiteRT guards its own state; it
    // is handed to compile calls (which `quietly` runs one at a time) and buffer creation.
    unsafe impl Send for Environment {}
    unsafe impl Sync for Environment {}
    static ENVIRONMENT: OnceLock<Result<Environment, String>> = OnceLock::new();
    let made = ENVIRONMENT.get_or_init(|| {
        let option = |tag, value: i64| sys::LiteRtEnvOption {
            tag,
            value: sys::LiteRtAny {
                type_: sys::kLiteRtAnyTypeInt,
                __bindgen_anon_1: sys::LiteRtAny__bindgen_ty_1 { int_value: value },
            },
        };
        let options = [option(
            sys::kLiteRtEnvOptionTagAutoRegisterAccelerators,
            i64::from(sys::kLiteRtHwAcceleratorCpu),
        )];
        let mut env = null_mut();
        // SAFETY: `options` outlives the call; `env` receives an owned handle.
        let status = quietly(|| unsafe {
            sys::LiteRtCreateEnvironment(options.len() as i32, options.as_ptr(), &mut env)
        });
        check(status, "environment")?;
        Ok(Environment(env))
    });
    made.as_ref().map(|e| e.0).map_err(Clone::clone)
}

/// A model read from bytes that live as long as the process.
pub(super) struct Model(sys::LiteRtModel);

// SAFETY: a model is read-only once made: compiled (one at a time, `quietly`) and asked for its
// signature's tensors, never changed.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Model {
    /// Parses `bytes` (kept for the whole process: LiteRT reads them for the model's lifetime).
    pub(super) fn from_bytes(bytes: &'static [u8]) -> Result<Model, String> {
        let mut model = null_mut();
        // SAFETY: `bytes` is 'static, as LiteRT requires of a model's buffer.
        check(
            unsafe {
                sys::LiteRtCreateModelFromBuffer(bytes.as_ptr().cast(), bytes.len(), &mut model)
            },
            "model",
        )?;
        Ok(Model(model))
    }
}

/// How a model runs on the CPU.
#[derive(Debug, Clone, Copy)]
pub(super) struct CpuSettings {
    /// Threads per inference.
    pub threads: usize,
    /// XNNPACK's kernels (the default), or TensorFlow Lite's built-in ones.
    pub xnnpack: bool,
}

impl CpuSettings {
    /// LiteRT's CPU options as the library reads them: a TOML payload under the `xnnpack` key.
    fn payload(self) -> CString {
        let kernels = if self.xnnpack { "xnnpack" } else { "builtin" };
        let text = format!("kernel_mode = \"{kernels}\"\nnum_threads = {}\n", self.threads.max(1));
        CString::new(text).expect("no NUL in a formatted number")
    }
}

unsafe extern "C" fn drop_payload(payload: *mut c_void) {
    // SAFETY: the only payloads handed to LiteRT are `CString::into_raw`s (below).
    drop(unsafe { CString::from_raw(payload.cast::<c_char>()) });
}

/// The compilation options: CPU only, with `settings`.
struct Options(sys::LiteRtOptions);

impl Options {
    fn cpu(settings: CpuSettings) -> Result<Options, String> {
        let mut raw = null_mut();
        // SAFETY: each call gets live handles; ownership as commented.
        unsafe {
            check(sys::LiteRtCreateOptions(&mut raw), "options")?;
            let options = Options(raw); // destroyed on every path from here
            check(
                sys::LiteRtSetOptionsHardwareAccelerators(raw, sys::kLiteRtHwAcceleratorCpu),
                "accelerator choice",
            )?;
            let payload = settings.payload().into_raw().cast::<c_void>();
            let mut cpu = null_mut();
            let made = sys::LiteRtCreateOpaqueOptions(
                c"xnnpack".as_ptr(),
                payload,
                Some(drop_payload),
                &mut cpu,
            );
            if made != sys::kLiteRtStatusOk {
                drop_payload(payload);
                return Err(format!("LiteRT CPU options failed (status {made})"));
            }
            // From here the options own the CPU options and their payload.
            check(sys::LiteRtAddOpaqueOptions(raw, cpu), "CPU options")?;
            Ok(options)
        }
    }
}

impl Drop for Options {
    fn drop(&mut self) {
        // SAFETY: made by LiteRtCreateOptions, destroyed once.
        unsafe { sys::LiteRtDestroyOptions(self.0) }
    }
}

/// One tensor of a compiled model with the buffer LiteRT runs it from.
pub(super) struct Tensor {
    buffer: sys::LiteRtTensorBuffer,
    /// Its dimensions.
    pub shape: Vec<usize>,
    /// Whether it holds 32-bit floats (the only element type facematch's models use).
    pub is_f32: bool,
}

impl Drop for Tensor {
    fn drop(&mut self) {
        // SAFETY: made by LiteRtCreateManagedTensorBufferFromRequirements, destroyed once.
        unsafe { sys::LiteRtDestroyTensorBuffer(self.buffer) }
    }
}

impl Tensor {
    fn elements(&self) -> usize {
        self.shape.iter().product()
    }

    /// Runs `fill` on the buffer's f32 values (the tensor's element count), locked for writing.
    pub(super) fn fill<T>(&mut self, fill: impl FnOnce(&mut [f32]) -> T) -> Result<T, String> {
        self.locked(sys::kLiteRtTensorBufferLockModeWrite, "input buffer", |host, count| {
            // SAFETY: the locked buffer holds `count` f32 values; nothing else holds it now
            // (`&mut self`).
            fill(unsafe { std::slice::from_raw_parts_mut(host, count) })
        })
    }

    /// A copy of the buffer's f32 values.
    pub(super) fn read(&self) -> Result<Vec<f32>, String> {
        self.locked(sys::kLiteRtTensorBufferLockModeRead, "output buffer", |host, count| {
            // SAFETY: the locked buffer holds `count` f32 values, not written while locked.
            unsafe { std::slice::from_raw_parts(host, count) }.to_vec()
        })
    }

    /// Runs `use_values` on the buffer's host memory and element count, locked in `mode` for the
    /// call and unlocked after.
    fn locked<T>(
        &self,
        mode: sys::LiteRtTensorBufferLockMode,
        what: &str,
        use_values: impl FnOnce(*mut f32, usize) -> T,
    ) -> Result<T, String> {
        if !self.is_f32 {
            return Err(format!("a tensor of shape {:?} does not hold f32", self.shape));
        }
        let mut host = null_mut();
        // SAFETY: a live buffer of this compiled model; `host` receives its memory.
        check(unsafe { sys::LiteRtLockTensorBuffer(self.buffer, &mut host, mode) }, what)?;
        let result = use_values(host.cast::<f32>(), self.elements());
        // SAFETY: locked just above.
        check(unsafe { sys::LiteRtUnlockTensorBuffer(self.buffer) }, what)?;
        Ok(result)
    }
}

/// LiteRT's getters of a signature's input or output tensor, by index.
type TensorAt =
    unsafe extern "C" fn(sys::LiteRtSignature, usize, *mut sys::LiteRtTensor) -> sys::LiteRtStatus;
/// LiteRT's getters of a compiled model's input or output buffer requirements, by index.
type RequirementsOf = unsafe extern "C" fn(
    sys::LiteRtCompiledModel,
    usize,
    usize,
    *mut sys::LiteRtTensorBufferRequirements,
) -> sys::LiteRtStatus;

/// A model compiled for the CPU, with one buffer per input and output of its first signature.
pub(super) struct Compiled {
    // Declared before `_options` and dropped first: the buffers, then the compiled model.
    /// The inputs, in the signature's order.
    pub inputs: Vec<Tensor>,
    /// The outputs, in the signature's order.
    pub outputs: Vec<Tensor>,
    compiled: CompiledHandle,
    _options: Options,
}

struct CompiledHandle(sys::LiteRtCompiledModel);

impl Drop for CompiledHandle {
    fn drop(&mut self) {
        // SAFETY: made by LiteRtCreateCompiledModel, destroyed once, after its buffers.
        unsafe { sys::LiteRtDestroyCompiledModel(self.0) }
    }
}

// SAFETY: a compiled model and its buffers are heap objects used by one thread at a time
// (`&mut self` to run); nothing in them is tied to the thread that made them.
unsafe impl Send for Compiled {}

impl Compiled {
    /// Compiles `model` for the CPU with `settings` and makes its buffers.
    pub(super) fn new(model: &'static Model, settings: CpuSettings) -> Result<Compiled, String> {
        let env = environment()?;
        let options = Options::cpu(settings)?;
        let mut raw = null_mut();
        // SAFETY: live environment, model ('static) and options (kept beside the compiled model).
        let created = quietly(|| unsafe {
            sys::LiteRtCreateCompiledModel(env, model.0, options.0, &mut raw)
        });
        // Compiling runs LiteRT's code on this thread too, which may leave the same state as a run.
        crate::inference::vector_state::clean_after_runtime();
        check(created, "compilation")?;
        let compiled = CompiledHandle(raw);
        let mut signature = null_mut();
        let (mut input_count, mut output_count) = (0, 0);
        // SAFETY: signature 0 exists in every model LiteRT accepts; counts written by LiteRT.
        unsafe {
            check(sys::LiteRtGetModelSignature(model.0, 0, &mut signature), "signature")?;
            check(sys::LiteRtGetNumSignatureInputs(signature, &mut input_count), "input count")?;
            check(sys::LiteRtGetNumSignatureOutputs(signature, &mut output_count), "output count")?;
        }
        let tensor = |input: bool, index: usize| -> Result<Tensor, String> {
            let (mut tensor, mut requirements, mut buffer) = (null_mut(), null_mut(), null_mut());
            let mut kind = sys::LiteRtRankedTensorType::default();
            let (side, needs, tensor_at, requirements_of) = if input {
                (
                    "input",
                    "input requirements",
                    sys::LiteRtGetSignatureInputTensorByIndex as TensorAt,
                    sys::LiteRtGetCompiledModelInputBufferRequirements as RequirementsOf,
                )
            } else {
                (
                    "output",
                    "output requirements",
                    sys::LiteRtGetSignatureOutputTensorByIndex as TensorAt,
                    sys::LiteRtGetCompiledModelOutputBufferRequirements as RequirementsOf,
                )
            };
            // SAFETY: `index` is below the signature's count; the requirements belong to the
            // compiled model, the buffer to the returned `Tensor`.
            unsafe {
                check(tensor_at(signature, index, &mut tensor), side)?;
                check(requirements_of(compiled.0, 0, index, &mut requirements), needs)?;
                check(sys::LiteRtGetRankedTensorType(tensor, &mut kind), "tensor type")?;
                check(
                    sys::LiteRtCreateManagedTensorBufferFromRequirements(
                        env,
                        &kind,
                        requirements,
                        &mut buffer,
                    ),
                    "buffer",
                )?;
            }
            let rank = (kind.layout.rank() as usize).min(kind.layout.dimensions.len());
            let shape = kind.layout.dimensions[..rank].iter().map(|&d| d.max(0) as usize).collect();
            Ok(Tensor {
                buffer,
                shape,
                is_f32: kind.element_type == sys::kLiteRtElementTypeFloat32,
            })
        };
        let inputs = (0..input_count).map(|i| tensor(true, i)).collect::<Result<_, _>>()?;
        let outputs = (0..output_count).map(|i| tensor(false, i)).collect::<Result<_, _>>()?;
        Ok(Compiled { inputs, outputs, compiled, _options: options })
    }

    /// Runs the model on what its input buffers hold, into its output buffers.
    pub(super) fn run(&mut self) -> Result<(), String> {
        let mut inputs: Vec<_> = self.inputs.iter().map(|t| t.buffer).collect();
        let mut outputs: Vec<_> = self.outputs.iter().map(|t| t.buffer).collect();
        // SAFETY: the buffers were made for this compiled model's signature 0, in its order.
        let ran = check(
            unsafe {
                sys::LiteRtRunCompiledModel(
                    self.compiled.0,
                    0,
                    inputs.len(),
                    inputs.as_mut_ptr(),
                    outputs.len(),
                    outputs.as_mut_ptr(),
                )
            },
            "run",
        );
        crate::inference::vector_state::clean_after_runtime();
        ran
    }
}
