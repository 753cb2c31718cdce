//! `facematch-lab kiosk-fps`: how many preview frames a second the kiosk's worker delivers on
//! this machine, the figure the kiosk session test used to print. The worker
//! ([`facematch::kiosk::worker`], no screen) runs with folder cameras as the kiosk does with
//! `dir:` sources: the selfie camera plays a generated bona fide session while the liveness
//! challenge is asked (detection, point tracking and the session's rules on every frame), the
//! scanner holds a synthetic card (the 640 detector on every frame). One JSON object.

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use facematch::camera::{CameraSpec, DocumentSource};
use facematch::detection::find_faces;
use facematch::domain::Role;
use facematch::kiosk::flow::Shot;
use facematch::kiosk::liveness_step::LivenessMode;
use facematch::kiosk::worker::{spawn_worker, FromWorker, ToWorker, WorkerConfig};
use facematch::liveness::Challenge;
use facematch::matching::Threshold;
use serde::Serialize;

use super::args::KioskFpsArgs;
use super::{load_engine, print_json};
use crate::synthetic_card::{encode_jpeg, portrait_crop, print_card};
use crate::synthetic_session::{generate, Species};

/// The printed figures.
#[derive(Debug, Serialize)]
struct KioskFps {
    /// The inference runtime.
    runtime: &'static str,
    /// Selfie previews a second during the liveness challenge (640×480 folder camera).
    selfie_fps: f64,
    /// Document previews a second (a scanner folder holding one card, 640 detector).
    document_fps: f64,
    /// Previews counted on each screen.
    frames: usize,
    /// The worker's pause between frames, ms.
    frame_interval_ms: u64,
}

/// Runs the command.
///
/// # Errors
/// A missing photo, no face in it, an unwritable temporary folder, or a worker that stops
/// sending previews.
pub fn run(args: &KioskFpsArgs) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("facematch-kiosk-fps-{}", std::process::id()));
    let result = measure(args, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    print_json(&result?);
    Ok(())
}

fn measure(args: &KioskFpsArgs, dir: &std::path::Path) -> Result<KioskFps> {
    let (camera, scanner) = (dir.join("camera"), dir.join("scanner"));
    for d in [&camera, &scanner] {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let mut engine = load_engine(&args.engine).context("loading the face models")?;
    let photo = |n: u32| -> Result<_> {
        let file = args.faces.join(&args.person).join(format!("{n}.jpg"));
        let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        let picture = facematch::intake::decode(&bytes)
            .with_context(|| format!("decoding {}", file.display()))?;
        Ok(picture.pixels)
    };
    // The camera: a bona fide session doing the challenge, after a still start (as the test had).
    let challenge: Challenge = "left up right".parse().map_err(anyhow::Error::msg)?;
    let selfie = photo(1)?;
    let subject = *find_faces(&mut engine.detector, &selfie, Role::Selfie)?
        .first()
        .context("no face in the selfie photo")?;
    let session = generate(&selfie, &subject, Species::BonaFide, &challenge, 3);
    let still = std::iter::repeat_n(&session.frames[0], 12);
    for (i, frame) in still.chain(&session.frames).enumerate() {
        std::fs::write(camera.join(format!("{i:03}.jpg")), encode_jpeg(frame, 90))?;
    }
    // The scanner: a card printed with another photo of the same person.
    let card_photo = photo(2)?;
    let face = *find_faces(&mut engine.detector, &card_photo, Role::Selfie)?
        .first()
        .context("no face in the card's photo")?;
    std::fs::write(
        scanner.join("card.jpg"),
        print_card(&portrait_crop(&card_photo, &face.bbox), 3),
    )?;
    let runtime = engine.runtime.name();
    drop(engine);

    let config = WorkerConfig {
        camera: CameraSpec::Folder(camera.clone()),
        document_source: DocumentSource::Own(CameraSpec::Folder(scanner.clone())),
        models: facematch::inference::models::locate_dir(args.engine.models.as_deref()),
        runtime: facematch::cli::runtime_options(&args.engine),
        db: None,
        key: None,
        threshold: Threshold::DEFAULT,
        frame_interval: Duration::from_millis(args.frame_interval_ms),
        liveness: LivenessMode::Fixed(challenge),
        capture_sessions: None,
        camera_trust: Default::default(),
        screen_colours: Default::default(),
    };
    let (to_worker, from_worker, worker) = spawn_worker(config);
    let rate = |shot: Shot| -> Result<f64> {
        to_worker.send(ToWorker::Watch(Some(shot))).context("the worker stopped")?;
        // The first preview comes after the models load: the clock starts there.
        previews(&from_worker, shot, 1)?;
        let started = Instant::now();
        previews(&from_worker, shot, args.frames)?;
        Ok(args.frames as f64 / started.elapsed().as_secs_f64())
    };
    let selfie_fps = rate(Shot::Selfie)?;
    let document_fps = rate(Shot::Front)?;
    let _ = to_worker.send(ToWorker::Quit);
    let _ = worker.join();
    let round = |x: f64| (x * 10.0).round() / 10.0;
    Ok(KioskFps {
        runtime,
        selfie_fps: round(selfie_fps),
        document_fps: round(document_fps),
        frames: args.frames,
        frame_interval_ms: args.frame_interval_ms,
    })
}

/// Waits for `n` previews of `shot`.
fn previews(from_worker: &Receiver<FromWorker>, shot: Shot, n: usize) -> Result<()> {
    let mut seen = 0;
    while seen < n {
        match from_worker.recv_timeout(Duration::from_secs(60)) {
            Ok(FromWorker::Preview { shot: s, .. }) if s == shot => seen += 1,
            Ok(FromWorker::CameraProblem { detail, message, .. }) => {
                bail!("the worker's camera: {message} ({detail})")
            }
            Ok(_) => {}
            Err(e) => bail!("no preview from the kiosk's worker: {e}"),
        }
    }
    Ok(())
}
