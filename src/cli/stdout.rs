//! The commands' answers on stdout. A reader that stops early (`facematch log verify | head -1`)
//! must neither crash the command (`println!` panics on a closed pipe) nor change what its exit
//! code says (a broken chain still exits 1): the command does all its work and answers with its
//! own code, the lines nobody reads are dropped. An answer lost otherwise (a full disk behind `>`)
//! makes a command that would have succeeded fail.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Set once stdout's reader has gone: later lines are not even tried.
static READER_GONE: AtomicBool = AtomicBool::new(false);
/// The first write failure other than a reader gone: the answer is incomplete.
static LOST: Mutex<Option<String>> = Mutex::new(None);

/// Writes `text` to stdout as it is (`outln!` adds the line end).
pub(super) fn write(text: fmt::Arguments<'_>) {
    if READER_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut out = io::stdout().lock();
    let Err(e) = out.write_fmt(text).and_then(|()| out.flush()) else {
        return;
    };
    if e.kind() == io::ErrorKind::BrokenPipe {
        READER_GONE.store(true, Ordering::Relaxed);
        return;
    }
    let mut lost = LOST.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    lost.get_or_insert_with(|| e.to_string());
}

/// Writes one line to stdout (`println!`'s arguments), as [`write`] does.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::stdout::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(super) use outln;

/// Whether everything written so far can have been read: false once a write failed or the reader
/// went away. For an answer given only once (a new token), anything else is a failure.
pub(super) fn delivered() -> bool {
    !READER_GONE.load(Ordering::Relaxed)
        && LOST.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_none()
}

/// The exit code of a command that answered `code`: the same, unless its answer could not be
/// written for another reason than a reader gone, which turns a success into 2 (said on stderr).
/// The next command of the process starts with a clean slate.
pub(super) fn settle(code: i32) -> i32 {
    READER_GONE.store(false, Ordering::Relaxed);
    let lost = LOST.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    match lost {
        Some(e) => {
            eprintln!("facematch: the answer could not be written to stdout: {e}");
            if code == 0 {
                2
            } else {
                code
            }
        }
        None => code,
    }
}
