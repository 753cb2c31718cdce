//! On a hub: each device's newest heartbeat, kept per device with the token that sent it (the
//! rule of [`super::super::Store::keep_heartbeat`]), one replica at a time per device.

use postgres::GenericClient;

use super::super::devices::held_by_another;
use super::super::{now_ms, HeartbeatOutcome, StoreError, TokenId};
use super::db_error;

/// Whether another live token than `token` speaks for `device_id`: the one its heartbeats, its
/// newest anchor or its newest liveness attempt came with.
pub(super) fn another_token_holds(
    client: &mut impl GenericClient,
    device_id: &str,
    token: TokenId,
) -> Result<bool, StoreError> {
    let mut holders = Vec::new();
    for sql in [
        "SELECT d.token_id, t.revoked_at IS NULL AND t.id IS NOT NULL
         FROM devices d LEFT JOIN tokens t ON t.id = d.token_id
         WHERE d.device_id = $1",
        "SELECT a.token_id, t.revoked_at IS NULL AND t.id IS NOT NULL
         FROM anchor_records a LEFT JOIN tokens t ON t.id = a.token_id
         WHERE a.device_id = $1 ORDER BY a.record_id DESC LIMIT 1",
        "SELECT a.token_id, t.revoked_at IS NULL AND t.id IS NOT NULL
         FROM device_attempts a LEFT JOIN tokens t ON t.id = a.token_id
         WHERE a.device_id = $1 ORDER BY a.attempt_id DESC LIMIT 1",
    ] {
        let row = client.query_opt(sql, &[&device_id]).map_err(db_error)?;
        holders.push(row.map(|r| (r.get::<_, Option<i64>>(0), r.get::<_, bool>(1))));
    }
    Ok(holders.into_iter().any(|holder| held_by_another(holder, token)))
}

/// Keeps `device_id`'s heartbeat unless the device belongs to another live token.
pub(super) fn keep_heartbeat(
    client: &mut impl GenericClient,
    token: TokenId,
    device_id: &str,
    heartbeat_json: &str,
    sent_at_ms: i64,
) -> Result<HeartbeatOutcome, StoreError> {
    let mut tx = client.transaction().map_err(db_error)?;
    tx.execute("SELECT pg_advisory_xact_lock(hashtext('heartbeat ' || $1))", &[&device_id])
        .map_err(db_error)?;
    if another_token_holds(&mut tx, device_id, token)? {
        return Ok(HeartbeatOutcome::OtherToken);
    }
    let now = now_ms();
    let clock_offset_ms = now.saturating_sub(sent_at_ms);
    tx.execute(
        "INSERT INTO devices
             (device_id, token_id, first_seen, last_seen, clock_offset_ms, heartbeat_json)
         VALUES ($1, $2, $3, $3, $4, $5)
         ON CONFLICT (device_id) DO UPDATE SET token_id = excluded.token_id,
             last_seen = excluded.last_seen, clock_offset_ms = excluded.clock_offset_ms,
             heartbeat_json = excluded.heartbeat_json",
        &[&device_id, &token.0, &now, &clock_offset_ms, &heartbeat_json],
    )
    .map_err(db_error)?;
    tx.commit().map_err(db_error)?;
    Ok(HeartbeatOutcome::Kept { clock_offset_ms })
}
