//! The kiosk's logic, without a screen: the session state machine ([`flow`]) and
//! the live-selfie guidance ([`guidance`]). The Slint UI (`src/ui/`, feature
//! `kiosk`) only shows these states and forwards taps; no rule lives in markup.

pub mod flow;
pub mod guidance;
pub mod pin;
