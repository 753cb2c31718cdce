//! `facematch token`, `log`, `log verify` and `purge`: the operator's view of the store.

use anyhow::{bail, Context, Result};

use super::args::{LogAction, LogArgs, PurgeArgs, StoreArgs, TokenAction, TokenArgs};
use super::open_store;

/// `token add|revoke`.
///
/// # Errors
/// The store cannot be opened, the name is taken, or no live token has it.
pub fn token(args: TokenArgs) -> Result<()> {
    match args.action {
        TokenAction::Add { store, name } => {
            let token = open_store(&store)?.add_token(&name)?;
            eprintln!("token {name:?} made; it is shown only now. Send it as: Authorization: Basic <token>");
            println!("{token}");
        }
        TokenAction::Revoke { store, name } => {
            open_store(&store)?.revoke_token(&name)?;
            eprintln!("token {name:?} revoked");
        }
    }
    Ok(())
}

/// `log` and `log verify`; returns the exit code (1 when the chain is broken).
pub fn log(args: LogArgs) -> i32 {
    let result = match args.action {
        Some(LogAction::Verify { store }) => verify(&store),
        None => match &args.db {
            Some(db) => {
                list(&StoreArgs { db: db.clone(), key: args.key.clone() }, args.json, args.limit)
                    .map(|()| 0)
            }
            None => Err(anyhow::anyhow!("--db FILE is required")),
        },
    };
    result.unwrap_or_else(|e| {
        eprintln!("facematch: {e:#}");
        2
    })
}

fn list(store: &StoreArgs, json: bool, limit: usize) -> Result<()> {
    let records = open_store(store)?.list_verifications(limit)?;
    if json {
        for r in &records {
            println!("{}", serde_json::to_string(r)?);
        }
        return Ok(());
    }
    println!(
        "{:>6}  {:<13}  {:<8}  {:>5}  {:<18}  {:>6}  {:>6}  {:<8}",
        "id", "time (UTC ms)", "type", "thr", "status", "front", "back", "sync"
    );
    let pct = |p: Option<f64>| p.map_or("-".to_string(), |p| format!("{p:.1}"));
    for r in &records {
        println!(
            "{:>6}  {:<13}  {:<8}  {:>5.1}  {:<18}  {:>6}  {:>6}  {:<8}",
            r.id,
            r.created_at,
            r.doc_type,
            r.threshold,
            r.status,
            pct(r.front_percent),
            pct(r.back_percent),
            r.sync_state.as_deref().unwrap_or("-")
        );
    }
    eprintln!("{} record(s) shown", records.len());
    Ok(())
}

fn verify(store: &StoreArgs) -> Result<i32> {
    let report = open_store(store)?.verify_chain().context("reading the log")?;
    match report.first_broken {
        None => {
            println!("hash chain intact: {} record(s)", report.rows);
            Ok(0)
        }
        Some(id) => {
            println!("hash chain broken at record {id}: it was altered, or a record before it was removed");
            Ok(1)
        }
    }
}

/// `purge --older-than-days N`.
///
/// # Errors
/// The store cannot be opened or written.
pub fn purge(args: PurgeArgs) -> Result<()> {
    if args.older_than_days == 0 && std::env::var_os("FACEMATCH_ALLOW_PURGE_ALL").is_none() {
        bail!("--older-than-days 0 would purge every picture; set FACEMATCH_ALLOW_PURGE_ALL=1 to mean it");
    }
    let n = open_store(&args.store)?.purge_older_than(args.older_than_days)?;
    println!("purged {n} picture(s)");
    Ok(())
}
