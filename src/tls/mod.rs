//! Transport security for every call that leaves the device and for the API it serves.
//!
//! The client side ([`client`]) decides whom the device trusts: the system's trust store
//! (Debian's `ca-certificates`, read when the client is made, so a bank's IT adds its CA the
//! usual way), or only a CA file the bank names, optionally narrowed by pins of public keys
//! (HPKP's `sha256/BASE64`). [`failure`] turns a failed handshake into a named
//! [`CertificateProblem`], which callers report instead of "unavailable": retrying does not
//! cure a wrong certificate. The server side ([`server`]) serves `serve --tls-cert/--tls-key`
//! with a certificate that can be replaced while the server runs. [`stays_on_this_machine`] says
//! where an `http://` URL cannot leak. TLS 1.2 and 1.3 only, with `ring` as the cryptography everywhere.

pub mod client;
pub mod failure;
pub mod server;

use std::sync::Arc;

pub use client::{ClientTrust, Pin};
pub use failure::{CertificateProblem, ProblemKind};
pub use server::ReloadableCert;

/// The cryptography rustls runs on, for clients and servers alike.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The protocol versions offered and accepted: TLS 1.2 and 1.3 (rustls speaks nothing older).
pub const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Whether a plain `http://` call to `host` (a URL's host as written: a name, an IPv4
/// address or a bracketed IPv6 one) stays on this machine: a loopback address or `localhost`.
/// Anything else would carry the token and pictures across a network in the clear.
pub fn stays_on_this_machine(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_stay_on_this_machine() {
        for host in ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "[::1]", "::1"] {
            assert!(stays_on_this_machine(host), "{host}");
        }
        for host in
            ["10.0.0.1", "192.168.1.5", "example.com", "localhost.example.com", "[::2]", "0.0.0.0"]
        {
            assert!(!stays_on_this_machine(host), "{host}");
        }
    }
}
