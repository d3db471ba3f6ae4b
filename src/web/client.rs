//! The client's address, for throttling: the TCP peer, or a trusted proxy's header.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::HeaderName;
use http::request::Parts;

/// The reverse proxies in front of the application, so that login throttling counts the
/// client's address rather than the proxy's
/// ([`AuthBuilder::trusted_proxies`](crate::AuthBuilder::trusted_proxies)).
///
/// The client is the first address, from the right of the forwarding header, that is not a
/// trusted proxy (each proxy appends the address it saw; what the client wrote is on the
/// left and proves nothing). A missing header, one that cannot be read, or a request that did
/// not come from a trusted proxy falls back to the TCP peer: never to "no address".
///
/// ```
/// use jwtguard::{Auth, TrustedProxies};
/// let auth = Auth::builder()
///     .secret("a-secret-of-at-least-32-bytes-long!!")
///     // A CDN's edge in front of the load balancer: name exactly their networks (a range as
///     // wide as 10.0.0.0/8 would trust every pod and VM in it to say who the client is).
///     .trusted_proxies(TrustedProxies::networks("x-forwarded-for", ["10.0.3.0/28", "203.0.113.0/24"])?)
///     .build()?;
/// # Ok::<(), jwtguard::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedProxies {
    header: HeaderName,
    rule: Rule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// Proxies are the peers and header entries inside these networks.
    Networks(Vec<ipnet::IpNet>),
    /// Exactly this many proxies append to the header: the client is that many from the
    /// right.
    Hops(usize),
}

impl TrustedProxies {
    /// Proxies are the hosts in `networks` (`10.0.0.0/8`, `2001:db8::/32`, or single
    /// addresses), writing the client's address into `header` (`X-Forwarded-For`, say). The
    /// header is read only when the TCP peer is one of them.
    pub fn networks(
        header: &str,
        networks: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Result<Self, crate::ConfigError> {
        let networks = networks
            .into_iter()
            .map(|network| {
                let network = network.as_ref().trim();
                network
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| network.parse::<IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| crate::ConfigError::Proxy(network.to_owned()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            header: header_name(header)?,
            rule: Rule::Networks(networks),
        })
    }

    /// Exactly `count` proxies in a row append to `header`, whatever their addresses (a
    /// managed load balancer): the client is the `count`-th entry from the right.
    pub fn hops(header: &str, count: usize) -> Result<Self, crate::ConfigError> {
        Ok(Self {
            header: header_name(header)?,
            rule: Rule::Hops(count.max(1)),
        })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        match &self.rule {
            Rule::Networks(networks) => {
                let ip = ip.to_canonical();
                networks.iter().any(|network| network.contains(&ip))
            }
            Rule::Hops(_) => true,
        }
    }

    /// The client the header names, or `None` to fall back to the peer.
    fn client(&self, parts: &Parts, peer: Option<IpAddr>) -> Option<IpAddr> {
        if !peer.is_some_and(|peer| self.trusts(peer)) {
            return None;
        }
        // Raw bytes, every line, split on commas: one entry a client filled with bytes that
        // are not ASCII spoils that entry only.
        let entries: Vec<&[u8]> = parts
            .headers
            .get_all(&self.header)
            .iter()
            .flat_map(|line| line.as_bytes().split(|b| *b == b','))
            .map(<[u8]>::trim_ascii)
            .collect();
        match &self.rule {
            Rule::Hops(count) => entries.iter().rev().nth(count - 1).and_then(|e| parse(e)),
            Rule::Networks(_) => {
                for entry in entries.iter().rev() {
                    let ip = parse(entry)?;
                    if !self.trusts(ip) {
                        return Some(ip);
                    }
                }
                None
            }
        }
    }
}

/// The forwarding header's name. RFC 7239's `Forwarded` (`for=...;proto=...`) is refused
/// rather than silently never parsed: name the `X-Forwarded-For`-style header the proxy writes.
fn header_name(header: &str) -> Result<HeaderName, crate::ConfigError> {
    if header.trim().eq_ignore_ascii_case("forwarded") {
        return Err(crate::ConfigError::Proxy(
            "Forwarded (RFC 7239 is not parsed; name the X-Forwarded-For header instead)".into(),
        ));
    }
    HeaderName::from_bytes(header.as_bytes())
        .map_err(|_| crate::ConfigError::Proxy(header.to_owned()))
}

/// The client's address: through the trusted proxies if any, else the TCP peer
/// (`ConnectInfo`); `None` only when the server gives no peer.
pub(crate) fn client_address(parts: &Parts, proxies: Option<&TrustedProxies>) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    proxies
        .and_then(|proxies| proxies.client(parts, peer))
        .or(peer)
}

/// An address as proxies write it: `203.0.113.9`, `203.0.113.9:5678`, `2001:db8::1` or
/// `[2001:db8::1]:5678`.
fn parse(entry: &[u8]) -> Option<IpAddr> {
    let entry = std::str::from_utf8(entry).ok()?;
    entry
        .parse()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &[u8])], peer: Option<&str>) -> Parts {
        let mut request = http::Request::builder();
        for (name, value) in headers {
            request = request.header(*name, http::HeaderValue::from_bytes(value).unwrap());
        }
        let mut parts = request.body(()).unwrap().into_parts().0;
        if let Some(peer) = peer {
            parts
                .extensions
                .insert(ConnectInfo::<SocketAddr>(peer.parse().unwrap()));
        }
        parts
    }

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    const XFF: &str = "x-forwarded-for";

    #[test]
    fn forwarding_headers_are_ignored_unless_trusted() {
        let spoofed = parts(&[(XFF, b"1.2.3.4")], Some("10.0.0.7:5555"));
        assert_eq!(client_address(&spoofed, None), ip("10.0.0.7"));
        let lan = TrustedProxies::networks(XFF, ["10.0.0.0/8"]).unwrap();
        let direct = parts(&[(XFF, b"1.2.3.4")], Some("198.51.100.7:5555"));
        assert_eq!(
            client_address(&direct, Some(&lan)),
            ip("198.51.100.7"),
            "a peer that is no proxy of ours cannot name another address"
        );
        assert_eq!(client_address(&parts(&[], None), None), None);
    }

    #[test]
    fn the_client_is_the_first_untrusted_entry_from_the_right() {
        let proxies = TrustedProxies::networks(XFF, ["10.0.0.0/8", "203.0.113.0/24"]).unwrap();
        // client-written junk, the client, the CDN's edge, then the load balancer (the peer).
        let request = parts(
            &[(XFF, b"6.6.6.6, 198.51.100.23, 203.0.113.9")],
            Some("10.1.2.3:80"),
        );
        assert_eq!(
            client_address(&request, Some(&proxies)),
            ip("198.51.100.23")
        );
        let lines = parts(
            &[(XFF, b"6.6.6.6"), (XFF, b"198.51.100.23:5678, 203.0.113.9")],
            Some("10.1.2.3:80"),
        );
        assert_eq!(client_address(&lines, Some(&proxies)), ip("198.51.100.23"));
        let hops = TrustedProxies::hops(XFF, 2).unwrap();
        assert_eq!(client_address(&request, Some(&hops)), ip("198.51.100.23"));
    }

    #[test]
    fn an_unreadable_or_missing_header_falls_back_to_the_peer_never_to_none() {
        let proxies = TrustedProxies::networks(XFF, ["10.0.0.0/8"]).unwrap();
        let non_ascii = parts(&[(XFF, b"\xff\xfe, 198.51.100.23")], Some("10.0.0.1:80"));
        assert_eq!(
            client_address(&non_ascii, Some(&proxies)),
            ip("198.51.100.23"),
            "a client's junk spoils its own entry only"
        );
        let junk_last = parts(&[(XFF, b"198.51.100.23, \xff")], Some("10.0.0.1:80"));
        assert_eq!(client_address(&junk_last, Some(&proxies)), ip("10.0.0.1"));
        let missing = parts(&[], Some("10.0.0.1:80"));
        assert_eq!(client_address(&missing, Some(&proxies)), ip("10.0.0.1"));
        let short = parts(&[(XFF, b"198.51.100.23")], Some("10.0.0.1:80"));
        let hops = TrustedProxies::hops(XFF, 3).unwrap();
        assert_eq!(client_address(&short, Some(&hops)), ip("10.0.0.1"));
    }

    #[test]
    fn bad_networks_are_configuration_errors() {
        assert!(TrustedProxies::networks(XFF, ["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::networks(XFF, ["proxy.internal"]).is_err());
        assert!(TrustedProxies::networks(XFF, ["10.0.0.1", "::1"]).is_ok());
        assert!(
            TrustedProxies::hops("Forwarded", 1).is_err(),
            "RFC 7239 is not parsed"
        );
    }
}
