//! Keeps LiteRT's informational lines ("INFO: [environment.cc:30] Creating LiteRT environment…",
//! "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.") out of the program's output: the
//! library writes them straight to file descriptor 2 while an environment is made or a model
//! compiled, and has no call (in the pinned 2.1.4) that turns them off. For those moments
//! descriptor 2 is a pipe; lines starting with `INFO: ` go to the log at debug level, every other
//! line (LiteRT's warnings and errors, or anything another thread prints) is passed on to the real
//! stderr when the moment ends. Nothing is lost; lines printed meanwhile are only delayed.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsFd;
use std::sync::Mutex;

/// Runs `step` (making the environment, compiling a model) with LiteRT's `INFO:` lines filtered
/// out of stderr. One step at a time in the process: descriptor 2 is process-wide. If stderr
/// cannot be redirected, the lines simply stay.
pub(super) fn quietly<T>(step: impl FnOnce() -> T) -> T {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let stderr = std::io::stderr();
    let redirected = (|| {
        let saved = stderr.as_fd().try_clone_to_owned()?;
        let (reader, writer) = std::io::pipe()?;
        rustix::stdio::dup2_stderr(&writer)?;
        Ok::<_, std::io::Error>((saved, reader, writer))
    })();
    let Ok((saved, reader, writer)) = redirected else { return step() };
    // Read while `step` runs, so a chatty library can never fill the pipe and block.
    let relay = std::thread::spawn(move || {
        let mut passed = Vec::new();
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            if line.starts_with("INFO: ") {
                log::debug!("litert: {line}");
            } else {
                passed.push(line);
            }
        }
        passed
    });
    let result = step();
    let restored = rustix::stdio::dup2_stderr(&saved);
    drop(writer); // with descriptor 2 restored, the relay sees the end of the pipe
    if let Ok(passed) = relay.join() {
        let mut out = std::io::stderr().lock();
        for line in passed {
            let _ = writeln!(out, "{line}");
        }
    }
    if let Err(e) = restored {
        log::warn!("stderr could not be restored after loading a model: {e}");
    }
    result
}
