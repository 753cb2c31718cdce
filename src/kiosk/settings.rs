//! The operator's choices (threshold, default document type, camera, language) kept in a
//! small TOML file, so a restart or a power cut does not undo them.
//!
//! Written whole to a temporary file, synced and renamed over the old one: a
//! crash leaves either the old choices or the new ones, never half a file.

use std::path::{Path, PathBuf};

use crate::domain::DocumentType;
use crate::matching::Threshold;

/// Why the saved choices cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The settings file.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// The file is not valid, or holds a value out of range.
    #[error("{path}: {reason}")]
    Invalid {
        /// The settings file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// The choices an operator made on the kiosk; `None` keeps the command line's value.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorChoices {
    /// Match threshold in percent (1-100).
    pub threshold: Option<f64>,
    /// Preselected document type: UIDAI, DL, PAN, VOTER, PASSPORT or GOV.
    pub doc_type: Option<String>,
    /// The selfie camera spec (`/dev/videoN`, `N`, `auto` or `dir:FOLDER`).
    pub camera: Option<String>,
    /// The language sessions start in: en, hi, ta or bn.
    pub language: Option<String>,
}

impl OperatorChoices {
    /// The saved threshold, if it is one.
    pub fn threshold(&self) -> Option<Threshold> {
        self.threshold.and_then(|t| Threshold::new(t).ok())
    }

    /// The saved language, if it is one.
    pub fn language(&self) -> Option<super::language::Language> {
        self.language.as_deref().and_then(|l| l.parse().ok())
    }

    /// The saved camera, if it is one.
    pub fn camera(&self) -> Option<crate::camera::CameraSpec> {
        self.camera.as_deref().and_then(|c| crate::camera::CameraSpec::parse(c).ok())
    }

    /// The saved document type, if it is one.
    pub fn document_type(&self) -> Option<DocumentType> {
        self.doc_type.as_deref().and_then(|t| t.parse().ok())
    }

    fn check(&self) -> Result<(), String> {
        if let Some(t) = self.threshold {
            Threshold::new(t).map_err(|e| e.to_string())?;
        }
        if let Some(name) = &self.doc_type {
            name.parse::<DocumentType>().map_err(|e| format!("doc_type: {e}"))?;
        }
        if let Some(language) = &self.language {
            language.parse::<super::language::Language>().map_err(|e| format!("language: {e}"))?;
        }
        if let Some(camera) = &self.camera {
            crate::camera::CameraSpec::parse(camera).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// Reads the saved choices; a file that does not exist yet means none were made.
///
/// # Errors
/// [`SettingsError`] when the file cannot be read, is not TOML of this shape, or holds
/// a value out of range.
pub fn load(path: &Path) -> Result<OperatorChoices, SettingsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(OperatorChoices::default()),
        Err(source) => return Err(SettingsError::Io { path: path.to_path_buf(), source }),
    };
    let invalid = |reason: String| SettingsError::Invalid { path: path.to_path_buf(), reason };
    let choices: OperatorChoices = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    choices.check().map_err(invalid)?;
    Ok(choices)
}

/// Saves the choices, replacing the file in one step.
///
/// # Errors
/// [`SettingsError`] when the folder is not writable or the disk is full; the old file
/// is then untouched.
pub fn save(path: &Path, choices: &OperatorChoices) -> Result<(), SettingsError> {
    let io = |source| SettingsError::Io { path: path.to_path_buf(), source };
    choices
        .check()
        .map_err(|reason| SettingsError::Invalid { path: path.to_path_buf(), reason })?;
    let text = toml::to_string(choices)
        .map_err(|e| SettingsError::Invalid { path: path.to_path_buf(), reason: e.to_string() })?;
    let content = format!("# Written by the facematch kiosk's operator screen.\n{text}");
    crate::atomic_file::replace(path, content.as_bytes()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_survive_a_save_and_a_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kiosk-settings.toml");
        assert_eq!(load(&path).unwrap(), OperatorChoices::default());
        let choices = OperatorChoices {
            threshold: Some(90.0),
            doc_type: Some("PASSPORT".into()),
            camera: Some("/dev/video2".into()),
            language: Some("ta".into()),
        };
        save(&path, &choices).unwrap();
        assert_eq!(load(&path).unwrap(), choices);
        assert_eq!(load(&path).unwrap().document_type(), Some(DocumentType::Passport));
        let again = OperatorChoices { threshold: Some(80.0), ..choices };
        save(&path, &again).unwrap();
        assert_eq!(load(&path).unwrap(), again);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(left.len(), 1, "no temporary file is left: {left:?}");
    }

    #[test]
    fn a_damaged_or_out_of_range_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        for (text, expected) in [
            ("threshold = 150", "outside 1-100"),
            ("doc_type = \"CARD\"", "is not one of UIDAI"),
            ("camera = \"webcam\"", "dir:FOLDER"),
            ("language = \"fr\"", "one of en, hi, ta, bn"),
            ("threshold = \"high\"", "invalid type"),
            ("colour = 1", "unknown field"),
            ("threshold = ", "threshold"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = load(&path).unwrap_err().to_string();
            assert!(err.contains(expected) && err.contains("s.toml"), "{text:?}: {err}");
        }
    }

    #[test]
    fn a_failed_save_leaves_the_old_choices() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        let old = OperatorChoices { threshold: Some(88.0), ..Default::default() };
        save(&path, &old).unwrap();
        let bad = OperatorChoices { threshold: Some(0.0), ..Default::default() };
        assert!(save(&path, &bad).is_err());
        assert!(save(&dir.path().join("no/such/folder/s.toml"), &old).is_err());
        assert_eq!(load(&path).unwrap(), old);
    }
}
