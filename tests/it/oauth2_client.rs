//! `#[token_endpoint]` against a real OAuth 2 client: oauth2-rs 5's `BasicClient`, over our
//! own hyper client (its `AsyncHttpClient` interface, no reqwest). What oauth2 cannot send
//! (another grant type, a form missing a field, JSON) goes through a raw `Call`.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Mutex;

use axum::Router;
use axum::routing::{get, post};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use jwtguard::{AuthError, Claims, Grant, PasswordGrant, protected};
use jwtguard_tests::forge::claims_of;
use jwtguard_tests::{Call, Reply, serve};
use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenResponse, BasicTokenType};
use oauth2::http::header::{AUTHORIZATION, HOST};
use oauth2::http::{HeaderMap, HeaderValue, Uri};
use oauth2::{
    AsyncHttpClient, ClientId, ClientSecret, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, RefreshToken, RequestTokenError, ResourceOwnerPassword, ResourceOwnerUsername,
    Scope, TokenResponse, TokenUrl,
};
use serde_json::Value;
use tokio::net::TcpStream;

use crate::{PROFILE, REPORTS_READ, auth};

const USER: &str = "ann";
/// A user who holds no scope at all.
const NO_SCOPES: &str = "bob";
const PASSWORD: &str = "correct horse battery staple";

#[jwtguard::token_endpoint]
async fn token(form: PasswordGrant) -> Result<Grant, AuthError> {
    if form.password != PASSWORD {
        return Err(AuthError::invalid_credentials());
    }
    match form.username.as_str() {
        USER => Ok(Grant::to(USER).scopes([REPORTS_READ, PROFILE])),
        NO_SCOPES => Ok(Grant::to(NO_SCOPES)),
        _ => Err(AuthError::invalid_credentials()),
    }
}

#[protected]
async fn me(claims: Claims) -> String {
    claims.sub().to_owned()
}

#[protected(scopes = "reports:read")]
async fn reports() -> &'static str {
    "reports"
}

#[protected(scopes = "profile")]
async fn profile() -> &'static str {
    "profile"
}

fn app() -> Router {
    Router::new()
        .route("/oauth/token", post(token))
        .route("/me", get(me))
        .route("/reports", get(reports))
        .route("/profile", get(profile))
        .with_state(auth())
}

/// oauth2's HTTP client: each request on a new hyper HTTP/1 connection to the URL's
/// authority, in origin-form; it keeps what it sent and received for the assertions.
#[derive(Debug, Default)]
struct HyperClient {
    /// The headers of each request sent.
    sent: Mutex<Vec<HeaderMap>>,
    /// The headers of each answer received.
    received: Mutex<Vec<HeaderMap>>,
}

impl HyperClient {
    fn last_sent(&self) -> HeaderMap {
        self.sent
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request")
    }

    fn last_received(&self) -> HeaderMap {
        self.received
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("an answer")
    }

    /// Every answer so far said `Cache-Control: no-store` (RFC 6749 §5.1, §5.2).
    fn assert_no_store(&self) {
        let received = self.received.lock().unwrap();
        assert!(!received.is_empty());
        for headers in received.iter() {
            assert_eq!(headers.get("cache-control").unwrap(), "no-store");
        }
    }
}

impl<'c> AsyncHttpClient<'c> for HyperClient {
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, io::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            self.sent.lock().unwrap().push(request.headers().clone());
            let response = send(request).await?;
            self.received
                .lock()
                .unwrap()
                .push(response.headers().clone());
            Ok(response)
        })
    }
}

async fn send(request: HttpRequest) -> Result<HttpResponse, io::Error> {
    let (mut parts, body) = request.into_parts();
    let authority = parts
        .uri
        .authority()
        .ok_or_else(|| io::Error::other("the token URL has no authority"))?
        .clone();
    let stream = TcpStream::connect(authority.as_str()).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(io::Error::other)?;
    tokio::spawn(connection);
    let origin_form = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .parse::<Uri>()
        .map_err(io::Error::other)?;
    parts.uri = origin_form;
    parts.headers.insert(
        HOST,
        HeaderValue::from_str(authority.as_str()).map_err(io::Error::other)?,
    );
    let request = hyper::Request::from_parts(parts, Full::new(Bytes::from(body)));
    let response = sender
        .send_request(request)
        .await
        .map_err(io::Error::other)?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(io::Error::other)?.to_bytes();
    Ok(HttpResponse::from_parts(parts, body.to_vec()))
}

type Client =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// A confidential client: oauth2 sends its id and secret as HTTP Basic auth (RFC 6749
/// §2.3.1), which this endpoint does not check and must not trip over.
fn client(addr: SocketAddr) -> Client {
    BasicClient::new(ClientId::new("reports-cli".to_owned()))
        .set_client_secret(ClientSecret::new("client-secret".to_owned()))
        .set_token_uri(TokenUrl::new(format!("http://{addr}/oauth/token")).expect("token URL"))
}

/// The user's pair from the password grant, as oauth2 parsed it.
async fn logged_in(client: &Client, http: &HyperClient) -> BasicTokenResponse {
    client
        .exchange_password(&username(USER), &password(PASSWORD))
        .request_async(http)
        .await
        .expect("a token response oauth2 accepts")
}

/// A public client: oauth2 sends `client_id` in the form instead.
fn public_client(addr: SocketAddr) -> Client {
    BasicClient::new(ClientId::new("reports-spa".to_owned()))
        .set_token_uri(TokenUrl::new(format!("http://{addr}/oauth/token")).expect("token URL"))
}

fn username(name: &str) -> ResourceOwnerUsername {
    ResourceOwnerUsername::new(name.to_owned())
}

fn password(secret: &str) -> ResourceOwnerPassword {
    ResourceOwnerPassword::new(secret.to_owned())
}

fn scope(name: &str) -> Scope {
    Scope::new(name.to_owned())
}

/// The granted scopes, sorted.
fn scopes_of(token: &BasicTokenResponse) -> Vec<String> {
    let mut names: Vec<String> = token
        .scopes()
        .expect("the token endpoint always sends `scope`")
        .iter()
        .map(|s| s.to_string())
        .collect();
    names.sort();
    names
}

/// The `scopes` claim of an access token, sorted.
fn claimed_scopes(access: &str) -> Vec<String> {
    let mut names: Vec<String> = claims_of(access)["scopes"]
        .as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

async fn get_with(addr: SocketAddr, path: &str, access: &str) -> Reply {
    Call::get(path).bearer(access).send(addr).await
}

/// What every successful answer must look like to a client.
fn assert_well_formed(token: &BasicTokenResponse) {
    assert_eq!(*token.token_type(), BasicTokenType::Bearer);
    let expires_in = token.expires_in().expect("expires_in is set");
    assert!(
        expires_in > std::time::Duration::ZERO
            && expires_in <= std::time::Duration::from_secs(15 * 60),
        "{expires_in:?}"
    );
    assert!(token.refresh_token().is_some(), "a refresh token is issued");
    let access = token.access_token().secret();
    assert_eq!(claims_of(access)["type"], "access");
    assert_eq!(
        claims_of(token.refresh_token().unwrap().secret())["type"],
        "refresh"
    );
}

/// The `ServerResponse` error type oauth2 parsed, or a panic naming what it got instead.
fn server_error<RE: std::error::Error>(
    result: Result<BasicTokenResponse, RequestTokenError<RE, oauth2::basic::BasicErrorResponse>>,
) -> (BasicErrorResponseType, Option<String>) {
    match result {
        Err(RequestTokenError::ServerResponse(error)) => {
            (error.error().clone(), error.error_description().cloned())
        }
        Err(RequestTokenError::Parse(error, body)) => panic!(
            "oauth2 could not parse the error ({error}): {}",
            String::from_utf8_lossy(&body)
        ),
        Err(other) => panic!("not a server response: {other:?}"),
        Ok(token) => panic!("expected an error, got {token:?}"),
    }
}

#[tokio::test]
async fn the_password_grant_gives_every_scope_of_the_user_when_none_is_asked() {
    let addr = serve(app()).await;
    let http = HyperClient::default();
    let token = client(addr)
        .exchange_password(&username(USER), &password(PASSWORD))
        .request_async(&http)
        .await
        .expect("a token response oauth2 accepts");

    // The client authenticated with Basic auth, and the endpoint did not mind.
    let sent = http.last_sent();
    assert!(
        sent.get(AUTHORIZATION)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Basic "),
        "{sent:?}"
    );
    assert_well_formed(&token);
    assert_eq!(scopes_of(&token), ["profile", "reports:read"]);
    let access = token.access_token().secret();
    assert_eq!(claimed_scopes(access), ["profile", "reports:read"]);
    assert_eq!(claims_of(access)["fresh"], true);

    let reply = get_with(addr, "/me", access).await;
    assert_eq!((reply.status, reply.text().as_str()), (200, USER));
    assert_eq!(get_with(addr, "/reports", access).await.status, 200);
    assert_eq!(get_with(addr, "/profile", access).await.status, 200);
    assert_eq!(
        http.last_received().get("content-type").unwrap(),
        "application/json"
    );
    http.assert_no_store();
}

#[tokio::test]
async fn the_password_grant_narrows_to_the_requested_scope() {
    let addr = serve(app()).await;
    let http = HyperClient::default();
    // A public client this time: `client_id` rides in the form, and is ignored too.
    let token = public_client(addr)
        .exchange_password(&username(USER), &password(PASSWORD))
        .add_scope(scope("reports:read"))
        .request_async(&http)
        .await
        .expect("a token response oauth2 accepts");
    assert!(http.last_sent().get(AUTHORIZATION).is_none());
    assert_well_formed(&token);
    assert_eq!(scopes_of(&token), ["reports:read"]);
    let access = token.access_token().secret();
    assert_eq!(claimed_scopes(access), ["reports:read"]);
    assert_eq!(get_with(addr, "/me", access).await.status, 200);
    assert_eq!(get_with(addr, "/reports", access).await.status, 200);
    assert_eq!(get_with(addr, "/profile", access).await.status, 403);

    // Two scopes, both held: both granted.
    let token = client(addr)
        .exchange_password(&username(USER), &password(PASSWORD))
        .add_scopes([scope("profile"), scope("reports:read")])
        .request_async(&http)
        .await
        .expect("a token response oauth2 accepts");
    assert_eq!(scopes_of(&token), ["profile", "reports:read"]);
    http.assert_no_store();
}

#[tokio::test]
async fn the_refresh_grant_renews_with_a_token_that_is_not_fresh() {
    let addr = serve(app()).await;
    let http = HyperClient::default();
    let client = client(addr);
    let first = logged_in(&client, &http).await;
    let refresh = first.refresh_token().expect("a refresh token");

    let renewed = client
        .exchange_refresh_token(refresh)
        .request_async(&http)
        .await
        .expect("a refresh response oauth2 accepts");
    assert_well_formed(&renewed);
    assert_eq!(scopes_of(&renewed), ["profile", "reports:read"]);
    let access = renewed.access_token().secret();
    assert_ne!(access, first.access_token().secret());
    let claims = claims_of(access);
    assert_eq!(claims["fresh"], false, "{claims}");
    assert_eq!(claims["sub"], USER);
    let reply = get_with(addr, "/me", access).await;
    assert_eq!((reply.status, reply.text().as_str()), (200, USER));
    assert_eq!(get_with(addr, "/reports", access).await.status, 200);

    // `scope` on a refresh narrows the access token only; the new refresh token keeps the
    // scope of the one presented (RFC 6749 §6), so a later refresh can widen back.
    let narrowed = client
        .exchange_refresh_token(renewed.refresh_token().expect("a new refresh token"))
        .add_scope(scope("profile"))
        .request_async(&http)
        .await
        .expect("a refresh response oauth2 accepts");
    assert_eq!(scopes_of(&narrowed), ["profile"]);
    assert_eq!(
        claimed_scopes(narrowed.access_token().secret()),
        ["profile"]
    );
    assert_eq!(
        claimed_scopes(narrowed.refresh_token().unwrap().secret()),
        ["profile", "reports:read"]
    );
    let widened = client
        .exchange_refresh_token(narrowed.refresh_token().unwrap())
        .request_async(&http)
        .await
        .expect("a refresh response oauth2 accepts");
    assert_eq!(scopes_of(&widened), ["profile", "reports:read"]);
    http.assert_no_store();
}

#[tokio::test]
async fn a_wrong_password_is_invalid_grant() {
    let addr = serve(app()).await;
    let http = HyperClient::default();
    for (user, secret) in [(USER, "hunter2"), ("mallory", PASSWORD), (USER, "")] {
        let result = client(addr)
            .exchange_password(&username(user), &password(secret))
            .request_async(&http)
            .await;
        let (error, description) = server_error(result);
        // An empty password is a missing one (RFC 6749 §3.1): a malformed request.
        let expected = if secret.is_empty() {
            BasicErrorResponseType::InvalidRequest
        } else {
            BasicErrorResponseType::InvalidGrant
        };
        assert_eq!(error, expected, "{user}/{secret}");
        assert!(description.is_some());
    }
    http.assert_no_store();
}

#[tokio::test]
async fn a_garbage_or_an_access_token_is_not_a_refresh_token() {
    let addr = serve(app()).await;
    let http = HyperClient::default();
    let client = client(addr);
    let first = logged_in(&client, &http).await;
    let access = RefreshToken::new(first.access_token().secret().clone());
    let garbage = RefreshToken::new("not.a.token".to_owned());
    for presented in [&garbage, &access] {
        let result = client
            .exchange_refresh_token(presented)
            .request_async(&http)
            .await;
        let (error, description) = server_error(result);
        assert_eq!(error, BasicErrorResponseType::InvalidGrant);
        let description = description.expect("a description");
        assert!(
            !description.contains(presented.secret()),
            "the answer never echoes the token: {description}"
        );
    }
    http.assert_no_store();
}

#[tokio::test]
async fn a_scope_the_user_does_not_hold_is_invalid_scope() {
    let addr = serve(app()).await;
    let http = HyperClient::default();
    let client = client(addr);
    // Password grant: `admin` is declared but not the user's; never a silently smaller grant.
    for asked in [
        vec![scope("admin")],
        vec![scope("reports:read"), scope("admin")],
    ] {
        let result = client
            .exchange_password(&username(USER), &password(PASSWORD))
            .add_scopes(asked.clone())
            .request_async(&http)
            .await;
        let (error, _) = server_error(result);
        assert_eq!(error, BasicErrorResponseType::InvalidScope, "{asked:?}");
    }
    // Refresh grant: no scope beyond what the refresh token holds (RFC 6749 §6).
    let first = client
        .exchange_password(&username(USER), &password(PASSWORD))
        .add_scope(scope("reports:read"))
        .request_async(&http)
        .await
        .expect("a token response oauth2 accepts");
    let result = client
        .exchange_refresh_token(first.refresh_token().unwrap())
        .add_scope(scope("profile"))
        .request_async(&http)
        .await;
    let (error, _) = server_error(result);
    assert_eq!(error, BasicErrorResponseType::InvalidScope);
    http.assert_no_store();
}

#[tokio::test]
async fn a_grant_without_scopes_sends_no_empty_scope() {
    let addr = serve(app()).await;
    let http = HyperClient::default();
    let token = client(addr)
        .exchange_password(&username(NO_SCOPES), &password(PASSWORD))
        .request_async(&http)
        .await
        .expect("a token response oauth2 accepts");
    assert_well_formed(&token);
    let scopes: Vec<String> = token
        .scopes()
        .map(|s| s.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    assert!(
        scopes.iter().all(|s| !s.is_empty()),
        "an empty scope-token: {scopes:?}"
    );
    assert_eq!(
        get_with(addr, "/me", token.access_token().secret())
            .await
            .status,
        200
    );
}

/// A raw request to the token endpoint: what oauth2 itself never sends.
async fn raw(addr: SocketAddr, call: Call) -> (String, Value) {
    let reply = call.send(addr).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), "no-store");
    assert_eq!(reply.header("content-type"), "application/json");
    let body = reply.json();
    let object = body.as_object().expect("a JSON object");
    assert!(
        object
            .keys()
            .all(|k| k == "error" || k == "error_description"),
        "{body}"
    );
    assert!(body["error_description"].is_string(), "{body}");
    (body["error"].as_str().expect("error").to_owned(), body)
}

#[tokio::test]
async fn what_oauth2_cannot_send_gets_its_rfc_6749_error() {
    let addr = serve(app()).await;
    let form = |body: &str| Call::post("/oauth/token").form(body);
    for (call, expected) in [
        (
            form("grant_type=client_credentials&client_id=reports-cli"),
            "unsupported_grant_type",
        ),
        (
            form("grant_type=authorization_code&code=abc&redirect_uri=http%3A%2F%2Fx"),
            "unsupported_grant_type",
        ),
        (form("grant_type=password&username=ann"), "invalid_request"),
        (form("grant_type=refresh_token"), "invalid_request"),
        (form("username=ann&password=x"), "invalid_request"),
        (
            Call::post("/oauth/token").json(&serde_json::json!({
                "grant_type": "password",
                "username": USER,
                "password": PASSWORD,
            })),
            "invalid_request",
        ),
    ] {
        let (error, body) = raw(addr, call).await;
        assert_eq!(error, expected, "{body}");
    }
}
