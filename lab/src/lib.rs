//! facematch-lab: what measures and generates, kept out of the device crate (`facematch`), which
//! never links it. Synthetic ID cards ([`synthetic_card`]), camera-like captures of them
//! ([`synthetic_capture`]) and liveness sessions ([`synthetic_session`], with bent and folded prints turned as solids,
//! [`print_shape`]) made from face photos;
//! accuracy arithmetic ([`eval`]) and its SVG charts ([`report`]); and the `facematch-lab`
//! command ([`cli`]: `eval`, `bench`, `card`, `captures`, `liveness generate`, `voice`,
//! `kiosk-fps`). Everything runs the device's own library, so the figures are the device's.

#![forbid(unsafe_code)]

pub mod cli;
pub mod eval;
pub mod print_shape;
pub mod report;
pub mod session_condition;
pub mod synthetic_capture;
pub mod synthetic_card;
pub mod synthetic_session;
