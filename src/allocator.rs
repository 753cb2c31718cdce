//! How this process's heap gives memory back. glibc's malloc, left to itself, raises the size
//! above which it maps a block on its own each time such a block is freed (up to 32 MB), and
//! gives each thread that allocates at once an arena of its own (up to 8 per core). A server
//! that decodes pictures of several megabytes on tokio's blocking threads then keeps freed
//! pictures in many arenas, and its peak memory depends on which thread ran which request:
//! 545-627 MB for the same worst-case requests (`tests/overload.rs`, 2026-12-07). With large
//! blocks always mapped (and unmapped when freed) and two arenas, the same requests peaked at
//! 409-461 MB. The price is paid by the largest pictures only, mapped afresh each time: a match
//! of three of the costliest takes about 1.18 times as long, an ordinary one the same
//! (docs/performance.md). Other allocators (musl's) are left as they are.

/// Blocks at least this large are mapped on their own and returned when freed, whatever was
/// freed before: a decoded picture never stays in an arena.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MAP_FROM_BYTES: i32 = 128 * 1024;

/// Arenas shared by all threads: enough that the inference thread and a decoding thread do not
/// wait on each other, few enough that freed memory is found again by the next request.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS: i32 = 2;

/// Makes the heap return large blocks and keep few arenas (see the module doc), once, at the
/// start of the process: a long-running `serve`, `sync --watch` or kiosk then holds what its
/// current work needs, not what its past work left. Returns false when the allocator refused.
pub fn return_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets glibc's malloc parameters (under its own lock); the values
        // are in range for both parameters and no pointer is passed.
        #[allow(unsafe_code)]
        let set = |param, value| unsafe { libc::mallopt(param, value) } == 1;
        set(libc::M_MMAP_THRESHOLD, MAP_FROM_BYTES) && set(libc::M_ARENA_MAX, ARENAS)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        true
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn glibc_takes_the_settings() {
        assert!(super::return_freed_memory());
    }
}
