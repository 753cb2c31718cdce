//! The kiosk's logic, without a screen: the session state machine ([`flow`]),
//! the live-selfie guidance ([`guidance`]), the document guidance with a camera
//! ([`document_guidance`]), the languages and their words ([`language`]), the staff PIN ([`pin`]), the
//! operator's saved choices ([`settings`]), what the result screen says
//! ([`result_view`]), how a verification is recorded ([`recording`]), the
//! operator's view of the log ([`operator_log`]), voice guidance ([`voice`], played by
//! [`speaker`]), and the [`worker`] thread that
//! runs cameras, models and the store. The Slint UI (`src/ui/`, feature `kiosk`)
//! only shows these states and forwards taps; no rule lives in markup.

pub mod back_side;
pub mod document_guidance;
pub mod flow;
pub mod guidance;
pub mod language;
pub mod liveness_step;
pub mod operator_log;
pub mod pin;
pub mod recording;
pub mod result_view;
pub mod session_capture;
pub mod settings;
pub mod speaker;
pub mod voice;
pub mod worker;
