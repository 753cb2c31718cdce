//! API tokens: only their sha256 is stored; the token itself is shown once.

use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use super::crypto::random_base62;
use super::{now_ms, Store, StoreError};

/// A token's row id: the owner of the media it uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenId(pub i64);

/// What a store keeps of a token: its sha256, in hex.
pub(super) fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new token named `name`, once the name is checked: 1-100 characters, not blank, no
/// control characters.
pub(super) fn new_token(name: &str) -> Result<String, StoreError> {
    check_name("token", name)?;
    Ok(format!("fm_{}", random_base62(40)?))
}

/// Refuses a name of a token or a staff account (`what`) that is blank, longer than 100 bytes
/// or holds control characters.
pub(super) fn check_name(what: &str, name: &str) -> Result<(), StoreError> {
    if name.trim().is_empty() || name.chars().any(char::is_control) || name.len() > 100 {
        return Err(StoreError::InvalidName(format!(
            "{what} name {name:?}: 1-100 characters, not blank, no control characters"
        )));
    }
    Ok(())
}

impl Store {
    /// Makes a token named `name` and returns it; it cannot be shown again. The name of a
    /// revoked token can be used again (the revoked one keeps its history under its id).
    ///
    /// # Errors
    /// [`StoreError::InvalidName`] for an empty name or one with control characters,
    /// [`StoreError::Exists`] when a live token has the name, or an SQLite error.
    pub fn add_token(&self, name: &str) -> Result<String, StoreError> {
        let token = new_token(name)?;
        // A revoked token gives its name up: it is renamed `name (revoked #id)`.
        self.conn.execute(
            "UPDATE tokens SET name = name || ' (revoked #' || id || ')'
             WHERE name = ?1 AND revoked_at IS NOT NULL",
            params![name],
        )?;
        let inserted = self.conn.execute(
            "INSERT INTO tokens (name, token_sha256, created_at) VALUES (?1, ?2, ?3) ON CONFLICT(name) DO NOTHING",
            params![name, digest(&token), now_ms()],
        )?;
        if inserted == 0 {
            return Err(StoreError::Exists(format!("token {name:?}")));
        }
        Ok(token)
    }

    /// Revokes the token named `name`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when no live token has that name.
    pub fn revoke_token(&self, name: &str) -> Result<(), StoreError> {
        let n = self.conn.execute(
            "UPDATE tokens SET revoked_at = ?1 WHERE name = ?2 AND revoked_at IS NULL",
            params![now_ms(), name],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("live token {name:?}")));
        }
        Ok(())
    }

    /// Counts one accepted call by `token` to `api` on UTC day `day` (days since the epoch),
    /// for that API and for all of the token's APIs.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn count_request(&self, token: TokenId, api: &str, day: i64) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        for scope in [api, ""] {
            tx.execute(
                "INSERT INTO request_counts (token_id, api, day, count) VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (token_id, api, day) DO UPDATE SET count = count + 1",
                params![token.0, scope, day],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// UTC day `day`'s counts: (token, API or `None` for all its APIs, calls). Counts of
    /// earlier days are deleted on the way: they decide nothing any more.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn day_counts(&self, day: i64) -> Result<Vec<(TokenId, Option<String>, u32)>, StoreError> {
        self.conn.execute("DELETE FROM request_counts WHERE day < ?1", params![day])?;
        let mut stmt =
            self.conn.prepare("SELECT token_id, api, count FROM request_counts WHERE day = ?1")?;
        let rows = stmt.query_map(params![day], |r| {
            let api: String = r.get(1)?;
            Ok((TokenId(r.get(0)?), (!api.is_empty()).then_some(api), r.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The live token matching `token`, if any.
    ///
    /// # Errors
    /// An SQLite error.
    pub fn authenticate(&self, token: &str) -> Result<Option<TokenId>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM tokens WHERE token_sha256 = ?1 AND revoked_at IS NULL",
                params![digest(token)],
                |r| r.get(0),
            )
            .optional()?
            .map(TokenId))
    }
}
