//! One rendered allow-list entry: `<scheme>://<host>[:<port>]`, parsed and matched.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::ops::RangeInclusive;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// Where an allow-list entry came from, which decides how far it is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntrySource {
    /// A template with no placeholder: written by the plugin's author.
    Manifest,
    /// A template with placeholders: the host part comes from a shop's config, which any
    /// user of a company may edit.
    Config,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub(crate) fn parse(scheme: &str) -> Option<Self> {
        match scheme {
            "http" => Some(Self::Http),
            "https" => Some(Self::Https),
            _ => None,
        }
    }

    pub(crate) fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    /// One DNS name, lowercase ASCII (IDNA applied).
    Name(String),
    /// `*.suffix`: any name strictly below the suffix, never the suffix itself.
    Subdomains(String),
    /// A literal IP address.
    Address(IpAddr),
    /// A CIDR block.
    Network(IpNet),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Exact(u16),
    Range(RangeInclusive<u16>),
}

/// One entry of a rendered allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    scheme: Scheme,
    host: HostPattern,
    port: PortPattern,
    source: EntrySource,
}

impl Entry {
    /// Parses a rendered entry. The error says what is wrong, for a [`crate::RenderError`].
    pub(crate) fn parse(text: &str, source: EntrySource) -> Result<Self, String> {
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("whitespace and control characters are not allowed".to_owned());
        }
        let (scheme, rest) = text
            .split_once("://")
            .ok_or("must start with http:// or https://")?;
        let scheme = match Scheme::parse(&scheme.to_ascii_lowercase()) {
            Some(scheme) => scheme,
            None if scheme == "*" => {
                return Err("a `*` scheme is not allowed; name http or https".to_owned());
            }
            None => {
                return Err(format!(
                    "scheme `{scheme}` is not allowed; use http or https"
                ));
            }
        };
        for (forbidden, what) in [('@', "user info"), ('?', "a query"), ('#', "a fragment")] {
            if rest.contains(forbidden) {
                return Err(format!("{what} is not allowed; write scheme://host[:port]"));
            }
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = split_host_port(authority)?;
        let port = match port {
            None => PortPattern::Exact(scheme.default_port()),
            Some(port) => parse_port(port)?,
        };
        Ok(Self {
            scheme,
            host,
            port,
            source,
        })
    }

    /// Where the entry came from.
    pub fn source(&self) -> EntrySource {
        self.source
    }

    /// The literal address or block the entry names, if it names one rather than a host.
    pub(crate) fn network(&self) -> Option<IpNet> {
        match &self.host {
            HostPattern::Address(address) => Some(IpNet::from(*address)),
            HostPattern::Network(network) => Some(*network),
            HostPattern::Name(_) | HostPattern::Subdomains(_) => None,
        }
    }

    pub(crate) fn matches(&self, scheme: Scheme, host: &url::Host<&str>, port: u16) -> bool {
        self.scheme == scheme && self.matches_host(host) && self.matches_port(port)
    }

    fn matches_host(&self, host: &url::Host<&str>) -> bool {
        let address = match host {
            url::Host::Domain(domain) => {
                let domain = domain.to_ascii_lowercase();
                return match &self.host {
                    HostPattern::Name(name) => domain == *name,
                    HostPattern::Subdomains(suffix) => domain
                        .strip_suffix(suffix.as_str())
                        .and_then(|below| below.strip_suffix('.'))
                        .is_some_and(|below| !below.is_empty()),
                    HostPattern::Address(_) | HostPattern::Network(_) => false,
                };
            }
            url::Host::Ipv4(address) => IpAddr::V4(*address),
            url::Host::Ipv6(address) => IpAddr::V6(*address),
        };
        match &self.host {
            HostPattern::Address(literal) => *literal == address,
            HostPattern::Network(network) => network.contains(&address),
            HostPattern::Name(_) | HostPattern::Subdomains(_) => false,
        }
    }

    fn matches_port(&self, port: u16) -> bool {
        match &self.port {
            PortPattern::Any => true,
            PortPattern::Exact(exact) => *exact == port,
            PortPattern::Range(range) => range.contains(&port),
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme.as_str())?;
        match &self.host {
            HostPattern::Name(name) => f.write_str(name)?,
            HostPattern::Subdomains(suffix) => write!(f, "*.{suffix}")?,
            HostPattern::Address(IpAddr::V4(address)) => write!(f, "{address}")?,
            HostPattern::Address(IpAddr::V6(address)) => write!(f, "[{address}]")?,
            HostPattern::Network(IpNet::V4(network)) => write!(f, "{network}")?,
            HostPattern::Network(IpNet::V6(network)) => write!(f, "[{network}]")?,
        }
        match &self.port {
            PortPattern::Exact(port) if *port == self.scheme.default_port() => Ok(()),
            PortPattern::Exact(port) => write!(f, ":{port}"),
            PortPattern::Any => f.write_str(":*"),
            PortPattern::Range(range) => write!(f, ":{}-{}", range.start(), range.end()),
        }
    }
}

const PATH_NOT_ALLOWED: &str = "paths are not allowed; write scheme://host[:port]";

fn split_host_port(authority: &str) -> Result<(HostPattern, Option<&str>), String> {
    // IPv6 literals and blocks are bracketed: [::1], [fc00::/7].
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (inside, after) = bracketed.split_once(']').ok_or("unclosed `[`")?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(PATH_NOT_ALLOWED)?),
        };
        let host = if inside.contains('/') {
            let network: Ipv6Net = inside
                .parse()
                .map_err(|_| format!("`[{inside}]` is not an IPv6 CIDR block"))?;
            HostPattern::Network(IpNet::V6(network.trunc()))
        } else {
            let address: Ipv6Addr = inside
                .parse()
                .map_err(|_| format!("`[{inside}]` is not an IPv6 address"))?;
            HostPattern::Address(IpAddr::V6(address))
        };
        return Ok((host, port));
    }
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    Ok((parse_host(host)?, port))
}

fn parse_host(host: &str) -> Result<HostPattern, String> {
    if host.is_empty() {
        return Err("the host is missing".to_owned());
    }
    if host.contains('/') {
        // A slash in the host part is either an IPv4 CIDR block or the start of a path.
        let network: Ipv4Net = host.parse().map_err(|_| PATH_NOT_ALLOWED)?;
        return Ok(HostPattern::Network(IpNet::V4(network.trunc())));
    }
    if host == "*" {
        return Err(
            "a bare `*` host would allow the whole internet; name the hosts (`*.example.com`)"
                .to_owned(),
        );
    }
    if let Some(suffix) = host.strip_prefix("*.") {
        return match url::Host::parse(suffix) {
            Ok(url::Host::Domain(suffix)) if !suffix.contains('*') => {
                check_domain(&suffix)?;
                Ok(HostPattern::Subdomains(suffix))
            }
            Ok(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => {
                Err("`*.` must be followed by a DNS name, not an address".to_owned())
            }
            _ => Err(format!("`{suffix}` is not a valid DNS name")),
        };
    }
    if host.contains('*') {
        return Err("`*` may only stand as the whole first label: `*.example.com`".to_owned());
    }
    // The url crate's host parser applies IDNA and reads IPv4 in every form a URL may
    // spell it (`2130706433`, `0x7f.1`), so entries and URLs are compared alike.
    match url::Host::parse(host) {
        Ok(url::Host::Domain(name)) => {
            check_domain(&name)?;
            Ok(HostPattern::Name(name))
        }
        Ok(url::Host::Ipv4(address)) => Ok(HostPattern::Address(IpAddr::V4(address))),
        Ok(url::Host::Ipv6(address)) => Ok(HostPattern::Address(IpAddr::V6(address))),
        Err(error) => Err(format!("`{host}` is not a valid host: {error}")),
    }
}

/// A DNS name after IDNA: non-empty labels of letters, digits, `-` and `_` (container
/// names use underscores), at most 63 bytes each and 253 in all.
fn check_domain(name: &str) -> Result<(), String> {
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if name.len() <= 253 && name.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(format!("`{name}` is not a valid DNS name"))
    }
}

fn parse_port(port: &str) -> Result<PortPattern, String> {
    if port.contains('/') {
        return Err(PATH_NOT_ALLOWED.to_owned());
    }
    if port == "*" {
        return Ok(PortPattern::Any);
    }
    let number = |text: &str| {
        text.parse::<u16>()
            .ok()
            .filter(|&number| number != 0)
            .ok_or_else(|| format!("port `{port}` is not `*`, a port (1-65535) or a range"))
    };
    match port.split_once('-') {
        Some((low, high)) => {
            let (low, high) = (number(low)?, number(high)?);
            if low > high {
                return Err(format!("port range `{port}` is backwards"));
            }
            Ok(PortPattern::Range(low..=high))
        }
        None => Ok(PortPattern::Exact(number(port)?)),
    }
}
