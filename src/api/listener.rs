//! The accept loop: HTTP/1.1 connections under time and number limits, so that slow or
//! idle clients cannot hold the device's sockets and memory. A client must send each
//! request's headers within [`Connections::read_timeout`] (an idle keep-alive connection is
//! closed after the same time), the match body within it too (`handlers`), and at most
//! [`Connections::max`] connections are served at once; more wait in the kernel's backlog.
//! With a TLS acceptor each connection first completes its handshake, within the same read
//! timeout, and the certificate it is offered is the one in force when it connects.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;

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

/// Serves `app` on `listener` (over TLS when `tls` is given) until `shutdown` completes, then
/// lets in-flight requests finish (at most [`DRAIN`]).
///
/// # Errors
/// Never for a single connection's failure (it is logged); the loop ends only on shutdown.
pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: Connections,
    tls: Option<TlsAcceptor>,
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
        let (app, watcher) = (app.clone(), graceful.watcher());
        match tls.clone() {
            None => {
                tokio::spawn(serve_one(stream, app, limits, watcher, slot));
            }
            Some(acceptor) => {
                tokio::spawn(async move {
                    match tokio::time::timeout(limits.read_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => serve_one(stream, app, limits, watcher, slot).await,
                        Ok(Err(e)) => log::debug!("serve: TLS handshake failed: {e}"),
                        Err(_) => log::debug!("serve: TLS handshake timed out"),
                    }
                });
            }
        }
    }
    log::info!("serve: shutting down");
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        log::warn!("serve: requests still running after {} s were dropped", DRAIN.as_secs());
    }
    Ok(())
}

/// Serves HTTP/1.1 on one accepted connection, holding its `slot` until it ends.
async fn serve_one<S>(
    stream: S,
    app: Router,
    limits: Connections,
    watcher: Watcher,
    slot: OwnedSemaphorePermit,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.read_timeout)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
    if let Err(e) = watcher.watch(connection).await {
        log::debug!("serve: connection ended: {e}");
    }
    drop(slot);
}
