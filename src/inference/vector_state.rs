//! The CPU's vector registers after a runtime's call, on x86-64.
//!
//! LiteRT's kernels return with the upper halves of the AVX registers still set on the calling
//! thread. Until they are cleared, the thread's SSE code (the Rust around the models) can pay a
//! transition penalty. Measured on 2026-12-07: the lab's liveness test that renders frames between
//! detector runs on one thread ran 4.8 times longer; the device's `liveness check` and `match`
//! showed no change either way.

/// Clears the upper halves of the vector registers (VZEROUPPER) after a runtime returns (from a
/// run, and from loading a model, which runs its code too), so the caller's own code runs at full
/// speed. A no-op off x86-64 and on CPUs without AVX.
pub(crate) fn clean_after_runtime() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX (checked above). VZEROUPPER clears only the registers' upper
        // halves, which no Rust value of this thread holds between calls.
        #[allow(unsafe_code)]
        unsafe {
            std::arch::x86_64::_mm256_zeroupper()
        }
    }
}
