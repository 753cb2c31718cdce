//! The ID card held up to the selfie camera: besides moving like a flat picture, its face is
//! the document's own printed photo, closer to the document's face than two separate
//! photographs of one living person come.

use crate::matching::Score;

/// Cosine similarity from which a selfie is taken to be a copy of the document's photo.
/// Measured with `cargo run --release -p facematch-lab --example document_copy` (README "Liveness"): the 242
/// pairs of separate photographs of one person in `../shared/faces` reach at most 0.870; a
/// card printed with a photo, held up to the camera, against its own scan: median 0.875, and
/// its share at or above this value is in the README.
pub const COPY_COSINE: f32 = 0.90;

/// Whether a selfie scoring `score` against a document side is that side's own photo.
pub fn is_document_copy(score: Score) -> bool {
    score.cosine >= COPY_COSINE
}
