//! YuNet on TensorFlow Lite: runs the model and hands its outputs to
//! [`crate::detection::yunet`] for decoding.

use std::path::Path;

use image::RgbImage;

use super::runtime::{LoadedModel, ReadModel};
use crate::detection::yunet::{faces_in, fits_at_scale, letterbox_into, InputShape, WIDE_640};
use crate::detection::{Detector, InputSize};
use crate::domain::Face;
use crate::inference::models::{YUNET_320, YUNET_640, YUNET_640_WIDE};
use crate::inference::RuntimeOptions;
use crate::model_error::ModelError;

/// YuNet at 320×320, at 640×416 for wide pages, and at 640×640 for the other pages.
///
/// The two 640 models are read and checked at load but each is compiled on its first use:
/// compiled, each holds XNNPACK's working memory for its input (tens of MB), and most processes
/// need only one of them (a card or a camera frame the wide one; a portrait page, a page
/// searched turned a quarter or in tiles, or a tight crop retried with a border the square one).
pub struct TfliteDetector {
    small: LoadedModel,
    wide: OnDemand,
    square: OnDemand,
    options: RuntimeOptions,
}

/// A model compiled the first time it is asked for (not run on zeros first, as the models loaded
/// up front are: the picture it is asked for is its first run).
struct OnDemand {
    model: ReadModel,
    shape: InputShape,
    compiled: Option<LoadedModel>,
}

impl OnDemand {
    fn new(model: ReadModel, shape: InputShape) -> OnDemand {
        OnDemand { model, shape, compiled: None }
    }

    /// The compiled model, compiled now if it was not yet.
    fn get(&mut self, options: RuntimeOptions) -> Result<&mut LoadedModel, ModelError> {
        let compiled = match self.compiled.take() {
            Some(compiled) => compiled,
            None => {
                let compiled = self.model.compile(options)?;
                check_layout(&compiled, self.shape)?;
                compiled
            }
        };
        Ok(self.compiled.insert(compiled))
    }
}

impl TfliteDetector {
    /// Loads the 320 model from `dir`, and reads and checks the two 640 ones.
    ///
    /// # Errors
    /// A missing/altered model or a runtime failure.
    pub fn load(dir: &Path, options: RuntimeOptions) -> Result<TfliteDetector, ModelError> {
        let small = LoadedModel::load(dir, YUNET_320, options)?;
        check_layout(&small, InputShape::square(320))?;
        Ok(TfliteDetector {
            small,
            wide: OnDemand::new(ReadModel::read(dir, YUNET_640_WIDE)?, WIDE_640),
            square: OnDemand::new(ReadModel::read(dir, YUNET_640)?, InputShape::square(640)),
            options,
        })
    }

    /// The model for a picture of `width`×`height` at `size`, and its input shape.
    fn model_for(
        &mut self,
        width: u32,
        height: u32,
        size: InputSize,
    ) -> Result<(&mut LoadedModel, InputShape), ModelError> {
        let on_demand = match size {
            InputSize::S320 => return Ok((&mut self.small, InputShape::square(size.side()))),
            InputSize::S640 if fits_at_scale(width, height, size.side(), WIDE_640) => {
                &mut self.wide
            }
            InputSize::S640 => &mut self.square,
        };
        let shape = on_demand.shape;
        Ok((on_demand.get(self.options)?, shape))
    }
}

/// The model takes a `shape` input and gives YuNet's 12 outputs.
fn check_layout(model: &LoadedModel, shape: InputShape) -> Result<(), ModelError> {
    let input = model.input_shape();
    let expected = [1, shape.height as usize, shape.width as usize, 3];
    if input != expected || model.output_count() != 12 {
        return Err(ModelError::UnexpectedLayout {
            model: model.file.name,
            detail: format!("input {input:?} with {} outputs", model.output_count()),
        });
    }
    Ok(())
}

impl Detector for TfliteDetector {
    fn detect(
        &mut self,
        image: &RgbImage,
        size: InputSize,
        min_score: f32,
    ) -> Result<Vec<Face>, ModelError> {
        let (model, shape) = self.model_for(image.width(), image.height(), size)?;
        let scale = model.run_filled(|input| letterbox_into(image, shape, input))?;
        let outputs =
            (0..model.output_count()).map(|i| model.output(i)).collect::<Result<Vec<_>, _>>()?;
        faces_in(&outputs, shape, scale, min_score)
            .map_err(|detail| ModelError::UnexpectedLayout { model: model.file.name, detail })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::MIN_SCORE;
    use crate::inference::models::locate_dir;

    #[test]
    fn each_640_model_is_compiled_only_for_a_page_that_needs_it() {
        let mut detector =
            TfliteDetector::load(&locate_dir(None), RuntimeOptions::default()).unwrap();
        let compiled =
            |d: &TfliteDetector| (d.wide.compiled.is_some(), d.square.compiled.is_some());
        assert_eq!(compiled(&detector), (false, false));
        // A selfie goes to the 320 model.
        detector.detect(&RgbImage::new(540, 856), InputSize::S320, MIN_SCORE).unwrap();
        assert_eq!(compiled(&detector), (false, false));
        // A card and a 16:9 frame fit the wide input.
        for (w, h) in [(856, 540), (1280, 720)] {
            detector.detect(&RgbImage::new(w, h), InputSize::S640, MIN_SCORE).unwrap();
        }
        assert_eq!(compiled(&detector), (true, false));
        // A portrait page does not.
        detector.detect(&RgbImage::new(540, 856), InputSize::S640, MIN_SCORE).unwrap();
        assert_eq!(compiled(&detector), (true, true));
    }
}
