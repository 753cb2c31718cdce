//! `facematch sync`: the outbox → the remote Face Match API, once or continuously.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use super::args::{RemoteArgs, SyncArgs};
use super::stdout::outln;
use super::{open_store, print_json};
use crate::sync::attempts::send_attempts;
use crate::sync::heartbeat::Heartbeats;
use crate::sync::{sync_once, HttpRemote, Policy, SyncError, Transport};
use crate::tls::{ClientTrust, Pin};

/// The config file's keys.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    remote: Option<String>,
    token: Option<String>,
    purge_after_sync: Option<bool>,
    remote_ca: Option<PathBuf>,
    remote_pins: Option<Vec<String>>,
    allow_plain_http: Option<bool>,
}

/// Exit code when the remote stayed unreachable and items are still pending.
const EXIT_PENDING: i32 = 3;

/// How often `--watch` looks for changed settings after a refused certificate.
const SETTINGS_POLL: Duration = Duration::from_secs(5);

/// How long `--watch` waits, after a refused certificate, before it asks the remote again even
/// though the settings did not change (the remote's certificate may have been renewed, or this
/// device's clock set right).
const CERTIFICATE_RETRY: Duration = Duration::from_secs(15 * 60);

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
#[derive(Debug, PartialEq)]
pub(super) struct RemoteSettings {
    /// Base URL.
    pub(super) url: String,
    /// API token.
    pub(super) token: String,
    /// Whom to trust, and whether plain http may leave this machine.
    pub(super) transport: Transport,
    /// `purge_after_sync` from the config file (sync only).
    purge_after_sync: bool,
}

impl RemoteSettings {
    /// A client for this remote whose every call ends within `timeout`. Says on stderr, each
    /// time, that plain http leaves this machine when that was allowed.
    ///
    /// # Errors
    /// A bad or plain-http URL, an unusable CA file or trust store.
    pub(super) fn connect(&self, timeout: Duration) -> Result<HttpRemote> {
        let remote = HttpRemote::new(&self.url, &self.token, timeout, &self.transport)?;
        if is_plain_http(&self.url) && !remote_is_local(&self.url) {
            eprintln!(
                "facematch: WARNING: {} is plain http: the token and the pictures cross the \
                 network in the clear (--allow-plain-http)",
                self.url
            );
        }
        Ok(remote)
    }
}

/// Whether `url` is plain http, however it is written (`HTTP://`, spaces around it).
fn is_plain_http(url: &str) -> bool {
    reqwest::Url::parse(url.trim()).is_ok_and(|u| u.scheme() == "http")
}

/// Whether `url`'s host is this machine.
fn remote_is_local(url: &str) -> bool {
    reqwest::Url::parse(url.trim())
        .ok()
        .and_then(|u| u.host_str().map(crate::tls::stays_on_this_machine))
        .unwrap_or(false)
}

/// The remote's settings from the command line, the environment or the config file (in that
/// order), the config file read once. Pins from the command line replace the file's.
///
/// # Errors
/// An unreadable config file, a malformed pin, or no URL or no token anywhere.
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
    let pins = if args.remote_pin.is_empty() {
        let written = file.remote_pins.unwrap_or_default();
        written
            .iter()
            .map(|p| p.parse::<Pin>().map_err(|e| anyhow::anyhow!("remote_pins: {e}")))
            .collect::<Result<Vec<_>>>()?
    } else {
        args.remote_pin.clone()
    };
    let trust = ClientTrust { ca_file: args.remote_ca.clone().or(file.remote_ca), pins };
    Ok(RemoteSettings {
        url,
        token,
        transport: Transport {
            trust,
            allow_plain_http: args.allow_plain_http || file.allow_plain_http.unwrap_or(false),
        },
        purge_after_sync: file.purge_after_sync.unwrap_or(false),
    })
}

/// A device clock further than this from the hub's is said on every heartbeat (the offset
/// includes the network's delay).
const CLOCK_WARNING_MS: u64 = 120_000;

fn sync(args: &SyncArgs) -> Result<i32> {
    let mut settings = remote_settings(&args.remote)?;
    let purge = args.purge_after_sync || settings.purge_after_sync;
    let store = open_store(&args.store)?;
    store.check_writable().with_context(|| {
        format!("{}: sync records what the remote answers", args.store.db.display())
    })?;
    if let Some(ids) = &args.requeue_parked {
        let n = store.requeue_parked((!ids.is_empty()).then_some(ids.as_slice()))?;
        eprintln!("sync: {n} parked record(s) back in the queue");
    }
    let call_timeout = Duration::from_secs(args.call_timeout.max(1));
    let mut remote = settings.connect(call_timeout)?;
    let policy = Policy {
        max_attempts: args.max_attempts.max(1),
        base_delay: Duration::from_millis(args.base_delay_ms),
        max_delay: Duration::from_millis(args.max_delay_ms.max(args.base_delay_ms)),
    };
    let mut idle_backoff = Duration::from_secs(args.poll_secs.max(1));
    let mut heartbeats = Heartbeats::default();
    loop {
        let mut report = match sync_once(&store, &remote, policy) {
            Ok(report) => report,
            Err(SyncError::Unauthorized(reason)) => {
                anyhow::bail!(
                    "the remote {} refused the token ({reason}); fix the token, nothing was changed",
                    settings.url
                )
            }
            Err(SyncError::Certificate(problem)) if args.watch => {
                // Waiting does not cure a certificate: ask no more until the settings change.
                eprintln!(
                    "facematch sync: {problem}; retrying will not help: waiting for the settings \
                     (CA file, pins, URL) to change, or {} minutes",
                    CERTIFICATE_RETRY.as_secs() / 60
                );
                settings = wait_for_new_settings(args, &settings)?;
                remote = settings.connect(call_timeout)?;
                // Another remote, perhaps: asked afresh whether it is a hub.
                heartbeats = Heartbeats::default();
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if report.unanchored > 0 && store.remote_anchor()?.is_some() {
            // A hub that kept this device's anchors before and now keeps none: another party
            // may have moved them (they are refused as rewinds), or the hub changed.
            eprintln!(
                "facematch sync: WARNING: the remote kept no anchor for {} record(s) though it \
                 kept this device's before: check `facematch log verify --remote` and the \
                 remote's log",
                report.unanchored
            );
        }
        if report.stopped.is_none() {
            match heartbeats.send_if_due(&store, &args.store.db, &remote) {
                Ok(Some(answer)) => {
                    if answer.clock_offset_ms.unsigned_abs() > CLOCK_WARNING_MS {
                        eprintln!(
                            "facematch sync: WARNING: this device's clock is {} s from the hub's: \
                             set its time (NTP), the log's times are the device's",
                            answer.clock_offset_ms / 1000
                        )
                    }
                    if answer.takes_attempts {
                        match send_attempts(&store, &remote, answer.last_attempt) {
                            Ok(sent) => report.liveness_attempts_sent = sent,
                            Err(e) => eprintln!(
                                "facematch sync: the liveness attempts were not all sent: {e}"
                            ),
                        }
                    }
                }
                Ok(None) => {}
                Err(e) => eprintln!("facematch sync: the heartbeat was not sent: {e}"),
            }
        }
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
            outln!("{}", serde_json::to_string(&report)?);
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

/// What the settings are made of on disk: the config file and the CA file, read whole.
fn settings_on_disk(args: &SyncArgs, settings: &RemoteSettings) -> Vec<Option<Vec<u8>>> {
    let ca = settings.transport.trust.ca_file.as_deref();
    [args.remote.config.as_deref(), ca]
        .iter()
        .map(|p| p.and_then(|p| std::fs::read(p).ok()))
        .collect()
}

/// Waits until the config file or the CA file changes, or [`CERTIFICATE_RETRY`] has passed,
/// then reads the settings again.
///
/// # Errors
/// When the changed config cannot be read.
fn wait_for_new_settings(args: &SyncArgs, settings: &RemoteSettings) -> Result<RemoteSettings> {
    let before = settings_on_disk(args, settings);
    let since = std::time::Instant::now();
    loop {
        std::thread::sleep(SETTINGS_POLL);
        if settings_on_disk(args, settings) != before {
            eprintln!("facematch sync: the settings changed; trying the remote again");
            return remote_settings(&args.remote);
        }
        if since.elapsed() >= CERTIFICATE_RETRY {
            eprintln!(
                "facematch sync: trying the remote again (its certificate may have been renewed)"
            );
            return remote_settings(&args.remote);
        }
    }
}
