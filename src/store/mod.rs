//! The device's record: one SQLite file holding media (encrypted), the
//! verification log and the liveness log (hash-chained), the sync outbox and API tokens.
//! A hub's record, for the API alone, is in PostgreSQL ([`postgres`]); the API reaches either
//! through [`ApiStore`].
//!
//! Owns the schema and its migrations, the device key and every SQL statement.
//! It knows nothing of HTTP or the screen; of the contract it knows only the
//! `MatchStatus` it stores (mapped in `states.rs`, with the outbox states). Biometric data (picture bytes and
//! embeddings) is sealed with ChaCha20-Poly1305 under a per-device key kept in a
//! 0600 file beside the database. Main types: [`Store`], [`StoreError`],
//! [`NewVerification`], [`VerificationRecord`].

mod anchors;
mod api_store;
mod attempts;
mod chain;
mod crypto;
mod device_attempts;
mod devices;
mod key_check;
mod media;
mod outbox;
pub mod postgres;
mod reseal;
pub mod review;
mod schema;
mod states;
mod tokens;
mod verifications;
mod walk;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension};

pub use anchors::{AnchorOutcome, ANCHOR_PAGE, MAX_ANCHOR_STEP};
pub use api_store::{ApiStore, LocalStore, RecentCalls};
pub use attempts::{AttemptCounts, AttemptRecord, ChainedAttempt, NewAttempt};
pub use chain::Chain;
pub use crypto::DeviceKey;
pub use device_attempts::{AttemptsOutcome, ATTEMPT_BATCH};
pub use devices::HeartbeatOutcome;
pub use media::{MediaId, MediaRecord};
pub use outbox::{OpenOutboxRecord, OutboxItem, SyncCounts};
/// The schema version this build writes (`PRAGMA user_version`).
pub use schema::VERSION as SCHEMA_VERSION;
pub use states::{OutboxState, SyncState};
pub use tokens::TokenId;
pub use verifications::{KeyedVerification, NewVerification, VerificationRecord};
pub use walk::{ChainProblem, ChainReport};

/// Why a store operation failed. Callers branch on the kind (e.g. a newer schema
/// must stop the program; an unknown media id is the client's mistake).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The database was written by a newer facematch; it is left untouched.
    #[error("database {path} has schema version {found}, newer than this facematch supports ({supported}); it was not changed")]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// Its `PRAGMA user_version`.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The device key file could not be read or created, or is unsafe.
    #[error("device key {path}: {reason}")]
    Key {
        /// Key file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// Sealed data did not decrypt: wrong key or altered bytes.
    #[error("sealed data for {what} cannot be opened (wrong device key or altered data)")]
    Crypto {
        /// Which record.
        what: String,
    },
    /// No such record (or not visible to this caller).
    #[error("{0} not found")]
    NotFound(String),
    /// A name that must be unique is taken.
    #[error("{0} already exists")]
    Exists(String),
    /// The database cannot be written (a read-only file or file system).
    #[error("the database cannot be written: {0}")]
    ReadOnly(String),
    /// The chain's counter file or checkpoint cannot be used.
    #[error("{0}")]
    Chain(String),
    /// A name that is empty or not printable.
    #[error("{0}")]
    InvalidName(String),
    /// The database or the files beside the key were altered in a way only tampering explains
    /// (a schema version lowered below its data, a key or counter removed): reported, never
    /// repaired.
    #[error("{0}")]
    Tampered(String),
    /// PostgreSQL refused a statement (a hub's store).
    #[error("database error: {0}")]
    Postgres(String),
    /// The database cannot be reached now (a hub's PostgreSQL down or all connections busy):
    /// a retry later can pass.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// What this store does not do (a device's store asked to count a hub's calls).
    #[error("{0}")]
    Unsupported(String),
    /// An idempotency key already names another request (different pictures or parameters).
    #[error(
        "Idempotency-Key {0:?} was already used for another request (other pictures or \
         parameters); send a new key"
    )]
    KeyReused(String),
}

/// How long an idempotency key names its request: a retry within this answers the first
/// request's answer; after it, the key is released and may name a new request.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);

/// Whether an idempotency key given at `created_at_ms` is older than [`IDEMPOTENCY_TTL`].
fn key_expired(created_at_ms: i64) -> bool {
    now_ms() - created_at_ms > IDEMPOTENCY_TTL.as_millis() as i64
}

/// An open store: the SQLite connection, the device key and the log key derived from it.
pub struct Store {
    conn: Connection,
    key: DeviceKey,
    log_key: chain::LogKey,
    /// The verifications' counter file beside the key (`<key>.chain`).
    counter: PathBuf,
    /// The liveness attempts' counter file beside the key (`<key>.liveness`).
    liveness_counter: PathBuf,
    device_id: String,
}

impl Store {
    /// Opens (creating if needed) the database at `path` with the device key at
    /// `key_path` (default: `<path>.key`), applying pending migrations.
    ///
    /// # Errors
    /// [`StoreError::NewerSchema`] for a database from a newer version (left
    /// unchanged), [`StoreError::Key`] for an unreadable or world-readable key, a key
    /// that does not open this database, or a missing key for a database holding sealed
    /// data (never replaced by a new one), or an SQLite error.
    pub fn open(path: &Path, key_path: Option<&Path>) -> Result<Store, StoreError> {
        Store::open_with(path, key_path, false)
    }

    /// [`Store::open`] for a database from before the keyed chain and the liveness log
    /// (schema versions 1-4) that holds records: its plain chain is sealed as found, and
    /// the note of it is kept in the log for every `log verify` to name. Only an operator's
    /// explicit `log upgrade` does this; `open` refuses such a database, since lowering a
    /// database's version is also how a rewrite without the key would be sealed.
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_upgrading_old(path: &Path, key_path: Option<&Path>) -> Result<Store, StoreError> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let found = schema::readable_version(&conn, path)?;
        drop(conn);
        let store = Store::open_with(path, key_path, true)?;
        if found < schema::LIVENESS_LOG {
            store.record_note(
                "log upgrade",
                &format!("schema version {found} upgraded: its chain was sealed as found"),
                &[],
            )?;
        }
        Ok(store)
    }

    fn open_with(
        path: &Path,
        key_path: Option<&Path>,
        upgrade_old: bool,
    ) -> Result<Store, StoreError> {
        let key_path = key_path.map(Path::to_path_buf).unwrap_or_else(|| default_key_path(path));
        private_files(path)?;
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let found = schema::readable_version(&conn, path)?;
        let counter = chain::Chain::Verifications.path(&key_path);
        if found == 0 && counter.exists() {
            return Err(StoreError::Tampered(format!(
                "{} is a new database, but the counter {} beside the key says records were \
                 written with this key: the database was deleted or replaced. Restore it; nothing \
                 was written",
                path.display(),
                counter.display()
            )));
        }
        if (1..schema::LIVENESS_LOG).contains(&found) && schema::has_records(&conn)? && !upgrade_old
        {
            return Err(StoreError::Tampered(format!(
                "{} has schema version {found} and holds records: upgrading it seals its chain as \
                 found. If it is a genuine old database, run `facematch log upgrade --db {} \
                 --i-understand-the-old-chain-is-taken-as-found`; nothing was changed",
                path.display(),
                path.display()
            )));
        }
        let before = schema::migrate(&conn, path)?;
        let key = key_check::bind(&conn, path, &key_path)?;
        let log_key = chain::LogKey::of(&key);
        if before < schema::KEYED_CHAIN {
            // Only the open that made the checkpoint seals it; a checkpoint found unsealed
            // later was altered, and `log verify` says so.
            chain::seal_checkpoint(&conn, &log_key, &key_path)?;
        }
        if before < schema::LIVENESS_LOG {
            // Started once, when the liveness log begins: a counter missing later is reported.
            chain::Chain::Liveness.start(&key_path, &log_key)?;
        }
        let device_id = schema::device_id(&conn)?;
        Ok(Store::over(conn, key, &key_path, device_id))
    }

    /// The store over an open connection and its checked key, the counters beside the key.
    fn over(conn: Connection, key: DeviceKey, key_path: &Path, device_id: String) -> Store {
        Store {
            log_key: chain::LogKey::of(&key),
            conn,
            key,
            counter: chain::Chain::Verifications.path(key_path),
            liveness_counter: chain::Chain::Liveness.path(key_path),
            device_id,
        }
    }

    /// Opens an existing database to read it, as `log verify` and `log` do: nothing is created,
    /// migrated, sealed or written, in the database or beside the key. What a writing open
    /// would have to repair is an error here: a key that is missing, a schema version lower
    /// than the data implies ([`StoreError::Tampered`]).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a missing database, [`StoreError::Tampered`],
    /// [`StoreError::Key`] for a wrong key, [`StoreError::NewerSchema`], [`StoreError::Chain`]
    /// for a schema too old to read without upgrading, or an SQLite error.
    pub fn open_read_only(path: &Path, key_path: Option<&Path>) -> Result<Store, StoreError> {
        let key_path = key_path.map(Path::to_path_buf).unwrap_or_else(|| default_key_path(path));
        if !path.is_file() {
            return Err(StoreError::NotFound(format!("database {}", path.display())));
        }
        let (conn, version) = match reader(path, false) {
            Ok(opened) => opened,
            // A read-only folder (a copy kept as evidence): SQLite cannot make the index file a
            // WAL database's readers share. With no write-ahead log beside the file, nothing can
            // be writing it, and it is read as it lies on disk.
            Err(StoreError::Sql(_)) if !with_suffix(path, "-wal").exists() => reader(path, true)?,
            Err(e) => return Err(e),
        };
        if version < schema::LIVENESS_LOG {
            return Err(StoreError::Chain(format!(
                "{} has schema version {version}, older than this build reads: if it is a genuine \
                 old database, `facematch log upgrade --db {} \
                 --i-understand-the-old-chain-is-taken-as-found` seals its chain as found (and \
                 says so in every verify after)",
                path.display(),
                path.display()
            )));
        }
        let key = key_check::existing(&conn, path, &key_path)?;
        let device_id: String = conn
            .query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| r.get(0))
            .optional()?
            .unwrap_or_default();
        Ok(Store::over(conn, key, &key_path, device_id))
    }

    /// A secret for `purpose` derived from the device key (e.g. the staff PIN's hash is keyed
    /// with one, so that a copy of the kiosk's config alone cannot be tried offline).
    pub fn derived_secret(&self, purpose: &str) -> [u8; 32] {
        self.key.derive(purpose.as_bytes())
    }

    /// This device's id (random, made when the database was created).
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// Proves that the database can be written, so that a read-only file or file system is
    /// found when a service starts, not at its first decision.
    ///
    /// # Errors
    /// [`StoreError::ReadOnly`] with SQLite's reason.
    pub fn check_writable(&self) -> Result<(), StoreError> {
        let write = || -> rusqlite::Result<()> {
            let tx = self.conn.unchecked_transaction()?;
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_write_check', ?1)",
                [now_ms().to_string()],
            )?;
            tx.commit()
        };
        write().map_err(|e| StoreError::ReadOnly(e.to_string()))
    }

    /// `PRAGMA integrity_check`'s answer (`"ok"` when healthy).
    ///
    /// # Errors
    /// An SQLite error.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

/// A read-only connection to `path` and its schema version (`immutable`: read the file as it
/// lies, without SQLite's shared index, for a folder that cannot be written).
fn reader(path: &Path, immutable: bool) -> Result<(Connection, i64), StoreError> {
    use rusqlite::OpenFlags;
    let escaped =
        path.display().to_string().replace('%', "%25").replace('?', "%3f").replace('#', "%23");
    let uri = format!("file:{escaped}?mode=ro{}", if immutable { "&immutable=1" } else { "" });
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(uri, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let version = schema::readable_version(&conn, path)?;
    Ok((conn, version))
}

/// Creates the database file readable by its owner only (0600), and takes group and other
/// rights away from an existing one and its `-wal` and `-shm` files (SQLite gives those the
/// database file's mode): they hold the log, and the pictures' metadata.
fn private_files(db: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(db) {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(_) => return Ok(()), // no folder, a read-only one: opening says what is wrong
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = with_suffix(db, suffix);
        let Ok(meta) = std::fs::metadata(&file) else { continue };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            if let Err(e) = std::fs::set_permissions(&file, PermissionsExt::from_mode(mode & 0o700))
            {
                log::warn!(
                    "{} is readable by others and cannot be made private: {e}",
                    file.display()
                );
            }
        }
    }
    Ok(())
}

/// `<db>.key` beside the database.
pub fn default_key_path(db: &Path) -> PathBuf {
    with_suffix(db, ".key")
}

/// `path` with `suffix` appended to its file name (`log.db` → `log.db-wal`).
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// SQL selecting the media ids (selfie, front, back) of the verifications whose
/// outbox entry satisfies `outbox_condition` (on alias `o`), for the retention rules.
pub(crate) fn media_of_verifications_where(outbox_condition: &str) -> String {
    // `outbox_condition` binds states as parameters (e.g. `o.state = ?2`), never as literals.
    format!(
        "SELECT m FROM (SELECT src_media AS m, id FROM verifications UNION ALL
                       SELECT front_media, id FROM verifications UNION ALL
                       SELECT back_media, id FROM verifications) u
         JOIN outbox o ON o.verification_id = u.id
         WHERE ({outbox_condition}) AND m IS NOT NULL"
    )
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
