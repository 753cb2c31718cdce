//! `ApiError`: every failure of an HTTP call, answered in the contract's error
//! shape. 4xx answers are not logged; 5xx are logged with detail on stderr while
//! the client gets only a generic body (never a stack trace).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

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

impl From<ErrorBody> for ApiError {
    fn from(body: ErrorBody) -> ApiError {
        let code = ErrorCode::from_code(body.code).unwrap_or(ErrorCode::Internal);
        ApiError { code, details: body.details.unwrap_or_default() }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::internal(format!("store: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = if status.is_server_error() {
            eprintln!(
                "facematch serve: {} ({}): {}",
                self.code.code(),
                self.code.message(),
                self.details
            );
            ErrorBody { code: self.code.code(), message: self.code.message().into(), details: None }
        } else {
            ErrorBody::new(self.code, self.details)
        };
        (status, Json(body)).into_response()
    }
}
