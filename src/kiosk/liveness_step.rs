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
use crate::liveness::{Attempt, Challenge, Direction, Failure, Report, Stage};
use crate::model_error::ModelError;

/// Attempts after the first before staff are asked for.
pub const MAX_RETRIES: u32 = 2;
/// How long a failed attempt's message stays before the next attempt starts.
pub const FAILURE_PAUSE: Duration = Duration::from_millis(2500);
/// Failed attempts on this kiosk within [`FAILURE_WINDOW`], across sessions, after which staff
/// are asked for until the window clears: starting new sessions must not buy an attacker with
/// a recorded video more tries at the 1-in-36 order (AWS's advice is 5 per 3 minutes).
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

    /// A fresh selfie step (a new session, or the screen opened again).
    pub fn reset(&mut self) {
        let (failed_total, recorder) = (self.failed_total, self.recorder.take());
        let recent = std::mem::take(&mut self.recent);
        *self = LivenessStep { failed_total, recorder, recent, ..LivenessStep::default() };
    }

    /// No attempts left: this session's retries are used up, or this kiosk saw too many
    /// failed attempts lately.
    fn needs_staff(&self) -> bool {
        self.failures > MAX_RETRIES || self.recent.len() >= MAX_RECENT_FAILURES
    }

    /// Handles one frame: `faces` as found in it, `previous` the subject's box one frame
    /// before, `fps` the preview's measured rate.
    ///
    /// # Errors
    /// When the embedding model cannot be run (the identity check at the end).
    pub fn frame(
        &mut self,
        mode: &LivenessMode,
        frame: &RgbImage,
        faces: &[Face],
        previous: Option<FaceBox>,
        fps: f32,
        embedder: &mut dyn Embedder,
    ) -> Result<StepOutput, ModelError> {
        let view =
            ChallengeView { required: *mode != LivenessMode::Off, ..ChallengeView::default() };
        let mut out = StepOutput { text: "", view, selfie: None, ended: None };
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
                self.attempt = Some(Attempt::new(challenge, fps));
            }
            return Ok(out);
        };
        if let Some(r) = self.recorder.as_mut() {
            r.frame(frame);
        }
        let progress = attempt.observe_faces(frame, faces);
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
        Failure::DifferentPerson { .. } | Failure::Flash(_) => {
            tr!("Please stay in front of the camera. Let's try again")
        }
        Failure::NoFace | Failure::NotFramed | Failure::NoFrontalFrame => {
            tr!("Please look straight at the camera. Let's try again")
        }
    }
}
