//! Raw command-line arguments, as clap parses them. Validation happens in the subcommands.

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{Parser, Subcommand};

use crate::domain::DocumentType;
#[cfg(feature = "kiosk")]
use crate::matching::Threshold;

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
    /// Example: facematch match --src selfie.jpg --front card.jpg --type GOV --threshold 85
    ///
    /// Exit 0 when the request was processed (matched or not: read "status");
    /// exit 2 with the contract's error JSON ({"code":4001,...}) when it was malformed.
    Match(MatchArgs),
    /// Liveness of a recorded attempt: check one folder of frames, or evaluate a labelled set
    /// (ISO/IEC 30107-3 figures; `facematch-lab liveness generate` makes a synthetic one).
    ///
    /// Example: facematch liveness check --frames session/ --challenge "left up right"
    Liveness(LivenessArgs),
    /// Serve the Face Match API (media upload + facex/match) from this device.
    ///
    /// Example: facematch serve --db /var/lib/facematch/log.db --listen 127.0.0.1:8080
    Serve(ServeArgs),
    /// Make or revoke API tokens (`Authorization: Basic {token}`).
    Token(TokenArgs),
    /// Make or remove the staff accounts of a hub's review page (`serve --review`).
    Staff(StaffArgs),
    /// List recorded verifications, or check the log's hash chain (`log verify`).
    Log(LogArgs),
    /// Delete picture bytes and embeddings older than N days (records and hashes stay).
    Purge(PurgeArgs),
    /// Push recorded verifications to the remote Face Match API and record its verdicts.
    ///
    /// Example: facematch sync --db log.db --config /etc/facematch/sync.toml --watch
    /// The token can come from --token, FACEMATCH_REMOTE_TOKEN or the config file
    /// (`remote = "https://..."`, `token = "..."`); it is never printed.
    /// Exit 0: queue empty; 3: the remote stayed unreachable (items still pending); 2: error or refused token.
    Sync(SyncArgs),
    /// The kiosk: consent, live selfie with guidance, document scan, verdict on screen.
    ///
    /// Example: facematch kiosk --camera dir:assets/kiosk/camera --document-source dir:assets/kiosk/scanner
    #[cfg(feature = "kiosk")]
    Kiosk(KioskArgs),
    /// Read a staff PIN (6-8 digits) from standard input and print the kiosk config line that
    /// stores its hash, keyed with the kiosk database's device key (give the kiosk's --db).
    #[cfg(feature = "kiosk")]
    OperatorPin(StoreArgs),
    /// List the cameras this device has, as `kiosk --camera` takes them, with what each is
    /// (name, driver, USB vendor:product, serial and port; virtual ones said). Exit 1 when there
    /// is none; with --enrol, exit 2 when that camera cannot be read.
    ///
    /// Example: facematch cameras --enrol /dev/video0 | sudo tee -a /etc/facematch/kiosk.toml
    #[cfg(feature = "kiosk")]
    Cameras(CamerasArgs),
}

/// `facematch cameras`.
#[cfg(feature = "kiosk")]
#[derive(Debug, clap::Args)]
pub struct CamerasArgs {
    /// Print the kiosk config line that enrols this camera (/dev/videoN or N) as the kiosk's own:
    /// the kiosk then refuses pictures from any other.
    #[arg(long, value_name = "CAMERA")]
    pub enrol: Option<String>,
}

#[cfg(feature = "kiosk")]
#[derive(Debug, clap::Args)]
pub struct KioskArgs {
    /// The selfie camera: /dev/videoN, N, auto (the first camera found), or dir:FOLDER to play a
    /// folder of pictures as the camera.
    #[arg(long, value_name = "SPEC", default_value = "dir:assets/kiosk/camera")]
    pub camera: String,
    /// Where documents come from: `camera`, or dir:FOLDER (the newest picture a scanner wrote).
    #[arg(long, value_name = "SPEC", default_value = "dir:assets/kiosk/scanner")]
    pub document_source: String,
    /// Record verifications in this SQLite log.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// The device key for --db (default: <db>.key).
    #[arg(long, value_name = "FILE", requires = "db")]
    pub key: Option<PathBuf>,
    /// Match threshold in percent, 1-100.
    #[arg(long, value_name = "N", default_value_t = Threshold::DEFAULT)]
    pub threshold: Threshold,
    /// Document type preselected on the type screen.
    #[arg(long = "type", value_name = "TYPE", default_value = "GOV")]
    pub doc_type: DocumentType,
    /// The language each session starts in: en, hi (Hindi), ta (Tamil) or bn (Bengali); the
    /// customer can choose another on the welcome screen.
    #[arg(long, value_name = "CODE", default_value = "en")]
    pub language: crate::kiosk::language::Language,
    /// Seconds without a touch before the session is dropped and the welcome screen returns.
    #[arg(long, value_name = "S", default_value_t = 60)]
    pub idle_timeout: u64,
    /// A TOML file with `operator_pin = "keyed:$argon2id$..."` (from `facematch operator-pin
    /// --db`) for the staff screen, and `camera_identity = {...}` (from `facematch cameras
    /// --enrol`): the kiosk's own camera, the only one it takes pictures from.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Take pictures from a virtual camera (vivid, v4l2loopback), or from a picture folder as the
    /// selfie camera once a camera is enrolled: for testing only. Without it they are refused, as
    /// a feed injected in place of the camera would be.
    #[arg(long)]
    pub allow_virtual_camera: bool,
    /// Where the operator screen saves its choices (threshold, default type, camera, language); saved
    /// choices take precedence over --threshold, --type, --camera and --language. Without it they last until the kiosk stops.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Where to draw: `window` (X11/Wayland desktop), `kms` (straight on the screen, no desktop:
    /// a Pi; needs the kiosk-kms build) or `auto` (a desktop if there is one, else the screen).
    #[arg(long, value_enum, default_value_t = DisplayArg::Auto)]
    pub display: DisplayArg,
    /// Fill the screen (with `--display window`; `kms` always does).
    #[arg(long)]
    pub fullscreen: bool,
    /// The selfie step's liveness challenge (README "Liveness"): `on` asks for three random
    /// head movements; `off` takes the selfie once the face is steady (a staffed desk only).
    #[arg(long, value_enum, default_value_t = LivenessArg::On)]
    pub liveness: LivenessArg,
    /// Always ask these movements (e.g. "left up right"), to play a recorded session from a
    /// folder camera. Never on a kiosk: a fixed order lets a replayed video through.
    #[arg(long, value_name = "MOVES", conflicts_with = "liveness")]
    pub liveness_challenge: Option<crate::liveness::Challenge>,
    /// The screen's colours during the challenge (docs/liveness.md "The screen as a light
    /// source"): `on` lights the face with colours drawn per attempt, which a recording cannot
    /// show (staff can turn them off for one customer); `off` leaves the movement test alone.
    #[arg(long, value_enum, default_value_t = LivenessArg::On)]
    pub screen_colours: LivenessArg,
    /// When the colours are too faint on the face to tell anything (a bright room, a face far
    /// from the screen): `refuse` asks the customer to come closer and try again (a screen
    /// held up or a feed injected in place of the camera is faint too: only this keeps their
    /// spliced replays out); `movement-only` lets the movement test alone decide, recorded in
    /// the attempt and counted on the staff screen.
    #[arg(long, value_enum, default_value_t = FaintArg::Refuse)]
    pub faint_colours: FaintArg,
    /// Record every liveness attempt's frames and challenge in this folder, in the layout
    /// `liveness eval` reads (the consent screen tells the customer). For in-house testing.
    #[arg(long, value_name = "DIR")]
    pub capture_sessions: Option<PathBuf>,
    /// Voice guidance (README "Languages and voice"): `on` speaks each screen's instruction and
    /// live hint in the session's language (the customer's speaker button can turn it off).
    #[arg(long, value_enum, default_value_t = LivenessArg::On)]
    pub voice: LivenessArg,
    /// The ALSA device the voice plays on (`aplay -D`; default: the system's default device).
    #[arg(long, value_name = "NAME")]
    pub audio_device: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `kiosk --liveness` and `--voice` values.
#[cfg(feature = "kiosk")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LivenessArg {
    /// On (liveness: a random head-movement challenge; voice: spoken guidance).
    On,
    /// Off.
    Off,
}

/// `kiosk --faint-colours` values.
#[cfg(feature = "kiosk")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FaintArg {
    /// The movement test alone decides.
    MovementOnly,
    /// The attempt is refused.
    Refuse,
}

/// `--display` values.
#[cfg(feature = "kiosk")]
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DisplayArg {
    /// A desktop window if there is a desktop, else straight on the screen.
    Auto,
    /// A window on an X11 or Wayland desktop.
    Window,
    /// Straight on the screen through DRM/KMS, touch through libinput.
    Kms,
}

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Sync what is pending, then exit (the default).
    #[arg(long, conflicts_with = "watch")]
    pub once: bool,
    /// Keep syncing as records arrive and the network comes and goes.
    #[arg(long)]
    pub watch: bool,
    /// Seconds between queue checks in --watch.
    #[arg(long, value_name = "S", default_value_t = 2)]
    pub poll_secs: u64,
    /// Attempts per remote call before giving up on the remote for this run.
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub max_attempts: u32,
    /// First retry delay in ms (doubles each attempt, with jitter).
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub base_delay_ms: u64,
    /// Longest retry delay in ms (also caps Retry-After).
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    pub max_delay_ms: u64,
    /// Delete the pictures of synced records right after they are synced.
    #[arg(long)]
    pub purge_after_sync: bool,
    /// Seconds one call to the remote may take, its answer included.
    #[arg(long, value_name = "S", default_value_t = 60)]
    pub call_timeout: u64,
    /// Put parked records back in the queue first: all of them, or the verification ids given
    /// (e.g. after fixing a wrong remote URL). `facematch log` lists what is parked and why.
    #[arg(long, value_name = "ID", num_args = 0.., value_delimiter = ',')]
    pub requeue_parked: Option<Vec<i64>>,
}

/// Where the store is.
#[derive(Debug, clap::Args, Clone)]
pub struct StoreArgs {
    /// The SQLite database (created if missing).
    #[arg(long, value_name = "FILE")]
    pub db: PathBuf,
    /// The device key sealing pictures and embeddings (default: <db>.key; created 0600 if missing).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
}

/// Where the API's store is: a device's SQLite file, or a hub's PostgreSQL database.
#[derive(Debug, clap::Args, Clone)]
pub struct ApiStoreArgs {
    /// The SQLite database (created if missing): a device's, or a hub's on one machine.
    #[arg(long, value_name = "FILE", required_unless_present = "store", conflicts_with = "store")]
    pub db: Option<PathBuf>,
    /// A hub's PostgreSQL database, shared by the hub's replicas: a URL
    /// (postgres://USER@HOST/DB) or libpq's key=value form (host=/run/postgresql dbname=DB).
    /// TLS, verified, unless it is on this machine.
    #[arg(long, value_name = "URL", env = "FACEMATCH_STORE", hide_env_values = true)]
    pub store: Option<String>,
    /// The key sealing pictures and embeddings. SQLite: default <db>.key, made 0600 if missing.
    /// PostgreSQL: this file (made 0600 only for a new database), or else 64 hex digits in
    /// FACEMATCH_HUB_KEY; never kept in the database.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// PostgreSQL connections this process holds at most.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub store_connections: u32,
    /// The CA (PEM) that signed PostgreSQL's certificate (default: the system's trust store).
    /// The connection to PostgreSQL on another machine is always TLS.
    #[arg(long, value_name = "FILE")]
    pub store_ca: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: ApiStoreArgs,
    /// Address to listen on (port 0: any free port; the bound address is printed on stderr).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Requests per token in any 60 s, all APIs (0: unlimited) → 4291. One verification is
    /// 2-3 uploads and a match.
    #[arg(long, value_name = "N", default_value_t = 240)]
    pub token_rate: u32,
    /// Requests per token and API in any 60 s (0: unlimited) → 4292.
    #[arg(long, value_name = "N", default_value_t = 180)]
    pub api_rate: u32,
    /// Connections served at once; more wait until one ends.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_connections: usize,
    /// Uploads received at once (each holds up to 10 MB in memory); one more is answered 4292
    /// with Retry-After.
    #[arg(long, value_name = "N", default_value_t = crate::api::UPLOADS_IN_FLIGHT)]
    pub max_uploads: usize,
    /// Connections served at once from one client address; more from it are closed at once.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub max_connections_per_client: usize,
    /// Seconds a client has to send a request's headers (and its match body); an idle
    /// keep-alive connection is closed after the same time.
    #[arg(long, value_name = "S", default_value_t = 10)]
    pub read_timeout: u64,
    /// Requests per day per token (0: unlimited) → 4293.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub token_daily: u32,
    /// Requests per day per token and API (0: unlimited) → 4294.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub api_daily: u32,
    /// Purge pictures older than this many days, hourly (0: keep); pictures of records
    /// waiting for sync are kept unless --retention-include-unsynced.
    #[arg(long, value_name = "DAYS", default_value_t = 0)]
    pub retention_days: u32,
    /// Let retention purge pictures of records not yet synced (a device that never syncs).
    #[arg(long)]
    pub retention_include_unsynced: bool,
    /// Serve https with this certificate (PEM: the server's, then its intermediates); read
    /// again on SIGHUP. Needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Also serve the review page for the bank's staff on this address (a hub on PostgreSQL;
    /// accounts from `facematch staff add`): over https with --tls-cert, plain http only on
    /// this machine's loopback.
    #[arg(long, value_name = "ADDR")]
    pub review: Option<String>,
    /// After how long without a heartbeat or a synced record the review page counts a device
    /// as silent.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = humantime::parse_duration)]
    pub review_silent_after: std::time::Duration,
    /// Testing only (feature test-faults): answer the first API calls with these failures, e.g. "429x3,500x2".
    #[cfg(feature = "test-faults")]
    #[arg(long, value_name = "SPEC", hide = true)]
    pub inject_faults: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub action: TokenAction,
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Make a token; it is printed once (only its hash is stored).
    Add {
        #[command(flatten)]
        store: ApiStoreArgs,
        /// A name for the client (unique).
        name: String,
    },
    /// Revoke the token with this name.
    Revoke {
        #[command(flatten)]
        store: ApiStoreArgs,
        /// The client's name.
        name: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct StaffArgs {
    #[command(subcommand)]
    pub action: StaffAction,
}

#[derive(Debug, Subcommand)]
pub enum StaffAction {
    /// Make a staff account. The password (12 characters or more) is read from the terminal
    /// without echo or, when standard input is not a terminal, from its first line.
    Add {
        #[command(flatten)]
        store: ApiStoreArgs,
        /// The member of staff's name, as they sign in and as their decisions are kept.
        name: String,
    },
    /// Remove a staff account: its sessions end at once; its decisions and picture views stay.
    Remove {
        #[command(flatten)]
        store: ApiStoreArgs,
        /// The account's name.
        name: String,
    },
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LogArgs {
    #[command(subcommand)]
    pub action: Option<LogAction>,
    /// The SQLite database.
    #[arg(long, value_name = "FILE", conflicts_with = "store")]
    pub db: Option<PathBuf>,
    /// The device key (default: <db>.key).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// A hub's PostgreSQL database instead (read through its auditors' views, read-only,
    /// without the hub's key: an auditor's role can run it).
    #[arg(long, value_name = "URL", env = "FACEMATCH_STORE", hide_env_values = true)]
    pub store: Option<String>,
    /// The CA (PEM) that signed PostgreSQL's certificate (default: the system's trust store).
    #[arg(long, value_name = "FILE", requires = "store")]
    pub store_ca: Option<PathBuf>,
    /// A hub's records of this device only.
    #[arg(long, value_name = "ID", requires = "store")]
    pub device: Option<String>,
    /// A hub's records decided at or after this time: RFC 3339 (2026-12-07T09:00:00Z) or a
    /// duration ago (24h, 7days).
    #[arg(long, value_name = "T", requires = "store")]
    pub since: Option<String>,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// How many of the newest records.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
}

#[derive(Debug, Subcommand)]
pub enum LogAction {
    /// Recompute the keyed hash chain, the pictures' sha256 and the counter beside the key;
    /// with --remote, also compare with the anchor the remote keeps. Exit 1 and name the
    /// problem if the log does not hold; 2 when the remote keeps no anchors.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Start the chain counters beside the key again at the current heads, after they were
    /// lost or replaced. Records deleted before this can no longer be seen; the reseal is kept
    /// in the log and named by every `log verify`. Only remote anchors still cover the past.
    Reseal {
        #[command(flatten)]
        store: StoreArgs,
        /// Why (kept with the reseal), e.g. "counter lost with the SD card, restored from backup".
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Say that you accept that deletions before now can no longer be detected locally.
        #[arg(long = "i-understand-earlier-deletions-become-invisible")]
        understood: bool,
    },
    /// Upgrade a database from before the keyed chain and the liveness log (schema 1-4) that
    /// holds records: its chain is sealed as found, and every `log verify` names the upgrade.
    /// Other commands refuse such a database (a lowered version is also how a rewrite would
    /// be sealed).
    Upgrade {
        #[command(flatten)]
        store: StoreArgs,
        /// Say that this is a genuine old database and its chain is taken as it is now.
        #[arg(long = "i-understand-the-old-chain-is-taken-as-found")]
        understood: bool,
    },
    /// Recompute a hub's keyed hash chain in its PostgreSQL database, read-only (the hub's key
    /// is needed; nothing is written or migrated). Exit 1 and name the first record that does
    /// not hold.
    VerifyHub {
        /// The hub's PostgreSQL database.
        #[arg(long, value_name = "URL", env = "FACEMATCH_STORE", hide_env_values = true)]
        store: String,
        /// The hub's key file (else FACEMATCH_HUB_KEY, 64 hex digits); never made here.
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        /// The CA (PEM) that signed PostgreSQL's certificate (default: the system's trust store).
        #[arg(long, value_name = "FILE")]
        store_ca: Option<PathBuf>,
    },
}

/// The remote Face Match API (`sync` sends to it; `log verify --remote` compares with it).
#[derive(Debug, clap::Args)]
pub struct RemoteArgs {
    /// Base URL of the remote service (e.g. https://api.example.com).
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    /// API token for the remote (prefer FACEMATCH_REMOTE_TOKEN or --config: command lines are visible to other users).
    #[arg(long, value_name = "TOKEN", env = "FACEMATCH_REMOTE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// A TOML file with `remote`, `token`, optionally `remote_ca`, `remote_pins`,
    /// `allow_plain_http` and, for sync, `purge_after_sync = true`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Trust only this CA (PEM, one or more certificates) for the remote, e.g. a bank's
    /// private PKI; without it, the system's trust store (/etc/ssl/certs).
    #[arg(long, value_name = "FILE")]
    pub remote_ca: Option<PathBuf>,
    /// Accept only a certificate chain holding this public key (sha256/BASE64 of its
    /// SubjectPublicKeyInfo, as HPKP and OkHttp write it); repeat for a backup key.
    #[arg(long, value_name = "PIN")]
    pub remote_pin: Vec<crate::tls::Pin>,
    /// Allow http:// to another machine (the token and pictures cross the network in the
    /// clear); http:// to this machine (loopback) is always allowed.
    #[arg(long)]
    pub allow_plain_http: bool,
}

impl RemoteArgs {
    /// These arguments when a remote is named at all.
    pub fn remote_given(&self) -> Option<&RemoteArgs> {
        (self.remote.is_some() || self.config.is_some()).then_some(self)
    }
}

#[derive(Debug, clap::Args)]
pub struct PurgeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Age in days beyond which pictures are purged.
    #[arg(long, value_name = "DAYS")]
    pub older_than_days: u32,
    /// Also purge pictures of records not yet synced (a device that never syncs).
    #[arg(long)]
    pub include_unsynced: bool,
}

/// Shared model/runtime settings.
#[derive(Debug, Default, clap::Args, Clone)]
pub struct EngineArgs {
    /// Folder with the models (default: models/ beside the binary, then the source tree's).
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// CPU threads per model (default: number of cores, at most 4).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Run TensorFlow Lite without the XNNPACK delegate (slower; for comparison).
    #[arg(long)]
    pub no_xnnpack: bool,
    /// Inference runtime: tflite (TensorFlow Lite models on LiteRT; x86-64, ARMv8 such as the
    /// Raspberry Pi 4 and 5) or onnx (ONNX Runtime, the fallback). Default: the first this build has.
    #[arg(long, value_name = "RUNTIME", env = "FACEMATCH_RUNTIME")]
    pub runtime: Option<crate::inference::Runtime>,
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
    /// Match threshold in percent, 1-100; 89 is the default (FAR under 1e-4 pooled over every impostor pair measured, docs/accuracy.md "Choosing a threshold").
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub threshold: Option<String>,
    /// Record the pictures (encrypted) and the decision in this SQLite log.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// The device key for --db (default: <db>.key).
    #[arg(long, value_name = "FILE", requires = "db")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, clap::Args)]
pub struct LivenessArgs {
    #[command(subcommand)]
    pub command: LivenessCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LivenessCommand {
    /// Check one attempt: the frames of a folder (JPEG/PNG, in name order) against a challenge.
    ///
    /// Prints one JSON object: live, reason (null when live), message, steps, parallax,
    /// frames, faceFrames, selfieFrame, identity. Exit 0 when processed (live or not); exit 2
    /// with the contract's error JSON (4001) for bad input.
    Check(LivenessCheckArgs),
    /// Evaluate a labelled set: a CSV with columns frames,challenge,label (frames = a folder
    /// relative to the CSV's folder; label bona_fide or an attack species). Prints one JSON
    /// object: sessions, bona_fide, attacks, bpcer, apcer per species, apcer_max.
    Eval(LivenessEvalArgs),
}

#[derive(Debug, clap::Args)]
pub struct LivenessCheckArgs {
    /// Folder of frames, read in name order.
    #[arg(long, value_name = "DIR")]
    pub frames: PathBuf,
    /// The movements asked, in order: left, right, up, down separated by spaces or commas.
    #[arg(long, value_name = "MOVES")]
    pub challenge: String,
    /// Frames per second the folder was recorded at (time limits are counted in frames).
    #[arg(long, default_value_t = 15.0)]
    pub fps: f32,
    /// The colours the screen showed from the first frame on (`r0.6 g0.5 b0.8 ...`: a colour
    /// and its hold in seconds): the face must answer them (docs/liveness.md "The screen as a
    /// light source").
    #[arg(long, value_name = "SEQUENCE")]
    pub flash: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, clap::Args)]
pub struct LivenessEvalArgs {
    /// CSV with columns frames,challenge,label and optionally flash (the screen's colours), fps
    /// (the session's frame rate, in place of --fps) and condition (how it was filmed: BPCER is
    /// also given per condition); other columns are ignored.
    #[arg(long, value_name = "CSV")]
    pub sessions: PathBuf,
    /// Frames per second of the recorded sessions whose row gives none.
    #[arg(long, default_value_t = 15.0)]
    pub fps: f32,
    /// Also print every session's result (folder, label, live, reason, parallax) in the JSON.
    #[arg(long)]
    pub details: bool,
    /// Write sessions.csv with every session's result into this folder.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `--type` takes the contract's six spellings, case as in the contract, and lists them in `--help`.
impl clap::ValueEnum for DocumentType {
    fn value_variants<'a>() -> &'a [Self] {
        &DocumentType::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}
