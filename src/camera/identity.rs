//! Which camera a V4L2 device is, and whether the kiosk takes its pictures. A feed injected in
//! place of the camera (a virtual device such as v4l2loopback playing a recording, or the
//! kernel's test camera vivid) or another camera plugged in defeats the liveness check from
//! outside it; the kiosk records its own camera at installation and refuses the others.
//!
//! Read from sysfs, where the kernel says what a device is: its name, the driver bound to it,
//! and for a USB camera the vendor, product and serial of the USB device it belongs to. A
//! virtual device has no hardware behind it (no `device` link) or is bound to a virtual driver.

use std::path::Path;

/// Where the kernel describes its devices.
pub const SYSFS: &str = "/sys";

/// Drivers whose devices are not a camera's sensor: the kernel's test and memory-to-memory
/// drivers, and the loopback.
pub const VIRTUAL_DRIVERS: [&str; 6] =
    ["vivid", "v4l2loopback", "vimc", "vim2m", "vicodec", "visl"];

/// What the kernel says one video device is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraIdentity {
    /// The device's name (V4L2's card name), e.g. `HD Webcam C270`.
    pub card: String,
    /// The driver bound to it, e.g. `uvcvideo`; empty when no hardware is behind it.
    pub driver: String,
    /// USB vendor and product, e.g. `046d:0825`, for a USB camera.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usb: Option<String>,
    /// The USB serial number, when the camera has one (many cheap webcams do not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// The USB port it is plugged into (`1-1.2`: bus 1, port 1, then port 2 of a hub): a device
    /// copying the camera's descriptors must also take its port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
}

impl CameraIdentity {
    /// The identity of `/dev/video{index}` as `sysfs` (normally `/sys`) describes it.
    ///
    /// # Errors
    /// When sysfs has no such device (unplugged), or it cannot be read.
    pub fn read(sysfs: &Path, index: u32) -> Result<CameraIdentity, String> {
        let class = sysfs.join("class/video4linux").join(format!("video{index}"));
        let card = match std::fs::read_to_string(class.join("name")) {
            Ok(name) => name.trim().to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!("/dev/video{index}: no such device (unplugged?)"));
            }
            Err(e) => return Err(format!("{} cannot be read: {e}", class.join("name").display())),
        };
        let mut identity =
            CameraIdentity { card, driver: String::new(), usb: None, serial: None, port: None };
        let Ok(device) = std::fs::canonicalize(class.join("device")) else {
            return Ok(identity);
        };
        identity.driver = std::fs::read_link(device.join("driver"))
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default();
        // The USB device is the interface's parent (or the device itself); never further up,
        // where a hub's descriptors would be read as the camera's.
        let Some(usb_device) = device.ancestors().take(2).find(|d| d.join("idVendor").is_file())
        else {
            return Ok(identity);
        };
        let field = |name: &str| {
            std::fs::read_to_string(usb_device.join(name))
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        identity.usb = field("idVendor").zip(field("idProduct")).map(|(v, p)| format!("{v}:{p}"));
        identity.serial = field("serial");
        identity.port = usb_device.file_name().map(|n| n.to_string_lossy().into_owned());
        Ok(identity)
    }

    /// No camera's sensor is behind it: no hardware, or a virtual driver.
    pub fn is_virtual(&self) -> bool {
        self.driver.is_empty() || VIRTUAL_DRIVERS.contains(&self.driver.as_str())
    }

    /// The line of the kiosk's `--config` file that enrols this camera.
    ///
    /// # Errors
    /// When the identity cannot be written as TOML.
    pub fn config_line(&self) -> Result<String, String> {
        let table = toml::to_string(self).map_err(|e| e.to_string())?;
        // Each `key = value` line of the table, folded into one inline table.
        let fields: Vec<&str> = table.lines().filter(|l| l.contains(" = ")).collect();
        Ok(format!("camera_identity = {{ {} }}", fields.join(", ")))
    }
}

/// `"HD Webcam C270" (uvcvideo, usb 046d:0825, serial 2F1C7A90, port 1-1.2)`; a virtual one
/// says so.
impl std::fmt::Display for CameraIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let driver = if self.driver.is_empty() { "no hardware" } else { &self.driver };
        write!(f, "\"{}\" ({driver}", self.card)?;
        if let Some(usb) = &self.usb {
            write!(f, ", usb {usb}")?;
        }
        if let Some(serial) = &self.serial {
            write!(f, ", serial {serial}")?;
        }
        if let Some(port) = &self.port {
            write!(f, ", port {port}")?;
        }
        if self.is_virtual() {
            f.write_str(", virtual")?;
        }
        f.write_str(")")
    }
}

/// Which native cameras the kiosk takes pictures from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CameraTrust {
    /// The camera recorded at installation (`facematch cameras --enrol`); without one, any
    /// camera that is not virtual.
    pub enrolled: Option<CameraIdentity>,
    /// Virtual devices accepted: for testing only (`kiosk --allow-virtual-camera`).
    pub allow_virtual: bool,
}

impl CameraTrust {
    /// Whether pictures from `found` (at `device`) are taken.
    ///
    /// # Errors
    /// Why not, in words for the log and the staff.
    pub fn admit(&self, device: &str, found: &CameraIdentity) -> Result<(), String> {
        if found.is_virtual() && !self.allow_virtual {
            return Err(format!(
                "refused: {device} is {found}, a virtual device and not a camera \
                 (kiosk --allow-virtual-camera accepts one, for testing only)"
            ));
        }
        match &self.enrolled {
            Some(enrolled) if enrolled != found => Err(format!(
                "refused: {device} is {found}, not the kiosk's own camera {enrolled} \
                 (to make it the kiosk's own, replace the camera_identity line of kiosk.toml \
                 with what facematch cameras --enrol prints)"
            )),
            _ => Ok(()),
        }
    }

    /// Whether a picture folder may stand in for the selfie camera: not once a camera is
    /// enrolled (a folder someone writes frames into is an injected feed), unless testing.
    ///
    /// # Errors
    /// Why not, in words for the log and the staff.
    pub fn admit_folder(&self) -> Result<(), String> {
        match &self.enrolled {
            Some(enrolled) if !self.allow_virtual => Err(format!(
                "refused: a picture folder is not the kiosk's own camera {enrolled} \
                 (kiosk --allow-virtual-camera accepts one, for testing only)"
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A sysfs tree as the kernel lays it out for one video device: `device` the hardware it
    /// belongs to (none for v4l2loopback), bound to `driver`, under a USB device with `usb`
    /// (idVendor, idProduct, serial) when given.
    fn sysfs(
        root: &Path,
        index: u32,
        name: &str,
        device: Option<(&str, &str)>,
        usb: Option<(&str, &str, Option<&str>)>,
    ) {
        let class = root.join(format!("class/video4linux/video{index}"));
        std::fs::create_dir_all(&class).unwrap();
        std::fs::write(class.join("name"), format!("{name}\n")).unwrap();
        let Some((device_path, driver)) = device else { return };
        let device_dir = root.join("devices").join(device_path);
        std::fs::create_dir_all(&device_dir).unwrap();
        let driver_dir = root.join("bus/drivers").join(driver);
        std::fs::create_dir_all(&driver_dir).unwrap();
        symlink(&driver_dir, device_dir.join("driver")).unwrap();
        symlink(&device_dir, class.join("device")).unwrap();
        if let Some((vendor, product, serial)) = usb {
            let usb_dir = device_dir.parent().unwrap();
            std::fs::write(usb_dir.join("idVendor"), format!("{vendor}\n")).unwrap();
            std::fs::write(usb_dir.join("idProduct"), format!("{product}\n")).unwrap();
            if let Some(serial) = serial {
                std::fs::write(usb_dir.join("serial"), format!("{serial}\n")).unwrap();
            }
        }
    }

    fn webcam(serial: Option<&str>) -> CameraIdentity {
        CameraIdentity {
            card: "HD Webcam C270".into(),
            driver: "uvcvideo".into(),
            usb: Some("046d:0825".into()),
            serial: serial.map(str::to_string),
            port: Some("1-1.2".into()),
        }
    }

    #[test]
    fn usb_cameras_virtual_cameras_and_loopbacks_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let webcam_device = Some(("pci0000:00/usb1/1-1/1-1.2/1-1.2:1.0", "uvcvideo"));
        sysfs(root, 0, "HD Webcam C270", webcam_device, Some(("046d", "0825", Some("2F1C7A90"))));
        sysfs(root, 2, "vivid-000-vid-cap", Some(("platform/vivid.0", "vivid")), None);
        sysfs(root, 4, "Dummy video device (0x0000)", None, None);

        let usb = CameraIdentity::read(root, 0).unwrap();
        assert_eq!(usb, webcam(Some("2F1C7A90")));
        assert!(!usb.is_virtual());
        assert_eq!(
            usb.to_string(),
            "\"HD Webcam C270\" (uvcvideo, usb 046d:0825, serial 2F1C7A90, port 1-1.2)"
        );

        let vivid = CameraIdentity::read(root, 2).unwrap();
        assert_eq!((vivid.driver.as_str(), vivid.usb.as_deref()), ("vivid", None));
        assert!(vivid.is_virtual());
        let loopback = CameraIdentity::read(root, 4).unwrap();
        assert!(loopback.is_virtual());
        assert_eq!(loopback.to_string(), "\"Dummy video device (0x0000)\" (no hardware, virtual)");

        assert_eq!(
            CameraIdentity::read(root, 9).unwrap_err(),
            "/dev/video9: no such device (unplugged?)"
        );
    }

    #[test]
    fn the_kiosk_takes_its_own_camera_and_refuses_virtual_ones_and_others() {
        let own = webcam(Some("2F1C7A90"));
        let vivid = CameraIdentity {
            card: "vivid-000-vid-cap".into(),
            driver: "vivid".into(),
            usb: None,
            serial: None,
            port: None,
        };
        let not_enrolled = CameraTrust::default();
        assert_eq!(not_enrolled.admit("/dev/video0", &own), Ok(()));
        let refused = not_enrolled.admit("/dev/video0", &vivid).unwrap_err();
        assert!(refused.contains("virtual device") && refused.contains("vivid"), "{refused}");

        let enrolled = CameraTrust { enrolled: Some(own.clone()), allow_virtual: false };
        assert_eq!(enrolled.admit("/dev/video0", &own), Ok(()));
        // The same model with another serial, or without one, is another camera.
        // The same descriptors on another port: another device copying them, or the camera
        // moved (enrolled again then).
        let elsewhere = CameraIdentity { port: Some("1-1.3".into()), ..own.clone() };
        for other in [webcam(Some("0000BEEF")), webcam(None), elsewhere] {
            let refused = enrolled.admit("/dev/video0", &other).unwrap_err();
            assert!(refused.contains("not the kiosk's own camera"), "{refused}");
        }
        // Testing: a virtual camera is taken when allowed and enrolled (or nothing is enrolled).
        let testing = CameraTrust { enrolled: Some(vivid.clone()), allow_virtual: true };
        assert_eq!(testing.admit("/dev/video0", &vivid), Ok(()));
        assert!(testing.admit("/dev/video0", &own).is_err());
        // A picture folder stands in for the camera only while none is enrolled, or testing.
        assert_eq!(not_enrolled.admit_folder(), Ok(()));
        assert!(enrolled.admit_folder().unwrap_err().contains("picture folder"));
        assert_eq!(testing.admit_folder(), Ok(()));
    }

    #[test]
    fn the_enrolment_line_reads_back_as_the_same_identity() {
        #[derive(serde::Deserialize)]
        struct File {
            camera_identity: CameraIdentity,
        }
        for identity in [webcam(Some("2F1C7A90")), webcam(None)] {
            let line = identity.config_line().unwrap();
            assert!(line.starts_with("camera_identity = { card = "), "{line}");
            let file: File = toml::from_str(&line).unwrap();
            assert_eq!(file.camera_identity, identity, "{line}");
        }
    }
}
