//! What the Face Match API asks of its store, whichever engine holds it: a device's SQLite file
//! ([`LocalStore`]) or a hub's PostgreSQL database ([`super::postgres::PgStore`]). The API's
//! handlers hold an `Arc<dyn ApiStore>` and never learn which; each call runs on tokio's
//! blocking pool, as both engines' clients are synchronous.

use std::sync::Mutex;

use super::{
    AnchorOutcome, AttemptsOutcome, ChainedAttempt, HeartbeatOutcome, KeyedVerification, MediaId,
    NewVerification, Store, StoreError, TokenId,
};
use crate::contract::Anchor;

/// A token's calls the rate limits count, read in one step with the call about to be made:
/// the times (ms since the epoch) of its calls in the last minute, oldest first, and its calls
/// today, each for all its APIs and for the one being called.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecentCalls {
    /// The token's calls to every API in the last 60 s.
    pub minute_all: Vec<u64>,
    /// The token's calls to this API in the last 60 s.
    pub minute_api: Vec<u64>,
    /// The token's calls to every API today (UTC).
    pub today_all: u32,
    /// The token's calls to this API today (UTC).
    pub today_api: u32,
}

/// The store behind `facematch serve`. Implemented by a device's SQLite store and by a hub's
/// PostgreSQL store; the methods mean what [`Store`]'s methods of the same names mean.
pub trait ApiStore: Send + Sync {
    /// The live token matching `token`, if any.
    ///
    /// # Errors
    /// The database failed or cannot be reached ([`StoreError::Unavailable`]).
    fn authenticate(&self, token: &str) -> Result<Option<TokenId>, StoreError>;

    /// Whether the rate limits are counted in the database, for every server sharing it
    /// ([`ApiStore::admit_call`]), rather than by each server in its memory.
    fn counts_calls(&self) -> bool;

    /// Counts a call by `token` to `api` at `now_ms` if `admit` says the calls already counted
    /// leave room for it; a refused call is not counted. Returns `admit`'s answer. Two servers
    /// on one database see each other's calls: the read and the count are one transaction.
    ///
    /// # Errors
    /// The database failed; a store that does not count calls ([`ApiStore::counts_calls`])
    /// says so.
    fn admit_call(
        &self,
        token: TokenId,
        api: &str,
        now_ms: u64,
        admit: &mut dyn FnMut(&RecentCalls) -> bool,
    ) -> Result<bool, StoreError>;

    /// Counts one accepted call by `token` to `api` on UTC day `day`, for the daily limits of a
    /// server that counts in memory (they then outlive a restart).
    ///
    /// # Errors
    /// The database failed.
    fn count_request(&self, token: TokenId, api: &str, day: i64) -> Result<(), StoreError>;

    /// UTC day `day`'s counts: (token, API or `None` for all its APIs, calls).
    ///
    /// # Errors
    /// The database failed.
    fn day_counts(&self, day: i64) -> Result<Vec<(TokenId, Option<String>, u32)>, StoreError>;

    /// Stores a picture (sealed) once per idempotency key and owner; returns its id.
    ///
    /// # Errors
    /// [`StoreError::KeyReused`] for a key naming another picture, or the database failed.
    fn insert_media_once(
        &self,
        owner: Option<TokenId>,
        idempotency_key: Option<&str>,
        original_name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<MediaId, StoreError>;

    /// The plain bytes of a picture owned by `owner`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown, foreign or purged id, [`StoreError::Crypto`].
    fn media_bytes(&self, id: &str, owner: Option<TokenId>) -> Result<Vec<u8>, StoreError>;

    /// The verification `token` made with idempotency `key`, if any (within the key's life).
    ///
    /// # Errors
    /// The database failed.
    fn verification_by_key(
        &self,
        token: Option<TokenId>,
        key: &str,
    ) -> Result<Option<KeyedVerification>, StoreError>;

    /// Appends a decision to the log; returns its id.
    ///
    /// # Errors
    /// [`StoreError::Exists`] when its idempotency key was logged meanwhile, or the database
    /// failed (nothing is written then).
    fn record_verification(&self, v: &NewVerification) -> Result<i64, StoreError>;

    /// Keeps a device's chain anchor if it follows what is kept for that device.
    ///
    /// # Errors
    /// The database failed.
    fn keep_anchor(&self, token: TokenId, anchor: &Anchor) -> Result<AnchorOutcome, StoreError>;

    /// The anchors kept for `device_id` after record `after`, oldest first (`newest_only`: the
    /// newest alone).
    ///
    /// # Errors
    /// The database failed.
    fn anchors_after(
        &self,
        device_id: &str,
        after: i64,
        newest_only: bool,
    ) -> Result<Vec<Anchor>, StoreError>;

    /// Keeps a device's heartbeat (its JSON, sent at `sent_at_ms` by the device's clock) in
    /// place of the one before, unless the device belongs to another live token.
    ///
    /// # Errors
    /// The database failed.
    fn keep_heartbeat(
        &self,
        token: TokenId,
        device_id: &str,
        heartbeat_json: &str,
        sent_at_ms: i64,
    ) -> Result<HeartbeatOutcome, StoreError>;

    /// Keeps a device's liveness attempts new to this store, in its chain's order, unless the
    /// device belongs to another live token or they do not continue what is held.
    ///
    /// # Errors
    /// The database failed (nothing is kept then).
    fn keep_device_attempts(
        &self,
        token: TokenId,
        device_id: &str,
        batch: &[ChainedAttempt],
    ) -> Result<AttemptsOutcome, StoreError>;

    /// The newest of a device's liveness attempts held.
    ///
    /// # Errors
    /// The database failed.
    fn last_device_attempt(&self, device_id: &str) -> Result<Option<i64>, StoreError>;

    /// Proves the database can be written, when a server starts.
    ///
    /// # Errors
    /// [`StoreError::ReadOnly`] or the database failed.
    fn check_writable(&self) -> Result<(), StoreError>;

    /// Retention: forgets picture bytes and embeddings older than `days` days; returns how many
    /// pictures were purged.
    ///
    /// # Errors
    /// The database failed.
    fn purge_older_than(&self, days: u32, include_unsynced: bool) -> Result<usize, StoreError>;
}

/// A device's SQLite store as the API's store: one connection, taken in turn.
pub struct LocalStore(Mutex<Store>);

impl LocalStore {
    /// The API's store over `store`.
    pub fn new(store: Store) -> LocalStore {
        LocalStore(Mutex::new(store))
    }

    /// The SQLite store itself, for what only a device does (its listing, its sync).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ApiStore for LocalStore {
    fn authenticate(&self, token: &str) -> Result<Option<TokenId>, StoreError> {
        self.lock().authenticate(token)
    }

    fn counts_calls(&self) -> bool {
        false
    }

    fn admit_call(
        &self,
        _token: TokenId,
        _api: &str,
        _now_ms: u64,
        _admit: &mut dyn FnMut(&RecentCalls) -> bool,
    ) -> Result<bool, StoreError> {
        Err(StoreError::Unsupported(
            "a device's store does not count calls: its server counts them in memory".into(),
        ))
    }

    fn count_request(&self, token: TokenId, api: &str, day: i64) -> Result<(), StoreError> {
        self.lock().count_request(token, api, day)
    }

    fn day_counts(&self, day: i64) -> Result<Vec<(TokenId, Option<String>, u32)>, StoreError> {
        self.lock().day_counts(day)
    }

    fn insert_media_once(
        &self,
        owner: Option<TokenId>,
        idempotency_key: Option<&str>,
        original_name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<MediaId, StoreError> {
        self.lock().insert_media_once(owner, idempotency_key, original_name, content_type, bytes)
    }

    fn media_bytes(&self, id: &str, owner: Option<TokenId>) -> Result<Vec<u8>, StoreError> {
        self.lock().media_bytes(id, owner)
    }

    fn verification_by_key(
        &self,
        token: Option<TokenId>,
        key: &str,
    ) -> Result<Option<KeyedVerification>, StoreError> {
        self.lock().verification_by_key(token, key)
    }

    fn record_verification(&self, v: &NewVerification) -> Result<i64, StoreError> {
        self.lock().record_verification(v)
    }

    fn keep_anchor(&self, token: TokenId, anchor: &Anchor) -> Result<AnchorOutcome, StoreError> {
        self.lock().keep_anchor(token, anchor)
    }

    fn anchors_after(
        &self,
        device_id: &str,
        after: i64,
        newest_only: bool,
    ) -> Result<Vec<Anchor>, StoreError> {
        self.lock().anchors_after(device_id, after, newest_only)
    }

    fn keep_heartbeat(
        &self,
        token: TokenId,
        device_id: &str,
        heartbeat_json: &str,
        sent_at_ms: i64,
    ) -> Result<HeartbeatOutcome, StoreError> {
        self.lock().keep_heartbeat(token, device_id, heartbeat_json, sent_at_ms)
    }

    fn keep_device_attempts(
        &self,
        token: TokenId,
        device_id: &str,
        batch: &[ChainedAttempt],
    ) -> Result<AttemptsOutcome, StoreError> {
        self.lock().keep_device_attempts(token, device_id, batch)
    }

    fn last_device_attempt(&self, device_id: &str) -> Result<Option<i64>, StoreError> {
        self.lock().last_device_attempt(device_id)
    }

    fn check_writable(&self) -> Result<(), StoreError> {
        self.lock().check_writable()
    }

    fn purge_older_than(&self, days: u32, include_unsynced: bool) -> Result<usize, StoreError> {
        self.lock().purge_older_than(days, include_unsynced)
    }
}
