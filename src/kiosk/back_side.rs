//! The document's back must be a new picture, not the front again. A scanner keeps showing
//! its newest page, which is the front until the back is scanned; a customer may also show
//! the front a second time. Neither may stand as the back.

use image::RgbImage;

use crate::alignment::align;
use crate::domain::{Embedding, Face};
use crate::embedding::{cosine, Embedder};
use crate::model_error::ModelError;

/// A face on the back this close (cosine) to the front's photo is that photo again: the
/// copy rule's value, which separate photographs of one person stay under
/// ([`crate::liveness::document_copy::COPY_COSINE`]).
pub const SAME_PHOTO_COSINE: f32 = crate::liveness::document_copy::COPY_COSINE;

/// A back's face counts as the front's photo shown again only if its width, as a share of the
/// picture, is within this factor of the front's. A ghost image (the small second copy of the
/// photo some cards print) is a third to a half of the main photo's width, and stays allowed.
pub const SAME_SIZE_FACTOR: f32 = 1.6;

/// What the back step's picture is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackCheck {
    /// The very picture taken as the front (a scanner still showing its last page).
    SamePicture,
    /// Another picture of the front: its photo, at the front's size.
    FrontAgain,
    /// A picture that may be the back.
    New,
}

/// The front as the back step compares against it.
#[derive(Debug, Clone)]
pub struct Front {
    /// The front's pixels: a scanner showing it again gives them unchanged, and a camera's
    /// frame differs from them within its first bytes, so comparing costs little.
    picture: RgbImage,
    /// The holder photo's width as a share of the picture's, and its embedding.
    photo: Option<(f32, Embedding)>,
}

impl Front {
    /// The front `picture`, whose faces (holder first) are `faces`.
    ///
    /// # Errors
    /// When the embedding model cannot be run.
    pub fn new(
        picture: &RgbImage,
        faces: &[Face],
        embedder: &mut dyn Embedder,
    ) -> Result<Front, ModelError> {
        let photo = match faces.first() {
            Some(face) => Some((width_share(face, picture), embed(picture, face, embedder)?)),
            None => None,
        };
        Ok(Front { picture: picture.clone(), photo })
    }

    /// Whether `picture`, whose faces are `faces`, can be the back of this front. The
    /// embedding runs only for a face of the front photo's size.
    ///
    /// # Errors
    /// When the embedding model cannot be run.
    pub fn check(
        &self,
        picture: &RgbImage,
        faces: &[Face],
        embedder: &mut dyn Embedder,
    ) -> Result<BackCheck, ModelError> {
        if is_same_picture(picture, &self.picture) {
            return Ok(BackCheck::SamePicture);
        }
        let Some((front_share, front_embedding)) = &self.photo else {
            return Ok(BackCheck::New);
        };
        for face in faces {
            let ratio = width_share(face, picture) / front_share.max(f32::EPSILON);
            if !(1.0 / SAME_SIZE_FACTOR..=SAME_SIZE_FACTOR).contains(&ratio) {
                continue;
            }
            if cosine(&embed(picture, face, embedder)?, front_embedding) >= SAME_PHOTO_COSINE {
                return Ok(BackCheck::FrontAgain);
            }
        }
        Ok(BackCheck::New)
    }
}

/// Whether `picture` is, pixel for pixel, `front` (a capture of the front again).
pub fn is_same_picture(picture: &RgbImage, front: &RgbImage) -> bool {
    picture.dimensions() == front.dimensions() && picture.as_raw() == front.as_raw()
}

fn width_share(face: &Face, picture: &RgbImage) -> f32 {
    face.bbox.w / picture.width().max(1) as f32
}

fn embed(
    picture: &RgbImage,
    face: &Face,
    embedder: &mut dyn Embedder,
) -> Result<Embedding, ModelError> {
    embedder.embed(&align(picture, &face.landmarks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_picture_is_every_pixel_and_the_size() {
        let picture = RgbImage::from_fn(8, 6, |x, y| image::Rgb([x as u8, y as u8, 7]));
        assert!(is_same_picture(&picture, &picture.clone()));
        let mut touched = picture.clone();
        touched.put_pixel(7, 5, image::Rgb([0, 0, 0]));
        assert!(!is_same_picture(&picture, &touched));
        let wider = RgbImage::from_fn(6, 8, |x, y| *picture.get_pixel(y, x));
        assert!(!is_same_picture(&picture, &wider));
    }
}
