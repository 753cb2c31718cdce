//! `facematch match`: one verification from files, answered in the contract's JSON,
//! and recorded in the store with `--db`.

use std::path::{Path, PathBuf};

use std::time::Instant;

use super::args::MatchArgs;
use super::{load_engine, print_json};
use crate::answer::{self, answer, AnswerError, RequestBytes};
use crate::contract::{MatchAnswer, MatchRequest};
use crate::domain::PictureFormat;
use crate::intake::sniff;
use crate::record::{new_verification, RequestMedia};
use crate::store::{MediaId, Store, StoreError};
use crate::verify::{MatchParams, Verification};

/// Runs the subcommand; returns the exit code (0 processed, 2 error).
pub fn run(args: MatchArgs) -> i32 {
    match respond(&args) {
        Ok(answer) => {
            print_json(&answer);
            0
        }
        Err(Failure::Answer(e)) => {
            print_json(&e.body());
            2
        }
        Err(Failure::Device(e)) => {
            log::error!("{e:#}");
            print_json(&crate::contract::ErrorBody::new(
                crate::contract::ErrorCode::Internal,
                e.to_string(),
            ));
            2
        }
    }
}

/// Why `match` gave no answer: the request (the contract's codes), or this device (5001).
enum Failure {
    /// The request, as the API would refuse it.
    Answer(AnswerError),
    /// The store or the models of this device.
    Device(anyhow::Error),
}

impl From<AnswerError> for Failure {
    fn from(e: AnswerError) -> Failure {
        Failure::Answer(e)
    }
}

/// The request as the contract has it: file paths stand where the API has media ids.
fn request(args: &MatchArgs) -> MatchRequest {
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    MatchRequest {
        src: path(&args.src),
        target_front: path(&args.front),
        target_back: path(&args.back),
        doc_type: args.doc_type.clone(),
        threshold: args.threshold.clone().map(serde_json::Value::String),
    }
}

fn respond(args: &MatchArgs) -> Result<MatchAnswer, Failure> {
    let started = Instant::now();
    let params = answer::params(&request(args))?;
    let src = read_input("src", args.src.as_ref())?;
    let front = read_input("targetFront", args.front.as_ref())?;
    let back = args.back.as_ref().map(|p| read_input("targetBack", Some(p))).transpose()?;
    let device = |e: String| Failure::Device(anyhow::anyhow!(e));
    let mut store = args
        .db
        .as_ref()
        .map(|db| {
            Store::open(db, args.key.as_deref())
                .map_err(|e| device(format!("opening the store {}: {e}", db.display())))
        })
        .transpose()?;
    let mut engine = load_engine(&args.engine).map_err(|e| device(e.to_string()))?;
    let bytes = RequestBytes { src: &src, front: &front, back: back.as_deref() };
    let (answer, verification) = answer(&mut engine.detector, &mut engine.embedder, bytes, params)?;
    if let Some(store) = store.as_mut() {
        let id = record(store, args, params, &answer, verification.as_ref(), bytes, started)
            .map_err(|e| device(format!("recording the verification: {e}")))?;
        log::info!("recorded as verification {id}");
    }
    Ok(answer)
}

/// Stores the pictures (sealed) and the decision, as the HTTP API does for uploads.
fn record(
    store: &mut Store,
    args: &MatchArgs,
    params: MatchParams,
    answer: &MatchAnswer,
    verification: Option<&Verification>,
    bytes: RequestBytes<'_>,
    started: Instant,
) -> Result<i64, StoreError> {
    let save = |path: Option<&PathBuf>, data: &[u8]| -> Result<MediaId, StoreError> {
        let name = path
            .and_then(|p| p.file_name())
            .map_or("picture".into(), |n| n.to_string_lossy().to_string());
        let content_type = match sniff(data) {
            Some(PictureFormat::Png) => "image/png",
            Some(PictureFormat::Jpeg) => "image/jpeg",
            None => "application/octet-stream",
        };
        store.insert_media(None, &name, content_type, data)
    };
    let media = RequestMedia {
        src: Some(save(args.src.as_ref(), bytes.src)?),
        front: Some(save(args.front.as_ref(), bytes.front)?),
        back: bytes.back.map(|b| save(args.back.as_ref(), b)).transpose()?,
    };
    let entry = new_verification(
        None,
        &request(args),
        params,
        answer,
        verification,
        media,
        started.elapsed(),
    );
    store.record_verification(&entry)
}

/// Reads at most one byte more than the contract allows, so a huge file is refused without reading it all.
fn read_input(field: &str, path: Option<&PathBuf>) -> Result<Vec<u8>, AnswerError> {
    let flag = match field {
        "src" => "--src",
        "targetFront" => "--front",
        _ => "--back",
    };
    let path: &Path = path.ok_or_else(|| AnswerError::Malformed(format!("{flag} is required")))?;
    let unreadable = |e: std::io::Error| {
        AnswerError::Malformed(format!("{field}: cannot read {}: {e}", path.display()))
    };
    crate::intake::read_file(path).map_err(unreadable)
}
