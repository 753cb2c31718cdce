//! The operator PIN: stored only as an Argon2id hash keyed with a secret derived from the
//! device key (made by `facematch operator-pin --db`), checked in constant time, with lock-outs
//! that grow after repeated wrong entries and survive a restart (kept in a small state file).
//!
//! A PIN has few possibilities (10^6 for six digits): no hash alone protects it against someone
//! who can read the config file. The key is the device key's, which lives beside the database,
//! not in the config: a copied config alone cannot be tried offline. Hashes made without the
//! key (`$argon2id$...`) still open the screen, with a warning to make a keyed one; the old
//! fast `sha256:` form is refused.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// Wrong entries before a lock-out.
pub const MAX_TRIES: u32 = 3;
/// The first lock-out; each one after doubles it, up to [`MAX_LOCKOUT`].
pub const LOCKOUT: Duration = Duration::from_secs(60);
/// The longest lock-out.
pub const MAX_LOCKOUT: Duration = Duration::from_secs(3600);
/// The fewest digits a new PIN may have.
pub const MIN_DIGITS: usize = 6;
/// The most digits a PIN may have (the keypad's length).
pub const MAX_DIGITS: usize = 8;
/// What marks a hash keyed with the device's secret in the config.
const KEYED: &str = "keyed:";

/// The secret PIN hashes are keyed with, derived from the device key: never in the config.
#[derive(Clone)]
pub struct PinSecret([u8; 32]);

impl PinSecret {
    /// What the device key's secret for PIN hashes is derived for (`Store::derived_secret`).
    pub const PURPOSE: &'static str = "facematch operator pin v1";

    /// A secret from its 32 bytes.
    pub fn new(bytes: [u8; 32]) -> PinSecret {
        PinSecret(bytes)
    }

    fn argon2(&self) -> Result<Argon2<'_>, PinHashError> {
        Argon2::new_with_secret(&self.0, Algorithm::Argon2id, Version::V0x13, Params::default())
            .map_err(|e| PinHashError(e.to_string()))
    }
}

impl std::fmt::Debug for PinSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinSecret(..)")
    }
}

/// The staff PIN as the kiosk checks it: the stored hash and the device's secret.
#[derive(Debug, Clone)]
pub struct StaffPin {
    stored: String,
    secret: Option<PinSecret>,
}

impl StaffPin {
    /// The configured hash, checked with `secret` (None: the kiosk has no device key, and only
    /// a hash made without one can be checked).
    pub fn new(stored: String, secret: Option<PinSecret>) -> StaffPin {
        if stored.starts_with("$argon2") {
            log::warn!(
                "kiosk: the staff PIN's hash is not keyed with the device key: anyone with a copy \
                 of the config can try every PIN offline; make a new one with `facematch \
                 operator-pin --db ...`"
            );
        }
        StaffPin { stored, secret }
    }

    /// Whether `pin` is this PIN.
    fn matches(&self, pin: &str) -> bool {
        let (hasher, phc) = match (self.stored.strip_prefix(KEYED), &self.secret) {
            (Some(phc), Some(secret)) => match secret.argon2() {
                Ok(hasher) => (hasher, phc),
                Err(_) => return false,
            },
            (Some(_), None) => {
                log::warn!("kiosk: the staff PIN is keyed with the device key, and this kiosk has none (--db)");
                return false;
            }
            (None, _) if self.stored.starts_with("$argon2") => {
                (Argon2::default(), self.stored.as_str())
            }
            (None, _) => return false,
        };
        PasswordHash::new(phc)
            .is_ok_and(|hash| hasher.verify_password(pin.as_bytes(), &hash).is_ok())
    }
}

/// Why a PIN hash could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the PIN could not be hashed: {0}")]
pub struct PinHashError(String);

/// Whether `pin` may be a new staff PIN: [`MIN_DIGITS`] to [`MAX_DIGITS`] digits.
///
/// # Errors
/// What is wrong with it, in words.
pub fn check_new_pin(pin: &str) -> Result<(), String> {
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&pin.len()) || !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("the PIN must be {MIN_DIGITS} to {MAX_DIGITS} digits"));
    }
    Ok(())
}

/// The config line value for `pin`: Argon2id keyed with `secret`, with a fresh random salt.
///
/// # Errors
/// [`PinHashError`] when the system's random source or the hasher fails.
pub fn hash_pin(pin: &str, secret: &PinSecret) -> Result<String, PinHashError> {
    secret
        .argon2()?
        .hash_password(pin.as_bytes())
        .map(|h| format!("{KEYED}{h}"))
        .map_err(|e| PinHashError(e.to_string()))
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
    /// Lock-outs since the last right PIN: each doubles the next one.
    #[serde(default)]
    lockouts: u32,
}

impl Attempts {
    /// The lock-out after `lockouts` earlier ones: [`LOCKOUT`] doubled each time, at most
    /// [`MAX_LOCKOUT`].
    fn next_lockout(&self) -> Duration {
        LOCKOUT.saturating_mul(1u32 << self.lockouts.min(16)).min(MAX_LOCKOUT)
    }
}

/// Checks PINs against the stored hash.
#[derive(Debug, Clone)]
pub struct PinGate {
    stored: Option<StaffPin>,
    attempts: Attempts,
    state_file: Option<PathBuf>,
}

impl PinGate {
    /// A gate for the configured hash (None: operator screen disabled) whose lock-out lasts
    /// only while the kiosk runs.
    pub fn new(stored: Option<StaffPin>) -> PinGate {
        PinGate { stored, attempts: Attempts::default(), state_file: None }
    }

    /// A gate whose wrong entries and lock-out are kept in `state_file`, so that restarting
    /// the kiosk does not reset them. A damaged file counts as a lock-out (it is rewritten
    /// at the next entry): a tampered file must not give free guesses.
    pub fn with_state(stored: Option<StaffPin>, state_file: &Path) -> PinGate {
        let attempts = match std::fs::read_to_string(state_file) {
            Ok(text) => toml::from_str(&text).unwrap_or_else(|e| {
                log::warn!(
                    "kiosk: {} is damaged ({e}); staff entry is locked for now",
                    state_file.display()
                );
                Attempts {
                    wrong: MAX_TRIES,
                    locked_until_ms: Some(ms(SystemTime::now() + LOCKOUT)),
                    lockouts: 1,
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
        let stored = self.stored.as_ref().ok_or(PinRefusal::NotConfigured)?;
        if let Some(until) = self.attempts.locked_until_ms {
            let left = until.saturating_sub(ms(now));
            if left > 0 {
                return Err(PinRefusal::Locked(Duration::from_millis(left)));
            }
            // The lock-out is over; the count of lock-outs stays until a right PIN.
            self.attempts = Attempts { lockouts: self.attempts.lockouts, ..Attempts::default() };
        }
        let result = if stored.matches(pin) {
            self.attempts = Attempts::default();
            Ok(())
        } else {
            self.attempts.wrong += 1;
            if self.attempts.wrong >= MAX_TRIES {
                let lockout = self.attempts.next_lockout();
                self.attempts.locked_until_ms = Some(ms(now + lockout));
                self.attempts.lockouts += 1;
                Err(PinRefusal::Locked(lockout))
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

    fn secret(byte: u8) -> PinSecret {
        PinSecret::new([byte; 32])
    }

    fn staff(pin: &str) -> StaffPin {
        StaffPin::new(hash_pin(pin, &secret(7)).unwrap(), Some(secret(7)))
    }

    #[test]
    fn keyed_hashes_open_only_with_the_devices_secret() {
        let stored = hash_pin("246813", &secret(7)).unwrap();
        assert!(stored.starts_with("keyed:$argon2id$") && !stored.contains("246813"), "{stored}");
        assert_ne!(hash_pin("246813", &secret(7)).unwrap(), stored, "salted");
        assert!(StaffPin::new(stored.clone(), Some(secret(7))).matches("246813"));
        assert!(!StaffPin::new(stored.clone(), Some(secret(7))).matches("246814"));
        // A copied config on another device (another key), or with no key at all: never opens.
        assert!(!StaffPin::new(stored.clone(), Some(secret(8))).matches("246813"));
        assert!(!StaffPin::new(stored, None).matches("246813"));
        // An unkeyed Argon2id hash still opens (with a warning); the sha256 form never does.
        let unkeyed = Argon2::default().hash_password(b"246813").unwrap().to_string();
        assert!(StaffPin::new(unkeyed, None).matches("246813"));
        let salt = "00112233445566778899aabbccddeeff";
        assert!(!StaffPin::new(format!("sha256:{salt}:00"), Some(secret(7))).matches("246813"));
        assert!(!StaffPin::new("$argon2id$garbage".into(), None).matches("246813"));
    }

    #[test]
    fn new_pins_have_six_to_eight_digits() {
        for good in ["123456", "12345678"] {
            assert_eq!(check_new_pin(good), Ok(()), "{good}");
        }
        for bad in ["2468", "12345", "123456789", "12345a", ""] {
            assert!(check_new_pin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn right_wrong_and_locked_out_for_longer_each_time() {
        let mut gate = PinGate::new(Some(staff("246813")));
        let t = SystemTime::now();
        assert_eq!(gate.check_at("246813", t), Ok(()));
        assert_eq!(gate.check_at("111111", t), Err(PinRefusal::Wrong(2)));
        assert_eq!(gate.check_at("222222", t), Err(PinRefusal::Wrong(1)));
        assert_eq!(gate.check_at("333333", t), Err(PinRefusal::Locked(LOCKOUT)));
        // Even the right PIN is refused during the lock-out.
        assert!(matches!(
            gate.check_at("246813", t + Duration::from_secs(10)),
            Err(PinRefusal::Locked(_))
        ));
        // Three more wrong ones after it: twice as long, then four times.
        let mut at = t + LOCKOUT + Duration::from_secs(1);
        for expected in [LOCKOUT * 2, LOCKOUT * 4] {
            let _ = gate.check_at("1", at);
            let _ = gate.check_at("2", at);
            assert_eq!(gate.check_at("3", at), Err(PinRefusal::Locked(expected)));
            at += expected + Duration::from_secs(1);
        }
        // The right PIN after a lock-out opens, and starts the doubling again.
        assert_eq!(gate.check_at("246813", at), Ok(()));
        let _ = gate.check_at("1", at);
        let _ = gate.check_at("2", at);
        assert_eq!(gate.check_at("3", at), Err(PinRefusal::Locked(LOCKOUT)));
        assert_eq!(PinGate::new(None).check_at("246813", t), Err(PinRefusal::NotConfigured));
        assert_eq!(Attempts { lockouts: 30, ..Attempts::default() }.next_lockout(), MAX_LOCKOUT);
    }

    #[test]
    fn the_lock_out_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("pin-lock.toml");
        let t = SystemTime::now();
        let mut gate = PinGate::with_state(Some(staff("246813")), &state);
        for wrong in ["1", "2", "3"] {
            let _ = gate.check_at(wrong, t);
        }
        // A restarted kiosk: still locked, even for the right PIN.
        let mut restarted = PinGate::with_state(Some(staff("246813")), &state);
        assert!(matches!(restarted.check_at("246813", t), Err(PinRefusal::Locked(_))));
        // Wrong entries after the lock-out count towards a longer one, across restarts too.
        let after = t + LOCKOUT + Duration::from_secs(1);
        let _ = restarted.check_at("9", after);
        let _ = restarted.check_at("8", after);
        let mut again = PinGate::with_state(Some(staff("246813")), &state);
        assert_eq!(again.check_at("7", after), Err(PinRefusal::Locked(LOCKOUT * 2)));
        // A damaged state file locks rather than resets.
        std::fs::write(&state, "wrong = \"zero\"").unwrap();
        let mut damaged = PinGate::with_state(Some(staff("246813")), &state);
        assert!(matches!(
            damaged.check_at("246813", SystemTime::now()),
            Err(PinRefusal::Locked(_))
        ));
    }
}
