//! Hostile `Authorization` values against a real server: whatever arrives, the answer is a
//! 400 or a 401 with a challenge — never a 2xx, never a 5xx, never a dead connection — and
//! the server still serves a good token afterwards.
//!
//! proptest bodies are synchronous, so each test builds one Tokio runtime and one server and
//! drives every case with `block_on`.

use std::cell::Cell;
use std::net::SocketAddr;

use axum::Router;
use axum::http::HeaderValue;
use axum::routing::get;
use jwtguard::{Claims, Grant, protected};
use jwtguard_tests::{Call, Reply, forge, serve};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::{REPORTS_READ, SECRET, auth};

#[protected]
async fn guarded() -> &'static str {
    "ok"
}

async fn claims(claims: Claims) -> String {
    claims.sub().to_owned()
}

const ROUTES: [&str; 2] = ["/protected", "/claims"];

fn app() -> Router {
    Router::new()
        .route("/protected", get(guarded))
        .route("/claims", get(claims))
        .with_state(auth())
}

/// One runtime and one server for a whole property.
struct Server {
    runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
}

impl Server {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let addr = runtime.block_on(serve(app()));
        Self { runtime, addr }
    }

    fn get(&self, path: &str, authorization: &[u8]) -> Reply {
        self.runtime.block_on(
            Call::get(path)
                .header("authorization", authorization)
                .send(self.addr),
        )
    }

    /// The server survived: a valid token still gets through on every route.
    fn assert_alive(&self) {
        let token = auth()
            .create_access_token(&Grant::to("user1").scopes([REPORTS_READ]))
            .expect("token");
        for path in ROUTES {
            let reply = self.get(path, format!("Bearer {token}").as_bytes());
            assert_eq!(
                reply.status,
                200,
                "{path} after the fuzzing: {}",
                reply.text()
            );
        }
    }
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: 200,
        // No regression files written next to the sources; a failure prints its input.
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    })
}

/// A refusal as jwtguard answers it: 400 or 401, a `Bearer` challenge, a JSON error code.
fn check_refusal(path: &str, value: &[u8], reply: &Reply) -> Result<(), TestCaseError> {
    prop_assert!(
        matches!(reply.status, 400 | 401),
        "{} answered {} to {:?}: {}",
        path,
        reply.status,
        String::from_utf8_lossy(value),
        reply.text()
    );
    prop_assert!(
        reply.challenge().starts_with("Bearer realm=\"api\""),
        "{} challenge {:?}",
        path,
        reply.challenge()
    );
    let code = reply.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    prop_assert!(
        matches!(
            code.as_str(),
            "missing_token" | "invalid_request" | "invalid_token" | "token_expired"
        ),
        "{} error {:?}",
        path,
        code
    );
    let body = reply.text();
    prop_assert!(!body.contains(SECRET) && !body.contains("panicked") && !body.contains("src/"));
    Ok(())
}

/// Every byte `HeaderValue::from_bytes` accepts: tab, visible ASCII and space, obs-text.
fn header_byte() -> impl Strategy<Value = u8> {
    prop_oneof![Just(b'\t'), 0x20u8..=0x7e, 0x80u8..=0xff]
}

fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    let prefix = prop_oneof![
        Just(&b""[..]),
        Just(&b"Bearer "[..]),
        Just(&b"bearer "[..]),
        Just(&b"Basic "[..]),
    ];
    let raw = prop_oneof![
        // Anything at all; values the header type refuses (control bytes) are skipped.
        1 => proptest::collection::vec(any::<u8>(), 0..32),
        3 => proptest::collection::vec(header_byte(), 0..512),
    ];
    (prefix, raw).prop_map(|(prefix, raw)| [prefix, &raw[..]].concat())
}

#[test]
fn arbitrary_authorization_bytes_are_never_accepted_and_never_a_server_error() {
    let server = Server::start();
    let sent = Cell::new(0u32);
    let outcome = runner().run(&any_bytes(), |value| {
        if HeaderValue::from_bytes(&value).is_err() {
            return Ok(());
        }
        sent.set(sent.get() + 1);
        for path in ROUTES {
            check_refusal(path, &value, &server.get(path, &value))?;
        }
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    // Most cases must really reach the server, or this proves nothing.
    let sent = sent.get();
    assert!(
        sent >= 100,
        "only {sent} of 200 cases were valid header values"
    );
    server.assert_alive();
}

/// Strings shaped like tokens: base64url-ish segments and dots in any number.
fn token_like() -> impl Strategy<Value = String> {
    let headers = prop::sample::select(vec![
        forge::HEADER,
        r#"{"alg":"none"}"#,
        r#"{"alg":"HS256","kid":"x"}"#,
        r#"{"alg":"HS256","crit":["exp"]}"#,
        r#"{"alg":"RS256","jwk":{"kty":"oct","k":"AAAA"}}"#,
        r#"{"alg":"HS256","alg":"HS256"}"#,
        "{}",
        "[]",
        "null",
    ]);
    prop_oneof![
        // Segments of base64url and its near misses.
        "[A-Za-z0-9_\\-]{1,80}(\\.[A-Za-z0-9_\\-+/=]{0,120}){0,5}",
        // Printable junk without spaces.
        "[!-~]{1,300}",
        // A real-looking header and payload JSON, base64url-encoded, with a random signature.
        (
            headers,
            "\\PC{0,200}",
            proptest::collection::vec(any::<u8>(), 0..80)
        )
            .prop_map(|(header, payload, signature)| {
                format!(
                    "{}.{}.{}",
                    forge::b64(header),
                    forge::b64(payload),
                    forge::b64(signature)
                )
            }),
        // A well-formed payload with random claim values, MACed with a wrong key.
        (0i64..4_000_000_000, "[a-z]{0,10}", any::<bool>()).prop_map(|(exp, kind, fresh)| {
            let payload = format!(
                r#"{{"sub":"u","iat":0,"exp":{exp},"jti":"j","type":"{kind}","fresh":{fresh}}}"#
            );
            forge::hs256(
                forge::HEADER,
                &payload,
                b"not-the-server-secret-but-long-enough-000",
            )
        }),
    ]
}

#[test]
fn random_bearer_tokens_are_refused_with_401() {
    let server = Server::start();
    let outcome = runner().run(&token_like(), |token| {
        let value = format!("Bearer {token}");
        for path in ROUTES {
            let reply = server.get(path, value.as_bytes());
            check_refusal(path, value.as_bytes(), &reply)?;
            // A non-empty, space-free, ASCII token under 8 KiB is read and refused as a token.
            prop_assert_eq!(reply.status, 401, "{} {:?}", path, token);
            let body = reply.json();
            prop_assert_ne!(&body["error"], "missing_token", "{} {:?}", path, token);
        }
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    server.assert_alive();
}

/// One edit to a valid token: replace, insert or delete a character.
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, char),
    Insert(usize, char),
    Delete(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let alphabet: Vec<char> = ('A'..='Z')
        .chain('a'..='z')
        .chain('0'..='9')
        .chain(['-', '_', '.', '=', '+', '/'])
        .collect();
    let at = any::<prop::sample::Index>();
    let chars = prop::sample::select(alphabet);
    prop_oneof![
        (at.clone(), chars.clone()).prop_map(|(i, c)| Edit::Replace(i.index(usize::MAX), c)),
        (at.clone(), chars).prop_map(|(i, c)| Edit::Insert(i.index(usize::MAX), c)),
        at.prop_map(|i| Edit::Delete(i.index(usize::MAX))),
    ]
}

fn apply(token: &str, edit: &Edit) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    match *edit {
        Edit::Replace(i, c) => {
            let i = i % chars.len();
            // Replacing a character by itself is no edit: take the next one of the alphabet.
            chars[i] = if chars[i] == c {
                if c == 'A' { 'B' } else { 'A' }
            } else {
                c
            };
        }
        Edit::Insert(i, c) => chars.insert(i % (chars.len() + 1), c),
        Edit::Delete(i) => {
            let i = i % chars.len();
            chars.remove(i);
        }
    }
    chars.into_iter().collect()
}

#[test]
fn any_single_edit_of_a_valid_token_is_refused() {
    let server = Server::start();
    let valid = auth()
        .create_access_token(&Grant::to("user1").scopes([REPORTS_READ]))
        .expect("token");
    let outcome = runner().run(&edit(), |edit| {
        let token = apply(&valid, &edit);
        let value = format!("Bearer {token}");
        for path in ROUTES {
            let reply = server.get(path, value.as_bytes());
            check_refusal(path, value.as_bytes(), &reply)?;
            prop_assert_eq!(reply.status, 401, "{} {:?} -> {}", path, edit, token);
        }
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    server.assert_alive();
}
