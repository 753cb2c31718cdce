//! The review page's side of a hub on PostgreSQL ([`ReviewStore`]): staff accounts, sessions
//! kept as digests, the queue read from the devices' heartbeats, attempts and anchors, the
//! decisions' keyed hash chain (extended under a lock, as the hub's log is), and each picture
//! view written in the transaction that reads the picture.

use postgres::{GenericClient, Row};

use super::super::chain::{LogKey, GENESIS};
use super::super::media::context as media_context;
use super::super::review::{
    Decision, DecisionKept, DeviceAttemptView, FleetDevice, HubRecordView, ItemKind, ItemRef,
    OpenDeviceRecord, PictureShown, RecordItem, ReviewStore, SessionBounds, StaffId, StaffSession,
    StaffSignin,
};
use super::super::tokens::{check_name, digest};
use super::super::{now_ms, MediaId, StoreError};
use super::records::walk_chain;
use super::{db_error, is_unique_violation, PgStore};

/// The advisory lock the decisions' chain is extended under (any fixed number; "fmrev").
const DECISIONS_LOCK: i64 = 0x0066_6d72_6576;

/// The newest decision on an item, as a lateral join names it (`kind`, `device`, `item` are the
/// outer query's expressions).
fn last_decision(kind: &str, device: &str, item: &str) -> String {
    format!(
        "LEFT JOIN LATERAL (SELECT decision, staff_name, decided_at, note FROM review_decisions r
             WHERE r.item_kind = {kind} AND r.device_id = {device} AND r.item_id = {item}
             ORDER BY r.id DESC LIMIT 1) last ON true"
    )
}

/// What an item's newest decision has to be for the item to stay open (records and attempts:
/// none, or an escalation): [`super::super::review::Closes`]'s rule, in SQL so that the queue's
/// limits count open items only.
const STILL_OPEN: &str = "(last.decision IS NULL OR last.decision = 'escalate')";

/// The newest decision of a row that selected `last.*`.
fn decision_of(row: &Row) -> Option<DecisionKept> {
    let name: Option<String> = row.get("decision");
    Some(DecisionKept {
        decision: Decision::parse(&name?)?,
        staff_name: row.get("staff_name"),
        decided_at_ms: row.get("decided_at"),
        note: row.get("note"),
    })
}

/// An attempt of `device_attempts` joined with its newest decision.
fn attempt_of(row: &Row) -> DeviceAttemptView {
    DeviceAttemptView {
        device_id: row.get("device_id"),
        attempt_id: row.get("attempt_id"),
        created_at_ms: row.get("created_at"),
        live: row.get("live"),
        reason: row.get("reason"),
        challenge: row.get("challenge"),
        evidence_json: row.get("evidence_json"),
        frame_media: row.get("frame_media"),
        last: decision_of(row),
    }
}

/// The records devices' newest heartbeats list as needing a person: those no decision closed,
/// newest heartbeat first, or (`one`) the one record asked for, closed or not.
fn open_records(
    client: &mut impl GenericClient,
    one: Option<(&str, i64)>,
    limit: i64,
) -> Result<Vec<OpenDeviceRecord>, StoreError> {
    let (device, record) = (one.map(|(d, _)| d), one.map(|(_, r)| r));
    let sql = format!(
        "SELECT o.*, last.*
           FROM (SELECT d.device_id, d.last_seen, (r ->> 'record')::BIGINT AS record,
                        r ->> 'reason' AS reason, r ->> 'deviceStatus' AS device_status,
                        r ->> 'remoteStatus' AS remote_status, r ->> 'refusal' AS refusal,
                        (r ->> 'sinceMs')::BIGINT AS since_ms
                   FROM devices d, json_array_elements(
                        coalesce(d.heartbeat_json::json -> 'openRecords', '[]'::json)) r
                  WHERE $2::TEXT IS NULL OR d.device_id = $2) o
           {}
          WHERE ($3::BIGINT IS NULL AND {STILL_OPEN}) OR o.record = $3
          ORDER BY o.last_seen DESC, o.since_ms DESC, o.device_id, o.record LIMIT $1",
        last_decision("'record'", "o.device_id", "o.record")
    );
    let rows = client.query(&sql, &[&limit, &device, &record]).map_err(db_error)?;
    Ok(rows
        .iter()
        .map(|r| OpenDeviceRecord {
            device_id: r.get("device_id"),
            record: r.get("record"),
            reason: r.get("reason"),
            device_status: r.get("device_status"),
            remote_status: r.get("remote_status"),
            refusal: r.get("refusal"),
            since_ms: r.get("since_ms"),
            last: decision_of(r),
        })
        .collect())
}

/// The fleet's devices (or the one named): the auditors' view of the devices (anchors beside
/// the last heartbeat), its times back in ms, with the refused anchors and the newest decision
/// on each device.
fn fleet(
    client: &mut impl GenericClient,
    device: Option<&str>,
    limit: i64,
) -> Result<Vec<FleetDevice>, StoreError> {
    let ms = |t: &str| format!("round(extract(epoch FROM {t}) * 1000)::BIGINT");
    let sql = format!(
        "SELECT v.device_id, {} AS last_seen, v.software_version, v.last_record, v.pending,
                v.parked, v.disagreements, v.free_disk_bytes, v.clock_offset_ms,
                v.newest_record AS newest_anchor, {} AS last_anchor,
                coalesce(x.refusals, 0) AS refusals, x.last_refusal, last.*
           FROM facematch_audit.devices v
           LEFT JOIN (SELECT device_id, count(*) AS refusals, max(refused_at) AS last_refusal
                        FROM anchor_refusals GROUP BY device_id) x USING (device_id)
           {}
          WHERE $2::TEXT IS NULL OR v.device_id = $2
          ORDER BY v.device_id LIMIT $1",
        ms("v.last_heartbeat"),
        ms("v.last_synced"),
        last_decision("'device'", "v.device_id", "0")
    );
    let rows = client.query(&sql, &[&limit, &device]).map_err(db_error)?;
    Ok(rows
        .iter()
        .map(|r| FleetDevice {
            device_id: r.get("device_id"),
            last_seen_ms: r.get("last_seen"),
            software_version: r.get("software_version"),
            last_record: r.get("last_record"),
            pending: r.get("pending"),
            parked: r.get("parked"),
            disagreements: r.get("disagreements"),
            free_disk_bytes: r.get("free_disk_bytes"),
            clock_offset_ms: r.get("clock_offset_ms"),
            newest_anchor: r.get("newest_anchor"),
            last_anchor_ms: r.get("last_anchor"),
            refusals: r.get("refusals"),
            last_refusal_ms: r.get("last_refusal"),
            last: decision_of(r),
        })
        .collect())
}

/// The MAC of a decision: its fields in a fixed order after the one before's hash.
#[allow(clippy::too_many_arguments)]
fn decision_hash(
    log_key: &LogKey,
    id: i64,
    decided_at: i64,
    staff: &StaffSession,
    item: &ItemRef,
    decision: &str,
    note: &str,
    prev: &str,
) -> String {
    log_key.mac(&[
        "facematch review decision v1",
        &id.to_string(),
        &decided_at.to_string(),
        &staff.staff.0.to_string(),
        &staff.name,
        item.kind.as_str(),
        &item.device_id,
        &item.item_id.to_string(),
        decision,
        &serde_json::to_string(note).unwrap_or_default(),
        prev,
    ])
}

/// Walks the decisions' chain; the number of decisions, or the first that does not follow.
pub(super) fn verify_decisions(
    client: &mut impl GenericClient,
    log_key: &LogKey,
) -> Result<i64, StoreError> {
    let sql = "SELECT id, decided_at, staff_id, staff_name, item_kind, device_id, item_id,
                      decision, note, prev_hash, row_hash
                 FROM review_decisions WHERE id > $1 ORDER BY id LIMIT $2";
    let what = ("the review decisions break at decision", "decision");
    walk_chain(client, sql, what, |r, prev| {
        let kind: String = r.get("item_kind");
        let staff = StaffSession {
            staff: StaffId(r.get("staff_id")),
            name: r.get("staff_name"),
            csrf: String::new(),
        };
        // A kind this build does not know follows nothing.
        Ok(ItemKind::parse(&kind).map(|kind| {
            let item = ItemRef { kind, device_id: r.get("device_id"), item_id: r.get("item_id") };
            let (decision, note): (String, String) = (r.get("decision"), r.get("note"));
            decision_hash(
                log_key,
                r.get("id"),
                r.get("decided_at"),
                &staff,
                &item,
                &decision,
                &note,
                prev,
            )
        }))
    })
}

impl ReviewStore for PgStore {
    fn derived_secret(&self, purpose: &[u8]) -> [u8; 32] {
        self.key.derive(purpose)
    }

    fn add_staff(&self, name: &str, password_hash: &str) -> Result<(), StoreError> {
        check_name("staff", name)?;
        let inserted = self.connection()?.execute(
            "INSERT INTO staff (name, password_hash, created_at) VALUES ($1, $2, $3)",
            &[&name, &password_hash, &now_ms()],
        );
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Exists(format!("staff {name:?}"))),
            Err(e) => Err(db_error(e)),
        }
    }

    fn remove_staff(&self, name: &str) -> Result<(), StoreError> {
        let mut conn = self.connection()?;
        let mut tx = conn.transaction().map_err(db_error)?;
        // The name is given up (as a revoked token's is); the account keeps its decisions.
        let row = tx
            .query_opt(
                "UPDATE staff SET removed_at = $2, name = name || ' (removed #' || id || ')'
                 WHERE name = $1 AND removed_at IS NULL RETURNING id",
                &[&name, &now_ms()],
            )
            .map_err(db_error)?
            .ok_or_else(|| StoreError::NotFound(format!("staff {name:?}")))?;
        let id: i64 = row.get(0);
        tx.execute("DELETE FROM staff_sessions WHERE staff_id = $1", &[&id]).map_err(db_error)?;
        tx.commit().map_err(db_error)
    }

    fn staff_for_signin(&self, name: &str) -> Result<Option<StaffSignin>, StoreError> {
        let row = self
            .connection()?
            .query_opt(
                "SELECT id, password_hash FROM staff WHERE name = $1 AND removed_at IS NULL",
                &[&name],
            )
            .map_err(db_error)?;
        Ok(row.map(|r| StaffSignin { id: StaffId(r.get(0)), password_hash: r.get(1) }))
    }

    fn note_signin(
        &self,
        name: &str,
        matched: bool,
        max_failures: i32,
        lock_ms: i64,
    ) -> Result<Option<StaffId>, StoreError> {
        // One statement on the database's clock: replicas signing in at once cannot both slip
        // under the bound, a lock is read and set on one clock, and a success cannot slip past
        // a lock set meanwhile.
        let row = self
            .connection()?
            .query_opt(
                "WITH now AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT AS ms)
                 UPDATE staff SET
                     failed_signins = CASE WHEN $2 OR failed_signins + 1 >= $3 THEN 0
                                           ELSE failed_signins + 1 END,
                     locked_until = CASE WHEN NOT $2 AND failed_signins + 1 >= $3
                                         THEN (SELECT ms FROM now) + $4 ELSE locked_until END
                  WHERE name = $1 AND removed_at IS NULL AND locked_until <= (SELECT ms FROM now)
                 RETURNING id",
                &[&name, &matched, &max_failures, &lock_ms],
            )
            .map_err(db_error)?;
        Ok(row.filter(|_| matched).map(|r| StaffId(r.get(0))))
    }

    fn open_session(
        &self,
        staff: StaffId,
        token: &str,
        csrf: &str,
        bounds: SessionBounds,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let mut conn = self.connection()?;
        let mut tx = conn.transaction().map_err(db_error)?;
        tx.execute(
            "DELETE FROM staff_sessions WHERE last_used < $1 OR created_at < $2",
            &[&(now - bounds.idle_ms), &(now - bounds.lifetime_ms)],
        )
        .map_err(db_error)?;
        tx.execute(
            "INSERT INTO staff_sessions (token_sha256, staff_id, csrf, created_at, last_used)
             VALUES ($1, $2, $3, $4, $4)",
            &[&digest(token), &staff.0, &csrf, &now],
        )
        .map_err(db_error)?;
        tx.execute(
            "DELETE FROM staff_sessions WHERE staff_id = $1 AND token_sha256 NOT IN
                 (SELECT token_sha256 FROM staff_sessions WHERE staff_id = $1
                  ORDER BY created_at DESC, token_sha256 LIMIT $2)",
            &[&staff.0, &bounds.per_staff.max(1)],
        )
        .map_err(db_error)?;
        tx.commit().map_err(db_error)
    }

    fn session(
        &self,
        token: &str,
        bounds: SessionBounds,
    ) -> Result<Option<StaffSession>, StoreError> {
        let now = now_ms();
        let row = self
            .connection()?
            .query_opt(
                "UPDATE staff_sessions s SET last_used = $2
                   FROM staff t
                  WHERE s.token_sha256 = $1 AND t.id = s.staff_id AND t.removed_at IS NULL
                    AND s.last_used >= $3 AND s.created_at >= $4
                 RETURNING s.staff_id, t.name, s.csrf",
                &[&digest(token), &now, &(now - bounds.idle_ms), &(now - bounds.lifetime_ms)],
            )
            .map_err(db_error)?;
        Ok(row.map(|r| StaffSession { staff: StaffId(r.get(0)), name: r.get(1), csrf: r.get(2) }))
    }

    fn close_session(&self, token: &str) -> Result<(), StoreError> {
        self.connection()?
            .execute("DELETE FROM staff_sessions WHERE token_sha256 = $1", &[&digest(token)])
            .map_err(db_error)?;
        Ok(())
    }

    fn open_records(&self, limit: i64) -> Result<Vec<OpenDeviceRecord>, StoreError> {
        open_records(&mut *self.connection()?, None, limit)
    }

    fn record_item(&self, device_id: &str, record: i64) -> Result<Option<RecordItem>, StoreError> {
        let mut conn = self.connection()?;
        let open = open_records(&mut *conn, Some((device_id, record)), 1)?.pop();
        let decided: bool = conn
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM review_decisions
                     WHERE item_kind = 'record' AND device_id = $1 AND item_id = $2)",
                &[&device_id, &record],
            )
            .map_err(db_error)?
            .get(0);
        Ok((open.is_some() || decided).then_some(RecordItem { open, decided }))
    }

    fn failed_attempts(&self, limit: i64) -> Result<Vec<DeviceAttemptView>, StoreError> {
        let sql = format!(
            "SELECT a.device_id, a.attempt_id, a.created_at, a.live, a.reason, a.challenge,
                    a.evidence_json, a.frame_media, last.*
               FROM device_attempts a {}
              WHERE NOT a.live AND {STILL_OPEN}
              ORDER BY a.received_at DESC, a.device_id, a.attempt_id DESC LIMIT $1",
            last_decision("'attempt'", "a.device_id", "a.attempt_id")
        );
        let rows = self.connection()?.query(&sql, &[&limit]).map_err(db_error)?;
        Ok(rows.iter().map(attempt_of).collect())
    }

    fn fleet(&self, limit: i64) -> Result<Vec<FleetDevice>, StoreError> {
        fleet(&mut *self.connection()?, None, limit)
    }

    fn fleet_device(&self, device_id: &str) -> Result<Option<FleetDevice>, StoreError> {
        Ok(fleet(&mut *self.connection()?, Some(device_id), 1)?.pop())
    }

    fn device_attempt(
        &self,
        device_id: &str,
        attempt_id: i64,
    ) -> Result<Option<DeviceAttemptView>, StoreError> {
        let sql = format!(
            "SELECT a.device_id, a.attempt_id, a.created_at, a.live, a.reason, a.challenge,
                    a.evidence_json, a.frame_media, last.*
               FROM device_attempts a {}
              WHERE a.device_id = $1 AND a.attempt_id = $2 AND NOT a.live",
            last_decision("'attempt'", "a.device_id", "a.attempt_id")
        );
        let row =
            self.connection()?.query_opt(&sql, &[&device_id, &attempt_id]).map_err(db_error)?;
        Ok(row.as_ref().map(attempt_of))
    }

    fn hub_record(
        &self,
        device_id: &str,
        record: i64,
    ) -> Result<Option<HubRecordView>, StoreError> {
        let row = self
            .connection()?
            .query_opt(
                "SELECT v.id, v.status, v.front_percent, v.back_percent, v.src_media,
                        v.front_media, v.back_media
                   FROM verifications v
                  WHERE v.source_device = $1 AND v.source_record = $2
                  ORDER BY v.id DESC LIMIT 1",
                &[&device_id, &record],
            )
            .map_err(db_error)?;
        Ok(row.map(|r| {
            let pictures = [("selfie", 4), ("front", 5), ("back", 6)]
                .into_iter()
                .filter_map(|(role, col)| r.get::<_, Option<String>>(col).map(|m| (role, m)))
                .collect();
            HubRecordView {
                id: r.get(0),
                status: r.get(1),
                front_percent: r.get(2),
                back_percent: r.get(3),
                pictures,
            }
        }))
    }

    fn decisions(&self, item: &ItemRef) -> Result<Vec<DecisionKept>, StoreError> {
        let rows = self
            .connection()?
            .query(
                "SELECT decision, staff_name, decided_at, note FROM review_decisions
                  WHERE item_kind = $1 AND device_id = $2 AND item_id = $3 ORDER BY id DESC",
                &[&item.kind.as_str(), &item.device_id, &item.item_id],
            )
            .map_err(db_error)?;
        Ok(rows.iter().filter_map(decision_of).collect())
    }

    fn decide(
        &self,
        session: &StaffSession,
        item: &ItemRef,
        decision: Decision,
        note: &str,
    ) -> Result<i64, StoreError> {
        let mut conn = self.connection()?;
        let mut tx = conn.transaction().map_err(db_error)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DECISIONS_LOCK]).map_err(db_error)?;
        let (id, prev): (i64, String) = tx
            .query_opt("SELECT id, row_hash FROM review_decisions ORDER BY id DESC LIMIT 1", &[])
            .map_err(db_error)?
            .map_or((1, GENESIS.to_string()), |r| (r.get::<_, i64>(0) + 1, r.get(1)));
        let now = now_ms();
        let hash =
            decision_hash(&self.log_key, id, now, session, item, decision.as_str(), note, &prev);
        tx.execute(
            "INSERT INTO review_decisions (id, decided_at, staff_id, staff_name, item_kind,
                 device_id, item_id, decision, note, prev_hash, row_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &id,
                &now,
                &session.staff.0,
                &session.name,
                &item.kind.as_str(),
                &item.device_id,
                &item.item_id,
                &decision.as_str(),
                &note,
                &prev,
                &hash,
            ],
        )
        .map_err(db_error)?;
        tx.commit().map_err(db_error)?;
        Ok(id)
    }

    fn view_picture(
        &self,
        staff: StaffId,
        media_id: &str,
        item: &ItemRef,
    ) -> Result<Option<PictureShown>, StoreError> {
        let mut conn = self.connection()?;
        let mut tx = conn.transaction().map_err(db_error)?;
        // Only a picture of the item named: a device's failed attempt's frame, or a picture of
        // the hub's record of a device's record.
        let belongs = match item.kind {
            ItemKind::Attempt => {
                "SELECT EXISTS (SELECT 1 FROM device_attempts
                     WHERE frame_media = $1 AND device_id = $2 AND attempt_id = $3 AND NOT live)"
            }
            ItemKind::Record => {
                "SELECT EXISTS (SELECT 1 FROM verifications
                     WHERE $1 IN (src_media, front_media, back_media)
                       AND source_device = $2 AND source_record = $3)
                    AND (EXISTS (SELECT 1 FROM devices d, json_array_elements(
                                     coalesce(d.heartbeat_json::json -> 'openRecords', '[]'::json)) r
                                  WHERE d.device_id = $2 AND (r ->> 'record')::BIGINT = $3)
                         OR EXISTS (SELECT 1 FROM review_decisions
                                     WHERE item_kind = 'record' AND device_id = $2 AND item_id = $3))"
            }
            ItemKind::Device => return Ok(None),
        };
        let ok: bool = tx
            .query_one(belongs, &[&media_id, &item.device_id, &item.item_id])
            .map_err(db_error)?
            .get(0);
        if !ok {
            return Ok(None);
        }
        let row = tx
            .query_opt("SELECT content_type, sealed FROM media WHERE id = $1", &[&media_id])
            .map_err(db_error)?;
        let Some((content_type, Some(sealed))) =
            row.map(|r| (r.get::<_, String>(0), r.get::<_, Option<Vec<u8>>>(1)))
        else {
            return Ok(None);
        };
        let bytes = self.key.open(&sealed, &media_context(&MediaId(media_id.to_string())))?;
        tx.execute(
            "INSERT INTO picture_views (staff_id, media_id, item, viewed_at) VALUES ($1, $2, $3, $4)",
            &[&staff.0, &media_id, &item.label(), &now_ms()],
        )
        .map_err(db_error)?;
        // Given out only once the view is recorded.
        tx.commit().map_err(db_error)?;
        Ok(Some(PictureShown { content_type, bytes }))
    }
}
