//! The operator PIN: stored only as a salted sha256 in the kiosk's config file
//! (`operator_pin = "sha256:SALT:HASH"`, made by `facematch operator-pin`), and
//! checked with a lock-out after repeated wrong entries.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Wrong entries before the lock-out.
pub const MAX_TRIES: u32 = 3;
/// How long entry is refused after [`MAX_TRIES`] wrong PINs.
pub const LOCKOUT: Duration = Duration::from_secs(60);

/// The config line value for `pin` with a fresh random salt.
pub fn hash_pin(pin: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random source is available");
    let salt = hex::encode(salt);
    format!("sha256:{salt}:{}", digest(&salt, pin))
}

fn digest(salt: &str, pin: &str) -> String {
    hex::encode(Sha256::digest(format!("facematch operator pin {salt} {pin}").as_bytes()))
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

/// Checks PINs against the stored hash.
#[derive(Debug, Clone)]
pub struct PinGate {
    stored: Option<String>,
    wrong: u32,
    locked_until: Option<Instant>,
}

impl PinGate {
    /// A gate for the configured hash (None: operator screen disabled).
    pub fn new(stored: Option<String>) -> PinGate {
        PinGate { stored, wrong: 0, locked_until: None }
    }

    /// Checks `pin` at time `now`.
    ///
    /// # Errors
    /// A [`PinRefusal`] saying why it was not accepted.
    pub fn check_at(&mut self, pin: &str, now: Instant) -> Result<(), PinRefusal> {
        let stored = self.stored.as_deref().ok_or(PinRefusal::NotConfigured)?;
        if let Some(until) = self.locked_until {
            if now < until {
                return Err(PinRefusal::Locked(until - now));
            }
            self.locked_until = None;
            self.wrong = 0;
        }
        let mut parts = stored.splitn(3, ':');
        let ok = match (parts.next(), parts.next(), parts.next()) {
            (Some("sha256"), Some(salt), Some(hash)) => digest(salt, pin) == hash,
            _ => false,
        };
        if ok {
            self.wrong = 0;
            return Ok(());
        }
        self.wrong += 1;
        if self.wrong >= MAX_TRIES {
            self.locked_until = Some(now + LOCKOUT);
            return Err(PinRefusal::Locked(LOCKOUT));
        }
        Err(PinRefusal::Wrong(MAX_TRIES - self.wrong))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_wrong_and_locked_out() {
        let stored = hash_pin("2468");
        assert!(stored.starts_with("sha256:") && !stored.contains("2468"));
        assert_ne!(hash_pin("2468"), stored, "salted");
        let mut gate = PinGate::new(Some(stored));
        let t = Instant::now();
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
}
