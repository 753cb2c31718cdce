//! A refused TLS handshake, named: the remote's certificate is expired, for another name,
//! signed by no trusted CA, or holds no pinned key. Such a failure is the configuration's or
//! the remote's, and waiting does not cure it, so callers stop instead of retrying.

use std::error::Error as StdError;
use std::fmt;

use rustls::CertificateError;

use super::client::PinMismatch;

/// What is wrong with the remote's certificate or handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// Its validity ended.
    Expired,
    /// Its validity has not begun (or this device's clock is wrong).
    NotValidYet,
    /// Not signed by a CA this device trusts.
    UnknownIssuer,
    /// Made for another host name.
    NameMismatch,
    /// Valid, but no key of its chain is pinned.
    PinMismatch,
    /// Revoked by its CA.
    Revoked,
    /// Any other refusal of the certificate, with rustls's words.
    Other(String),
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::Expired => f.write_str("the certificate has expired"),
            ProblemKind::NotValidYet => {
                f.write_str("the certificate is not valid yet (or this device's clock is wrong)")
            }
            ProblemKind::UnknownIssuer => {
                f.write_str("unknown issuer: the certificate is not signed by a trusted CA")
            }
            ProblemKind::NameMismatch => {
                f.write_str("name mismatch: the certificate is for another host")
            }
            ProblemKind::PinMismatch => f.write_str("pin mismatch"),
            ProblemKind::Revoked => f.write_str("the certificate is revoked"),
            ProblemKind::Other(what) => write!(f, "certificate refused: {what}"),
        }
    }
}

/// A refused handshake with `host`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TLS with {host}: {kind}{detail}")]
pub struct CertificateProblem {
    /// The host called.
    pub host: String,
    /// What is wrong.
    pub kind: ProblemKind,
    /// More words where there are some (the server key's pin on a pin mismatch).
    pub detail: String,
}

impl CertificateProblem {
    /// The problem behind `error`, if a TLS handshake failure is somewhere in its sources.
    ///
    /// Only a refused certificate counts: other handshake failures (an alert from a middlebox,
    /// a garbled message) may pass, and are left to the caller's retries.
    pub fn find(host: &str, error: &(dyn StdError + 'static)) -> Option<CertificateProblem> {
        let (kind, detail) = match sources(error).find_map(rustls_error)? {
            rustls::Error::InvalidCertificate(cert) => kind_of(cert),
            _ => return None,
        };
        Some(CertificateProblem { host: host.to_string(), kind, detail })
    }
}

/// `error` and everything under it. `io::Error` hides the error it wraps from `source()`
/// (it returns the wrapped error's own source), so that step is taken by hand.
fn sources<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    let mut next = Some(error);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => current.source(),
        };
        Some(current)
    })
}

fn rustls_error<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    error.downcast_ref::<rustls::Error>()
}

fn kind_of(error: &CertificateError) -> (ProblemKind, String) {
    let kind = match error {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => ProblemKind::Expired,
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            ProblemKind::NotValidYet
        }
        CertificateError::UnknownIssuer => ProblemKind::UnknownIssuer,
        CertificateError::BadSignature => {
            let detail = " (a CA of its issuer's name is trusted, with another key)";
            return (ProblemKind::UnknownIssuer, detail.into());
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            ProblemKind::NameMismatch
        }
        CertificateError::Revoked => ProblemKind::Revoked,
        CertificateError::Other(other) => {
            if let Some(pin) = other.0.downcast_ref::<PinMismatch>() {
                return (
                    ProblemKind::PinMismatch,
                    format!(" (the server's key is {})", pin.server),
                );
            }
            ProblemKind::Other(error.to_string())
        }
        other => ProblemKind::Other(other.to_string()),
    };
    (kind, String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_error_wrapped_in_io_errors_is_found_and_named() {
        let inner = rustls::Error::InvalidCertificate(CertificateError::Expired);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, inner);
        let outer = std::io::Error::other(io);
        let found = CertificateProblem::find("bank.example", &outer).unwrap();
        assert_eq!(found.kind, ProblemKind::Expired);
        assert_eq!(found.to_string(), "TLS with bank.example: the certificate has expired");
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(CertificateProblem::find("bank.example", &plain), None);
        // A handshake failure that is not about the certificate may pass: not a problem here.
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, alert);
        assert_eq!(CertificateProblem::find("bank.example", &io), None);
    }
}
