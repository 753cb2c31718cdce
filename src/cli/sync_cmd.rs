//! `facematch sync`: the outbox → the remote Face Match API, once or continuously.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use super::args::{RemoteArgs, SyncArgs};
use super::{open_store, print_json};
use crate::sync::{sync_once, HttpRemote, Policy, SyncError};

/// The config file's keys.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    remote: Option<String>,
    token: Option<String>,
    purge_after_sync: Option<bool>,
}

/// Exit code when the remote stayed unreachable and items are still pending.
const EXIT_PENDING: i32 = 3;

/// Runs the subcommand; returns the exit code.
pub fn run(args: SyncArgs) -> i32 {
    match sync(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("facematch sync: {e:#}");
            2
        }
    }
}

fn read_config(path: &Path) -> Result<FileConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The remote as `sync` and `log verify --remote` are told about it.
pub(super) struct RemoteSettings {
    /// Base URL.
    pub(super) url: String,
    /// API token.
    pub(super) token: String,
    /// `purge_after_sync` from the config file (sync only).
    purge_after_sync: bool,
}

/// The remote's URL and token from the command line, the environment or the config file
/// (in that order), the config file read once.
///
/// # Errors
/// An unreadable config file, or no URL or no token anywhere.
pub(super) fn remote_settings(args: &RemoteArgs) -> Result<RemoteSettings> {
    let file = args.config.as_deref().map(read_config).transpose()?.unwrap_or_default();
    let url = args
        .remote
        .clone()
        .or(file.remote)
        .context("no remote: give --remote URL or `remote` in --config")?;
    let token = args
        .token
        .clone()
        .or(file.token)
        .context("no token: give FACEMATCH_REMOTE_TOKEN, --token or `token` in --config")?;
    Ok(RemoteSettings { url, token, purge_after_sync: file.purge_after_sync.unwrap_or(false) })
}

fn sync(args: &SyncArgs) -> Result<i32> {
    let RemoteSettings { url: remote_url, token, purge_after_sync } =
        remote_settings(&args.remote)?;
    let purge = args.purge_after_sync || purge_after_sync;
    let store = open_store(&args.store)?;
    store.check_writable().with_context(|| {
        format!("{}: sync records what the remote answers", args.store.db.display())
    })?;
    if let Some(ids) = &args.requeue_parked {
        let n = store.requeue_parked((!ids.is_empty()).then_some(ids.as_slice()))?;
        eprintln!("sync: {n} parked record(s) back in the queue");
    }
    let remote = HttpRemote::new(&remote_url, &token, Duration::from_secs(60))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let policy = Policy {
        max_attempts: args.max_attempts.max(1),
        base_delay: Duration::from_millis(args.base_delay_ms),
        max_delay: Duration::from_millis(args.max_delay_ms.max(args.base_delay_ms)),
    };
    let mut idle_backoff = Duration::from_secs(args.poll_secs.max(1));
    loop {
        let report = match sync_once(&store, &remote, policy) {
            Ok(report) => report,
            Err(SyncError::Unauthorized(reason)) => {
                anyhow::bail!("the remote {remote_url} refused the token ({reason}); fix the token, nothing was changed")
            }
            Err(e) => return Err(e.into()),
        };
        if purge && report.synced > 0 {
            let n = store.purge_synced()?;
            eprintln!("sync: purged the pictures of synced records ({n})");
        }
        if !args.watch {
            print_json(&report);
            let counts = store.sync_counts()?;
            eprintln!(
                "sync: pending {}, synced {}, parked {}, disagreement {}",
                counts.pending, counts.synced, counts.parked, counts.disagreement
            );
            return Ok(if report.stopped.is_some() { EXIT_PENDING } else { 0 });
        }
        if report.synced + report.parked > 0 || report.stopped.is_some() {
            println!("{}", serde_json::to_string(&report)?);
        }
        // Offline: wait longer each time (up to the longest backoff); online: poll.
        idle_backoff = if report.stopped.is_some() {
            (idle_backoff * 2).min(policy.max_delay)
        } else {
            Duration::from_secs(args.poll_secs.max(1))
        };
        std::thread::sleep(idle_backoff);
    }
}
