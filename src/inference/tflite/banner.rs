//! Keeps TensorFlow Lite's one start-up line ("INFO: Created TensorFlow Lite XNNPACK
//! delegate for CPU.") out of the program's output. The C library writes it straight to
//! file descriptor 2 while the first XNNPACK interpreter is built, so for that moment
//! descriptor 2 is a pipe; everything that arrives there is passed on to the real stderr
//! except that line, which goes to the log at debug level. Nothing else is lost or reordered
//! beyond that moment.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsFd;
use std::sync::Once;

/// The line TensorFlow Lite prints once per process.
const BANNER: &str = "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.";

/// Runs `build` (the first interpreter of the process) with TensorFlow Lite's banner filtered
/// out of stderr; later calls just run `build`. If stderr cannot be redirected, the banner
/// simply stays.
pub(super) fn quietly<T>(build: impl FnOnce() -> T) -> T {
    static FIRST: Once = Once::new();
    let mut build = Some(build);
    let mut result = None;
    FIRST.call_once(|| result = Some(filtered(build.take().expect("called once"))));
    match result {
        Some(result) => result,
        None => (build.take().expect("not yet run"))(),
    }
}

fn filtered<T>(build: impl FnOnce() -> T) -> T {
    let stderr = std::io::stderr();
    let redirected = (|| {
        let saved = stderr.as_fd().try_clone_to_owned()?;
        let (reader, writer) = std::io::pipe()?;
        rustix::stdio::dup2_stderr(&writer)?;
        Ok::<_, std::io::Error>((saved, reader, writer))
    })();
    let Ok((saved, reader, writer)) = redirected else { return build() };
    // Read while `build` runs, so a chatty library can never fill the pipe and block.
    let relay = std::thread::spawn(move || {
        let mut passed = Vec::new();
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            if line.trim() == BANNER {
                log::debug!("tflite: {line}");
            } else {
                passed.push(line);
            }
        }
        passed
    });
    let result = build();
    let restored = rustix::stdio::dup2_stderr(&saved);
    drop(writer); // with descriptor 2 restored, the relay sees the end of the pipe
    if let Ok(passed) = relay.join() {
        let mut out = std::io::stderr().lock();
        for line in passed {
            let _ = writeln!(out, "{line}");
        }
    }
    if let Err(e) = restored {
        log::warn!("stderr could not be restored after loading the models: {e}");
    }
    result
}
