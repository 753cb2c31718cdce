//! The endpoint handlers: authenticate, limit, validate, then hand work to the
//! store (blocking pool) and the inference thread.

use std::any::Any;
use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::limits::Api;
use super::worker::Job;
use super::{ApiError, AppState, REQUEST_TIMEOUT};
use crate::answer;
use crate::contract::{
    Anchor, AnchorAnswer, AttemptBatch, AttemptsAnswer, DeviceAttempt, ErrorBody, ErrorCode,
    Heartbeat, HeartbeatAnswer, HubInfo, MatchRequest, MediaUploaded,
};
use crate::domain::PictureFormat;
use crate::intake::{sniff, MAX_FILE_BYTES};
use crate::record::{new_verification, RequestMedia};
use crate::store::{
    AnchorOutcome, ApiStore, AttemptsOutcome, ChainedAttempt, HeartbeatOutcome, KeyedVerification,
    MediaId, StoreError, TokenId, ATTEMPT_BATCH,
};
use crate::verify::MatchParams;

/// Runs `f` on the store from tokio's blocking pool.
async fn with_store<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&dyn ApiStore) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .map_err(|e| ApiError::internal(format!("store task failed: {e}")))?
}

/// The caller's token from `Authorization: Basic {authToken}`, counted against its limits.
async fn authorize(state: &AppState, headers: &HeaderMap, api: Api) -> Result<TokenId, ApiError> {
    let unauthorized = |details: &str| ApiError::new(ErrorCode::InvalidAuthorization, details);
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("the Authorization header is missing"))?
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not text"))?;
    let (scheme, token) =
        value.trim().split_once(' ').ok_or_else(|| unauthorized("expected: Basic {authToken}"))?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(unauthorized("expected: Basic {authToken}"));
    }
    let token = token.trim().to_string();
    let found = with_store(state, move |s| Ok(s.authenticate(&token)?)).await?;
    let id = found.ok_or_else(|| unauthorized("unknown or revoked token"))?;
    if state.store.counts_calls() {
        // Counted in the database, with every replica's calls.
        let limits = state.limiter.limits();
        let now = super::limits::now_ms();
        let refusal = with_store(state, move |s| {
            let mut refusal = None;
            s.admit_call(id, api.as_str(), now, &mut |recent| {
                refusal = limits.judge(recent, now).err();
                refusal.is_none()
            })?;
            Ok(refusal)
        })
        .await?;
        return match refusal {
            Some(refusal) => Err(ApiError::limited(refusal)),
            None => Ok(id),
        };
    }
    state.limiter.check(id, api).map_err(ApiError::limited)?;
    if state.limiter.counts_days() {
        // The day's counts outlive a restart.
        let day = super::limits::today() as i64;
        with_store(state, move |s| Ok(s.count_request(id, api.as_str(), day)?)).await?;
    }
    Ok(id)
}

/// `POST /api/v1/public/media/image/multipart`
pub async fn upload_media(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let headers = request.headers().clone();
    let token = match authorize(&state, &headers, Api::Media).await {
        Ok(token) => token,
        Err(e) => return Ok(refuse_before_the_body(request.into_body(), e).await),
    };
    // Held until this upload is stored or refused: the bodies in memory stay bounded.
    let Ok(_receiving) = state.uploads.clone().try_acquire_owned() else {
        let busy = ApiError::busy("too many uploads being received", 1);
        return Ok(refuse_before_the_body(request.into_body(), busy).await);
    };
    let mut multipart =
        Multipart::from_request(request, &state).await.map_err(|e: MultipartRejection| {
            ApiError::malformed(format!("expected a multipart/form-data body: {e}"))
        })?;
    let read = async {
        while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
            if field.name() == Some("file") {
                let name = field.file_name().unwrap_or("upload").to_string();
                let bytes = field.bytes().await.map_err(multipart_error)?;
                return Ok((name, bytes));
            }
        }
        Err(ApiError::malformed("the multipart field `file` is missing"))
    };
    let (name, bytes) =
        tokio::time::timeout(REQUEST_TIMEOUT, read).await.map_err(|_| timeout())??;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(over_size(bytes.len()));
    }
    let content_type = match sniff(&bytes) {
        Some(PictureFormat::Jpeg) => "image/jpeg",
        Some(PictureFormat::Png) => "image/png",
        None => {
            return Err(ApiError::new(
                ErrorCode::IncompatibleFileType,
                "only JPEG and PNG images are accepted",
            ))
        }
    };
    let stored_name = name.clone();
    let key = idempotency_key(&headers)?;
    let id = with_store(&state, move |s| {
        Ok(s.insert_media_once(Some(token), key.as_deref(), &stored_name, content_type, &bytes)?)
    })
    .await?;
    Ok(Json(MediaUploaded { id: id.0, original_name: name }).into_response())
}

/// How long a refused upload's body is read and thrown away before the answer.
const REFUSED_BODY_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// The answer to a request refused from its headers alone (a wrong token, a limit): its body is
/// never kept. What the client is still sending is read and dropped for at most
/// [`REFUSED_BODY_GRACE`], so that it sees the answer rather than a reset mid-upload, and the
/// connection is closed with the answer.
async fn refuse_before_the_body(body: Body, refusal: ApiError) -> Response {
    use http_body_util::BodyExt;
    let mut body = body;
    let discard = async { while let Some(Ok(_dropped)) = body.frame().await {} };
    let _ = tokio::time::timeout(REFUSED_BODY_GRACE, discard).await;
    let mut response = refusal.into_response();
    response.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    response
}

fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        over_size(MAX_FILE_BYTES + 1)
    } else {
        ApiError::malformed(format!("malformed multipart body: {}", e.body_text()))
    }
}

fn over_size(bytes: usize) -> ApiError {
    ApiError::new(
        ErrorCode::OverLimit,
        format!("file is {bytes} bytes or more; the maximum is {MAX_FILE_BYTES} (10 MB)"),
    )
}

fn timeout() -> ApiError {
    ApiError::internal(format!("request took longer than {} s", REQUEST_TIMEOUT.as_secs()))
}

/// `POST /api/{version}/public/facex/match`
pub async fn facex_match(
    State(state): State<AppState>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if version != "v2" {
        return Err(ApiError::malformed(format!("API version {version} is not served; use v2")));
    }
    let token = authorize(&state, &headers, Api::Match).await?;
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !is_json(content_type) {
        return Err(ApiError::malformed("Content-Type must be application/json"));
    }
    // The body must arrive in time: a client dripping it would hold the connection.
    let body = tokio::time::timeout(state.read_timeout, to_bytes(body, super::MATCH_BODY_LIMIT))
        .await
        .map_err(|_| {
            ApiError::malformed(format!(
                "the body did not arrive within {} s",
                state.read_timeout.as_secs()
            ))
        })?
        .map_err(|e| ApiError::malformed(format!("cannot read the body: {e}")))?;
    let request: MatchRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::malformed(format!("malformed JSON: {e}")))?;
    let params = answer::params(&request)?;
    let required = |v: &Option<String>, field: &str| {
        v.clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::malformed(format!("{field} is required")))
    };
    let ids = RequestIds {
        src: required(&request.src, "src")?,
        front: required(&request.target_front, "targetFront")?,
        back: request.target_back.clone().filter(|s| !s.is_empty()),
    };
    let key = idempotency_key(&headers)?;
    let anchor_key = key.clone();
    if let Some(key) = key.clone() {
        let lookup = key.clone();
        let found =
            with_store(&state, move |s| Ok(s.verification_by_key(Some(token), &lookup)?)).await?;
        if let Some(earlier) = found {
            same_request(&earlier, &ids, params, &key)?;
            return Ok(with_anchor(&state, token, &headers, anchor_key, replay(earlier)).await);
        }
    }
    let decided = tokio::time::timeout(
        REQUEST_TIMEOUT,
        decide(state.clone(), token, request, params, ids, key),
    )
    .await
    .map_err(|_| timeout())??;
    Ok(with_anchor(&state, token, &headers, anchor_key, decided).await)
}

/// Keeps the device's chain anchor the request carries (`X-Facematch-Anchor`, sent by
/// `facematch sync`) and says so in the answer. Only an anchor this server can check is kept:
/// it names the record this very call decided (its Idempotency-Key is that record's,
/// `DEVICE-verification-RECORD`), the call was answered, and the record follows the one kept
/// for the device ([`crate::store::AnchorOutcome`]). Anything else is logged and not kept; a
/// missing or malformed anchor is ignored.
async fn with_anchor(
    state: &AppState,
    token: TokenId,
    headers: &HeaderMap,
    idempotency_key: Option<String>,
    mut response: Response,
) -> Response {
    let anchor =
        headers.get(Anchor::HEADER).and_then(|v| v.to_str().ok()).and_then(Anchor::parse_header);
    let Some(anchor) = anchor else { return response };
    let record = anchor.record_id;
    let own_key = format!("{}-verification-{record}", anchor.device_id);
    if !response.status().is_success() || idempotency_key.as_deref() != Some(own_key.as_str()) {
        log::warn!(
            "serve: anchor {} of device {} refused: it does not name the record this call decided \
             (Idempotency-Key {:?})",
            record,
            anchor.device_id,
            idempotency_key
        );
        return response;
    }
    let device = anchor.device_id.clone();
    match with_store(state, move |s| Ok(s.keep_anchor(token, &anchor)?)).await {
        Ok(AnchorOutcome::Kept | AnchorOutcome::Again) => {
            response.headers_mut().insert(Anchor::KEPT_HEADER, header::HeaderValue::from(record));
        }
        Ok(refused) => log::warn!("serve: anchor {record} of device {device} refused: {refused:?}"),
        Err(e) => log::warn!("serve: an anchor was not kept: {}", e.details),
    }
    response
}

/// `GET /api/v2/facematch/anchors/{device}[?after=N]`: the newest record of `device` kept here
/// and a page of every record kept after `N`, for `facematch log verify --remote`.
pub async fn anchor(
    State(state): State<AppState>,
    Path(device): Path<String>,
    Query(page): Query<AnchorPage>,
    headers: HeaderMap,
) -> Result<Json<AnchorAnswer>, ApiError> {
    authorize(&state, &headers, Api::Match).await?;
    let after = page.after.unwrap_or(0);
    let (anchor, kept) = with_store(&state, move |s| {
        let newest = s.anchors_after(&device, i64::MAX - 1, true)?.pop();
        Ok((newest, s.anchors_after(&device, after, false)?))
    })
    .await?;
    Ok(Json(AnchorAnswer { anchor, kept }))
}

/// `GET /api/v2/facematch/hub`: this server is a facematch hub, which takes the fleet's
/// heartbeats (a plain Face Match API answers 404 here).
pub async fn hub_info(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<HubInfo>, ApiError> {
    authorize(&state, &headers, Api::Fleet).await?;
    Ok(Json(HubInfo { hub: "facematch".into(), version: env!("CARGO_PKG_VERSION").into() }))
}

/// `POST /api/v2/facematch/devices/{device}/heartbeat`: keeps the device's heartbeat (what it
/// runs, its queue, its clock) and answers how far its clock is from this server's. A device
/// whose heartbeats come with another live token is refused (4001), as its anchors are.
pub async fn heartbeat(
    State(state): State<AppState>,
    Path(device): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<HeartbeatAnswer>, ApiError> {
    let token = authorize(&state, &headers, Api::Fleet).await?;
    check_device_id(&device)?;
    let beat: Heartbeat = fleet_body(&state, body, "heartbeat").await?;
    if !beat.is_reasonable() {
        return Err(ApiError::malformed(
            "a heartbeat's names are 1-100 characters, 32 models and 20 open records at most, its \
             times between 1970 and 9999",
        ));
    }
    let json =
        serde_json::to_string(&beat).map_err(|e| ApiError::internal(format!("heartbeat: {e}")))?;
    let sent_at = beat.sent_at_ms;
    let (outcome, last_attempt) = with_store(&state, move |s| {
        let outcome = s.keep_heartbeat(token, &device, &json, sent_at)?;
        Ok((outcome, s.last_device_attempt(&device)?))
    })
    .await?;
    match outcome {
        HeartbeatOutcome::Kept { clock_offset_ms } => Ok(Json(HeartbeatAnswer {
            kept: true,
            clock_offset_ms,
            takes_attempts: true,
            last_attempt,
        })),
        HeartbeatOutcome::OtherToken => Err(another_token_holds_the_device()),
    }
}

/// `POST /api/v2/facematch/devices/{device}/attempts`: keeps the device's liveness attempts new
/// to the hub, in its chain's order (a failed one's frame uploaded first by the same token),
/// and answers the newest held. Attempts that do not continue what is held, or a device whose
/// heartbeats come with another live token, are refused (4001).
pub async fn device_attempts(
    State(state): State<AppState>,
    Path(device): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<AttemptsAnswer>, ApiError> {
    let token = authorize(&state, &headers, Api::Fleet).await?;
    check_device_id(&device)?;
    let batch: AttemptBatch = fleet_body(&state, body, "batch of attempts").await?;
    if batch.attempts.is_empty()
        || batch.attempts.len() > ATTEMPT_BATCH
        || !batch.attempts.iter().all(DeviceAttempt::is_reasonable)
    {
        return Err(ApiError::malformed(format!(
            "1-{ATTEMPT_BATCH} attempts a call, each with hashes of 64 hex digits and at most {} \
             bytes of evidence",
            DeviceAttempt::MAX_EVIDENCE_BYTES
        )));
    }
    let chained: Vec<ChainedAttempt> =
        batch.attempts.into_iter().map(|a| crate::record::attempt::chained(&device, a)).collect();
    let outcome =
        with_store(&state, move |s| Ok(s.keep_device_attempts(token, &device, &chained)?)).await?;
    match outcome {
        AttemptsOutcome::Kept { kept, last } => {
            Ok(Json(AttemptsAnswer { kept: kept as u64, last_attempt: last }))
        }
        AttemptsOutcome::OtherToken => Err(another_token_holds_the_device()),
        AttemptsOutcome::Refused(reason) => Err(ApiError::malformed(reason)),
    }
}

/// The refusal of a fleet call for a device that another live token speaks for.
fn another_token_holds_the_device() -> ApiError {
    ApiError::malformed("this device's heartbeats come with another token, still valid")
}

/// A device id as the fleet's calls name it: 1-64 letters and digits.
fn check_device_id(device: &str) -> Result<(), ApiError> {
    if device.is_empty() || device.len() > 64 || !device.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(ApiError::malformed("a device id is 1-64 letters and digits"));
    }
    Ok(())
}

/// A fleet call's JSON body (`what` names it), read within the read timeout and
/// [`super::FLEET_BODY_LIMIT`].
async fn fleet_body<T: serde::de::DeserializeOwned>(
    state: &AppState,
    body: Body,
    what: &str,
) -> Result<T, ApiError> {
    let body = tokio::time::timeout(state.read_timeout, to_bytes(body, super::FLEET_BODY_LIMIT))
        .await
        .map_err(|_| ApiError::malformed("the body did not arrive in time"))?
        .map_err(|e| ApiError::malformed(format!("cannot read the body: {e}")))?;
    serde_json::from_slice(&body).map_err(|e| ApiError::malformed(format!("malformed {what}: {e}")))
}

/// The page of kept anchors asked for: those after record `after`.
#[derive(serde::Deserialize)]
pub struct AnchorPage {
    after: Option<i64>,
}

/// `application/json`, with parameters (`; charset=utf-8`) or not; `application/jsonx` is not.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// The optional `Idempotency-Key` header (1-200 characters).
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key =
        value.to_str().map_err(|_| ApiError::malformed("Idempotency-Key must be text"))?.trim();
    if key.is_empty() || key.len() > 200 {
        return Err(ApiError::malformed("Idempotency-Key must be 1-200 characters"));
    }
    Ok(Some(key.to_string()))
}

/// The stored answer to a request already made with the same idempotency key.
fn replay(earlier: KeyedVerification) -> Response {
    let headers = [
        (header::CONTENT_TYPE, "application/json".to_string()),
        (header::HeaderName::from_static("x-facematch-verification"), earlier.id.to_string()),
    ];
    (headers, earlier.response_json).into_response()
}

#[derive(Clone)]
struct RequestIds {
    src: String,
    front: String,
    back: Option<String>,
}

async fn decide(
    state: AppState,
    token: TokenId,
    request: MatchRequest,
    params: MatchParams,
    ids: RequestIds,
    key: Option<String>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let _admitted = state
        .matches
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::busy("too many matches waiting", 1))?;
    // Waits its turn holding only the media ids; from here on its pictures are in memory, and
    // the permit goes with them (to the blocking pool, then the inference thread) until they
    // are dropped, even if this request times out first.
    let holding = state
        .pictures
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::internal("the server is stopping"))?;
    let (src_id, front_id, back_id) = (ids.src.clone(), ids.front.clone(), ids.back.clone());
    let (src, front, back) = with_store(&state, move |s| {
        let load = |field: &str, id: &str| {
            s.media_bytes(id, Some(token)).map_err(|e| match e {
                StoreError::NotFound(_) => ApiError::malformed(format!("{field}: {e}")),
                other => ApiError::from(other),
            })
        };
        let src = load("src", &src_id)?;
        let front = load("targetFront", &front_id)?;
        let back = back_id.as_deref().map(|id| load("targetBack", id)).transpose()?;
        Ok((src, front, back))
    })
    .await?;
    // Decoded on the blocking pool, not on the inference thread: a picture slow to decode
    // (within the intake's budget) delays its own answer only.
    let decoded = tokio::task::spawn_blocking(move || {
        let bytes = answer::RequestBytes { src: &src, front: &front, back: back.as_deref() };
        (answer::decode_request(bytes), holding)
    })
    .await
    .map_err(|e| {
        log::error!("serve: decoding a request failed: {e}");
        ApiError::internal("the pictures could not be processed")
    })?;
    let (answer, verification) = match decoded {
        (Ok(pictures), holding) => state.worker.run(Job { pictures, params, holding }).await?,
        (Err(refusal), _) => (refusal.answer()?, None),
    };
    let asked = ids.clone();
    let media = RequestMedia {
        src: Some(MediaId(ids.src)),
        front: Some(MediaId(ids.front)),
        back: ids.back.map(MediaId),
    };
    let mut entry = new_verification(
        Some(token),
        &request,
        params,
        &answer,
        verification.as_ref(),
        media,
        started.elapsed(),
    );
    entry.idempotency_key = key.clone();
    // A decision that is not in the log is not given out.
    let recorded = with_store(&state, move |s| match s.record_verification(&entry) {
        Ok(id) => Ok(Ok(id)),
        // The same key, sent again while this one ran, was logged first: answer as it was
        // answered if it was the same request, refuse if it was another.
        Err(StoreError::Exists(_)) => {
            let key = key.as_deref().unwrap_or_default();
            let earlier = s
                .verification_by_key(Some(token), key)?
                .ok_or_else(|| ApiError::internal("idempotency key vanished"))?;
            same_request(&earlier, &asked, params, key)?;
            Ok(Err(earlier))
        }
        Err(e) => Err(e.into()),
    })
    .await?;
    match recorded {
        Ok(id) => {
            Ok(([("x-facematch-verification", id.to_string())], Json(answer)).into_response())
        }
        Err(earlier) => Ok(replay(earlier)),
    }
}

/// Refuses `key` when it names another request (other pictures, type or threshold), as the
/// store refuses it for another upload: never answered with the first one's decision.
fn same_request(
    earlier: &KeyedVerification,
    ids: &RequestIds,
    params: MatchParams,
    key: &str,
) -> Result<(), ApiError> {
    let asked = [Some(&ids.src), Some(&ids.front), ids.back.as_ref()];
    let same = earlier.media.iter().map(Option::as_ref).eq(asked)
        && earlier.doc_type == params.doc_type.as_str()
        && earlier.threshold == params.threshold.percent();
    if same {
        Ok(())
    } else {
        Err(StoreError::KeyReused(key.to_string()).into())
    }
}

/// Unknown paths, in the contract's error shape.
pub async fn not_found(method: Method, uri: Uri) -> Response {
    let body =
        ErrorBody::new(ErrorCode::Malformed, format!("no such endpoint: {method} {}", uri.path()));
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// A known path with the wrong method, in the contract's error shape.
pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let body =
        ErrorBody::new(ErrorCode::Malformed, format!("{} does not take {method}", uri.path()));
    let allow = [(header::ALLOW, "POST")];
    (StatusCode::METHOD_NOT_ALLOWED, allow, Json(body)).into_response()
}

/// A panicking handler becomes a 5001; the panic is logged, not sent.
pub fn panic_to_5001(panic: Box<dyn Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned());
    ApiError::internal(format!("handler panicked: {}", what.unwrap_or_default())).into_response()
}
