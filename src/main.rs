//! The `facematch` command: parses arguments and hands over to [`facematch::cli`].

fn main() {
    std::process::exit(facematch::cli::run(std::env::args_os()));
}
