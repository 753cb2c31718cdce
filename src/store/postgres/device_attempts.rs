//! On a hub: each device's liveness attempts in its chain's order, by the rule of
//! [`super::super::Store::keep_device_attempts`], one replica at a time per device.

use std::collections::HashMap;

use postgres::GenericClient;

use super::super::device_attempts::to_keep;
use super::super::{now_ms, AttemptsOutcome, ChainedAttempt, StoreError, TokenId};
use super::db_error;
use super::devices::another_token_holds;

/// Keeps `device_id`'s attempts that are new to the hub.
pub(super) fn keep(
    client: &mut impl GenericClient,
    token: TokenId,
    device_id: &str,
    batch: &[ChainedAttempt],
) -> Result<AttemptsOutcome, StoreError> {
    let mut tx = client.transaction().map_err(db_error)?;
    tx.execute("SELECT pg_advisory_xact_lock(hashtext('attempts ' || $1))", &[&device_id])
        .map_err(db_error)?;
    if another_token_holds(&mut tx, device_id, token)? {
        return Ok(AttemptsOutcome::OtherToken);
    }
    let newest = newest(&mut tx, device_id)?;
    let ids: Vec<i64> = batch.iter().map(|a| a.attempt.id).collect();
    let held: HashMap<i64, String> = tx
        .query(
            "SELECT attempt_id, row_hash FROM device_attempts
             WHERE device_id = $1 AND attempt_id = ANY($2)",
            &[&device_id, &ids],
        )
        .map_err(db_error)?
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let keep = match to_keep(batch, newest, &held) {
        Ok(keep) => keep,
        Err(reason) => return Ok(AttemptsOutcome::Refused(reason)),
    };
    for a in &keep.new {
        let t = &a.attempt;
        if let Some(frame) = &t.frame_media {
            let owned: bool = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM media WHERE id = $1 AND owner_token = $2)",
                    &[frame, &token.0],
                )
                .map_err(db_error)?
                .get(0);
            if !owned {
                return Ok(AttemptsOutcome::Refused(format!(
                    "attempt {}'s frame {frame} is not a picture this token uploaded",
                    t.id
                )));
            }
        }
        tx.execute(
            "INSERT INTO device_attempts (device_id, attempt_id, token_id, created_at, live,
                 reason, challenge, evidence_json, frame_media, verification, prev_hash, row_hash,
                 received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            &[
                &device_id,
                &t.id,
                &token.0,
                &t.created_at,
                &t.live,
                &t.reason,
                &t.challenge,
                &t.evidence_json,
                &t.frame_media,
                &t.verification,
                &a.prev_hash,
                &a.row_hash,
                &now_ms(),
            ],
        )
        .map_err(db_error)?;
    }
    tx.commit().map_err(db_error)?;
    Ok(AttemptsOutcome::Kept { kept: keep.new.len(), last: keep.last })
}

/// The newest attempt held of `device_id`: its id and hash.
pub(super) fn newest(
    client: &mut impl GenericClient,
    device_id: &str,
) -> Result<Option<(i64, String)>, StoreError> {
    let row = client
        .query_opt(
            "SELECT attempt_id, row_hash FROM device_attempts WHERE device_id = $1
             ORDER BY attempt_id DESC LIMIT 1",
            &[&device_id],
        )
        .map_err(db_error)?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}
