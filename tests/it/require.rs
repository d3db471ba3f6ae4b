//! `require!` in front of a whole router: the answers of `#[protected]`, on every route.

use axum::Router;
use axum::routing::get;
use jwtguard::{Claims, Grant, require};
use jwtguard_tests::{Call, serve};

use crate::{ADMIN, REPORTS_READ, auth};

async fn who(claims: Claims) -> String {
    claims.sub().to_owned()
}

fn admin_area() -> Router {
    let auth = auth();
    Router::new()
        .route("/users", get(|| async { "users" }))
        .route("/who", get(who))
        .route_layer(require!(auth, scopes = "admin"))
        .with_state(auth)
}

#[tokio::test]
async fn every_route_behind_the_layer_needs_the_requirement() {
    let addr = serve(Router::new().nest("/admin", admin_area())).await;
    let admin = auth()
        .create_access_token(&Grant::to("root").scopes([ADMIN]))
        .expect("token");
    let reader = auth()
        .create_access_token(&Grant::to("ann").scopes([REPORTS_READ]))
        .expect("token");
    for path in ["/admin/users", "/admin/who"] {
        let reply = Call::get(path).send(addr).await;
        assert_eq!(reply.status, 401, "{path}");
        assert_eq!(reply.challenge(), r#"Bearer realm="api""#);
        let reply = Call::get(path).bearer(&reader).send(addr).await;
        assert_eq!(reply.status, 403, "{path}");
        assert_eq!(
            reply.challenge(),
            r#"Bearer realm="api", error="insufficient_scope", scope="admin""#
        );
        let reply = Call::get(path).bearer("garbage").send(addr).await;
        assert_eq!(reply.status, 401, "{path}");
        assert!(reply.challenge().contains(r#"error="invalid_token""#));
        let reply = Call::get(path).bearer(&admin).send(addr).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    }
    assert_eq!(
        Call::get("/admin/who")
            .bearer(&admin)
            .send(addr)
            .await
            .text(),
        "root"
    );
    // A path with no route stays a 404 (route_layer), whoever asks.
    assert_eq!(Call::get("/admin/nothing").send(addr).await.status, 404);
}
