//! Where the kiosk's pictures come from: the [`FrameSource`] trait, a folder of
//! pictures played as a camera ([`StillFrames`], `dir:FOLDER`) and, with the
//! `kiosk` feature, native cameras through nokhwa (`/dev/videoN`, `N`, `auto`); the
//! [`CameraSpec`] that names one and the [`DocumentSource`] the kiosk's documents come from.
//!
//! Does capture and nothing else: no detection, no UI. A camera that is missing
//! or unplugged is a [`CameraError`] the kiosk shows, never a crash.

mod folder;
pub mod identity;
#[cfg(feature = "kiosk")]
mod native;

use std::path::{Path, PathBuf};

use image::RgbImage;

pub use folder::{is_picture_file, Play, StillFrames};
pub use identity::{CameraIdentity, CameraTrust};

/// Why no frame could be had. Shown on screen as a clear message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CameraError {
    /// The folder does not exist or cannot be listed.
    #[error("camera folder {0} cannot be opened")]
    Missing(PathBuf),
    /// The folder has no JPEG or PNG image (yet).
    #[error("no picture in {0} yet")]
    Empty(PathBuf),
    /// An image in the folder cannot be read.
    #[error("picture {path} cannot be read: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A native camera cannot be opened or stopped giving frames (absent, unplugged, busy,
    /// no permission). The kiosk keeps retrying, so plugging it back in recovers.
    #[error("camera {device} is not available: {reason}")]
    Unavailable {
        /// The device, as the operator named it.
        device: String,
        /// Why, as the driver said it.
        reason: String,
    },
    /// A camera spec that names no camera, or one this build cannot open.
    #[error("{0}")]
    Unsupported(String),
}

/// A source of frames: a camera, or a folder standing in for one.
///
/// Not `Send`: native cameras belong to the thread that opened them (the kiosk's worker).
pub trait FrameSource {
    /// The next frame, upright RGB.
    ///
    /// # Errors
    /// A [`CameraError`] saying why there is no frame (unplugged, empty folder, ...).
    fn next_frame(&mut self) -> Result<RgbImage, CameraError>;

    /// No frame is wanted for a while (no capture screen is open): a camera stops
    /// streaming, so its light goes off between customers. The next frame resumes.
    fn pause(&mut self) {}

    /// What the frames come from, for the evidence of what was filmed: a native camera's
    /// identity ([`CameraIdentity`]) once it is open, a folder's path.
    fn origin(&self) -> Option<String> {
        None
    }
}

/// A camera as the command line and the operator name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraSpec {
    /// `dir:FOLDER`: a folder of pictures.
    Folder(PathBuf),
    /// `/dev/videoN` or `N`: a native camera by its index.
    Device(u32),
    /// `auto`: the first native camera found.
    Auto,
}

impl CameraSpec {
    /// Reads a spec: `dir:FOLDER`, `/dev/videoN`, `N` or `auto`.
    ///
    /// # Errors
    /// [`CameraError::Unsupported`] naming the accepted forms.
    pub fn parse(spec: &str) -> Result<CameraSpec, CameraError> {
        if let Some(dir) = spec.strip_prefix("dir:") {
            return Ok(CameraSpec::Folder(PathBuf::from(dir)));
        }
        if spec == "auto" {
            return Ok(CameraSpec::Auto);
        }
        let index = spec.strip_prefix("/dev/video").unwrap_or(spec);
        match index.parse::<u32>() {
            Ok(n) if !index.starts_with('+') => Ok(CameraSpec::Device(n)),
            _ => Err(CameraError::Unsupported(format!(
                "camera {spec:?} is not a camera: use /dev/videoN, N, auto or dir:FOLDER"
            ))),
        }
    }
}

/// The canonical spelling, which [`CameraSpec::parse`] reads back: `dir:FOLDER`,
/// `/dev/videoN` or `auto`.
impl std::fmt::Display for CameraSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CameraSpec::Folder(dir) => write!(f, "dir:{}", dir.display()),
            CameraSpec::Device(n) => write!(f, "/dev/video{n}"),
            CameraSpec::Auto => f.write_str("auto"),
        }
    }
}

/// Where the kiosk's documents come from: the selfie camera itself (`camera`), or a source
/// of their own (`dir:FOLDER`, a scanner's folder, or another camera).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentSource {
    /// `camera`: documents are held up to the selfie camera (one device, opened once).
    SelfieCamera,
    /// A source of their own.
    Own(CameraSpec),
}

impl DocumentSource {
    /// Reads `camera` or a camera spec.
    ///
    /// # Errors
    /// [`CameraError::Unsupported`] naming the accepted forms.
    pub fn parse(spec: &str) -> Result<DocumentSource, CameraError> {
        match spec {
            "camera" => Ok(DocumentSource::SelfieCamera),
            other => CameraSpec::parse(other).map(DocumentSource::Own),
        }
    }
}

/// Opens a camera; `play` says how a folder is played, `trust` which native cameras are
/// taken. A native camera that is absent now, or refused, is not an error here: its frames
/// are, until it appears (or the kiosk's own is plugged back).
///
/// # Errors
/// [`CameraError::Unsupported`] for a native camera in a build without the `kiosk` feature.
pub fn open(
    spec: &CameraSpec,
    play: Play,
    trust: &CameraTrust,
) -> Result<Box<dyn FrameSource>, CameraError> {
    match spec {
        CameraSpec::Folder(dir) => Ok(Box::new(StillFrames::new(Path::new(dir), play))),
        #[cfg(feature = "kiosk")]
        native => Ok(Box::new(native::NativeCamera::new(native.clone(), trust.clone()))),
        #[cfg(not(feature = "kiosk"))]
        _ => {
            // Trust is about native cameras, which this build has none of.
            let _ = trust;
            Err(CameraError::Unsupported(format!(
                "camera \"{spec}\": this build plays picture folders only (native cameras come with the kiosk feature)"
            )))
        }
    }
}

/// The cameras an operator can choose from: `configured` first, then every native
/// camera this device has (`/dev/videoN`), without repeats.
pub fn choices(configured: &CameraSpec) -> Vec<CameraSpec> {
    let devices: Vec<u32> = native_devices().into_iter().map(|(index, _)| index).collect();
    choices_among(configured, &devices)
}

/// One line per native camera, as `--camera` takes it, with the driver's name and what the
/// kernel says it is ([`CameraIdentity`]); empty when there is none.
pub fn describe_devices() -> Vec<String> {
    native_devices()
        .into_iter()
        .map(|(index, name)| {
            let sysfs = Path::new(identity::SYSFS);
            let what =
                CameraIdentity::read(sysfs, index).map(|i| i.to_string()).unwrap_or_default();
            format!("/dev/video{index}  {name}  {what}")
        })
        .collect()
}

/// The native cameras this device has, by index with the driver's name (none in a build
/// without the `kiosk` feature).
fn native_devices() -> Vec<(u32, String)> {
    #[cfg(feature = "kiosk")]
    return native::devices_named();
    #[cfg(not(feature = "kiosk"))]
    Vec::new()
}

fn choices_among(configured: &CameraSpec, devices: &[u32]) -> Vec<CameraSpec> {
    let others =
        devices.iter().map(|n| CameraSpec::Device(*n)).filter(|device| device != configured);
    std::iter::once(configured.clone()).chain(others).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_name_folders_devices_or_auto_and_nothing_else() {
        assert_eq!(CameraSpec::parse("dir:/tmp/cam"), Ok(CameraSpec::Folder("/tmp/cam".into())));
        assert_eq!(CameraSpec::parse("/dev/video2"), Ok(CameraSpec::Device(2)));
        assert_eq!(CameraSpec::parse("0"), Ok(CameraSpec::Device(0)));
        assert_eq!(CameraSpec::parse("auto"), Ok(CameraSpec::Auto));
        for bad in ["", "/dev/video", "/dev/videoX", "+1", "-1", "webcam", "/dev/sda"] {
            let err = CameraSpec::parse(bad).unwrap_err();
            assert!(matches!(err, CameraError::Unsupported(_)), "{bad:?}: {err}");
            assert!(err.to_string().contains("dir:FOLDER"), "{bad:?}: {err}");
        }
        for spec in ["dir:/tmp/cam", "/dev/video2", "auto"] {
            assert_eq!(CameraSpec::parse(spec).unwrap().to_string(), spec, "read back");
        }
        assert_eq!(DocumentSource::parse("camera"), Ok(DocumentSource::SelfieCamera));
        assert_eq!(
            DocumentSource::parse("dir:/tmp/scanner"),
            Ok(DocumentSource::Own(CameraSpec::Folder("/tmp/scanner".into())))
        );
        assert!(DocumentSource::parse("scanner").is_err());
    }

    #[test]
    fn an_absent_native_camera_opens_and_then_says_why_it_gives_no_frame() {
        assert!(
            open(&CameraSpec::Folder("/tmp".into()), Play::Loop, &CameraTrust::default()).is_ok()
        );
        #[cfg(feature = "kiosk")]
        {
            // No /dev/video63 on a build machine: a clear error per frame, never a panic.
            let mut camera =
                open(&CameraSpec::Device(63), Play::Loop, &CameraTrust::default()).unwrap();
            match camera.next_frame() {
                Err(CameraError::Unavailable { device, reason }) => {
                    assert_eq!(device, "/dev/video63");
                    assert!(!reason.is_empty());
                }
                other => panic!("expected Unavailable, got {other:?}"),
            }
        }
    }

    #[test]
    fn the_configured_camera_is_the_first_choice_and_not_repeated() {
        let spelled = |configured: &str, devices: &[u32]| -> Vec<String> {
            let configured = CameraSpec::parse(configured).unwrap();
            choices_among(&configured, devices).iter().map(ToString::to_string).collect()
        };
        assert_eq!(spelled("dir:/tmp/cam", &[]), ["dir:/tmp/cam"]);
        assert_eq!(
            spelled("dir:/tmp/cam", &[0, 2]),
            ["dir:/tmp/cam", "/dev/video0", "/dev/video2"]
        );
        assert_eq!(spelled("0", &[0, 2]), ["/dev/video0", "/dev/video2"]);
        assert_eq!(spelled("/dev/video2", &[0, 2]), ["/dev/video2", "/dev/video0"]);
        let folder = CameraSpec::Folder("/tmp/cam".into());
        assert_eq!(choices(&folder)[0], folder);
    }
}
