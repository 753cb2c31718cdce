//! The kiosk's window over the whole monitor, also where no window manager runs.

use slint::winit_030::WinitWindowAccessor;
use slint::ComponentHandle;

use super::AppWindow;

/// Asks for full screen and, once the desktop window exists, also sizes and places it at its
/// monitor's size and origin: a bare X session (a kiosk's usual one, with no window manager)
/// ignores the full-screen request and would leave the kiosk in a small window. Where a window
/// manager honours full screen, the second request changes nothing. On a bare screen (linuxkms)
/// there is no desktop window and the kiosk already has the whole output.
pub(super) fn cover_the_monitor(window: &AppWindow) {
    window.window().set_fullscreen(true);
    let weak = window.as_weak();
    let placed = slint::spawn_local(async move {
        let Some(kiosk) = weak.upgrade() else { return };
        // An error: not a desktop window (linuxkms), nothing to place.
        let Ok(desktop) = kiosk.window().winit_window().await else {
            return;
        };
        let Some(monitor) = desktop.current_monitor().or_else(|| desktop.primary_monitor()) else {
            log::warn!("kiosk: no monitor to cover; the window keeps its size");
            return;
        };
        let (size, origin) = (monitor.size(), monitor.position());
        desktop.set_outer_position(origin);
        let _ = desktop.request_inner_size(size);
        log::info!(
            "kiosk: covering the monitor, {}x{} at ({}, {})",
            size.width,
            size.height,
            origin.x,
            origin.y
        );
    });
    if let Err(e) = placed {
        log::warn!("kiosk: cannot size the window to the monitor: {e}");
    }
}
