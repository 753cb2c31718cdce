//! A whole attempt over real frames: the detector's faces feed the [`Session`], the frames it
//! asks to keep are embedded at the end, and all must show the person of the selfie.

use image::RgbImage;

use crate::alignment::align;
use crate::calibration::percent;
use crate::detection::{Detector, InputSize, MIN_SCORE};
use crate::domain::{Embedding, Face};
use crate::embedding::{cosine, Embedder};
use crate::model_error::ModelError;

use super::flash::{decide, FlashReport, FlashSequence, FlashTrace, FlashVerdict};
use super::flow::Tracker;
use super::passive::PassiveCheck;
use super::session::{Failure, Keep, Progress, Session, StepResult};
use super::Challenge;

/// The match percentage every kept frame must reach against the selfie. Frames of one attempt
/// are seconds apart under the same light, so the same person scores higher than across the
/// separate photographs of `../shared/faces` (97.9 % of those genuine pairs reach 85); another
/// person reaches 85 in 0.03 % of single comparisons, and a swap must pass on every kept frame.
/// It stays under the decision's [`crate::calibration::DEFAULT_THRESHOLD`], which guards one
/// comparison alone.
pub const IDENTITY_PERCENT: f64 = 85.0;

/// Everything an attempt leaves: the outcome and the evidence the log keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The challenge asked.
    pub challenge: Challenge,
    /// Passed, or why not.
    pub outcome: Result<(), Failure>,
    /// Each asked movement as it went.
    pub steps: Vec<StepResult>,
    /// The weakest parallax among the movements done, eye distances.
    pub parallax: f32,
    /// Frames seen.
    pub frames: usize,
    /// Frames with a face.
    pub face_frames: usize,
    /// 0-based index of the frame chosen as the selfie, once passed.
    pub selfie_frame: Option<usize>,
    /// The lowest match percentage between a kept frame and the selfie, when compared.
    pub identity_percent: Option<f64>,
    /// The screen's colours and how the face answered them, when the attempt had them.
    pub flash: Option<(FlashSequence, FlashReport)>,
    /// The screen's light was too faint on the face to tell anything, and the attempt was
    /// decided by the movement test alone ([`FaintFlash::MovementOnly`]).
    pub movement_only: bool,
}

/// What an attempt does when the screen's light is too faint on the face to tell anything
/// (a bright room, a face far from the screen; and also whatever gives off its own light: a
/// screen held up, a feed injected in place of the camera).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaintFlash {
    /// Refuse the attempt: only a face that answered the colours passes.
    #[default]
    Refuse,
    /// Let the movement test alone decide, and say so in the report: a kiosk in a bright
    /// place keeps serving people, at the cost of the flash's protection on those attempts.
    MovementOnly,
}

impl Report {
    /// Whether the attempt passed.
    pub fn live(&self) -> bool {
        self.outcome.is_ok()
    }
}

/// One attempt in progress, holding the few frames it must compare at the end.
pub struct Attempt {
    session: Session,
    passive: Option<Box<dyn PassiveCheck>>,
    tracker: Option<Tracker>,
    kept: Vec<(Keep, RgbImage, Face)>,
    selfie_frame: Option<usize>,
    flash: Option<(FlashSequence, FlashTrace)>,
    faint: FaintFlash,
}

impl Attempt {
    /// A new attempt at `challenge` at `fps` frames per second.
    pub fn new(challenge: Challenge, fps: f32) -> Attempt {
        Attempt {
            session: Session::new(challenge, fps),
            passive: None,
            tracker: None,
            kept: Vec::new(),
            selfie_frame: None,
            flash: None,
            faint: FaintFlash::Refuse,
        }
    }

    /// Adds the screen's colours: the face must answer them ([`super::flash`]); `faint` says
    /// what becomes of an attempt on which they were too faint to tell.
    pub fn with_flash(mut self, sequence: FlashSequence, faint: FaintFlash) -> Attempt {
        self.flash = Some((sequence, FlashTrace::default()));
        self.faint = faint;
        self
    }

    /// Whether the screen's colours need the face's frames for longer before they can be
    /// decided: the movements can end before the face has answered enough changes of colour
    /// (a brisk person, a slow camera). The kiosk then asks the person to hold still.
    pub fn colours_need_more(&self) -> bool {
        self.flash.as_ref().is_some_and(|(sequence, trace)| {
            trace.last_seen().is_none_or(|t| t < sequence.seconds_to_decide())
        })
    }

    /// Adds a passive check of the selfie frame, which can only refuse.
    pub fn with_passive(mut self, check: Box<dyn PassiveCheck>) -> Attempt {
        self.passive = Some(check);
        self
    }

    /// The session's state (steps, frames, outcome).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Runs the detector on `frame` and feeds its faces.
    ///
    /// # Errors
    /// When the model cannot be run.
    pub fn observe(
        &mut self,
        detector: &mut dyn Detector,
        frame: &RgbImage,
    ) -> Result<Progress, ModelError> {
        let faces = detector.detect(frame, InputSize::S320, MIN_SCORE)?;
        Ok(self.observe_faces(frame, &faces))
    }

    /// Feeds faces already found in `frame` (a recording's: frames taken at a steady rate,
    /// the screen's colours shown from the first one on).
    pub fn observe_faces(&mut self, frame: &RgbImage, faces: &[Face]) -> Progress {
        let t = self.session.seconds();
        self.observe_faces_at(frame, faces, t)
    }

    /// Feeds faces already found in `frame`, taken `t` seconds after the screen's colours
    /// started (the kiosk's preview has the faces and the frame's time; negative before).
    pub fn observe_faces_at(&mut self, frame: &RgbImage, faces: &[Face], t: f32) -> Progress {
        let subject = faces.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()));
        if let (Some((_, trace)), Some(face)) = (&mut self.flash, subject) {
            trace.observe(frame, &face.bbox, t);
        }
        let nose = self.tracker.as_mut().and_then(|t| {
            t.track(frame);
            t.nose_parallax()
        });
        let progress = self.session.observe(faces, nose);
        if progress.stage == super::Stage::Passed
            || matches!(progress.stage, super::Stage::Failed(_))
        {
            self.tracker = None;
        }
        if let Some(keep) = progress.keep {
            if let Some(face) = subject {
                if keep == Keep::Reference {
                    self.tracker = Some(Tracker::start(frame, face));
                }
                if keep == Keep::Selfie {
                    self.kept.retain(|(k, _, _)| *k != Keep::Selfie);
                    self.selfie_frame = Some(self.session.frames() - 1);
                }
                self.kept.push((keep, frame.clone(), *face));
            }
        }
        progress
    }

    /// The selfie frame and its face, once one was kept.
    pub fn selfie(&self) -> Option<(&RgbImage, &Face)> {
        kept_selfie(&self.kept)
    }

    /// The frame that best shows who made the attempt: the selfie, else the framed reference
    /// frame (None before the face was framed). A failed attempt's evidence.
    pub fn evidence(&self) -> Option<&RgbImage> {
        let kept = |wanted| self.kept.iter().find(|(k, _, _)| *k == wanted).map(|(_, f, _)| f);
        kept(Keep::Selfie).or_else(|| kept(Keep::Reference))
    }

    /// Ends the attempt: when the movements passed, the kept frames are compared with the
    /// selfie, and the passive check (if one was added) sees the selfie frame. Returns the
    /// report.
    ///
    /// # Errors
    /// When the embedding model cannot be run.
    pub fn conclude(&mut self, embedder: &mut dyn Embedder) -> Result<Report, ModelError> {
        let mut identity = None;
        let flash = self.flash.as_ref().map(|(s, trace)| (s.clone(), decide(s, trace)));
        let movement_only = self.faint == FaintFlash::MovementOnly
            && flash.as_ref().is_some_and(|(_, f)| f.verdict == FlashVerdict::TooFaint);
        if self.session.outcome().is_some_and(|o| o.is_ok()) {
            let lowest = self.lowest_identity(embedder)?;
            identity = lowest;
            let mut failure = match lowest {
                Some(p) if p < IDENTITY_PERCENT => Some(Failure::DifferentPerson { percent: p }),
                None => Some(Failure::NoFrontalFrame),
                _ => None,
            };
            if let (None, Some(check), Some((image, face))) =
                (failure, self.passive.as_mut(), kept_selfie(&self.kept))
            {
                if !check.looks_live(image, face)? {
                    failure = Some(Failure::PassiveRefused);
                }
            }
            if let (None, Some((_, report)), false) = (failure, flash.as_ref(), movement_only) {
                failure = report.verdict.refusal().map(Failure::Flash);
            }
            self.session.finish(failure).ok();
        }
        let outcome = self.session.finish(None);
        Ok(Report {
            challenge: self.session.challenge().clone(),
            outcome,
            steps: self.session.steps().to_vec(),
            parallax: self.session.parallax(),
            frames: self.session.frames(),
            face_frames: self.session.face_frames(),
            selfie_frame: outcome.is_ok().then_some(self.selfie_frame).flatten(),
            identity_percent: identity,
            movement_only,
            flash,
        })
    }

    fn lowest_identity(&self, embedder: &mut dyn Embedder) -> Result<Option<f64>, ModelError> {
        let Some((image, face)) = self.selfie() else { return Ok(None) };
        let selfie = embed(embedder, image, face)?;
        let mut lowest: Option<f64> = None;
        for (keep, image, face) in &self.kept {
            if *keep != Keep::Selfie {
                let p = percent(cosine(&selfie, &embed(embedder, image, face)?));
                lowest = Some(lowest.map_or(p, |l| l.min(p)));
            }
        }
        Ok(lowest)
    }
}

/// The selfie among the kept frames (a separate function so that it borrows only the list).
fn kept_selfie(kept: &[(Keep, RgbImage, Face)]) -> Option<(&RgbImage, &Face)> {
    kept.iter().find(|(k, _, _)| *k == Keep::Selfie).map(|(_, image, face)| (image, face))
}

fn embed(
    embedder: &mut dyn Embedder,
    image: &RgbImage,
    face: &Face,
) -> Result<Embedding, ModelError> {
    embedder.embed(&align(image, &face.landmarks))
}

/// Runs a whole attempt over `frames` (in order) at `fps`, under the screen's colours
/// `flash` when the attempt had them (shown from the first frame on).
///
/// # Errors
/// When a model cannot be run.
pub fn check(
    detector: &mut dyn Detector,
    embedder: &mut dyn Embedder,
    frames: impl IntoIterator<Item = RgbImage>,
    challenge: Challenge,
    fps: f32,
    flash: Option<FlashSequence>,
) -> Result<Report, ModelError> {
    let mut attempt = Attempt::new(challenge, fps);
    if let Some(sequence) = flash {
        attempt = attempt.with_flash(sequence, FaintFlash::Refuse);
    }
    for frame in frames {
        attempt.observe(detector, &frame)?;
        if attempt.session().outcome().is_some() {
            break;
        }
    }
    attempt.conclude(embedder)
}
