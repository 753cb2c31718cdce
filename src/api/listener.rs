//! The accept loop: HTTP/1.1 connections under time and number limits, so that slow or
//! idle clients cannot hold the device's sockets and memory. A client must send each
//! request's headers within [`Connections::read_timeout`] (an idle keep-alive connection is
//! closed after the same time), the match body within it too (`handlers`), and read its
//! answers: a write that makes no progress for the same time closes the connection, and what
//! waits unread is bounded by a small kernel send buffer ([`SEND_BUFFER`]). At most
//! [`Connections::max`] connections are served at once, at most [`Connections::per_client`]
//! from one address (more from it are closed at once); more wait in the kernel's backlog.
//! With a TLS acceptor each connection first completes its handshake, within the same read
//! timeout, and the certificate it is offered is the one in force when it connects.

use std::future::Future;
use std::net::IpAddr;
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
    /// Connections served at once from one client address.
    pub per_client: usize,
    /// Time to send a request's headers, and most time a connection may sit idle or a write
    /// to it may make no progress.
    pub read_timeout: Duration,
}

impl Default for Connections {
    fn default() -> Self {
        Connections { max: 256, per_client: 32, read_timeout: Duration::from_secs(10) }
    }
}

/// The kernel send buffer of each connection: what a client that does not read can leave
/// queued (the answers are a few KB; an upload's is smaller still).
pub const SEND_BUFFER: usize = 64 * 1024;

/// The connections open per client address.
#[derive(Default)]
struct PerClient(std::sync::Mutex<std::collections::HashMap<IpAddr, usize>>);

impl PerClient {
    /// Counts a connection from `ip`, unless `limit` are open already.
    fn enter(self: &Arc<Self>, ip: IpAddr, limit: usize) -> Option<ClientSlot> {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(ip).or_insert(0);
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(ClientSlot { clients: self.clone(), ip })
    }
}

/// One connection counted for its client address, until dropped.
struct ClientSlot {
    clients: Arc<PerClient>,
    ip: IpAddr,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.clients.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// The TLS acceptor of `tls`'s certificate (none: plain http), once the address `who` (the API,
/// the review page) listens on is logged with its scheme.
///
/// # Errors
/// rustls refuses the certificate.
pub fn acceptor(
    tls: Option<&Arc<crate::tls::ReloadableCert>>,
    who: &str,
    addr: std::net::SocketAddr,
) -> std::io::Result<Option<TlsAcceptor>> {
    match tls {
        Some(cert) => {
            let config = cert.server_config().map_err(std::io::Error::other)?;
            log::info!("{who}: listening on https://{addr}");
            Ok(Some(TlsAcceptor::from(Arc::new(config))))
        }
        None => {
            log::info!("{who}: listening on http://{addr}");
            Ok(None)
        }
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
    let clients = Arc::new(PerClient::default());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.map_err(std::io::Error::other)?,
        };
        let (stream, client) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => match clients.enter(peer.ip(), limits.per_client.max(1)) {
                    Some(client) => (stream, client),
                    None => {
                        log::debug!("serve: {} has {} connections open already", peer.ip(), limits.per_client);
                        continue;
                    }
                },
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    log::warn!("serve: accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if let Err(e) = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER) {
            log::debug!("serve: the send buffer stays the system's: {e}");
        }
        // Reads are bounded by hyper (headers) and the handlers (bodies); writes here.
        let mut stream = tokio_io_timeout::TimeoutStream::new(stream);
        stream.set_write_timeout(Some(limits.read_timeout));
        let stream = Box::pin(stream);
        let (app, watcher) = (app.clone(), graceful.watcher());
        let held = (slot, client);
        match tls.clone() {
            None => {
                tokio::spawn(serve_one(stream, app, limits, watcher, held));
            }
            Some(acceptor) => {
                tokio::spawn(async move {
                    match tokio::time::timeout(limits.read_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => serve_one(stream, app, limits, watcher, held).await,
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

/// Serves HTTP/1.1 on one accepted connection, holding its slots (overall, and its client
/// address's) until it ends.
async fn serve_one<S>(
    stream: S,
    app: Router,
    limits: Connections,
    watcher: Watcher,
    slots: (OwnedSemaphorePermit, ClientSlot),
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
    drop(slots);
}
