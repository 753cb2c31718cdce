//! The API's own certificate (`serve --tls-cert/--tls-key`): read from PEM files, and read
//! again on request (SIGHUP) without a restart, so a renewed certificate takes effect while
//! the decisions in flight finish on the connections that started them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// The certificate and key files, and what was last read from them.
#[derive(Debug)]
pub struct ReloadableCert {
    cert_file: PathBuf,
    key_file: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

impl ReloadableCert {
    /// Reads `cert_file` (PEM: the server's certificate, then its intermediates) and
    /// `key_file` (PEM: PKCS#8, PKCS#1 or SEC1).
    ///
    /// # Errors
    /// A message naming the file that cannot be used, and why.
    pub fn load(cert_file: &Path, key_file: &Path) -> Result<ReloadableCert, String> {
        let key = certified_key(cert_file, key_file)?;
        Ok(ReloadableCert {
            cert_file: cert_file.to_path_buf(),
            key_file: key_file.to_path_buf(),
            current: RwLock::new(Arc::new(key)),
        })
    }

    /// Reads the files again; on failure the certificate in use stays.
    ///
    /// # Errors
    /// The same messages as [`ReloadableCert::load`].
    pub fn reload(&self) -> Result<(), String> {
        let key = certified_key(&self.cert_file, &self.key_file)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(key);
        Ok(())
    }

    /// The server configuration over this certificate: TLS 1.2 and 1.3, HTTP/1.1.
    ///
    /// # Errors
    /// When rustls refuses the protocol versions (it does not with its own provider).
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, String> {
        let mut config = rustls::ServerConfig::builder_with_provider(super::provider())
            .with_protocol_versions(super::VERSIONS)
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl ResolvesServerCert for ReloadableCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().unwrap_or_else(|p| p.into_inner()).clone())
    }
}

fn certified_key(cert_file: &Path, key_file: &Path) -> Result<CertifiedKey, String> {
    let certs = CertificateDer::pem_file_iter(cert_file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            format!("{}: cannot be read as PEM certificates ({e})", cert_file.display())
        })?;
    if certs.is_empty() {
        return Err(format!("{}: holds no certificate", cert_file.display()));
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(key_file)
        .map_err(|e| format!("{}: {e}", key_file.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "{}: mode {:o} lets others read the private key; run: chmod 600 {}",
            key_file.display(),
            mode & 0o777,
            key_file.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("{}: no PEM private key ({e})", key_file.display()))?;
    let signing = super::provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("{}: {e}", key_file.display()))?;
    let certified = CertifiedKey::new(certs, signing);
    certified.keys_match().map_err(|e| {
        format!(
            "{} and {}: the key is not the certificate's ({e})",
            key_file.display(),
            cert_file.display()
        )
    })?;
    Ok(certified)
}
