//! The device's audio output for voice guidance: ALSA's `aplay` (Debian's alsa-utils, on every
//! Raspberry Pi OS image) plays the prompt files in a child process, so the screen never waits.
//! A kiosk without an audio device still works: the failure is kept for the operator's screen.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// Plays prompt files; never blocks and never fails the caller.
pub trait Speaker {
    /// Plays `files` one after the other, cutting off what was playing.
    fn play(&mut self, files: &[PathBuf]);
    /// Stops what is playing.
    fn stop(&mut self);
    /// Why nothing can be heard, once a play failed; `None` while it works.
    fn problem(&mut self) -> Option<String>;
}

/// `aplay` on an ALSA device.
pub struct Aplay {
    /// The ALSA device (`aplay -D`); None: the default one.
    device: Option<String>,
    playing: Option<Child>,
    problem: Option<String>,
}

impl Aplay {
    /// Plays through ALSA's `device` (None: the default).
    pub fn new(device: Option<String>) -> Aplay {
        Aplay { device, playing: None, problem: None }
    }

    /// Collects a finished play: a failure (no device, a missing file) becomes the problem.
    fn reap(&mut self) {
        let Some(child) = self.playing.as_mut() else { return };
        match child.try_wait() {
            Ok(None) => {}
            Ok(Some(status)) => {
                if !status.success() {
                    let mut stderr = String::new();
                    if let Some(mut pipe) = child.stderr.take() {
                        let _ = pipe.read_to_string(&mut stderr);
                    }
                    let reason = stderr.lines().last().unwrap_or("no reason given").to_string();
                    log::warn!("kiosk: voice guidance cannot be heard: {reason}");
                    self.problem = Some(format!("no audio output ({reason})"));
                } else {
                    self.problem = None;
                }
                self.playing = None;
            }
            Err(e) => {
                self.problem = Some(format!("aplay: {e}"));
                self.playing = None;
            }
        }
    }
}

impl Speaker for Aplay {
    fn play(&mut self, files: &[PathBuf]) {
        self.reap();
        self.stop();
        if let Some(missing) = files.iter().find(|f| !f.is_file()) {
            self.problem =
                Some(format!("voice prompt missing: {} (run scripts/voice.sh)", missing.display()));
            return;
        }
        log::debug!(
            "speaker: playing {}",
            files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" ")
        );
        let mut command = Command::new("aplay");
        command.arg("-q");
        if let Some(device) = &self.device {
            command.args(["-D", device]);
        }
        command
            .arg("--")
            .args(files)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        match command.spawn() {
            Ok(child) => self.playing = Some(child),
            Err(e) => self.problem = Some(format!("aplay cannot be run ({e}): install alsa-utils")),
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.playing.take() {
            // Cut off on purpose: its exit status is not a problem.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn problem(&mut self) -> Option<String> {
        self.reap();
        self.problem.clone()
    }
}

impl Drop for Aplay {
    fn drop(&mut self) {
        self.stop();
    }
}
