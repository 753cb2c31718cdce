//! Whom the device trusts when it calls a remote: the system's trust store, or only the CA
//! file a bank names for its private PKI, and optionally only chains that hold a pinned key.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

/// The SHA-256 of a certificate's SubjectPublicKeyInfo, written `sha256/BASE64` as HPKP
/// (RFC 7469) and OkHttp write it: it survives the certificate's renewal with the same key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pin([u8; 32]);

impl Pin {
    /// The pin of a DER-encoded SubjectPublicKeyInfo (outer SEQUENCE included).
    pub fn of_spki(spki_der: &[u8]) -> Pin {
        Pin(Sha256::digest(spki_der).into())
    }

    /// The pin of a DER certificate's public key.
    ///
    /// # Errors
    /// When the certificate cannot be parsed.
    pub fn of_certificate(cert: &CertificateDer<'_>) -> Result<Pin, webpki::Error> {
        let anchor = webpki::anchor_from_trusted_cert(cert)?;
        Ok(Pin::of_spki(&webpki::spki_for_anchor(&anchor)))
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256/{}", base64::engine::general_purpose::STANDARD.encode(self.0))
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Pin {
    type Err = String;

    fn from_str(s: &str) -> Result<Pin, String> {
        let encoded = s
            .trim()
            .strip_prefix("sha256/")
            .ok_or_else(|| format!("{s:?}: a pin is written sha256/BASE64"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| format!("{s:?}: not base64 ({e})"))?;
        let hash: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("{s:?}: {} bytes, a SHA-256 has 32", b.len()))?;
        Ok(Pin(hash))
    }
}

/// What the device trusts for one remote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTrust {
    /// Only this CA file (PEM, one or more certificates); `None`: the system's trust store.
    pub ca_file: Option<PathBuf>,
    /// When not empty, a chain must hold one of these keys (its server's, an intermediate's
    /// or its root's) besides being valid.
    pub pins: Vec<Pin>,
}

/// Why the trust could not be set up: the device's own configuration, not the remote.
#[derive(Debug, thiserror::Error)]
pub enum TrustSetupError {
    /// The CA file cannot be read or holds no certificate.
    #[error("{path}: {reason}")]
    CaFile {
        /// The file named.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The system's trust store holds no usable certificate.
    #[error("the system's trust store has no certificate (install Debian's ca-certificates, or give --remote-ca): {0}")]
    SystemStore(String),
    /// rustls refused the configuration.
    #[error("TLS set-up: {0}")]
    Rustls(String),
}

impl ClientTrust {
    /// The rustls configuration for this trust: TLS 1.2+, the roots, the pins.
    ///
    /// # Errors
    /// A [`TrustSetupError`] naming the file or store at fault.
    pub fn client_config(&self) -> Result<rustls::ClientConfig, TrustSetupError> {
        let roots = Arc::new(match &self.ca_file {
            Some(path) => roots_from_file(path)?,
            None => system_roots()?,
        });
        let provider = super::provider();
        let webpki = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .map_err(|e| TrustSetupError::Rustls(e.to_string()))?;
        let verifier = Arc::new(PinningVerifier {
            webpki,
            roots,
            pins: self.pins.clone(),
            algorithms: provider.signature_verification_algorithms,
        });
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(super::VERSIONS)
            .map_err(|e| TrustSetupError::Rustls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth())
    }
}

/// A configuration that trusts no server, for a client that speaks only plain http to this
/// machine: it never needs a trust store, and could never complete a handshake.
///
/// # Errors
/// When rustls refuses the protocol versions (it does not with its own provider).
pub fn trusting_nobody() -> Result<rustls::ClientConfig, TrustSetupError> {
    let provider = super::provider();
    let schemes = provider.signature_verification_algorithms.supported_schemes();
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(super::VERSIONS)
        .map_err(|e| TrustSetupError::Rustls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(TrustNobody(schemes)))
        .with_no_client_auth())
}

/// Refuses every certificate.
#[derive(Debug)]
struct TrustNobody(Vec<SignatureScheme>);

impl TrustNobody {
    fn refused<T>() -> Result<T, rustls::Error> {
        Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))
    }
}

impl ServerCertVerifier for TrustNobody {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        TrustNobody::refused()
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        TrustNobody::refused()
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        TrustNobody::refused()
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.clone()
    }
}

/// The certificates of a PEM file, as the only roots.
fn roots_from_file(path: &Path) -> Result<RootCertStore, TrustSetupError> {
    let fail = |reason: String| TrustSetupError::CaFile { path: path.to_path_buf(), reason };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| fail(format!("cannot be read as PEM ({e})")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("cannot be read as PEM ({e})")))?;
    if certs.is_empty() {
        return Err(fail("holds no certificate".into()));
    }
    let mut roots = RootCertStore::empty();
    for (i, cert) in certs.into_iter().enumerate() {
        roots.add(cert).map_err(|e| fail(format!("certificate {}: {e}", i + 1)))?;
    }
    Ok(roots)
}

/// The system's trust store as the platform keeps it (`/etc/ssl/certs` on Debian; honours
/// `SSL_CERT_FILE` and `SSL_CERT_DIR`).
fn system_roots() -> Result<RootCertStore, TrustSetupError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        return Err(TrustSetupError::SystemStore(if why.is_empty() {
            "no certificate found".into()
        } else {
            why
        }));
    }
    Ok(roots)
}

/// The key pinned chains must hold, as the handshake reports it (found under
/// `CertificateError::Other`).
#[derive(Debug, thiserror::Error)]
#[error("no key of the certificate chain matches a pin (the server's key: {server})")]
pub struct PinMismatch {
    /// The server certificate's own pin, for the message (so staff can compare).
    pub server: Pin,
}

/// rustls's standard WebPKI checks, then the pins over the chain that was verified.
#[derive(Debug)]
struct PinningVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    roots: Arc<RootCertStore>,
    pins: Vec<Pin>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl PinningVerifier {
    /// Whether the verified path from `end_entity` to a root holds a pinned key.
    fn check_pins(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), rustls::Error> {
        let bad = |e: webpki::Error| {
            rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
                Arc::new(e),
            )))
        };
        let cert = webpki::EndEntityCert::try_from(end_entity).map_err(bad)?;
        let path = cert
            .verify_for_usage(
                self.algorithms.all,
                &self.roots.roots,
                intermediates,
                now,
                webpki::KeyUsage::server_auth(),
                None,
                None,
            )
            .map_err(bad)?;
        let server = Pin::of_spki(&cert.subject_public_key_info());
        let mut chain = vec![server];
        chain.extend(
            path.intermediate_certificates().map(|c| Pin::of_spki(&c.subject_public_key_info())),
        );
        chain.push(Pin::of_spki(&webpki::spki_for_anchor(path.anchor())));
        if chain.iter().any(|key| self.pins.contains(key)) {
            Ok(())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
                Arc::new(PinMismatch { server }),
            ))))
        }
    }
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        if !self.pins.is_empty() {
            self.check_pins(end_entity, intermediates, now)?;
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_read_and_write_as_hpkp_does() {
        // RFC 7469's example form: 32 bytes in standard base64.
        let text = "sha256/E9CZ9INDbd+2eRQozYqqbQ2yXLVKB9+xcprMF+44U1g=";
        let pin: Pin = text.parse().unwrap();
        assert_eq!(pin.to_string(), text);
        for bad in [
            "E9CZ9INDbd+2eRQozYqqbQ2yXLVKB9+xcprMF+44U1g=",
            "sha256/!!",
            "sha256/AAAA",
            "sha1/AAAA",
        ] {
            assert!(bad.parse::<Pin>().is_err(), "{bad}");
        }
    }

    /// A CA and a server certificate for `localhost` it signed (rcgen, made fresh).
    fn chain() -> (CertificateDer<'static>, CertificateDer<'static>, Pin) {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, PublicKeyData,
        };
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let pin = Pin::of_spki(&key.subject_public_key_info());
        (ca.der().clone(), leaf.der().clone(), pin)
    }

    fn verifier(ca: &CertificateDer<'static>, pins: Vec<Pin>) -> PinningVerifier {
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone()).unwrap();
        let roots = Arc::new(roots);
        let provider = crate::tls::provider();
        PinningVerifier {
            webpki: WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
                .build()
                .unwrap(),
            roots,
            pins,
            algorithms: provider.signature_verification_algorithms,
        }
    }

    #[test]
    fn pins_of_the_server_or_its_ca_pass_and_others_are_named() {
        let (ca, leaf, leaf_pin) = chain();
        let ca_pin = Pin::of_certificate(&ca).unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let now = UnixTime::now();
        let check =
            |pins: Vec<Pin>| verifier(&ca, pins).verify_server_cert(&leaf, &[], &name, &[], now);
        assert!(check(vec![]).is_ok());
        assert!(check(vec![leaf_pin]).is_ok());
        assert!(check(vec![Pin([7; 32]), ca_pin]).is_ok(), "a backup pin of the CA");
        let err = check(vec![Pin([7; 32])]).unwrap_err();
        let found = crate::tls::CertificateProblem::find("localhost", &err).unwrap();
        assert_eq!(found.kind, crate::tls::ProblemKind::PinMismatch, "{err}");
        assert!(found.to_string().contains(&leaf_pin.to_string()), "{found}");
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bank-ca.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let trust = ClientTrust { ca_file: Some(path.clone()), pins: vec![] };
        let err = trust.client_config().unwrap_err().to_string();
        assert!(err.contains("bank-ca.pem") && err.contains("no certificate"), "{err}");
        let missing = ClientTrust { ca_file: Some(dir.path().join("none.pem")), pins: vec![] };
        assert!(missing.client_config().unwrap_err().to_string().contains("none.pem"));
    }
}
