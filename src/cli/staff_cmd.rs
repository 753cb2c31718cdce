//! `facematch staff add|remove`: the review page's accounts, on a hub's PostgreSQL.

use std::io::{BufRead, IsTerminal, Read};

use anyhow::{bail, Context, Result};

use super::args::{ApiStoreArgs, StaffAction, StaffArgs};
use super::store_choice::ChosenStore;
use crate::review::password::{check_new, Passwords};
use crate::store::review::ReviewStore;

/// Runs `staff add` or `staff remove`.
///
/// # Errors
/// The store is not a hub's PostgreSQL or failed, the name is taken or invalid, or the
/// password is refused.
pub fn run(args: StaffArgs) -> Result<()> {
    match args.action {
        StaffAction::Add { store, name } => {
            let hub = open(&store)?;
            let password = read_password(&name)?;
            check_new(&password).map_err(anyhow::Error::msg)?;
            let passwords = Passwords::new(hub.derived_secret(Passwords::PURPOSE))?;
            hub.add_staff(&name, &passwords.hash(&password)?)?;
            eprintln!("staff {name:?} added");
        }
        StaffAction::Remove { store, name } => {
            open(&store)?.remove_staff(&name)?;
            eprintln!("staff {name:?} removed; their sessions have ended");
        }
    }
    Ok(())
}

/// The hub's store: staff accounts live only in a hub's PostgreSQL.
fn open(args: &ApiStoreArgs) -> Result<crate::store::postgres::PgStore> {
    match ChosenStore::open(args)? {
        ChosenStore::Hub(hub) => Ok(hub),
        ChosenStore::Local(_) => bail!(
            "staff accounts and the review page need a hub on PostgreSQL: --store postgres://..."
        ),
    }
}

/// The new password: typed twice on a terminal without echo, or the first line of stdin.
fn read_password(name: &str) -> Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {name}: "))?;
        let again = rpassword::prompt_password("The same again: ")?;
        if first != again {
            bail!("the two passwords differ; nothing was changed");
        }
        return Ok(first);
    }
    let mut line = String::new();
    // At most one password's length (and its line end) is read.
    let most = crate::review::password::MAX_BYTES as u64 + 2;
    std::io::stdin()
        .lock()
        .take(most)
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
