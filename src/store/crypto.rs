//! The device key and authenticated encryption of biometric data at rest
//! (ChaCha20-Poly1305, RustCrypto). Sealed bytes are `nonce (12) || ciphertext+tag`,
//! bound to a context string so one record's ciphertext cannot be passed off as another's.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use super::StoreError;

/// The 256-bit key that seals this device's biometric data.
pub struct DeviceKey(Key);

impl DeviceKey {
    /// Reads an existing key file; never makes one.
    ///
    /// # Errors
    /// [`StoreError::Key`] when the file is missing or unreadable, has the wrong length, or is
    /// readable by group/others.
    pub fn load(path: &Path) -> Result<DeviceKey, StoreError> {
        let fail = |reason: String| StoreError::Key { path: path.to_path_buf(), reason };
        let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(fail(format!(
                "mode {mode:o} lets others read it; run: chmod 600 {}",
                path.display()
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        if bytes.len() != 32 {
            return Err(fail(format!("{} bytes, expected 32", bytes.len())));
        }
        Ok(DeviceKey(*Key::from_slice(&bytes)))
    }

    /// A key given as 64 hex digits (a hub's `FACEMATCH_HUB_KEY`), `source` naming where it
    /// came from in errors.
    ///
    /// # Errors
    /// [`StoreError::Key`] when the text is not 64 hex digits.
    pub fn from_hex(text: &str, source: &str) -> Result<DeviceKey, StoreError> {
        let bytes = hex::decode(text.trim()).ok().filter(|b| b.len() == 32).ok_or_else(|| {
            StoreError::Key { path: source.into(), reason: "expected 64 hex digits".into() }
        })?;
        Ok(DeviceKey(*Key::from_slice(&bytes)))
    }

    /// The key at `path`, or a new random one written there (0600) when there is none.
    ///
    /// # Errors
    /// [`StoreError::Key`] when the file cannot be read or written, is unsafe, or has the
    /// wrong length.
    pub fn load_or_create(path: &Path) -> Result<DeviceKey, StoreError> {
        let fail = |reason: String| StoreError::Key { path: path.to_path_buf(), reason };
        match std::fs::metadata(path) {
            Ok(_) => DeviceKey::load(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                getrandom::fill(&mut bytes).map_err(|e| fail(format!("no randomness: {e}")))?;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| fail(format!("cannot create: {e}")))?;
                file.write_all(&bytes)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| fail(e.to_string()))?;
                Ok(DeviceKey(*Key::from_slice(&bytes)))
            }
            Err(e) => Err(fail(e.to_string())),
        }
    }

    /// Encrypts `plain`, bound to `context`.
    ///
    /// # Errors
    /// [`StoreError::Crypto`] when the system's random source fails (no nonce, no sealing:
    /// nothing is stored then).
    pub fn seal(&self, plain: &[u8], context: &str) -> Result<Vec<u8>, StoreError> {
        let fail = || StoreError::Crypto { what: format!("{context} (sealing)") };
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|e| {
            log::error!("the system's random source failed: {e}");
            fail()
        })?;
        let cipher = ChaCha20Poly1305::new(&self.0);
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad: context.as_bytes() })
            .map_err(|_| fail())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// A 32-byte key for another purpose (`label`), derived so that it reveals nothing of
    /// this one: HMAC-SHA256(device key, label).
    pub fn derive(&self, label: &[u8]) -> [u8; 32] {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(self.0.as_slice())
            .expect("HMAC takes any key length");
        mac.update(label);
        mac.finalize().into_bytes().into()
    }

    /// Decrypts what [`DeviceKey::seal`] made with the same `context`.
    ///
    /// # Errors
    /// [`StoreError::Crypto`] for a wrong key, context, or altered bytes.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, StoreError> {
        let fail = || StoreError::Crypto { what: context.to_string() };
        if sealed.len() < 12 + 16 {
            return Err(fail());
        }
        let cipher = ChaCha20Poly1305::new(&self.0);
        cipher
            .decrypt(
                Nonce::from_slice(&sealed[..12]),
                Payload { msg: &sealed[12..], aad: context.as_bytes() },
            )
            .map_err(|_| fail())
    }
}

/// `n` random characters from 0-9, A-Z, a-z.
///
/// # Errors
/// [`StoreError::Crypto`] when the system's random source fails.
pub(crate) fn random_base62(n: usize) -> Result<String, StoreError> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Crypto { what: format!("a random id ({e})") })?;
    // Ids need uniqueness, not uniformity: the slight modulo bias (256 % 62) is harmless.
    Ok(bytes.iter().map(|b| ALPHABET[usize::from(*b) % 62] as char).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.key");
        let key = DeviceKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let sealed = key.seal(b"face bytes", "media:MX1").unwrap();
        assert!(!sealed.windows(10).any(|w| w == b"face bytes"));
        let again = DeviceKey::load_or_create(&path).unwrap();
        assert_eq!(again.open(&sealed, "media:MX1").unwrap(), b"face bytes");
        // Wrong context, altered bytes, or another key: refused.
        assert!(again.open(&sealed, "media:MX2").is_err());
        let mut altered = sealed.clone();
        altered[20] ^= 1;
        assert!(again.open(&altered, "media:MX1").is_err());
        let other = DeviceKey::load_or_create(&dir.path().join("other.key")).unwrap();
        assert!(other.open(&sealed, "media:MX1").is_err());
    }

    #[test]
    fn readable_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.key");
        DeviceKey::load_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        match DeviceKey::load_or_create(&path) {
            Err(StoreError::Key { reason, .. }) => {
                assert!(reason.contains("chmod 600"), "{reason}")
            }
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("a world-readable key was accepted"),
        }
    }
}
