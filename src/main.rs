//! The `facematch` command: sets up logging and hands over to [`facematch::cli`].

#![forbid(unsafe_code)]

fn main() {
    // One logger for the whole process: `FACEMATCH_LOG=debug` shows more (RUST_LOG syntax).
    env_logger::Builder::from_env(env_logger::Env::new().filter_or("FACEMATCH_LOG", "info"))
        .format_timestamp(None)
        .format_target(false)
        .init();
    if !facematch::allocator::return_freed_memory() {
        log::warn!("the C library refused the heap's settings: memory peaks may be higher");
    }
    std::process::exit(facematch::cli::run(std::env::args_os()));
}
