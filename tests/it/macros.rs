//! Each argument of each macro, over HTTP: statuses, challenges, bodies, claims.

use axum::routing::{get, post};
use axum::{Json, Router};
use jwtguard::{AuthError, Claims, Grant, login, protected, refresh};
use jwtguard_tests::forge::claims_of;
use jwtguard_tests::{Call, serve};
use serde_json::{Value, json};

use crate::{ADMIN, PROFILE, REPORTS_READ, REPORTS_WRITE, auth};

#[protected]
async fn any_token(claims: Claims) -> Json<Value> {
    Json(json!({ "user_id": claims.sub(), "fresh": claims.fresh(), "scopes": claims.scopes() }))
}

#[protected(scopes = "reports:read")]
async fn reports() -> &'static str {
    "q3"
}

#[protected(scopes = ["reports:read", "admin"])]
async fn both() -> &'static str {
    "both"
}

#[protected(any = "admin reports:write")]
async fn either() -> &'static str {
    "either"
}

#[protected(fresh)]
async fn settings() -> &'static str {
    "saved"
}

#[protected(refresh)]
async fn refresh_only(claims: Claims) -> String {
    claims.kind().as_str().to_owned()
}

#[derive(serde::Deserialize)]
struct LoginForm {
    username: String,
    #[serde(default)]
    admin: bool,
}

#[login(scopes = "reports:read reports:write profile")]
async fn log_in(Json(form): Json<LoginForm>) -> Result<Grant, AuthError> {
    if form.username == "nobody" {
        return Err(AuthError::invalid_credentials());
    }
    let grant = Grant::to(&form.username).scopes([REPORTS_READ, PROFILE]);
    Ok(if form.admin {
        // ADMIN and REPORTS_WRITE: ADMIN is above this endpoint's ceiling and is cut.
        Grant::to(&form.username).scopes([REPORTS_READ, REPORTS_WRITE, ADMIN])
    } else {
        grant
    })
}

#[refresh]
async fn renew(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

#[refresh(scopes = "reports:read")]
async fn renew_narrow(claims: Claims) -> Grant {
    // Asks for more than the refresh token holds: cut down to it and to the ceiling.
    Grant::renew(&claims).scopes([REPORTS_READ, REPORTS_WRITE, ADMIN])
}

#[refresh]
async fn renew_as_someone_else(_claims: Claims) -> Grant {
    Grant::to("root")
}

fn app() -> Router {
    Router::new()
        .route("/any", get(any_token))
        .route("/reports", get(reports))
        .route("/both", get(both))
        .route("/either", get(either))
        .route("/settings", post(settings))
        .route("/refresh-only", get(refresh_only))
        .route("/login", post(log_in))
        .route("/refresh", post(renew))
        .route("/refresh-narrow", post(renew_narrow))
        .route("/refresh-other", post(renew_as_someone_else))
        .with_state(auth())
}

async fn pair(addr: std::net::SocketAddr, body: Value) -> (String, String) {
    let reply = Call::post("/login").json(&body).send(addr).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    (
        json["access_token"].as_str().unwrap().to_owned(),
        json["refresh_token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn login_answers_a_fresh_pair_without_caching() {
    let addr = serve(app()).await;
    let reply = Call::post("/login")
        .json(&json!({"username": "ann"}))
        .send(addr)
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("cache-control"), "no-store");
    let body = reply.json();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    let access = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(access["sub"], "ann");
    assert_eq!(access["type"], "access");
    assert_eq!(access["fresh"], true);
    assert_eq!(access["scopes"], json!(["reports:read", "profile"]));
    let refresh = claims_of(body["refresh_token"].as_str().unwrap());
    assert_eq!(refresh["type"], "refresh");
    assert_eq!(refresh["fresh"], false);
}

#[tokio::test]
async fn login_errors_pass_through_and_scopes_are_clamped_to_the_ceiling() {
    let addr = serve(app()).await;
    let reply = Call::post("/login")
        .json(&json!({"username": "nobody"}))
        .send(addr)
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["error"], "invalid_credentials");
    let (access, _) = pair(addr, json!({"username": "root", "admin": true})).await;
    assert_eq!(
        claims_of(&access)["scopes"],
        json!(["reports:read", "reports:write"])
    );
}

#[tokio::test]
async fn protected_without_arguments_needs_any_valid_access_token() {
    let addr = serve(app()).await;
    let missing = Call::get("/any").send(addr).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.challenge(), r#"Bearer realm="api""#);
    assert_eq!(missing.json()["message"], "Missing JWT in request");

    let bad = Call::get("/any").bearer("not.a.token").send(addr).await;
    assert_eq!(bad.status, 401);
    assert!(
        bad.challenge().contains(r#"error="invalid_token""#),
        "{}",
        bad.challenge()
    );

    let (access, _) = pair(addr, json!({"username": "ann"})).await;
    let ok = Call::get("/any").bearer(&access).send(addr).await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.json(),
        json!({"user_id": "ann", "fresh": true, "scopes": ["reports:read", "profile"]})
    );
}

#[tokio::test]
async fn scopes_all_of_and_any_of() {
    let addr = serve(app()).await;
    let (user, _) = pair(addr, json!({"username": "ann"})).await;
    let (writer, _) = pair(addr, json!({"username": "root", "admin": true})).await;

    assert_eq!(
        Call::get("/reports").bearer(&user).send(addr).await.text(),
        "q3"
    );

    let denied = Call::get("/both").bearer(&user).send(addr).await;
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.challenge(),
        r#"Bearer realm="api", error="insufficient_scope", scope="reports:read admin""#
    );
    assert_eq!(denied.json()["error"], "insufficient_scope");

    assert_eq!(
        Call::get("/either").bearer(&user).send(addr).await.status,
        403
    );
    assert_eq!(
        Call::get("/either").bearer(&writer).send(addr).await.status,
        200
    );
}

#[tokio::test]
async fn refresh_flow_gives_a_non_fresh_token_that_cannot_reach_fresh_routes() {
    let addr = serve(app()).await;
    let (access, refresh_token) = pair(addr, json!({"username": "ann"})).await;
    assert_eq!(
        Call::post("/settings")
            .bearer(&access)
            .send(addr)
            .await
            .status,
        200
    );

    let renewed = Call::post("/refresh")
        .bearer(&refresh_token)
        .send(addr)
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.text());
    assert_eq!(renewed.header("cache-control"), "no-store");
    let new_access = renewed.json()["access_token"].as_str().unwrap().to_owned();
    let claims = claims_of(&new_access);
    assert_eq!(claims["fresh"], false);
    assert_eq!(claims["sub"], "ann");
    assert_eq!(claims["scopes"], json!(["reports:read", "profile"]));

    assert_eq!(
        Call::get("/reports")
            .bearer(&new_access)
            .send(addr)
            .await
            .status,
        200
    );
    let stale = Call::post("/settings").bearer(&new_access).send(addr).await;
    assert_eq!(stale.status, 401);
    assert!(
        stale
            .challenge()
            .contains(r#"error="insufficient_user_authentication""#),
        "{}",
        stale.challenge()
    );
    assert_eq!(stale.json()["error"], "fresh_token_required");
}

#[tokio::test]
async fn refresh_reads_the_token_from_a_json_body_too() {
    let addr = serve(app()).await;
    let (_, refresh_token) = pair(addr, json!({"username": "ann"})).await;
    let renewed = Call::post("/refresh")
        .json(&json!({ "refresh_token": refresh_token }))
        .send(addr)
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.text());

    let both = Call::post("/refresh")
        .bearer(&refresh_token)
        .json(&json!({ "refresh_token": refresh_token }))
        .send(addr)
        .await;
    assert_eq!(both.status, 400);
    assert!(both.challenge().contains(r#"error="invalid_request""#));

    let garbage = Call::post("/refresh")
        .raw_body("application/json", "{nope")
        .send(addr)
        .await;
    assert_eq!(garbage.status, 400);
    // The description is a valid quoted-string: no quote inside it.
    assert_eq!(
        garbage.challenge(),
        r#"Bearer realm="api", error="invalid_request", error_description="The body must be a JSON object""#
    );
    // Each refresh token renews once (rotation): a new one for the +json case.
    let (_, refresh_token) = pair(addr, json!({"username": "ann"})).await;
    let body = json!({ "refresh_token": refresh_token }).to_string();
    let suffixed = Call::post("/refresh")
        .raw_body("application/vnd.api+json; charset=utf-8", body.clone())
        .send(addr)
        .await;
    assert_eq!(suffixed.status, 200, "a +json type is JSON");
    let not_json = Call::post("/refresh")
        .raw_body("application/jsonx", body)
        .send(addr)
        .await;
    assert_eq!(
        not_json.status, 401,
        "application/jsonx is not JSON: no token was sent"
    );
    let none = Call::post("/refresh").send(addr).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.challenge(), r#"Bearer realm="api""#);
}

#[tokio::test]
async fn token_types_are_never_confused() {
    let addr = serve(app()).await;
    let (access, refresh_token) = pair(addr, json!({"username": "ann"})).await;
    let wrong = Call::post("/refresh").bearer(&access).send(addr).await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.challenge().contains(r#"error="invalid_token""#));

    let on_access_route = Call::get("/any").bearer(&refresh_token).send(addr).await;
    assert_eq!(on_access_route.status, 401);

    let refresh_route = Call::get("/refresh-only")
        .bearer(&refresh_token)
        .send(addr)
        .await;
    assert_eq!(
        (refresh_route.status, refresh_route.text().as_str()),
        (200, "refresh")
    );
    assert_eq!(
        Call::get("/refresh-only")
            .bearer(&access)
            .send(addr)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn refresh_never_widens_scopes() {
    let addr = serve(app()).await;
    let (_, refresh_token) = pair(addr, json!({"username": "ann"})).await;
    let renewed = Call::post("/refresh-narrow")
        .bearer(&refresh_token)
        .send(addr)
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.text());
    let body = renewed.json();
    let access = claims_of(body["access_token"].as_str().unwrap());
    // Asked for reports:read, reports:write and admin; the refresh token holds reports:read
    // and profile; the ceiling is reports:read.
    assert_eq!(access["scopes"], json!(["reports:read"]));
    assert_eq!(access["fresh"], false);
    let refresh = claims_of(body["refresh_token"].as_str().unwrap());
    assert_eq!(refresh["scopes"], json!(["reports:read"]));
}

#[tokio::test]
async fn refresh_only_renews_the_refresh_tokens_own_subject() {
    let addr = serve(app()).await;
    let (_, refresh_token) = pair(addr, json!({"username": "ann"})).await;
    let reply = Call::post("/refresh-other")
        .bearer(&refresh_token)
        .send(addr)
        .await;
    assert_eq!(reply.status, 500);
    assert_eq!(
        reply.json(),
        json!({"error": "internal_error", "message": "Internal server error"})
    );
    assert!(!reply.text().contains("eyJ"), "no token in the answer");
}

#[login]
async fn log_in_by_address(Json(form): Json<LoginForm>) -> Result<Grant, AuthError> {
    if form.username == "nobody" {
        return Err(AuthError::invalid_credentials());
    }
    Ok(Grant::to(&form.username))
}

#[login(unthrottled)]
async fn log_in_unthrottled(Json(form): Json<LoginForm>) -> Result<Grant, AuthError> {
    if form.username == "nobody" {
        return Err(AuthError::invalid_credentials());
    }
    Ok(Grant::to(&form.username))
}

#[tokio::test]
async fn a_login_without_throttle_is_throttled_by_address_unless_unthrottled() {
    let auth = jwtguard::Auth::builder()
        .secret(crate::SECRET)
        .throttle(jwtguard::Throttle::default().per_address(3))
        .build()
        .unwrap();
    let router = Router::new()
        .route("/login", post(log_in_by_address))
        .route("/login-unthrottled", post(log_in_unthrottled))
        .with_state(auth);
    // The client's address comes from `ConnectInfo`.
    let addr = jwtguard_tests::serve_with_peers(router).await;
    let attempt = |path: &'static str, username: &'static str| async move {
        Call::post(path)
            .json(&json!({ "username": username }))
            .send(addr)
            .await
    };
    // Successes spend no budget.
    for _ in 0..5 {
        assert_eq!(attempt("/login", "ann").await.status, 200);
    }
    // Failures do, whatever the username: the fourth from this address is held back.
    for _ in 0..3 {
        assert_eq!(attempt("/login", "nobody").await.status, 401);
    }
    let locked = attempt("/login", "nobody").await;
    assert_eq!(locked.status, 429, "{}", locked.text());
    assert!(!locked.header("retry-after").is_empty());
    assert_eq!(attempt("/login", "ann").await.status, 429);
    // Turned off explicitly, nothing is counted or held back.
    for _ in 0..5 {
        assert_eq!(attempt("/login-unthrottled", "nobody").await.status, 401);
    }
    assert_eq!(attempt("/login-unthrottled", "ann").await.status, 200);
}
