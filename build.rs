//! Compiles the kiosk's Slint markup (`ui/app.slint`) when the `kiosk` feature is on; nothing else.

fn main() {
    #[cfg(feature = "kiosk")]
    slint_build::compile("ui/app.slint").expect("ui/app.slint compiles");
}
