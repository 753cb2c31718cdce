//! The operator PIN: stored only as an Argon2id hash (a PHC string, made by `facematch
//! operator-pin`) in the kiosk's config file, checked in constant time, with a lock-out
//! after repeated wrong entries that survives a restart (kept in a small state file).
//!
//! A 4-8 digit PIN has few possibilities, so the hash alone cannot protect it against
//! someone who can read the file: the file is installed 0640 root:facematch, and Argon2id
//! makes each guess cost about a tenth of a second on a Pi instead of a microsecond.
//! Hashes from before (`sha256:SALT:HASH`) are still accepted, compared in constant time,
//! with a warning to make a new one.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Wrong entries before the lock-out.
pub const MAX_TRIES: u32 = 3;
/// How long entry is refused after [`MAX_TRIES`] wrong PINs.
pub const LOCKOUT: Duration = Duration::from_secs(60);

/// Why a PIN hash could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the PIN could not be hashed: {0}")]
pub struct PinHashError(String);

/// The config line value for `pin`: Argon2id with a fresh random salt, as a PHC string.
///
/// # Errors
/// [`PinHashError`] when the system's random source or the hasher fails.
pub fn hash_pin(pin: &str) -> Result<String, PinHashError> {
    Argon2::default()
        .hash_password(pin.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PinHashError(e.to_string()))
}

/// Whether `pin` matches `stored` (an Argon2 PHC string, or a legacy `sha256:` value).
fn matches(stored: &str, pin: &str) -> bool {
    if stored.starts_with("$argon2") {
        return PasswordHash::new(stored)
            .is_ok_and(|hash| Argon2::default().verify_password(pin.as_bytes(), &hash).is_ok());
    }
    let mut parts = stored.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("sha256"), Some(salt), Some(hash)) => {
            log::warn!("kiosk: the staff PIN uses the old sha256 hash; make a new one with `facematch operator-pin`");
            let got = hex::encode(Sha256::digest(format!("facematch operator pin {salt} {pin}")));
            got.as_bytes().ct_eq(hash.as_bytes()).into()
        }
        _ => false,
    }
}

/// Why a PIN was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinRefusal {
    /// Wrong PIN; this many tries are left before the lock-out.
    Wrong(u32),
    /// Too many wrong PINs: try again after this long.
    Locked(Duration),
    /// No PIN is configured: the operator screen is disabled.
    NotConfigured,
}

/// Wrong entries and the lock-out, as kept across restarts.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct Attempts {
    /// Wrong entries since the last right one or lock-out.
    wrong: u32,
    /// Entry is refused until then (ms since the epoch).
    locked_until_ms: Option<u64>,
}

/// Checks PINs against the stored hash.
#[derive(Debug, Clone)]
pub struct PinGate {
    stored: Option<String>,
    attempts: Attempts,
    state_file: Option<PathBuf>,
}

impl PinGate {
    /// A gate for the configured hash (None: operator screen disabled) whose lock-out lasts
    /// only while the kiosk runs.
    pub fn new(stored: Option<String>) -> PinGate {
        PinGate { stored, attempts: Attempts::default(), state_file: None }
    }

    /// A gate whose wrong entries and lock-out are kept in `state_file`, so that restarting
    /// the kiosk does not reset them. A damaged file counts as a lock-out (it is rewritten
    /// at the next entry): a tampered file must not give free guesses.
    pub fn with_state(stored: Option<String>, state_file: &Path) -> PinGate {
        let attempts = match std::fs::read_to_string(state_file) {
            Ok(text) => toml::from_str(&text).unwrap_or_else(|e| {
                log::warn!(
                    "kiosk: {} is damaged ({e}); staff entry is locked for now",
                    state_file.display()
                );
                Attempts {
                    wrong: MAX_TRIES,
                    locked_until_ms: Some(ms(SystemTime::now() + LOCKOUT)),
                }
            }),
            Err(_) => Attempts::default(),
        };
        PinGate { stored, attempts, state_file: Some(state_file.to_path_buf()) }
    }

    /// Checks `pin` at time `now`.
    ///
    /// # Errors
    /// A [`PinRefusal`] saying why it was not accepted.
    pub fn check_at(&mut self, pin: &str, now: SystemTime) -> Result<(), PinRefusal> {
        let stored = self.stored.as_deref().ok_or(PinRefusal::NotConfigured)?;
        if let Some(until) = self.attempts.locked_until_ms {
            let left = until.saturating_sub(ms(now));
            if left > 0 {
                return Err(PinRefusal::Locked(Duration::from_millis(left)));
            }
            self.attempts = Attempts::default();
        }
        let result = if matches(stored, pin) {
            self.attempts = Attempts::default();
            Ok(())
        } else {
            self.attempts.wrong += 1;
            if self.attempts.wrong >= MAX_TRIES {
                self.attempts.locked_until_ms = Some(ms(now + LOCKOUT));
                Err(PinRefusal::Locked(LOCKOUT))
            } else {
                Err(PinRefusal::Wrong(MAX_TRIES - self.attempts.wrong))
            }
        };
        self.save();
        result
    }

    /// Writes the attempts to the state file, replacing it in one step.
    fn save(&self) {
        let Some(path) = &self.state_file else { return };
        let written = toml::to_string(&self.attempts)
            .map_err(std::io::Error::other)
            .and_then(|text| crate::atomic_file::replace(path, text.as_bytes()));
        if let Err(e) = written {
            log::warn!("kiosk: the PIN lock-out could not be saved to {}: {e}", path.display());
        }
    }
}

fn ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_wrong_and_locked_out() {
        let stored = hash_pin("2468").unwrap();
        assert!(stored.starts_with("$argon2id$") && !stored.contains("2468"), "{stored}");
        assert_ne!(hash_pin("2468").unwrap(), stored, "salted");
        let mut gate = PinGate::new(Some(stored));
        let t = SystemTime::now();
        assert_eq!(gate.check_at("2468", t), Ok(()));
        assert_eq!(gate.check_at("1111", t), Err(PinRefusal::Wrong(2)));
        assert_eq!(gate.check_at("2222", t), Err(PinRefusal::Wrong(1)));
        assert_eq!(gate.check_at("3333", t), Err(PinRefusal::Locked(LOCKOUT)));
        // Even the right PIN is refused during the lock-out, and accepted after it.
        assert!(matches!(
            gate.check_at("2468", t + Duration::from_secs(10)),
            Err(PinRefusal::Locked(_))
        ));
        assert_eq!(gate.check_at("2468", t + LOCKOUT + Duration::from_secs(1)), Ok(()));
        assert_eq!(PinGate::new(None).check_at("2468", t), Err(PinRefusal::NotConfigured));
    }

    #[test]
    fn the_lock_out_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("pin-lock.toml");
        let stored = hash_pin("2468").unwrap();
        let t = SystemTime::now();
        let mut gate = PinGate::with_state(Some(stored.clone()), &state);
        for wrong in ["1", "2", "3"] {
            let _ = gate.check_at(wrong, t);
        }
        // A restarted kiosk: still locked, even for the right PIN.
        let mut restarted = PinGate::with_state(Some(stored.clone()), &state);
        assert!(matches!(restarted.check_at("2468", t), Err(PinRefusal::Locked(_))));
        assert_eq!(restarted.check_at("2468", t + LOCKOUT + Duration::from_secs(1)), Ok(()));
        // Wrong entries below the lock-out are kept too.
        let _ = restarted.check_at("9", t + LOCKOUT * 2);
        let mut again = PinGate::with_state(Some(stored.clone()), &state);
        assert_eq!(again.check_at("8", t + LOCKOUT * 2), Err(PinRefusal::Wrong(1)));
        // A damaged state file locks rather than resets.
        std::fs::write(&state, "wrong = \"zero\"").unwrap();
        let mut damaged = PinGate::with_state(Some(stored), &state);
        assert!(matches!(damaged.check_at("2468", SystemTime::now()), Err(PinRefusal::Locked(_))));
    }

    #[test]
    fn old_sha256_hashes_still_open_the_screen() {
        let salt = "00112233445566778899aabbccddeeff";
        let hash = hex::encode(Sha256::digest(format!("facematch operator pin {salt} 2468")));
        let stored = format!("sha256:{salt}:{hash}");
        assert!(matches(&stored, "2468"));
        assert!(!matches(&stored, "2469"));
        assert!(!matches("$argon2id$garbage", "2468"));
    }
}
