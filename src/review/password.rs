//! Staff passwords: Argon2id, keyed with a secret derived from the hub's key, so a copy of the
//! database alone does not let anyone try passwords offline.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// The shortest password a staff account may have.
pub const MIN_CHARS: usize = 12;
/// The longest (bytes): a longer one is refused before any hashing.
pub const MAX_BYTES: usize = 1024;

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("the password could not be hashed: {0}")]
pub struct PasswordError(String);

/// Hashes and checks staff passwords with the hub's secret for them.
#[derive(Clone)]
pub struct Passwords {
    secret: [u8; 32],
    /// A hash of nothing anyone knows: an unknown name is checked against it, so that a
    /// sign-in takes as long whether the name exists or not.
    decoy: String,
}

impl std::fmt::Debug for Passwords {
    /// Never shows the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passwords(..)")
    }
}

impl Passwords {
    /// What the hub's key's secret for passwords is derived for.
    pub const PURPOSE: &'static [u8] = b"facematch staff password v1";

    /// Passwords keyed with `secret`.
    ///
    /// # Errors
    /// The system's random source failed (the decoy's salt).
    pub fn new(secret: [u8; 32]) -> Result<Passwords, PasswordError> {
        let mut passwords = Passwords { secret, decoy: String::new() };
        passwords.decoy = passwords.hash("facematch decoy: no account has this")?;
        Ok(passwords)
    }

    fn argon2(&self) -> Result<Argon2<'_>, PasswordError> {
        // The crate's defaults (19 MiB, 2 passes, 1 lane): OWASP's minimum for Argon2id.
        Argon2::new_with_secret(
            &self.secret,
            Algorithm::Argon2id,
            Version::V0x13,
            Params::default(),
        )
        .map_err(|e| PasswordError(e.to_string()))
    }

    /// The stored form of `password`, with a fresh random salt.
    ///
    /// # Errors
    /// The random source or the hasher failed.
    pub fn hash(&self, password: &str) -> Result<String, PasswordError> {
        self.argon2()?
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| PasswordError(e.to_string()))
    }

    /// Whether `password` is the one `stored` was made from (`None`: an unknown name, checked
    /// against the decoy and never accepted).
    pub fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        if password.len() > MAX_BYTES {
            return false;
        }
        let Ok(hasher) = self.argon2() else { return false };
        let phc = stored.unwrap_or(&self.decoy);
        let matches = PasswordHash::new(phc)
            .is_ok_and(|hash| hasher.verify_password(password.as_bytes(), &hash).is_ok());
        matches && stored.is_some()
    }
}

/// Whether `password` may be a new staff password.
///
/// # Errors
/// What is wrong with it, in words.
pub fn check_new(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_CHARS || password.len() > MAX_BYTES {
        return Err(format!("a staff password has {MIN_CHARS} to {MAX_BYTES} characters"));
    }
    if password.trim() != password {
        return Err("a staff password does not start or end with a space".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_opens_its_own_hash_under_its_own_secret_only() {
        let passwords = Passwords::new([7; 32]).unwrap();
        let stored = passwords.hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(passwords.verify("correct horse battery", Some(&stored)));
        assert!(!passwords.verify("correct horse batterY", Some(&stored)));
        // The same hash under another hub's key opens nothing.
        assert!(!Passwords::new([8; 32]).unwrap().verify("correct horse battery", Some(&stored)));
        // An unknown name never signs in, whatever is typed.
        assert!(!passwords.verify("facematch decoy: no account has this", None));
        assert!(!passwords.verify(&"x".repeat(MAX_BYTES + 1), Some(&stored)));
        assert!(check_new("short").is_err());
        assert!(check_new(" twelve chars ok").is_err());
        assert!(check_new("twelve chars ok").is_ok());
    }
}
