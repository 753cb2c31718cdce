//! `facematch match`: one verification from files, answered in the contract's JSON.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::args::MatchArgs;
use super::{load_engine, print_json};
use crate::contract::{ErrorBody, ErrorCode};
use crate::intake::MAX_FILE_BYTES;
use crate::verify::{answer, MatchParams, RequestBytes};

/// Runs the subcommand; returns the exit code (0 processed, 2 error).
pub fn run(args: MatchArgs) -> i32 {
    match respond(&args) {
        Ok(answer) => {
            print_json(&answer);
            0
        }
        Err(body) => {
            print_json(&body);
            2
        }
    }
}

fn respond(args: &MatchArgs) -> Result<crate::contract::MatchAnswer, ErrorBody> {
    let threshold = args.threshold.clone().map(serde_json::Value::String);
    let params = MatchParams::parse(args.doc_type.as_deref(), threshold.as_ref())?;
    let src = read_input("src", args.src.as_ref())?;
    let front = read_input("targetFront", args.front.as_ref())?;
    let back = args.back.as_ref().map(|p| read_input("targetBack", Some(p))).transpose()?;
    let mut engine = load_engine(&args.engine).map_err(|e| {
        eprintln!("facematch: {e}");
        ErrorBody::new(ErrorCode::Internal, e.to_string())
    })?;
    let bytes = RequestBytes { src: &src, front: &front, back: back.as_deref() };
    let (answer, _) = answer(&mut engine.detector, &mut engine.embedder, bytes, params)?;
    Ok(answer)
}

/// Reads at most one byte more than the contract allows, so a huge file is refused without reading it all.
fn read_input(field: &str, path: Option<&PathBuf>) -> Result<Vec<u8>, ErrorBody> {
    let flag = match field {
        "src" => "--src",
        "targetFront" => "--front",
        _ => "--back",
    };
    let path: &Path =
        path.ok_or_else(|| ErrorBody::new(ErrorCode::Malformed, format!("{flag} is required")))?;
    let unreadable = |e: std::io::Error| {
        ErrorBody::new(
            ErrorCode::Malformed,
            format!("{field}: cannot read {}: {e}", path.display()),
        )
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(unreadable)?
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    Ok(bytes)
}
