//! The findings of the wave-1 review, over HTTP: the refresh body rule, handler errors
//! rendered with the application's `Auth`, the request cache bound to its verifier, wildcard
//! ceilings, and AuthX's tokens.

use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jwtguard::{Auth, AuthError, Claims, ErrorParts, Grant, login, protected, refresh};
use jwtguard_tests::forge::claims_of;
use jwtguard_tests::{Call, serve};
use serde_json::{Value, json};

use crate::{ALL_REPORTS, REPORTS_READ, SECRET, auth};

#[login]
async fn log_in(Json(body): Json<Value>) -> Result<Grant, AuthError> {
    match body["username"].as_str() {
        Some("nobody") | None => Err(AuthError::invalid_credentials()),
        Some(name) => Ok(Grant::to(name).scopes([ALL_REPORTS])),
    }
}

#[login(scopes = "reports:read")]
async fn log_in_capped(Json(body): Json<Value>) -> Grant {
    Grant::to(body["username"].as_str().unwrap_or("ann")).scopes([ALL_REPORTS])
}

#[refresh]
async fn renew(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

#[refresh(scopes = "reports:read")]
async fn renew_capped(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

#[protected]
async fn me(claims: Claims) -> String {
    claims.sub().to_owned()
}

fn custom_body(parts: ErrorParts) -> Response {
    Json(json!({ "detail": parts.message, "code": parts.code })).into_response()
}

fn app(auth: Auth) -> Router {
    Router::new()
        .route("/login", post(log_in))
        .route("/login-capped", post(log_in_capped))
        .route("/refresh", post(renew))
        .route("/refresh-capped", post(renew_capped))
        .route("/me", get(me))
        .with_state(auth)
}

async fn pair(addr: std::net::SocketAddr) -> (String, String) {
    let reply = Call::post("/login")
        .json(&json!({"username": "ann"}))
        .send(addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    (
        json["access_token"].as_str().unwrap().to_owned(),
        json["refresh_token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_json_body_without_refresh_token_leaves_the_bearer_header_in_charge() {
    let addr = serve(app(auth())).await;
    for body in [json!({}), json!({"device": "phone"})] {
        // Each refresh token renews once (rotation): a new pair per case.
        let (access, refresh) = pair(addr).await;
        let reply = Call::post("/refresh")
            .bearer(&refresh)
            .json(&body)
            .send(addr)
            .await;
        assert_eq!(reply.status, 200, "{body}: {}", reply.text());
        // An access token stays refused in the same combination.
        let reply = Call::post("/refresh")
            .bearer(&access)
            .json(&body)
            .send(addr)
            .await;
        assert_eq!(reply.status, 401, "{body}");
        assert!(reply.challenge().contains(r#"error="invalid_token""#));
        // No credential at all is a missing token, not a malformed request.
        let reply = Call::post("/refresh").json(&body).send(addr).await;
        assert_eq!(reply.status, 401, "{body}");
        assert_eq!(reply.json()["error"], "missing_token");
    }
    let (access, refresh) = pair(addr).await;
    let reply = Call::post("/refresh")
        .json(&json!({"refresh_token": access, "device": "phone"}))
        .send(addr)
        .await;
    assert_eq!(reply.status, 401, "an access token in the body");
    assert!(reply.challenge().contains(r#"error="invalid_token""#));
    let reply = Call::post("/refresh")
        .bearer(&refresh)
        .json(&json!({"refresh_token": refresh}))
        .send(addr)
        .await;
    assert_eq!(reply.status, 400, "sent twice");
}

#[tokio::test]
async fn handler_errors_are_rendered_with_the_applications_realm_and_body() {
    let auth = Auth::builder()
        .secret(SECRET)
        .realm("shop")
        .error_body(custom_body)
        .build()
        .expect("auth");
    let addr = serve(app(auth)).await;
    let reply = Call::post("/login")
        .json(&json!({"username": "nobody"}))
        .send(addr)
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.challenge(), r#"Bearer realm="shop""#);
    assert_eq!(
        reply.json(),
        json!({"detail": "Invalid credentials", "code": "invalid_credentials"})
    );
    assert_eq!(reply.header("cache-control"), "no-store");
}

#[tokio::test]
async fn ceilings_keep_what_a_granted_wildcard_covers() {
    let addr = serve(app(auth())).await;
    let reply = Call::post("/login-capped")
        .json(&json!({"username": "ann"}))
        .send(addr)
        .await;
    let access = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&access)["scopes"], json!(["reports:read"]));

    let (_, refresh) = pair(addr).await;
    assert_eq!(claims_of(&refresh)["scopes"], json!(["reports:*"]));
    let reply = Call::post("/refresh-capped")
        .bearer(&refresh)
        .send(addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let renewed = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&renewed)["scopes"], json!(["reports:read"]));
}

// ---- the per-request cache belongs to the Auth that verified ----------------------------------

/// An admin area with its own `Auth` (another secret), nested in a public app whose middleware
/// verified the caller with the public `Auth` first.
#[protected]
async fn admin_area(claims: Claims) -> String {
    format!("admin {}", claims.sub())
}

/// A public middleware that reads (and so caches) the caller's claims, if it can.
async fn who(
    claims: Result<Claims, AuthError>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // The public middleware reads (and caches) the caller's claims, if it can.
    let _ = claims.map(|c| c.sub().to_owned());
    next.run(request).await
}

#[tokio::test]
async fn a_token_accepted_by_one_auth_is_verified_again_by_another() {
    use axum::middleware::from_fn_with_state;
    let public = auth();
    let admin = Auth::builder()
        .secret("an-entirely-different-admin-secret-of-48-bytes!!")
        .build()
        .expect("admin auth");
    let admin_router = Router::new()
        .route("/area", get(admin_area))
        .with_state(admin.clone());
    let app = Router::new()
        .route("/me", get(me))
        .nest("/admin", admin_router)
        .layer(from_fn_with_state(public.clone(), who))
        .with_state(public.clone());
    let addr = serve(app).await;

    let public_token = public
        .create_access_token(&Grant::to("mallory"))
        .expect("token");
    let reply = Call::get("/me").bearer(&public_token).send(addr).await;
    assert_eq!(reply.status, 200);
    let reply = Call::get("/admin/area")
        .bearer(&public_token)
        .send(addr)
        .await;
    assert_eq!(reply.status, 401, "the admin Auth must verify for itself");
    assert!(reply.challenge().contains("The token signature is invalid"));

    let admin_token = admin
        .create_access_token(&Grant::to("root"))
        .expect("token");
    let reply = Call::get("/admin/area")
        .bearer(&admin_token)
        .send(addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), "admin root");
}

// ---- tokens minted by AuthX 1.7 ---------------------------------------------------------------

fn authx() -> (Auth, Value) {
    let fixtures: Value =
        serde_json::from_str(include_str!("../fixtures/authx/tokens.json")).expect("fixtures");
    let auth = Auth::builder()
        .secret(fixtures["secret"].as_str().expect("secret"))
        .build()
        .expect("auth");
    (auth, fixtures)
}

#[protected(scopes = "reports:read", fresh)]
async fn authx_reports(claims: Claims) -> Json<Value> {
    Json(json!({ "sub": claims.sub(), "fresh": claims.fresh(), "scopes": claims.scopes() }))
}

#[tokio::test]
async fn authx_tokens_verify_with_their_fresh_and_scopes_and_refresh() {
    let (auth, fixtures) = authx();
    let token = |name: &str| fixtures[name].as_str().expect(name).to_owned();
    // AuthX writes a fractional `exp`.
    assert!(claims_of(&token("access_token"))["exp"].is_f64());
    let claims = auth
        .verify(&token("access_token"))
        .expect("AuthX access token");
    assert_eq!(claims.sub(), "authx-user");
    assert!(claims.fresh());
    assert!(claims.has_scope(REPORTS_READ));

    let app = Router::new()
        .route("/reports", get(authx_reports))
        .route("/refresh", post(renew))
        .with_state(auth);
    let addr = serve(app).await;
    let reply = Call::get("/reports")
        .bearer(&token("access_token"))
        .send(addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({"sub": "authx-user", "fresh": true, "scopes": ["reports:read", "profile"]})
    );
    let reply = Call::get("/reports")
        .bearer(&token("access_token_not_fresh"))
        .send(addr)
        .await;
    assert_eq!(reply.status, 403, "no scopes: refused before freshness");

    // Its refresh token (no `fresh` member) renews at #[refresh].
    let reply = Call::post("/refresh")
        .bearer(&token("refresh_token"))
        .send(addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let access = claims_of(reply.json()["access_token"].as_str().unwrap());
    assert_eq!(
        (access["sub"].clone(), access["fresh"].clone()),
        (json!("authx-user"), json!(false))
    );
}
