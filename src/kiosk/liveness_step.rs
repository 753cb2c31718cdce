//! The selfie step with liveness: once the face is framed, a random head-movement challenge
//! runs on the live frames ([`crate::liveness`]); only a passed attempt gives the selfie.
//! A failed attempt is an answer in the customer's words, retried at most twice, then staff
//! are asked for.

use crate::tr;
use std::time::{Duration, Instant};

use image::RgbImage;

use super::guidance::{assess, AutoCapture, Guidance};
use super::session_capture::SessionRecorder;
use crate::domain::{Face, FaceBox};
use crate::embedding::Embedder;
use crate::liveness::flash::{FlashRefusal, FlashSequence};
use crate::liveness::{Attempt, Challenge, Direction, Failure, FaintFlash, Report, Stage};
use crate::model_error::ModelError;

/// Attempts after the first before staff are asked for.
pub const MAX_RETRIES: u32 = 2;
/// How long a failed attempt's message stays before the next attempt starts.
pub const FAILURE_PAUSE: Duration = Duration::from_millis(2500);
/// Failed attempts on this kiosk within [`FAILURE_WINDOW`], across sessions, after which staff
/// are asked for until the window clears: starting new sessions must not buy an attacker with
/// a recorded video more tries (AWS's advice is 5 per 3 minutes).
pub const MAX_RECENT_FAILURES: usize = 5;
/// The window [`MAX_RECENT_FAILURES`] counts in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(180);

/// Whether and how the selfie step proves liveness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LivenessMode {
    /// No challenge: the selfie is taken once the face is steady (a staffed desk's choice).
    Off,
    /// A random challenge per attempt (the default).
    Random,
    /// Always this challenge: only for playing recorded sessions (a fixed order lets a
    /// replayed video through).
    Fixed(Challenge),
}

/// How long after an attempt starts the screen's first colour comes on: the screen learns of
/// the attempt from the worker a moment later, and every colour must be shown in full.
pub const FLASH_LEAD: Duration = Duration::from_millis(300);

/// Whether the screen lights the face with colours during the challenge, and what becomes of
/// an attempt on which they are too faint to tell anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenColours {
    /// The screen shows the colours (off: the movement test alone decides).
    pub on: bool,
    /// What an attempt does when they are too faint on the face.
    pub faint: FaintFlash,
}

impl Default for ScreenColours {
    /// On; an attempt on which they were too faint is refused (the customer is asked to come
    /// closer): a screen held up and a feed injected in place of the camera are faint too.
    fn default() -> Self {
        ScreenColours { on: true, faint: FaintFlash::Refuse }
    }
}

/// The colours the screen shows during the running attempt, and when the first comes on (on
/// the clock the frames are timed by).
#[derive(Debug, Clone, PartialEq)]
pub struct FlashShow {
    /// The colours and their holds, drawn for this attempt.
    pub sequence: FlashSequence,
    /// When the first colour comes on.
    pub started: Instant,
}

impl FlashShow {
    /// The colour to show at `now` (sRGB), None before the first and after the last.
    pub fn colour_at(&self, now: Instant) -> Option<[u8; 3]> {
        let t = now.checked_duration_since(self.started)?.as_secs_f32();
        self.sequence.at(t).map(|(tint, _)| tint.srgb())
    }

    /// Seconds from the first colour to `at` (negative before it).
    fn seconds_to(&self, at: Instant) -> f32 {
        match at.checked_duration_since(self.started) {
            Some(after) => after.as_secs_f32(),
            None => -(self.started - at).as_secs_f32(),
        }
    }
}

/// What the screen shows of the challenge.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ChallengeView {
    /// The selfie must pass the challenge (the screen then offers no button to skip it).
    pub required: bool,
    /// 1-based number of the movement asked now (0: no challenge running).
    pub step: usize,
    /// Movements in the challenge.
    pub steps: usize,
    /// The movement asked now, to draw as an arrow.
    pub direction: Option<Direction>,
    /// How far along the movement is, 0..=1.
    pub progress: f32,
    /// Attempts failed and none left: staff must help.
    pub staff: bool,
}

/// The step's answer to one frame.
#[derive(Debug, Clone)]
pub struct StepOutput {
    /// The line under the preview.
    pub text: &'static str,
    /// The challenge as the screen draws it.
    pub view: ChallengeView,
    /// The selfie, once an attempt passed (or, with liveness off, once the face was steady).
    pub selfie: Option<RgbImage>,
    /// The attempt that ended on this frame, passed or failed, for the liveness log.
    pub ended: Option<Ended>,
    /// The colours the screen shows while the attempt runs.
    pub flash: Option<FlashShow>,
}

/// An attempt that ended: what the liveness log keeps of it.
#[derive(Debug, Clone)]
pub struct Ended {
    /// Its outcome and evidence.
    pub report: Report,
    /// A failed attempt's frame that best shows who made it (a passed attempt's selfie goes
    /// to its verification instead).
    pub frame: Option<RgbImage>,
}

/// The selfie step's state across frames.
#[derive(Default)]
pub struct LivenessStep {
    attempt: Option<Attempt>,
    flash: Option<FlashShow>,
    /// The screen's colours for this session's attempts.
    pub colours: ScreenColours,
    auto: AutoCapture,
    failures: u32,
    pause: Option<(Instant, &'static str)>,
    /// Failed attempts since the kiosk started (the operator screen shows it when there is no
    /// log to count them in).
    pub failed_total: u32,
    /// Where attempts are recorded (`kiosk --capture-sessions`).
    pub recorder: Option<SessionRecorder>,
    /// When the recent failed attempts happened (kept across sessions).
    recent: std::collections::VecDeque<Instant>,
}

impl LivenessStep {
    /// Counts failed attempts that happened `ages` ago (from the log, at start) toward the
    /// limit across sessions, so a restart does not reset it.
    pub fn remember_failures(&mut self, ages: impl IntoIterator<Item = Duration>) {
        let now = Instant::now();
        self.recent.extend(ages.into_iter().filter_map(|age| now.checked_sub(age)));
    }

    /// A fresh selfie step (a new session, or the screen opened again); the screen's colours
    /// stay as set.
    pub fn reset(&mut self) {
        let (failed_total, recorder, colours) =
            (self.failed_total, self.recorder.take(), self.colours);
        let recent = std::mem::take(&mut self.recent);
        *self = LivenessStep { failed_total, recorder, recent, colours, ..LivenessStep::default() };
    }

    /// No attempts left: this session's retries are used up, or this kiosk saw too many
    /// failed attempts lately.
    fn needs_staff(&self) -> bool {
        self.failures > MAX_RETRIES || self.recent.len() >= MAX_RECENT_FAILURES
    }

    /// Handles one frame, taken at `taken`: `faces` as found in it, `previous` the subject's
    /// box one frame before, `fps` the preview's measured rate.
    ///
    /// # Errors
    /// When the embedding model cannot be run (the identity check at the end).
    #[allow(clippy::too_many_arguments)]
    pub fn frame(
        &mut self,
        mode: &LivenessMode,
        frame: &RgbImage,
        taken: Instant,
        faces: &[Face],
        previous: Option<FaceBox>,
        fps: f32,
        embedder: &mut dyn Embedder,
    ) -> Result<StepOutput, ModelError> {
        let view =
            ChallengeView { required: *mode != LivenessMode::Off, ..ChallengeView::default() };
        let mut out = StepOutput { text: "", view, selfie: None, ended: None, flash: None };
        while self.recent.front().is_some_and(|t| t.elapsed() > FAILURE_WINDOW) {
            self.recent.pop_front();
        }
        if self.needs_staff() {
            out.text = tr!("Please ask a member of staff");
            out.view.staff = true;
            return Ok(out);
        }
        if let Some((until, text)) = self.pause {
            if Instant::now() < until {
                out.text = text;
                return Ok(out);
            }
            self.pause = None;
        }
        let Some(attempt) = self.attempt.as_mut() else {
            let g = assess(faces, frame, previous);
            let ready = self.auto.update(g == Guidance::Ready);
            out.text = if g == Guidance::Ready { tr!("Hold still") } else { g.text() };
            if ready {
                let challenge = match mode {
                    LivenessMode::Off => {
                        out.selfie = Some(frame.clone());
                        return Ok(out);
                    }
                    LivenessMode::Random => Challenge::random(),
                    LivenessMode::Fixed(c) => c.clone(),
                };
                if let Some(r) = self.recorder.as_mut() {
                    r.start(&challenge);
                }
                let mut attempt = Attempt::new(challenge, fps);
                if self.colours.on {
                    let sequence = FlashSequence::random();
                    attempt = attempt.with_flash(sequence.clone(), self.colours.faint);
                    // From now, not from the frame's time: the frame has been analysed since.
                    let show = FlashShow { sequence, started: Instant::now() + FLASH_LEAD };
                    out.flash = Some(show.clone());
                    self.flash = Some(show);
                }
                self.attempt = Some(attempt);
            }
            return Ok(out);
        };
        if let Some(r) = self.recorder.as_mut() {
            r.frame(frame);
        }
        let progress = match &self.flash {
            Some(show) => attempt.observe_faces_at(frame, faces, show.seconds_to(taken)),
            None => attempt.observe_faces(frame, faces),
        };
        out.flash = self.flash.clone();
        let steps = attempt.session().challenge().0.len();
        out.view.steps = steps;
        match progress.stage {
            Stage::Framing => {
                out.text = tr!("Look straight at the camera");
                out.view.step = 1;
            }
            Stage::Moving { step, direction, fraction } => {
                out.text = ask(direction);
                out.view.step = step + 1;
                out.view.direction = Some(direction);
                out.view.progress = fraction;
            }
            Stage::Returning { step } => {
                out.text = tr!("Now look straight at the camera again");
                out.view.step = step + 1;
                out.view.progress = 1.0;
            }
            Stage::Settling => {
                out.text = tr!("Hold still");
                out.view.step = steps;
                out.view.progress = 1.0;
            }
            // The movements are done before the face has answered enough of the screen's
            // colours: the person holds still a little longer (at most a second past the time
            // the colours need, should the face be lost meanwhile).
            Stage::Passed
                if attempt.colours_need_more()
                    && self.flash.as_ref().is_some_and(|show| {
                        show.seconds_to(taken) < show.sequence.seconds_to_decide() + 1.0
                    }) =>
            {
                out.text = tr!("Hold still");
                out.view.step = steps;
                out.view.progress = 1.0;
            }
            Stage::Passed | Stage::Failed(_) => {
                let report = attempt.conclude(embedder)?;
                if let Some(r) = self.recorder.as_mut() {
                    r.finish(&report);
                }
                let selfie = attempt.selfie().map(|(image, _)| image.clone());
                let outcome = report.outcome;
                let passed = outcome.is_ok() && selfie.is_some();
                let evidence = (!passed).then(|| attempt.evidence().unwrap_or(frame).clone());
                self.attempt = None;
                self.flash = None;
                out.flash = None;
                self.auto = AutoCapture::default();
                out.ended = Some(Ended { report, frame: evidence });
                match (outcome, selfie) {
                    (Ok(()), Some(image)) => {
                        out.text = tr!("Thank you");
                        out.selfie = Some(image);
                    }
                    (outcome, _) => {
                        // No step row over a retry or the staff message.
                        out.view.steps = 0;
                        let failure = outcome.err().unwrap_or(Failure::NoFrontalFrame);
                        self.failures += 1;
                        self.failed_total += 1;
                        self.recent.push_back(Instant::now());
                        out.text = if self.needs_staff() {
                            tr!("Please ask a member of staff")
                        } else {
                            retry_text(failure)
                        };
                        out.view.staff = self.needs_staff();
                        self.pause = Some((Instant::now() + FAILURE_PAUSE, out.text));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The request for a movement, in the person's own terms.
pub fn ask(direction: Direction) -> &'static str {
    match direction {
        Direction::Left => tr!("Turn your head slowly to your left"),
        Direction::Right => tr!("Turn your head slowly to your right"),
        Direction::Up => tr!("Lift your chin slowly"),
        Direction::Down => tr!("Lower your chin slowly"),
    }
}

/// What a failed attempt tells the customer before the next one: what to do, never a
/// suspicion.
pub fn retry_text(failure: Failure) -> &'static str {
    match failure {
        Failure::MovementNotSeen(_) | Failure::Flat { .. } | Failure::PassiveRefused => {
            tr!("We could not see the movement. Let's try again, a little further")
        }
        Failure::WrongMovement { .. } => tr!("Please follow the arrow. Let's try again"),
        Failure::LostFace | Failure::Jump | Failure::SecondFace => {
            tr!("Please keep only your face in the picture. Let's try again")
        }
        Failure::Flash(FlashRefusal::TooFaint) => {
            tr!("Please come a little closer to the screen. Let's try again")
        }
        Failure::DifferentPerson { .. } | Failure::Flash(_) => {
            tr!("Please stay in front of the camera. Let's try again")
        }
        Failure::NoFace | Failure::NotFramed | Failure::NoFrontalFrame => {
            tr!("Please look straight at the camera. Let's try again")
        }
    }
}
