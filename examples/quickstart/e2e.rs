//! The quickstart as a client meets it: its router on 127.0.0.1:0, the whole story over HTTP.

use jwtguard_tests::forge::claims_of;
use jwtguard_tests::{Call, Reply, forge, serve};
use serde_json::{Value, json};

use crate::app::router;

const SECRET: &str = "quickstart-e2e-secret-quickstart-e2e-secret-0123";

/// The login flood saturates the process-wide password verifier on purpose: it runs alone,
/// every other test shares the gate.
static GATE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

async fn start() -> (
    std::net::SocketAddr,
    tokio::sync::RwLockReadGuard<'static, ()>,
) {
    let gate = GATE.read().await;
    let auth = jwtguard::Auth::builder().secret(SECRET).build().unwrap();
    (serve(router(auth)).await, gate)
}

async fn login(addr: std::net::SocketAddr, user: &str, password: &str) -> Value {
    let reply = Call::post("/login")
        .json(&json!({ "username": user, "password": password }))
        .send(addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

fn token(pair: &Value, which: &str) -> String {
    pair[which].as_str().unwrap().to_owned()
}

fn assert_challenge(reply: &Reply, status: u16, challenge: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.challenge(), challenge);
}

#[tokio::test]
async fn a_clients_whole_story() {
    let (addr, _gate) = start().await;

    // Before logging in.
    let anonymous = Call::get("/protected").send(addr).await;
    assert_challenge(&anonymous, 401, r#"Bearer realm="api""#);
    assert_eq!(
        anonymous.json(),
        json!({"error": "missing_token", "message": "Missing JWT in request"})
    );

    // Log in: a fresh pair with the user's scopes, on the wire as DESIGN §4 says.
    let pair = login(addr, "user1", "password1").await;
    assert_eq!(pair["token_type"], "bearer");
    let access = token(&pair, "access_token");
    let claims = claims_of(&access);
    for claim in ["sub", "iat", "nbf", "exp", "jti", "type", "fresh", "scopes"] {
        assert!(claims.get(claim).is_some(), "{claim} missing from {claims}");
    }
    assert_eq!(claims["scopes"], json!(["reports:read", "profile"]));
    let header = forge::b64(r#"{"alg":"HS256","typ":"JWT"}"#);
    assert!(access.starts_with(&format!("{header}.")), "HS256 header");

    // Each route with the right token.
    let protected = Call::get("/protected").bearer(&access).send(addr).await;
    assert_eq!(protected.status, 200);
    assert_eq!(
        protected.json()["message"],
        "You have access to this protected resource"
    );
    let me = Call::get("/me").bearer(&access).send(addr).await;
    assert_eq!(
        me.json(),
        json!({"user_id": "user1", "scopes": ["reports:read", "profile"], "fresh": true})
    );
    assert_eq!(
        Call::get("/reports")
            .bearer(&access)
            .send(addr)
            .await
            .status,
        200
    );
    assert_eq!(
        Call::post("/settings")
            .bearer(&access)
            .send(addr)
            .await
            .status,
        200
    );

    // A user without `admin`.
    let admin_route = Call::get("/admin").bearer(&access).send(addr).await;
    assert_challenge(
        &admin_route,
        403,
        r#"Bearer realm="api", error="insufficient_scope", scope="admin""#,
    );

    // Refresh (Bearer): the new access token is not fresh and is refused on /settings.
    let refresh_token = token(&pair, "refresh_token");
    let renewed = Call::post("/refresh")
        .bearer(&refresh_token)
        .send(addr)
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.text());
    let new_access = token(&renewed.json(), "access_token");
    assert_eq!(claims_of(&new_access)["fresh"], false);
    let me = Call::get("/me").bearer(&new_access).send(addr).await;
    assert_eq!(me.json()["fresh"], false);
    let settings = Call::post("/settings").bearer(&new_access).send(addr).await;
    assert_eq!(settings.status, 401);
    assert!(
        settings
            .challenge()
            .contains(r#"error="insufficient_user_authentication""#)
    );

    // Refresh (JSON body), with the refresh token the last refresh issued: each renews once.
    let next_refresh = token(&renewed.json(), "refresh_token");
    let renewed = Call::post("/refresh")
        .json(&json!({ "refresh_token": next_refresh }))
        .send(addr)
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.text());

    // A refresh token is not an access token, nor the reverse.
    assert_eq!(
        Call::get("/protected")
            .bearer(&refresh_token)
            .send(addr)
            .await
            .status,
        401
    );
    assert_eq!(
        Call::post("/refresh")
            .bearer(&access)
            .send(addr)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn admin_reaches_admin() {
    let (addr, _gate) = start().await;
    let pair = login(addr, "admin", "adminpass1").await;
    let reply = Call::get("/admin")
        .bearer(&token(&pair, "access_token"))
        .send(addr)
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["message"], "hello, administrator admin");
}

#[tokio::test]
async fn the_oauth2_password_form_issues_the_same_pair_and_narrows_scopes() {
    let (addr, _gate) = start().await;
    let reply = Call::post("/token")
        .form("grant_type=password&username=admin&password=adminpass1")
        .send(addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), "no-store");
    let all = claims_of(&token(&reply.json(), "access_token"));
    assert_eq!(all["scopes"], json!(["reports:read", "profile", "admin"]));
    assert_eq!(all["fresh"], true);

    let narrowed = Call::post("/token")
        .form("grant_type=password&username=admin&password=adminpass1&scope=admin%20reports%3Aread")
        .send(addr)
        .await;
    assert_eq!(narrowed.json()["scope"], "reports:read admin");
    let access = token(&narrowed.json(), "access_token");
    assert_eq!(
        claims_of(&access)["scopes"],
        json!(["reports:read", "admin"])
    );
    assert_eq!(
        Call::get("/me").bearer(&access).send(addr).await.status,
        200
    );

    let wrong_grant = Call::post("/token")
        .form("grant_type=client_credentials&username=admin&password=adminpass1")
        .send(addr)
        .await;
    assert_eq!(wrong_grant.status, 400);
    assert_eq!(wrong_grant.json()["error"], "unsupported_grant_type");
    let wrong_password = Call::post("/token")
        .form("grant_type=password&username=admin&password=nope")
        .send(addr)
        .await;
    assert_eq!(wrong_password.status, 400);
    assert_eq!(wrong_password.json()["error"], "invalid_grant");
    assert_eq!(wrong_password.header("cache-control"), "no-store");
    let beyond = Call::post("/token")
        .form("grant_type=password&username=user1&password=password1&scope=admin")
        .send(addr)
        .await;
    assert_eq!(beyond.status, 400);
    assert_eq!(beyond.json()["error"], "invalid_scope");
}

#[tokio::test]
async fn the_token_endpoint_refreshes_with_the_refresh_token_grant() {
    let (addr, _gate) = start().await;
    let pair = Call::post("/token")
        .form("grant_type=password&username=user1&password=password1")
        .send(addr)
        .await
        .json();
    let refresh = token(&pair, "refresh_token");
    let renewed = Call::post("/token")
        .form(&format!(
            "grant_type=refresh_token&refresh_token={refresh}&scope=profile"
        ))
        .send(addr)
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.text());
    assert_eq!(renewed.header("cache-control"), "no-store");
    assert_eq!(renewed.json()["scope"], "profile");
    let access = claims_of(&token(&renewed.json(), "access_token"));
    assert_eq!(
        (access["sub"].clone(), access["fresh"].clone()),
        (json!("user1"), json!(false))
    );
    assert_eq!(access["scopes"], json!(["profile"]));
    // The new refresh token keeps the scope of the one presented (RFC 6749 §6).
    let next = claims_of(&token(&renewed.json(), "refresh_token"));
    assert_eq!(next["scopes"], json!(["reports:read", "profile"]));

    let access_token = token(&pair, "access_token");
    for (form, error) in [
        (
            format!("grant_type=refresh_token&refresh_token={access_token}"),
            "invalid_grant",
        ),
        (
            "grant_type=refresh_token&refresh_token=garbage".to_owned(),
            "invalid_grant",
        ),
        (
            format!("grant_type=refresh_token&refresh_token={refresh}&scope=admin"),
            "invalid_scope",
        ),
    ] {
        let reply = Call::post("/token").form(&form).send(addr).await;
        assert_eq!(reply.status, 400, "{form}");
        assert_eq!(reply.json()["error"], error, "{form}");
        assert!(reply.json()["error_description"].is_string(), "{form}");
    }
}

#[tokio::test]
async fn wrong_user_and_wrong_password_get_the_same_answer() {
    let (addr, _gate) = start().await;
    let wrong_user = Call::post("/login")
        .json(&json!({"username": "mallory", "password": "password1"}))
        .send(addr)
        .await;
    let wrong_password = Call::post("/login")
        .json(&json!({"username": "user1", "password": "password2"}))
        .send(addr)
        .await;
    for reply in [&wrong_user, &wrong_password] {
        assert_challenge(reply, 401, r#"Bearer realm="api""#);
    }
    assert_eq!(wrong_user.body, wrong_password.body);
    assert_eq!(wrong_user.json()["error"], "invalid_credentials");
}

#[tokio::test]
async fn bad_login_bodies_are_json_4xx_never_500() {
    let (addr, _gate) = start().await;
    let cases = [
        Call::post("/login").raw_body("application/json", "{not json"),
        Call::post("/login").raw_body(
            "text/plain",
            r#"{"username":"user1","password":"password1"}"#,
        ),
        Call::post("/login").json(&json!({"username": "user1"})),
        Call::post("/login"),
        Call::post("/token").form("grant_type=password&username=user1"),
    ];
    for call in cases {
        let reply = call.clone().send(addr).await;
        assert!(
            (400..500).contains(&reply.status),
            "{call:?}: {}",
            reply.status
        );
        assert_eq!(reply.json()["error"], "invalid_request", "{call:?}");
    }
}

#[tokio::test]
async fn expired_and_tampered_tokens_are_refused() {
    let (addr, _gate) = start().await;
    let now = forge::now();
    let expired = forge::hs256(
        forge::HEADER,
        &format!(
            r#"{{"sub":"user1","iat":{},"nbf":{},"exp":{},"jti":"x","type":"access","fresh":true,"scopes":["reports:read"]}}"#,
            now - 120,
            now - 120,
            now - 60
        ),
        SECRET.as_bytes(),
    );
    let reply = Call::get("/reports").bearer(&expired).send(addr).await;
    assert_challenge(
        &reply,
        401,
        r#"Bearer realm="api", error="invalid_token", error_description="The token has expired""#,
    );
    assert_eq!(
        reply.json(),
        json!({"error": "token_expired", "message": "Token expired", "reason": "expired"})
    );

    // Tampered: admin scope spliced into a real token's payload.
    let pair = login(addr, "user1", "password1").await;
    let access = token(&pair, "access_token");
    let mut parts: Vec<&str> = access.split('.').collect();
    let mut claims = claims_of(&access);
    claims["scopes"] = json!(["reports:read", "profile", "admin"]);
    let forged_payload = forge::b64(claims.to_string());
    parts[1] = &forged_payload;
    let tampered = parts.join(".");
    let reply = Call::get("/admin").bearer(&tampered).send(addr).await;
    assert_challenge(
        &reply,
        401,
        r#"Bearer realm="api", error="invalid_token", error_description="The token signature is invalid""#,
    );
    assert_eq!(reply.json()["reason"], "signature");
}

/// The `curl` lines of the guides' shell blocks name routes of the quickstart that exist, with
/// the methods they have.
#[tokio::test]
async fn guide_curl_lines_match_the_routes() {
    let (addr, _gate) = start().await;
    let guides = [
        ("quickstart", include_str!("../../docs/quickstart.md")),
        ("sessions", include_str!("../../docs/sessions.md")),
        ("cookies", include_str!("../../docs/cookies.md")),
        ("throttling", include_str!("../../docs/throttling.md")),
    ];
    let mut checked = 0;
    for (guide, text) in guides {
        let mut in_shell = false;
        for line in text.lines() {
            if line.starts_with("```") {
                in_shell = line == "```sh";
                continue;
            }
            if !in_shell || !line.starts_with("curl ") {
                continue;
            }
            let method = if line.contains("-X POST") {
                "POST"
            } else {
                "GET"
            };
            let path = line
                .split_whitespace()
                .find_map(|word| {
                    word.trim_matches('\'')
                        .trim_matches('"')
                        .strip_prefix("http://127.0.0.1:8000")
                })
                .unwrap_or_else(|| {
                    panic!("no http://127.0.0.1:8000 URL in docs/{guide}.md: {line}")
                });
            let reply = Call::new(method, path).send(addr).await;
            assert!(
                reply.status != 404 && reply.status != 405,
                "docs/{guide}.md names a missing route ({method} {path} -> {}): {line}",
                reply.status
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 15,
        "the guides should show at least 15 curl lines, found {checked}"
    );
}

#[tokio::test]
async fn logout_logout_all_and_reuse_detection_end_sessions() {
    const REVOKED: &str = r#"Bearer realm="api", error="invalid_token", error_description="The token has been revoked""#;
    let (addr, _gate) = start().await;

    // Logout ends this session: its access and refresh tokens.
    let pair = login(addr, "user1", "password1").await;
    let other = login(addr, "user1", "password1").await;
    let out = Call::post("/logout")
        .bearer(&token(&pair, "access_token"))
        .send(addr)
        .await;
    assert_eq!(out.status, 204, "{}", out.text());
    let me = Call::get("/me")
        .bearer(&token(&pair, "access_token"))
        .send(addr)
        .await;
    assert_challenge(&me, 401, REVOKED);
    let renewed = Call::post("/refresh")
        .bearer(&token(&pair, "refresh_token"))
        .send(addr)
        .await;
    assert_challenge(&renewed, 401, REVOKED);
    let still = Call::get("/me")
        .bearer(&token(&other, "access_token"))
        .send(addr)
        .await;
    assert_eq!(still.status, 200, "the other session lives on");

    // Logout-all ends every session of the user.
    let out = Call::post("/logout-all")
        .bearer(&token(&other, "access_token"))
        .send(addr)
        .await;
    assert_eq!(out.status, 204);
    let me = Call::get("/me")
        .bearer(&token(&other, "access_token"))
        .send(addr)
        .await;
    assert_challenge(&me, 401, REVOKED);
    let fresh = login(addr, "user1", "password1").await;
    let me = Call::get("/me")
        .bearer(&token(&fresh, "access_token"))
        .send(addr)
        .await;
    assert_eq!(me.status, 200, "a new login works");

    // A used refresh token presented again within 10 s is a retry (the first answer was
    // lost): a working pair of the same session, its refresh token the winner's.
    let first = token(&fresh, "refresh_token");
    let winner = Call::post("/refresh").bearer(&first).send(addr).await;
    assert_eq!(winner.status, 200);
    let again = Call::post("/refresh").bearer(&first).send(addr).await;
    assert_eq!(again.status, 200, "{}", again.text());
    let jti = |reply: &Reply| claims_of(&token(&reply.json(), "refresh_token"))["jti"].clone();
    assert_eq!(jti(&again), jti(&winner));
    for pair in [&winner, &again] {
        let me = Call::get("/me")
            .bearer(&token(&pair.json(), "access_token"))
            .send(addr)
            .await;
        assert_eq!(me.status, 200);
    }
}

/// The process's resident memory, in MiB (Linux `/proc/self/status`): `VmRSS` now, or
/// `VmHWM`, the peak so far.
fn resident_mib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib / 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_stays_under_200_mb_and_the_server_stays_healthy() {
    let _alone = GATE.write().await;
    let auth = jwtguard::Auth::builder().secret(SECRET).build().unwrap();
    let addr = serve(router(auth)).await;
    let before = resident_mib("VmRSS:");
    let sampling = tokio::spawn(async {
        let mut peak = 0;
        for _ in 0..600 {
            peak = peak.max(resident_mib("VmRSS:"));
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        peak
    });
    // 300 concurrent bad logins, each for a different (unknown) user, so that none is stopped
    // by the username throttle: every one would reach argon2.
    let mut logins = Vec::new();
    for i in 0..300 {
        logins.push(tokio::spawn(async move {
            Call::post("/login")
                .json(&json!({"username": format!("flood{i}"), "password": "guess"}))
                .send(addr)
                .await
                .status
        }));
    }
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    for login in logins {
        *statuses.entry(login.await.expect("a login")).or_default() += 1;
    }
    let peak = sampling.await.expect("sampling");
    println!("login flood: answers {statuses:?}; resident {before} MiB before, peak {peak} MiB");
    assert!(
        statuses.keys().all(|s| [401, 429, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(peak < 200, "resident memory peaked at {peak} MiB");
    // Healthy afterwards.
    let pair = login(addr, "user1", "password1").await;
    assert!(pair["access_token"].is_string());
}
