//! Uploaded pictures: metadata in the clear, bytes sealed under the device key.

use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use super::crypto::random_base62;
use super::states::OutboxState;
use super::{now_ms, Store, StoreError, TokenId};

/// A media id in the contract's style: `MX` and 18 letters/digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaId(pub String);

impl MediaId {
    /// A new random id for a picture about to be stored.
    pub(super) fn fresh() -> Result<MediaId, StoreError> {
        Ok(MediaId(format!("MX{}", random_base62(18)?)))
    }
}

/// A stored picture's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaRecord {
    /// Id.
    pub id: MediaId,
    /// Name the client gave the file.
    pub original_name: String,
    /// `image/jpeg` or `image/png`.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// sha256 of the plain bytes, hex.
    pub sha256: String,
    /// Whether the bytes were purged by retention.
    pub purged: bool,
}

pub(super) fn context(id: &MediaId) -> String {
    format!("facematch media v1 {}", id.0)
}

impl Store {
    /// Stores a picture (sealed) and returns its new id.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn insert_media(
        &self,
        owner: Option<TokenId>,
        original_name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<MediaId, StoreError> {
        self.insert_media_once(owner, None, original_name, content_type, bytes)
    }

    /// [`Store::insert_media`] with an idempotency key: a second upload with the
    /// same key from the same owner returns the first one's id and stores nothing.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn insert_media_once(
        &self,
        owner: Option<TokenId>,
        idempotency_key: Option<&str>,
        original_name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<MediaId, StoreError> {
        let owner = owner.map(|t| t.0);
        let sha = hex::encode(Sha256::digest(bytes));
        let existing = |conn: &rusqlite::Connection| -> Result<Option<MediaId>, StoreError> {
            let Some(key) = idempotency_key else { return Ok(None) };
            let found: Option<(String, String, String, i64)> = conn
                .query_row(
                    "SELECT id, sha256, original_name, created_at FROM media
                     WHERE owner_token IS ?1 AND idempotency_key = ?2",
                    params![owner, key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            match found {
                None => Ok(None),
                Some((id, _, _, created_at)) if super::key_expired(created_at) => {
                    // An expired key names nothing any more: release it for this upload.
                    conn.execute(
                        "UPDATE media SET idempotency_key = NULL WHERE id = ?1",
                        params![id],
                    )?;
                    Ok(None)
                }
                Some((id, stored_sha, stored_name, _))
                    if stored_sha == sha && stored_name == original_name =>
                {
                    Ok(Some(MediaId(id)))
                }
                Some(_) => Err(StoreError::KeyReused(key.to_string())),
            }
        };
        if let Some(id) = existing(&self.conn)? {
            return Ok(id);
        }
        let id = MediaId::fresh()?;
        let sealed = self.key.seal(bytes, &context(&id))?;
        let inserted = self.conn.execute(
            "INSERT INTO media (id, owner_token, original_name, content_type, size, sha256, sealed, created_at, idempotency_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![id.0, owner, original_name, content_type, bytes.len() as i64, sha, sealed, now_ms(), idempotency_key],
        );
        match inserted {
            Ok(_) => Ok(id),
            // A concurrent upload with the same key won the race: answer with its id.
            Err(e) if is_unique_violation(&e) => existing(&self.conn)?.ok_or(StoreError::Sql(e)),
            Err(e) => Err(e.into()),
        }
    }

    /// The plain bytes and name of any picture of this device (for sync; no owner check).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown or purged id, [`StoreError::Crypto`].
    pub fn media_for_sync(&self, id: &MediaId) -> Result<(String, Vec<u8>), StoreError> {
        let row: Option<(String, Option<Vec<u8>>)> = self
            .conn
            .query_row(
                "SELECT original_name, sealed FROM media WHERE id = ?1",
                params![id.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (name, sealed) = row.ok_or_else(|| StoreError::NotFound(format!("media {}", id.0)))?;
        let sealed = sealed
            .ok_or_else(|| StoreError::NotFound(format!("media {} (purged by retention)", id.0)))?;
        Ok((name, self.key.open(&sealed, &context(id))?))
    }

    /// The id the remote at `remote_url` gave a picture, once uploaded there (an id another
    /// remote gave means nothing to this one).
    ///
    /// # Errors
    /// An SQLite error.
    pub fn media_remote_id(
        &self,
        id: &MediaId,
        remote_url: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT remote_id FROM media WHERE id = ?1 AND remote_url = ?2",
                params![id.0, remote_url],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Records the id the remote at `remote_url` gave a picture, so it is not uploaded there
    /// again.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn set_media_remote_id(
        &self,
        id: &MediaId,
        remote_url: &str,
        remote_id: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE media SET remote_id = ?1, remote_url = ?2 WHERE id = ?3",
            params![remote_id, remote_url, id.0],
        )?;
        Ok(())
    }

    /// Forgets a picture's remote id (the remote said it does not know it), so that the next
    /// sync uploads it again.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn forget_media_remote_id(&self, id: &MediaId) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE media SET remote_id = NULL, remote_url = NULL WHERE id = ?1",
            params![id.0],
        )?;
        Ok(())
    }

    /// The plain bytes of a picture owned by `owner` (media are scoped per token:
    /// another token's id is reported as not found, so ids cannot be probed).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown, foreign or purged id;
    /// [`StoreError::Crypto`] when the bytes do not decrypt.
    pub fn media_bytes(&self, id: &str, owner: Option<TokenId>) -> Result<Vec<u8>, StoreError> {
        let row: Option<(Option<i64>, Option<Vec<u8>>)> = self
            .conn
            .query_row("SELECT owner_token, sealed FROM media WHERE id = ?1", params![id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let not_found = || StoreError::NotFound(format!("media {id}"));
        let (row_owner, sealed) = row.ok_or_else(not_found)?;
        if row_owner != owner.map(|t| t.0) {
            return Err(not_found());
        }
        let sealed = sealed
            .ok_or_else(|| StoreError::NotFound(format!("media {id} (purged by retention)")))?;
        self.key.open(&sealed, &context(&MediaId(id.to_string())))
    }

    /// Metadata of a picture.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] or an SQLite error.
    pub fn media_record(&self, id: &str) -> Result<MediaRecord, StoreError> {
        self.conn
            .query_row(
                "SELECT id, original_name, content_type, size, sha256, sealed IS NULL FROM media WHERE id = ?1",
                params![id],
                |r| {
                    Ok(MediaRecord {
                        id: MediaId(r.get(0)?),
                        original_name: r.get(1)?,
                        content_type: r.get(2)?,
                        size: r.get(3)?,
                        sha256: r.get(4)?,
                        purged: r.get(5)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("media {id}")))
    }

    /// Retention: deletes picture bytes and embeddings older than `days` days; the
    /// verification records, their hashes and the media metadata stay. Unless
    /// `include_unsynced`, pictures of records still waiting for sync are kept (the
    /// remote needs them). Returns how many pictures were purged.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn purge_older_than(&self, days: u32, include_unsynced: bool) -> Result<usize, StoreError> {
        let cutoff = now_ms() - i64::from(days) * 86_400_000;
        let tx = self.conn.unchecked_transaction()?;
        let purged = tx.execute(
            &format!(
                "UPDATE media SET sealed = NULL, purged_at = ?1
                 WHERE sealed IS NOT NULL AND created_at < ?2 AND (?3 OR id NOT IN ({}))",
                super::media_of_verifications_where("o.state = ?4")
            ),
            params![now_ms(), cutoff, include_unsynced, OutboxState::Pending],
        )?;
        tx.execute(
            "UPDATE verifications SET embeddings_sealed = NULL
             WHERE embeddings_sealed IS NOT NULL AND created_at < ?1
               AND (?2 OR id NOT IN (SELECT verification_id FROM outbox WHERE state = ?3))",
            params![cutoff, include_unsynced, OutboxState::Pending],
        )?;
        tx.commit()?;
        Ok(purged)
    }
}

/// True for a UNIQUE constraint failure.
pub(super) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}
