//! The command line: parses arguments (clap) into validated settings and runs
//! one subcommand. No business rules here; `anyhow` is allowed only in this
//! module and `main.rs`.
//!
//! Exit codes: 0 when the command did its job (a match request that was
//! processed exits 0 whether or not the faces matched), 2 for a malformed
//! request or any failure, with the contract's error JSON on stdout for `match`.

mod args;
mod liveness_cmd;
mod log_cmd;
mod match_cmd;
mod serve_cmd;
mod staff_cmd;
mod stdout;
mod store_choice;
mod sync_cmd;

use std::ffi::OsString;

use clap::Parser;

use crate::contract::{ErrorBody, ErrorCode};
pub use args::EngineArgs;
use args::{Args, Command};
use stdout::outln;

/// Runs the command line `argv` and returns the process exit code.
pub fn run<I, T>(argv: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    stdout::settle(run_command(&argv))
}

/// Parses and runs one command; returns its exit code.
fn run_command(argv: &[OsString]) -> i32 {
    let args = match Args::try_parse_from(argv) {
        Ok(args) => args,
        Err(e) => return parse_failure(argv, e),
    };
    let result = match args.command {
        Command::Match(m) => return match_cmd::run(m),
        Command::Liveness(l) => return liveness_cmd::run(l),
        Command::Serve(s) => serve_cmd::run(s),
        Command::Token(t) => log_cmd::token(t),
        Command::Staff(s) => staff_cmd::run(s),
        Command::Log(l) => return log_cmd::log(l),
        Command::Purge(p) => log_cmd::purge(p),
        Command::Sync(s) => return sync_cmd::run(s),
        #[cfg(feature = "kiosk")]
        Command::Kiosk(k) => kiosk(k),
        #[cfg(feature = "kiosk")]
        Command::OperatorPin(store) => operator_pin(&store),
        #[cfg(feature = "kiosk")]
        Command::Cameras(args) => return cameras(&args),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("facematch: {e:#}");
            2
        }
    }
}

/// Help and version go to stdout with exit 0. Other parse errors exit 2; for
/// `match`, stdout carries the contract's 4001 body so callers can parse it.
fn parse_failure(argv: &[OsString], e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        stdout::write(format_args!("{e}"));
        return 0;
    }
    if matches!(e.kind(), ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand) {
        eprint!("{e}");
        return 2;
    }
    if argv.get(1).is_some_and(|a| a == "match") {
        let details = e.kind().to_string();
        let rendered = e.render().to_string();
        let first_line =
            rendered.lines().next().unwrap_or(&details).trim_start_matches("error: ").to_string();
        print_json(&ErrorBody::new(ErrorCode::Malformed, first_line));
    }
    eprint!("{e}");
    2
}

/// Prints a value as pretty JSON on stdout.
fn print_json<T: serde::Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => outln!("{s}"),
        Err(e) => eprintln!("facematch: cannot encode the answer: {e}"),
    }
}

/// `facematch kiosk`: the kiosk window until it is closed.
#[cfg(feature = "kiosk")]
fn kiosk(args: args::KioskArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    let mut doc_type = args.doc_type;
    let mut camera = crate::camera::CameraSpec::parse(&args.camera).context("--camera")?;
    let document_source =
        crate::camera::DocumentSource::parse(&args.document_source).context("--document-source")?;
    let (mut threshold, mut language) = (args.threshold, args.language);
    if let Some(path) = &args.settings {
        // A kiosk must come up: damaged saved choices are reported and the command line's used.
        match crate::kiosk::settings::load(path) {
            Ok(saved) => {
                threshold = saved.threshold().unwrap_or(threshold);
                doc_type = saved.document_type().unwrap_or(doc_type);
                camera = saved.camera().unwrap_or(camera);
                language = saved.language().unwrap_or(language);
            }
            Err(e) => eprintln!("kiosk: the operator's saved choices are ignored: {e}"),
        }
    }
    let file: KioskFile = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).map_or(0, |m| m.permissions().mode());
            if mode & 0o004 != 0 {
                log::warn!(
                    "{} is readable by every user of this device, and it holds the staff PIN's \
                     hash: chmod 640 it (owner root, group facematch)",
                    path.display()
                );
            }
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        None => KioskFile::default(),
    };
    let mut pin_secret = None;
    if let Some(db) = &args.db {
        // A kiosk that cannot record must not start: it would show verdicts nobody can audit.
        let store = crate::store::Store::open(db, args.key.as_deref())
            .and_then(|store| store.check_writable().map(|()| store))
            .with_context(|| format!("the kiosk records every decision in {}", db.display()))?;
        let purpose = crate::kiosk::pin::PinSecret::PURPOSE;
        pin_secret = Some(crate::kiosk::pin::PinSecret::new(store.derived_secret(purpose)));
    }
    let config = crate::ui::WorkerConfig {
        camera: camera.clone(),
        document_source,
        models: crate::inference::models::locate_dir(args.engine.models.as_deref()),
        runtime: runtime_options(&args.engine),
        db: args.db,
        key: args.key,
        threshold,
        frame_interval: std::time::Duration::from_millis(30),
        capture_sessions: args.capture_sessions,
        camera_trust: {
            match &file.camera_identity {
                Some(own) => log::info!("kiosk: the kiosk's own camera is {own}"),
                None => log::warn!(
                    "kiosk: no camera is enrolled, so any camera that is not virtual is taken: \
                     enrol this kiosk's with `facematch cameras --enrol /dev/videoN` (docs/kiosk.md)"
                ),
            }
            if args.allow_virtual_camera {
                log::warn!(
                    "kiosk: virtual cameras and picture folders are taken (--allow-virtual-camera): \
                     for testing only"
                );
            }
            crate::camera::CameraTrust {
                enrolled: file.camera_identity.clone(),
                allow_virtual: args.allow_virtual_camera,
            }
        },
        liveness: match (args.liveness_challenge, args.liveness) {
            (Some(fixed), _) => {
                log::warn!("kiosk: the liveness challenge is fixed to '{fixed}': for recorded sessions only");
                crate::kiosk::liveness_step::LivenessMode::Fixed(fixed)
            }
            (None, args::LivenessArg::On) => crate::kiosk::liveness_step::LivenessMode::Random,
            (None, args::LivenessArg::Off) => {
                log::warn!(
                    "kiosk: liveness is off: a photo held up to the camera is taken as a selfie"
                );
                crate::kiosk::liveness_step::LivenessMode::Off
            }
        },
        screen_colours: crate::kiosk::liveness_step::ScreenColours {
            on: args.screen_colours == args::LivenessArg::On,
            faint: match args.faint_colours {
                args::FaintArg::MovementOnly => crate::liveness::FaintFlash::MovementOnly,
                args::FaintArg::Refuse => crate::liveness::FaintFlash::Refuse,
            },
        },
    };
    let settings = crate::ui::Settings {
        doc_type,
        idle_timeout: std::time::Duration::from_secs(args.idle_timeout),
        operator_pin: file
            .operator_pin
            .map(|stored| crate::kiosk::pin::StaffPin::new(stored, pin_secret)),
        threshold,
        camera,
        // The PIN lock-out is kept beside the saved choices, so a restart does not reset it.
        pin_state_file: args.settings.as_ref().map(|p| p.with_file_name("kiosk-pin-lock.toml")),
        settings_file: args.settings,
        language,
        voice: args.voice == args::LivenessArg::On,
        audio_device: args.audio_device,
        screen_colours: args.screen_colours == args::LivenessArg::On,
    };
    let display = match args.display {
        args::DisplayArg::Auto => crate::ui::Display::Auto,
        args::DisplayArg::Window => crate::ui::Display::Window,
        args::DisplayArg::Kms => crate::ui::Display::Kms,
    };
    crate::ui::run(config, settings, display, args.fullscreen)
        .context("the kiosk cannot start its display")
}

/// `facematch cameras`: the native cameras, one a line; exit 1 (and a line on stderr) when there
/// is none. With `--enrol`, the config line of that camera's identity instead.
#[cfg(feature = "kiosk")]
fn cameras(args: &args::CamerasArgs) -> i32 {
    if let Some(spec) = &args.enrol {
        let identity = match crate::camera::CameraSpec::parse(spec) {
            Ok(crate::camera::CameraSpec::Device(index)) => crate::camera::CameraIdentity::read(
                std::path::Path::new(crate::camera::identity::SYSFS),
                index,
            ),
            Ok(_) => Err(format!("{spec}: name a camera device, /dev/videoN or N")),
            Err(e) => Err(e.to_string()),
        };
        return match identity.and_then(|identity| Ok((identity.config_line()?, identity))) {
            Ok((line, identity)) => {
                if identity.is_virtual() {
                    eprintln!(
                        "facematch: {spec} is {identity}: the kiosk takes it only with --allow-virtual-camera"
                    );
                } else if identity.serial.is_none() {
                    eprintln!(
                        "facematch: {spec} has no serial number: another camera of the same model \
                         in the same USB port would be taken for it"
                    );
                }
                outln!("{line}");
                0
            }
            Err(e) => {
                eprintln!("facematch: cannot enrol {spec}: {e}");
                2
            }
        };
    }
    let found = crate::camera::describe_devices();
    if found.is_empty() {
        eprintln!(
            "facematch: no camera found (is it plugged in, and is this user in the video group?)"
        );
        return 1;
    }
    for line in found {
        outln!("{line}");
    }
    0
}

/// `facematch operator-pin --db`: a PIN on standard input → the config line with its hash,
/// keyed with the secret the kiosk's device key gives.
#[cfg(feature = "kiosk")]
fn operator_pin(store: &args::StoreArgs) -> anyhow::Result<()> {
    use crate::kiosk::pin::{check_new_pin, hash_pin, PinSecret};
    let mut pin = String::new();
    std::io::stdin().read_line(&mut pin)?;
    let pin = pin.trim();
    check_new_pin(pin).map_err(anyhow::Error::msg)?;
    let secret = PinSecret::new(open_store(store)?.derived_secret(PinSecret::PURPOSE));
    outln!("operator_pin = \"{}\"", hash_pin(pin, &secret)?);
    Ok(())
}

/// Opens the store named by the arguments.
fn open_store(args: &args::StoreArgs) -> anyhow::Result<crate::store::Store> {
    use anyhow::Context;
    crate::store::Store::open(&args.db, args.key.as_deref())
        .with_context(|| format!("opening the store {}", args.db.display()))
}

/// The runtime options the engine arguments ask for (`--threads`, `--no-xnnpack`, `--runtime`),
/// shared with the lab's commands so both binaries read these flags alike.
pub fn runtime_options(args: &args::EngineArgs) -> crate::inference::RuntimeOptions {
    let mut options = crate::inference::RuntimeOptions::default();
    if let Some(threads) = args.threads {
        options.threads = threads.max(1);
    }
    options.xnnpack = !args.no_xnnpack;
    if let Some(runtime) = args.runtime {
        options.runtime = runtime;
    }
    options
}

/// Loads the models named by the engine arguments (the lab's commands load them the same way).
///
/// # Errors
/// A model file is missing, does not match its pin, or its runtime cannot load it.
pub fn load_engine(
    args: &args::EngineArgs,
) -> Result<crate::inference::Engine, crate::model_error::ModelError> {
    let dir = crate::inference::models::locate_dir(args.models.as_deref());
    crate::inference::Engine::load(&dir, runtime_options(args))
}

/// Writes a CSV file of `header` and `rows`: the liveness reports of the device and the lab's
/// generated session lists.
///
/// # Errors
/// When the file cannot be written.
pub fn write_csv<const N: usize>(
    path: &std::path::Path,
    header: [&str; N],
    rows: &[[String; N]],
) -> anyhow::Result<()> {
    use anyhow::Context;
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    w.write_record(header)?;
    for r in rows {
        w.write_record(r)?;
    }
    w.flush()?;
    Ok(())
}

/// The kiosk's `--config` file: lines printed by `facematch operator-pin` and
/// `facematch cameras --enrol`.
#[cfg(feature = "kiosk")]
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct KioskFile {
    operator_pin: Option<String>,
    camera_identity: Option<crate::camera::CameraIdentity>,
}

#[cfg(all(test, feature = "kiosk"))]
mod tests {
    use super::KioskFile;
    use crate::camera::CameraIdentity;

    #[test]
    fn the_enrolment_line_is_read_by_the_kiosk_beside_the_pin_line() {
        let own = CameraIdentity {
            card: "HD Webcam C270".into(),
            driver: "uvcvideo".into(),
            usb: Some("046d:0825".into()),
            serial: None,
            port: Some("1-1.2".into()),
        };
        let text = format!("operator_pin = \"keyed:x\"\n{}\n", own.config_line().unwrap());
        let file: KioskFile = toml::from_str(&text).unwrap();
        assert_eq!(file.camera_identity, Some(own));
        assert_eq!(file.operator_pin.as_deref(), Some("keyed:x"));
        // Enrolled twice by appending: a clear parse error, not a silent choice.
        let twice = format!("{text}{}\n", file.camera_identity.unwrap().config_line().unwrap());
        assert!(toml::from_str::<KioskFile>(&twice).is_err());
    }
}
