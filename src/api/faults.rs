//! Testing only (`serve --inject-faults "429x3,500x2"`): answers the first API
//! calls with the given failures, in the contract's error shape, then serves
//! normally — so the sync's retries can be tested against a real server.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::limits::Refusal;
use super::ApiError;
use crate::contract::ErrorCode;

/// The failures still to give, in order (HTTP statuses).
#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<Mutex<VecDeque<u16>>>);

impl Faults {
    /// Parses `"429x3,500x2"` (status × count, comma separated).
    ///
    /// # Errors
    /// A message naming the part that is not `STATUSxCOUNT` with status 429 or 5xx.
    pub fn parse(spec: &str) -> Result<Faults, String> {
        let mut queue = VecDeque::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (status, count) =
                part.split_once('x').ok_or_else(|| format!("{part:?}: expected STATUSxCOUNT"))?;
            let status: u16 = status.parse().map_err(|_| format!("{part:?}: bad status"))?;
            let count: usize = count.parse().map_err(|_| format!("{part:?}: bad count"))?;
            if status != 429 && !(500..600).contains(&status) {
                return Err(format!("{part:?}: only 429 and 5xx can be injected"));
            }
            queue.extend(std::iter::repeat_n(status, count));
        }
        Ok(Faults(Arc::new(Mutex::new(queue))))
    }
}

/// The middleware: the next queued failure, or the real handler.
pub async fn inject(State(faults): State<Faults>, request: Request, next: Next) -> Response {
    let fault = faults.0.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
    match fault {
        Some(429) => {
            ApiError::limited(Refusal { code: ErrorCode::ApiRateLimit, retry_after_secs: 1 })
                .into_response()
        }
        Some(_) => ApiError::internal("injected fault").into_response(),
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let f = Faults::parse("429x2, 503x1").unwrap();
        assert_eq!(f.0.lock().unwrap().iter().copied().collect::<Vec<_>>(), vec![429, 429, 503]);
        assert!(Faults::parse("404x1").is_err());
        assert!(Faults::parse("500").is_err());
    }
}
