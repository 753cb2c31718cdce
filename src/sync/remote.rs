//! The remote Face Match API as the sync needs it: upload a picture, ask for a
//! match. [`Remote`] is the small trait the sync loop calls; [`HttpRemote`] is
//! the real HTTP client. Every call carries an `Idempotency-Key`, so a retried
//! call is answered by the remote, not repeated. Calls go over TLS with the trust
//! [`crate::tls::ClientTrust`] describes; plain `http://` only to this machine unless
//! allowed; each call, answer included, ends within its timeout.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::multipart;
use reqwest::{Client, RequestBuilder, StatusCode, Url};

use crate::contract::{
    Anchor, AnchorAnswer, AttemptBatch, AttemptsAnswer, ErrorBody, Heartbeat, HeartbeatAnswer,
    HubInfo, MatchRequest, MatchVerdict, MediaUploaded,
};
use crate::tls::{CertificateProblem, ClientTrust};

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
    /// The TLS handshake was refused (certificate expired, for another name, of an unknown
    /// issuer, not pinned): the CA, the pins, the URL or the remote must change first, so the
    /// run stops and nothing is retried.
    #[error(transparent)]
    Certificate(CertificateProblem),
}

/// Why a client for a remote cannot be made: the device's settings, not the remote.
#[derive(Debug, thiserror::Error)]
pub enum RemoteSetupError {
    /// The URL does not parse, or is neither https:// nor http://.
    #[error("remote {url}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `http://` to another machine without `allow_plain_http`.
    #[error(
        "remote {url}: plain http would send the token and pictures across the network in the \
         clear; use https://, or give --allow-plain-http (allow_plain_http = true) if this \
         network is private and you accept that"
    )]
    PlainHttp {
        /// The URL as given.
        url: String,
    },
    /// The CA file or the system's trust store cannot be used.
    #[error(transparent)]
    Trust(#[from] crate::tls::client::TrustSetupError),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(String),
}

/// How the device reaches one remote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transport {
    /// Whom to trust for https://.
    pub trust: ClientTrust,
    /// Let `http://` reach another machine (a private network the bank vouches for).
    pub allow_plain_http: bool,
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
    /// Who this remote is (its base URL): the media ids it gives belong to it alone.
    fn name(&self) -> &str;

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

/// The remote service over HTTP(S).
pub struct HttpRemote {
    base: String,
    host: String,
    token: String,
    timeout: Duration,
    client: Client,
    /// The calls run on their own small runtime, so that one deadline covers a whole call.
    runtime: tokio::runtime::Runtime,
}

impl HttpRemote {
    /// A client for the service at `base` (e.g. `https://api.example.com`), authenticating
    /// with `token`; every call, its answer included, ends within `timeout`.
    ///
    /// # Errors
    /// A [`RemoteSetupError`]: a bad or plain-http URL, an unusable CA file or trust store.
    pub fn new(
        base: &str,
        token: &str,
        timeout: Duration,
        transport: &Transport,
    ) -> Result<HttpRemote, RemoteSetupError> {
        let url = Url::parse(base)
            .map_err(|e| RemoteSetupError::BadUrl { url: base.into(), reason: e.to_string() })?;
        let host = url.host_str().unwrap_or_default().to_string();
        match url.scheme() {
            "https" => {}
            "http" if transport.allow_plain_http || crate::tls::stays_on_this_machine(&host) => {}
            "http" => return Err(RemoteSetupError::PlainHttp { url: base.into() }),
            other => {
                return Err(RemoteSetupError::BadUrl {
                    url: base.into(),
                    reason: format!("{other}:// is not https:// or http://"),
                })
            }
        }
        let tls = if url.scheme() == "https" {
            transport.trust.client_config()?
        } else {
            crate::tls::client::trusting_nobody()?
        };
        let client = Client::builder()
            // A redirect is not followed: it would carry the Idempotency-Key (which names
            // this device) and the token to another address.
            .redirect(reqwest::redirect::Policy::none())
            .tls_backend_preconfigured(tls)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .no_proxy()
            .build()
            .map_err(|e| RemoteSetupError::Client(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RemoteSetupError::Client(e.to_string()))?;
        Ok(HttpRemote {
            base: base.trim_end_matches('/').to_string(),
            host,
            token: token.to_string(),
            timeout,
            client,
            runtime,
        })
    }

    /// A call to `path` with the token.
    fn call(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", format!("Basic {}", self.token))
    }

    /// A POST to `path` with the token and the idempotency key.
    fn post(&self, path: &str, idempotency_key: &str) -> RequestBuilder {
        self.call(reqwest::Method::POST, path).header("Idempotency-Key", idempotency_key)
    }

    /// Sends `request` and reads its answer (at most [`MAX_ANSWER_BYTES`]), all within the
    /// timeout: a remote that drips its answer is cut off like one that never answers.
    fn send(&self, request: RequestBuilder) -> Result<Answer, RemoteError> {
        let call = async {
            let mut response = request.send().await.map_err(|e| self.transport(&e))?;
            let status = response.status();
            let headers = response.headers().clone();
            let mut body = Vec::new();
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        if (body.len() + chunk.len()) as u64 > MAX_ANSWER_BYTES {
                            return Ok(Answer { status, headers, body: Body::TooLarge });
                        }
                        body.extend_from_slice(&chunk);
                    }
                    Ok(None) => return Ok(Answer { status, headers, body: Body::Read(body) }),
                    Err(e) => {
                        return Ok(Answer { status, headers, body: Body::Failed(e.to_string()) })
                    }
                }
            }
        };
        self.runtime.block_on(async {
            tokio::time::timeout(self.timeout, call).await.unwrap_or_else(|_| {
                Err(RemoteError::Transient {
                    reason: format!(
                        "timed out: no whole answer within {} s",
                        self.timeout.as_secs_f64()
                    ),
                    retry_after: None,
                })
            })
        })
    }

    /// Connection refused, reset, timeout: worth retrying; a refused certificate is not.
    /// The message names no token.
    fn transport(&self, e: &reqwest::Error) -> RemoteError {
        if let Some(problem) = CertificateProblem::find(&self.host, e) {
            return RemoteError::Certificate(problem);
        }
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "cannot connect"
        } else {
            "connection failed"
        };
        let reason = format!("{what}: {}", crate::error_chain::with_causes(e));
        RemoteError::Transient { reason, retry_after: None }
    }
}

/// An HTTP answer as read.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Body,
}

/// What became of an answer's body.
enum Body {
    Read(Vec<u8>),
    TooLarge,
    Failed(String),
}

impl Remote for HttpRemote {
    fn name(&self) -> &str {
        &self.base
    }

    fn upload(
        &self,
        name: &str,
        bytes: &[u8],
        idempotency_key: &str,
    ) -> Result<String, RemoteError> {
        let form = multipart::Form::new()
            .part("file", multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()));
        let answer = self.send(
            self.post("/api/v1/public/media/image/multipart", idempotency_key).multipart(form),
        )?;
        let uploaded: MediaUploaded = contract_answer(answer, "the upload's answer")?;
        Ok(uploaded.id)
    }

    fn facex_match(
        &self,
        request: &MatchRequest,
        idempotency_key: &str,
        anchor: &Anchor,
    ) -> Result<RemoteAnswer, RemoteError> {
        let answer = self.send(
            self.post("/api/v2/public/facex/match", idempotency_key)
                .header(Anchor::HEADER, anchor.header_value())
                .json(request),
        )?;
        let anchored = answer
            .headers
            .get(Anchor::KEPT_HEADER)
            .and_then(|v| v.to_str().ok()?.trim().parse::<i64>().ok())
            == Some(anchor.record_id);
        let raw = classify(answer)?;
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

impl HttpRemote {
    /// The anchors the remote keeps for `device_id`: the newest, and a page of those after
    /// record `after` (empty from a remote that keeps only the newest).
    ///
    /// # Errors
    /// [`RemoteError::NotTheContract`] when the remote does not keep anchors at all (it is
    /// not a facematch server), or any other failure.
    pub fn anchors(&self, device_id: &str, after: i64) -> Result<AnchorAnswer, RemoteError> {
        let path = format!("/api/v2/facematch/anchors/{device_id}?after={after}");
        let answer = self.send(self.call(reqwest::Method::GET, &path))?;
        contract_answer(answer, "the anchor answer")
    }

    /// Whether the remote is a facematch hub, which takes heartbeats: its answer, or `None`
    /// from a plain Face Match API (404).
    ///
    /// # Errors
    /// Any other failure.
    pub fn hub_info(&self) -> Result<Option<HubInfo>, RemoteError> {
        let answer = self.send(self.call(reqwest::Method::GET, "/api/v2/facematch/hub"))?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        contract_answer(answer, "the hub's answer").map(Some)
    }

    /// Sends `device_id`'s heartbeat to a hub; its answer.
    ///
    /// # Errors
    /// Any failure; a refusal (another token holds the device) as [`RemoteError::Permanent`].
    pub fn heartbeat(
        &self,
        device_id: &str,
        beat: &Heartbeat,
    ) -> Result<HeartbeatAnswer, RemoteError> {
        let path = format!("/api/v2/facematch/devices/{device_id}/heartbeat");
        let answer = self.send(self.call(reqwest::Method::POST, &path).json(beat))?;
        contract_answer(answer, "the heartbeat's answer")
    }

    /// Sends a batch of `device_id`'s liveness attempts to a hub; its answer.
    ///
    /// # Errors
    /// Any failure; a refusal (they do not continue what the hub holds, another token holds the
    /// device) as [`RemoteError::Permanent`].
    pub fn device_attempts(
        &self,
        device_id: &str,
        batch: &AttemptBatch,
    ) -> Result<AttemptsAnswer, RemoteError> {
        let path = format!("/api/v2/facematch/devices/{device_id}/attempts");
        let answer = self.send(self.call(reqwest::Method::POST, &path).json(batch))?;
        contract_answer(answer, "the attempts' answer")
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
    answer: Answer,
    what: &str,
) -> Result<T, RemoteError> {
    let text = classify(answer)?;
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
fn classify(answer: Answer) -> Result<String, RemoteError> {
    let Answer { status, headers, body } = answer;
    let retry_after = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = match body {
        Body::Read(body) => body,
        Body::TooLarge => {
            return Err(RemoteError::NotTheContract {
                reason: format!(
                    "HTTP {}: the answer is larger than {MAX_ANSWER_BYTES} bytes",
                    status.as_u16()
                ),
            })
        }
        Body::Failed(e) => {
            return Err(RemoteError::Transient {
                reason: format!("reading the answer failed: {e}"),
                retry_after: None,
            })
        }
    };
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
