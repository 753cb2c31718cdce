//! A real PostgreSQL for the hub's tests: Debian's `postgresql` binaries, a fresh cluster in a
//! temporary folder (initdb), started on a free loopback port (pg_ctl) as an unprivileged user,
//! stopped and removed when dropped. Never a mock.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The user the cluster runs as when the tests run as root (PostgreSQL refuses root).
const SERVICE_USER: &str = "postgres";

/// A running cluster with one database, `hub`, owned by the role `hub` (trusted on loopback).
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// Serves TLS with `server.crt` and `server.key` in its data folder.
    tls: bool,
    _dir: tempfile::TempDir,
}

impl Postgres {
    /// Makes and starts a cluster.
    pub fn start() -> Postgres {
        Postgres::make(None)
    }

    /// Makes and starts a cluster serving TLS (as well as plain text) with the certificate and
    /// key (PEM files) given.
    pub fn start_with_tls(cert: &Path, key: &Path) -> Postgres {
        Postgres::make(Some((cert, key)))
    }

    fn make(tls: Option<(&Path, &Path)>) -> Postgres {
        let bin = binaries();
        let dir = tempfile::Builder::new().prefix("facematch-pg").tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
        give_to_service_user(&data);
        let port = free_port();
        let pg = Postgres { bin, data, port, tls: tls.is_some(), _dir: dir };
        pg.run_ok("initdb", &["-D", pg.data(), "-U", "hub", "--auth=trust", "-E", "UTF8"]);
        if let Some((cert, key)) = tls {
            for (from, name) in [(cert, "server.crt"), (key, "server.key")] {
                let to = pg.data.join(name);
                std::fs::copy(from, &to).unwrap();
                std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).unwrap();
                give_to_service_user(&to);
            }
        }
        pg.start_again();
        let createdb = Command::new(pg.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &pg.port.to_string(), "-U", "hub", "hub"])
            .output()
            .unwrap();
        assert!(createdb.status.success(), "createdb: {}", text(&createdb));
        pg
    }

    /// The hub's database, as `serve --store` takes it.
    pub fn url(&self) -> String {
        format!("postgres://hub@127.0.0.1:{}/hub", self.port)
    }

    /// The hub's database by the name `host`, reached on this cluster's port with `sslmode`.
    pub fn url_as(&self, host: &str, sslmode: &str) -> String {
        format!("postgres://hub@{host}:{}/hub?sslmode={sslmode}", self.port)
    }

    /// Stops the server at once (as a crash would), keeping the data.
    pub fn stop(&self) {
        self.run_ok("pg_ctl", &["-D", self.data(), "-m", "immediate", "-w", "stop"]);
    }

    /// Starts the server on its port.
    pub fn start_again(&self) {
        let mut options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off",
            self.port
        );
        if self.tls {
            options.push_str(" -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key");
        }
        let log = Path::new(self.data()).join("server.log");
        self.run_ok(
            "pg_ctl",
            &["-D", self.data(), "-o", &options, "-l", log.to_str().unwrap(), "-w", "start"],
        );
    }

    /// Runs SQL in the hub's database with `psql`; its output.
    pub fn sql(&self, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "hub", "-d", "hub"])
            .args(["-v", "ON_ERROR_STOP=1", "-tAc", sql])
            .output()
            .unwrap();
        assert!(out.status.success(), "psql {sql}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Runs SQL in the hub's database as `role`; its output, or psql's error.
    pub fn sql_as(&self, role: &str, sql: &str) -> Result<String, String> {
        let out = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", role, "-d", "hub"])
            .args(["-v", "ON_ERROR_STOP=1", "-tAc", sql])
            .output()
            .unwrap();
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(text(&out))
        }
    }

    /// The hub's database as `role` sees it, as `--store` takes it.
    pub fn url_for(&self, role: &str) -> String {
        format!("postgres://{role}@127.0.0.1:{}/hub", self.port)
    }

    fn data(&self) -> &str {
        self.data.to_str().unwrap()
    }

    /// Runs one of PostgreSQL's programs as the service user; panics with its output on failure.
    fn run_ok(&self, program: &str, args: &[&str]) {
        let out = as_service_user(&self.bin.join(program), args);
        assert!(out.status.success(), "{program} {args:?}: {}", text(&out));
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_service_user(
            &self.bin.join("pg_ctl"),
            &["-D", self.data(), "-m", "immediate", "stop"],
        );
    }
}

/// The folder of Debian's PostgreSQL programs (the newest version installed).
fn binaries() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| dir.filter_map(Result::ok).map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    found.retain(|bin| bin.join("initdb").is_file());
    found.sort_by_key(|bin| {
        bin.parent().and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok()).unwrap_or(0)
    });
    found.pop().expect(
        "PostgreSQL's programs are not installed (/usr/lib/postgresql/*/bin): scripts/setup.sh \
         installs Debian's postgresql",
    )
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the process's effective user.
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

fn give_to_service_user(path: &Path) {
    if running_as_root() {
        let chown = Command::new("chown").args([SERVICE_USER, path.to_str().unwrap()]).output();
        assert!(chown.unwrap().status.success(), "chown {SERVICE_USER} {}", path.display());
    }
}

fn as_service_user(program: &Path, args: &[&str]) -> Output {
    let mut command = if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", SERVICE_USER, "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    // The cluster's own working folder: the service user may not enter the tests' one.
    command.args(args).current_dir("/").output().unwrap()
}

fn free_port() -> u16 {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap().port()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}
