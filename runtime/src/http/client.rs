//! The client's address, for throttling: the TCP peer, or a trusted proxy's header.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::HeaderName;
use http::request::Parts;

/// The client's address: the rightmost address of `proxy_header` when the application said it
/// sits behind a proxy that writes it, else the TCP peer from `ConnectInfo` (served with
/// `into_make_service_with_connect_info::<SocketAddr>()`); `None` when neither is there.
pub(crate) fn client_address(parts: &Parts, proxy_header: Option<&HeaderName>) -> Option<IpAddr> {
    if let Some(header) = proxy_header {
        // The proxy appends the address it saw: the last one of the last header line. What
        // comes before it was written by the client and proves nothing.
        return parts
            .headers
            .get_all(header)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|entry| parse_address(entry.trim()));
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip())
}

/// An address as proxies write it: `203.0.113.9`, `203.0.113.9:5678`, `2001:db8::1` or
/// `[2001:db8::1]:5678`.
fn parse_address(entry: &str) -> Option<IpAddr> {
    entry
        .parse()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)], peer: Option<&str>) -> Parts {
        let mut request = http::Request::builder();
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut parts = request.body(()).unwrap().into_parts().0;
        if let Some(peer) = peer {
            parts
                .extensions
                .insert(ConnectInfo::<SocketAddr>(peer.parse().unwrap()));
        }
        parts
    }

    #[test]
    fn forwarding_headers_are_ignored_unless_trusted() {
        let spoofed = parts(&[("x-forwarded-for", "1.2.3.4")], Some("10.0.0.7:5555"));
        assert_eq!(client_address(&spoofed, None), "10.0.0.7".parse().ok());
        let header = HeaderName::from_static("x-forwarded-for");
        let proxied = parts(
            &[("x-forwarded-for", "6.6.6.6, 203.0.113.9")],
            Some("10.0.0.1:80"),
        );
        assert_eq!(
            client_address(&proxied, Some(&header)),
            "203.0.113.9".parse().ok()
        );
        assert_eq!(client_address(&parts(&[], None), None), None);
        let with_port = parts(&[("x-forwarded-for", "203.0.113.9:5678")], None);
        assert_eq!(
            client_address(&with_port, Some(&header)),
            "203.0.113.9".parse().ok()
        );
    }
}
