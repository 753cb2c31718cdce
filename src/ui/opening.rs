//! Opening the kiosk's window where the operator asked for it, with an error the operator can act
//! on when that fails.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

use super::{init, AppWindow, Display};

/// The backend chosen and the window built. A backend that panics (winit does when a library it
/// loads at run time is missing: on X11, libxkbcommon-x11 among others) gives an error naming
/// what to install, not a panic and a backtrace on the kiosk's console.
pub(super) fn open_window(display: Display) -> Result<AppWindow, slint::PlatformError> {
    // Only this thread runs yet (the worker starts once the window exists), so silencing the
    // panic report while the backend starts hides nobody else's.
    let report = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let opened = panic::catch_unwind(AssertUnwindSafe(|| select(display).and_then(|()| init())));
    panic::set_hook(report);
    opened.unwrap_or_else(|payload| {
        Err(slint::PlatformError::Other(format!(
            "the display could not be opened: {}. A window on an X11 desktop needs the libraries \
             of Debian's libxkbcommon-x11-0, libx11-xcb1, libxcursor1 and libxi6 \
             (scripts/setup.sh installs them)",
            what_it_said(payload.as_ref()).trim_end_matches('.')
        )))
    })
}

/// A panic's message, when it has one.
fn what_it_said(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("the display's backend failed without saying why")
}

/// Makes Slint draw where `display` says; must run before the window is created.
fn select(display: Display) -> Result<(), slint::PlatformError> {
    let (backend, renderer) = match display {
        Display::Auto => return Ok(()),
        Display::Window => ("winit", "software"),
        Display::Kms if cfg!(feature = "kiosk-kms") => ("linuxkms", "software"),
        Display::Kms => {
            return Err(slint::PlatformError::Other(
                "this build cannot draw without a desktop: build it with --features kiosk-kms"
                    .into(),
            ))
        }
    };
    slint::BackendSelector::new()
        .backend_name(backend.into())
        .renderer_name(renderer.into())
        .select()
}
