use std::net::IpAddr;

use crate::BlockReason;

/// Why an allow-list could not be rendered for a shop's config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The template itself is malformed (the plugin's fault).
    #[error("allow-list template `{template}`: {reason}")]
    BadTemplate {
        /// The template as written in the manifest.
        template: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A config value cannot stand in the allow-list (the shop config's fault).
    #[error("config field `{field}` {reason}")]
    BadValue {
        /// The config field.
        field: String,
        /// What is wrong, readable after the field name.
        reason: String,
    },
    /// The rendered entry breaks the entry grammar `<scheme>://<host>[:<port>]`.
    #[error("allow-list entry `{entry}`: {reason}")]
    BadEntry {
        /// The entry after rendering.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Why an outbound request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// Only http and https leave the host.
    #[error("scheme `{scheme}` is not allowed; plugins may only use http and https")]
    BadScheme {
        /// The URL's scheme.
        scheme: String,
    },
    /// The URL has no host to check.
    #[error("the URL has no host")]
    MissingHost,
    /// No allow-list entry matches the URL's scheme, host and port.
    #[error("{url_host}:{port} is not on the plugin's allow-list")]
    NotAllowed {
        /// The URL's host as the url crate normalised it (IPv6 in brackets).
        url_host: String,
        /// The URL's port, or the scheme's default.
        port: u16,
    },
    /// The address is of a kind the permit does not reach.
    #[error("{ip} is a {reason} address, which this plugin may not reach")]
    BlockedAddress {
        /// The refused address.
        ip: IpAddr,
        /// What kind of address it is.
        reason: BlockReason,
    },
    /// The entry names a literal address or block and the address lies outside it.
    #[error("{ip} is outside the allow-list entry {entry}")]
    OutsideEntry {
        /// The refused address.
        ip: IpAddr,
        /// The entry that permitted the URL.
        entry: String,
    },
}
