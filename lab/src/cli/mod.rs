//! The lab's command line: parses arguments (clap) and runs one subcommand. The commands are the
//! ones the device binary had before the lab moved out, with the same flags; the model and
//! runtime flags and the model loading are the device's ([`facematch::cli::EngineArgs`],
//! [`facematch::cli::load_engine`]).
//!
//! Exit codes: 0 when the command did its job, 2 for bad arguments or any failure.

mod args;
mod bench_cmd;
mod captures_cmd;
mod card_cmd;
mod eval_cmd;
mod kiosk_fps_cmd;
mod liveness_cmd;
mod voice_cmd;

use std::ffi::OsString;

use clap::Parser;

use args::{Args, Command};
use facematch::cli::load_engine;

/// Runs the command line `argv` and returns the process exit code.
pub fn run<I, T>(argv: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args = match Args::try_parse_from(argv) {
        Ok(args) => args,
        Err(e) => {
            use clap::error::ErrorKind;
            return if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                print!("{e}");
                0
            } else {
                eprint!("{e}");
                2
            };
        }
    };
    let result = match args.command {
        Command::Eval(e) => eval_cmd::run(e),
        Command::Bench(b) => bench_cmd::run(b),
        Command::Card(c) => card_cmd::run(c),
        Command::Captures(c) => captures_cmd::run(c),
        Command::Liveness(l) => liveness_cmd::run(l),
        Command::Voice(v) => voice_cmd::run(&v),
        Command::KioskFps(k) => kiosk_fps_cmd::run(&k),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("facematch-lab: {e:#}");
            2
        }
    }
}

/// Prints a value as pretty JSON on stdout.
fn print_json<T: serde::Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("facematch-lab: cannot encode the answer: {e}"),
    }
}
