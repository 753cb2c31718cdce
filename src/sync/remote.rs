//! The remote Face Match API as the sync needs it: upload a picture, ask for a
//! match. [`Remote`] is the small trait the sync loop calls; [`HttpRemote`] is
//! the real HTTP client. Every call carries an `Idempotency-Key`, so a retried
//! call is answered by the remote, not repeated.

use std::time::Duration;

use reqwest::blocking::{multipart, Client, Response};
use reqwest::StatusCode;

use crate::contract::{ErrorBody, MatchRequest, MatchVerdict, MediaUploaded};

/// How a remote call failed, as the sync must treat it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RemoteError {
    /// Try again later: no connection, a timeout, a 5xx or a 429.
    #[error("{reason}")]
    Transient {
        /// What happened.
        reason: String,
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// The remote refused this item for good (4001, 4007, 4005, ...): park it.
    #[error("{reason}")]
    Permanent {
        /// The remote's code and message.
        reason: String,
    },
    /// 401/403: the token is wrong or lacks rights; stop the run.
    #[error("{reason}")]
    Unauthorized {
        /// The remote's code and message.
        reason: String,
    },
}

/// The remote's verdict on a match, and its answer as sent (kept in the log beside ours).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteAnswer {
    /// `valid` and `status`.
    pub verdict: MatchVerdict,
    /// The response body, as received.
    pub raw: String,
}

/// The two calls the sync makes.
pub trait Remote {
    /// Uploads a picture; returns the remote media id.
    ///
    /// # Errors
    /// A [`RemoteError`] classifying the failure.
    fn upload(
        &self,
        name: &str,
        bytes: &[u8],
        idempotency_key: &str,
    ) -> Result<String, RemoteError>;

    /// Runs `facex/match` with `request`; returns the remote's verdict.
    ///
    /// # Errors
    /// A [`RemoteError`] classifying the failure.
    fn facex_match(
        &self,
        request: &MatchRequest,
        idempotency_key: &str,
    ) -> Result<RemoteAnswer, RemoteError>;
}

/// The remote service over HTTP.
pub struct HttpRemote {
    base: String,
    token: String,
    client: Client,
}

impl HttpRemote {
    /// A client for the service at `base` (e.g. `https://api.example.com`), authenticating with `token`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(base: &str, token: &str, timeout: Duration) -> Result<HttpRemote, RemoteError> {
        let client = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| RemoteError::Permanent { reason: format!("HTTP client: {e}") })?;
        Ok(HttpRemote {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            client,
        })
    }

    /// A POST to `path` with the token and the idempotency key.
    fn post(&self, path: &str, idempotency_key: &str) -> reqwest::blocking::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Basic {}", self.token))
            .header("Idempotency-Key", idempotency_key)
    }
}

impl Remote for HttpRemote {
    fn upload(
        &self,
        name: &str,
        bytes: &[u8],
        idempotency_key: &str,
    ) -> Result<String, RemoteError> {
        let form = multipart::Form::new()
            .part("file", multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()));
        let response = self
            .post("/api/v1/public/media/image/multipart", idempotency_key)
            .multipart(form)
            .send()
            .map_err(transport)?;
        let text = classify(response)?;
        let uploaded: MediaUploaded =
            serde_json::from_str(&text).map_err(|e| RemoteError::Transient {
                reason: format!("the upload's answer is not the contract's ({e}): {text}"),
                retry_after: None,
            })?;
        Ok(uploaded.id)
    }

    fn facex_match(
        &self,
        request: &MatchRequest,
        idempotency_key: &str,
    ) -> Result<RemoteAnswer, RemoteError> {
        let response = self
            .post("/api/v2/public/facex/match", idempotency_key)
            .json(request)
            .send()
            .map_err(transport)?;
        let raw = classify(response)?;
        let verdict: MatchVerdict =
            serde_json::from_str(&raw).map_err(|e| RemoteError::Permanent {
                reason: format!("the remote's answer has no verdict ({e}): {raw}"),
            })?;
        Ok(RemoteAnswer { verdict, raw })
    }
}

/// Connection refused, reset, timeout: all worth retrying. The message names no token.
fn transport(e: reqwest::Error) -> RemoteError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "connection failed"
    };
    RemoteError::Transient { reason: format!("{what}: {}", e.without_url()), retry_after: None }
}

/// Sorts an HTTP answer into success (its body) or a [`RemoteError`].
fn classify(response: Response) -> Result<String, RemoteError> {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = response.text().unwrap_or_default();
    let explain = || match serde_json::from_str::<ErrorBody>(&text) {
        Ok(e) => {
            let details = e.details.map(|d| format!(" ({d})")).unwrap_or_default();
            format!("HTTP {} code {}: {}{details}", status.as_u16(), e.code, e.message)
        }
        Err(_) => format!("HTTP {}", status.as_u16()),
    };
    match status {
        s if s.is_success() => Ok(text),
        StatusCode::TOO_MANY_REQUESTS => {
            Err(RemoteError::Transient { reason: explain(), retry_after })
        }
        s if s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT => {
            Err(RemoteError::Transient { reason: explain(), retry_after })
        }
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            Err(RemoteError::Unauthorized { reason: explain() })
        }
        _ => Err(RemoteError::Permanent { reason: explain() }),
    }
}
