//! The Face Match API served by the device itself, so an existing integration
//! can point at the kiosk instead of the cloud. Endpoints:
//!
//! - `POST /api/v1/public/media/image/multipart` — field `file` (JPEG/PNG, ≤ 10 MB)
//!   → `{"_id": "MX…", "originalName": "…"}`; 4001, 4005 (size), 4007 (type).
//! - `POST /api/v2/public/facex/match` — the contract's JSON body with media ids
//!   → the contract's response, recorded in the store (its row id is in the
//!   `X-Facematch-Verification` header).
//!
//! - `GET /api/v2/facematch/anchors/{device}`, `GET /api/v2/facematch/hub`,
//!   `POST /api/v2/facematch/devices/{device}/heartbeat` — our extensions for devices that sync
//!   here: their chain anchors, and their heartbeats (docs/hub.md).
//!
//! Every call needs `Authorization: Basic {authToken}` (tokens from
//! `facematch token add`; 401/4016 otherwise). Media are scoped per token: a
//! token cannot use, or learn of, another token's uploads (4001 "not found").
//! Limits: per-token and per-API rates (4291/4292, daily 4293/4294), body sizes,
//! timeouts (5001); a store that cannot be reached, 5001 as 503 with Retry-After. Errors always
//! have the contract's shape; 5xx details go to the log only. Inference runs on one dedicated
//! thread ([`worker`]); store calls (SQLite on a device, PostgreSQL on a hub, behind
//! [`ApiStore`]) run on tokio's blocking pool. This module never touches the screen or camera.

mod error;
#[cfg(feature = "test-faults")]
mod faults;
mod handlers;
pub mod limits;
pub mod listener;
pub mod worker;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

pub use error::ApiError;
#[cfg(feature = "test-faults")]
pub use faults::Faults;
use limits::{Api, Limits, RateLimiter};
pub use listener::Connections;
use worker::InferenceWorker;

use crate::store::ApiStore;

/// Largest upload body: the contract's 10 MB picture plus multipart overhead.
pub const UPLOAD_BODY_LIMIT: usize = crate::intake::MAX_FILE_BYTES + 64 * 1024;
/// Uploads received at once by default (`serve --max-uploads`): 4 × 10 MB of bodies at most.
pub const UPLOADS_IN_FLIGHT: usize = 4;
/// Match requests admitted at once (waiting or in work); one more is answered 4292.
pub const MATCHES_ADMITTED: usize = 64;
/// Match requests whose pictures are held at once (loaded, being decoded, waiting for the
/// inference thread or in it): this bounds the memory matches take together, and two let one
/// request decode while another is analysed. The others wait holding only their media ids.
pub const MATCHES_IN_MEMORY: usize = 2;
/// Largest match request body (a few media ids).
pub const MATCH_BODY_LIMIT: usize = 16 * 1024;
/// Largest body of a device's call to its hub (a heartbeat, a batch of liveness attempts): with
/// the connection cap, at most 16 MB held at once.
pub const FLEET_BODY_LIMIT: usize = 64 * 1024;
/// How long one request may take before it is answered 5001.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The store: a device's SQLite file or a hub's PostgreSQL (both clients are synchronous:
    /// used from the blocking pool).
    pub store: Arc<dyn ApiStore>,
    /// The inference thread.
    pub worker: InferenceWorker,
    /// Rate limits.
    pub limiter: Arc<RateLimiter>,
    /// How long a client has to send a request body (the match call's).
    pub read_timeout: Duration,
    /// Uploads being received at once: each may hold up to [`UPLOAD_BODY_LIMIT`] in memory, so
    /// this bounds what all of them hold together; one more is answered 4292.
    pub uploads: Arc<tokio::sync::Semaphore>,
    /// Match requests admitted ([`MATCHES_ADMITTED`]).
    pub matches: Arc<tokio::sync::Semaphore>,
    /// Match requests holding their pictures ([`MATCHES_IN_MEMORY`]).
    pub pictures: Arc<tokio::sync::Semaphore>,
    /// Testing only (feature `test-faults`): failures to answer before serving normally.
    #[cfg(feature = "test-faults")]
    pub faults: Option<Faults>,
}

impl AppState {
    /// State over an open store and a started worker; the daily limits start from the day's
    /// counts stored by earlier runs.
    ///
    /// # Errors
    /// When the stored counts cannot be read.
    pub fn new(
        store: Arc<dyn ApiStore>,
        worker: InferenceWorker,
        limits: Limits,
    ) -> Result<AppState, crate::store::StoreError> {
        let today: Vec<_> = store
            .day_counts(limits::today() as i64)?
            .into_iter()
            .filter_map(|(token, api, n)| match api.as_deref() {
                None => Some((token, None, n)),
                Some(name) => Api::named(name).map(|api| (token, Some(api), n)),
            })
            .collect();
        Ok(AppState {
            store,
            worker,
            limiter: Arc::new(RateLimiter::new(limits, &today)),
            read_timeout: Connections::default().read_timeout,
            uploads: Arc::new(tokio::sync::Semaphore::new(UPLOADS_IN_FLIGHT)),
            matches: Arc::new(tokio::sync::Semaphore::new(MATCHES_ADMITTED)),
            pictures: Arc::new(tokio::sync::Semaphore::new(MATCHES_IN_MEMORY)),
            #[cfg(feature = "test-faults")]
            faults: None,
        })
    }
}

/// The API's routes.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route(
            "/api/v1/public/media/image/multipart",
            post(handlers::upload_media).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route(
            "/api/{version}/public/facex/match",
            post(handlers::facex_match).layer(DefaultBodyLimit::max(MATCH_BODY_LIMIT)),
        )
        .route("/api/v2/facematch/anchors/{device}", get(handlers::anchor))
        .route("/api/v2/facematch/hub", get(handlers::hub_info))
        .route(
            "/api/v2/facematch/devices/{device}/heartbeat",
            post(handlers::heartbeat).layer(DefaultBodyLimit::max(FLEET_BODY_LIMIT)),
        )
        .route(
            "/api/v2/facematch/devices/{device}/attempts",
            post(handlers::device_attempts).layer(DefaultBodyLimit::max(FLEET_BODY_LIMIT)),
        )
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed);
    #[cfg(feature = "test-faults")]
    let routes = match state.faults.clone() {
        Some(faults) => routes.layer(axum::middleware::from_fn_with_state(faults, faults::inject)),
        None => routes,
    };
    routes
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(handlers::panic_to_5001))
        .with_state(state)
}

/// Serves the API on `listener` until ctrl-c or SIGTERM, under the connection limits, over
/// TLS with `tls`'s certificate when given (read again on SIGHUP: connections made after take
/// the new one, requests in flight finish on theirs). Logs the bound address.
///
/// # Errors
/// When the socket fails, or rustls refuses the configuration.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    connections: Connections,
    tls: Option<Arc<crate::tls::ReloadableCert>>,
) -> std::io::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    // Caught from the start, with or without TLS: SIGHUP's default would end the server and
    // drop the decisions in flight (`systemctl reload` sends it).
    let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let acceptor = listener::acceptor(tls.as_ref(), "serve", addr)?;
    tokio::spawn(on_hangup(hangups, tls));
    listener::serve_connections(listener, router(state), connections, acceptor, shutdown_signal())
        .await
}

/// At each SIGHUP: reads the certificate and key again (a failed read keeps the one in use);
/// without TLS there is nothing to read again, and the server goes on.
async fn on_hangup(
    mut hangups: tokio::signal::unix::Signal,
    cert: Option<Arc<crate::tls::ReloadableCert>>,
) {
    while hangups.recv().await.is_some() {
        let Some(cert) = cert.clone() else {
            log::info!("serve: SIGHUP: no --tls-cert, nothing to read again");
            continue;
        };
        match tokio::task::spawn_blocking(move || cert.reload()).await {
            Ok(Ok(())) => log::info!("serve: SIGHUP: certificate read again"),
            Ok(Err(e)) => log::error!("serve: SIGHUP: {e}; the certificate in use stays"),
            Err(e) => log::error!("serve: SIGHUP: reloading failed: {e}"),
        }
    }
}

/// Completes at ctrl-c or SIGTERM: when a server (the API, the review page) stops taking
/// connections and lets the requests in flight finish.
pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}
