//! `facematch kiosk --fullscreen` in an X session with no window manager (a kiosk's usual bare
//! session: Xvfb here, `xinit` on a device), where a full-screen request alone is ignored.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the process when dropped, so a failed assertion leaves no X server or kiosk behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The geometry `xwininfo` gives for the top-level window named "facematch", if there is one.
fn kiosk_window(display: &str) -> Option<String> {
    let out = Command::new("xwininfo")
        .args(["-root", "-children", "-display", display])
        .output()
        .expect("xwininfo (x11-utils, installed by scripts/setup.sh)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.contains("\"facematch\""))
        .and_then(|l| l.split_whitespace().find(|w| w.contains('x') && w.contains('+')))
        .map(str::to_owned)
}

/// What the kiosk wrote to its standard error, for a failure's message.
fn said(log: &std::path::Path) -> String {
    std::fs::read_to_string(log).unwrap_or_else(|e| format!("(its log could not be read: {e})"))
}

#[test]
fn fullscreen_covers_the_monitor_without_a_window_manager() {
    // An odd size (no default of the kiosk's or of winit's), so only the monitor's can give it.
    let mut xvfb = Running(
        Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1366x768x24", "-nolisten", "tcp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (xvfb, installed by scripts/setup.sh)"),
    );
    let mut number = String::new();
    BufReader::new(xvfb.0.stdout.take().unwrap()).read_line(&mut number).unwrap();
    let display = format!(":{}", number.trim());

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kiosk.stderr");
    let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/kiosk");
    let mut kiosk = Running(
        Command::new(env!("CARGO_BIN_EXE_facematch"))
            .args(["kiosk", "--display", "window", "--fullscreen", "--voice", "off"])
            .arg("--camera")
            .arg(format!("dir:{}", assets.join("camera").display()))
            .arg("--document-source")
            .arg(format!("dir:{}", assets.join("scanner").display()))
            .env("DISPLAY", &display)
            .env_remove("WAYLAND_DISPLAY")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );

    let started = Instant::now();
    let mut seen = None;
    while started.elapsed() < Duration::from_secs(60) {
        seen = kiosk_window(&display);
        if seen.as_deref() == Some("1366x768+0+0") {
            return;
        }
        if let Ok(Some(status)) = kiosk.0.try_wait() {
            panic!(
                "the kiosk ended ({status}) before its window covered the monitor; it said:\n{}",
                said(&log)
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!(
        "the kiosk's window should cover the 1366x768 monitor; it is {seen:?}; the kiosk said:\n{}",
        said(&log)
    );
}
