//! One axum application with the same small JSON handler behind four kinds of guard, shared by
//! `benches/router.rs`, `benches/load.rs` and `tests/allocations.rs`. Each crate root declares
//! `mod common` and the `scopes!` that `#[protected]` resolves, with `reports:read` among them.
//!
//! | path | guard |
//! |---|---|
//! | `/open` | none |
//! | `/hand` | a hand-written `FromRequestParts` extractor: `jsonwebtoken::decode` + scope check |
//! | `/peer` | `axum-jwt-auth` 0.7 (`Claims<T>` extractor) + the same scope check |
//! | `/reports` | `#[protected(scopes = "reports:read")]` |
//! | `/claims` | `#[protected(scopes = "reports:read", fresh)]` with a `Claims` parameter (the verified token shared with the handler) |
//! | `/cached`, `/cached-claims` | `/reports` and `/claims` with `verified_token_cache(1024)` on |

// Each user of this module uses a different part of it.
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Request, StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use http_body_util::BodyExt as _;
use jwtguard::{Auth, Claims, protected};
use serde::Serialize;
use tower::ServiceExt as _;

use crate::common::ready;

/// The claims every non-jwtguard guard deserializes (owned strings, as users write them).
pub(crate) use crate::common::TypedClaims as AppClaims;

/// The scope every guarded route requires.
pub(crate) const REQUIRED: &str = "reports:read";

/// The handler's answer: `{"quarter":"q3","revenue":1250000,"currency":"EUR"}` (51 bytes).
#[derive(Serialize)]
pub(crate) struct Report {
    quarter: &'static str,
    revenue: u64,
    currency: &'static str,
}

fn report() -> Json<Report> {
    Json(Report {
        quarter: "q3",
        revenue: 1_250_000,
        currency: "EUR",
    })
}

/// What the hand-written extractor needs, prepared once.
pub(crate) struct HandKeys {
    key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
}

/// The router state: every guard finds its configuration through `FromRef`.
#[derive(Clone, FromRef)]
pub(crate) struct AppState {
    auth: Auth,
    /// The same configuration with the verified-token cache, for the `/cached` routes.
    #[from_ref(skip)]
    cached: Auth,
    peer: axum_jwt_auth::Decoder<AppClaims>,
    hand: Arc<HandKeys>,
}

/// A strict `Validation` as a careful user writes it: HS256 only, `exp`, `iat`, `sub`
/// required, `nbf` checked, no leeway.
fn strict() -> jsonwebtoken::Validation {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "iat", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = 0;
    validation
}

impl AppState {
    pub(crate) fn new(auth: Auth, secret: &[u8]) -> Self {
        // axum-jwt-auth 0.7 takes jsonwebtoken 10's types and its `LocalDecoder` refuses a
        // `Validation` without an audience. The token carries no `aud` (nor does any other
        // guard here check one), so an audience is named and its check switched off: the same
        // work as the other guards, no less.
        let mut peer = jsonwebtoken10::Validation::new(jsonwebtoken10::Algorithm::HS256);
        peer.set_required_spec_claims(&["exp", "iat", "sub"]);
        peer.validate_nbf = true;
        peer.leeway = 0;
        peer.set_audience(&["unused"]);
        peer.validate_aud = false;
        let peer = axum_jwt_auth::LocalDecoder::builder()
            .keys(vec![jsonwebtoken10::DecodingKey::from_secret(secret)])
            .validation(peer)
            .build()
            .expect("axum-jwt-auth decoder");
        let cached = Auth::builder()
            .secret(std::str::from_utf8(secret).expect("a text secret"))
            .verified_token_cache(1024)
            .build()
            .expect("auth with the verified-token cache");
        Self {
            auth,
            cached,
            peer: Arc::new(peer),
            hand: Arc::new(HandKeys {
                key: jsonwebtoken::DecodingKey::from_secret(secret),
                validation: strict(),
            }),
        }
    }
}

async fn open() -> Json<Report> {
    report()
}

/// The extractor a user writes by hand around `jsonwebtoken`.
pub(crate) struct HandAuth(pub(crate) AppClaims);

impl FromRequestParts<AppState> for HandAuth {
    type Rejection = StatusCode;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(StatusCode::UNAUTHORIZED)?;
        let data =
            jsonwebtoken::decode::<AppClaims>(token, &state.hand.key, &state.hand.validation)
                .map_err(|_| StatusCode::UNAUTHORIZED)?;
        if !data.claims.scopes.iter().any(|s| s == REQUIRED) {
            return Err(StatusCode::FORBIDDEN);
        }
        Ok(Self(data.claims))
    }
}

async fn hand(_: HandAuth) -> Json<Report> {
    report()
}

async fn peer(claims: axum_jwt_auth::Claims<AppClaims>) -> Result<Json<Report>, StatusCode> {
    if claims.claims.scopes.iter().any(|s| s == REQUIRED) {
        Ok(report())
    } else {
        Err(StatusCode::FORBIDDEN)
    }
}

#[protected(scopes = "reports:read")]
async fn reports() -> Json<Report> {
    report()
}

// `fresh` as in the speed targets: one more check than the peers make.
#[protected(scopes = "reports:read", fresh)]
async fn with_claims(claims: Claims) -> Json<Report> {
    std::hint::black_box(claims.sub());
    report()
}

/// The routes over one state.
pub(crate) fn router(state: AppState) -> Router {
    let cached = AppState {
        auth: state.cached.clone(),
        ..state.clone()
    };
    Router::new()
        .route("/open", get(open))
        .route("/hand", get(hand))
        .route("/peer", get(peer))
        .route("/reports", get(reports))
        .route("/claims", get(with_claims))
        // Route-level state: the same router, so routing costs the same as for `/reports`.
        .route("/cached", get(reports).with_state(cached.clone()))
        .route("/cached-claims", get(with_claims).with_state(cached))
        .with_state(state)
}

/// `GET path` with `Authorization: Bearer <token>` (sent to every route, so that the only
/// difference between them is the guard).
pub(crate) fn request(path: &'static str, authorization: &HeaderValue) -> Request<Body> {
    let mut request = Request::new(Body::empty());
    *request.uri_mut() = Uri::from_static(path);
    request
        .headers_mut()
        .insert(AUTHORIZATION, authorization.clone());
    request
}

/// The `Authorization` value for `token`.
pub(crate) fn bearer(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Bearer {token}")).expect("header value")
}

/// One request through `router` in-process (`tower::ServiceExt::oneshot`, no sockets), the
/// answer read to the end.
pub(crate) fn call(
    router: &Router,
    path: &'static str,
    authorization: &HeaderValue,
) -> (StatusCode, Bytes) {
    let response = ready(router.clone().oneshot(request(path, authorization))).expect("infallible");
    let status = response.status();
    let body = ready(response.into_body().collect())
        .expect("body")
        .to_bytes();
    (status, body)
}
