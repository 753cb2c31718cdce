//! Which store `serve` and `token` work on: a device's SQLite file (`--db`) or a hub's
//! PostgreSQL (`--store`, `FACEMATCH_STORE`), opened from the same arguments.

use std::sync::Arc;

use anyhow::{Context, Result};

use super::args::{ApiStoreArgs, StoreArgs};
use crate::store::postgres::{HubKey, PgStore, PoolBounds};
use crate::store::review::ReviewStore;
use crate::store::{ApiStore, LocalStore, Store};
use crate::tls::ClientTrust;

/// The environment variable that may hold a hub's key, as 64 hex digits.
const HUB_KEY_VAR: &str = "FACEMATCH_HUB_KEY";

/// Where a hub's key is: the file given, or else `FACEMATCH_HUB_KEY`.
///
/// # Errors
/// Neither is given.
pub fn hub_key(file: Option<std::path::PathBuf>) -> Result<HubKey> {
    match (file, std::env::var(HUB_KEY_VAR)) {
        (Some(file), _) => Ok(HubKey::File(file)),
        (None, Ok(hex)) => Ok(HubKey::Hex(hex)),
        (None, Err(_)) => anyhow::bail!(
            "a hub on PostgreSQL needs its key: --key FILE, or {HUB_KEY_VAR} (64 hex digits)"
        ),
    }
}

/// The TLS a hub's PostgreSQL is reached with: `ca` (PEM) or the system's trust store.
///
/// # Errors
/// `ca` cannot be read or holds no certificate.
pub fn store_tls(ca: Option<&std::path::Path>) -> Result<rustls::ClientConfig> {
    let trust = ClientTrust { ca_file: ca.map(std::path::Path::to_path_buf), pins: Vec::new() };
    match (trust.client_config(), ca) {
        (Ok(config), _) => Ok(config),
        (Err(e), Some(_)) => Err(e).context("--store-ca"),
        // No system trust store: a database on this machine in plain text still opens; one
        // elsewhere is refused at the handshake.
        (Err(e), None) => {
            log::warn!("store: no trust for PostgreSQL's certificate ({e}); give --store-ca");
            Ok(crate::tls::client::trusting_nobody()?)
        }
    }
}

/// An open store of either kind.
pub enum ChosenStore {
    /// A device's (or a one-machine hub's) SQLite file.
    Local(Store),
    /// A hub's PostgreSQL database.
    Hub(PgStore),
}

impl ChosenStore {
    /// Opens the store `args` name, applying pending migrations.
    ///
    /// # Errors
    /// The store cannot be opened (unreachable, newer schema, wrong or missing key).
    pub fn open(args: &ApiStoreArgs) -> Result<ChosenStore> {
        let Some(url) = &args.store else {
            let db = args.db.clone().context("--db FILE or --store URL is required")?;
            let local = StoreArgs { db, key: args.key.clone() };
            return Ok(ChosenStore::Local(super::open_store(&local)?));
        };
        let key = hub_key(args.key.clone())?;
        let bounds =
            PoolBounds { connections: args.store_connections.max(1), ..PoolBounds::default() };
        let tls = store_tls(args.store_ca.as_deref())?;
        let hub =
            PgStore::open(url, &key, bounds, tls).context("opening the hub's PostgreSQL store")?;
        Ok(ChosenStore::Hub(hub))
    }

    /// Makes a token; it is shown once.
    ///
    /// # Errors
    /// The name is taken or invalid, or the store failed.
    pub fn add_token(&self, name: &str) -> Result<String> {
        Ok(match self {
            ChosenStore::Local(store) => store.add_token(name)?,
            ChosenStore::Hub(hub) => hub.add_token(name)?,
        })
    }

    /// Revokes the live token named `name`.
    ///
    /// # Errors
    /// No live token has the name, or the store failed.
    pub fn revoke_token(&self, name: &str) -> Result<()> {
        match self {
            ChosenStore::Local(store) => store.revoke_token(name)?,
            ChosenStore::Hub(hub) => hub.revoke_token(name)?,
        }
        Ok(())
    }

    /// The store as the API uses it, and as the review page does (a hub's only).
    pub fn into_stores(self) -> (Arc<dyn ApiStore>, Option<Arc<dyn ReviewStore>>) {
        match self {
            ChosenStore::Local(store) => (Arc::new(LocalStore::new(store)), None),
            ChosenStore::Hub(hub) => {
                let hub = Arc::new(hub);
                (hub.clone(), Some(hub))
            }
        }
    }
}
