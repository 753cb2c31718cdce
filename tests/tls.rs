//! Sync over TLS against real servers on loopback: our own `serve --tls-cert/--tls-key`, and
//! `socat`'s OpenSSL in front of a plain `serve` (a terminator nobody in this project wrote).
//! The CA and certificates are made fresh by each test (rcgen); no key is ever committed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use facematch::store::Store;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    PublicKeyData,
};
use sha2::{Digest, Sha256};

use crate::server::Server;

/// A private CA, as a bank's PKI, and the files of the certificates it issues.
pub struct Pki {
    dir: tempfile::TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate's files and its key's pin.
pub struct Leaf {
    pub cert: PathBuf,
    pub key: PathBuf,
    pin: String,
}

impl Pki {
    pub fn new() -> Pki {
        Pki::named("Test Bank Private CA")
    }

    pub fn named(name: &str) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        Pki { dir, ca }
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The CA's own pin (sha256 of its SubjectPublicKeyInfo).
    fn ca_pin(&self) -> String {
        pin_of(&self.ca.key().subject_public_key_info())
    }

    /// A server certificate `name` for `hosts`, valid from `days_from` to `days_to` days from now.
    pub fn leaf(&self, name: &str, hosts: &[&str], days_from: i64, days_to: i64) -> Leaf {
        let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        let mut params = CertificateParams::new(hosts).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now + time::Duration::days(days_from);
        params.not_after = now + time::Duration::days(days_to);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca).unwrap();
        let leaf = Leaf {
            cert: self.dir.path().join(format!("{name}.pem")),
            key: self.dir.path().join(format!("{name}.key")),
            pin: pin_of(&key.subject_public_key_info()),
        };
        std::fs::write(&leaf.cert, cert.pem()).unwrap();
        std::fs::write(&leaf.key, key.serialize_pem()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&leaf.key, std::fs::Permissions::from_mode(0o600)).unwrap();
        leaf
    }
}

/// HPKP's pin of a DER SubjectPublicKeyInfo, computed here (not by the code under test).
fn pin_of(spki_der: &[u8]) -> String {
    format!("sha256/{}", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(spki_der)))
}

/// A device log with `n` pending records over real photos.
fn device(n: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("device.db");
    add_records(&db, n);
    (dir, db)
}

fn add_records(db: &Path, n: usize) {
    let mut store = Store::open(db, None).unwrap();
    for _ in 0..n {
        crate::util::record_photo_pair(&mut store, "sundar_pichai", 1, 2);
    }
}

/// (pending, synced) in a device log.
fn counts(db: &Path) -> (i64, i64) {
    let c = Store::open(db, None).unwrap().sync_counts().unwrap();
    (c.pending, c.synced)
}

fn sync(db: &Path, remote: &str, token: &str, extra: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(["sync", "--db", db.to_str().unwrap(), "--remote", remote, "--once"])
        .args(["--max-attempts", "2", "--base-delay-ms", "10", "--max-delay-ms", "20"])
        .args(extra)
        .env("FACEMATCH_REMOTE_TOKEN", token)
        // The system's trust store, as far as this test is concerned: a CA that knows nobody
        // here, so the bank's CA is trusted only when --remote-ca names it.
        .env("SSL_CERT_FILE", stranger_ca())
        .env("SSL_CERT_DIR", "/nonexistent")
        .output()
        .unwrap();
    (out.status.code(), text(&out))
}

/// A CA file that has issued none of the tests' certificates.
fn stranger_ca() -> &'static Path {
    static STRANGER: std::sync::OnceLock<Pki> = std::sync::OnceLock::new();
    let pki = STRANGER.get_or_init(|| Pki::named("Some Public Root CA"));
    static FILE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    FILE.get_or_init(|| pki.ca_file())
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `https://localhost:PORT` for a server that printed `https://127.0.0.1:PORT`.
fn by_name(base: &str) -> String {
    base.replace("127.0.0.1", "localhost")
}

#[test]
fn sync_over_tls_with_the_banks_ca_and_pins_and_named_refusals() {
    let pki = Pki::new();
    let good = pki.leaf("good", &["localhost", "127.0.0.1"], -1, 30);
    let server_dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        server_dir.path(),
        &["--tls-cert", good.cert.to_str().unwrap(), "--tls-key", good.key.to_str().unwrap()],
    );
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let remote = by_name(&server.base);
    let token = server.token("device");
    let ca = pki.ca_file();
    let ca = ca.to_str().unwrap();
    let (_dir, db) = device(2);

    // No CA given: the system store (a stranger CA for the test) does not know the bank's CA.
    let (code, all) = sync(&db, &remote, &token, &[]);
    assert_eq!(code, Some(2), "{all}");
    assert!(all.contains("TLS with localhost") && all.contains("unknown issuer"), "{all}");
    assert!(!all.contains("remote unavailable"), "{all}");
    // A pin of another key: refused though the chain is valid, and the server's key is named.
    let other = pin_of(&KeyPair::generate().unwrap().subject_public_key_info());
    let (code, all) = sync(&db, &remote, &token, &["--remote-ca", ca, "--remote-pin", &other]);
    assert_eq!(code, Some(2), "{all}");
    assert!(all.contains("pin mismatch") && all.contains(&good.pin), "{all}");
    assert_eq!(counts(&db), (2, 0), "{all}");

    // The bank's CA, and pins of the server's key or of the CA: every record synced.
    let (code, all) = sync(&db, &remote, &token, &["--remote-ca", ca, "--remote-pin", &good.pin]);
    assert_eq!((code, counts(&db)), (Some(0), (0, 2)), "{all}");
    add_records(&db, 1);
    let pins = ["--remote-pin", &other, "--remote-pin", &pki.ca_pin()];
    let (code, all) = sync(&db, &remote, &token, &[&["--remote-ca", ca][..], &pins[..]].concat());
    assert_eq!((code, counts(&db)), (Some(0), (0, 3)), "a backup pin of the CA: {all}");

    // The certificate replaced while the server runs (SIGHUP): expired, then for another name.
    add_records(&db, 1);
    let expired = pki.leaf("expired", &["localhost", "127.0.0.1"], -30, -1);
    let other_name = pki.leaf("other", &["api.other-bank.example"], -1, 30);
    for (leaf, says) in [(&expired, "has expired"), (&other_name, "name mismatch")] {
        std::fs::copy(&leaf.cert, &good.cert).unwrap();
        std::fs::copy(&leaf.key, &good.key).unwrap();
        hang_up(&server);
        let deadline = Instant::now() + Duration::from_secs(15);
        let all = loop {
            let (code, all) = sync(&db, &remote, &token, &["--remote-ca", ca]);
            if all.contains(says) || Instant::now() > deadline {
                assert_eq!(code, Some(2), "{all}");
                break all;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        assert!(all.contains(says) && all.contains("retrying will not help"), "{all}");
        assert_eq!(counts(&db), (1, 3), "{all}");
    }
}

#[test]
fn a_renewed_certificate_is_taken_on_sighup_while_a_decision_is_in_flight() {
    let pki = Pki::new();
    let first = pki.leaf("first", &["localhost"], -1, 30);
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &["--tls-cert", first.cert.to_str().unwrap(), "--tls-key", first.key.to_str().unwrap()],
    );
    let remote = by_name(&server.base);
    let token = server.token("device");
    let ca = pki.ca_file();
    let (_dir, db) = device(6);
    // The sync runs (six real decisions) while the certificate is renewed with a new key.
    let mut child = Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(["sync", "--db", db.to_str().unwrap(), "--remote", &remote, "--once"])
        .args(["--remote-ca", ca.to_str().unwrap()])
        .env("FACEMATCH_REMOTE_TOKEN", &token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let renewed = pki.leaf("renewed", &["localhost"], -1, 60);
    let deadline = Instant::now() + Duration::from_secs(60);
    while remote_records(&server.db) < 1 {
        assert!(Instant::now() < deadline, "the sync decided nothing");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::copy(&renewed.cert, &first.cert).unwrap();
    std::fs::copy(&renewed.key, &first.key).unwrap();
    hang_up(&server);
    let renewed_at = remote_records(&server.db);
    let out = wait(&mut child, Duration::from_secs(120));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(counts(&db), (0, 6));
    assert!(renewed_at < 6, "the renewal came after the sync: nothing was in flight");
    // New connections get the renewed key: only its pin passes now.
    add_records(&db, 1);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let args = ["--remote-ca", ca.to_str().unwrap(), "--remote-pin", &renewed.pin];
        let (code, all) = sync(&db, &remote, &token, &args);
        if code == Some(0) {
            break;
        }
        assert!(Instant::now() < deadline, "the renewed certificate never came: {all}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(counts(&db), (0, 7));
}

/// Verifications a server has logged.
fn remote_records(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT count(*) FROM verifications", [], |r| r.get(0)).unwrap_or(0)
}

#[test]
fn plain_http_leaves_this_machine_only_when_allowed_and_then_says_so() {
    let (_dir, db) = device(1);
    // A name that resolves nowhere: if the gate failed, nothing would be reached anyway.
    let remote = "http://facematch-remote.invalid:8080";
    let (code, all) = sync(&db, remote, "fm_test", &[]);
    assert_eq!(code, Some(2), "{all}");
    assert!(all.contains("plain http") && all.contains("--allow-plain-http"), "{all}");
    let (code, all) = sync(&db, remote, "fm_test", &["--allow-plain-http"]);
    assert_eq!(code, Some(3), "allowed: tried, and unreachable: {all}");
    assert!(all.contains("WARNING") && all.contains("in the clear"), "{all}");
    // However the scheme is written.
    let shouted = "HTTP://facematch-remote.invalid:8080";
    let (code, all) = sync(&db, shouted, "fm_test", &[]);
    assert_eq!(code, Some(2), "{all}");
    let (_, all) = sync(&db, shouted, "fm_test", &["--allow-plain-http"]);
    assert!(all.contains("WARNING"), "{all}");
    // Loopback needs no permission.
    let (code, all) = sync(&db, "http://127.0.0.1:9", "fm_test", &[]);
    assert_eq!(code, Some(3), "{all}");
    assert!(!all.contains("WARNING"), "{all}");
}

/// A child process killed and reaped when dropped, a panic included.
struct Stopped(Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sync_through_socat_openssl_in_front_of_a_plain_server() {
    let pki = Pki::new();
    let leaf = pki.leaf("terminator", &["localhost"], -1, 30);
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let token = server.token("device");
    let backend = server.base.trim_start_matches("http://").to_string();
    let port = free_port();
    let socat = Command::new("socat")
        .arg(format!(
            "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,verify=0,cert={},key={}",
            leaf.cert.display(),
            leaf.key.display()
        ))
        .arg(format!("TCP:{backend}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("socat (Debian's socat; scripts/setup.sh installs it)");
    // Stopped however the test ends: a socat left running keeps what it inherited (CI's lock).
    let socat = Stopped(socat);
    wait_for_port(port);
    let (_dir, db) = device(2);
    let remote = format!("https://localhost:{port}");
    let (code, all) = sync(&db, &remote, &token, &["--remote-ca", pki.ca_file().to_str().unwrap()]);
    drop(socat);
    assert_eq!(code, Some(0), "{all}");
    assert_eq!(counts(&db), (0, 2), "{all}");
}

#[test]
fn a_private_key_others_can_read_is_refused_and_sighup_without_tls_changes_nothing() {
    let pki = Pki::new();
    let leaf = pki.leaf("open", &["localhost"], -1, 30);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&leaf.key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(["serve", "--db", dir.path().join("log.db").to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--tls-cert", leaf.cert.to_str().unwrap()])
        .args(["--tls-key", leaf.key.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("chmod 600"), "{err}");

    // A plain server (`systemctl reload` sends SIGHUP to it too) goes on serving.
    let server = Server::start(dir.path(), &[]);
    hang_up(&server);
    std::thread::sleep(Duration::from_millis(300));
    let client = crate::util::http_client(Some(Duration::from_secs(5)));
    let answer = client.get(format!("{}/nowhere", server.base)).send().unwrap();
    assert_eq!(answer.status().as_u16(), 404, "the server died of SIGHUP");
}

fn hang_up(server: &Server) {
    let status = Command::new("kill").args(["-HUP", &server.pid().to_string()]).status().unwrap();
    assert!(status.success());
}

fn wait(child: &mut Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the sync did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut out = String::new();
    let mut err = String::new();
    use std::io::Read;
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    Output { status: child.wait().unwrap(), stdout: out.into_bytes(), stderr: err.into_bytes() }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "socat did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
