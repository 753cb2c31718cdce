//! The review page (`serve --review`) of a hub on a real PostgreSQL, driven in a real browser:
//! Debian's chromium and chromium-driver over WebDriver (fantoccini). A member of staff signs
//! in, opens the queue (what three devices' syncs brought: a failed liveness attempt with its
//! frame, a disagreement, a parked record, a device whose log went back and one that rewrote a
//! record), opens an item with its pictures, decides it, and reads the fleet. A screenshot of
//! each page is kept in `target/review-screenshots/`. Around the browser: the bounds a page
//! for a bank must hold (form tokens, locked accounts, sessions that end, pictures only of
//! their item, each view recorded), and the decisions' chain checked by `log verify-hub`.

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::blocking::Client as Http;
use reqwest::redirect::Policy;

use crate::postgres::Postgres;
use crate::server::Server;
use crate::util::record_photo_pair;

const PASSWORD: &str = "long enough pass 1";

fn facematch(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(args)
        .env_remove("FACEMATCH_STORE")
        .env_remove("FACEMATCH_HUB_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `chromedriver` on a free loopback port, ended when dropped.
struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    fn start() -> Chromedriver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // In a process group of its own, with the browsers it starts: all are ended together,
        // also when a test fails before it closes its browser.
        let child = Command::new("/usr/bin/chromedriver")
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver; scripts/setup.sh installs it)");
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(30), "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Chromedriver { child, url: format!("http://127.0.0.1:{port}") }
    }

    /// A headless chromium the size of a tablet held upright (820 × 1180 CSS px).
    async fn browser(&self) -> Client {
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=820,1180"]
            }
        });
        let serde_json::Value::Object(caps) = caps else { unreachable!() };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a chromium session")
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// Where the screenshots are kept.
fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/review-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a screenshot of {name}");
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// The page's text once it holds `needle`: a click that sends a form or follows a link returns
/// before the next page is there, so the page is read again (a page gone stale is read anew)
/// until it says what the step leads to, 20 s at most.
async fn text_with(browser: &Client, needle: &str) -> String {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < Duration::from_secs(20) {
        if let Ok(body) = browser.find(Locator::Css("body")).await {
            if let Ok(text) = body.text().await {
                if text.contains(needle) {
                    return text;
                }
                last = text;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{needle:?} did not appear; the page says:\n{last}");
}

/// Syncs the device database `db` to `base`; the run's JSON.
fn sync(db: &Path, base: &str, token: &str) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_facematch"))
        .args(["sync", "--db", db.to_str().unwrap(), "--remote", base, "--once"])
        .env("FACEMATCH_REMOTE_TOKEN", token)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Copies every file of `from` into `to` (a device's folder: its log, key and counter).
fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// A client that keeps no cookies and follows no redirects: each call says what it sends.
fn http() -> Http {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Http::builder().redirect(Policy::none()).timeout(Duration::from_secs(60)).build().unwrap()
}

/// A form's body, as a browser sends it.
fn form(fields: &[(&str, &str)]) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// Signs in over plain HTTP; the session cookie (`name=value`) and the page's form token.
fn sign_in(client: &Http, review: &str, name: &str, password: &str) -> Option<(String, String)> {
    let r = client
        .post(format!("{review}/signin"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&[("name", name), ("password", password)]))
        .send()
        .unwrap();
    if r.status() != 303 {
        return None;
    }
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let page = client.get(format!("{review}/queue")).header("Cookie", &cookie).send().unwrap();
    let html = page.text().unwrap();
    let csrf = html.split("name=\"csrf\" value=\"").nth(1)?.split('"').next()?.to_string();
    Some((cookie, csrf))
}

#[test]
fn staff_review_the_fleets_queue_in_a_browser_and_every_step_is_recorded() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("hub.key");
    let (url, key_arg) = (pg.url(), key.to_str().unwrap().to_string());
    let store_args = |cmd: &[&'static str]| -> Vec<String> {
        let mut args: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        args.extend(["--store".into(), url.clone(), "--key".into(), key_arg.clone()]);
        args
    };
    let run = |cmd: &[&'static str], extra: &[&str], stdin: Option<&str>| {
        let mut args = store_args(cmd);
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        facematch(&args, stdin)
    };
    let token = {
        let out = run(&["token", "add"], &["branch-7"], None);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    // Staff accounts: a short password is refused and nothing is made; a name is taken once.
    let short = run(&["staff", "add"], &["alice"], Some("short\n"));
    assert!(!short.status.success() && text(&short).contains("12 to 1024"), "{}", text(&short));
    for name in ["alice", "bob"] {
        let out = run(&["staff", "add"], &[name], Some(&format!("{PASSWORD}\n")));
        assert!(out.status.success(), "{}", text(&out));
    }
    let again = run(&["staff", "add"], &["alice"], Some(&format!("{PASSWORD}\n")));
    assert!(!again.status.success() && text(&again).contains("already exists"), "{}", text(&again));
    assert!(pg
        .sql("SELECT password_hash FROM staff WHERE name = 'alice'")
        .starts_with("$argon2id$"));

    // The review page needs a hub on PostgreSQL, and https off this machine.
    let refused = facematch(
        &["serve", "--db", dir.path().join("x.db").to_str().unwrap(), "--review", "127.0.0.1:0"],
        None,
    );
    assert!(text(&refused).contains("--review needs a hub on PostgreSQL"), "{}", text(&refused));
    let mut open_args = store_args(&["serve"]);
    open_args.extend(["--review".into(), "0.0.0.0:0".into()]);
    let open_args: Vec<&str> = open_args.iter().map(String::as_str).collect();
    let plain = facematch(&open_args, None);
    assert!(
        !plain.status.success() && text(&plain).contains("over https only"),
        "{}",
        text(&plain)
    );

    let hub = Server::start_hub(&pg.url(), &key, &["--review", "127.0.0.1:0"]);
    let review = hub.review.clone().expect("the review page's address");

    // Device A: liveness attempts (the third failed, its frame kept), a record the hub decides
    // otherwise, one it refuses for good.
    let db_a = dir.path().join("a/device.db");
    std::fs::create_dir_all(db_a.parent().unwrap()).unwrap();
    let device_a = {
        let mut store = facematch::store::Store::open(&db_a, None).unwrap();
        for failed in [false, false, true] {
            let frame = std::fs::read(crate::util::face("barack_obama", 3)).unwrap();
            let frame_media = failed
                .then(|| store.insert_media(None, "frame.jpg", "image/jpeg", &frame).unwrap());
            store
                .record_attempt(&facematch::store::NewAttempt {
                    live: !failed,
                    reason: failed.then(|| "movement_not_seen".to_string()),
                    challenge: "left up right".into(),
                    evidence_json: "{\"frames\": 40}".into(),
                    frame_media,
                })
                .unwrap();
        }
        crate::util::record_photo_pair_with(&mut store, "barack_obama", 1, 2, |v| {
            v.status = facematch::contract::MatchStatus::FaceNotMatched;
            v.matched = false;
        });
        let parked = record_photo_pair(&mut store, "angelina_jolie", 1, 2);
        store.mark_parked(parked, "HTTP 400 code 4007: incompatible file type").unwrap();
        store.device_id().to_string()
    };
    assert_eq!(sync(&db_a, &hub.base, &token)["liveness_attempts_sent"], 3);

    // Device B: two records copied away, a third synced, then the copy put back (its log went
    // back), then a third record again with the same pictures (its log rewritten).
    let folder_b = dir.path().join("b");
    let db_b = folder_b.join("device.db");
    std::fs::create_dir_all(&folder_b).unwrap();
    let device_b = {
        let mut store = facematch::store::Store::open(&db_b, None).unwrap();
        record_photo_pair(&mut store, "katy_perry", 1, 2);
        record_photo_pair(&mut store, "katy_perry", 1, 3);
        store.device_id().to_string()
    };
    copy_folder(&folder_b, &dir.path().join("b-copy"));
    {
        let mut store = facematch::store::Store::open(&db_b, None).unwrap();
        record_photo_pair(&mut store, "katy_perry", 2, 3);
    }
    sync(&db_b, &hub.base, &token);
    copy_folder(&dir.path().join("b-copy"), &folder_b);
    sync(&db_b, &hub.base, &token);

    let client = http();
    let (cookie, csrf) = sign_in(&client, &review, "bob", PASSWORD).expect("bob signs in");
    let fleet = |cookie: &str| {
        client
            .get(format!("{review}/fleet"))
            .header("Cookie", cookie)
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    assert!(fleet(&cookie).contains("its log ends at record 2, the hub kept anchors up to 3"));
    // Then its record 1 comes again with another hash (a log rewritten under the same
    // pictures): the hub refuses the anchor and keeps the refusal.
    {
        use facematch::store::ApiStore;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let tls = rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let hub_store = facematch::store::postgres::PgStore::open(
            &pg.url(),
            &facematch::store::postgres::HubKey::File(key.clone()),
            facematch::store::postgres::PoolBounds::default(),
            tls,
        )
        .unwrap();
        let branch = hub_store.authenticate(&token).unwrap().unwrap();
        let rewritten = facematch::contract::Anchor {
            device_id: device_b.clone(),
            record_id: 1,
            hash: "f".repeat(64),
        };
        assert_eq!(
            hub_store.keep_anchor(branch, &rewritten).unwrap(),
            facematch::store::AnchorOutcome::OtherHash
        );
    }
    assert_eq!(
        pg.sql(&format!("SELECT outcome FROM anchor_refusals WHERE device_id = '{device_b}'")),
        "other_hash"
    );
    assert!(fleet(&cookie).contains("1 anchor(s) refused"));

    // The browser: signed out, every page leads to the sign-in; a wrong password is refused.
    let driver = Chromedriver::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let decided_attempt = runtime.block_on(async {
        let browser = driver.browser().await;
        browser.goto(&format!("{review}/queue")).await.unwrap();
        assert!(browser.current_url().await.unwrap().path().ends_with("/signin"));
        shot(&browser, "1-signin").await;
        let fill = |name: &'static str, password: &'static str| {
            let browser = browser.clone();
            async move {
                browser.find(Locator::Id("name")).await.unwrap().send_keys(name).await.unwrap();
                browser
                    .find(Locator::Id("password"))
                    .await
                    .unwrap()
                    .send_keys(password)
                    .await
                    .unwrap();
                browser.find(Locator::Id("signin")).await.unwrap().click().await.unwrap();
            }
        };
        fill("alice", "not her password").await;
        text_with(&browser, "Name or password wrong").await;
        fill("alice", PASSWORD).await;
        text_with(&browser, "What needs a person").await;
        assert!(browser.current_url().await.unwrap().path().ends_with("/queue"));

        // The queue: each kind of item that needs a person.
        let queue = text_with(&browser, "Failed liveness attempts").await;
        for expected in [
            "liveness attempt 3 · ",
            "failed: movement_not_seen (asked: left up right)",
            "device said FACE_NOT_MATCHED, the remote FACE_MATCHED",
            "parked: the remote refused it (HTTP 400 code 4007: incompatible file type)",
            "1 anchor(s) refused",
        ] {
            assert!(queue.contains(expected), "{expected:?} not in the queue:\n{queue}");
        }
        let staff = browser.find(Locator::Id("staff")).await.unwrap().text().await.unwrap();
        assert_eq!(staff, "alice");
        assert!(!queue.contains("liveness attempt 1 "), "passed attempts need no person:\n{queue}");
        shot(&browser, "2-queue").await;

        // The failed attempt: its frame is shown (the browser loaded it), then rejected.
        browser
            .find(Locator::Css(&format!("a[href='/items/attempt/{device_a}/3']")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        text_with(&browser, "Liveness attempt 3 of").await;
        let start = Instant::now();
        loop {
            let width = browser
                .execute("return document.querySelector('.pictures img').naturalWidth", vec![])
                .await
                .unwrap();
            if width.as_u64().unwrap_or(0) > 100 {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "the frame did not load: {width}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        shot(&browser, "3-attempt").await;
        browser.find(Locator::Css("input[value='reject']")).await.unwrap().click().await.unwrap();
        browser
            .find(Locator::Id("note"))
            .await
            .unwrap()
            .send_keys("Same man as on record 1; the kiosk lost track of him <b>twice</b>.")
            .await
            .unwrap();
        browser.find(Locator::Id("decide")).await.unwrap().click().await.unwrap();
        let after = text_with(&browser, "Decision 1 recorded").await;
        assert!(after.contains("Decision 1 recorded"), "{after}");
        assert!(
            !after.contains("liveness attempt 3 · "),
            "a decided attempt leaves the queue:\n{after}"
        );
        // Its page keeps the decision, the note shown as the text it was, not as markup.
        browser.goto(&format!("{review}/items/attempt/{device_a}/3")).await.unwrap();
        let history = text_with(&browser, "Decisions so far").await;
        assert!(history.contains("reject by alice"), "{history}");
        assert!(history.contains("lost track of him <b>twice</b>."), "{history}");

        // The disagreement: the hub's pictures beside the facts; escalated, it stays, marked.
        browser.goto(&format!("{review}/items/record/{device_a}/1")).await.unwrap();
        let record = text_with(&browser, "Record 1 of").await;
        assert!(record.contains("FACE_NOT_MATCHED") && record.contains("Hub decided"), "{record}");
        let pictures = browser.find_all(Locator::Css(".pictures img")).await.unwrap();
        assert_eq!(pictures.len(), 2);
        shot(&browser, "4-record").await;
        browser.find(Locator::Css("input[value='escalate']")).await.unwrap().click().await.unwrap();
        browser
            .find(Locator::Id("note"))
            .await
            .unwrap()
            .send_keys("Scores 60 and 40: for the branch manager.")
            .await
            .unwrap();
        browser.find(Locator::Id("decide")).await.unwrap().click().await.unwrap();
        text_with(&browser, "escalated by alice").await;

        // The fleet: both devices, B marked.
        browser.find(Locator::Css("nav a[href='/fleet']")).await.unwrap().click().await.unwrap();
        let fleet = text_with(&browser, "Silent: nothing heard").await;
        assert!(
            fleet.contains(&device_a) && fleet.contains("follows its anchors (up to record 1)"),
            "{fleet}"
        );
        assert!(fleet.contains(&device_b) && fleet.contains("1 anchor(s) refused"), "{fleet}");
        shot(&browser, "5-fleet").await;

        // Signing out ends the session: the queue leads to the sign-in again.
        browser.find(Locator::Css(".signout button")).await.unwrap().click().await.unwrap();
        text_with(&browser, "Every picture you open here is recorded").await;
        browser.goto(&format!("{review}/queue")).await.unwrap();
        assert!(browser.current_url().await.unwrap().path().ends_with("/signin"));
        browser.close().await.unwrap();
        device_a.clone()
    });
    drop(driver);

    // What the browser did is in the database: two decisions in their chain, by alice, the
    // note kept as typed; each picture she opened recorded with her name.
    assert_eq!(
        pg.sql(
            "SELECT id, staff_name, item_kind, item_id, decision FROM review_decisions ORDER BY id"
        ),
        format!("1|alice|attempt|3|reject\n2|alice|record|1|escalate")
    );
    assert!(pg.sql("SELECT note FROM review_decisions WHERE id = 1").contains("<b>twice</b>"));
    assert_eq!(
        pg.sql("SELECT s.name, v.item FROM picture_views v JOIN staff s ON s.id = v.staff_id ORDER BY v.id"),
        format!(
            "alice|attempt {decided_attempt} 3\nalice|attempt {decided_attempt} 3\n\
             alice|record {decided_attempt} 1\nalice|record {decided_attempt} 1"
        )
    );

    // Around the browser. A form without the session's token changes nothing.
    let decide = |cookie: &str, csrf: &str| {
        client
            .post(format!("{review}/items/record/{device_a}/2"))
            .header("Cookie", cookie)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", csrf), ("decision", "confirm"), ("note", "looked")]))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(decide(&cookie, "forged"), 403);
    assert_eq!(decide(&cookie, ""), 403);
    assert_eq!(pg.sql("SELECT count(*) FROM review_decisions"), "2");
    assert_eq!(decide(&cookie, &csrf), 303);
    // A form sent from another site's page is refused before anything is read, sign-in included.
    let foreign = client
        .post(format!("{review}/signin"))
        .header("Origin", "https://evil.example")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&[("name", "bob"), ("password", PASSWORD)]))
        .send()
        .unwrap();
    assert_eq!(foreign.status(), 403);
    assert!(foreign.headers().get("set-cookie").is_none());
    // The labels in the browser's language where it is one of the kiosk's; English otherwise.
    let in_language = |path: &str, language: Option<&str>| {
        let mut r = client.get(format!("{review}{path}")).header("Cookie", &cookie);
        if let Some(language) = language {
            r = r.header("Accept-Language", language);
        }
        r.send().unwrap().text().unwrap()
    };
    let tamil = in_language("/signin", Some("ta-IN,ta;q=0.9,en;q=0.5"));
    assert!(tamil.contains("<html lang=\"ta\">") && tamil.contains(">உள்நுழை</button>"), "{tamil}");
    let hindi = in_language("/queue", Some("fr, hi;q=0.8"));
    assert!(hindi.contains("<html lang=\"hi\">"), "{hindi}");
    for words in ["कतार", "असफल जीवंतता प्रयास", "साइन आउट"]
    {
        assert!(hindi.contains(words), "{words} not in {hindi}");
    }
    let bengali = in_language("/items/attempt/nowhere/1", Some("bn"));
    assert!(bengali.contains("পাওয়া যায়নি"), "{bengali}");
    let english = in_language("/queue", Some("de, en-GB;q=0.5, ta;q=0.1"));
    assert!(english.contains("<html lang=\"en\">") && english.contains("What needs a person"));
    assert!(in_language("/queue", None).contains("Failed liveness attempts"));
    // Only the records that need a person, or were decided, open: not any record a device
    // synced (device B's record 1 is at the hub, in no heartbeat's list and never decided).
    let page = |cookie: &str, path: &str| {
        client.get(format!("{review}{path}")).header("Cookie", cookie).send().unwrap().status()
    };
    assert_eq!(page(&cookie, &format!("/items/record/{device_b}/1")), 404);
    assert_eq!(
        page(&cookie, &format!("/items/record/{device_a}/2")),
        200,
        "a parked record, decided"
    );
    assert_eq!(page(&cookie, &format!("/items/attempt/{device_a}/1")), 404, "a passed attempt");
    // A device decided on stays off the queue when its heartbeats go on, until its problem is
    // seen again.
    let queue_lists_b = |cookie: &str| {
        let html = client.get(format!("{review}/queue")).header("Cookie", cookie).send().unwrap();
        html.text().unwrap().contains(&format!("/items/device/{device_b}/0"))
    };
    assert!(queue_lists_b(&cookie));
    let status = client
        .post(format!("{review}/items/device/{device_b}/0"))
        .header("Cookie", &cookie)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", &csrf), ("decision", "confirm"), ("note", "restored from backup")]))
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 303);
    assert!(!queue_lists_b(&cookie));
    sync(&db_b, &hub.base, &token);
    assert!(!queue_lists_b(&cookie), "a heartbeat brought a decided device back");
    // A picture: only signed in, only of its own item (another item's id gives nothing and
    // records nothing), and never kept by the browser.
    let frame = pg.sql(&format!(
        "SELECT frame_media FROM device_attempts WHERE device_id = '{device_a}' AND attempt_id = 3"
    ));
    let picture = |cookie: Option<&str>, item: &str| {
        let mut r = client.get(format!("{review}/pictures/{item}/{frame}"));
        if let Some(cookie) = cookie {
            r = r.header("Cookie", cookie);
        }
        r.send().unwrap()
    };
    assert_eq!(picture(None, &format!("attempt/{device_a}/3")).status(), 303);
    let views = pg.sql("SELECT count(*) FROM picture_views");
    assert_eq!(picture(Some(&cookie), &format!("record/{device_a}/1")).status(), 404);
    assert_eq!(picture(Some(&cookie), &format!("attempt/{device_b}/3")).status(), 404);
    assert_eq!(pg.sql("SELECT count(*) FROM picture_views"), views);
    assert_eq!(picture(Some(&cookie), &format!("attempt/{device_a}/2")).status(), 404);
    let shown = picture(Some(&cookie), &format!("attempt/{device_a}/3"));
    assert_eq!(shown.status(), 200);
    assert_eq!(shown.headers()["cache-control"], "no-store");
    assert!(shown.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    assert_eq!(
        shown.bytes().unwrap().as_ref(),
        std::fs::read(crate::util::face("barack_obama", 3)).unwrap()
    );
    assert_eq!(
        pg.sql("SELECT count(*) FROM picture_views").parse::<i64>().unwrap(),
        views.parse::<i64>().unwrap() + 1
    );

    // Five wrong passwords lock an account: the right one is refused for 15 minutes after.
    for _ in 0..5 {
        assert!(sign_in(&client, &review, "alice", "wrong password!").is_none());
    }
    assert!(sign_in(&client, &review, "alice", PASSWORD).is_none(), "a locked account signed in");
    // 15 minutes later (the lock moved back in the database) the right one signs in, and the
    // count starts again: one more typo does not lock the account.
    pg.sql("UPDATE staff SET locked_until = locked_until - 15 * 60 * 1000 WHERE name = 'alice'");
    assert!(sign_in(&client, &review, "alice", "wrong password!").is_none());
    assert!(sign_in(&client, &review, "alice", PASSWORD).is_some(), "the lock did not end");
    // A session unused for longer than 30 minutes has ended.
    pg.sql("UPDATE staff_sessions SET last_used = last_used - 31 * 60 * 1000");
    let ended = client.get(format!("{review}/queue")).header("Cookie", &cookie).send().unwrap();
    assert_eq!(ended.status(), 303);
    assert_eq!(ended.headers()["location"], "/signin");
    // A removed account's sessions end at once.
    let (cookie, _) = sign_in(&client, &review, "bob", PASSWORD).unwrap();
    assert!(run(&["staff", "remove"], &["bob"], None).status.success());
    assert_eq!(
        client.get(format!("{review}/queue")).header("Cookie", &cookie).send().unwrap().status(),
        303
    );

    // The decisions' chain: intact, then a note changed behind the hub's back is found.
    let verify = || run(&["log", "verify-hub"], &[], None);
    let out = verify();
    assert!(text(&out).contains("4 review decision(s)"), "{}", text(&out));
    pg.sql("UPDATE review_decisions SET note = 'nothing to see' WHERE id = 2");
    let out = verify();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("break at decision 2"), "{}", text(&out));
}
