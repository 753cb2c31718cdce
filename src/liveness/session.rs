//! One liveness attempt, frame by frame: frame the face, then each asked movement in
//! order and back to the centre, then a frontal frame for the selfie. The same state
//! machine runs in the kiosk (live frames) and in `facematch liveness check` (a folder).
//!
//! It decides from the detector's faces alone; which frames must also be compared for
//! identity it says through [`Progress::keep`], and the caller embeds those
//! ([`super::check`]).

use crate::domain::{Face, FaceBox};

use super::challenge::{Challenge, Direction};
use super::flash::FlashRefusal;
use super::geometry::{eye_distance, face_scale, nose_offset};

/// How far the nose must leave the plane of the rest of the face, in the asked direction and
/// in eye distances ([`super::flow::Tracker::nose_parallax`]), for a movement to count. On the
/// clean generated sessions, head movements of 17-25° reached 0.055-0.19 and no print, screen
/// or card went past 0.021 (docs/liveness.md).
pub const MOVE_PARALLAX: f32 = 0.05;
/// Back under this share of [`MOVE_PARALLAX`] counts as back at the centre: 0.035 eye
/// distances. A noisy webcam's still head, back at the centre after three movements, read
/// 0.003-0.030 from frame to frame on the generated sessions, and three such frames in a row
/// choose the selfie.
pub const CENTRE_SHARE: f32 = 0.7;
/// Below this nose parallax (eye distances) the face is flat, whatever its landmarks say.
pub const MIN_PARALLAX: f32 = 0.02;
/// How long the landmarks must show the asked movement while the pixels stay flat before the
/// attempt fails as `flat`, seconds (at least three frames): in a noisy 8 frames/s feed the
/// landmarks can leap ahead of a head's first movement for two frames; a tilted picture shows
/// it for as long as it is tilted.
pub const FLAT_SECONDS: f32 = 0.2;
/// Sideways movement of YuNet's nose landmark, in face units ([`nose_offset`]), that shows a
/// turn as the detector sees it. Only used to name a flat picture: YuNet moves its
/// landmarks on a tilted print as if a head turned (its prior), the pixels do not follow.
pub const TURN_LANDMARKS: f32 = 0.08;
/// Up/down movement of YuNet's nose landmark that shows a nod as the detector sees it (YuNet
/// reports about half the nose movement of a nod).
pub const NOD_LANDMARKS: f32 = 0.04;
/// Steady frontal frames that start the challenge (and fix the reference frame).
pub const FRAMING_FRAMES: usize = 5;
/// How far the detector's nose landmark ([`nose_offset`], face units) may be from its mean
/// over the framing frames: several times its jitter on a still face, well under a movement.
pub const FRAMING_JITTER: f32 = 0.03;
/// The same in pixels of the nose landmark, where that is more: on a small face (a 320×240
/// camera's, about 45 px from eyes to mouth) in a noisy frame the detector's nose wanders
/// 2-3 px from frame to frame (0.05-0.07 face units) though the head is still.
pub const FRAMING_JITTER_PX: f32 = 3.0;
/// The framing jitter allowed is never more than this, face units (a turn as the detector sees
/// it, [`TURN_LANDMARKS`]), however small the face.
pub const MAX_FRAMING_JITTER: f32 = 0.08;
/// The smallest eye distance, pixels, at which an attempt starts: about half a 320×240 camera's
/// face at arm's length. The point tracking is measured down to there, not below.
pub const MIN_EYE_DISTANCE_PX: f32 = 24.0;
/// Frontal frames after the last movement among which the selfie is chosen.
pub const SELFIE_FRAMES: usize = 3;
/// Time for each movement, and again for coming back to the centre.
pub const STEP_SECONDS: f32 = 6.0;
/// The longest a face may be lost during the challenge, in seconds (a few frames).
pub const MAX_GAP_SECONDS: f32 = 0.3;
/// The most a face's centre can move between frames, in its box widths per frame elapsed:
/// more is a swap of pictures, not a head.
pub const MAX_JUMP_BOX_WIDTHS: f32 = 0.35;
/// Across the framing frames the face's centre stays within this share of its box width of
/// where it was in the first (a head starting to move is no reference).
pub const STEADY_BOX_WIDTHS: f32 = 0.03;
/// The same in pixels, where that is more: in a noisy 320×240 frame the detector's box around a
/// still face (about 95 px wide) wanders 2-4 px from frame to frame.
pub const STEADY_BOX_PX: f32 = 5.0;
/// The most a face's box can grow or shrink between frames (ratio of widths).
pub const MAX_SIZE_CHANGE: f32 = 1.35;
/// A second face at least this share of the subject's area ends the attempt.
pub const SECOND_FACE_SHARE: f32 = 0.25;
/// On a frontal frame YuNet's nose is within this of the middle of the eyes (face units; about
/// 20° of turn; a frontal ../shared photo re-rendered read up to 0.12).
pub const FRONTAL_OFFSET: f32 = 0.15;

/// Why an attempt failed: an answer about the person in front of the camera, not an error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Failure {
    /// No face in any frame.
    NoFace,
    /// A face, but never steady and frontal long enough to start.
    NotFramed,
    /// The asked movement was not seen in time.
    MovementNotSeen(Direction),
    /// Another movement came first: the wrong order, as a replayed video would show.
    WrongMovement {
        /// The movement asked for.
        asked: Direction,
        /// The movement seen.
        seen: Direction,
    },
    /// The detector's landmarks showed the movement, but the face's pixels moved as one
    /// plane: a tilted picture.
    Flat {
        /// The movement.
        movement: Direction,
        /// Its parallax, eye distances.
        parallax: f32,
    },
    /// The face was lost for more than a few frames.
    LostFace,
    /// The face jumped further than a head moves between frames.
    Jump,
    /// Another face came into the picture.
    SecondFace,
    /// Frames of the attempt show different people.
    DifferentPerson {
        /// The lowest match percentage between a kept frame and the selfie.
        percent: f64,
    },
    /// No frontal frame after the last movement.
    NoFrontalFrame,
    /// A passive check ([`super::passive`]) refused the selfie frame.
    PassiveRefused,
    /// The face did not answer the screen's colours as a live face does ([`super::flash`]).
    Flash(FlashRefusal),
}

impl Failure {
    /// A stable snake_case code for JSON, CSV reports and the log.
    pub fn code(self) -> &'static str {
        match self {
            Failure::NoFace => "no_face",
            Failure::NotFramed => "not_framed",
            Failure::MovementNotSeen(_) => "movement_not_seen",
            Failure::WrongMovement { .. } => "wrong_movement",
            Failure::Flat { .. } => "flat",
            Failure::LostFace => "lost_face",
            Failure::Jump => "jump",
            Failure::SecondFace => "second_face",
            Failure::DifferentPerson { .. } => "different_person",
            Failure::NoFrontalFrame => "no_frontal_frame",
            Failure::PassiveRefused => "passive_refused",
            Failure::Flash(r) => match r {
                FlashRefusal::TooShort => "flash_too_short",
                FlashRefusal::TooFaint => "flash_too_faint",
                FlashRefusal::NotFollowed => "flash_not_followed",
            },
        }
    }
}

impl std::fmt::Display for Failure {
    /// Plain words for the operator and the log (the customer sees the kiosk's own words).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::NoFace => write!(f, "no face was seen"),
            Failure::NotFramed => write!(f, "the face was never steady and frontal"),
            Failure::MovementNotSeen(d) => write!(f, "the movement '{d}' was not seen in time"),
            Failure::WrongMovement { asked, seen } => {
                write!(f, "'{seen}' was seen where '{asked}' was asked")
            }
            Failure::Flat { movement, parallax } => write!(
                f,
                "the landmarks showed '{movement}' but the face moved as one flat picture \
                 (nose parallax {parallax:.3}, a head shows at least {MOVE_PARALLAX})"
            ),
            Failure::LostFace => write!(f, "the face was lost during the challenge"),
            Failure::Jump => write!(f, "the face jumped between frames"),
            Failure::SecondFace => write!(f, "a second face came into the picture"),
            Failure::DifferentPerson { percent } => {
                write!(f, "frames of the attempt show different people ({percent:.0} %)")
            }
            Failure::NoFrontalFrame => write!(f, "no frontal frame after the last movement"),
            Failure::PassiveRefused => write!(f, "the passive check refused the selfie frame"),
            Failure::Flash(r) => match r {
                FlashRefusal::TooShort => write!(f, "too few frames under the screen's colours"),
                FlashRefusal::TooFaint => {
                    write!(f, "the screen's colours were too faint on the face to be seen")
                }
                FlashRefusal::NotFollowed => {
                    write!(f, "the face's colour did not follow the colours the screen showed")
                }
            },
        }
    }
}

/// What a frame is kept for, when the caller must keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The reference frame at the start: compared with the selfie for identity.
    Reference,
    /// A frame back at the centre after a movement: compared with the selfie for identity.
    BetweenMovements,
    /// A candidate for the selfie (a later candidate with a more frontal face replaces it).
    Selfie,
}

/// Where the attempt stands after a frame, for the screen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stage {
    /// Waiting for a steady frontal face.
    Framing,
    /// Asking for movement number `step` (0-based).
    Moving {
        /// Index into the challenge.
        step: usize,
        /// The movement.
        direction: Direction,
        /// How far along the movement is, 0..=1.
        fraction: f32,
    },
    /// The movement was done; back to the centre, please.
    Returning {
        /// Index into the challenge.
        step: usize,
    },
    /// All movements done; looking for a frontal frame.
    Settling,
    /// Passed the movement checks (identity is the caller's to confirm).
    Passed,
    /// Failed, and why.
    Failed(Failure),
}

/// The result of one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Where the attempt stands now.
    pub stage: Stage,
    /// Seconds left for the current movement, when one is running.
    pub seconds_left: Option<f32>,
    /// Keep this frame (and its subject face) for the reason given.
    pub keep: Option<Keep>,
}

/// One asked movement, as it went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepResult {
    /// The movement asked for.
    pub direction: Direction,
    /// Done in order and back at the centre.
    pub done: bool,
    /// The largest nose parallax toward the asked direction, eye distances: the movement as
    /// the face's pixels show it.
    pub parallax: f32,
    /// The largest movement of the detector's nose landmark toward the asked direction, in
    /// [`TURN_LANDMARKS`] / [`NOD_LANDMARKS`] (1 = the detector saw the movement).
    pub landmarks: f32,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Framing,
    Moving { step: usize, started: usize },
    Returning { step: usize, started: usize },
    Settling { started: usize },
    Over,
}

/// The state of one attempt.
#[derive(Debug, Clone)]
pub struct Session {
    challenge: Challenge,
    fps: f32,
    phase: Phase,
    frames: usize,
    face_frames: usize,
    gap: usize,
    last_box: Option<FaceBox>,
    steady: Vec<Face>,
    /// The last frame broke a steady run: one frame off the others is passed over, two in a
    /// row start the run again.
    framing_blip: bool,
    reference_offset: [f32; 2],
    /// The nose parallax of the frame before, while a movement or a return is followed: a
    /// movement counts only as far as two frames in a row show it (one frame's tracking noise
    /// is not a head).
    last_parallax: Option<[f32; 2]>,
    steps: Vec<StepResult>,
    /// Frames in a row where the landmarks showed the asked movement and the pixels did not.
    flat_run: usize,
    frontal_run: usize,
    best_selfie: f32,
    outcome: Option<Result<(), Failure>>,
}

impl Session {
    /// A new attempt at `challenge`, fed frames at `fps` frames per second (time limits are
    /// counted in frames).
    pub fn new(challenge: Challenge, fps: f32) -> Session {
        let steps = challenge
            .0
            .iter()
            .map(|&direction| StepResult { direction, done: false, parallax: 0.0, landmarks: 0.0 })
            .collect();
        Session {
            challenge,
            fps: fps.max(1.0),
            phase: Phase::Framing,
            frames: 0,
            face_frames: 0,
            gap: 0,
            last_box: None,
            steady: Vec::new(),
            framing_blip: false,
            reference_offset: [0.0, 0.0],
            last_parallax: None,
            steps,
            flat_run: 0,
            frontal_run: 0,
            best_selfie: f32::INFINITY,
            outcome: None,
        }
    }

    /// Seconds from the attempt's first frame to the next frame to be observed, at the
    /// session's frame rate.
    pub fn seconds(&self) -> f32 {
        self.frames as f32 / self.fps
    }

    /// The challenge being asked.
    pub fn challenge(&self) -> &Challenge {
        &self.challenge
    }

    /// Frames seen so far.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Frames with a face so far.
    pub fn face_frames(&self) -> usize {
        self.face_frames
    }

    /// Each asked movement as it went so far.
    pub fn steps(&self) -> &[StepResult] {
        &self.steps
    }

    /// The weakest nose parallax among the movements done, eye distances (0 before any).
    pub fn parallax(&self) -> f32 {
        self.steps.iter().filter(|s| s.done).map(|s| s.parallax).reduce(f32::min).unwrap_or(0.0)
    }

    /// `Some(Ok)` once passed, `Some(Err)` once failed, `None` while running.
    pub fn outcome(&self) -> Option<Result<(), Failure>> {
        self.outcome
    }

    /// Ends the attempt now (the frames ran out, or the caller found a failure of its own,
    /// such as different people in the kept frames); returns the outcome.
    pub fn finish(&mut self, failure: Option<Failure>) -> Result<(), Failure> {
        if let Some(f) = failure {
            self.fail(f);
        }
        if self.outcome.is_none() {
            let f = match self.phase {
                Phase::Framing if self.face_frames == 0 => Failure::NoFace,
                Phase::Framing => Failure::NotFramed,
                Phase::Moving { step, .. } | Phase::Returning { step, .. } => {
                    Failure::MovementNotSeen(self.challenge.0[step])
                }
                Phase::Settling { .. } | Phase::Over => Failure::NoFrontalFrame,
            };
            self.fail(f);
        }
        self.outcome.unwrap_or(Err(Failure::NoFace))
    }

    fn fail(&mut self, failure: Failure) {
        if !matches!(self.outcome, Some(Err(_))) {
            self.outcome = Some(Err(failure));
        }
        self.phase = Phase::Over;
    }

    fn step_frames(&self) -> usize {
        (STEP_SECONDS * self.fps).ceil() as usize
    }

    /// Feeds the faces the detector found in the next frame (any order) and, once the
    /// challenge runs, where the nose went off the plane of the face since the reference
    /// frame ([`super::flow::Tracker::nose_parallax`]; `None` when it could not be measured).
    pub fn observe(&mut self, faces: &[Face], nose: Option<[f32; 2]>) -> Progress {
        self.frames += 1;
        let frame = self.frames - 1;
        if matches!(self.phase, Phase::Over) {
            return self.progress(None, None);
        }
        let subject = faces.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()));
        let started = !matches!(self.phase, Phase::Framing);
        let Some(subject) = subject else {
            // Two frames in a row must be two frames with the face.
            self.last_parallax = None;
            self.gap += 1;
            if started && self.gap as f32 > MAX_GAP_SECONDS * self.fps {
                self.fail(Failure::LostFace);
            } else if !started {
                self.steady.clear();
            }
            self.check_time(frame);
            return self.progress(None, None);
        };
        self.face_frames += 1;
        let crowded = faces.iter().any(|f| {
            !std::ptr::eq(f, subject) && f.bbox.area() >= SECOND_FACE_SHARE * subject.bbox.area()
        });
        let jumped = self.last_box.is_some_and(|b| jumped(&b, &subject.bbox, self.gap + 1));
        self.gap = 0;
        self.last_box = Some(subject.bbox);
        if started && crowded {
            self.fail(Failure::SecondFace);
            return self.progress(None, None);
        }
        if started && jumped {
            self.fail(Failure::Jump);
            return self.progress(None, None);
        }
        let keep = match self.phase {
            Phase::Framing => self.frame_up(subject, !crowded),
            Phase::Moving { step, .. } => self.moving(subject, nose, step, frame),
            Phase::Returning { step, .. } => self.returning(subject, nose, step, frame),
            Phase::Settling { .. } => self.settling(nose),
            Phase::Over => None,
        };
        let fraction = self.fraction(nose);
        self.check_time(frame);
        self.progress(keep, fraction)
    }

    /// The head's movement since the reference frame as the pixels show it, in
    /// [`MOVE_PARALLAX`]: 1 along a direction is that movement done.
    fn movement(nose: Option<[f32; 2]>) -> [f32; 2] {
        nose.map_or([0.0, 0.0], |n| [n[0] / MOVE_PARALLAX, n[1] / MOVE_PARALLAX])
    }

    /// The detector's nose landmark movement since the reference frame, in
    /// [`TURN_LANDMARKS`] / [`NOD_LANDMARKS`].
    fn landmark_movement(&self, face: &Face) -> [f32; 2] {
        let o = nose_offset(&face.landmarks);
        [
            (o[0] - self.reference_offset[0]) / TURN_LANDMARKS,
            (o[1] - self.reference_offset[1]) / NOD_LANDMARKS,
        ]
    }

    fn frame_up(&mut self, face: &Face, alone: bool) -> Option<Keep> {
        let offset = nose_offset(&face.landmarks);
        // A head already moving is no reference: its box must stay put against the first
        // framing frame's, and its nose near the framing frames' mean so far.
        let jitter = (FRAMING_JITTER_PX / face_scale(&face.landmarks).max(1.0))
            .clamp(FRAMING_JITTER, MAX_FRAMING_JITTER);
        let large_enough = eye_distance(&face.landmarks) >= MIN_EYE_DISTANCE_PX;
        // Frontal within the detector's jitter here; the framing frames' mean must be frontal
        // itself (below).
        let frontal = offset[0].abs() < FRONTAL_OFFSET + jitter;
        let still = self.steady.first().is_none_or(|first| {
            let n = self.steady.len() as f32;
            let mean = self.steady.iter().fold([0.0, 0.0], |m, f| {
                let o = nose_offset(&f.landmarks);
                [m[0] + o[0] / n, m[1] + o[1] / n]
            });
            (mean[0] - offset[0]).hypot(mean[1] - offset[1]) < jitter
                && first.bbox.centre_distance(&face.bbox)
                    <= (STEADY_BOX_WIDTHS * first.bbox.w).max(STEADY_BOX_PX)
        });
        let usable = alone && frontal && large_enough;
        if !usable || !still {
            // One frame whose box or landmarks leap from a still run's and come back is the
            // detector's (on a noisy or compressed frame it can answer with another box, 15 px
            // off, for a frame), not the head's: it is passed over, never the reference.
            let blip = usable && !self.framing_blip && !self.steady.is_empty();
            self.framing_blip = blip;
            if !blip {
                self.steady.clear();
                if usable {
                    self.steady.push(*face);
                }
            }
            return None;
        }
        self.framing_blip = false;
        self.steady.push(*face);
        if self.steady.len() < FRAMING_FRAMES {
            return None;
        }
        let n = self.steady.len() as f32;
        let mut mean = [[0f32; 2]; 5];
        for f in &self.steady {
            for (m, p) in mean.iter_mut().zip(&f.landmarks) {
                m[0] += p[0] / n;
                m[1] += p[1] / n;
            }
        }
        let reference = nose_offset(&mean);
        if reference[0].abs() >= FRONTAL_OFFSET {
            // Not frontal on average: the window slides on.
            self.steady.remove(0);
            return None;
        }
        self.reference_offset = reference;
        self.phase = Phase::Moving { step: 0, started: self.frames - 1 };
        Some(Keep::Reference)
    }

    /// The detector's nose landmark movement toward `step`'s direction, in
    /// [`TURN_LANDMARKS`] / [`NOD_LANDMARKS`].
    fn landmarks_along(&self, face: &Face, step: usize) -> f32 {
        self.steps[step].direction.along(self.landmark_movement(face))
    }

    /// Records the step's largest movements; returns the pixels' movement, in thresholds.
    fn track(&mut self, face: &Face, nose: Option<[f32; 2]>, step: usize) -> [f32; 2] {
        let direction = self.steps[step].direction;
        let landmarks = self.landmarks_along(face, step);
        let last = std::mem::replace(&mut self.last_parallax, nose);
        let s = &mut self.steps[step];
        s.landmarks = s.landmarks.max(landmarks);
        if let (Some(n), Some(l)) = (nose, last) {
            s.parallax = s.parallax.max(direction.along(n).min(direction.along(l)));
        }
        Self::movement(nose)
    }

    /// A movement other than the asked one, if the head clearly made one: this frame and the
    /// one before both show it.
    fn wrong_way(
        &self,
        m: [f32; 2],
        before: Option<[f32; 2]>,
        asked: Direction,
    ) -> Option<Direction> {
        let seen = Direction::of(m);
        let before = Self::movement(before);
        (seen != asked && seen.along(m) >= 1.0 && seen.along(before) >= 1.0).then_some(seen)
    }

    /// Records the frame for `step` and fails a movement other than the asked one; the
    /// pixels' movement, in thresholds, while the attempt goes on.
    fn follow_step(
        &mut self,
        face: &Face,
        nose: Option<[f32; 2]>,
        step: usize,
    ) -> Option<[f32; 2]> {
        let asked = self.steps[step].direction;
        let before = self.last_parallax;
        let m = self.track(face, nose, step);
        if let Some(seen) = self.wrong_way(m, before, asked) {
            self.fail(Failure::WrongMovement { asked, seen });
            return None;
        }
        Some(m)
    }

    fn moving(
        &mut self,
        face: &Face,
        nose: Option<[f32; 2]>,
        step: usize,
        frame: usize,
    ) -> Option<Keep> {
        self.follow_step(face, nose, step)?;
        let s = self.steps[step];
        let flat_now =
            nose.is_some() && self.landmarks_along(face, step) >= 1.0 && s.parallax < MIN_PARALLAX;
        self.flat_run = if flat_now { self.flat_run + 1 } else { 0 };
        let flat_frames = ((FLAT_SECONDS * self.fps).ceil() as usize).max(3);
        if s.parallax >= MOVE_PARALLAX {
            self.flat_run = 0;
            self.phase = Phase::Returning { step, started: frame };
        } else if self.flat_run >= flat_frames {
            self.fail(Failure::Flat { movement: s.direction, parallax: s.parallax });
        }
        None
    }

    fn returning(
        &mut self,
        face: &Face,
        nose: Option<[f32; 2]>,
        step: usize,
        frame: usize,
    ) -> Option<Keep> {
        let m = self.follow_step(face, nose, step)?;
        if nose.is_none() || m[0].hypot(m[1]) > CENTRE_SHARE {
            return None;
        }
        self.steps[step].done = true;
        self.phase = if step + 1 < self.steps.len() {
            Phase::Moving { step: step + 1, started: frame }
        } else {
            self.frontal_run = 0;
            Phase::Settling { started: frame }
        };
        Some(Keep::BetweenMovements)
    }

    fn settling(&mut self, nose: Option<[f32; 2]>) -> Option<Keep> {
        let m = Self::movement(nose);
        let off = m[0].hypot(m[1]);
        if nose.is_none() || off > CENTRE_SHARE {
            self.frontal_run = 0;
            return None;
        }
        self.frontal_run += 1;
        let better = off < self.best_selfie;
        if better {
            self.best_selfie = off;
        }
        if self.frontal_run >= SELFIE_FRAMES {
            self.outcome = Some(Ok(()));
            self.phase = Phase::Over;
        }
        better.then_some(Keep::Selfie)
    }

    /// Fails a movement (or the return, or the settling) that ran out of time.
    fn check_time(&mut self, frame: usize) {
        let limit = self.step_frames();
        match self.phase {
            Phase::Moving { step, started } | Phase::Returning { step, started }
                if frame - started > limit =>
            {
                self.fail(Failure::MovementNotSeen(self.challenge.0[step]));
            }
            Phase::Settling { started } if frame - started > limit => {
                self.fail(Failure::NoFrontalFrame)
            }
            _ => {}
        }
    }

    fn fraction(&self, nose: Option<[f32; 2]>) -> Option<f32> {
        let Phase::Moving { step, .. } = self.phase else { return None };
        Some(self.steps[step].direction.along(Self::movement(nose)).clamp(0.0, 1.0))
    }

    fn progress(&self, keep: Option<Keep>, fraction: Option<f32>) -> Progress {
        let frame = self.frames.saturating_sub(1);
        let left = |started: usize| {
            Some((self.step_frames() as f32 - (frame - started) as f32).max(0.0) / self.fps)
        };
        let (stage, seconds_left) = match (self.outcome, self.phase) {
            (Some(Err(f)), _) => (Stage::Failed(f), None),
            (Some(Ok(())), _) => (Stage::Passed, None),
            (None, Phase::Framing | Phase::Over) => (Stage::Framing, None),
            (None, Phase::Moving { step, started }) => (
                Stage::Moving {
                    step,
                    direction: self.challenge.0[step],
                    fraction: fraction.unwrap_or(0.0),
                },
                left(started),
            ),
            (None, Phase::Returning { step, started }) => {
                (Stage::Returning { step }, left(started))
            }
            (None, Phase::Settling { started }) => (Stage::Settling, left(started)),
        };
        Progress { stage, seconds_left, keep }
    }
}

/// Whether a face box's centre moved more than `box_widths` of its width.
fn jumped_by(before: &FaceBox, now: &FaceBox, box_widths: f32) -> bool {
    before.centre_distance(now) > box_widths * before.w.max(1.0)
}

/// Whether a face box moved or changed size more than a head can in `frames` frames.
fn jumped(before: &FaceBox, now: &FaceBox, frames: usize) -> bool {
    let ratio = now.w.max(1.0) / before.w.max(1.0);
    let growth = MAX_SIZE_CHANGE.powi(frames.min(8) as i32);
    jumped_by(before, now, MAX_JUMP_BOX_WIDTHS * frames as f32)
        || ratio > growth
        || ratio < 1.0 / growth
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Landmarks;
    use crate::liveness::geometry::tests::{nose_miss, project, HEAD};

    fn face(landmarks: Landmarks) -> Face {
        let xs = landmarks.map(|p| p[0]);
        let ys = landmarks.map(|p| p[1]);
        let (x0, x1) =
            (xs.iter().copied().fold(f32::MAX, f32::min), xs.iter().copied().fold(0.0, f32::max));
        let y0 = ys.iter().copied().fold(f32::MAX, f32::min);
        let w = (x1 - x0) * 1.8;
        let bbox = FaceBox { x: (x0 + x1) / 2.0 - w / 2.0, y: y0 - 0.5 * w, w, h: w * 1.25 };
        Face { bbox, score: 0.95, landmarks }
    }

    /// The (yaw, pitch) of each frame of a person doing `moves` at `peak` degrees: still at
    /// first, then each movement out and back, then still again.
    fn script(moves: &[Direction], peak: f32) -> Vec<(f32, f32)> {
        let mut poses = vec![(0.0, 0.0); 8];
        for d in moves {
            let (yaw, pitch) = match d {
                Direction::Left => (peak, 0.0),
                Direction::Right => (-peak, 0.0),
                Direction::Up => (0.0, peak),
                Direction::Down => (0.0, -peak),
            };
            for i in (0..=6).chain((0..6).rev()) {
                let t = i as f32 / 6.0;
                poses.push((yaw * t, pitch * t));
            }
            poses.extend([(0.0, 0.0); 2]);
        }
        poses.extend([(0.0, 0.0); 6]);
        poses
    }

    /// Runs a session over the frames a head makes at each pose, with half a pixel of
    /// alternating landmark jitter. A `flat` head is a picture whose pixels move as one plane
    /// while the detector still moves its landmarks like a head's (as YuNet does on a tilted
    /// print).
    fn run(challenge: &str, flat: bool, poses: &[(f32, f32)]) -> Session {
        let mut s = Session::new(challenge.parse().unwrap(), 15.0);
        for (i, &(yaw, pitch)) in poses.iter().enumerate() {
            let jitter = if i % 2 == 0 { 0.5 } else { -0.5 };
            let l = project(&HEAD, yaw, pitch, 500.0).map(|[x, y]| [x + jitter, y - jitter]);
            s.observe(&[face(l)], Some(nose_miss(flat, yaw, pitch)));
            if s.outcome().is_some() {
                break;
            }
        }
        s.finish(None).ok();
        s
    }

    use Direction::*;

    #[test]
    fn a_head_doing_the_asked_movements_passes() {
        let s = run("left up right", false, &script(&[Left, Up, Right], 20.0));
        assert_eq!(s.outcome(), Some(Ok(())));
        assert!(s.steps().iter().all(|st| st.done));
        assert!(s.parallax() > MOVE_PARALLAX, "{}", s.parallax());
    }

    #[test]
    fn a_flat_picture_turned_the_same_way_fails() {
        let s = run("left up right", true, &script(&[Left, Up, Right], 20.0));
        assert!(
            matches!(s.outcome(), Some(Err(Failure::Flat { movement: Left, .. }))),
            "{:?}",
            s.outcome()
        );
    }

    /// A session at 8 frames/s over `poses`, the detector's nose leaping a whole turn's worth
    /// ahead in the first `leaps` frames of the first movement while the pixels have hardly
    /// moved; the pixels are a head's, or a `flat` picture's.
    fn leaping(poses: &[(f32, f32)], leaps: usize, flat: bool) -> Session {
        let mut s = Session::new("left up right".parse().unwrap(), 8.0);
        let mut leapt = 0;
        for &(yaw, pitch) in poses {
            let mut l = project(&HEAD, yaw, pitch, 500.0);
            let mut nose = nose_miss(flat, yaw, pitch);
            let moving = matches!(s.progress(None, None).stage, Stage::Moving { step: 0, .. });
            if moving && leapt < leaps && yaw > 0.0 {
                l[2][0] += 1.5 * TURN_LANDMARKS * face_scale(&l);
                // 0.7 then 1.2 times the flat limit (0.014 and 0.024 eye distances).
                nose[0] = nose[0].min([0.7, 1.2][leapt] * MIN_PARALLAX);
                leapt += 1;
            }
            s.observe(&[face(l)], Some(nose));
        }
        assert_eq!(leapt, leaps);
        s
    }

    #[test]
    fn the_landmarks_leaping_ahead_of_the_head_for_two_frames_are_not_a_flat_picture() {
        // At 8 frames/s in a noisy feed, the detector's nose can leap a whole turn's worth in the
        // first two frames of a movement while the pixels have hardly moved yet (as a nod on the
        // generated webcam did).
        let poses = script(&[Left, Up, Right], 20.0);
        assert_eq!(leaping(&poses, 2, false).finish(None), Ok(()));
        // A picture shows the landmarks' turn for as long as it is tilted: flat.
        let mut flat = leaping(&poses, 0, true);
        assert!(matches!(flat.finish(None), Err(Failure::Flat { movement: Left, .. })));
    }

    #[test]
    fn one_frames_tracking_spike_is_neither_a_movement_nor_a_wrong_one() {
        let poses = script(&[Left, Up, Right], 20.0);
        let mut s = Session::new("left up right".parse().unwrap(), 15.0);
        let mut spiked = 0;
        for &(yaw, pitch) in &poses {
            let moving = matches!(s.progress(None, None).stage, Stage::Moving { step: 0, .. });
            let mut nose = nose_miss(false, yaw, pitch);
            // Still at the centre, the points slip for one frame each: the nose reads the asked
            // "left", then "down", each by more than a movement's parallax.
            let spike_now = moving && yaw == 0.0 && spiked < 2;
            if spike_now {
                let spike = 1.5 * MOVE_PARALLAX;
                nose = if spiked == 0 { [spike, 0.0] } else { [0.0, spike] };
                spiked += 1;
            }
            s.observe(&[face(project(&HEAD, yaw, pitch, 500.0))], Some(nose));
            if spike_now {
                assert!(
                    matches!(s.progress(None, None).stage, Stage::Moving { step: 0, .. }),
                    "a single frame counted: {:?}",
                    s.outcome()
                );
            }
        }
        assert_eq!(spiked, 2);
        assert_eq!(s.finish(None), Ok(()));
    }

    /// A session fed `frames` still frontal faces 1000 mm away (a small face, about 40 px from
    /// eyes to mouth) whose detected nose sits `bias` face units toward the image's right and
    /// wanders `jitter` either way, frame by frame.
    fn framed(bias: f32, jitter: f32, frames: usize) -> Session {
        let mut s = Session::new("left up right".parse().unwrap(), 8.0);
        for i in 0..frames {
            let mut l = project(&HEAD, 0.0, 0.0, 1000.0);
            let wander = if i % 2 == 0 { jitter } else { -jitter };
            l[2][0] += (bias + wander) * face_scale(&l);
            s.observe(&[face(l)], Some([0.0, 0.0]));
        }
        s
    }

    #[test]
    fn a_small_noisy_face_is_framed_by_its_mean_and_a_turned_one_is_not() {
        // Frames alternate 0.095 and 0.165: the second is past the frontal limit, and they
        // differ by more than FRAMING_JITTER, yet the head is still and frontal on average.
        let s = framed(0.13, 0.035, 12);
        assert_eq!(s.outcome(), None);
        assert!(matches!(s.progress(None, None).stage, Stage::Moving { step: 0, .. }));
        // Turned 0.2 on average: never a reference, whatever the jitter allows.
        let mut s = framed(0.2, 0.02, 20);
        assert_eq!(s.finish(None), Err(Failure::NotFramed));
        // Still and frontal but too small to follow (eyes 19 px apart): no attempt starts.
        let mut s = Session::new("left up right".parse().unwrap(), 8.0);
        for _ in 0..20 {
            s.observe(&[face(project(&HEAD, 0.0, 0.0, 2000.0))], Some([0.0, 0.0]));
        }
        assert_eq!(s.finish(None), Err(Failure::NotFramed));
    }

    /// A session at 8 frames/s fed 20 still frontal faces, the face (box and landmarks) moved
    /// 15 px down in the frames `off` says.
    fn blipping(off: impl Fn(usize) -> bool) -> Session {
        let mut s = Session::new("left up right".parse().unwrap(), 8.0);
        for i in 0..20 {
            let down = if off(i) { 15.0 } else { 0.0 };
            let l = project(&HEAD, 0.0, 0.0, 500.0).map(|[x, y]| [x, y + down]);
            s.observe(&[face(l)], Some([0.0, 0.0]));
        }
        s
    }

    #[test]
    fn one_frame_the_detector_places_elsewhere_does_not_undo_the_framing() {
        // On a noisy or compressed frame the detector can answer for one frame with a box 15 px
        // off: every fourth frame here, so five steady frames in a row never come.
        let s = blipping(|i| i % 4 == 3);
        assert!(matches!(s.progress(None, None).stage, Stage::Moving { .. }), "{:?}", s.outcome());
        // Two such frames in a row are a head that moved: the steady run starts again.
        let mut s = blipping(|i| i % 4 >= 2);
        assert_eq!(s.finish(None), Err(Failure::NotFramed));
    }

    #[test]
    fn the_wrong_order_fails_at_the_first_wrong_movement() {
        let s = run("left up right", false, &script(&[Right, Left, Up], 20.0));
        assert_eq!(s.outcome(), Some(Err(Failure::WrongMovement { asked: Left, seen: Right })));
    }

    #[test]
    fn a_still_face_never_does_the_movement() {
        let s = run("down left up", false, &vec![(0.0, 0.0); 40]);
        assert_eq!(s.outcome(), Some(Err(Failure::MovementNotSeen(Down))));
        assert_eq!(s.face_frames(), 40);
    }

    #[test]
    fn a_lost_face_a_jump_and_a_second_face_end_the_attempt() {
        let still = face(project(&HEAD, 0.0, 0.0, 500.0));
        let other = face(project(&HEAD, 0.0, 0.0, 520.0).map(|[x, y]| [x + 200.0, y]));
        let jumped = face(still.landmarks.map(|[x, y]| [x + 150.0, y]));
        let cases: [(Vec<Vec<Face>>, Failure); 3] = [
            ([vec![vec![still]; 8], vec![vec![]; 6]].concat(), Failure::LostFace),
            ([vec![vec![still]; 8], vec![vec![jumped]]].concat(), Failure::Jump),
            ([vec![vec![still]; 8], vec![vec![other, still]]].concat(), Failure::SecondFace),
        ];
        for (frames, expected) in cases {
            let mut s = Session::new("left up right".parse().unwrap(), 15.0);
            for f in &frames {
                s.observe(f, None);
            }
            assert_eq!(s.outcome(), Some(Err(expected)));
        }
    }
}
