//! The example's document, rendered and checked: each route's security requirement and
//! scopes, the scheme with the scopes' descriptions, the answers of the issuing endpoints, and
//! a validation as OpenAPI 3.1 by an independent validator (Python's openapi-spec-validator,
//! installed by `.ci/run`). Then the routes themselves, over HTTP.

use jwtguard::{Auth, Grant};
use jwtguard_tests::{Call, serve};
use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::api::{ApiDoc, router};
use crate::{ADMIN, REPORTS_READ, REPORTS_WRITE};

const SECRET: &str = "openapi-example-test-secret-long-enough-000000";

fn document() -> Value {
    serde_json::to_value(ApiDoc::openapi()).expect("the document serializes")
}

#[test]
fn every_route_carries_its_security_requirement_and_scopes() {
    let doc = document();
    let security = |path: &str, method: &str| doc["paths"][path][method]["security"].clone();
    assert_eq!(security("/me", "get"), json!([{"jwtguard": []}]));
    assert_eq!(
        security("/reports", "get"),
        json!([{"jwtguard": ["reports:read"]}])
    );
    // `any`: one alternative per scope.
    assert_eq!(
        security("/reports", "post"),
        json!([{"jwtguard": ["reports:write"]}, {"jwtguard": ["admin"]}])
    );
    assert_eq!(
        security("/tenants/{tenant}", "get"),
        json!([{"jwtguard": ["reports:read"]}])
    );
    assert_eq!(
        security("/admin/users", "get"),
        json!([{"jwtguard": ["admin"]}])
    );
    let scheme = &doc["components"]["securitySchemes"]["jwtguard"];
    assert_eq!(scheme["type"], "oauth2");
    assert_eq!(scheme["flows"]["password"]["tokenUrl"], "/token");
    assert_eq!(
        scheme["flows"]["password"]["scopes"],
        json!({
            "reports:read": "Read the quarterly reports.",
            "reports:write": "Write the quarterly reports.",
            "admin": "Administer users and tenants."
        })
    );
    for (path, refusal, schema) in [
        ("/login", "401", "ErrorAnswer"),
        ("/refresh", "401", "ErrorAnswer"),
        ("/token", "400", "OAuthErrorAnswer"),
    ] {
        let responses = &doc["paths"][path]["post"]["responses"];
        assert_eq!(
            responses["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/TokenResponse",
            "{path}"
        );
        assert_eq!(
            responses[refusal]["content"]["application/json"]["schema"]["$ref"],
            format!("#/components/schemas/{schema}"),
            "{path}"
        );
    }
    assert!(
        doc["components"]["schemas"]["TokenResponse"]["properties"]["access_token"].is_object()
    );
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let path = std::env::temp_dir().join(format!("jwtguard-openapi-{}.json", std::process::id()));
    std::fs::write(&path, doc.to_string()).expect("write the document");
    let output = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&path)
        .output()
        .expect("python3 must be installed");
    let _ = std::fs::remove_file(&path);
    assert!(
        output.status.success(),
        "openapi-spec-validator refused the document (install it with `python3 -m pip install openapi-spec-validator`):\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn the_documented_routes_answer_as_documented() {
    let auth = Auth::builder().secret(SECRET).build().expect("auth");
    let addr = serve(router(auth.clone())).await;
    let served = Call::get("/openapi.json").send(addr).await.json();
    assert_eq!(
        served,
        document(),
        "the served document is the one checked above"
    );

    let ann = auth
        .create_access_token(&Grant::to("ann").scopes([REPORTS_READ]))
        .expect("token");
    let root = auth
        .create_access_token(
            &Grant::to("root")
                .scopes([REPORTS_READ, REPORTS_WRITE, ADMIN])
                .fresh(true),
        )
        .expect("token");
    let me = Call::get("/me").bearer(&ann).send(addr).await;
    assert_eq!(me.json(), json!({"name": "ann", "tenant": "acme"}));
    for (method, path, token, status) in [
        ("GET", "/reports", &ann, 200),
        ("POST", "/reports", &ann, 403),
        ("POST", "/reports", &root, 200),
        ("GET", "/tenants/acme", &ann, 200),
        ("GET", "/tenants/ops", &ann, 403),
        ("GET", "/admin/users", &ann, 403),
        ("GET", "/admin/users", &root, 200),
    ] {
        let reply = Call::new(method, path).bearer(token).send(addr).await;
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.text());
    }
    let pair = Call::post("/token")
        .form("grant_type=password&username=ann&password=ann-password")
        .send(addr)
        .await;
    assert_eq!(pair.status, 200, "{}", pair.text());
    assert_eq!(pair.json()["scope"], "reports:read");
}
