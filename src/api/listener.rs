//! The accept loop: HTTP/1.1 connections under time and number limits, so that slow or
//! idle clients cannot hold the device's sockets and memory. A client must send each
//! request's headers within [`Connections::read_timeout`] (an idle keep-alive connection is
//! closed after the same time), the match body within it too (`handlers`), and at most
//! [`Connections::max`] connections are served at once; more wait in the kernel's backlog.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How connections are limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connections {
    /// Connections served at once.
    pub max: usize,
    /// Time to send a request's headers, and most time a connection may sit idle.
    pub read_timeout: Duration,
}

impl Default for Connections {
    fn default() -> Self {
        Connections { max: 256, read_timeout: Duration::from_secs(10) }
    }
}

/// How long in-flight requests get to finish once a shutdown is asked for.
const DRAIN: Duration = Duration::from_secs(30);

/// Serves `app` on `listener` until `shutdown` completes, then lets in-flight requests
/// finish (at most [`DRAIN`]).
///
/// # Errors
/// Never for a single connection's failure (it is logged); the loop ends only on shutdown.
pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: Connections,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max.max(1)));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.map_err(std::io::Error::other)?,
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    log::warn!("serve: accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.read_timeout)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                log::debug!("serve: connection ended: {e}");
            }
            drop(slot);
        });
    }
    log::info!("serve: shutting down");
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        log::warn!("serve: requests still running after {} s were dropped", DRAIN.as_secs());
    }
    Ok(())
}
