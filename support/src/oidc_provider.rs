//! An independent OIDC provider on a free loopback port, for the tests only: axa-group's
//! `oauth2-mock-server` (npm) run by `tests/oidc/provider.mjs`, started by the test, killed when
//! dropped. Its discovery document, JWKS and signatures are made by code jwtguard does not own.
//!
//! What a caller must know:
//! - the issuer is `http://127.0.0.1:<port>` exactly (no trailing slash); discovery is at
//!   `<issuer>/.well-known/openid-configuration`, the JWKS at `<issuer>/jwks`;
//! - [`OidcProvider::mint`] signs RS256 with the current key (`kid` in the header, `typ: JWT`);
//!   its claims are `iss`, `iat` (the provider's clock, this machine's), `nbf` (`iat - 10`),
//!   `exp` (`iat + 3600`), `sub: "user-1"`, `aud: "jwtguard"`, `scope: "openid"`, and any of
//!   them replaced or removed (`null`) by the caller's claims;
//! - kids are `key-1`, `key-2`, ... in the order of rotations, so two providers publish the
//!   same `kid` under two issuers; the JWKS's keys carry `kty`, `alg`, `kid`, `n`, `e` (no `use`),
//!   in `kid` order;
//! - `/jwks` has no `Cache-Control` but a weak `ETag` (express's) that changes only when a key is
//!   added or retired, and `If-None-Match` gets `304`;
//! - `POST /token` (`grant_type=client_credentials`, form fields `scope` and `aud`) is the
//!   library's own endpoint: same key, but no `sub` and no other claim.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Call;

/// A running provider.
#[derive(Debug)]
pub struct OidcProvider {
    pub port: u16,
    child: Child,
    /// Held open: the provider exits when it closes, so a test process that dies before its
    /// `Drop` runs leaves no provider behind.
    _stdin: ChildStdin,
}

/// `tests/oidc`, where the script and its `node_modules` live.
fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/oidc")
}

/// Whether Node and the provider's packages are installed. When they are not, the reason and
/// the command are printed and the caller skips; under `CI=true` a missing install fails
/// instead (see [`crate::installed`]).
pub fn installed() -> bool {
    if !crate::installed("node", "nodejs npm") {
        return false;
    }
    let found = dir().join("node_modules/oauth2-mock-server").is_dir();
    assert!(
        found || std::env::var_os("CI").is_none(),
        "tests/oidc/node_modules is missing and CI is set: .ci/run runs `npm ci --prefix tests/oidc`"
    );
    if !found {
        eprintln!("skipped: the OIDC provider is not installed (npm ci --prefix tests/oidc)");
    }
    found
}

impl OidcProvider {
    /// Starts one on a free port and waits until it answers. Fails the test when Node or the
    /// packages are missing: check [`installed`] first to skip instead.
    pub fn start() -> Self {
        let script = dir().join("provider.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .arg("0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Its errors go to the test's output.
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node must be installed (apt-get install -y nodejs npm)");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        // The first line names the port; a thread reads it (with a deadline here) and then
        // drains the rest, so that the provider never writes into a full or closed pipe.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let Some(port) = line
            .strip_prefix("listening ")
            .and_then(|p| p.trim().parse::<u16>().ok())
        else {
            let _ = child.kill();
            let status = child.wait().ok();
            panic!(
                "the OIDC provider did not start (first line {line:?}, exit {status:?}); \
                 is it installed? npm ci --prefix tests/oidc"
            );
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the OIDC provider does not answer on port {port}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        Self {
            port,
            child,
            _stdin: stdin,
        }
    }

    /// `http://127.0.0.1:<port>`, exactly as in its tokens and discovery document.
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Its discovery document (`/.well-known/openid-configuration`).
    pub async fn discovery(&self) -> serde_json::Value {
        self.get("/.well-known/openid-configuration").await
    }

    /// Its JWKS (`/jwks`): the keys it publishes now.
    pub async fn jwks(&self) -> serde_json::Value {
        self.get("/jwks").await
    }

    /// An access token signed by its current key: `claims` (a JSON object) over the defaults
    /// (module docs); a `null` claim is removed.
    pub async fn mint(&self, claims: serde_json::Value) -> String {
        let reply = self.post("/mint", &claims).await;
        reply["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token in {reply}"))
            .to_owned()
    }

    /// A new RS256 key signs from now on; the previous ones stay in the JWKS (as Keycloak
    /// keeps its previous key). Returns the new `kid`.
    pub async fn rotate(&self) -> String {
        let reply = self.post("/rotate", &serde_json::json!({})).await;
        reply["kid"].as_str().expect("the new kid").to_owned()
    }

    /// Removes every key but the signing one from the JWKS. Returns the retired `kid`s.
    pub async fn retire(&self) -> Vec<String> {
        let reply = self.post("/retire", &serde_json::json!({})).await;
        reply["retired"]
            .as_array()
            .expect("the retired kids")
            .iter()
            .map(|kid| kid.as_str().expect("a kid").to_owned())
            .collect()
    }

    async fn get(&self, path: &str) -> serde_json::Value {
        let reply = Call::get(path).send(self.addr()).await;
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
        reply.json()
    }

    async fn post(&self, path: &str, body: &serde_json::Value) -> serde_json::Value {
        let reply = Call::post(path).json(body).send(self.addr()).await;
        assert_eq!(reply.status, 200, "POST {path}: {}", reply.text());
        reply.json()
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
