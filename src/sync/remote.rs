//! The remote Face Match API as the sync needs it: upload a picture, ask for a
//! match. [`Remote`] is the small trait the sync loop calls; [`HttpRemote`] is
//! the real HTTP client. Every call carries an `Idempotency-Key`, so a retried
//! call is answered by the remote, not repeated.

use std::io::Read;
use std::time::Duration;

use reqwest::blocking::{multipart, Client, Response};
use reqwest::StatusCode;

use crate::contract::{Anchor, AnchorAnswer, ErrorBody, MatchRequest, MatchVerdict, MediaUploaded};

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
    /// The remote refused this item for good, in the contract's words (HTTP 400 with
    /// code 4001, 4005 or 4007), or answered it with a status outside the contract: park it.
    #[error("{reason}")]
    Permanent {
        /// The remote's code and message.
        reason: String,
    },
    /// The answer is not the contract at all (an HTML page, a redirect, a proxy's 404 or
    /// 413, a body too large): the URL or the network is wrong, not this record. Stop the
    /// run and keep every record pending.
    #[error("{reason}")]
    NotTheContract {
        /// What came back.
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
    /// The remote said it keeps the anchor sent with the call.
    pub anchored: bool,
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

    /// Runs `facex/match` with `request`, sending the record's chain `anchor` along;
    /// returns the remote's verdict.
    ///
    /// # Errors
    /// A [`RemoteError`] classifying the failure.
    fn facex_match(
        &self,
        request: &MatchRequest,
        idempotency_key: &str,
        anchor: &Anchor,
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
            // A redirect is not followed: it would carry the Idempotency-Key (which names
            // this device) and the token to another address.
            .redirect(reqwest::redirect::Policy::none())
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

    /// A call to `path` with the token.
    fn call(&self, method: reqwest::Method, path: &str) -> reqwest::blocking::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", format!("Basic {}", self.token))
    }

    /// A POST to `path` with the token and the idempotency key.
    fn post(&self, path: &str, idempotency_key: &str) -> reqwest::blocking::RequestBuilder {
        self.call(reqwest::Method::POST, path).header("Idempotency-Key", idempotency_key)
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
        let uploaded: MediaUploaded = contract_answer(response, "the upload's answer")?;
        Ok(uploaded.id)
    }

    fn facex_match(
        &self,
        request: &MatchRequest,
        idempotency_key: &str,
        anchor: &Anchor,
    ) -> Result<RemoteAnswer, RemoteError> {
        let response = self
            .post("/api/v2/public/facex/match", idempotency_key)
            .header(Anchor::HEADER, anchor.header_value())
            .json(request)
            .send()
            .map_err(transport)?;
        let anchored = response
            .headers()
            .get(Anchor::KEPT_HEADER)
            .and_then(|v| v.to_str().ok()?.trim().parse::<i64>().ok())
            == Some(anchor.record_id);
        let raw = classify(response)?;
        let verdict = match serde_json::from_str::<MatchVerdict>(&raw) {
            Ok(verdict) => verdict,
            // A verdict whose status is not one of the contract's: this record's answer
            // cannot be trusted, the remote itself can.
            Err(_) if serde_json::from_str::<VerdictShape>(&raw).is_ok() => {
                return Err(RemoteError::Permanent {
                    reason: format!(
                        "the remote answered a status outside the contract: {}",
                        brief(&raw)
                    ),
                })
            }
            Err(e) => return Err(not_the_contract("the match answer", e)),
        };
        Ok(RemoteAnswer { verdict, raw, anchored })
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

impl HttpRemote {
    /// The anchor the remote keeps for `device_id` (`Ok(None)`: it keeps none yet).
    ///
    /// # Errors
    /// [`RemoteError::NotTheContract`] when the remote does not keep anchors at all (it is
    /// not a facematch server), or any other failure.
    pub fn anchor(&self, device_id: &str) -> Result<Option<Anchor>, RemoteError> {
        let response = self
            .call(reqwest::Method::GET, &format!("/api/v2/facematch/anchors/{device_id}"))
            .send()
            .map_err(transport)?;
        let answer: AnchorAnswer = contract_answer(response, "the anchor answer")?;
        Ok(answer.anchor)
    }
}

/// The largest answer read from the remote: the contract's answers are a few KB.
pub const MAX_ANSWER_BYTES: u64 = 1 << 20;

/// The contract's codes that refuse one record for good.
const PERMANENT_CODES: [u32; 3] = [4001, 4005, 4007];

/// Any `{valid, status}` object, whatever its status says.
#[derive(serde::Deserialize)]
struct VerdictShape {
    #[allow(dead_code)] // only its presence is read
    valid: bool,
    #[allow(dead_code)]
    status: String,
}

fn not_the_contract(what: &str, e: serde_json::Error) -> RemoteError {
    RemoteError::NotTheContract { reason: format!("{what} is not the contract's ({e})") }
}

/// A successful answer read as `T`; anything else is a [`RemoteError`] (`what` names it).
fn contract_answer<T: serde::de::DeserializeOwned>(
    response: Response,
    what: &str,
) -> Result<T, RemoteError> {
    let text = classify(response)?;
    serde_json::from_str(&text).map_err(|e| not_the_contract(what, e))
}

/// The first 200 characters of an answer, for a message.
fn brief(text: &str) -> String {
    let cut: String = text.chars().take(200).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// Sorts an HTTP answer into success (its body) or a [`RemoteError`]. Only the contract's
/// own refusals park a record; anything else that is not the contract stops the run.
fn classify(response: Response) -> Result<String, RemoteError> {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let mut body = Vec::new();
    let read = response.take(MAX_ANSWER_BYTES + 1).read_to_end(&mut body);
    if body.len() as u64 > MAX_ANSWER_BYTES {
        return Err(RemoteError::NotTheContract {
            reason: format!(
                "HTTP {}: the answer is larger than {MAX_ANSWER_BYTES} bytes",
                status.as_u16()
            ),
        });
    }
    if let Err(e) = read {
        return Err(RemoteError::Transient {
            reason: format!("reading the answer failed: {e}"),
            retry_after: None,
        });
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    let contract_error = serde_json::from_str::<ErrorBody>(&text).ok();
    let explain = || match &contract_error {
        Some(e) => {
            let details = e.details.as_ref().map(|d| format!(" ({d})")).unwrap_or_default();
            format!("HTTP {} code {}: {}{details}", status.as_u16(), e.code, e.message)
        }
        None => format!("HTTP {}: {}", status.as_u16(), brief(&text)),
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
        StatusCode::BAD_REQUEST
            if contract_error.as_ref().is_some_and(|e| PERMANENT_CODES.contains(&e.code)) =>
        {
            Err(RemoteError::Permanent { reason: explain() })
        }
        _ => Err(RemoteError::NotTheContract { reason: explain() }),
    }
}
