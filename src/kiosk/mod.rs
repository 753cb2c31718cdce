//! The kiosk's logic, without a screen: the session state machine ([`flow`]),
//! the live-selfie guidance ([`guidance`]), the staff PIN ([`pin`]) and the
//! operator's saved choices ([`settings`]). The Slint UI (`src/ui/`, feature
//! `kiosk`) only shows these states and forwards taps; no rule lives in markup.

pub mod flow;
pub mod guidance;
pub mod pin;
pub mod settings;
