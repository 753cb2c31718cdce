//! The `facematch-lab` command: sets up logging and hands over to [`facematch_lab::cli`].

#![forbid(unsafe_code)]

fn main() {
    // The device's logger settings: `FACEMATCH_LOG=debug` shows more (RUST_LOG syntax).
    env_logger::Builder::from_env(env_logger::Env::new().filter_or("FACEMATCH_LOG", "info"))
        .format_timestamp(None)
        .format_target(false)
        .init();
    std::process::exit(facematch_lab::cli::run(std::env::args_os()));
}
