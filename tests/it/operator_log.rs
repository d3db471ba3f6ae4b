//! The operator's log: the `tracing` events jwtguard emits when it refuses a request, captured
//! by a `tracing_subscriber` writer set as the default for the test's own thread only. The
//! router is called in-process (`tower::ServiceExt::oneshot`), so every event is emitted on
//! that thread.

use std::io;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use jwtguard::{Claims, Grant, protected};
use jwtguard_tests::forge;
use serde::Deserialize;
use tower::ServiceExt as _;

use crate::{REPORTS_READ, SECRET, auth};

/// A shared buffer the subscriber writes its lines into.
#[derive(Debug, Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The captured lines that contain `needle`.
    fn lines_with(&self, needle: &str) -> Vec<String> {
        self.text()
            .lines()
            .filter(|line| line.contains(needle))
            .map(str::to_owned)
            .collect()
    }
}

thread_local! {
    /// Where the events of this thread go while a test captures them.
    static SINK: std::cell::RefCell<Option<Captured>> = const { std::cell::RefCell::new(None) };
}

/// Writes an event into the current thread's sink, if any.
struct ThreadSink;

impl io::Write for ThreadSink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        SINK.with(|sink| {
            if let Some(captured) = sink.borrow_mut().as_mut() {
                captured.write(bytes)
            } else {
                Ok(bytes.len())
            }
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Stops capturing when dropped.
struct Capturing;

impl Drop for Capturing {
    fn drop(&mut self) {
        SINK.with(|sink| sink.borrow_mut().take());
    }
}

/// Captures every event, at every level, of the current thread until the guard drops. One
/// global subscriber routes events to the thread that emitted them: a per-thread default
/// subscriber would race with the other tests over tracing's global callsite cache.
fn capture() -> (Captured, Capturing) {
    static GLOBAL: std::sync::Once = std::sync::Once::new();
    GLOBAL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(|| ThreadSink)
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
    });
    let captured = Captured::default();
    SINK.with(|sink| *sink.borrow_mut() = Some(captured.clone()));
    (captured, Capturing)
}

#[derive(Debug, Deserialize)]
struct Tenant {
    tenant: String,
}

#[protected(scopes = "reports:read")]
async fn reports() -> &'static str {
    "reports"
}

#[protected]
async fn tenant(claims: Claims<Tenant>) -> String {
    claims.extra().tenant.clone()
}

/// The same, without the macro: the `Claims<E>` extractor alone.
async fn tenant_plain(claims: Claims<Tenant>) -> String {
    claims.into_extra().tenant
}

fn app() -> Router {
    Router::new()
        .route("/reports", get(reports))
        .route("/tenant", get(tenant))
        .route("/tenant-plain", get(tenant_plain))
        .with_state(auth())
}

async fn get_status(path: &str, token: &str) -> StatusCode {
    let request = Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    app().oneshot(request).await.unwrap().status()
}

/// A signing key that is not the application's.
const OTHER_SECRET: &str = "another-secret-that-is-long-enough-for-hs256-11";

/// Nothing that would let a reader of the log replay or forge a token.
fn assert_no_secrets(log: &str, token: &str) {
    let (signed, signature) = token.rsplit_once('.').expect("a signed token");
    for (what, secret) in [
        ("the token", token),
        ("the signed part", signed),
        ("the signature", signature),
        ("the secret", SECRET),
        ("the forger's secret", OTHER_SECRET),
    ] {
        assert!(!log.contains(secret), "the log holds {what}:\n{log}");
    }
}

#[tokio::test]
async fn a_bad_signature_is_one_debug_event_naming_reason_and_requirement() {
    let (captured, _guard) = capture();
    let token = forge::hs256(
        forge::HEADER,
        &forge::payload("access", ""),
        OTHER_SECRET.as_bytes(),
    );
    assert_eq!(
        get_status("/reports", &token).await,
        StatusCode::UNAUTHORIZED
    );

    let log = captured.text();
    let events = captured.lines_with("jwtguard: request refused");
    assert_eq!(events.len(), 1, "{log}");
    let event = &events[0];
    assert!(event.contains("DEBUG"), "{event}");
    assert!(event.contains("status=401"), "{event}");
    assert!(event.contains("signature is invalid"), "{event}");
    assert!(event.contains(r#"requirement="reports:read""#), "{event}");
    assert!(!log.contains("WARN"), "{log}");
    assert_no_secrets(&log, &token);
}

#[tokio::test]
async fn a_missing_scope_is_a_debug_event_with_the_requirement() {
    let (captured, _guard) = capture();
    // Correctly signed, but without `reports:read`.
    let payload = forge::payload("access", "").replace(r#""reports:read""#, r#""profile""#);
    let token = forge::hs256(forge::HEADER, &payload, SECRET.as_bytes());
    assert_eq!(get_status("/reports", &token).await, StatusCode::FORBIDDEN);

    let log = captured.text();
    let events = captured.lines_with("jwtguard: request refused");
    assert_eq!(events.len(), 1, "{log}");
    assert!(events[0].contains("DEBUG"), "{log}");
    assert!(events[0].contains("status=403"), "{log}");
    assert!(events[0].contains(r#"requirement="reports:read""#), "{log}");
    assert_no_secrets(&log, &token);
}

#[tokio::test]
async fn claims_of_the_wrong_type_are_a_warning() {
    let auth = auth();
    // A valid token with no `tenant` claim: the application's type and its tokens disagree.
    let pair = auth
        .create_token_pair(&Grant::to("ann").scopes([REPORTS_READ]))
        .expect("a pair");
    for path in ["/tenant", "/tenant-plain"] {
        let (captured, guard) = capture();
        assert_eq!(
            get_status(path, &pair.access_token).await,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
        drop(guard);

        let log = captured.text();
        let warnings = captured.lines_with("WARN");
        assert_eq!(warnings.len(), 1, "{path}: {log}");
        assert!(
            warnings[0].contains("do not match the handler's Claims type"),
            "{path}: {log}"
        );
        assert!(warnings[0].contains("Tenant"), "{path}: {log}");
        // The client's 401 is still logged as a refusal, at debug.
        let refusals = captured.lines_with("jwtguard: request refused");
        assert_eq!(refusals.len(), 1, "{path}: {log}");
        assert!(refusals[0].contains("DEBUG"), "{path}: {log}");
        assert_no_secrets(&log, &pair.access_token);
    }

    // A token that has the claim passes, and logs no warning.
    let pair = auth
        .create_token_pair(&Grant::to("ann").extra(serde_json::json!({"tenant": "acme"})))
        .expect("a pair");
    let (captured, _guard) = capture();
    assert_eq!(
        get_status("/tenant", &pair.access_token).await,
        StatusCode::OK
    );
    assert!(
        captured.lines_with("WARN").is_empty(),
        "{}",
        captured.text()
    );
}
