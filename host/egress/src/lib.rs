//! Outbound network policy for connector plugins: deny by default.
//!
//! A plugin's manifest lists allow-list templates over its config fields
//! (`https://{shop_domain}`, `https://api.mygls.{country}`, `http://127.0.0.1:*`).
//! [`AllowList::render`] turns them into entries for one shop's config, refusing values
//! that would smuggle in another host. Before a request leaves, the runtime asks
//! [`AllowList::check_url`] whether scheme, host and port match an entry, and gets a
//! [`Permit`] saying which addresses the host may resolve to; after DNS it asks
//! [`check_address`] about each address. Pure policy: no DNS, no sockets.
//!
//! Entry grammar after rendering: `<scheme>://<host>[:<port>]` with an optional
//! trailing `/`. The scheme is `http` or `https`; the host is a DNS name, `*.suffix`
//! (subdomains only, not the apex), an IPv4 or bracketed IPv6 literal, or a CIDR block
//! (`10.0.0.0/8`, `[fc00::/7]`); the port is omitted (the scheme's default), a number,
//! `*` or a range `8000-8999`.

mod address;
mod entry;
mod error;
mod template;

use std::collections::BTreeMap;
use std::fmt;

use ipnet::IpNet;
use url::Url;

pub use address::{BlockReason, check_address};
pub use entry::{Entry, EntrySource};
pub use error::{Denied, RenderError};

use entry::Scheme;

/// The operator's choices that widen what plugins may reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// Let entries that come from a shop's config reach private, loopback and
    /// link-local addresses (`tovor serve --allow-private-egress`): for tests, demos and
    /// shops on a local network. Off by default, because any user of a company may
    /// write its shops' config.
    pub allow_private_egress: bool,
}

/// A plugin's allow-list rendered for one shop's config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<Entry>,
    policy: Policy,
}

/// A URL passed the allow-list; this says which addresses its host may connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit {
    /// Whether non-global addresses (loopback, private, link-local, ...) are allowed.
    /// Cloud metadata addresses are refused regardless.
    pub private_allowed: bool,
    /// The entry that matched, for logs and errors; empty for a resolver permit.
    pub entry: String,
    /// The literal address or block the entry names: the connection must stay inside it.
    pub within: Option<IpNet>,
}

impl Permit {
    /// A permit carrying only the public/private decision, for a DNS resolver shared by
    /// many calls that re-checks addresses at connect time without knowing which entry
    /// matched.
    pub fn for_resolver(private_allowed: bool) -> Self {
        Self {
            private_allowed,
            entry: String::new(),
            within: None,
        }
    }
}

impl AllowList {
    /// Renders the manifest's templates for one shop's config (values as validated by
    /// the manifest, defaults filled in).
    ///
    /// A template naming a field the config leaves empty is dropped. A template that is
    /// exactly `{field}` takes the origin of the URL in that field. A placeholder in the
    /// host part takes plain host text, or the host of a URL (and its port, if the
    /// template sets none and the placeholder is the whole host). Any other value is a
    /// [`RenderError::BadValue`] naming the field.
    pub fn render(
        templates: &[String],
        config: &BTreeMap<String, String>,
        policy: Policy,
    ) -> Result<Self, RenderError> {
        let mut entries = Vec::with_capacity(templates.len());
        for template in templates {
            if let Some(entry) = template::render(template, config)? {
                entries.push(entry);
            }
        }
        Ok(Self { entries, policy })
    }

    /// Checks a URL's scheme, host and port against the entries. Hosts compare
    /// case-insensitively after the url crate's normalisation (IDNA, IPv4 forms such as
    /// `2130706433`); the port is the URL's or the scheme's default.
    pub fn check_url(&self, url: &Url) -> Result<Permit, Denied> {
        let scheme = Scheme::parse(url.scheme()).ok_or_else(|| Denied::BadScheme {
            scheme: url.scheme().to_owned(),
        })?;
        let host = url.host().ok_or(Denied::MissingHost)?;
        let port = url.port().unwrap_or(scheme.default_port());
        self.entries
            .iter()
            .filter(|entry| entry.matches(scheme, &host, port))
            .map(|entry| self.permit(entry))
            // When several entries match, the request goes under the one that grants most.
            .min_by_key(|permit| !permit.private_allowed)
            .ok_or_else(|| Denied::NotAllowed {
                url_host: host.to_string(),
                port,
            })
    }

    fn permit(&self, entry: &Entry) -> Permit {
        let within = entry.network();
        let private_allowed = match entry.source() {
            // The plugin's author named this address or block on purpose; a host name
            // in the manifest (`http://localhost:*`) says nothing about where it resolves.
            EntrySource::Manifest => within.is_some(),
            EntrySource::Config => self.policy.allow_private_egress,
        };
        Permit {
            private_allowed,
            entry: entry.to_string(),
            within,
        }
    }

    /// The rendered entries.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// True when nothing may be reached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl fmt::Display for AllowList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.entries.is_empty() {
            return f.write_str("(nothing)");
        }
        for (index, entry) in self.entries.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{entry}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
