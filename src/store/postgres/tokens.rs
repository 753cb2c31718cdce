//! The hub's API tokens (only their sha256 is stored) and the calls its rate limits count,
//! shared by every replica.

use postgres::GenericClient;

use super::super::api_store::RecentCalls;
use super::super::tokens::{digest, new_token};
use super::super::{now_ms, StoreError, TokenId};
use super::db_error;

const MINUTE_MS: u64 = 60_000;
const DAY_MS: u64 = 86_400_000;

/// Makes a token named `name`; a revoked token gives its name up.
pub(super) fn add(client: &mut impl GenericClient, name: &str) -> Result<String, StoreError> {
    let token = new_token(name)?;
    let mut tx = client.transaction().map_err(db_error)?;
    tx.execute(
        "UPDATE tokens SET name = name || ' (revoked #' || id || ')'
         WHERE name = $1 AND revoked_at IS NOT NULL",
        &[&name],
    )
    .map_err(db_error)?;
    let inserted = tx
        .execute(
            "INSERT INTO tokens (name, token_sha256, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING",
            &[&name, &digest(&token), &now_ms()],
        )
        .map_err(db_error)?;
    if inserted == 0 {
        return Err(StoreError::Exists(format!("token {name:?}")));
    }
    tx.commit().map_err(db_error)?;
    Ok(token)
}

/// Revokes the live token named `name`.
pub(super) fn revoke(client: &mut impl GenericClient, name: &str) -> Result<(), StoreError> {
    let n = client
        .execute(
            "UPDATE tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL",
            &[&now_ms(), &name],
        )
        .map_err(db_error)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("live token {name:?}")));
    }
    Ok(())
}

/// The live token matching `token`.
pub(super) fn authenticate(
    client: &mut impl GenericClient,
    token: &str,
) -> Result<Option<TokenId>, StoreError> {
    Ok(client
        .query_opt(
            "SELECT id FROM tokens WHERE token_sha256 = $1 AND revoked_at IS NULL",
            &[&digest(token)],
        )
        .map_err(db_error)?
        .map(|r| TokenId(r.get(0))))
}

/// Reads `token`'s recent calls and counts this one if `admit` leaves room for it, in one
/// transaction holding the token's row: replicas admitting calls of one token take turns.
pub(super) fn admit_call(
    client: &mut impl GenericClient,
    token: TokenId,
    api: &str,
    now: u64,
    admit: &mut dyn FnMut(&RecentCalls) -> bool,
) -> Result<bool, StoreError> {
    let now = now as i64;
    let (minute_ago, today) = (now - MINUTE_MS as i64, now / DAY_MS as i64);
    let mut tx = client.transaction().map_err(db_error)?;
    // NO KEY UPDATE: calls of one token take turns, without blocking the inserts whose foreign
    // keys name the token.
    tx.execute("SELECT 1 FROM tokens WHERE id = $1 FOR NO KEY UPDATE", &[&token.0])
        .map_err(db_error)?;
    tx.execute("DELETE FROM calls WHERE token_id = $1 AND at_ms <= $2", &[&token.0, &minute_ago])
        .map_err(db_error)?;
    let mut recent = RecentCalls::default();
    for row in tx
        .query("SELECT api, at_ms FROM calls WHERE token_id = $1 ORDER BY at_ms", &[&token.0])
        .map_err(db_error)?
    {
        let (called, at): (String, i64) = (row.get(0), row.get(1));
        recent.minute_all.push(at as u64);
        if called == api {
            recent.minute_api.push(at as u64);
        }
    }
    for row in tx
        .query(
            "SELECT api, count FROM request_counts WHERE token_id = $1 AND day = $2",
            &[&token.0, &today],
        )
        .map_err(db_error)?
    {
        let (scope, count): (String, i32) = (row.get(0), row.get(1));
        let count = count.max(0) as u32;
        match scope.as_str() {
            "" => recent.today_all = count,
            s if s == api => recent.today_api = count,
            _ => {}
        }
    }
    if !admit(&recent) {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO calls (token_id, api, at_ms) VALUES ($1, $2, $3)",
        &[&token.0, &api, &now],
    )
    .map_err(db_error)?;
    tx.execute("DELETE FROM request_counts WHERE token_id = $1 AND day < $2", &[&token.0, &today])
        .map_err(db_error)?;
    for scope in [api, ""] {
        tx.execute(
            "INSERT INTO request_counts (token_id, api, day, count) VALUES ($1, $2, $3, 1)
             ON CONFLICT (token_id, api, day) DO UPDATE SET count = request_counts.count + 1",
            &[&token.0, &scope, &today],
        )
        .map_err(db_error)?;
    }
    tx.commit().map_err(db_error)?;
    Ok(true)
}
