//! The remote Face Match API as the sync needs it: upload a picture, ask for a
//! match. [`Remote`] is the small trait the sync loop calls; [`HttpRemote`] is
//! the real HTTP client. Every call carries an `Idempotency-Key`, so a retried
//! call is answered by the remote, not repeated.

use std::time::Duration;

use reqwest::blocking::{multipart, Client, Response};
use reqwest::StatusCode;

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

    /// Runs `facex/match` with `body`; returns the remote's response JSON.
    ///
    /// # Errors
    /// A [`RemoteError`] classifying the failure.
    fn facex_match(
        &self,
        body: &serde_json::Value,
        idempotency_key: &str,
    ) -> Result<serde_json::Value, RemoteError>;
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
        let json = classify(response)?;
        json["_id"].as_str().map(str::to_string).ok_or_else(|| RemoteError::Transient {
            reason: format!("upload answered without an _id: {json}"),
            retry_after: None,
        })
    }

    fn facex_match(
        &self,
        body: &serde_json::Value,
        idempotency_key: &str,
    ) -> Result<serde_json::Value, RemoteError> {
        let response = self
            .post("/api/v2/public/facex/match", idempotency_key)
            .json(body)
            .send()
            .map_err(transport)?;
        classify(response)
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

/// Sorts an HTTP answer into success (its JSON) or a [`RemoteError`].
fn classify(response: Response) -> Result<serde_json::Value, RemoteError> {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = response.text().unwrap_or_default();
    let json: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    let explain = || match &json {
        Some(j) if j.get("code").is_some() => {
            let details = j["details"].as_str().map(|d| format!(" ({d})")).unwrap_or_default();
            format!(
                "HTTP {} code {}: {}{details}",
                status.as_u16(),
                j["code"],
                j["message"].as_str().unwrap_or("")
            )
        }
        _ => format!("HTTP {}", status.as_u16()),
    };
    match status {
        s if s.is_success() => json.ok_or_else(|| RemoteError::Transient {
            reason: "answer is not JSON".into(),
            retry_after: None,
        }),
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
