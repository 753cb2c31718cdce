//! `ApiError`: every failure of an HTTP call, answered in the contract's error
//! shape. 4xx answers are not logged; 5xx are logged with detail while the
//! client gets only a generic body (never a stack trace).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

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
}

impl ApiError {
    /// A 4001 with details.
    pub fn malformed(details: impl Into<String>) -> ApiError {
        ApiError { code: ErrorCode::Malformed, details: details.into() }
    }

    /// A 5001; `details` are logged only.
    pub fn internal(details: impl Into<String>) -> ApiError {
        ApiError { code: ErrorCode::Internal, details: details.into() }
    }
}

impl From<AnswerError> for ApiError {
    fn from(e: AnswerError) -> ApiError {
        ApiError { code: e.code(), details: e.to_string() }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::KeyReused(_) => ApiError::malformed(e.to_string()),
            e => ApiError::internal(format!("store: {e}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = if status.is_server_error() {
            log::error!("serve: {} ({}): {}", self.code.code(), self.code.message(), self.details);
            ErrorBody { code: self.code.code(), message: self.code.message().into(), details: None }
        } else {
            ErrorBody::new(self.code, self.details)
        };
        (status, Json(body)).into_response()
    }
}
