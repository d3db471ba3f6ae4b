//! One bounded HTTP GET of a provider's document (discovery, JWKS): a connection of its own
//! (fetches are minutes apart), HTTP/1.1 over TCP or rustls, a timeout on the whole exchange,
//! a cap on the body, `https` only unless the host is loopback or the issuer allows `http`;
//! through an HTTP proxy's `CONNECT` tunnel when one is configured.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CACHE_CONTROL, ETAG, HOST, IF_NONE_MATCH, USER_AGENT};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
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
    proxy: Option<Proxy>,
}

/// An HTTP proxy that tunnels with `CONNECT` (`http://[user:password@]host:port`).
struct Proxy {
    host: String,
    port: u16,
    /// `Proxy-Authorization: Basic ...`, from the URL's user and password.
    authorization: Option<String>,
}

impl Proxy {
    fn parse(url: &str) -> Result<Self, String> {
        use base64::Engine as _;
        let uri: Uri = url
            .parse()
            .map_err(|_| format!("the proxy `{url}` is not a URL"))?;
        let authority = uri.authority().filter(|_| uri.scheme_str() == Some("http"));
        let authority =
            authority.ok_or_else(|| format!("the proxy `{url}` is not http://host:port"))?;
        let authorization = authority.as_str().rsplit_once('@').map(|(user, _)| {
            let user = user.to_owned();
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(user)
            )
        });
        Ok(Self {
            host: authority.host().trim_matches(['[', ']']).to_owned(),
            port: authority.port_u16().unwrap_or(80),
            authorization,
        })
    }

    /// Opens a tunnel to `host:port` through the proxy.
    async fn tunnel(&self, host: &str, port: u16) -> Result<TcpStream, String> {
        let mut tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| {
                format!(
                    "cannot connect to the proxy {}:{}: {e}",
                    self.host, self.port
                )
            })?;
        let target = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let authorization = self
            .authorization
            .as_ref()
            .map(|a| format!("Proxy-Authorization: {a}\r\n"))
            .unwrap_or_default();
        let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{authorization}\r\n");
        tcp.write_all(request.as_bytes())
            .await
            .map_err(|e| format!("proxy: {e}"))?;
        // The proxy's answer head, byte by byte so that nothing of the tunnel is read.
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            if head.len() > 8 * 1024 {
                return Err("proxy: an answer head over 8 KiB".into());
            }
            let byte = tcp.read_u8().await.map_err(|e| format!("proxy: {e}"))?;
            head.push(byte);
        }
        let status = head.split(|b| *b == b' ').nth(1).unwrap_or_default();
        if status != b"200" {
            let line = String::from_utf8_lossy(&head);
            return Err(format!(
                "the proxy refused the tunnel to {target}: {}",
                line.lines().next().unwrap_or_default()
            ));
        }
        Ok(tcp)
    }
}

impl Client {
    pub(crate) fn new(
        extra_roots: &[Vec<u8>],
        allow_http: bool,
        timeout: Duration,
        max_body: usize,
        proxy: Option<&str>,
    ) -> Result<Self, String> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject as _;
        let proxy = proxy.map(Proxy::parse).transpose()?;
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
            proxy,
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
        // Loopback is never sent to a proxy: it would reach the proxy's own host, in the clear.
        let tcp = match self.proxy.as_ref().filter(|_| !loopback(host)) {
            Some(proxy) => proxy.tunnel(host, port).await?,
            None => TcpStream::connect((host, port))
                .await
                .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?,
        };
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
        let client = Client::new(&[], false, Duration::from_secs(1), 1024, None).unwrap();
        assert!(client.check_url("https://sso.example.com/jwks").is_ok());
        assert!(client.check_url("http://127.0.0.1:8080/jwks").is_ok());
        assert!(client.check_url("http://[::1]:8080/jwks").is_ok());
        assert!(client.check_url("http://localhost/jwks").is_ok());
        assert!(client.check_url("http://sso.example.com/jwks").is_err());
        assert!(client.check_url("ftp://sso.example.com/jwks").is_err());
        let open = Client::new(&[], true, Duration::from_secs(1), 1024, None).unwrap();
        assert!(
            Client::new(
                &[],
                false,
                Duration::from_secs(1),
                1024,
                Some("socks5://p:1")
            )
            .is_err()
        );
        assert!(open.check_url("http://sso.internal/jwks").is_ok());
    }
}
