//! The hub's records: sealed media, the verification log (keyed hash chain, one for the whole
//! hub, extended by one replica at a time) and every anchor the devices sent.

use postgres::GenericClient;
use sha2::{Digest, Sha256};

use super::super::anchors;
use super::super::chain::{Hashed, LogKey, GENESIS};
use super::super::crypto::DeviceKey;
use super::super::media::context as media_context;
use super::super::{
    key_expired, now_ms, AnchorOutcome, KeyedVerification, MediaId, NewVerification, StoreError,
    TokenId, ANCHOR_PAGE,
};
use super::{db_error, is_unique_violation};
use crate::contract::{Anchor, MatchStatus};

/// A picture to store.
pub(super) struct Upload<'a> {
    pub(super) owner: Option<TokenId>,
    pub(super) idempotency_key: Option<&'a str>,
    pub(super) original_name: &'a str,
    pub(super) content_type: &'a str,
    pub(super) bytes: &'a [u8],
}

/// What a record is sealed and chained with.
pub(super) struct Signer<'a> {
    pub(super) key: &'a DeviceKey,
    pub(super) log_key: &'a LogKey,
    pub(super) hub_id: &'a str,
}

/// The advisory lock held while the log's chain is extended ("fmlog").
const CHAIN_LOCK: i64 = 0x0066_6d6c_6f67;

/// Stores a picture once per (owner, key): a second upload with the key answers the first's id.
pub(super) fn insert_media_once(
    client: &mut impl GenericClient,
    key: &DeviceKey,
    upload: &Upload<'_>,
) -> Result<MediaId, StoreError> {
    let owner = upload.owner.map(|t| t.0);
    let sha = hex::encode(Sha256::digest(upload.bytes));
    if let Some(id) = media_by_key(client, upload, &sha)? {
        return Ok(id);
    }
    let id = MediaId::fresh()?;
    let sealed = key.seal(upload.bytes, &media_context(&id))?;
    let inserted = client.execute(
        "INSERT INTO media (id, owner_token, original_name, content_type, size, sha256, sealed,
                            created_at, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &id.0,
            &owner,
            &upload.original_name,
            &upload.content_type,
            &(upload.bytes.len() as i64),
            &sha,
            &sealed,
            &now_ms(),
            &upload.idempotency_key,
        ],
    );
    match inserted {
        Ok(_) => Ok(id),
        // The same key, uploaded meanwhile through this or another replica: answer its id.
        Err(e) if is_unique_violation(&e) => {
            media_by_key(client, upload, &sha)?.ok_or_else(|| db_error(e))
        }
        Err(e) => Err(db_error(e)),
    }
}

/// The picture stored with `upload`'s owner and idempotency key, if the key is live: the same
/// picture answers its id, another is refused ([`StoreError::KeyReused`]).
fn media_by_key(
    client: &mut impl GenericClient,
    upload: &Upload<'_>,
    sha: &str,
) -> Result<Option<MediaId>, StoreError> {
    let Some(idem) = upload.idempotency_key else { return Ok(None) };
    let row = client
        .query_opt(
            "SELECT id, sha256, original_name, created_at FROM media
             WHERE owner_token IS NOT DISTINCT FROM $1 AND idempotency_key = $2",
            &[&upload.owner.map(|t| t.0), &idem],
        )
        .map_err(db_error)?;
    let Some(row) = row else { return Ok(None) };
    let (id, stored_sha, stored_name, created_at): (String, String, String, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    if key_expired(created_at) {
        // An expired key names nothing any more: released for this upload.
        client
            .execute("UPDATE media SET idempotency_key = NULL WHERE id = $1", &[&id])
            .map_err(db_error)?;
        return Ok(None);
    }
    if stored_sha == sha && stored_name == upload.original_name {
        Ok(Some(MediaId(id)))
    } else {
        Err(StoreError::KeyReused(idem.to_string()))
    }
}

/// The plain bytes of a picture owned by `owner`; another owner's id is "not found".
pub(super) fn media_bytes(
    client: &mut impl GenericClient,
    key: &DeviceKey,
    id: &str,
    owner: Option<TokenId>,
) -> Result<Vec<u8>, StoreError> {
    let row = client
        .query_opt("SELECT owner_token, sealed FROM media WHERE id = $1", &[&id])
        .map_err(db_error)?;
    let not_found = || StoreError::NotFound(format!("media {id}"));
    let row = row.ok_or_else(not_found)?;
    let (row_owner, sealed): (Option<i64>, Option<Vec<u8>>) = (row.get(0), row.get(1));
    if row_owner != owner.map(|t| t.0) {
        return Err(not_found());
    }
    let sealed =
        sealed.ok_or_else(|| StoreError::NotFound(format!("media {id} (purged by retention)")))?;
    key.open(&sealed, &media_context(&MediaId(id.to_string())))
}

/// The verification `token` made with `key`, within the key's life; an expired key is released.
pub(super) fn verification_by_key(
    client: &mut impl GenericClient,
    token: Option<TokenId>,
    key: &str,
) -> Result<Option<KeyedVerification>, StoreError> {
    let row = client
        .query_opt(
            "SELECT id, response_json, src_media, front_media, back_media, doc_type, threshold,
                    created_at
             FROM verifications
             WHERE token_id IS NOT DISTINCT FROM $1 AND idempotency_key = $2",
            &[&token.map(|t| t.0), &key],
        )
        .map_err(db_error)?;
    let Some(r) = row else { return Ok(None) };
    let found = KeyedVerification {
        id: r.get(0),
        response_json: r.get(1),
        media: [r.get(2), r.get(3), r.get(4)],
        doc_type: r.get(5),
        threshold: r.get(6),
        created_at: r.get(7),
    };
    if key_expired(found.created_at) {
        client
            .execute("UPDATE verifications SET idempotency_key = NULL WHERE id = $1", &[&found.id])
            .map_err(db_error)?;
        return Ok(None);
    }
    Ok(Some(found))
}

/// Appends a decision to the hub's chain in one transaction, under the chain's lock.
pub(super) fn record_verification(
    client: &mut impl GenericClient,
    signer: &Signer<'_>,
    v: &NewVerification,
) -> Result<i64, StoreError> {
    let mut tx = client.transaction().map_err(db_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CHAIN_LOCK]).map_err(db_error)?;
    let newest = tx
        .query_opt("SELECT id, row_hash FROM verifications ORDER BY id DESC LIMIT 1", &[])
        .map_err(db_error)?;
    let (id, prev) = match newest {
        Some(r) => (r.get::<_, i64>(0) + 1, r.get::<_, String>(1)),
        None => (1, GENESIS.to_string()),
    };
    let media =
        [&v.src_media, &v.front_media, &v.back_media].map(|m| m.as_ref().map(|m| m.0.clone()));
    let mut media_sha256: [Option<String>; 3] = Default::default();
    for (slot, m) in media_sha256.iter_mut().zip(&media) {
        if let Some(m) = m {
            *slot = tx
                .query_opt("SELECT sha256 FROM media WHERE id = $1", &[m])
                .map_err(db_error)?
                .map(|r| r.get(0));
        }
    }
    let hashed = v.hashed(id, signer.hub_id.to_string(), media_sha256);
    let row_hash = hashed.keyed_hash(&prev, signer.log_key);
    let embeddings = v.sealed_embeddings(signer.key, &row_hash)?;
    let [src, front, back] = media;
    let source = v.idempotency_key.as_deref().and_then(device_record);
    let inserted = tx.execute(
        "INSERT INTO verifications (id, created_at, device_id, token_id, src_media, front_media,
            back_media, doc_type, threshold, status, matched, front_percent, back_percent,
            request_json, response_json, models_json, timings_json, embeddings_sealed, prev_hash,
            row_hash, idempotency_key, liveness_attempt, source_device, source_record)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 $19, $20, $21, $22, $23, $24)",
        &[
            &id,
            &hashed.created_at,
            &hashed.device_id,
            &hashed.token_id,
            &src,
            &front,
            &back,
            &hashed.doc_type,
            &hashed.threshold,
            &hashed.status.as_str(),
            &hashed.matched,
            &v.front_percent,
            &v.back_percent,
            &hashed.request_json,
            &hashed.response_json,
            &hashed.models_json,
            &hashed.timings_json,
            &embeddings,
            &prev,
            &row_hash,
            &v.idempotency_key,
            &v.liveness_attempt,
            &source.as_ref().map(|(device, _)| device),
            &source.as_ref().map(|(_, record)| record),
        ],
    );
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::Exists(format!(
                "verification with idempotency key {:?}",
                v.idempotency_key
            )))
        }
        Err(e) => return Err(db_error(e)),
    }
    tx.commit().map_err(db_error)?;
    Ok(id)
}

/// The device and record a synced record came from, as its sync named them in the
/// Idempotency-Key (`DEVICE-verification-RECORD`, what `sync` sends and anchors name).
fn device_record(key: &str) -> Option<(String, i64)> {
    let (device, record) = key.rsplit_once("-verification-")?;
    if device.is_empty() || record.is_empty() || !record.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((device.to_string(), record.parse().ok()?))
}

/// Rows read at once by [`walk_chain`]: its memory stays bounded whatever the chain's size.
const CHAIN_PAGE: i64 = 1000;

/// Walks a keyed chain from its first row, a page at a time: `sql` selects the rows after id
/// `$1`, at most `$2`, in id order, each with its `id`, `prev_hash` and `row_hash`; `hash` gives
/// the hash a row must have after the one before's. The count, or [`StoreError::Tampered`]
/// naming the first row (`what`: "the hub's log breaks at record") that does not follow.
pub(super) fn walk_chain(
    client: &mut impl GenericClient,
    sql: &str,
    (what, noun): (&str, &str),
    mut hash: impl FnMut(&postgres::Row, &str) -> Result<Option<String>, StoreError>,
) -> Result<i64, StoreError> {
    let mut prev = GENESIS.to_string();
    let mut count = 0_i64;
    loop {
        let rows = client.query(sql, &[&count, &CHAIN_PAGE]).map_err(db_error)?;
        for r in &rows {
            let id: i64 = r.get("id");
            let (stored_prev, stored_hash): (String, String) =
                (r.get("prev_hash"), r.get("row_hash"));
            if id != count + 1
                || stored_prev != prev
                || hash(r, &prev)?.as_deref() != Some(stored_hash.as_str())
            {
                return Err(StoreError::Tampered(format!(
                    "{what} {}: it is not the {noun} its predecessor and this hub's key give",
                    count + 1
                )));
            }
            prev = stored_hash;
            count = id;
        }
        if (rows.len() as i64) < CHAIN_PAGE {
            return Ok(count);
        }
    }
}

/// Walks the hub's log from its first record; the count, or the first record that does not
/// verify.
pub(super) fn verify_chain(
    client: &mut impl GenericClient,
    log_key: &LogKey,
) -> Result<i64, StoreError> {
    let sql = "SELECT v.id, v.created_at, v.device_id, v.token_id, v.src_media, v.front_media,
                      v.back_media, v.doc_type, v.threshold, v.status, v.matched,
                      v.front_percent, v.back_percent, v.request_json, v.response_json,
                      v.models_json, v.timings_json, v.liveness_attempt, v.prev_hash,
                      v.row_hash, s.sha256 AS src_sha256, f.sha256 AS front_sha256,
                      b.sha256 AS back_sha256
               FROM verifications v
               LEFT JOIN media s ON s.id = v.src_media
               LEFT JOIN media f ON f.id = v.front_media
               LEFT JOIN media b ON b.id = v.back_media
               WHERE v.id > $1 ORDER BY v.id LIMIT $2";
    walk_chain(client, sql, ("the hub's log breaks at record", "record"), |r, prev| {
        let id: i64 = r.get("id");
        let status: String = r.get("status");
        let hashed = Hashed {
            id,
            created_at: r.get("created_at"),
            device_id: r.get("device_id"),
            token_id: r.get("token_id"),
            media: [r.get("src_media"), r.get("front_media"), r.get("back_media")],
            media_sha256: [r.get("src_sha256"), r.get("front_sha256"), r.get("back_sha256")],
            doc_type: r.get("doc_type"),
            threshold: r.get("threshold"),
            status: MatchStatus::parse(&status).ok_or_else(|| {
                StoreError::Tampered(format!("record {id}: unknown status {status:?}"))
            })?,
            matched: r.get("matched"),
            percents: [r.get("front_percent"), r.get("back_percent")],
            request_json: r.get("request_json"),
            response_json: r.get("response_json"),
            models_json: r.get("models_json"),
            timings_json: r.get("timings_json"),
            liveness_attempt: r.get("liveness_attempt"),
        };
        Ok(Some(hashed.keyed_hash(prev, log_key)))
    })
}

/// Keeps `anchor` if it follows what is kept for its device (the rules of
/// [`super::super::Store::keep_anchor`]), under a lock on that device's anchors.
pub(super) fn keep_anchor(
    client: &mut impl GenericClient,
    token: TokenId,
    anchor: &Anchor,
) -> Result<AnchorOutcome, StoreError> {
    let mut tx = client.transaction().map_err(db_error)?;
    // Two replicas keeping anchors of one device take turns.
    tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&anchor.device_id])
        .map_err(db_error)?;
    let same: Option<String> = tx
        .query_opt(
            "SELECT row_hash FROM anchor_records WHERE device_id = $1 AND record_id = $2",
            &[&anchor.device_id, &anchor.record_id],
        )
        .map_err(db_error)?
        .map(|r| r.get(0));
    let newest: Option<(i64, Option<i64>, bool)> = tx
        .query_opt(
            "SELECT a.record_id, a.token_id, t.revoked_at IS NULL AND t.id IS NOT NULL
             FROM anchor_records a LEFT JOIN tokens t ON t.id = a.token_id
             WHERE a.device_id = $1 ORDER BY a.record_id DESC LIMIT 1",
            &[&anchor.device_id],
        )
        .map_err(db_error)?
        .map(|r| (r.get(0), r.get(1), r.get(2)));
    let outcome = anchors::outcome(anchor, token, same, newest);
    if outcome == AnchorOutcome::Kept {
        tx.execute(
            "INSERT INTO anchor_records (device_id, record_id, row_hash, token_id, kept_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[&anchor.device_id, &anchor.record_id, &anchor.hash, &token.0, &now_ms()],
        )
        .map_err(db_error)?;
    } else if let Some(refusal) = refusal_kept(&outcome) {
        // What the review page shows as a device whose log no longer follows what the hub
        // kept; once per record and kind.
        tx.execute(
            "INSERT INTO anchor_refusals (device_id, record_id, outcome, token_id, refused_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[&anchor.device_id, &anchor.record_id, &refusal, &token.0, &now_ms()],
        )
        .map_err(db_error)?;
    }
    tx.commit().map_err(db_error)?;
    Ok(outcome)
}

/// The refusals a person must look at, named as the hub keeps them: a record sent again with
/// another hash, or older than the newest kept (the device's log was rewritten or cut), or too
/// far ahead. Another token's claim is the caller's problem, not the device's, and is not kept.
fn refusal_kept(outcome: &AnchorOutcome) -> Option<&'static str> {
    match outcome {
        AnchorOutcome::OtherHash => Some("other_hash"),
        AnchorOutcome::Rewind { .. } => Some("rewind"),
        AnchorOutcome::Jump { .. } => Some("jump"),
        AnchorOutcome::Kept | AnchorOutcome::Again | AnchorOutcome::OtherToken => None,
    }
}

/// The anchors kept for `device_id` after `after`, oldest first, a page at most.
pub(super) fn anchors_after(
    client: &mut impl GenericClient,
    device_id: &str,
    after: i64,
    newest_only: bool,
) -> Result<Vec<Anchor>, StoreError> {
    let rows = if newest_only {
        client.query(
            "SELECT record_id, row_hash FROM anchor_records WHERE device_id = $1
             ORDER BY record_id DESC LIMIT 1",
            &[&device_id],
        )
    } else {
        client.query(
            "SELECT record_id, row_hash FROM anchor_records WHERE device_id = $1 AND record_id > $2
             ORDER BY record_id LIMIT $3",
            &[&device_id, &after, &(ANCHOR_PAGE as i64)],
        )
    }
    .map_err(db_error)?;
    Ok(rows
        .iter()
        .map(|r| Anchor { device_id: device_id.to_string(), record_id: r.get(0), hash: r.get(1) })
        .collect())
}

/// Retention: forgets picture bytes and embeddings older than `days` days.
pub(super) fn purge_older_than(
    client: &mut impl GenericClient,
    days: u32,
) -> Result<usize, StoreError> {
    let cutoff = now_ms() - i64::from(days) * 86_400_000;
    let mut tx = client.transaction().map_err(db_error)?;
    let purged = tx
        .execute(
            "UPDATE media SET sealed = NULL, purged_at = $1 WHERE sealed IS NOT NULL AND created_at < $2",
            &[&now_ms(), &cutoff],
        )
        .map_err(db_error)?;
    tx.execute(
        "UPDATE verifications SET embeddings_sealed = NULL
         WHERE embeddings_sealed IS NOT NULL AND created_at < $1",
        &[&cutoff],
    )
    .map_err(db_error)?;
    tx.commit().map_err(db_error)?;
    Ok(purged as usize)
}
