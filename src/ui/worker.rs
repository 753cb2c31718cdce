//! The kiosk's worker thread: owns the camera sources, the face models and the
//! store; sends previews with guidance while a capture screen is open, and runs
//! and records the verification.

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use image::RgbImage;

use crate::camera::{self, FrameSource, Play};
use crate::contract::{MatchAnswer, MatchRequest};
use crate::detection::find_faces;
use crate::domain::{DocumentType, FaceBox, Picture, PictureFormat, Role};
use crate::inference::{Engine, RuntimeOptions};
use crate::kiosk::flow::Shot;
use crate::kiosk::guidance::{assess, AutoCapture, Guidance};
use crate::record::{new_verification, RequestMedia};
use crate::store::Store;
use crate::verify::{verify, FaceAnalysis, MatchParams, Pictures, Verification};

/// What the worker needs to start.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The selfie camera: `/dev/videoN`, `N`, `auto` or `dir:FOLDER`.
    pub camera: String,
    /// The document source: `camera` (the same camera) or `dir:FOLDER` (newest picture, a scanner).
    pub document_source: String,
    /// The models folder.
    pub models: PathBuf,
    /// Runtime options.
    pub runtime: RuntimeOptions,
    /// Where to record verifications (None: not recorded).
    pub db: Option<PathBuf>,
    /// The device key for `db`.
    pub key: Option<PathBuf>,
    /// Match threshold in percent.
    pub threshold: f64,
    /// Pause between preview frames (a file camera would otherwise spin).
    pub frame_interval: Duration,
}

/// Messages to the worker.
#[derive(Debug)]
pub enum ToWorker {
    /// Preview this source (None: stop previewing).
    Watch(Option<Shot>),
    /// Verify and record these pictures.
    Verify {
        /// Document type.
        doc_type: DocumentType,
        /// Selfie.
        selfie: RgbImage,
        /// Front.
        front: RgbImage,
        /// Back.
        back: Option<RgbImage>,
    },
    /// Operator setting: the threshold for the next verifications.
    SetThreshold(f64),
    /// Operator setting: the selfie camera (and the document camera when documents come from it).
    SetCamera(String),
    /// Send the recent log, the sync counts and the camera choices for the operator screen.
    Recent,
    /// Stop the thread.
    Quit,
}

/// What the result screen shows.
#[derive(Debug, Clone)]
pub struct ResultView {
    /// The verdict.
    pub matched: bool,
    /// The verdict in a customer's words.
    pub verdict: String,
    /// "Match 96.7 %" or empty.
    pub percent: String,
    /// "Needed: 85 %".
    pub threshold_text: String,
    /// Why a picture could not be used, or empty.
    pub reason: String,
    /// The selfie and its face box.
    pub selfie: RgbImage,
    /// Selfie face box.
    pub selfie_face: Option<FaceBox>,
    /// The document side shown and its face box.
    pub document: RgbImage,
    /// Document face box.
    pub document_face: Option<FaceBox>,
    /// Offer "Retake selfie".
    pub retake_selfie: bool,
    /// Offer "Retake document".
    pub retake_document: bool,
}

/// Messages from the worker.
#[derive(Debug)]
pub enum FromWorker {
    /// A preview frame of `shot`'s source.
    Preview {
        /// The source.
        shot: Shot,
        /// Downscaled for the screen.
        preview: RgbImage,
        /// Full resolution, what a capture takes.
        full: Arc<RgbImage>,
        /// The subject's box in `full`.
        face: Option<FaceBox>,
        /// The guidance line.
        guidance: &'static str,
        /// Take the picture now (steady, ready frames).
        take: bool,
    },
    /// The source cannot give a picture.
    CameraProblem {
        /// The source.
        shot: Shot,
        /// Why, for the screen.
        message: String,
    },
    /// The verification finished and was recorded.
    Verified(Box<ResultView>),
    /// The last 20 verifications, the sync counts and the cameras, for the operator screen.
    Recent {
        /// One line per verification, newest first.
        rows: Vec<String>,
        /// Sync counts in one line.
        summary: String,
        /// The cameras to choose from, the current one first.
        cameras: Vec<String>,
    },
}

/// Starts the worker; returns its inbox, its outbox and its handle.
pub fn spawn_worker(
    config: WorkerConfig,
) -> (Sender<ToWorker>, Receiver<FromWorker>, JoinHandle<()>) {
    let (to_worker, inbox) = channel();
    let (outbox, from_worker) = channel();
    let handle = std::thread::Builder::new()
        .name("kiosk-worker".into())
        .spawn(move || work(config, &inbox, &outbox))
        .expect("spawning the kiosk worker");
    (to_worker, from_worker, handle)
}

fn work(config: WorkerConfig, inbox: &Receiver<ToWorker>, outbox: &Sender<FromWorker>) {
    let problem = |shot, message: String| {
        let _ = outbox.send(FromWorker::CameraProblem { shot, message });
    };
    let mut engine = match Engine::load(&config.models, config.runtime) {
        Ok(e) => Some(e),
        Err(e) => {
            eprintln!("kiosk: {e}");
            None
        }
    };
    let mut store =
        config.db.as_ref().and_then(|db| match Store::open(db, config.key.as_deref()) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("kiosk: cannot record verifications: {e}");
                None
            }
        });
    let mut current_camera = config.camera.clone();
    let mut sources = open_sources(&current_camera, &config.document_source);
    let mut threshold = config.threshold;
    let mut watching: Option<Shot> = None;
    let mut previous: Option<FaceBox> = None;
    let mut auto = AutoCapture::default();
    loop {
        let wait =
            if watching.is_some() { config.frame_interval } else { Duration::from_secs(3600) };
        match inbox.recv_timeout(wait) {
            Ok(ToWorker::Quit) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(ToWorker::Watch(shot)) => {
                if shot.is_none() {
                    if let Ok(camera) = &mut sources.0 {
                        camera.pause();
                    }
                }
                watching = shot;
                previous = None;
                auto = AutoCapture::default();
                continue;
            }
            Ok(ToWorker::SetThreshold(value)) => {
                threshold = value;
                continue;
            }
            Ok(ToWorker::SetCamera(spec)) => {
                current_camera = spec;
                sources = open_sources(&current_camera, &config.document_source);
                previous = None;
                auto = AutoCapture::default();
                continue;
            }
            Ok(ToWorker::Recent) => {
                let (rows, summary) = recent(store.as_ref());
                let cameras = camera::choices(&current_camera);
                let _ = outbox.send(FromWorker::Recent { rows, summary, cameras });
                continue;
            }
            Ok(ToWorker::Verify { doc_type, selfie, front, back }) => {
                let Some(engine) = engine.as_mut() else {
                    problem(Shot::Selfie, "The face models could not be loaded: call staff".into());
                    continue;
                };
                let view = verify_and_record(
                    engine,
                    store.as_mut(),
                    threshold,
                    doc_type,
                    selfie,
                    front,
                    back,
                );
                let _ = outbox.send(FromWorker::Verified(Box::new(view)));
                continue;
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        let Some(shot) = watching else { continue };
        let Some(engine) = engine.as_mut() else {
            problem(shot, "The face models could not be loaded: call staff".into());
            continue;
        };
        let source = match (shot, &mut sources) {
            (Shot::Selfie, (camera, _)) | (_, (camera, None)) => camera,
            (_, (_, Some(scanner))) => scanner,
        };
        let source = match source {
            Ok(source) => source,
            Err(e) => {
                problem(shot, format!("Camera unavailable: {e}"));
                continue;
            }
        };
        let frame = match source.next_frame() {
            Ok(frame) => frame,
            Err(e) => {
                problem(shot, format!("Camera unavailable: {e}"));
                continue;
            }
        };
        let role =
            if shot == Shot::Selfie { Role::Selfie } else { Role::Document(DocumentType::Gov) };
        let faces = find_faces(&mut engine.detector, &frame, role).unwrap_or_default();
        let (guidance, take) = if shot == Shot::Selfie {
            let g = assess(&faces, &frame, previous);
            (g, auto.update(g))
        } else {
            // Documents are taken with the button: the face on a card is small by design.
            (if faces.is_empty() { Guidance::LookAtCamera } else { Guidance::Ready }, false)
        };
        let text = match (shot, guidance) {
            (Shot::Selfie, g) => g.text(),
            (_, Guidance::Ready) => "Photo found on the document: take the picture",
            _ => "Hold the document in the frame, photo side up",
        };
        previous = faces.first().map(|f| f.bbox);
        let preview = downscale(&frame, 640);
        let full = Arc::new(frame);
        let _ = outbox.send(FromWorker::Preview {
            shot,
            preview,
            full,
            face: previous,
            guidance: text,
            take,
        });
    }
}

type Source = Result<Box<dyn FrameSource>, camera::CameraError>;

/// The camera, and the scanner's folder when documents do not come from the camera
/// (one device is opened once: the document screens then share the selfie camera).
fn open_sources(camera: &str, document_source: &str) -> (Source, Option<Source>) {
    let scanner =
        (document_source != "camera").then(|| camera::open(document_source, Play::Newest));
    (camera::open(camera, Play::Loop), scanner)
}

/// The operator screen's log lines and sync summary.
fn recent(store: Option<&Store>) -> (Vec<String>, String) {
    let Some(store) = store else {
        return (
            vec!["No log: start the kiosk with --db FILE to record verifications".into()],
            String::new(),
        );
    };
    let rows = match store.list_verifications(20) {
        Ok(records) => records
            .iter()
            .map(|r| {
                let pct = r.front_percent.map_or("-".to_string(), |p| format!("{p:.1}"));
                format!(
                    "#{:<5} {:<9} {:<17} {:>6} %  {}",
                    r.id,
                    r.doc_type,
                    r.status,
                    pct,
                    r.sync_state.as_deref().unwrap_or("-")
                )
            })
            .collect(),
        Err(e) => vec![format!("The log cannot be read: {e}")],
    };
    let summary = store.sync_counts().map_or(String::new(), |c| {
        format!(
            "Sync: {} pending, {} synced, {} parked, {} disagreements",
            c.pending, c.synced, c.parked, c.disagreement
        )
    });
    (rows, summary)
}

fn downscale(frame: &RgbImage, max_side: u32) -> RgbImage {
    let (w, h) = frame.dimensions();
    if w.max(h) <= max_side {
        return frame.clone();
    }
    let scale = max_side as f32 / w.max(h) as f32;
    image::imageops::thumbnail(frame, (w as f32 * scale) as u32, (h as f32 * scale) as u32)
}

fn verify_and_record(
    engine: &mut Engine,
    store: Option<&mut Store>,
    threshold: f64,
    doc_type: DocumentType,
    selfie: RgbImage,
    front: RgbImage,
    back: Option<RgbImage>,
) -> ResultView {
    let started = Instant::now();
    let picture = |pixels: RgbImage| Picture { pixels, format: PictureFormat::Jpeg };
    let (src, front_p, back_p) = (picture(selfie), picture(front), back.map(picture));
    let params = MatchParams { doc_type, threshold };
    let pictures = Pictures { src: &src, front: &front_p, back: back_p.as_ref() };
    let verification = match verify(&mut engine.detector, &mut engine.embedder, pictures, params) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("kiosk: inference failed: {e}");
            return failure_view(src.pixels, front_p.pixels, threshold);
        }
    };
    if let Some(store) = store {
        if let Err(e) =
            record(store, &verification, params, [&src, &front_p], back_p.as_ref(), started)
        {
            eprintln!("kiosk: the verification could not be recorded: {e}");
        }
    }
    view(&verification, src.pixels, front_p.pixels, back_p.map(|b| b.pixels))
}

fn record(
    store: &mut Store,
    verification: &Verification,
    params: MatchParams,
    [src, front]: [&Picture; 2],
    back: Option<&Picture>,
    started: Instant,
) -> Result<i64, crate::store::StoreError> {
    let save = |store: &Store, p: &Picture, name: &str| {
        let mut jpeg = Vec::new();
        let _ = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 92)
            .encode_image(&p.pixels);
        store.insert_media(None, name, "image/jpeg", &jpeg)
    };
    let media = RequestMedia {
        src: Some(save(store, src, "kiosk-selfie.jpg")?),
        front: Some(save(store, front, "kiosk-front.jpg")?),
        back: back.map(|b| save(store, b, "kiosk-back.jpg")).transpose()?,
    };
    let request = MatchRequest {
        src: Some("kiosk camera".into()),
        target_front: Some("kiosk document".into()),
        target_back: back.map(|_| "kiosk document back".into()),
        doc_type: Some(params.doc_type.as_str().into()),
        threshold: Some(params.threshold.into()),
    };
    let answer = MatchAnswer::Processed(Box::new(verification.response()));
    let entry = new_verification(
        None,
        &request,
        params,
        &answer,
        Some(verification),
        media,
        started.elapsed(),
    );
    store.record_verification(&entry)
}

/// The result screen for a verification, in a customer's words.
pub fn view(
    v: &Verification,
    selfie: RgbImage,
    front: RgbImage,
    back: Option<RgbImage>,
) -> ResultView {
    // Show the document side that matched best (the back only when it carried the match).
    let back_better = matches!((v.back_score, v.front_score), (Some(b), f) if f.is_none_or(|f| b.percent > f.percent));
    let (document, document_analysis) = match (back, &v.back) {
        (Some(b), Some(a)) if back_better => (b, a),
        _ => (front, &v.front),
    };
    let face = |a: &FaceAnalysis| a.subject().map(|f| f.bbox);
    let (verdict, reason, retake_selfie, retake_document) = if v.matched {
        ("Identity confirmed: it's a match".to_string(), String::new(), false, false)
    } else if let Some(problem) = v.src.problem() {
        (
            "We could not use your photo".to_string(),
            format!("Your photo: {problem}. Please try again."),
            true,
            false,
        )
    } else if let Some(problem) =
        v.front.problem().filter(|_| v.back.as_ref().is_none_or(|b| !b.valid()))
    {
        (
            "We could not read the photo on your document".to_string(),
            format!("Document: {problem}."),
            false,
            true,
        )
    } else {
        (
            "The faces do not match".to_string(),
            "Please see a member of staff.".to_string(),
            true,
            true,
        )
    };
    ResultView {
        matched: v.matched,
        verdict,
        percent: v.best_score().map(|s| format!("Match {:.1} %", s.percent)).unwrap_or_default(),
        threshold_text: format!("Needed: {:.0} %", v.params.threshold),
        reason,
        selfie_face: face(&v.src),
        selfie,
        document_face: face(document_analysis),
        document,
        retake_selfie,
        retake_document,
    }
}

fn failure_view(selfie: RgbImage, document: RgbImage, threshold: f64) -> ResultView {
    ResultView {
        matched: false,
        verdict: "Something went wrong".into(),
        percent: String::new(),
        threshold_text: format!("Needed: {threshold:.0} %"),
        reason: "The check could not run. Please see a member of staff.".into(),
        selfie,
        selfie_face: None,
        document,
        document_face: None,
        retake_selfie: false,
        retake_document: false,
    }
}
