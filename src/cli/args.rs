//! Raw command-line arguments, as clap parses them. Validation happens in the subcommands.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Offline face verification: does the face on an ID document belong to the person in the selfie?
///
/// Everything runs on this device with TensorFlow Lite (YuNet detector, SFace
/// embedder); nothing is sent anywhere. Answers follow the Face Match API contract.
#[derive(Debug, Parser)]
#[command(name = "facematch", version, propagate_version = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Match a selfie against a document: prints the contract's response JSON.
    ///
    /// Example: facematch match --src selfie.jpg --front card.jpg --type GOV --threshold 80
    ///
    /// Exit 0 when the request was processed (matched or not: read "status");
    /// exit 2 with the contract's error JSON ({"code":4001,...}) when it was malformed.
    Match(MatchArgs),
    /// Measure accuracy on a CSV of labelled pairs (columns a,b,same).
    ///
    /// Each row's `b` is matched as the document front against `a` as the
    /// selfie. Prints one JSON object: accuracy, TAR/FAR at the threshold,
    /// TAR at FAR 1e-2 and 1e-3, EER, and a per-threshold table.
    Eval(EvalArgs),
    /// Time each stage (decode, detect, align, embed) and the whole match on a picture pair.
    Bench(BenchArgs),
    /// Print a face photo onto a synthetic ID card (for tests and evaluation).
    Card(CardArgs),
}

/// Shared model/runtime settings.
#[derive(Debug, clap::Args, Clone)]
pub struct EngineArgs {
    /// Folder with the .tflite models (default: models/ beside the binary, then the source tree's).
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// CPU threads per model (default: number of cores, at most 4).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Run without the XNNPACK delegate (slower; for comparison).
    #[arg(long)]
    pub no_xnnpack: bool,
}

#[derive(Debug, clap::Args)]
pub struct MatchArgs {
    /// The selfie / user photo (JPEG or PNG).
    #[arg(long, value_name = "FILE")]
    pub src: Option<PathBuf>,
    /// The document's front side (JPEG or PNG).
    #[arg(long, value_name = "FILE")]
    pub front: Option<PathBuf>,
    /// The document's back side, if it also carries a photo.
    #[arg(long, value_name = "FILE")]
    pub back: Option<PathBuf>,
    /// Document type: UIDAI, DL, PAN, VOTER, PASSPORT or GOV.
    #[arg(long = "type", value_name = "TYPE")]
    pub doc_type: Option<String>,
    /// Match threshold in percent, 1-100 (README "Choosing a threshold").
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub threshold: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// CSV with header a,b,same (paths relative to the CSV's folder; other columns ignored).
    #[arg(long, value_name = "CSV")]
    pub pairs: PathBuf,
    /// Threshold in percent for accuracy/TAR/FAR (default: the calibrated default).
    #[arg(long, value_name = "N")]
    pub threshold: Option<f64>,
    /// Document type used for the `b` pictures.
    #[arg(long = "type", value_name = "TYPE", default_value = "GOV")]
    pub doc_type: String,
    /// Also score every pair of pictures of different people (identities from
    /// the CSV's genuine pairs and folders) for the FAR figures.
    #[arg(long)]
    pub all_impostors: bool,
    /// Write roc.svg and scores.svg into this folder.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Write every scored pair (a,b,same,cosine,percent) to this CSV.
    #[arg(long, value_name = "CSV")]
    pub scores: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Selfie to time.
    #[arg(long, value_name = "FILE")]
    pub src: PathBuf,
    /// Document to time.
    #[arg(long, value_name = "FILE")]
    pub front: PathBuf,
    /// Document type.
    #[arg(long = "type", value_name = "TYPE", default_value = "GOV")]
    pub doc_type: String,
    /// Timed repetitions per stage.
    #[arg(long, default_value_t = 30)]
    pub runs: usize,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, clap::Args)]
pub struct CardArgs {
    /// The face photo to print.
    #[arg(long, value_name = "FILE")]
    pub photo: PathBuf,
    /// Where to write the card (JPEG).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Seed for layout, colours and noise.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}
