//! Reading a hub's log for an auditor (`facematch log --store postgres://...`): through the
//! read-only views of schema `facematch_audit` alone, on a connection whose transactions are read-only,
//! without the hub's key. It never migrates or writes: a database of another schema version is
//! refused, not changed. A role granted only those views (docs/hub.md) can run it.

use postgres::Client;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::super::chain::LogKey;
use super::super::crypto::DeviceKey;
use super::super::StoreError;
use super::{configured, db_error, key_check, records, review, schema, shown, HubKey, PoolBounds};
use crate::error_chain::with_causes;

/// A decision in the hub's log, as the auditors' view shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HubRecord {
    /// Its place in the hub's chain.
    pub id: i64,
    /// When it was decided (ms since the epoch).
    pub created_at: i64,
    /// The hub that decided it (its id).
    pub decided_by: String,
    /// The device whose synced record it is, as the call's Idempotency-Key named it
    /// (`DEVICE-verification-RECORD`, what `sync` sends; none for a call without one). A
    /// claim of the client's: what proves a device's log is its anchors, kept per token.
    pub device_id: Option<String>,
    /// That record's id in the device's own log.
    pub device_record: Option<i64>,
    /// The document type asked.
    pub doc_type: String,
    /// The threshold asked.
    pub threshold: f64,
    /// The contract's status.
    pub status: String,
    /// The verdict.
    pub matched: bool,
    /// Front match percent.
    pub front_percent: Option<f64>,
    /// Back match percent.
    pub back_percent: Option<f64>,
    /// Its chain hash.
    pub row_hash: String,
}

/// Which records to list.
#[derive(Debug, Clone, Default)]
pub struct HubQuery {
    /// Only this device's records.
    pub device: Option<String>,
    /// Only records decided at or after this time (ms since the epoch).
    pub since_ms: Option<i64>,
    /// At most this many, the newest first.
    pub limit: i64,
}

/// What `log verify-hub` walked: the hub's log, and its staff's review decisions (a chain of
/// their own under the same key).
#[derive(Debug, Clone, Copy)]
pub struct HubChains {
    /// Records in the hub's log.
    pub records: i64,
    /// Decisions of the review page.
    pub decisions: i64,
}

/// A read-only connection to a hub's database.
pub struct HubReader {
    client: Client,
}

impl HubReader {
    /// Connects to `url` with `tls` as [`super::PgStore::open`] does, for reading only.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached, [`StoreError::Chain`]
    /// when it is not a hub of this build's schema version (older: a replica of this version
    /// migrates it first; newer: refused), [`StoreError::InvalidName`] for a URL refused.
    pub fn open(url: &str, tls: rustls::ClientConfig) -> Result<HubReader, StoreError> {
        // Every transaction of this connection is read-only: a reader cannot write by mistake.
        // A walk of a large log may take longer than a replica's statements: no limit on them.
        let read_only = "-c default_transaction_read_only=on -c statement_timeout=0";
        let config = configured(url, PoolBounds::default(), read_only)?;
        let name = shown(&config);
        let mut client = config.connect(MakeRustlsConnect::new(tls)).map_err(|e| {
            StoreError::Unavailable(format!(
                "the hub's database {name} cannot be reached: {}",
                with_causes(&e)
            ))
        })?;
        let found: Option<i32> = client
            .query_opt("SELECT version FROM facematch_audit.schema_version", &[])
            .map_err(|e| {
                StoreError::Chain(format!(
                    "{name} has no auditors' views (facematch_audit.schema_version): not a facematch hub of \
                     schema version {} or newer ({})",
                    schema::VERSION,
                    with_causes(&e)
                ))
            })?
            .and_then(|r| r.get(0));
        if found != Some(schema::VERSION) {
            return Err(StoreError::Chain(format!(
                "{name} has schema version {}, this facematch reads version {}; nothing was changed",
                found.map_or("none".to_string(), |v| v.to_string()),
                schema::VERSION
            )));
        }
        Ok(HubReader { client })
    }

    /// Walks the hub's chain from its first record with `key` (checked against the database's
    /// key check first, and never made: a missing key file is an error); the number of records.
    ///
    /// # Errors
    /// [`StoreError::Tampered`] naming the first record that does not hold,
    /// [`StoreError::Key`] for a key that is not the hub's, or the database failed (the owner's
    /// role is needed: an auditor's sees only the views).
    pub fn verify_chain(&mut self, key: &HubKey) -> Result<HubChains, StoreError> {
        let key = match key {
            HubKey::File(path) => DeviceKey::load(path)?,
            HubKey::Hex(text) => DeviceKey::from_hex(text, "FACEMATCH_HUB_KEY")?,
        };
        let stored: Option<String> = self
            .client
            .query_opt("SELECT value FROM meta WHERE key = 'key_check'", &[])
            .map_err(db_error)?
            .map(|r| r.get(0));
        if stored.as_deref() != Some(key_check(&key).as_str()) {
            return Err(StoreError::Key {
                path: "the hub's key".into(),
                reason: "this is not the key the hub's database was sealed with".into(),
            });
        }
        let log_key = LogKey::of(&key);
        let records = records::verify_chain(&mut self.client, &log_key)?;
        let decisions = review::verify_decisions(&mut self.client, &log_key)?;
        Ok(HubChains { records, decisions })
    }

    /// The records `query` asks for, the newest first.
    ///
    /// # Errors
    /// The database failed.
    pub fn records(&mut self, query: &HubQuery) -> Result<Vec<HubRecord>, StoreError> {
        let rows = self
            .client
            .query(
                "SELECT id, created_at, decided_by, source_device, source_record, doc_type,
                        threshold, status, matched, front_percent, back_percent, row_hash
                   FROM facematch_audit.verifications
                  WHERE ($1::TEXT IS NULL OR source_device = $1)
                    AND ($2::BIGINT IS NULL OR created_at >= $2)
                  ORDER BY id DESC LIMIT $3",
                &[&query.device, &query.since_ms, &query.limit.max(0)],
            )
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|r| HubRecord {
                id: r.get(0),
                created_at: r.get(1),
                decided_by: r.get(2),
                device_id: r.get(3),
                device_record: r.get(4),
                doc_type: r.get(5),
                threshold: r.get(6),
                status: r.get(7),
                matched: r.get(8),
                front_percent: r.get(9),
                back_percent: r.get(10),
                row_hash: r.get(11),
            })
            .collect())
    }
}
