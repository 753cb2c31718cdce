//! `ApiError`: every failure of an HTTP call, answered in the contract's error
//! shape. 4xx answers are not logged; 5xx are logged with detail while the
//! client gets only a generic body (never a stack trace).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::limits::Refusal;
use crate::answer::AnswerError;
use crate::contract::{ErrorBody, ErrorCode};
use crate::store::StoreError;

/// An error answer: the contract's code and what exactly was wrong.
#[derive(Debug)]
pub struct ApiError {
    /// Contract code.
    pub code: ErrorCode,
    /// Sent as `details` for 4xx; logged (not sent) for 5xx.
    pub details: String,
    /// Seconds after which a retry can pass (`Retry-After`), for 429 and 503 answers.
    pub retry_after: Option<u64>,
    /// A 5001 answered 503 rather than 500: the store is unreachable for now, and a retry
    /// (on this server or another replica) can pass.
    pub unavailable: bool,
}

/// When a retry can pass after the store was unreachable: the pool waits this long for a
/// connection, and a database that restarts takes a few seconds.
const UNAVAILABLE_RETRY_SECS: u64 = 5;

impl ApiError {
    /// An error answer with `code` and `details`.
    pub fn new(code: ErrorCode, details: impl Into<String>) -> ApiError {
        ApiError { code, details: details.into(), retry_after: None, unavailable: false }
    }

    /// A 4001 with details.
    pub fn malformed(details: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Malformed, details)
    }

    /// A 5001; `details` are logged only.
    pub fn internal(details: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Internal, details)
    }

    /// 4292 with `Retry-After`: the device is busy (`what` says with what); try again shortly.
    pub fn busy(what: &str, retry_after_secs: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after_secs),
            ..ApiError::new(ErrorCode::ApiRateLimit, format!("the device is busy: {what}"))
        }
    }

    /// A rate refusal, with when to try again.
    pub fn limited(refusal: Refusal) -> ApiError {
        ApiError {
            retry_after: Some(refusal.retry_after_secs),
            ..ApiError::new(refusal.code, refusal.code.message())
        }
    }
}

impl From<AnswerError> for ApiError {
    fn from(e: AnswerError) -> ApiError {
        ApiError::new(e.code(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::KeyReused(_) => ApiError::malformed(e.to_string()),
            StoreError::Unavailable(_) => ApiError {
                retry_after: Some(UNAVAILABLE_RETRY_SECS),
                unavailable: true,
                ..ApiError::internal(format!("store: {e}"))
            },
            e => ApiError::internal(format!("store: {e}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = if self.unavailable {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::from_u16(self.code.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        };
        let body = if status.is_server_error() {
            log::error!("serve: {} ({}): {}", self.code.code(), self.code.message(), self.details);
            ErrorBody { code: self.code.code(), message: self.code.message().into(), details: None }
        } else {
            ErrorBody::new(self.code, self.details)
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
