//! Raw command-line arguments of `facematch-lab`, as clap parses them. The commands and their
//! flags are the ones the device binary had before the lab moved out; the model and runtime
//! flags are the device's own [`EngineArgs`].

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{Parser, Subcommand};
use facematch::cli::EngineArgs;
use facematch::domain::DocumentType;
use facematch::matching::Threshold;

use crate::synthetic_capture::Condition;

/// The facematch lab: synthetic cards, captures and liveness sessions, accuracy and liveness
/// figures, stage timings, the kiosk's preview rate and its voice prompts.
///
/// Nothing here ships on a device: it measures and generates, with the device's own library
/// (`facematch`), so its figures are the device's.
#[derive(Debug, Parser)]
#[command(name = "facematch-lab", version, propagate_version = true)]
pub struct Args {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The lab's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
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
    /// Write camera-like document captures of every photo in a folder, per condition, with a
    /// pairs.csv each for `eval` (README "Documents photographed by a camera").
    ///
    /// Example: facematch-lab captures --faces ../shared/faces --out target/captures
    Captures(CapturesArgs),
    /// Synthetic liveness sessions (`liveness generate`), for `facematch liveness eval`.
    Liveness(LivenessArgs),
    /// Synthesise the kiosk's voice prompts (every language) with espeak-ng into a folder.
    ///
    /// Example: facematch-lab voice --out assets/voice
    Voice(VoiceArgs),
    /// The kiosk's preview rate: frames per second the kiosk's worker delivers with folder
    /// cameras, for the selfie (with the liveness challenge) and for the document.
    ///
    /// Example: facematch-lab kiosk-fps --faces ../shared/faces
    KioskFps(KioskFpsArgs),
}

/// `eval`: the labelled pairs, the threshold and what to write.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// CSV with header a,b,same (paths relative to the CSV's folder; other columns ignored).
    #[arg(long, value_name = "CSV")]
    pub pairs: PathBuf,
    /// Threshold in percent for accuracy/TAR/FAR, 1-100.
    #[arg(long, value_name = "N", default_value_t = Threshold::DEFAULT)]
    pub threshold: Threshold,
    /// Document type used for the `b` pictures.
    #[arg(long = "type", value_name = "TYPE", default_value = "GOV")]
    pub doc_type: DocumentType,
    /// Also score every pair of pictures of different people (identities from
    /// the CSV's genuine pairs and folders) for the FAR figures.
    #[arg(long)]
    pub all_impostors: bool,
    /// Write roc.svg and scores.svg into this folder.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Write every scored pair (a,b,same,percent,cosine) to this CSV.
    #[arg(long, value_name = "CSV")]
    pub scores: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `liveness`: the lab's liveness subcommand.
#[derive(Debug, clap::Args)]
pub struct LivenessArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: LivenessCommand,
}

/// `liveness` subcommands of the lab (`check` and `eval` are the device's: `facematch liveness`).
#[derive(Debug, clap::Subcommand)]
pub enum LivenessCommand {
    /// Write synthetic sessions (bona fide and five attack species) from a folder of face
    /// photos, with the sessions.csv that `facematch liveness eval` reads.
    Generate(LivenessGenerateArgs),
}

/// `liveness generate`: where the photos are and where the sessions go.
#[derive(Debug, clap::Args)]
pub struct LivenessGenerateArgs {
    /// Folder of face photos, one sub-folder per person.
    #[arg(long, value_name = "DIR")]
    pub faces: PathBuf,
    /// Where to write one folder of frames per session and sessions.csv.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// At most this many photos per person (each gives one session per species).
    #[arg(long, default_value_t = 1)]
    pub per_person: usize,
    /// Only these people (folder names; repeat or separate by commas); default: all.
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub person: Vec<String>,
    /// Only these species (sessions.csv labels: bona_fide, print, screen, video_replay, card,
    /// static, mask, splice, bent_print, folded_print); default: all.
    #[arg(long, value_delimiter = ',', value_name = "LABEL")]
    pub species: Vec<String>,
    /// Light every session by the kiosk's colours at this strength: the screen's light on a face
    /// facing it, relative to the room's (linear; 0.15: a bright screen at arm's length in an
    /// office). sessions.csv's `flash` column gives each attempt's colours.
    #[arg(long, value_name = "STRENGTH")]
    pub flash: Option<f32>,
    /// Film every session under these conditions (repeat or separate by commas): clean (the
    /// default), fps8, qvga (320×240), noise10 (Gaussian σ 10), jpeg40, dim (two stops darker),
    /// webcam (all five at once), brisk (a turn out and back in 0.6 s), slow (in 3 s),
    /// pause_short (0.1 s between steps), pause_long (2 s), neck (a head turning on a neck, its
    /// outline moving), neck_webcam (that head through the webcam). sessions.csv's `condition`
    /// and `fps` columns say which.
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub condition: Vec<String>,
}

/// `bench`: the picture pair to time and how often.
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
    pub doc_type: DocumentType,
    /// Timed repetitions per stage.
    #[arg(long, default_value_t = 30)]
    pub runs: usize,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `card`: the photo to print and where the card goes.
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
    /// Print another, generated photo of the person instead of the photo itself: the head
    /// re-rendered turned and lit from one side (the kiosk demo's card, which must not be a
    /// copy of the selfie's photo).
    #[arg(long)]
    pub other_photo: bool,
}

/// `captures`: the photos and the conditions to capture them in.
#[derive(Debug, clap::Args)]
pub struct CapturesArgs {
    /// Folder of face photos, one sub-folder per person.
    #[arg(long, value_name = "DIR")]
    pub faces: PathBuf,
    /// Where to write `<condition>/*.jpg` and `<condition>/pairs.csv`.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Only these conditions (repeat or separate by commas); default: all.
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub condition: Vec<Condition>,
    /// At most this many photos per person.
    #[arg(long, default_value_t = usize::MAX, hide_default_value = true)]
    pub per_person: usize,
}

/// `--condition` lists the capture conditions in `--help`.
impl clap::ValueEnum for Condition {
    fn value_variants<'a>() -> &'a [Self] {
        &Condition::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

/// `voice`: where the prompts go and which synthesiser makes them.
#[derive(Debug, clap::Args)]
pub struct VoiceArgs {
    /// Where to write `<language>/<prompt>.wav`.
    #[arg(long, value_name = "DIR", default_value = "assets/voice")]
    pub out: PathBuf,
    /// The synthesiser (Debian's espeak-ng).
    #[arg(long, value_name = "PROGRAM", default_value = "espeak-ng")]
    pub espeak: String,
}

/// `kiosk-fps`: the photo the generated session and card are made from, and how long to count.
#[derive(Debug, clap::Args)]
pub struct KioskFpsArgs {
    /// Folder of face photos, one sub-folder per person (`../shared/faces`).
    #[arg(long, value_name = "DIR")]
    pub faces: PathBuf,
    /// The person whose photos 1 (the selfie session) and 2 (the card) are used.
    #[arg(long, value_name = "NAME", default_value = "barack_obama")]
    pub person: String,
    /// Preview frames counted on each screen.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub frames: usize,
    /// The worker's pause between frames, ms: 1 measures what the work allows (as the kiosk
    /// session test did); the kiosk itself pauses 30 ms, which caps it near 33 frames/s.
    #[arg(long, value_name = "MS", default_value_t = 1)]
    pub frame_interval_ms: u64,
    #[command(flatten)]
    pub engine: EngineArgs,
}
