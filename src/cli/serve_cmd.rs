//! `facematch serve`: the Face Match API on this device, or as a hub's replica on PostgreSQL.

use std::time::Duration;

use anyhow::{Context, Result};

use super::args::ServeArgs;
use super::load_engine;
use super::store_choice::ChosenStore;
use crate::api::limits::Limits;
use crate::api::worker::InferenceWorker;
use crate::api::{serve, shutdown_signal, AppState, Connections, MATCHES_IN_MEMORY};
use crate::review::{ReviewConfig, ReviewState};

/// Runs the server until ctrl-c / SIGTERM.
///
/// # Errors
/// The store or models cannot be opened, or the address cannot be bound.
pub fn run(args: ServeArgs) -> Result<()> {
    let (store, review_store) = ChosenStore::open(&args.store)?.into_stores();
    store.check_writable().context("serve records every decision before answering it")?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(std::sync::Arc::new(
            crate::tls::ReloadableCert::load(cert, key)
                .map_err(|e| anyhow::anyhow!("--tls-cert/--tls-key: {e}"))?,
        )),
        _ => None,
    };
    let review = match (&args.review, review_store) {
        (None, _) => None,
        (Some(_), None) => anyhow::bail!(
            "--review needs a hub on PostgreSQL (--store postgres://...): staff accounts, \
             sessions and decisions live there"
        ),
        (Some(addr), Some(review_store)) => {
            let on_loopback =
                addr.parse::<std::net::SocketAddr>().is_ok_and(|a| a.ip().is_loopback());
            if tls.is_none() && !on_loopback {
                anyhow::bail!(
                    "--review {addr}: staff passwords and customers' pictures go over https only \
                     (--tls-cert, --tls-key); plain http only on 127.0.0.1 or [::1]"
                );
            }
            let config = ReviewConfig {
                tls: tls.is_some(),
                silent_after: args.review_silent_after,
                ..ReviewConfig::default()
            };
            Some((addr.clone(), ReviewState::new(review_store, config)?))
        }
    };
    let engine = load_engine(&args.engine).context("loading the face models")?;
    let limit = |n: u32| (n > 0).then_some(n);
    let limits = Limits {
        token_per_minute: limit(args.token_rate),
        api_per_minute: limit(args.api_rate),
        token_per_day: limit(args.token_daily),
        api_per_day: limit(args.api_daily),
    };
    let mut state = AppState::new(store, InferenceWorker::start(engine, MATCHES_IN_MEMORY), limits)
        .context("reading the day's request counts")?;
    #[cfg(feature = "test-faults")]
    if let Some(spec) = &args.inject_faults {
        state.faults = Some(
            crate::api::Faults::parse(spec).map_err(|e| anyhow::anyhow!("--inject-faults {e}"))?,
        );
        log::warn!("serve: TESTING: injecting faults {spec}");
    }
    state.read_timeout = Duration::from_secs(args.read_timeout.max(1));
    state.uploads = std::sync::Arc::new(tokio::sync::Semaphore::new(args.max_uploads.max(1)));
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    // The store is let go after the runtime, outside any async context: PostgreSQL's
    // synchronous client owns a runtime of its own, which must not be dropped inside tokio's.
    let store = state.store.clone();
    let served = runtime.block_on(async {
        if args.retention_days > 0 {
            let store = state.store.clone();
            let (days, include_unsynced) = (args.retention_days, args.retention_include_unsynced);
            tokio::spawn(async move {
                loop {
                    let store = store.clone();
                    let purged = tokio::task::spawn_blocking(move || {
                        store.purge_older_than(days, include_unsynced)
                    })
                    .await;
                    match purged {
                        Ok(Ok(n)) if n > 0 => {
                            eprintln!("facematch serve: retention purged {n} picture(s)")
                        }
                        Ok(Err(e)) => eprintln!("facematch serve: retention failed: {e}"),
                        _ => {}
                    }
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
            });
        }
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let connections = Connections {
            max: args.max_connections.max(1),
            per_client: args.max_connections_per_client.max(1),
            read_timeout: state.read_timeout,
        };
        let Some((addr, review)) = review else {
            return serve(listener, state, connections, tls).await.context("serving");
        };
        let review_listener = tokio::net::TcpListener::bind(&addr)
            .await
            .with_context(|| format!("--review: listening on {addr}"))?;
        // The staff's page: few people, fewer connections than the fleet's API.
        let review_connections = Connections { max: 64, per_client: 16, ..connections };
        // Either failing ends both: a hub is not left half served.
        let api_tls = tls.clone();
        let api = async { serve(listener, state, connections, api_tls).await.context("serving") };
        let page = async {
            crate::review::serve(
                review_listener,
                review,
                review_connections,
                tls,
                shutdown_signal(),
            )
            .await
            .context("serving the review page")
        };
        tokio::try_join!(api, page).map(|_| ())
    });
    drop(runtime);
    drop(store);
    served
}
