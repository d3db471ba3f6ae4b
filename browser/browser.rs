//! The quickstart's cookie-mode page (`GET /`) in a real browser: Debian's Chromium, headless,
//! driven through `chromedriver` over WebDriver. The page's own script does every request, so
//! this is what a person clicking the buttons gets: `HttpOnly` token cookies the page cannot
//! read, the CSRF double submit, refresh and logout.
//!
//! Its own test binary (`cargo test --test browser`), so the rest runs without a browser. It
//! needs `chromium` and `chromium-driver` (Debian's packages; `.ci/run` installs them) and
//! fails, never skips, when they are missing.

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

#[path = "../examples/quickstart/app.rs"]
mod app;
#[path = "../examples/quickstart/users.rs"]
mod users;

// The quickstart's scopes: this block must match the one in main.rs (app.rs and users.rs name
// them through `crate::`).
jwtguard::scopes! {
    /// Read the quarterly reports.
    REPORTS_READ = "reports:read",
    /// Read and edit one's own profile.
    PROFILE = "profile",
    /// Administration.
    ADMIN = "admin",
}

const SECRET: &str = "quickstart-browser-secret-quickstart-browser-0123";

/// How long one step may take (a login hashes a password; Chromium starts cold).
const STEP: Duration = Duration::from_secs(20);

const CHROMIUM: &str = "/usr/bin/chromium";

/// The quickstart's router with its `Auth` built as main.rs builds it in cookie mode, on a free
/// loopback port, with the client's address as connect info (login throttling needs it).
async fn serve_quickstart() -> SocketAddr {
    let cookies = jwtguard::Cookies::default().insecure_for_local_development();
    let auth = jwtguard::Auth::builder()
        .secret(SECRET)
        .cookies(cookies)
        .build()
        .expect("the quickstart's Auth");
    jwtguard_tests::serve_with_peers(app::router(auth)).await
}

/// A `chromedriver` on a free loopback port and, once [`Driver::open`] has made one, its
/// browser session. Dropping it (at the end, or while a failed assertion unwinds) deletes the
/// session, which quits Chromium, then kills chromedriver and removes the profile directory.
#[derive(Debug)]
struct Driver {
    port: u16,
    dir: PathBuf,
    child: Child,
    session: Option<String>,
    /// A handle on the session, so that the test's own handles going away first (a failed
    /// assertion unwinding) does not make fantoccini delete the session behind our back: it
    /// does so once every handle is gone, which `Drop` lets happen after its own delete.
    client: Option<Client>,
}

impl Driver {
    /// Starts chromedriver and waits until it listens. Fails the test when it is missing.
    fn start() -> Self {
        assert!(
            std::path::Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: apt-get install -y chromium chromium-driver"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("jwtguard-browser-{}-{port}", std::process::id()));
        std::fs::create_dir_all(dir.join("profile")).expect("a profile directory");
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                dir.join("chromedriver.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver must be installed (apt-get install -y chromium chromium-driver)");
        let mut driver = Self {
            port,
            dir,
            child,
            session: None,
            client: None,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver exited at startup: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "chromedriver did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        driver
    }

    /// A new headless Chromium session. The flags keep Chromium from reaching out to the
    /// network (this machine has none beyond loopback) and give it a fresh profile.
    async fn open(&mut self) -> Client {
        let profile = self.dir.join("profile");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--disable-quic",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .unwrap_or_else(|e| panic!("a Chromium session: {e}\n{}", self.log_tail()));
        self.session = client.session_id().await.expect("the session id");
        self.client = Some(client.clone());
        client
    }

    /// Ends the session cleanly (the path taken when every assertion held).
    async fn close(&mut self, client: Client) {
        self.client = None;
        client.close().await.expect("close the WebDriver session");
        self.session = None;
    }

    /// The end of chromedriver's log, to explain a failure.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("chromedriver.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let from = lines.len().saturating_sub(30);
        format!(
            "chromedriver log (last lines):\n{}",
            lines[from..].join("\n")
        )
    }

    /// `DELETE /session/{id}` over a plain blocking socket: this runs in `Drop`, possibly while
    /// a panic unwinds out of the async test, where nothing can be awaited. chromedriver
    /// answers once Chromium has quit (and been reaped).
    fn delete_session(&self, id: &str) {
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\
             Content-Length: 0\r\n\r\n",
            self.port
        );
        if stream.write_all(request.as_bytes()).is_err() {
            return;
        }
        // Read the whole answer (chromedriver keeps the connection open): quitting Chromium
        // is done when it is sent.
        let mut answer = Vec::new();
        let mut chunk = [0; 4096];
        while let Ok(read @ 1..) = stream.read(&mut chunk) {
            answer.extend_from_slice(&chunk[..read]);
            if complete(&answer) {
                break;
            }
        }
    }
}

/// Whether `answer` holds a whole HTTP/1.1 answer with a `Content-Length`.
fn complete(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok());
    length.is_some_and(|length| body.len() >= length)
}

impl Drop for Driver {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail());
        }
        if let Some(id) = self.session.take() {
            self.delete_session(&id);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The answer the page shows in `#result`: its status (`data-status`) and the body after the
/// `METHOD /path -> status` line.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {:?}", self.body))
    }
}

/// The page in the browser.
#[derive(Debug)]
struct Page<'c> {
    client: &'c Client,
}

impl Page<'_> {
    /// Runs `script` in the page (a returned promise is awaited by WebDriver).
    async fn script(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script {script:?}: {e}"))
    }

    /// Clicks the element `#id` and waits (bounded) for the request it starts to be answered:
    /// `data-status` is removed before the click, so any answer, even the same status as the
    /// last one, shows as a change.
    async fn click(&self, id: &str) -> Answer {
        self.script("delete document.getElementById('result').dataset.status;")
            .await;
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click #{id}: {e}"));
        let started = Instant::now();
        loop {
            let shown = self
                .script(
                    "const r = document.getElementById('result'); \
                     return r.dataset.status === undefined ? null : [r.dataset.status, r.textContent];",
                )
                .await;
            if let Some([status, text]) = shown.as_array().map(Vec::as_slice) {
                let status = status.as_str().and_then(|s| s.parse().ok());
                let status = status.unwrap_or_else(|| panic!("data-status {status:?}"));
                let text = text.as_str().unwrap_or_default();
                let body = text
                    .split_once('\n')
                    .map_or("", |(_, body)| body)
                    .to_owned();
                let shown: String = body.chars().take(100).collect();
                println!("#{id} -> {status} {shown}");
                return Answer { status, body };
            }
            assert!(
                started.elapsed() < STEP,
                "no answer in #result within {STEP:?} after clicking #{id}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The text of `#id` once it equals `expected`, within a bounded wait.
    async fn wait_text(&self, id: &str, expected: &str) {
        let started = Instant::now();
        loop {
            let text = self
                .client
                .find(Locator::Id(id))
                .await
                .unwrap_or_else(|e| panic!("#{id}: {e}"))
                .text()
                .await
                .unwrap_or_else(|e| panic!("text of #{id}: {e}"));
            if text == expected {
                return;
            }
            assert!(
                started.elapsed() < STEP,
                "#{id} shows {text:?}, not {expected:?}, after {STEP:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The names of the cookies the page's script can read (`document.cookie`).
    async fn readable_cookies(&self) -> Vec<String> {
        let cookies = self.script("return document.cookie;").await;
        cookies
            .as_str()
            .expect("document.cookie is a string")
            .split("; ")
            .filter(|c| !c.is_empty())
            .map(|c| c.split_once('=').map_or(c, |(name, _)| name).to_owned())
            .collect()
    }

    /// A `POST /settings` made by a script in the page with no CSRF header: what a forged
    /// request carrying the victim's cookies looks like. Status and body.
    async fn forged_fetch(&self) -> (u64, Value) {
        let answer = self
            .script(
                "return fetch('/settings', { method: 'POST' }) \
                 .then(async (r) => [r.status, await r.text()]);",
            )
            .await;
        let status = answer[0].as_u64().expect("a status");
        let body = answer[1].as_str().expect("a body");
        let body = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body:?}"));
        (status, body)
    }
}

/// Log in with the form, then check who the cookies say we are and what the script can read.
async fn log_in(page: &Page<'_>) {
    let username = page.client.find(Locator::Id("username")).await.unwrap();
    username.clear().await.unwrap();
    username.send_keys("user1").await.unwrap();
    let password = page.client.find(Locator::Id("password")).await.unwrap();
    password.clear().await.unwrap();
    password.send_keys("password1").await.unwrap();
    let login = page.click("login-button").await;
    assert_eq!(login.status, 200, "{}", login.body);
    // The page shows who is logged in as soon as the login answers.
    page.wait_text("who", "user1").await;

    let me = page.click("me").await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["user_id"], "user1");
    page.wait_text("who", "user1").await;

    // The tokens are HttpOnly: the page's script sees only the CSRF values.
    let readable = page.readable_cookies().await;
    println!("document.cookie names: {readable:?}");
    assert!(
        readable.iter().any(|c| c == "csrf_access_token"),
        "{readable:?}"
    );
    for token in ["access_token_cookie", "refresh_token_cookie"] {
        assert!(
            !readable.iter().any(|c| c == token),
            "{token} readable by the page: {readable:?}"
        );
    }
    // The browser does hold both token cookies, HttpOnly (WebDriver sees every cookie of the
    // page's path; the refresh cookie is sent to every path, for logout).
    let cookies = page.client.get_all_cookies().await.expect("the cookies");
    for name in ["access_token_cookie", "refresh_token_cookie"] {
        let cookie = cookies
            .iter()
            .find(|c| c.name() == name)
            .unwrap_or_else(|| panic!("no {name} in {cookies:?}"));
        assert_eq!(cookie.http_only(), Some(true), "{cookie:?}");
    }
}

/// The CSRF double submit: with the header, without it (the page's forged button and a bare
/// `fetch`).
async fn csrf(page: &Page<'_>) {
    let saved = page.click("settings").await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert_eq!(saved.json()["message"], "settings saved");

    let forged = page.click("settings-forged").await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(forged.json()["error"], "csrf_failed");

    let (status, body) = page.forged_fetch().await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "csrf_failed");
}

/// Log out: every cookie is cleared, and nothing works any more.
async fn log_out(page: &Page<'_>) {
    let out = page.click("logout").await;
    assert_eq!(out.status, 204, "{}", out.body);
    let readable = page.readable_cookies().await;
    assert!(readable.is_empty(), "left after logout: {readable:?}");
    let cookies = page.client.get_all_cookies().await.expect("the cookies");
    // The device cookie stays: it only tells login throttling this browser from others.
    let left: Vec<_> = cookies
        .iter()
        .filter(|c| c.name() != "jwtguard_device")
        .collect();
    assert!(left.is_empty(), "left after logout: {left:?}");

    let me = page.click("me").await;
    assert_eq!(me.status, 401, "{}", me.body);
    assert_eq!(me.json()["error"], "missing_token");
    page.wait_text("who", "nobody").await;

    // The access cookie is gone, so no token is found and the CSRF check never runs: a 401
    // `missing_token` (a 403 `csrf_failed` would mean the cookie had survived the logout). The
    // page sends an empty X-CSRF-Token, its CSRF cookie being gone too.
    let settings = page.click("settings").await;
    assert_eq!(settings.status, 401, "{}", settings.body);
    assert_eq!(settings.json()["error"], "missing_token");

    // The refresh cookie was cleared too.
    let refresh = page.click("refresh").await;
    assert_eq!(refresh.status, 401, "{}", refresh.body);
    assert_eq!(refresh.json()["error"], "missing_token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cookie_mode_page_in_chromium() {
    if !jwtguard_tests::installed("chromium", "chromium")
        || !jwtguard_tests::installed("chromedriver", "chromium-driver")
    {
        return;
    }
    let started = Instant::now();
    let addr = serve_quickstart().await;
    let mut driver = Driver::start();
    let client = driver.open().await;
    println!("Chromium session in {:?}", started.elapsed());
    let page = Page { client: &client };

    client
        .goto(&format!("http://{addr}/"))
        .await
        .expect("open the page");
    page.wait_text("who", "nobody").await;

    log_in(&page).await;
    csrf(&page).await;

    let refreshed = page.click("refresh").await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let me = page.click("me").await;
    assert_eq!(me.status, 200, "{}", me.body);
    page.wait_text("who", "user1").await;

    // A reload: the page asks who the cookies belong to.
    client
        .goto(&format!("http://{addr}/"))
        .await
        .expect("reload the page");
    page.wait_text("who", "user1").await;

    log_out(&page).await;

    // Idle: the page logs itself out (here after 2 s; 15 minutes by default).
    log_in(&page).await;
    client
        .goto(&format!("http://{addr}/?idle=2"))
        .await
        .expect("the page with a short idle period");
    page.wait_text("who", "user1").await;
    let idle = Instant::now();
    page.wait_text("who", "nobody").await;
    println!("logged out after {:?} idle", idle.elapsed());
    let left = page.readable_cookies().await;
    assert!(left.is_empty(), "left after the idle logout: {left:?}");
    let me = page.click("me").await;
    assert_eq!(me.status, 401, "{}", me.body);

    driver.close(client).await;
    println!("the whole story in {:?}", started.elapsed());
}
