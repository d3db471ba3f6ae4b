//! One bounded HTTP GET of a provider's document (discovery, JWKS): a connection of its own
//! (fetches are minutes apart), HTTP/1.1 over TCP or rustls, a timeout on the whole exchange,
//! a cap on the body, `https` only unless the host is loopback or the issuer allows `http`.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CACHE_CONTROL, ETAG, HOST, IF_NONE_MATCH, USER_AGENT};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// What a fetch brought back.
pub(crate) struct Fetched {
    /// `None`: 304, the document did not change.
    pub(crate) body: Option<Bytes>,
    pub(crate) max_age: Option<Duration>,
    pub(crate) etag: Option<String>,
}

/// The HTTP side of an issuer: TLS roots and the rules of its fetches.
pub(crate) struct Client {
    tls: Arc<rustls::ClientConfig>,
    allow_http: bool,
    timeout: Duration,
    max_body: usize,
}

impl Client {
    pub(crate) fn new(
        extra_roots: &[Vec<u8>],
        allow_http: bool,
        timeout: Duration,
        max_body: usize,
    ) -> Result<Self, String> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject as _;
        // rustls needs a process-wide provider; keep one the application installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            // A system certificate rustls cannot read is skipped, as browsers do.
            let _ = roots.add(cert);
        }
        for pem in extra_roots {
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| format!("a root certificate is not PEM: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("a root certificate cannot be used: {e}"))?;
            }
        }
        let tls = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            tls: Arc::new(tls),
            allow_http,
            timeout,
            max_body,
        })
    }

    /// Whether `url` may be fetched: `https`, or `http` to loopback or when allowed.
    pub(crate) fn check_url(&self, url: &str) -> Result<Uri, String> {
        let uri: Uri = url.parse().map_err(|_| format!("`{url}` is not a URL"))?;
        let host = uri.host().ok_or_else(|| format!("`{url}` has no host"))?;
        match uri.scheme_str() {
            Some("https") => Ok(uri),
            Some("http") if self.allow_http || loopback(host) => Ok(uri),
            Some("http") => Err(format!(
                "`{url}` is plain http: keys must come over https (or call allow_http())"
            )),
            _ => Err(format!("`{url}` is neither https nor http")),
        }
    }

    /// GETs `url`, with `If-None-Match: etag` when one is known.
    pub(crate) async fn get(&self, url: &str, etag: Option<&str>) -> Result<Fetched, String> {
        let uri = self.check_url(url)?;
        tokio::time::timeout(self.timeout, self.exchange(&uri, etag))
            .await
            .map_err(|_| format!("no answer within {:?}", self.timeout))?
    }

    async fn exchange(&self, uri: &Uri, etag: Option<&str>) -> Result<Fetched, String> {
        let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
        let https = uri.scheme_str() == Some("https");
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let tcp = TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
        if https {
            let name = rustls::pki_types::ServerName::try_from(host.to_owned())
                .map_err(|_| format!("`{host}` is not a server name"))?;
            let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS with {host}: {e}"))?;
            self.send(tls, uri, etag).await
        } else {
            self.send(tcp, uri, etag).await
        }
    }

    async fn send<T>(&self, io: T, uri: &Uri, etag: Option<&str>) -> Result<Fetched, String>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| format!("HTTP: {e}"))?;
        // The connection is driven beside the request and ends with it.
        tokio::spawn(connection);
        let authority = uri.authority().map_or("", |a| a.as_str());
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let mut request = Request::get(path)
            .header(HOST, authority)
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, "jwtguard");
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let request = request
            .body(Empty::<Bytes>::new())
            .map_err(|e| format!("HTTP: {e}"))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("HTTP: {e}"))?;
        let headers = response.headers();
        let max_age = headers
            .get(CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age);
        let new_etag = headers
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match response.status() {
            StatusCode::NOT_MODIFIED if etag.is_some() => Ok(Fetched {
                body: None,
                max_age,
                etag: new_etag.or_else(|| etag.map(str::to_owned)),
            }),
            StatusCode::OK => {
                let body = Limited::new(response.into_body(), self.max_body)
                    .collect()
                    .await
                    .map_err(|e| format!("body (at most {} bytes): {e}", self.max_body))?
                    .to_bytes();
                Ok(Fetched {
                    body: Some(body),
                    max_age,
                    etag: new_etag,
                })
            }
            status => Err(format!("answered {status}")),
        }
    }
}

fn loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `max-age` of a `Cache-Control` value; `no-store`/`no-cache` mean as soon as allowed.
fn max_age(value: &str) -> Option<Duration> {
    value.split(',').map(str::trim).find_map(|directive| {
        if directive.eq_ignore_ascii_case("no-store") || directive.eq_ignore_ascii_case("no-cache")
        {
            return Some(Duration::ZERO);
        }
        let (name, seconds) = directive.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("max-age")
            .then(|| seconds.trim().trim_matches('"').parse().ok())
            .flatten()
            .map(Duration::from_secs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_gives_the_max_age() {
        assert_eq!(
            max_age("public, max-age=3600"),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=nonsense"), None);
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        let client = Client::new(&[], false, Duration::from_secs(1), 1024).unwrap();
        assert!(client.check_url("https://sso.example.com/jwks").is_ok());
        assert!(client.check_url("http://127.0.0.1:8080/jwks").is_ok());
        assert!(client.check_url("http://[::1]:8080/jwks").is_ok());
        assert!(client.check_url("http://localhost/jwks").is_ok());
        assert!(client.check_url("http://sso.example.com/jwks").is_err());
        assert!(client.check_url("ftp://sso.example.com/jwks").is_err());
        let open = Client::new(&[], true, Duration::from_secs(1), 1024).unwrap();
        assert!(open.check_url("http://sso.internal/jwks").is_ok());
    }
}
