//! Binds the device key to its database. The database records a key check value (a
//! constant sealed under the key); a key that cannot open it is refused at start-up,
//! and a missing key is never replaced by a new one while the database holds data
//! sealed under the old. A lost or swapped key is then one clear message at start,
//! not pictures that fail one by one and a sync queue stuck for good.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use super::crypto::DeviceKey;
use super::media::{context as media_context, MediaId};
use super::verifications::embeddings_context;
use super::StoreError;

/// What the check value seals, and the context it is bound to.
const PLAIN: &[u8] = b"facematch device key check";
const CONTEXT: &str = "facematch key check v1";

/// The device key for this database: loaded (or, for a database with nothing sealed yet,
/// created) and checked against the value the database records, which is written on
/// first use.
///
/// # Errors
/// [`StoreError::Key`] saying what happened and what to do; nothing is changed then.
pub(super) fn bind(conn: &Connection, db: &Path, key_path: &Path) -> Result<DeviceKey, StoreError> {
    let refuse = |reason: String| StoreError::Key { path: key_path.to_path_buf(), reason };
    let recorded: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'key_check'", [], |r| r.get(0))
        .optional()?;
    let sealed_sample = sealed_sample(conn)?;
    if !key_path.exists() && (recorded.is_some() || sealed_sample.is_some()) {
        return Err(refuse(format!(
            "is missing, and {} holds data sealed under it. Restore the key file from the \
             device's backup; a new key would make every stored picture and embedding \
             unreadable, so none is made. Nothing was changed.",
            db.display()
        )));
    }
    let key = DeviceKey::load_or_create(key_path)?;
    let wrong_key = || {
        refuse(format!(
            "does not open {} (another device's key, or the file was replaced). Put back the \
             key file this database was made with. Nothing was changed.",
            db.display()
        ))
    };
    if !opens(&key, recorded.as_deref(), sealed_sample)? {
        return Err(wrong_key());
    }
    if recorded.is_none() {
        let check = hex::encode(key.seal(PLAIN, CONTEXT)?);
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('key_check', ?1)",
            params![check],
        )?;
    }
    Ok(key)
}

/// Whether `key` is this database's: it opens the recorded check value, or, for a database
/// from before the check, what the database sealed.
fn opens(
    key: &DeviceKey,
    recorded: Option<&str>,
    sealed_sample: Option<(Vec<u8>, String)>,
) -> Result<bool, StoreError> {
    Ok(match (recorded, sealed_sample) {
        (Some(check), _) => hex::decode(check.trim())
            .ok()
            .is_some_and(|sealed| key.open(&sealed, CONTEXT).ok().as_deref() == Some(PLAIN)),
        (None, Some((sealed, context))) => key.open(&sealed, &context).is_ok(),
        (None, None) => true,
    })
}

/// The existing device key for this database, checked as [`bind`] checks it, for a reader:
/// no key is made and nothing is recorded. A missing key is reported as tampering (a reader
/// cannot tell a lost key from a removed one, and must not hide either).
///
/// # Errors
/// [`StoreError::Tampered`] for a missing key, [`StoreError::Key`] for a wrong or unsafe one.
pub(super) fn existing(
    conn: &Connection,
    db: &Path,
    key_path: &Path,
) -> Result<DeviceKey, StoreError> {
    if !key_path.exists() {
        return Err(StoreError::Tampered(format!(
            "the device key {} is missing: without it nothing in {} can be checked (restore it \
             from the device's backup)",
            key_path.display(),
            db.display()
        )));
    }
    let key = DeviceKey::load(key_path)?;
    let wrong_key = || StoreError::Key {
        path: key_path.to_path_buf(),
        reason: format!(
            "does not open {} (another device's key, or the file was replaced)",
            db.display()
        ),
    };
    let recorded: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'key_check'", [], |r| r.get(0))
        .optional()?;
    if !opens(&key, recorded.as_deref(), sealed_sample(conn)?)? {
        return Err(wrong_key());
    }
    Ok(key)
}

/// One sealed item of the database and the context it was sealed with, if there is one.
fn sealed_sample(conn: &Connection) -> Result<Option<(Vec<u8>, String)>, StoreError> {
    let media: Option<(String, Vec<u8>)> = conn
        .query_row("SELECT id, sealed FROM media WHERE sealed IS NOT NULL LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some((id, sealed)) = media {
        return Ok(Some((sealed, media_context(&MediaId(id)))));
    }
    let embeddings: Option<(String, Vec<u8>)> = conn
        .query_row(
            "SELECT row_hash, embeddings_sealed FROM verifications
             WHERE embeddings_sealed IS NOT NULL LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(embeddings.map(|(hash, sealed)| (sealed, embeddings_context(&hash))))
}

#[cfg(test)]
mod tests {
    use crate::store::{Store, StoreError};

    #[test]
    fn a_lost_or_swapped_key_is_refused_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("log.db");
        let key = dir.path().join("log.db.key");
        {
            let store = Store::open(&db, None).unwrap();
            store.insert_media(None, "a.jpg", "image/jpeg", b"picture").unwrap();
        }
        let original = std::fs::read(&key).unwrap();

        std::fs::remove_file(&key).unwrap();
        let e = Store::open(&db, None).err().expect("a missing key is refused");
        assert!(matches!(e, StoreError::Key { .. }), "{e}");
        assert!(e.to_string().contains("is missing") && e.to_string().contains("Restore"), "{e}");
        assert!(!key.exists(), "no new key was made");

        std::fs::write(&key, [7u8; 32]).unwrap();
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        let e = Store::open(&db, None).err().expect("another key is refused");
        assert!(e.to_string().contains("does not open"), "{e}");

        std::fs::write(&key, &original).unwrap();
        let store = Store::open(&db, None).unwrap();
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn a_database_from_before_the_check_is_checked_against_what_it_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("log.db");
        {
            let store = Store::open(&db, None).unwrap();
            store.insert_media(None, "a.jpg", "image/jpeg", b"picture").unwrap();
        }
        // As an older release left it: sealed data, no check value.
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute("DELETE FROM meta WHERE key = 'key_check'", []).unwrap();
        let key = dir.path().join("log.db.key");
        let original = std::fs::read(&key).unwrap();
        std::fs::write(&key, [9u8; 32]).unwrap();
        assert!(Store::open(&db, None).is_err(), "a key that cannot open the old data");
        std::fs::write(&key, &original).unwrap();
        Store::open(&db, None).unwrap();
        let recorded: String = conn
            .query_row("SELECT value FROM meta WHERE key = 'key_check'", [], |r| r.get(0))
            .unwrap();
        assert!(!recorded.is_empty(), "the check is recorded once the key is proven");
    }
}
