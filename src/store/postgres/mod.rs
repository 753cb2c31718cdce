//! A hub's store on PostgreSQL (`serve --store postgres://...`): the Face Match API's tokens,
//! sealed media, verification log, device anchors and heartbeats in the database a bank's IT
//! already runs, replicates and backs up, shared by every replica of the hub; read-only views
//! for its auditors ([`HubReader`]).
//!
//! What replicas share lives in the database, each step one transaction: an Idempotency-Key
//! used on one replica is answered from the log on another; the rate limits count every
//! replica's calls; the log's chain and each device's anchors advance under locks. The key
//! that seals pictures and embeddings and keys the chain comes from a file or the environment,
//! never from the database, and a database sealed under another key is refused. Connections
//! come from a bounded pool; an unreachable database is [`StoreError::Unavailable`] (the API
//! answers 503 with Retry-After), and the pool connects again by itself when it is back.
//! The connection to PostgreSQL on another machine is TLS, always ([`connection_policy`]),
//! verified with the trust the caller gives (the system's store or a bank's CA file).

mod audit;
mod device_attempts;
mod devices;
mod records;
mod review;
mod schema;
mod tokens;

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use postgres::config::{Host, SslMode};
use postgres::error::SqlState;
use r2d2_postgres::PostgresConnectionManager;
use tokio_postgres_rustls::MakeRustlsConnect;

pub use audit::{HubChains, HubQuery, HubReader, HubRecord};
pub use schema::VERSION as PG_SCHEMA_VERSION;

use super::api_store::{ApiStore, RecentCalls};
use super::chain::LogKey;
use super::crypto::{random_base62, DeviceKey};
use super::{
    AnchorOutcome, AttemptsOutcome, ChainedAttempt, HeartbeatOutcome, KeyedVerification, MediaId,
    NewVerification, StoreError, TokenId,
};
use crate::contract::Anchor;
use crate::error_chain::with_causes;

/// Where a hub's key comes from.
#[derive(Clone)]
pub enum HubKey {
    /// A 0600 file of 32 bytes; made when the hub's database is new and the file missing.
    File(PathBuf),
    /// 64 hex digits (`FACEMATCH_HUB_KEY`).
    Hex(String),
}

impl std::fmt::Debug for HubKey {
    /// Names where the key is, never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HubKey::File(path) => write!(f, "HubKey::File({})", path.display()),
            HubKey::Hex(_) => f.write_str("HubKey::Hex(..)"),
        }
    }
}

/// How long one statement may run, and a transaction wait for a lock or stay idle: a replica
/// that stalls holding the chain's lock is cut off, instead of stopping every other replica.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
const LOCK_TIMEOUT: Duration = Duration::from_secs(10);
const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(30);

/// How many connections one replica holds at most, and how long a call waits for one.
#[derive(Debug, Clone, Copy)]
pub struct PoolBounds {
    /// Connections at most (each a PostgreSQL backend process on the database's machine).
    pub connections: u32,
    /// How long a call waits for a connection before it is answered "unavailable".
    pub wait: Duration,
}

impl Default for PoolBounds {
    /// 8 connections: the API's blocking pool runs each store call on a thread of its own, and
    /// a replica answers one match at a time on its inference thread.
    fn default() -> Self {
        PoolBounds { connections: 8, wait: Duration::from_secs(5) }
    }
}

type Pool = r2d2::Pool<PostgresConnectionManager<MakeRustlsConnect>>;
type Connection = r2d2::PooledConnection<PostgresConnectionManager<MakeRustlsConnect>>;

/// An open hub store: the pool, the key and the hub's id.
pub struct PgStore {
    pool: Pool,
    bounds: PoolBounds,
    key: DeviceKey,
    log_key: LogKey,
    hub_id: String,
}

impl PgStore {
    /// Connects to the database at `url` (a `postgres://` URL or a libpq `key=value` string)
    /// with TLS verified by `tls` where [`connection_policy`] asks for it, applies pending
    /// migrations, and checks `key` against the one the database was sealed with (a new
    /// database takes it; a missing key file is made only then).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached or its certificate is
    /// refused, [`StoreError::NewerSchema`], [`StoreError::Key`] for a key that is not the
    /// database's, [`StoreError::InvalidName`] for a URL that does not parse or asks for plain
    /// text to another machine.
    pub fn open(
        url: &str,
        key: &HubKey,
        bounds: PoolBounds,
        tls: rustls::ClientConfig,
    ) -> Result<PgStore, StoreError> {
        let config = configured(url, bounds, "")?;
        let tls = MakeRustlsConnect::new(tls);
        let name = shown(&config);
        let mut first = config.connect(tls.clone()).map_err(|e| {
            StoreError::Unavailable(format!(
                "the hub's database {name} cannot be reached: {}",
                with_causes(&e)
            ))
        })?;
        // A database of this or an older version is checked against the key before any
        // migration: another key changes nothing.
        if (1..=schema::VERSION).contains(&schema::version(&mut first)?) {
            bind_key(&mut first, key)?;
        }
        schema::migrate(&mut first, &name)?;
        let (key, hub_id) = bind_key(&mut first, key)?;
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(bounds.connections.max(1))
            .min_idle(Some(0))
            .connection_timeout(bounds.wait)
            .build_unchecked(PostgresConnectionManager::new(config, tls));
        Ok(PgStore { pool, bounds, log_key: LogKey::of(&key), key, hub_id })
    }

    /// This hub's id (random, made with its database): the `device_id` of its own log.
    pub fn hub_id(&self) -> &str {
        &self.hub_id
    }

    /// Makes a token named `name`; it is shown once (only its hash is stored).
    ///
    /// # Errors
    /// As [`super::Store::add_token`].
    pub fn add_token(&self, name: &str) -> Result<String, StoreError> {
        tokens::add(&mut *self.connection()?, name)
    }

    /// Revokes the live token named `name`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when no live token has that name.
    pub fn revoke_token(&self, name: &str) -> Result<(), StoreError> {
        tokens::revoke(&mut *self.connection()?, name)
    }

    fn connection(&self) -> Result<Connection, StoreError> {
        self.pool.get().map_err(|e| {
            StoreError::Unavailable(format!(
                "no connection to the hub's database within {} s: {}",
                self.bounds.wait.as_secs(),
                with_causes(&e)
            ))
        })
    }
}

/// The database named without its password, for messages.
fn shown(config: &postgres::Config) -> String {
    let host = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",");
    format!("{}@{host}/{}", config.get_user().unwrap_or(""), config.get_dbname().unwrap_or(""))
}

/// Whether the connection `config` describes stays on this machine: a Unix socket, or TCP to
/// a loopback address (`hostaddr`, when given, is where TCP goes).
pub fn stays_on_this_machine(config: &postgres::Config) -> bool {
    let addrs = config.get_hostaddrs();
    if !addrs.is_empty() {
        return addrs.iter().all(|ip| ip.is_loopback());
    }
    config.get_hosts().iter().all(|h| match h {
        Host::Tcp(name) => crate::tls::stays_on_this_machine(name),
        Host::Unix(_) => true,
    })
}

/// The connection `url` describes, bounded: the TLS of [`connection_policy`], a connect
/// timeout, keepalives and a TCP timeout (a database gone silent ends the call within about
/// 30 s), and the statement, lock and idle-transaction timeouts; `options` (`-c ...`) added.
///
/// # Errors
/// [`StoreError::InvalidName`] for a URL that does not parse or is refused.
pub(super) fn configured(
    url: &str,
    bounds: PoolBounds,
    options: &str,
) -> Result<postgres::Config, StoreError> {
    let mut config = postgres::Config::from_str(url)
        .map_err(|e| StoreError::InvalidName(format!("--store: {e}")))?;
    let sslmode_given = url.to_ascii_lowercase().contains("sslmode");
    connection_policy(&mut config, sslmode_given)?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(bounds.wait);
    }
    config
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(10))
        .keepalives_interval(Duration::from_secs(5))
        .keepalives_retries(3)
        .tcp_user_timeout(STATEMENT_TIMEOUT);
    let ms = |d: Duration| d.as_millis();
    let limits = format!(
        "-c statement_timeout={} -c lock_timeout={} -c idle_in_transaction_session_timeout={}",
        ms(STATEMENT_TIMEOUT),
        ms(LOCK_TIMEOUT),
        ms(IDLE_IN_TRANSACTION_TIMEOUT)
    );
    let given = config.get_options().unwrap_or("").to_string();
    config.options(format!("{given} {limits} {options}").trim());
    Ok(config)
}

/// Makes the connection to a database on another machine TLS (`sslmode=require`, the
/// certificate verified by the trust given to [`PgStore::open`]). On this machine, the URL's
/// own `sslmode` holds when it gives one, and plain text is used otherwise (a local cluster's
/// certificate is often a self-signed one for the host's name). A URL asking for plain text to
/// another machine is refused.
///
/// # Errors
/// [`StoreError::InvalidName`] for `sslmode=disable` with another machine.
pub fn connection_policy(
    config: &mut postgres::Config,
    sslmode_given: bool,
) -> Result<(), StoreError> {
    if stays_on_this_machine(config) {
        if !sslmode_given {
            config.ssl_mode(SslMode::Disable);
        }
        return Ok(());
    }
    if config.get_ssl_mode() == SslMode::Disable {
        return Err(StoreError::InvalidName(
            "--store asks for sslmode=disable with PostgreSQL on another machine: the hub's \
             pictures and log would cross the network in plain text. Leave sslmode out (TLS is \
             then required) or set sslmode=require"
                .into(),
        ));
    }
    config.ssl_mode(SslMode::Require);
    Ok(())
}

/// The key the database was sealed with, checked (or, for a new database, taken), and the
/// hub's id.
fn bind_key(
    client: &mut postgres::Client,
    given: &HubKey,
) -> Result<(DeviceKey, String), StoreError> {
    let meta = |client: &mut postgres::Client, key: &str| -> Result<Option<String>, StoreError> {
        Ok(client
            .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
            .map_err(db_error)?
            .map(|r| r.get(0)))
    };
    let stored_check = meta(client, "key_check")?;
    let source = match given {
        HubKey::File(path) => path.display().to_string(),
        HubKey::Hex(_) => "FACEMATCH_HUB_KEY".to_string(),
    };
    let key = match given {
        HubKey::File(path) if stored_check.is_none() => DeviceKey::load_or_create(path)?,
        HubKey::File(path) => DeviceKey::load(path)?,
        HubKey::Hex(text) => DeviceKey::from_hex(text, &source)?,
    };
    let check = key_check(&key);
    let hub_id = format!("HUB{}", random_base62(16)?);
    let mut tx = client.transaction().map_err(db_error)?;
    for (name, value) in [("key_check", &check), ("hub_id", &hub_id)] {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[&name, value],
        )
        .map_err(db_error)?;
    }
    tx.commit().map_err(db_error)?;
    if meta(client, "key_check")?.as_deref() != Some(check.as_str()) {
        return Err(StoreError::Key {
            path: source.into(),
            reason: "this is not the key the hub's database was sealed with; nothing was changed"
                .into(),
        });
    }
    let hub_id = meta(client, "hub_id")?.unwrap_or(hub_id);
    Ok((key, hub_id))
}

/// What the database keeps of the hub's key: a value derived from it, which proves the key
/// without revealing it.
fn key_check(key: &DeviceKey) -> String {
    hex::encode(key.derive(b"facematch hub key check v1"))
}

/// A PostgreSQL error as the store's: what a retry later can cure (the connection lost or
/// refused, the server shutting down or out of connections or memory, a read-only server after
/// a failover, a timeout, a serialization failure or deadlock) is [`StoreError::Unavailable`];
/// anything else, the server's refusals and this client's own (a row of the wrong shape), is
/// a database error.
pub(super) fn db_error(e: postgres::Error) -> StoreError {
    let transient = match e.code() {
        Some(state) => {
            let code = state.code();
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
                || ["25006", "40001", "40P01", "57014", "55P03"].contains(&code)
        }
        None => e.is_closed() || io_caused(&e),
    };
    let text = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => with_causes(&e),
    };
    if transient {
        StoreError::Unavailable(format!("the hub's database: {text}"))
    } else {
        StoreError::Postgres(text)
    }
}

/// Whether an I/O error (the network, the socket) is among `e`'s causes.
fn io_caused(e: &(dyn std::error::Error + 'static)) -> bool {
    crate::error_chain::causes(e).any(|c| c.is::<std::io::Error>())
}

/// True for a UNIQUE constraint failure.
fn is_unique_violation(e: &postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

impl ApiStore for PgStore {
    fn authenticate(&self, token: &str) -> Result<Option<TokenId>, StoreError> {
        tokens::authenticate(&mut *self.connection()?, token)
    }

    fn counts_calls(&self) -> bool {
        true
    }

    fn admit_call(
        &self,
        token: TokenId,
        api: &str,
        now_ms: u64,
        admit: &mut dyn FnMut(&RecentCalls) -> bool,
    ) -> Result<bool, StoreError> {
        tokens::admit_call(&mut *self.connection()?, token, api, now_ms, admit)
    }

    fn count_request(&self, _token: TokenId, _api: &str, _day: i64) -> Result<(), StoreError> {
        // Counted with the call, in admit_call.
        Ok(())
    }

    fn day_counts(&self, _day: i64) -> Result<Vec<(TokenId, Option<String>, u32)>, StoreError> {
        // Nothing to start an in-memory count from: the database counts.
        Ok(Vec::new())
    }

    fn insert_media_once(
        &self,
        owner: Option<TokenId>,
        idempotency_key: Option<&str>,
        original_name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<MediaId, StoreError> {
        // PostgreSQL's text holds no NUL, which a client's file name may: replaced, as the
        // SQLite store would have kept the name, so both answer the upload.
        let original_name = &original_name.replace('\0', "\u{FFFD}");
        let upload = records::Upload { owner, idempotency_key, original_name, content_type, bytes };
        records::insert_media_once(&mut *self.connection()?, &self.key, &upload)
    }

    fn media_bytes(&self, id: &str, owner: Option<TokenId>) -> Result<Vec<u8>, StoreError> {
        if id.contains('\0') {
            // No id holds one (PostgreSQL's text cannot): unknown, as SQLite answers.
            return Err(StoreError::NotFound(format!("media {}", id.escape_debug())));
        }
        records::media_bytes(&mut *self.connection()?, &self.key, id, owner)
    }

    fn verification_by_key(
        &self,
        token: Option<TokenId>,
        key: &str,
    ) -> Result<Option<KeyedVerification>, StoreError> {
        records::verification_by_key(&mut *self.connection()?, token, key)
    }

    fn record_verification(&self, v: &NewVerification) -> Result<i64, StoreError> {
        let signer =
            records::Signer { key: &self.key, log_key: &self.log_key, hub_id: &self.hub_id };
        records::record_verification(&mut *self.connection()?, &signer, v)
    }

    fn keep_anchor(&self, token: TokenId, anchor: &Anchor) -> Result<AnchorOutcome, StoreError> {
        records::keep_anchor(&mut *self.connection()?, token, anchor)
    }

    fn anchors_after(
        &self,
        device_id: &str,
        after: i64,
        newest_only: bool,
    ) -> Result<Vec<Anchor>, StoreError> {
        if device_id.contains('\0') {
            return Ok(Vec::new()); // no device id holds one: none kept, as SQLite answers
        }
        records::anchors_after(&mut *self.connection()?, device_id, after, newest_only)
    }

    fn keep_heartbeat(
        &self,
        token: TokenId,
        device_id: &str,
        heartbeat_json: &str,
        sent_at_ms: i64,
    ) -> Result<HeartbeatOutcome, StoreError> {
        let client = &mut *self.connection()?;
        devices::keep_heartbeat(client, token, device_id, heartbeat_json, sent_at_ms)
    }

    fn keep_device_attempts(
        &self,
        token: TokenId,
        device_id: &str,
        batch: &[ChainedAttempt],
    ) -> Result<AttemptsOutcome, StoreError> {
        device_attempts::keep(&mut *self.connection()?, token, device_id, batch)
    }

    fn last_device_attempt(&self, device_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(device_attempts::newest(&mut *self.connection()?, device_id)?.map(|n| n.0))
    }

    fn check_writable(&self) -> Result<(), StoreError> {
        let now = super::now_ms().to_string();
        self.connection()?
            .execute(
                "INSERT INTO meta (key, value) VALUES ('last_write_check', $1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&now],
            )
            .map_err(|e| match db_error(e) {
                StoreError::Postgres(why) => StoreError::ReadOnly(why),
                other => other,
            })?;
        Ok(())
    }

    fn purge_older_than(&self, days: u32, _include_unsynced: bool) -> Result<usize, StoreError> {
        // A hub syncs nowhere: nothing of its own waits for a remote.
        records::purge_older_than(&mut *self.connection()?, days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(url: &str) -> Result<SslMode, StoreError> {
        configured(url, PoolBounds::default(), "").map(|config| config.get_ssl_mode())
    }

    #[test]
    fn another_machine_is_reached_over_tls_only() {
        // On this machine the URL decides, and plain text is the default.
        assert_eq!(policy("postgres://hub@127.0.0.1/hub").unwrap(), SslMode::Disable);
        assert_eq!(
            policy("postgres://hub@localhost/hub?sslmode=require").unwrap(),
            SslMode::Require
        );
        assert_eq!(policy("postgres://hub@localhost/hub?sslmode=prefer").unwrap(), SslMode::Prefer);
        assert_eq!(policy("host=/run/postgresql dbname=hub").unwrap(), SslMode::Disable);
        assert_eq!(
            policy("host=db.bank.example hostaddr=127.0.0.1 dbname=hub").unwrap(),
            SslMode::Disable
        );
        // Elsewhere TLS is required, and plain text is refused.
        assert_eq!(policy("postgres://hub@db.bank.example/hub").unwrap(), SslMode::Require);
        assert_eq!(policy("postgres://hub@10.0.0.5/hub?sslmode=prefer").unwrap(), SslMode::Require);
        assert_eq!(
            policy("host=localhost hostaddr=10.0.0.5 dbname=hub").unwrap(),
            SslMode::Require
        );
        assert_eq!(
            policy("postgres://hub@localhost,db2.bank.example/hub").unwrap(),
            SslMode::Require
        );
        let refused = policy("postgres://hub@db.bank.example/hub?sslmode=disable").unwrap_err();
        assert!(refused.to_string().contains("plain text"), "{refused}");
    }
}
