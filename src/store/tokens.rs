//! API tokens: only their sha256 is stored; the token itself is shown once.

use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use super::crypto::random_base62;
use super::{now_ms, Store, StoreError};

/// A token's row id: the owner of the media it uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenId(pub i64);

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Makes a token named `name` and returns it; it cannot be shown again. The name of a
    /// revoked token can be used again (the revoked one keeps its history under its id).
    ///
    /// # Errors
    /// [`StoreError::InvalidName`] for an empty name or one with control characters,
    /// [`StoreError::Exists`] when a live token has the name, or an SQLite error.
    pub fn add_token(&self, name: &str) -> Result<String, StoreError> {
        if name.trim().is_empty() || name.chars().any(char::is_control) || name.len() > 100 {
            return Err(StoreError::InvalidName(format!(
                "token name {name:?}: 1-100 characters, not blank, no control characters"
            )));
        }
        let token = format!("fm_{}", random_base62(40)?);
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
