//! The device's liveness attempts sent to its facematch hub, after a heartbeat says which the
//! hub holds: those after it, in the liveness chain's order, a failed one's frame uploaded
//! first (once per remote, as a record's pictures are). The hub checks that each continues the
//! one before; a run sends at most [`MAX_BATCHES_PER_RUN`] batches and the next run goes on.
//! A passed attempt newer than the log's newest verification waits (up to [`LINK_WAIT_MS`]) for
//! the verification its selfie is for, so the hub learns that link: an attempt held there is
//! never sent again.

use super::heartbeat::HeartbeatError;
use super::remote::{HttpRemote, Remote, RemoteError};
use crate::contract::{AttemptBatch, DeviceAttempt};
use crate::record::attempt::device_attempt;
use crate::store::{ChainedAttempt, MediaId, Store, StoreError, ATTEMPT_BATCH};

/// Batches one run sends at most: a device back after a long time offline catches up over
/// several runs instead of holding one.
pub const MAX_BATCHES_PER_RUN: usize = 10;

/// How long a passed attempt without its verification yet is held back (ms): a customer
/// finishes the document step within minutes, or has left.
pub const LINK_WAIT_MS: i64 = 10 * 60 * 1000;

/// Bytes of attempts one call carries at most, as sent: the hub reads 64 KiB a call
/// (`api::FLEET_BODY_LIMIT`), and one attempt's evidence is at most 16 KiB as sent.
const BATCH_BYTES: usize = 48 * 1024;

/// Sends the attempts after `held` (the newest the hub holds); how many the hub newly kept.
///
/// # Errors
/// The hub refused or failed (what was kept before stays kept), or the store cannot be read.
pub fn send_attempts(
    store: &Store,
    remote: &HttpRemote,
    held: Option<i64>,
) -> Result<usize, HeartbeatError> {
    let mut after = held.unwrap_or(0);
    let mut kept = 0;
    let now = crate::store::now_ms();
    // A passed attempt made after the newest verification may still get its own.
    let newest_record = store.list_verifications(1)?.first().map_or(0, |r| r.created_at);
    let awaits_its_record = |a: &ChainedAttempt| {
        let a = &a.attempt;
        a.live
            && a.verification.is_none()
            && a.created_at >= newest_record
            && now - a.created_at < LINK_WAIT_MS
    };
    for _ in 0..MAX_BATCHES_PER_RUN {
        let logged: Vec<ChainedAttempt> = store
            .attempts_after(after, ATTEMPT_BATCH)?
            .into_iter()
            .take_while(|a| !awaits_its_record(a))
            .collect();
        if logged.is_empty() {
            break;
        }
        let answer = match send_batch(store, remote, &logged) {
            // A frame the hub does not know (its database was made anew, the token changed):
            // uploaded again, once.
            Err(HeartbeatError::Remote(RemoteError::Permanent { reason }))
                if reason.contains("frame") =>
            {
                log::warn!(
                    "sync: the hub refused attempts: {reason}; uploading their frames again"
                );
                for a in &logged {
                    if let Some(frame) = &a.attempt.frame_media {
                        store.forget_media_remote_id(&MediaId(frame.clone()))?;
                    }
                }
                send_batch(store, remote, &logged)?
            }
            other => other?,
        };
        kept += usize::try_from(answer.kept).unwrap_or(0);
        match answer.last_attempt {
            Some(last) if last > after => after = last,
            // The hub holds no more than before: asking again would be refused again.
            _ => break,
        }
    }
    Ok(kept)
}

/// Sends the first of `logged` that fit in one call (at least one).
fn send_batch(
    store: &Store,
    remote: &HttpRemote,
    logged: &[ChainedAttempt],
) -> Result<crate::contract::AttemptsAnswer, HeartbeatError> {
    let mut batch: Vec<DeviceAttempt> = Vec::new();
    let mut bytes = 0;
    for attempt in logged {
        let sent = device_attempt(attempt, frame_at_hub(store, remote, attempt)?);
        let size = serde_json::to_string(&sent).map_or(usize::MAX, |s| s.len() + 1);
        if !batch.is_empty() && bytes + size > BATCH_BYTES {
            break;
        }
        bytes += size;
        batch.push(sent);
    }
    Ok(remote.device_attempts(store.device_id(), &AttemptBatch { attempts: batch })?)
}

/// The hub's media id of a failed attempt's frame, uploaded now if it has none; `None` when the
/// attempt has no frame, retention removed it, or the hub refuses it for good (the attempt then
/// goes without it).
fn frame_at_hub(
    store: &Store,
    remote: &HttpRemote,
    logged: &ChainedAttempt,
) -> Result<Option<String>, HeartbeatError> {
    let Some(frame) = logged.attempt.frame_media.clone().map(MediaId) else {
        return Ok(None);
    };
    if let Some(id) = store.media_remote_id(&frame, remote.name())? {
        return Ok(Some(id));
    }
    let (name, bytes) = match store.media_for_sync(&frame) {
        Ok(found) => found,
        Err(StoreError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let key = format!("{}-attempt-{}-frame", store.device_id(), logged.attempt.id);
    let id = match remote.upload(&name, &bytes, &key) {
        Ok(id) => id,
        Err(RemoteError::Permanent { reason }) => {
            log::warn!("sync: attempt {}'s frame refused: {reason}", logged.attempt.id);
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    store.set_media_remote_id(&frame, remote.name(), &id)?;
    Ok(Some(id))
}
