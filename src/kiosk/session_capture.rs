//! `kiosk --capture-sessions DIR`: every liveness attempt's frames and challenge written in the
//! layout `facematch liveness eval` reads, so a bank can build its own test set with staff and
//! real attack instruments (README "Liveness: testing it in-house"). An operator's choice,
//! said on the consent screen; a write failure is logged and never stops the kiosk.

use std::io::Write;
use std::path::PathBuf;

use image::RgbImage;

use crate::intake::encode_jpeg;
use crate::liveness::{Challenge, Report};

/// JPEG quality of the recorded frames.
const QUALITY: u8 = 90;

/// Writes attempts under one folder: `<n>/NNN.jpg` per attempt and one `sessions.csv` row
/// each (`frames,challenge,label,live,reason`; the label is `unlabelled` until staff set it to
/// `bona_fide` or the attack species they presented).
#[derive(Debug)]
pub struct SessionRecorder {
    dir: PathBuf,
    current: Option<(String, Challenge, usize)>,
}

impl SessionRecorder {
    /// Records into `dir` (created when needed).
    pub fn new(dir: PathBuf) -> SessionRecorder {
        SessionRecorder { dir, current: None }
    }

    /// A new attempt at `challenge` starts.
    pub fn start(&mut self, challenge: &Challenge) {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let name = format!("attempt-{stamp}");
        if let Err(e) = std::fs::create_dir_all(self.dir.join(&name)) {
            log::error!("kiosk: cannot record the session in {}: {e}", self.dir.display());
            return;
        }
        self.current = Some((name, challenge.clone(), 0));
    }

    /// One frame of the running attempt.
    pub fn frame(&mut self, frame: &RgbImage) {
        let Some((name, _, n)) = self.current.as_mut() else { return };
        let path = self.dir.join(&*name).join(format!("{n:04}.jpg"));
        *n += 1;
        // An unencodable frame is skipped and logged like an unwritable one: never a panic.
        let written = encode_jpeg(frame, QUALITY)
            .map_err(|e| e.to_string())
            .and_then(|jpeg| std::fs::write(&path, jpeg).map_err(|e| e.to_string()));
        if let Err(e) = written {
            log::error!("kiosk: cannot record a frame to {}: {e}", path.display());
        }
    }

    /// The attempt ended with `report`: its row is appended to `sessions.csv`.
    pub fn finish(&mut self, report: &Report) {
        let Some((name, challenge, _)) = self.current.take() else { return };
        let csv = self.dir.join("sessions.csv");
        let header = !csv.exists();
        let reason = report.outcome.err().map_or("", |f| f.code());
        let written =
            std::fs::OpenOptions::new().create(true).append(true).open(&csv).and_then(|mut f| {
                if header {
                    writeln!(f, "frames,challenge,label,live,reason")?;
                }
                writeln!(f, "{name},{challenge},unlabelled,{},{reason}", report.live())
            });
        if let Err(e) = written {
            log::error!("kiosk: cannot write {}: {e}", csv.display());
        }
    }
}
