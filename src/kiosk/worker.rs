//! The kiosk's worker thread: owns the camera sources, the face models and the
//! store; sends previews with guidance while a capture screen is open, and runs
//! and records the verification. No Slint here: `src/ui` talks to it over channels.

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use image::RgbImage;

use super::back_side::{BackCheck, Front};
use super::document_guidance::{self, DocumentGuidance};
use super::flow::Shot;
use super::guidance::AutoCapture;
use super::liveness_step::{
    ChallengeView, Ended, FlashShow, LivenessMode, LivenessStep, ScreenColours,
};
use super::operator_log;
use super::recording::{record_attempt, result_view, verify_and_record, Captures, PreparedSelfie};
use super::result_view::{Failure, ResultView};
use super::session_capture::SessionRecorder;
use crate::camera::{self, CameraSpec, CameraTrust, DocumentSource, FrameSource, Play};
use crate::detection::find_faces;
use crate::domain::{DocumentType, FaceBox, Role};
use crate::inference::{Engine, RuntimeOptions};
use crate::intake::reduced::shrunk;
use crate::matching::Threshold;
use crate::record::attempt::Filming;
use crate::store::Store;
use crate::tr;
use crate::verify::MatchParams;

/// The longest side of a preview frame sent to the screen.
const PREVIEW_SIDE: u32 = 640;

/// What the worker needs to start.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The selfie camera.
    pub camera: CameraSpec,
    /// Where documents come from: the selfie camera, or a source of their own (a scanner's
    /// folder, played newest picture first).
    pub document_source: DocumentSource,
    /// The models folder.
    pub models: PathBuf,
    /// Runtime options.
    pub runtime: RuntimeOptions,
    /// Where to record verifications (None: not recorded).
    pub db: Option<PathBuf>,
    /// The device key for `db`.
    pub key: Option<PathBuf>,
    /// Match threshold.
    pub threshold: Threshold,
    /// Pause between preview frames (a file camera would otherwise spin).
    pub frame_interval: Duration,
    /// The selfie step's liveness challenge.
    pub liveness: LivenessMode,
    /// The screen's colours during the challenge, on this kiosk (staff can turn them off for
    /// one customer: [`ToWorker::ScreenColours`]).
    pub screen_colours: ScreenColours,
    /// Record every liveness attempt's frames here (`kiosk --capture-sessions`).
    pub capture_sessions: Option<PathBuf>,
    /// Which native cameras are taken: the one enrolled at installation, virtual ones only
    /// for testing.
    pub camera_trust: CameraTrust,
}

/// Messages to the worker.
#[derive(Debug)]
pub enum ToWorker {
    /// Preview this source (None: stop previewing).
    Watch(Option<Shot>),
    /// The front just taken: the back step that follows refuses it as the back. Sent before
    /// `Watch(Some(Shot::Back))`; any other `Watch` forgets it.
    BackOf(RgbImage),
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
    /// Whether the screen shows its colours during this customer's challenge (staff turn them
    /// off for a customer whom flashing light troubles). Sent before `Watch(Some(Shot::Selfie))`;
    /// the kiosk's own setting still rules.
    ScreenColours(bool),
    /// Operator setting: the threshold for the next verifications.
    SetThreshold(Threshold),
    /// Operator setting: the selfie camera (and the document camera when documents come from it).
    SetCamera(CameraSpec),
    /// Send the recent log, the sync counts and the camera choices for the operator screen.
    Recent,
    /// Stop the thread.
    Quit,
}

/// Messages from the worker.
#[derive(Debug)]
pub enum FromWorker {
    /// A preview frame of `shot`'s source.
    Preview {
        /// The source.
        shot: Shot,
        /// How many `Watch` messages the worker had received when it took the frame: a
        /// preview from an earlier visit of the same screen (a cancelled session's, still on
        /// its way) is not this one's, and must never be captured.
        visit: u64,
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
        /// The back step still sees the front: the screen asks to turn the document over, and
        /// this frame may not be taken.
        turn_over: bool,
        /// Draw the card-shaped guide: a document held up to the camera (a scanner's page
        /// lies where the scanner puts it).
        card_guide: bool,
        /// The liveness challenge as the screen draws it (selfie only).
        challenge: ChallengeView,
        /// The colours the screen shows while the challenge runs.
        flash: Option<FlashShow>,
    },
    /// The source cannot give a picture.
    CameraProblem {
        /// The source.
        shot: Shot,
        /// Why, for the screen.
        /// Why, in the customer's words (a message id, translated where shown).
        message: &'static str,
        /// The technical reason, for staff and the log (never shown to the customer).
        detail: String,
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
        cameras: Vec<CameraSpec>,
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
        .spawn(move || {
            // A panic ends the worker; the screen sees its channel close and calls staff.
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                work(config, &inbox, &outbox)
            }));
            if let Err(panic) = ran {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                log::error!("kiosk: the worker thread panicked: {what}");
            }
        })
        .expect("spawning the kiosk worker");
    (to_worker, from_worker, handle)
}

fn work(config: WorkerConfig, inbox: &Receiver<ToWorker>, outbox: &Sender<FromWorker>) {
    let mut worker = Worker::start(config, outbox);
    loop {
        match inbox.recv_timeout(worker.wait()) {
            Ok(ToWorker::Quit) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(message) => worker.handle(message),
            Err(RecvTimeoutError::Timeout) => worker.preview(),
        }
    }
}

/// Why a preview frame could not be sent: the customer's words (a message id) and the
/// technical detail for staff and the log (empty when it was logged already).
struct Problem {
    message: &'static str,
    detail: String,
}

impl Problem {
    fn camera_down(detail: String) -> Problem {
        Problem {
            message: tr!("The camera is not working. Please call a member of staff."),
            detail,
        }
    }

    fn check_down(detail: String) -> Problem {
        Problem {
            message: tr!("The face check is not working. Please call a member of staff."),
            detail,
        }
    }
}

/// The worker thread's state between messages and frames.
struct Worker<'a> {
    config: WorkerConfig,
    outbox: &'a Sender<FromWorker>,
    engine: Option<Engine>,
    store: Option<Store>,
    camera: CameraSpec,
    sources: (Source, Option<Source>),
    threshold: Threshold,
    /// The source a capture screen is previewing (None: no capture screen is open).
    watching: Option<Shot>,
    /// The subject's box in the previous preview frame.
    previous: Option<FaceBox>,
    /// The document's automatic capture (steady, ready frames).
    auto: AutoCapture,
    selfie_step: LivenessStep,
    /// The passed liveness attempt of this session's selfie, for its verification's record.
    passed_attempt: Option<i64>,
    /// Staff's choice for this customer: the screen's colours on (true unless turned off).
    colours_for_customer: bool,
    in_hand: SelfieInHand,
    rate: FrameRate,
    /// How many `Watch` messages came so far ([`FromWorker::Preview`]'s `visit`).
    visit: u64,
    /// The front the back step compares against ([`ToWorker::BackOf`]).
    front: Option<Front>,
}

impl<'a> Worker<'a> {
    /// Loads the models and opens the store and the cameras; what fails is logged, and said
    /// on screen when it is needed.
    fn start(config: WorkerConfig, outbox: &'a Sender<FromWorker>) -> Worker<'a> {
        let engine = Engine::load(&config.models, config.runtime)
            .inspect_err(|e| log::error!("kiosk: the face models cannot be loaded: {e}"))
            .ok();
        let store = config.db.as_ref().and_then(|db| {
            Store::open(db, config.key.as_deref())
                .inspect_err(|e| log::error!("kiosk: cannot record verifications: {e}"))
                .ok()
        });
        let mut selfie_step = LivenessStep::default();
        selfie_step.colours = config.screen_colours;
        selfie_step.recorder = config.capture_sessions.clone().map(SessionRecorder::new);
        if let Some(store) = &store {
            selfie_step.remember_failures(recent_failures(store));
        }
        Worker {
            camera: config.camera.clone(),
            sources: open_sources(&config.camera, &config.document_source, &config.camera_trust),
            threshold: config.threshold,
            config,
            outbox,
            engine,
            store,
            watching: None,
            previous: None,
            auto: AutoCapture::default(),
            selfie_step,
            passed_attempt: None,
            colours_for_customer: true,
            in_hand: SelfieInHand::default(),
            rate: FrameRate::default(),
            visit: 0,
            front: None,
        }
    }

    /// How long to wait for a message before the next preview frame.
    fn wait(&self) -> Duration {
        if self.watching.is_some() {
            self.config.frame_interval
        } else {
            Duration::from_secs(3600)
        }
    }

    fn send(&self, message: FromWorker) {
        let _ = self.outbox.send(message);
    }

    /// Handles a message from the screen (`Quit` is the loop's).
    fn handle(&mut self, message: ToWorker) {
        match message {
            ToWorker::Watch(shot) => self.watch(shot),
            ToWorker::BackOf(front) => self.front = self.front_of(&front),
            ToWorker::ScreenColours(on) => {
                self.colours_for_customer = on;
                self.selfie_step.colours.on = self.config.screen_colours.on && on;
            }
            ToWorker::SetThreshold(value) => self.threshold = value,
            ToWorker::SetCamera(spec) => {
                self.sources =
                    open_sources(&spec, &self.config.document_source, &self.config.camera_trust);
                self.camera = spec;
                self.previous = None;
                self.auto = AutoCapture::default();
            }
            ToWorker::Recent => {
                let (rows, mut summary) = operator_log::recent(self.store.as_ref());
                if self.store.is_none() {
                    summary.push_str(&format!(
                        "\nLiveness: {} failed attempts since start",
                        self.selfie_step.failed_total
                    ));
                }
                let cameras = camera::choices(&self.camera);
                self.send(FromWorker::Recent { rows, summary, cameras });
            }
            ToWorker::Verify { doc_type, selfie, front, back } => {
                let view = self.verify(doc_type, selfie, front, back);
                self.send(FromWorker::Verified(Box::new(view)));
            }
            ToWorker::Quit => {}
        }
    }

    /// A capture screen opened for `shot` (None: no capture screen is open).
    fn watch(&mut self, shot: Option<Shot>) {
        self.visit += 1;
        if shot.is_none() {
            if let Ok(camera) = &mut self.sources.0 {
                camera.pause();
            }
        }
        if shot == Some(Shot::Selfie) {
            self.passed_attempt = None;
        }
        if shot != Some(Shot::Back) {
            self.front = None;
        }
        self.in_hand.screen(shot, self.engine.as_mut(), self.store.is_some());
        self.watching = shot;
        self.previous = None;
        self.auto = AutoCapture::default();
        self.selfie_step.reset();
    }

    /// What the back step compares against `front`: None without models (the verification
    /// says so) or, logged, when they fail; the session's flow still refuses the front's very
    /// pixels as the back.
    fn front_of(&mut self, front: &RgbImage) -> Option<Front> {
        let engine = self.engine.as_mut()?;
        let faces = find_faces(&mut engine.detector, front, Role::Document(DocumentType::Gov));
        faces
            .and_then(|faces| Front::new(front, &faces, &mut engine.embedder))
            .inspect_err(|e| log::error!("kiosk: the front could not be analysed: {e}"))
            .ok()
    }

    /// Verifies and records the captured pictures; the result screen's view.
    fn verify(
        &mut self,
        doc_type: DocumentType,
        selfie: RgbImage,
        front: RgbImage,
        back: Option<RgbImage>,
    ) -> ResultView {
        // For this verification only, then let go of.
        let in_hand = std::mem::take(&mut self.in_hand);
        let threshold = self.threshold;
        let Some(engine) = self.engine.as_mut() else {
            // No models: the session ends on a result screen that says so, not on "Processing".
            return ResultView::failure(Failure::Models, selfie, front, threshold);
        };
        if self.config.db.is_some() && self.store.is_none() {
            // A log was asked for and could not be opened: no verdict without a record.
            return ResultView::failure(Failure::NotRecorded, selfie, front, threshold);
        }
        let params = MatchParams { doc_type, threshold };
        let mut captures = Captures::from_frames(selfie, front, back);
        captures.liveness_attempt = self.passed_attempt.take();
        let outcome = verify_and_record(
            &mut engine.detector,
            &mut engine.embedder,
            self.store.as_mut(),
            params,
            &captures,
            in_hand.prepared.as_ref(),
        );
        result_view(outcome, captures, params)
    }

    /// Sends the watched source's next frame with its guidance, or the problem that stops it.
    fn preview(&mut self) {
        let Some(shot) = self.watching else { return };
        match self.next_preview(shot) {
            Ok(preview) => self.send(preview),
            Err(Problem { message, detail }) => {
                if !detail.is_empty() {
                    log::warn!("kiosk: {detail}");
                }
                self.send(FromWorker::CameraProblem { shot, message, detail });
            }
        }
    }

    fn next_preview(&mut self, shot: Shot) -> Result<FromWorker, Problem> {
        let Some(engine) = self.engine.as_mut() else {
            return Err(Problem::check_down("the face models could not be loaded".into()));
        };
        let source = match (shot, &mut self.sources) {
            (Shot::Selfie, (camera, _)) | (_, (camera, None)) => camera,
            (_, (_, Some(scanner))) => scanner,
        };
        let unavailable =
            |e: &dyn std::fmt::Display| Problem::camera_down(format!("camera unavailable: {e}"));
        let source = source.as_mut().map_err(|e| unavailable(e))?;
        let mut frame = source.next_frame().map_err(|e| unavailable(&e))?;
        // The screen's colours are timed against this: the moment the frame came.
        let taken = Instant::now();
        let role =
            if shot == Shot::Selfie { Role::Selfie } else { Role::Document(DocumentType::Gov) };
        let faces = find_faces(&mut engine.detector, &frame, role).map_err(|e| {
            // A model failure is not "no face": the customer is told to get help.
            log::error!("kiosk: face detection failed: {e}");
            Problem::check_down(String::new())
        })?;
        // From the camera a card is taken by itself once it is good; from a scanner with the
        // button (the page lies still, the customer decides when it is placed).
        let document_from_camera = shot != Shot::Selfie && self.sources.1.is_none();
        let fps = self.rate.tick();
        if self.rate.report_due() {
            log::info!(
                "kiosk: preview {fps:.1} frames/s ({shot:?}, {}x{})",
                frame.width(),
                frame.height()
            );
        }
        let mut challenge = ChallengeView::default();
        let mut flash = None;
        let back = match (&self.front, shot) {
            (Some(front), Shot::Back) => {
                Some(front.check(&frame, &faces, &mut engine.embedder).map_err(|e| {
                    log::error!("kiosk: the back could not be compared with the front: {e}");
                    Problem::check_down(String::new())
                })?)
            }
            (None, Shot::Back) => Some(BackCheck::New),
            _ => None,
        };
        let (text, take) = if shot == Shot::Selfie {
            let out = self
                .selfie_step
                .frame(
                    &self.config.liveness,
                    &frame,
                    taken,
                    &faces,
                    self.previous,
                    fps,
                    &mut engine.embedder,
                )
                .map_err(|e| {
                    log::error!("kiosk: the liveness check failed: {e}");
                    Problem::check_down(String::new())
                })?;
            challenge = out.view;
            flash = out.flash;
            if let Some(ended) = out.ended {
                let filming = Filming {
                    camera: self.sources.0.as_ref().ok().and_then(|c| c.origin()),
                    screen_colours_off: if !self.config.screen_colours.on {
                        Some("off_on_this_kiosk")
                    } else if !self.colours_for_customer {
                        Some("off_for_this_customer")
                    } else {
                        None
                    },
                };
                if let Some(id) = record_ended(self.store.as_mut(), &ended, filming) {
                    self.passed_attempt = Some(id);
                }
            }
            let take = out.selfie.map(|selfie| frame = selfie);
            (out.text, take.is_some())
        } else if let Some(text) =
            back.and_then(|b| document_guidance::back_text(b, &faces, document_from_camera))
        {
            // Not a ready frame: a run of them toward the automatic capture starts again.
            self.auto.update(false);
            (text, false)
        } else {
            let g = document_guidance::assess(&faces, &frame, self.previous);
            let ready = g == DocumentGuidance::Ready && document_from_camera;
            (g.text(document_from_camera), self.auto.update(ready))
        };
        let turn_over = matches!(back, Some(BackCheck::SamePicture | BackCheck::FrontAgain));
        self.previous = faces.first().map(|f| f.bbox);
        let preview = shrunk(&frame, PREVIEW_SIDE).into_owned();
        let full = Arc::new(frame);
        if shot == Shot::Selfie {
            self.in_hand.saw(&full, take);
        }
        Ok(FromWorker::Preview {
            shot,
            visit: self.visit,
            preview,
            full,
            face: if turn_over { None } else { self.previous },
            guidance: text,
            take,
            turn_over,
            card_guide: document_from_camera,
            challenge,
            flash,
        })
    }
}

/// Logs an ended liveness attempt and records it in `store`, with how it was filmed; the id of
/// a passed one recorded, which its verification's record names.
fn record_ended(store: Option<&mut Store>, ended: &Ended, filming: Filming) -> Option<i64> {
    let r = &ended.report;
    log::info!(
        "kiosk: liveness attempt ended ({}): challenge '{}', parallax {:.3}, {} of {} frames with a face",
        r.outcome.err().map_or("passed", |f| f.code()),
        r.challenge,
        r.parallax,
        r.face_frames,
        r.frames
    );
    if r.movement_only {
        log::warn!(
            "kiosk: the screen's colours were too faint on the face (a bright room, or a face \
             far from the screen): the movement test alone decided this attempt"
        );
    }
    match record_attempt(store?, r, ended.frame.as_ref(), filming) {
        Ok(id) if r.live() => Some(id),
        Ok(_) => None,
        Err(e) => {
            log::error!("kiosk: the liveness attempt was not recorded: {e}");
            None
        }
    }
}

/// How long ago the failed liveness attempts within the limit's window happened, from the log.
fn recent_failures(store: &Store) -> Vec<Duration> {
    let now = crate::store::now_ms();
    let window = super::liveness_step::FAILURE_WINDOW.as_millis() as i64;
    store.failed_attempt_times_since(now - window).map_or_else(
        |e| {
            log::warn!("kiosk: the recent liveness failures cannot be read: {e}");
            Vec::new()
        },
        |times| times.iter().map(|t| Duration::from_millis((now - t).max(0) as u64)).collect(),
    )
}

/// The preview's measured frame rate, which the liveness time limits are counted in.
#[derive(Debug, Default)]
struct FrameRate {
    last: Option<std::time::Instant>,
    fps: Option<f32>,
    /// When the rate was last written to the log.
    reported: Option<std::time::Instant>,
}

impl FrameRate {
    /// Counts a frame now; returns the smoothed rate (10 frames/s until measured).
    fn tick(&mut self) -> f32 {
        let now = std::time::Instant::now();
        if let Some(last) = self.last {
            let instant = 1.0 / now.duration_since(last).as_secs_f32().max(1e-3);
            self.fps = Some(self.fps.map_or(instant, |f| 0.8 * f + 0.2 * instant));
        }
        self.last = Some(now);
        self.fps.unwrap_or(10.0).clamp(2.0, 60.0)
    }

    /// Whether the rate is measured and was not logged in the last 10 s (staff and the
    /// emulated-Pi check read it from the log); counts it as logged now.
    fn report_due(&mut self) -> bool {
        let now = std::time::Instant::now();
        let due = self.fps.is_some()
            && self.reported.is_none_or(|at| now.duration_since(at) >= Duration::from_secs(10));
        if due {
            self.reported = Some(now);
        }
        due
    }
}

/// The selfie the screen most likely took, and its analysis made ahead of the verification
/// ([`PreparedSelfie`]: used only if the verification's selfie has the very same pixels).
#[derive(Debug, Default)]
struct SelfieInHand {
    /// The frame sent with "take", else the latest selfie frame sent (the button takes that).
    frame: Option<Arc<RgbImage>>,
    taken: bool,
    prepared: Option<PreparedSelfie>,
}

impl SelfieInHand {
    /// A selfie frame was sent to the screen, to be taken by itself if `take`.
    fn saw(&mut self, frame: &Arc<RgbImage>, take: bool) {
        if !self.taken {
            self.frame = Some(Arc::clone(frame));
            self.taken = take;
        }
    }

    /// A screen opened that captures `shot` (None: nothing). The customer turning to the
    /// document is when the selfie's share of the match is done, not after the document's
    /// capture. A new selfie, or no capture screen open (a result, the welcome screen, a
    /// cancelled session), lets the last one go: the customer's selfie is not kept here.
    fn screen(&mut self, shot: Option<Shot>, engine: Option<&mut Engine>, for_log: bool) {
        match (shot, engine) {
            (Some(Shot::Front | Shot::Back), Some(engine)) => self.prepare(engine, for_log),
            (Some(Shot::Front | Shot::Back), None) => {}
            (Some(Shot::Selfie) | None, _) => *self = SelfieInHand::default(),
        }
    }

    /// Analyses (and, for a log, encodes) the frame in hand, once.
    fn prepare(&mut self, engine: &mut Engine, for_log: bool) {
        let Some(frame) = self.frame.take() else { return };
        let pixels = Arc::unwrap_or_clone(frame);
        let prepared =
            PreparedSelfie::prepare(&mut engine.detector, &mut engine.embedder, pixels, for_log);
        // A failure here is met again, and reported, by the verification itself.
        self.prepared = prepared
            .inspect_err(|e| log::warn!("kiosk: the selfie could not be prepared: {e}"))
            .ok();
    }
}

type Source = Result<Box<dyn FrameSource>, camera::CameraError>;

/// The camera, and the scanner's folder when documents do not come from the camera
/// (one device is opened once: the document screens then share the selfie camera).
/// The selfie camera and the document source, as `trust` admits them. The enrolled camera is
/// the selfie camera's (the liveness check films through it); a document camera of its own is
/// only refused when virtual.
fn open_sources(
    camera: &CameraSpec,
    document_source: &DocumentSource,
    trust: &CameraTrust,
) -> (Source, Option<Source>) {
    let document_trust = CameraTrust { enrolled: None, ..trust.clone() };
    let scanner = match document_source {
        DocumentSource::SelfieCamera => None,
        DocumentSource::Own(spec) => Some(camera::open(spec, Play::Newest, &document_trust)),
    };
    let selfie = match (camera, trust.admit_folder()) {
        (CameraSpec::Folder(_), Err(refused)) => Err(camera::CameraError::Unsupported(refused)),
        _ => camera::open(camera, Play::Loop, trust),
    };
    (selfie, scanner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preview_rate_is_logged_once_measured_then_every_ten_seconds() {
        let mut rate = FrameRate::default();
        rate.tick();
        assert!(!rate.report_due(), "one frame measures no rate");
        rate.tick();
        assert!(rate.report_due());
        rate.tick();
        assert!(!rate.report_due(), "not again within ten seconds");
        if let Some(earlier) = std::time::Instant::now().checked_sub(Duration::from_secs(11)) {
            rate.reported = Some(earlier);
            assert!(rate.report_due());
        }
    }

    #[test]
    fn the_selfie_in_hand_is_the_taken_frame_kept_only_while_capture_screens_are_open() {
        let frame = |v| Arc::new(RgbImage::from_pixel(4, 4, image::Rgb([v; 3])));
        let mut hand = SelfieInHand::default();
        hand.saw(&frame(1), false);
        assert_eq!(hand.frame.as_deref(), Some(&*frame(1)), "the latest, which the button takes");
        hand.saw(&frame(2), true);
        // Frames sent after the taken one, before the screen moved on, are not the selfie.
        hand.saw(&frame(3), false);
        assert_eq!(hand.frame.as_deref(), Some(&*frame(2)));
        // Without models nothing is prepared, and the frame stays for the verification.
        hand.screen(Some(Shot::Front), None, true);
        assert_eq!(hand.frame.as_deref(), Some(&*frame(2)));
        // Once no capture screen is open, the selfie is let go of.
        hand.screen(None, None, true);
        assert!(hand.frame.is_none() && hand.prepared.is_none() && !hand.taken);
        hand.saw(&frame(4), true);
        hand.screen(Some(Shot::Selfie), None, true);
        assert!(hand.frame.is_none(), "a new selfie step starts empty");
    }
}
