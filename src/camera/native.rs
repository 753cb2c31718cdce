//! Native cameras (USB/CSI, V4L2 on Linux) through nokhwa.
//!
//! A camera that is absent, busy or unplugged gives [`CameraError::Unavailable`]
//! frames and is reopened at most once a second, so plugging it back in
//! recovers the kiosk without a restart. MJPEG frames are decoded by the same
//! intake as uploaded pictures (truncated frames are refused, not shown grey).

use std::time::{Duration, Instant};

use image::RgbImage;
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
};
use nokhwa::{Buffer, Camera};

use super::{CameraError, CameraIdentity, CameraSpec, CameraTrust, FrameSource};

/// How long an unavailable camera is left alone before it is tried again.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// The preferred picture height: enough for a document photo, light enough for a Pi's CPU.
const WANTED_HEIGHT: u32 = 720;

/// A native camera, opened on first use and reopened after it fails; only a camera `trust`
/// admits is opened.
pub struct NativeCamera {
    spec: CameraSpec,
    trust: CameraTrust,
    camera: Option<Camera>,
    /// The open device's index and identity.
    identity: Option<(u32, CameraIdentity)>,
    retry_at: Option<Instant>,
    last_reason: String,
}

impl NativeCamera {
    /// A camera for `spec` (a device index or `auto`); nothing is opened yet.
    pub fn new(spec: CameraSpec, trust: CameraTrust) -> NativeCamera {
        NativeCamera {
            spec,
            trust,
            camera: None,
            identity: None,
            retry_at: None,
            last_reason: String::new(),
        }
    }

    fn device_name(&self) -> String {
        self.spec.to_string()
    }

    fn unavailable(&self, reason: String) -> CameraError {
        CameraError::Unavailable { device: self.device_name(), reason }
    }

    fn connect(&self) -> Result<(Camera, (u32, CameraIdentity)), String> {
        // Which device this is decides whether it is opened at all (read again at every
        // reopening: another device may have taken its place); `auto` takes the first admitted.
        let sysfs = std::path::Path::new(super::identity::SYSFS);
        let admitted = |index: u32| -> Result<(u32, CameraIdentity), String> {
            let identity = CameraIdentity::read(sysfs, index)?;
            self.trust.admit(&format!("/dev/video{index}"), &identity)?;
            Ok((index, identity))
        };
        let (index, identity) = match self.spec {
            CameraSpec::Device(n) => admitted(n)?,
            _ => {
                let mut refusals = Vec::new();
                let mut first = None;
                for (index, _) in devices_named() {
                    match admitted(index) {
                        Ok(found) => {
                            first = Some(found);
                            break;
                        }
                        Err(reason) => refusals.push(reason),
                    }
                }
                match first {
                    Some(found) => found,
                    None if refusals.is_empty() => return Err("no camera is connected".into()),
                    None => return Err(refusals.join("; ")),
                }
            }
        };
        // On Linux the mode is chosen and set through V4L2 itself, then opened as it is;
        // elsewhere, or when V4L2 lists no mode this can read, nokhwa's list is used.
        #[cfg(target_os = "linux")]
        let chosen = v4l2::set_best_format(index)?;
        #[cfg(not(target_os = "linux"))]
        let chosen: Option<CameraFormat> = None;
        let request = match chosen {
            Some(format) => RequestedFormatType::Exact(format),
            None => RequestedFormatType::AbsoluteHighestFrameRate,
        };
        let request = RequestedFormat::new::<RgbFormat>(request);
        let mut camera =
            Camera::new(CameraIndex::Index(index), request).map_err(|e| e.to_string())?;
        if chosen.is_none() {
            let offered = camera.compatible_camera_formats().ok();
            if let Some(best) = offered.and_then(|f| choose_format(&f)) {
                if best != camera.camera_format() {
                    let exact = RequestedFormat::new::<RgbFormat>(RequestedFormatType::Exact(best));
                    camera.set_camera_requset(exact).map_err(|e| e.to_string())?;
                }
            }
        }
        camera.open_stream().map_err(|e| e.to_string())?;
        // The device was opened by its index after its identity was read: the same identity
        // must be there now, or another device took the index in between. (A later swap ends
        // this stream: the device it reads is gone.)
        if CameraIdentity::read(sysfs, index).as_ref() != Ok(&identity) {
            return Err(format!(
                "refused: /dev/video{index} changed while it was being opened (it was {identity})"
            ));
        }
        let f = camera.camera_format();
        log::info!(
            "camera {}: {}x{} {} at {} frames/s, {identity}",
            self.device_name(),
            f.width(),
            f.height(),
            f.format(),
            f.frame_rate()
        );
        Ok((camera, (index, identity)))
    }
}

impl FrameSource for NativeCamera {
    fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
        if self.camera.is_none() {
            if self.retry_at.is_some_and(|at| Instant::now() < at) {
                return Err(self.unavailable(self.last_reason.clone()));
            }
            match self.connect() {
                Ok((camera, identity)) => {
                    self.camera = Some(camera);
                    self.identity = Some(identity);
                }
                Err(reason) => {
                    self.retry_at = Some(Instant::now() + RETRY_EVERY);
                    self.last_reason = reason.clone();
                    return Err(self.unavailable(reason));
                }
            }
        }
        let Some(camera) = self.camera.as_mut() else {
            return Err(self.unavailable(self.last_reason.clone()));
        };
        match camera.frame() {
            Ok(buffer) => decode(&buffer).map_err(|reason| self.unavailable(reason)),
            Err(e) => {
                // Unplugged or failing: close it and reopen later.
                self.camera = None;
                self.identity = None;
                self.retry_at = Some(Instant::now() + RETRY_EVERY);
                self.last_reason = e.to_string();
                Err(self.unavailable(e.to_string()))
            }
        }
    }

    fn pause(&mut self) {
        self.camera = None;
        self.identity = None;
        self.retry_at = None;
    }

    fn origin(&self) -> Option<String> {
        self.identity.as_ref().map(|(index, identity)| format!("/dev/video{index} {identity}"))
    }
}

/// The camera's formats as V4L2 gives them, read and set here: nokhwa reads a frame interval of
/// 2/25 s (12.5 frames/s, common on webcams) as 25 frames/s, and refuses to open a camera whose
/// current interval is not 1/N s.
#[cfg(target_os = "linux")]
mod v4l2 {
    use nokhwa::utils::{CameraFormat, FrameFormat};
    use v4l::frameinterval::FrameIntervalEnum;
    use v4l::framesize::FrameSizeEnum;
    use v4l::video::capture::Parameters;
    use v4l::video::Capture;
    use v4l::{Format, FourCC};

    /// Sizes tried within a range of frame sizes (a CSI camera lists one range, e.g.
    /// 32-2592 × 16-1944 in steps of 2, not its modes): the common ones, and the largest.
    const RANGE_SIZES: [(u32, u32); 3] = [(640, 480), (1280, 720), (1920, 1080)];
    /// Frame rates tried within a range of frame intervals.
    const RANGE_RATES: [u32; 3] = [30, 15, 10];

    fn sizes(size: FrameSizeEnum) -> Vec<(u32, u32)> {
        match size {
            FrameSizeEnum::Discrete(d) => vec![(d.width, d.height)],
            FrameSizeEnum::Stepwise(r) => {
                let fits = |v: u32, min: u32, max: u32, step: u32| {
                    (min..=max).contains(&v) && (step == 0 || (v - min).is_multiple_of(step))
                };
                let mut sizes: Vec<(u32, u32)> = RANGE_SIZES
                    .into_iter()
                    .filter(|&(w, h)| {
                        fits(w, r.min_width, r.max_width, r.step_width)
                            && fits(h, r.min_height, r.max_height, r.step_height)
                    })
                    .collect();
                sizes.push((r.max_width, r.max_height));
                sizes
            }
        }
    }

    fn rates(interval: FrameIntervalEnum) -> Vec<u32> {
        match interval {
            FrameIntervalEnum::Discrete(f) if f.numerator == 1 => vec![f.denominator],
            FrameIntervalEnum::Discrete(_) => Vec::new(),
            // 1/fps s within [min, max]: the driver rounds to its step.
            FrameIntervalEnum::Stepwise(r) => RANGE_RATES
                .into_iter()
                .filter(|&fps| {
                    u64::from(r.min.denominator) >= u64::from(fps) * u64::from(r.min.numerator)
                        && u64::from(r.max.denominator)
                            <= u64::from(fps) * u64::from(r.max.numerator)
                })
                .collect(),
        }
    }

    /// The modes `/dev/videoN` offers at whole frame rates, in the pixel formats nokhwa decodes.
    fn whole_rate_formats(device: &v4l::Device) -> Result<Vec<CameraFormat>, String> {
        let mut formats = Vec::new();
        let descriptions = device.enum_formats().map_err(|e| format!("its formats: {e}"))?;
        for description in descriptions {
            let Some(kind) = frame_format(description.fourcc) else { continue };
            for size in device.enum_framesizes(description.fourcc).unwrap_or_default() {
                for (width, height) in sizes(size.size) {
                    let intervals = device
                        .enum_frameintervals(description.fourcc, width, height)
                        .unwrap_or_default();
                    for fps in intervals.into_iter().flat_map(|i| rates(i.interval)) {
                        formats.push(CameraFormat::new_from(width, height, kind, fps));
                    }
                }
            }
        }
        Ok(formats)
    }

    fn frame_format(fourcc: FourCC) -> Option<FrameFormat> {
        match &fourcc.repr {
            b"MJPG" => Some(FrameFormat::MJPEG),
            b"YUYV" => Some(FrameFormat::YUYV),
            b"NV12" => Some(FrameFormat::NV12),
            b"GREY" => Some(FrameFormat::GRAY),
            b"RGB3" => Some(FrameFormat::RAWRGB),
            b"BGR3" => Some(FrameFormat::RAWBGR),
            _ => None,
        }
    }

    fn fourcc(kind: FrameFormat) -> FourCC {
        FourCC::new(match kind {
            FrameFormat::MJPEG => b"MJPG",
            FrameFormat::YUYV => b"YUYV",
            FrameFormat::NV12 => b"NV12",
            FrameFormat::GRAY => b"GREY",
            FrameFormat::RAWRGB => b"RGB3",
            FrameFormat::RAWBGR => b"BGR3",
        })
    }

    /// Chooses `/dev/video{index}`'s mode ([`super::choose_format`] over its whole-rate modes)
    /// and sets it, frame rate included; None when it lists none this can read.
    pub fn set_best_format(index: u32) -> Result<Option<CameraFormat>, String> {
        let name = format!("/dev/video{index}");
        let device = v4l::Device::new(index as usize).map_err(|e| format!("{name}: {e}"))?;
        let offered = whole_rate_formats(&device).map_err(|e| format!("{name}: {e}"))?;
        let Some(best) = super::choose_format(&offered) else { return Ok(None) };
        let format = Format::new(best.width(), best.height(), fourcc(best.format()));
        device.set_format(&format).map_err(|e| format!("{name}: setting {best}: {e}"))?;
        let set = device
            .set_params(&Parameters::with_fps(best.frame_rate()))
            .map_err(|e| format!("{name}: setting {best}: {e}"))?;
        if set.interval.numerator != 1 {
            return Err(format!(
                "{name} kept {}/{} s per frame when asked for {best}",
                set.interval.numerator, set.interval.denominator
            ));
        }
        Ok(Some(best))
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use v4l::{frameinterval, framesize, Fraction};

        #[test]
        fn a_range_of_sizes_or_intervals_gives_a_few_modes_not_every_step() {
            let csi = |step| framesize::Stepwise {
                min_width: 32,
                max_width: 2592,
                step_width: step,
                min_height: 16,
                max_height: 1944,
                step_height: step,
            };
            let found = sizes(FrameSizeEnum::Stepwise(csi(2)));
            assert_eq!(found, vec![(640, 480), (1280, 720), (1920, 1080), (2592, 1944)]);
            assert_eq!(sizes(FrameSizeEnum::Stepwise(csi(0))).len(), 4, "a zero step is no panic");
            assert_eq!(sizes(FrameSizeEnum::Stepwise(csi(7))), vec![(2592, 1944)], "off the grid");
            let range = frameinterval::Stepwise {
                min: Fraction::new(1, 20),
                max: Fraction::new(1, 1),
                step: Fraction::new(1, 1000),
            };
            assert_eq!(rates(FrameIntervalEnum::Stepwise(range)), vec![15, 10]);
            assert_eq!(rates(FrameIntervalEnum::Discrete(Fraction::new(2, 25))), Vec::<u32>::new());
            assert_eq!(rates(FrameIntervalEnum::Discrete(Fraction::new(1, 30))), vec![30]);
        }
    }
}

/// One frame to RGB: MJPEG through our intake, raw formats through nokhwa's converters.
fn decode(buffer: &Buffer) -> Result<RgbImage, String> {
    match buffer.source_frame_format() {
        FrameFormat::MJPEG => crate::intake::decode(buffer.buffer())
            .map(|picture| picture.pixels)
            .map_err(|e| format!("a frame could not be decoded: {e}")),
        _ => buffer
            .decode_image::<RgbFormat>()
            .map_err(|e| format!("a frame could not be decoded: {e}")),
    }
}

/// The native cameras this device has, by index, with the name the driver gives
/// (empty when none, or when they cannot be listed).
pub fn devices_named() -> Vec<(u32, String)> {
    let Ok(cameras) = nokhwa::query(ApiBackend::Auto) else { return Vec::new() };
    let mut found: Vec<(u32, String)> = cameras
        .iter()
        .filter_map(|info| {
            let index = match info.index() {
                CameraIndex::Index(n) => Some(*n),
                CameraIndex::String(s) => s.parse().ok(),
            }?;
            Some((index, format!("{} ({})", info.human_name(), info.description())))
        })
        .collect();
    found.sort();
    found.dedup_by_key(|(index, _)| *index);
    found
}

/// The format to stream in: at least 15 frames/s if the camera can; the smallest
/// resolution at least 720 lines high (else the largest); MJPEG before raw formats at
/// the same size (USB bandwidth); then the frame rate nearest 30.
fn choose_format(formats: &[CameraFormat]) -> Option<CameraFormat> {
    formats.iter().copied().min_by_key(|f| {
        let too_slow = f.frame_rate() < 15;
        let height = f.height();
        let size_rank = if height >= WANTED_HEIGHT { (0, height) } else { (1, u32::MAX - height) };
        let raw = f.format() != FrameFormat::MJPEG;
        (too_slow, size_rank, raw, f.frame_rate().abs_diff(30))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(w: u32, h: u32, kind: FrameFormat, fps: u32) -> CameraFormat {
        CameraFormat::new_from(w, h, kind, fps)
    }

    #[test]
    fn a_usb_webcam_streams_720p_mjpeg_at_30() {
        let offered = [
            format(640, 480, FrameFormat::YUYV, 30),
            format(1280, 720, FrameFormat::YUYV, 10),
            format(1280, 720, FrameFormat::MJPEG, 30),
            format(1280, 720, FrameFormat::MJPEG, 60),
            format(1920, 1080, FrameFormat::MJPEG, 30),
        ];
        assert_eq!(choose_format(&offered), Some(format(1280, 720, FrameFormat::MJPEG, 30)));
    }

    #[test]
    fn a_small_or_slow_camera_still_gives_its_best() {
        let small =
            [format(320, 240, FrameFormat::YUYV, 30), format(640, 480, FrameFormat::YUYV, 30)];
        assert_eq!(choose_format(&small), Some(format(640, 480, FrameFormat::YUYV, 30)));
        let slow =
            [format(1920, 1080, FrameFormat::YUYV, 5), format(640, 480, FrameFormat::NV12, 15)];
        assert_eq!(choose_format(&slow), Some(format(640, 480, FrameFormat::NV12, 15)));
        assert_eq!(choose_format(&[]), None);
    }

    /// Needs a real camera: `FACEMATCH_HW_TESTS=1 cargo test --release --features kiosk-kms -- camera`.
    #[test]
    fn a_connected_camera_gives_frames_when_hardware_tests_are_on() {
        if std::env::var_os("FACEMATCH_HW_TESTS").is_none() {
            return;
        }
        let mut camera = NativeCamera::new(CameraSpec::Auto, CameraTrust::default());
        let frame =
            (0..10).find_map(|_| camera.next_frame().ok()).expect("a frame from the camera");
        assert!(
            frame.width() >= 320 && frame.height() >= 240,
            "{}x{}",
            frame.width(),
            frame.height()
        );
    }
}
