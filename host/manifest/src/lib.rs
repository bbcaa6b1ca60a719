//! `plugin.toml`: the manifest every tovor connector ships next to its component.
//!
//! [`Manifest::parse`] reads and validates it in one go, so every other part of the host
//! can trust a [`Manifest`]: the id is safe as a path and label, every egress template
//! names a declared, non-secret config field, limits are in range. The crate is pure
//! policy; only [`Manifest::from_file`] touches the file system.

mod config;
mod error;
mod limits;
mod plugin;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use config::{ConfigErrors, ConfigField, FieldProblem, FieldType};
pub use error::ManifestError;
pub use limits::Limits;
pub use plugin::{Kind, PluginInfo};

/// The config field every plugin accepts: it replaces the platform's fixed API address
/// (sandbox accounts, tests), and the allow-list follows it.
pub const API_BASE_FIELD: &str = "api_base";

/// The egress template that lets requests reach whatever `api_base` is set to.
const API_BASE_TEMPLATE: &str = "{api_base}";

/// A validated `plugin.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// The `[plugin]` table.
    pub plugin: PluginInfo,
    /// The `[[config]]` fields in declaration order, with the implicit `api_base` last
    /// unless the manifest declares it itself.
    pub config: Vec<ConfigField>,
    /// The `[egress]` table.
    pub egress: Egress,
    /// The `[limits]` table with defaults filled in.
    pub limits: Limits,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    plugin: plugin::RawPlugin,
    #[serde(default)]
    config: Vec<config::RawConfigField>,
    #[serde(default)]
    egress: Egress,
    #[serde(default)]
    limits: limits::RawLimits,
}

/// The `[egress]` table: where the plugin may send requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Egress {
    /// Allow-list templates over config field names (`https://{shop_domain}`), including
    /// the implicit `{api_base}`. The egress policy renders them per shop.
    #[serde(default)]
    pub allow: Vec<String>,
}

impl Manifest {
    /// Parses and validates the text of a `plugin.toml`.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let raw: RawManifest = toml::from_str(text)?;
        let plugin = PluginInfo::from_raw(raw.plugin)?;
        let mut config = Vec::with_capacity(raw.config.len() + 1);
        for (index, raw_field) in raw.config.into_iter().enumerate() {
            let field = ConfigField::from_raw(index, raw_field)?;
            if config
                .iter()
                .any(|seen: &ConfigField| seen.name == field.name)
            {
                return Err(ManifestError::invalid(
                    format!("config[{index}].name"),
                    format!("field {:?} is declared twice", field.name),
                ));
            }
            config.push(field);
        }
        add_api_base(&mut config)?;
        let mut egress = raw.egress;
        for template in &egress.allow {
            check_template(template, &config)?;
        }
        if !egress
            .allow
            .iter()
            .any(|template| template == API_BASE_TEMPLATE)
        {
            egress.allow.push(API_BASE_TEMPLATE.to_owned());
        }
        Ok(Self {
            plugin,
            config,
            egress,
            limits: Limits::from_raw(raw.limits)?,
        })
    }

    /// Reads and parses a `plugin.toml` file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ManifestError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Declared capabilities (`webhooks`, `pickup-points`, ...).
    pub fn capabilities(&self) -> &[String] {
        &self.plugin.capabilities
    }

    /// The config field called `name`, if declared.
    pub fn field(&self, name: &str) -> Option<&ConfigField> {
        self.config.iter().find(|field| field.name == name)
    }

    /// Names of the fields whose values are secrets: encrypted at rest, never shown,
    /// redacted from logs.
    pub fn secret_fields(&self) -> impl Iterator<Item = &str> {
        self.config
            .iter()
            .filter(|field| field.secret)
            .map(|field| field.name.as_str())
    }

    /// Checks a shop's config against the declared fields and returns it with defaults
    /// filled in. Empty values count as not given. Every problem is reported, each with
    /// its field: unknown fields, missing required ones, and values that do not fit the
    /// field's type.
    pub fn validate_config(
        &self,
        values: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, ConfigErrors> {
        config::validate(&self.config, values)
    }
}

/// Adds the implicit `api_base` field, or checks the manifest's own declaration of it.
fn add_api_base(config: &mut Vec<ConfigField>) -> Result<(), ManifestError> {
    match config.iter().find(|field| field.name == API_BASE_FIELD) {
        // The egress policy turns its value into an allow-list origin, so it must be a URL.
        Some(declared) if declared.field_type != FieldType::Url || declared.secret => {
            Err(ManifestError::invalid(
                "config.api_base",
                "api_base replaces the platform's API address: it must have type \"url\" \
                 and must not be secret",
            ))
        }
        Some(_) => Ok(()),
        None => {
            config.push(ConfigField {
                name: API_BASE_FIELD.to_owned(),
                label: "API base URL (sandbox, tests)".to_owned(),
                field_type: FieldType::Url,
                required: false,
                secret: false,
                default: None,
                help: Some(
                    "Replaces the platform's API address, for sandbox accounts and tests. \
                     Leave empty for the real service."
                        .to_owned(),
                ),
                options: Vec::new(),
            });
            Ok(())
        }
    }
}

/// Checks that every `{placeholder}` in an egress template names a declared field.
/// The entry grammar itself is the egress policy's concern, checked when rendering.
fn check_template(template: &str, config: &[ConfigField]) -> Result<(), ManifestError> {
    let invalid = |message: String| {
        ManifestError::invalid("egress.allow", format!("{template:?}: {message}"))
    };
    if template.trim().is_empty() {
        return Err(invalid("an entry must not be empty".to_owned()));
    }
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(invalid("`}` without a matching `{`".to_owned()));
        }
        let after_open = &rest[open + 1..];
        let close = after_open
            .find(['{', '}'])
            .filter(|&close| after_open[close..].starts_with('}'))
            .ok_or_else(|| invalid("`{` without a matching `}`".to_owned()))?;
        let name = &after_open[..close];
        match config.iter().find(|field| field.name == name) {
            None => {
                return Err(invalid(format!(
                    "{{{name}}} names no config field; declare it under [[config]]"
                )));
            }
            // An allow-list is shown in logs and errors, so a secret must never feed one.
            Some(field) if field.secret => {
                return Err(invalid(format!("{{{name}}} names a secret field")));
            }
            Some(_) => {}
        }
        rest = &after_open[close + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests;
