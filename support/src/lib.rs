//! Support code shared by jwtguard's tests, examples and benches: a real server on
//! `127.0.0.1:0`, a minimal HTTP/1 client, a forger of hand-made tokens for attack tests, real
//! redis-servers and an independent OIDC provider ([`oidc_provider`]). Not published.

// Test support: a panic is how a test fails.
#![allow(clippy::missing_panics_doc)]

use std::net::SocketAddr;

pub mod oidc_provider;
pub mod redis_server;
pub use redis_server::{Forwarder, RedisServer};

use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// Whether `program` (from Debian's `package`) can be run. When it cannot, the reason is printed
/// and the caller skips; under `CI=true` (how `.ci/run` runs) a missing program fails instead,
/// so a broken install never passes for a skip.
pub fn installed(program: &str, package: &str) -> bool {
    let found = std::process::Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        found || std::env::var_os("CI").is_none(),
        "{program} is not installed and CI is set: .ci/run installs {package}"
    );
    if !found {
        eprintln!("skipped: {program} is not installed (apt-get install -y {package})");
    }
    found
}

/// A server running `router` on a free loopback port until the test's runtime ends.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("server");
    });
    addr
}

/// [`serve`], with each request's peer address in `ConnectInfo` (what login throttling
/// counts per client).
pub async fn serve_with_peers(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("server");
    });
    addr
}

/// An answer as the client saw it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON (panics with the body text if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value, or "" when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// `WWW-Authenticate`, or "" when absent.
    pub fn challenge(&self) -> &str {
        self.header("www-authenticate")
    }
}

/// A request to build and send.
#[derive(Debug, Clone)]
pub struct Call {
    method: &'static str,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl Call {
    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }

    pub fn post(path: &str) -> Self {
        Self::new("POST", path)
    }

    pub fn new(method: &'static str, path: &str) -> Self {
        Self {
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// Adds a header; raw bytes are allowed so tests can send hostile values.
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers.push((
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_bytes(value.as_ref()).expect("header value"),
        ));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    pub fn json(self, body: &serde_json::Value) -> Self {
        let mut call = self.header("content-type", "application/json");
        call.body = Bytes::from(body.to_string());
        call
    }

    pub fn form(self, body: &str) -> Self {
        let mut call = self.header("content-type", "application/x-www-form-urlencoded");
        call.body = Bytes::from(body.to_owned());
        call
    }

    pub fn raw_body(mut self, content_type: &str, body: impl Into<Bytes>) -> Self {
        self = self.header("content-type", content_type);
        self.body = body.into();
        self
    }

    /// Sends the request over a new connection to `addr`.
    pub async fn send(self, addr: SocketAddr) -> Reply {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(connection);
        let mut request = Request::builder()
            .method(self.method)
            .uri(&self.path)
            .header("host", addr.to_string());
        for (name, value) in self.headers {
            request = request.header(name, value);
        }
        let request = request.body(Full::new(self.body)).expect("request");
        let response = sender.send_request(request).await.expect("send");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Reply {
            status,
            headers,
            body,
        }
    }
}

/// Hand-made tokens, for the attacks a verifier must refuse.
pub mod forge {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    pub fn b64(bytes: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// `header.payload` from raw JSON texts (so duplicated members survive).
    pub fn unsigned(header: &str, payload: &str) -> String {
        format!("{}.{}", b64(header), b64(payload))
    }

    /// An HS256 token over raw JSON texts with `secret`.
    pub fn hs256(header: &str, payload: &str, secret: &[u8]) -> String {
        let input = unsigned(header, payload);
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("hmac key");
        mac.update(input.as_bytes());
        format!("{input}.{}", b64(mac.finalize().into_bytes()))
    }

    /// The payload of a token, decoded (no verification): what a client can read.
    pub fn claims_of(token: &str) -> serde_json::Value {
        let payload = token
            .split('.')
            .nth(1)
            .expect("a token has a payload segment");
        let bytes = URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
        serde_json::from_slice(&bytes).expect("JSON payload")
    }

    /// Seconds since the Unix epoch.
    pub fn now() -> i64 {
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_secs(),
        )
        .expect("time fits")
    }

    /// A well-formed access-token payload with `now`-relative times, as JSON text; `extra`
    /// members (raw JSON, e.g. `"fresh":true`) are appended.
    pub fn payload(kind: &str, extra: &str) -> String {
        let now = now();
        let sep = if extra.is_empty() { "" } else { "," };
        format!(
            r#"{{"sub":"user1","iat":{now},"nbf":{now},"exp":{},"jti":"forged-{now}","type":"{kind}","fresh":false,"scopes":["reports:read"]{sep}{extra}}}"#,
            now + 600
        )
    }

    pub const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;
}

/// A self-signed CA and a certificate for 127.0.0.1 signed by it, made with openssl, in `dir`
/// (`ca.crt`, `server.crt`, `server.key`, EC P-256, valid for a day); returns the CA's PEM.
pub fn certificates(dir: &std::path::Path) -> Vec<u8> {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/CN=jwtguard test CA",
            "-days",
            "1",
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec,
        &[
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    ]
    .concat());
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "1",
        "-extfile",
        "san.ext",
    ]);
    std::fs::read(dir.join("ca.crt")).unwrap()
}
