//! A real `facematch serve` process on a loopback port, for the API and durability tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::blocking::{multipart, Client};

/// A running server; killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// Its SQLite database (empty for a hub's replica on PostgreSQL).
    pub db: PathBuf,
    /// The review page's `http://127.0.0.1:PORT`, when started with `--review`.
    pub review: Option<String>,
}

impl Server {
    /// Starts `facematch serve --db DIR/log.db --listen 127.0.0.1:0 EXTRA...` and waits until it listens.
    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        Server::start_on(dir, "127.0.0.1:0", extra)
    }

    /// [`Server::start`] on a given address (to restart a server where clients expect it).
    pub fn start_on(dir: &Path, listen: &str, extra: &[&str]) -> Server {
        let db = dir.join("log.db");
        let mut args = vec!["--db", db.to_str().unwrap(), "--listen", listen];
        args.extend_from_slice(extra);
        Server::spawn(&args, db.clone())
    }

    /// A replica of a hub on the PostgreSQL database `url`, sealed with the key file `key`, on
    /// any free loopback port.
    pub fn start_hub(url: &str, key: &Path, extra: &[&str]) -> Server {
        let mut args = vec!["--store", url, "--key", key.to_str().unwrap()];
        args.extend_from_slice(&["--listen", "127.0.0.1:0"]);
        args.extend_from_slice(extra);
        Server::spawn(&args, PathBuf::new())
    }

    /// Starts `facematch serve ARGS...` and waits until it listens.
    fn spawn(args: &[&str], db: PathBuf) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_facematch"))
            .arg("serve")
            .args(args)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start facematch serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("SERVER: {line}");
                if let Some(addr) = line.split("listening on ").nth(1) {
                    let _ = tx.send((line.contains("review:"), addr.trim().to_string()));
                }
            }
        });
        let (mut base, mut review) = (None, None);
        let wants_review = args.contains(&"--review");
        while base.is_none() || (wants_review && review.is_none()) {
            let (is_review, addr) =
                rx.recv_timeout(Duration::from_secs(30)).expect("server did not start listening");
            *(if is_review { &mut review } else { &mut base }) = Some(addr);
        }
        Server { child, base: base.unwrap(), review, db }
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGTERM (as systemd stops a service) and waits for the process to end; its status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.pid().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        self.child.wait().unwrap()
    }

    /// Sends SIGKILL and waits for the process to end.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Makes an API token with the CLI (the server may be running).
    pub fn token(&self, name: &str) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_facematch"))
            .args(["token", "add", "--db", self.db.to_str().unwrap(), name])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// `POST` a file to the media upload; returns status and JSON.
    pub fn upload(
        &self,
        client: &Client,
        token: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        let form = multipart::Form::new()
            .part("file", multipart::Part::bytes(bytes).file_name(name.to_string()));
        let r = client
            .post(format!("{}/api/v1/public/media/image/multipart", self.base))
            .header("Authorization", format!("Basic {token}"))
            .multipart(form)
            .send()
            .unwrap();
        (r.status().as_u16(), r.json().unwrap())
    }

    /// `POST` a JSON body to facex/match; returns status, the verification id header, and JSON.
    pub fn match_raw(
        &self,
        client: &Client,
        token: Option<&str>,
        content_type: Option<&str>,
        body: &str,
    ) -> (u16, Option<i64>, serde_json::Value) {
        let mut req =
            client.post(format!("{}/api/v2/public/facex/match", self.base)).body(body.to_string());
        if let Some(t) = token {
            req = req.header("Authorization", format!("Basic {t}"));
        }
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        let r = req.send().unwrap();
        let id =
            r.headers().get("x-facematch-verification").and_then(|v| v.to_str().ok()?.parse().ok());
        (r.status().as_u16(), id, r.json().unwrap())
    }

    /// A well-formed match call.
    pub fn match_ids(
        &self,
        client: &Client,
        token: &str,
        src: &str,
        front: &str,
    ) -> (u16, Option<i64>, serde_json::Value) {
        let body =
            serde_json::json!({"src": src, "targetFront": front, "type": "GOV", "threshold": 85})
                .to_string();
        self.match_raw(client, Some(token), Some("application/json"), &body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
