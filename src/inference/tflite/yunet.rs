//! YuNet on TensorFlow Lite: runs the model and hands its outputs to
//! [`crate::detection::yunet`] for decoding.

use std::path::Path;

use image::RgbImage;

use super::runtime::{LoadedModel, ReadModel};
use crate::detection::yunet::{faces_in, input_640, letterbox_into, InputShape, INPUTS_640};
use crate::detection::{Detector, InputSize};
use crate::domain::Face;
use crate::inference::models::{
    ModelFile, YUNET_160, YUNET_320, YUNET_640, YUNET_640_LANDSCAPE, YUNET_640_PORTRAIT,
    YUNET_640_WIDE,
};
use crate::inference::RuntimeOptions;
use crate::model_error::ModelError;

/// YuNet at 160×160 (the turn check's look around a face), at 320×320, and at the 640 scale in
/// one model per page shape ([`INPUTS_640`]: 640×416 for cards and 16:9 frames, 640×480 for
/// passports' data pages and 4:3 frames, 480×640 for portrait pages, 640×640 for the others).
///
/// The 640 models are read and checked at load but each is compiled on its first use: compiled,
/// each holds XNNPACK's working memory for its input (tens of MB), and most processes need only
/// one or two of them (a card the wide one; a page searched turned a quarter or in tiles, or a
/// tight crop retried with a border, the square one too).
pub struct TfliteDetector {
    tiny: LoadedModel,
    small: LoadedModel,
    /// In the order of [`INPUTS_640`].
    pages: [OnDemand; INPUTS_640.len()],
    options: RuntimeOptions,
}

/// The model of each input of [`INPUTS_640`], in its order.
const MODELS_640: [ModelFile; INPUTS_640.len()] =
    [YUNET_640_WIDE, YUNET_640_LANDSCAPE, YUNET_640_PORTRAIT, YUNET_640];

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
    /// Loads the 160 and 320 models from `dir`, and reads and checks the 640 ones.
    ///
    /// # Errors
    /// A missing/altered model or a runtime failure.
    pub fn load(dir: &Path, options: RuntimeOptions) -> Result<TfliteDetector, ModelError> {
        let tiny = LoadedModel::load(dir, YUNET_160, options)?;
        check_layout(&tiny, InputShape::square(160))?;
        let small = LoadedModel::load(dir, YUNET_320, options)?;
        check_layout(&small, InputShape::square(320))?;
        let read =
            |i: usize| Ok(OnDemand::new(ReadModel::read(dir, MODELS_640[i])?, INPUTS_640[i]));
        let pages = [read(0)?, read(1)?, read(2)?, read(3)?];
        Ok(TfliteDetector { tiny, small, pages, options })
    }

    /// The model for a picture of `width`×`height` at `size`, and its input shape.
    fn model_for(
        &mut self,
        width: u32,
        height: u32,
        size: InputSize,
    ) -> Result<(&mut LoadedModel, InputShape), ModelError> {
        let shape = match size {
            InputSize::S160 => return Ok((&mut self.tiny, InputShape::square(size.side()))),
            InputSize::S320 => return Ok((&mut self.small, InputShape::square(size.side()))),
            InputSize::S640 => input_640(width, height),
        };
        let i = INPUTS_640.iter().position(|&s| s == shape).unwrap_or(INPUTS_640.len() - 1);
        let on_demand = &mut self.pages[i];
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
        let compiled = |d: &TfliteDetector| d.pages.each_ref().map(|p| p.compiled.is_some());
        assert_eq!(compiled(&detector), [false; 4]);
        // A selfie goes to the 320 model.
        detector.detect(&RgbImage::new(540, 856), InputSize::S320, MIN_SCORE).unwrap();
        assert_eq!(compiled(&detector), [false; 4]);
        // A card and a 16:9 frame fit the wide input.
        for (w, h) in [(856, 540), (1280, 720)] {
            detector.detect(&RgbImage::new(w, h), InputSize::S640, MIN_SCORE).unwrap();
        }
        assert_eq!(compiled(&detector), [true, false, false, false]);
        // A portrait page, then a passport's data page, then a nearly square photo.
        detector.detect(&RgbImage::new(540, 856), InputSize::S640, MIN_SCORE).unwrap();
        assert_eq!(compiled(&detector), [true, false, true, false]);
        detector.detect(&RgbImage::new(1250, 880), InputSize::S640, MIN_SCORE).unwrap();
        assert_eq!(compiled(&detector), [true, true, true, false]);
        detector.detect(&RgbImage::new(910, 1137), InputSize::S640, MIN_SCORE).unwrap();
        assert_eq!(compiled(&detector), [true; 4]);
        // Each compiled model takes the input it is chosen for.
        for page in &detector.pages {
            let model = page.compiled.as_ref().unwrap();
            check_layout(model, page.shape).unwrap();
        }
    }
}
