//! `facematch token`, `log`, `log verify` and `purge`: the operator's view of the store
//! (verifications and liveness attempts).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::args::{LogAction, LogArgs, PurgeArgs, RemoteArgs, StoreArgs, TokenAction, TokenArgs};
use super::open_store;
use super::stdout::{self, outln};
use super::store_choice::{store_tls, ChosenStore};
use super::sync_cmd::remote_settings;
use crate::store::postgres::{HubQuery, HubReader};
use crate::store::{AttemptRecord, SyncState, VerificationRecord};
use crate::sync::RemoteError;

/// `token add|revoke`.
///
/// # Errors
/// The store cannot be opened, the name is taken, or no live token has it.
pub fn token(args: TokenArgs) -> Result<()> {
    match args.action {
        TokenAction::Add { store, name } => {
            let store = ChosenStore::open(&store)?;
            let token = store.add_token(&name)?;
            eprintln!("token {name:?} made; it is shown only now. Send it as: Authorization: Basic <token>");
            outln!("{token}");
            // Shown only now: a token nobody could read (all of it) is revoked at once, so that
            // no live token is left that nobody holds.
            if !stdout::delivered() {
                store.revoke_token(&name).with_context(|| {
                    format!("token {name:?} could not be shown and could not be revoked: revoke it with `facematch token revoke`")
                })?;
                bail!("token {name:?} could not be shown (stdout failed), so it was revoked: make another");
            }
        }
        TokenAction::Revoke { store, name } => {
            ChosenStore::open(&store)?.revoke_token(&name)?;
            eprintln!("token {name:?} revoked");
        }
    }
    Ok(())
}

/// `log` and `log verify`; returns the exit code (1 when the chain is broken).
pub fn log(args: LogArgs) -> i32 {
    let result = match args.action {
        Some(LogAction::Verify { store, remote }) => verify(&store, remote.remote_given()),
        Some(LogAction::Reseal { store, reason, understood }) => {
            reseal(&store, &reason, understood).map(|()| 0)
        }
        Some(LogAction::Upgrade { store, understood }) => upgrade(&store, understood).map(|()| 0),
        Some(LogAction::VerifyHub { store, key, store_ca }) => {
            verify_hub(&store, key, store_ca.as_deref())
        }
        None => match (&args.db, &args.store) {
            (Some(db), _) => {
                list(&StoreArgs { db: db.clone(), key: args.key.clone() }, args.json, args.limit)
                    .map(|()| 0)
            }
            (None, Some(url)) => list_hub(url, &args).map(|()| 0),
            (None, None) => Err(anyhow::anyhow!("--db FILE or --store URL is required")),
        },
    };
    result.unwrap_or_else(|e| {
        eprintln!("facematch: {e:#}");
        2
    })
}

/// `log --store`: a hub's records through its auditors' views, newest first.
fn list_hub(url: &str, args: &LogArgs) -> Result<()> {
    let since_ms = args.since.as_deref().map(since).transpose()?;
    let tls = store_tls(args.store_ca.as_deref())?;
    let mut reader = HubReader::open(url, tls).context("opening the hub's log to read it")?;
    let query = HubQuery { device: args.device.clone(), since_ms, limit: args.limit as i64 };
    let records = reader.records(&query)?;
    if args.json {
        for r in &records {
            outln!("{}", serde_json::to_string(r)?);
        }
        return Ok(());
    }
    outln!(
        "{:>6}  {:<20}  {:<24}  {:>6}  {:<8}  {:<18}  {:>6}",
        "id",
        "time (UTC)",
        "device",
        "record",
        "type",
        "status",
        "front"
    );
    for r in &records {
        outln!(
            "{:>6}  {:<20}  {:<24}  {:>6}  {:<8}  {:<18}  {:>6}",
            r.id,
            utc(r.created_at),
            printable(r.device_id.as_deref().unwrap_or("-")),
            r.device_record.map_or("-".to_string(), |n| n.to_string()),
            printable(&r.doc_type),
            printable(&r.status),
            r.front_percent.map_or("-".to_string(), |p| format!("{p:.1}"))
        );
    }
    outln!("{} shown", records.len());
    Ok(())
}

/// `log verify-hub`: a hub's chain recomputed with its key, read-only; 1 when it breaks.
fn verify_hub(url: &str, key: Option<PathBuf>, ca: Option<&Path>) -> Result<i32> {
    let key = super::store_choice::hub_key(key)?;
    let mut reader =
        HubReader::open(url, store_tls(ca)?).context("opening the hub's log to read it")?;
    match reader.verify_chain(&key) {
        Ok(chains) => {
            outln!(
                "intact: {} record(s) in the hub's chain, {} review decision(s) in theirs",
                chains.records,
                chains.decisions
            );
            Ok(0)
        }
        Err(crate::store::StoreError::Tampered(problem)) => {
            outln!("hash chain broken: {problem}");
            Ok(1)
        }
        Err(e) => Err(e).context("reading the hub's log"),
    }
}

/// `--since`: an RFC 3339 time, or a duration before now; ms since the epoch.
fn since(text: &str) -> Result<i64> {
    let at = match humantime::parse_rfc3339_weak(text) {
        Ok(at) => at,
        Err(_) => {
            let ago = humantime::parse_duration(text).with_context(|| {
                format!("--since {text:?}: expected 2026-12-07T09:00:00Z or a duration (24h)")
            })?;
            std::time::SystemTime::now()
                .checked_sub(ago)
                .with_context(|| format!("--since {text:?}: before the epoch"))?
        }
    };
    let ms = at.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    Ok(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// Opens the store for reading only (`log`, `log verify` never write).
fn open_for_reading(args: &StoreArgs) -> Result<crate::store::Store> {
    crate::store::Store::open_read_only(&args.db, args.key.as_deref())
        .with_context(|| format!("opening the store {} to read it", args.db.display()))
}

/// Text a remote or a file supplied, safe for a terminal: control characters (escape
/// sequences among them) are shown as `\u{..}` instead of being obeyed.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() })
        .collect()
}

fn list(args: &StoreArgs, json: bool, limit: usize) -> Result<()> {
    let store = open_for_reading(args)?;
    let records = store.list_verifications(limit)?;
    let attempts = store.list_attempts(limit)?;
    if json {
        for line in json_lines(&records, &attempts, limit)? {
            outln!("{line}");
        }
        return Ok(());
    }
    outln!(
        "{:>6}  {:<20}  {:<8}  {:>5}  {:<18}  {:>6}  {:>6}  {:<8}",
        "id",
        "time (UTC)",
        "type",
        "thr",
        "status",
        "front",
        "back",
        "sync"
    );
    let pct = |p: Option<f64>| p.map_or("-".to_string(), |p| format!("{p:.1}"));
    for r in &records {
        outln!(
            "{:>6}  {:<20}  {:<8}  {:>5.1}  {:<18}  {:>6}  {:>6}  {:<8}",
            r.id,
            utc(r.created_at),
            r.doc_type.as_str(),
            r.threshold,
            r.status.as_str(),
            pct(r.front_percent),
            pct(r.back_percent),
            r.sync_state.map_or("-", SyncState::as_str)
        );
    }
    let c = store.sync_counts()?;
    outln!(
        "{} shown; sync: pending {}, synced {}, parked {}, disagreement {}",
        records.len(),
        c.pending,
        c.synced,
        c.parked,
        c.disagreement
    );
    for r in records.iter().filter(|r| r.sync_state == Some(SyncState::Parked)) {
        outln!("parked {}: {}", r.id, printable(r.sync_note.as_deref().unwrap_or("?")));
    }
    if !attempts.is_empty() {
        print_attempts(&attempts);
    }
    Ok(())
}

/// The newest `limit` records of both logs as JSON lines, newest first: verifications as
/// they are stored (`"record": "verification"`), liveness attempts with their evidence as
/// an object (`"record": "liveness"`, the shape `liveness check` prints).
fn json_lines(
    records: &[VerificationRecord],
    attempts: &[AttemptRecord],
    limit: usize,
) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    for r in records {
        let mut value = serde_json::to_value(r)?;
        value["record"] = "verification".into();
        lines.push((r.created_at, value));
    }
    for a in attempts {
        let mut value = serde_json::to_value(a)?;
        if let Some(object) = value.as_object_mut() {
            object.remove("evidence_json");
        }
        value["record"] = "liveness".into();
        value["evidence"] = serde_json::from_str(&a.evidence_json)
            .with_context(|| format!("liveness attempt {}'s evidence", a.id))?;
        lines.push((a.created_at, value));
    }
    lines.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    Ok(lines.into_iter().take(limit).map(|(_, v)| v.to_string()).collect())
}

/// The liveness attempts' table, after the verifications'.
fn print_attempts(attempts: &[AttemptRecord]) {
    outln!(
        "\nliveness attempts (record #: the verification that used its selfie)\n\
         {:>6}  {:<20}  {:<6}  {:<16}  {:<17}  {:>8}  {:>11}  {:<8}",
        "id",
        "time (UTC)",
        "live",
        "reason",
        "challenge",
        "parallax",
        "face/frames",
        "record #"
    );
    for a in attempts {
        let evidence: serde_json::Value =
            serde_json::from_str(&a.evidence_json).unwrap_or_default();
        outln!(
            "{:>6}  {:<20}  {:<6}  {:<16}  {:<17}  {:>8}  {:>11}  {:<8}",
            a.id,
            utc(a.created_at),
            if a.live { "yes" } else { "no" },
            printable(a.reason.as_deref().unwrap_or("-")),
            printable(&a.challenge),
            evidence["parallax"].as_f64().map_or("-".into(), |p| format!("{p:.3}")),
            format!("{}/{}", evidence["faceFrames"], evidence["frames"]),
            a.verification.map_or("-".into(), |v| v.to_string())
        );
    }
}

/// `2026-11-25T23:59:01Z` for milliseconds since the epoch (UTC, whole seconds).
fn utc(ms: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(at).to_string()
}

fn verify(store_args: &StoreArgs, remote: Option<&RemoteArgs>) -> Result<i32> {
    let store = match crate::store::Store::open_read_only(&store_args.db, store_args.key.as_deref())
    {
        Ok(store) => store,
        Err(crate::store::StoreError::Tampered(problem)) => {
            outln!("hash chain broken: {problem}");
            return Ok(1);
        }
        Err(e) => {
            return Err(e).with_context(|| format!("opening the store {}", store_args.db.display()))
        }
    };
    let report = match store.verify_chain() {
        Ok(report) => report,
        // A table the schema version promises is gone: dropped, not lost by accident.
        Err(crate::store::StoreError::Sql(e)) if e.to_string().contains("no such table") => {
            outln!("hash chain broken: a table of the log is missing ({e})");
            return Ok(1);
        }
        Err(e) => return Err(e).context("reading the log"),
    };
    for note in store.reseals()? {
        let at = note["at"].as_i64().map_or("?".into(), utc);
        let what = printable(note["what"].as_str().unwrap_or("log reseal"));
        let reason = printable(note["reason"].as_str().unwrap_or("?"));
        outln!(
            "note: `{what}` at {at} accepted the log as found ({reason}): records deleted or \
             rewritten before then cannot be seen here, only against a remote's anchor"
        );
    }
    let mut code = match (&report.problem, report.first_broken) {
        (None, _) => {
            outln!(
                "hash chain intact: {} record(s), {} liveness attempt(s)",
                report.rows,
                report.attempts
            );
            0
        }
        (Some(problem), Some(id)) => {
            outln!("hash chain broken at record {id}: {problem}");
            1
        }
        (Some(problem), None) => {
            outln!("hash chain broken: {problem}");
            1
        }
    };
    if let Some(remote) = remote {
        code = code.max(compare_with_remote(&store, remote)?);
    }
    Ok(code)
}

/// `log upgrade`: an old database's chain sealed as found, once the operator says so.
fn upgrade(store_args: &StoreArgs, understood: bool) -> Result<()> {
    if !understood {
        bail!(
            "an upgrade of a database from before the keyed chain seals its records as they are \
             now; if it is a genuine old database, add \
             --i-understand-the-old-chain-is-taken-as-found"
        );
    }
    crate::store::Store::open_upgrading_old(&store_args.db, store_args.key.as_deref())
        .with_context(|| format!("upgrading {}", store_args.db.display()))?;
    outln!("upgraded {}", store_args.db.display());
    Ok(())
}

/// `log reseal`: new counters, once the operator has said they understand what it costs.
fn reseal(store_args: &StoreArgs, reason: &str, understood: bool) -> Result<()> {
    if !understood {
        bail!(
            "a reseal hides every deletion made before it from `log verify`; if that is what you \
             mean, add --i-understand-earlier-deletions-become-invisible"
        );
    }
    if reason.trim().is_empty() {
        bail!("--reason must say why the counters are restarted");
    }
    let store = open_store(store_args)?;
    for line in store.reseal(reason)? {
        outln!("resealed {line}");
    }
    Ok(())
}

/// Compares the local chain with every anchor the remote keeps for this device: each record
/// the remote holds must still be here, with the hash it had when it was synced.
fn compare_with_remote(store: &crate::store::Store, remote: &RemoteArgs) -> Result<i32> {
    let settings = remote_settings(remote)?;
    let client = settings.connect(std::time::Duration::from_secs(30))?;
    let url = &settings.url;
    let mut code = 0;
    // The device id as the records themselves hold it (covered by their hashes), not only as
    // the settings table says: an id changed there would ask the remote about another device.
    let device = match store.chain_device_id()? {
        Some(recorded) if recorded != store.device_id() => {
            outln!(
                "this log's records name device {recorded}, its settings {}: the device id was \
                 changed",
                store.device_id()
            );
            code = 1;
            recorded
        }
        Some(recorded) => recorded,
        None => store.device_id().to_string(),
    };
    let first = match client.anchors(&device, 0) {
        Ok(answer) => answer,
        Err(RemoteError::NotTheContract { reason }) => {
            outln!(
                "remote {url} keeps no anchors (it is not a facematch server?): nothing could be \
                 compared ({})",
                printable(&reason)
            );
            return Ok(2.max(code));
        }
        Err(e) => return Err(anyhow::anyhow!("asking {url} for its anchors: {e}")),
    };
    let Some(newest) = first.anchor else {
        let counts = store.sync_counts()?;
        let synced = counts.synced + counts.disagreement;
        if synced > 0 {
            outln!(
                "remote {url}: keeps no anchor for device {device}, though {synced} record(s) \
                 were synced: the device id or the remote changed, or its anchors were lost"
            );
            return Ok(1);
        }
        outln!("remote {url}: no anchor for device {device} yet (nothing synced)");
        return Ok(code);
    };
    // Every kept anchor, page by page (a remote keeping only the newest gives just that one).
    let mut page = if first.kept.is_empty() { vec![newest.clone()] } else { first.kept };
    let mut compared = 0;
    while let Some(last) = page.last().map(|a| a.record_id) {
        for anchor in &page {
            match store.row_hash(anchor.record_id)? {
                None => {
                    outln!(
                        "remote {url}: record {} was synced, and is no longer in this log: \
                         records were deleted",
                        anchor.record_id
                    );
                    return Ok(1);
                }
                Some(hash) if hash != anchor.hash => {
                    outln!(
                        "remote {url}: record {} differs from what was synced: the log was \
                         rewritten",
                        anchor.record_id
                    );
                    return Ok(1);
                }
                Some(_) => compared += 1,
            }
        }
        if last >= newest.record_id {
            break;
        }
        page = client
            .anchors(&device, last)
            .map_err(|e| anyhow::anyhow!("asking {url} for its anchors: {e}"))?
            .kept;
        if page.first().is_some_and(|a| a.record_id <= last) {
            bail!("remote {url}: its pages of anchors do not move forward; nothing more compared");
        }
    }
    outln!(
        "remote {url}: records up to {} match its anchors ({compared} compared)",
        newest.record_id
    );
    Ok(code)
}

/// `purge --older-than-days N`.
///
/// # Errors
/// The store cannot be opened or written.
pub fn purge(args: PurgeArgs) -> Result<()> {
    if args.older_than_days == 0 && std::env::var_os("FACEMATCH_ALLOW_PURGE_ALL").is_none() {
        bail!("--older-than-days 0 would purge every picture; set FACEMATCH_ALLOW_PURGE_ALL=1 to mean it");
    }
    let n =
        open_store(&args.store)?.purge_older_than(args.older_than_days, args.include_unsynced)?;
    outln!("purged {n} picture(s)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn formats_utc_times() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_795_651_444_347), "2026-11-26T00:04:04Z");
    }
}
