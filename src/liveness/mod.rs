//! Liveness: proof that a living person stands in front of the kiosk's camera, not a print,
//! a screen, a replayed video or the ID card held up (README "Liveness").
//!
//! The person is asked for a few head movements in a random order ([`challenge`]); the
//! attempt passes only if each happens in order, the five landmarks move like a 3-D head
//! and not like a flat picture ([`geometry`]), one face is followed throughout
//! ([`session`]), and frames along the way show the same person as the selfie taken at the
//! end (`check`). A selfie that is the document's own printed photo is refused apart
//! ([`document_copy`]). No passive (single-image) model ships; [`passive`] is the seam one
//! would plug into.

pub mod challenge;
pub mod document_copy;
pub mod flash;
pub mod flow;
pub mod geometry;
pub mod passive;
pub mod session;

pub use challenge::{Challenge, Direction};
pub use session::{Failure, Keep, Progress, Session, Stage, StepResult};
pub mod check;

pub use check::{check, Attempt, FaintFlash, Report};
