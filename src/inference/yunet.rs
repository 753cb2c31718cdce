//! YuNet on TensorFlow Lite: runs the model and hands its outputs to
//! [`crate::detection::yunet`] for decoding.

use std::path::Path;

use image::RgbImage;

use super::models::{YUNET_320, YUNET_640};
use super::runtime::LoadedModel;
use super::RuntimeOptions;
use crate::detection::yunet::{decode, letterbox, StrideOutputs};
use crate::detection::{nms::nms, Detector, InputSize, NMS_IOU};
use crate::domain::Face;
use crate::model_error::ModelError;

/// YuNet at 320×320 and 640×640.
pub struct TfliteDetector {
    small: LoadedModel,
    large: LoadedModel,
}

impl TfliteDetector {
    /// Loads both input sizes from `dir`.
    ///
    /// # Errors
    /// A missing/altered model or a runtime failure.
    pub fn load(dir: &Path, options: RuntimeOptions) -> Result<TfliteDetector, ModelError> {
        let small = LoadedModel::load(dir, YUNET_320, options)?;
        let large = LoadedModel::load(dir, YUNET_640, options)?;
        for (model, side) in [(&small, 320), (&large, 640)] {
            let shape = model.input_shape()?;
            if shape != [1, side, side, 3] || model.output_count() != 12 {
                return Err(ModelError::UnexpectedLayout {
                    model: model.file.name,
                    detail: format!("input {shape:?} with {} outputs", model.output_count()),
                });
            }
        }
        Ok(TfliteDetector { small, large })
    }

    /// Runs the model on a prepared input and returns faces before NMS.
    fn raw_faces(
        model: &LoadedModel,
        input: &[f32],
        side: u32,
        scale: f32,
        min_score: f32,
    ) -> Result<Vec<Face>, ModelError> {
        model.run(input)?;
        let outputs =
            (0..model.output_count()).map(|i| model.output(i)).collect::<Result<Vec<_>, _>>()?;
        let mut levels = Vec::with_capacity(3);
        for stride in [8u32, 16, 32] {
            let cells = ((side / stride) * (side / stride)) as usize;
            let with = |last: usize| -> Vec<&[f32]> {
                outputs
                    .iter()
                    .filter(|(shape, _)| shape[..] == [1, cells, last])
                    .map(|(_, d)| d.as_slice())
                    .collect()
            };
            let (scores, bbox, kps) = (with(1), with(4), with(10));
            if scores.len() != 2 || bbox.len() != 1 || kps.len() != 1 {
                return Err(ModelError::UnexpectedLayout {
                    model: model.file.name,
                    detail: format!("stride {stride}: outputs do not match [1,{cells},1|4|10]"),
                });
            }
            // cls and obj enter the score symmetrically (sqrt of their product), so their order does not matter.
            levels.push((stride, scores[0], scores[1], bbox[0], kps[0]));
        }
        let levels: Vec<StrideOutputs<'_>> = levels
            .into_iter()
            .map(|(stride, cls, obj, bbox, kps)| StrideOutputs { stride, cls, obj, bbox, kps })
            .collect();
        Ok(decode(&levels, side, scale, min_score))
    }
}

impl Detector for TfliteDetector {
    fn detect(
        &mut self,
        image: &RgbImage,
        size: InputSize,
        min_score: f32,
    ) -> Result<Vec<Face>, ModelError> {
        let model = match size {
            InputSize::S320 => &self.small,
            InputSize::S640 => &self.large,
        };
        let (input, scale) = letterbox(image, size.side());
        Ok(nms(Self::raw_faces(model, &input, size.side(), scale, min_score)?, NMS_IOU))
    }
}
