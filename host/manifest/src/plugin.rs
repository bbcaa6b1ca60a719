use std::fmt;

use semver::Version;
use serde::{Deserialize, Serialize};

use crate::ManifestError;

/// What a connector talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An online shop platform (implements the `shop` world).
    Shop,
    /// A parcel carrier (implements the `carrier` world).
    Carrier,
}

impl Kind {
    /// The name used in `plugin.toml` and the API: `shop` or `carrier`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Shop => "shop",
            Kind::Carrier => "carrier",
        }
    }

    /// The capabilities a plugin of this kind may declare.
    pub fn known_capabilities(self) -> &'static [&'static str] {
        match self {
            Kind::Shop => &["webhooks", "stock-push", "product-list", "mark-shipped"],
            Kind::Carrier => &[
                "cash-on-delivery",
                "pickup-points",
                "cancel",
                "lookup-by-reference",
            ],
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `[plugin]` table: who the plugin is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginInfo {
    /// Stable identifier: `[a-z0-9][a-z0-9-]{0,62}`.
    pub id: String,
    /// Name shown to people.
    pub name: String,
    /// The plugin's own version.
    pub version: Version,
    /// Shop or carrier.
    pub kind: Kind,
    /// The `tovor:connector` contract version the plugin says it was built against.
    /// Optional: the component carries its version, and the host refuses a manifest
    /// that states another one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<Version>,
    /// Optional longer description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Capabilities declared by a contract 0.1 connector, each one of
    /// [`Kind::known_capabilities`]. From contract 0.2 on, the component's exports say
    /// what it can do and this list must be empty.
    pub capabilities: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlugin {
    id: String,
    name: String,
    version: Version,
    kind: Kind,
    contract: Option<Version>,
    description: Option<String>,
    #[serde(default)]
    capabilities: Vec<String>,
}

impl PluginInfo {
    pub(crate) fn from_raw(raw: RawPlugin) -> Result<Self, ManifestError> {
        if !is_plugin_id(&raw.id) {
            return Err(ManifestError::invalid(
                "plugin.id",
                format!(
                    "{:?} is not a plugin id: use 1 to 63 characters of a-z, 0-9 and '-', \
                     starting with a letter or digit",
                    raw.id
                ),
            ));
        }
        if raw.name.trim().is_empty() {
            return Err(ManifestError::invalid("plugin.name", "must not be empty"));
        }
        let known = raw.kind.known_capabilities();
        for (index, capability) in raw.capabilities.iter().enumerate() {
            if !known.contains(&capability.as_str()) {
                return Err(ManifestError::invalid(
                    "plugin.capabilities",
                    format!(
                        "{capability:?} is not a {} capability; known: {}",
                        raw.kind,
                        known.join(", ")
                    ),
                ));
            }
            if raw.capabilities[..index].contains(capability) {
                return Err(ManifestError::invalid(
                    "plugin.capabilities",
                    format!("{capability:?} is listed twice"),
                ));
            }
        }
        Ok(Self {
            id: raw.id,
            name: raw.name,
            version: raw.version,
            kind: raw.kind,
            contract: raw.contract,
            description: raw.description,
            capabilities: raw.capabilities,
        })
    }
}

/// `[a-z0-9][a-z0-9-]{0,62}`: safe as a directory name, URL segment and log label.
fn is_plugin_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first.is_ascii_digit())
        && id.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
