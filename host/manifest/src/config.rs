use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::ManifestError;

/// How a config value is entered and checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Any text.
    #[default]
    String,
    /// An absolute `http://` or `https://` URL.
    Url,
    /// A whole number (64-bit).
    Integer,
    /// `true` or `false`.
    Boolean,
    /// One of the field's `options`.
    Select,
}

/// One `[[config]]` entry: a value each shop (or carrier account) fills in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigField {
    /// Key in the config map: `[a-z][a-z0-9_]{0,62}`, unique in the manifest.
    pub name: String,
    /// Label shown in forms.
    pub label: String,
    /// How the value is checked.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Whether a shop must fill it in (a default counts as filled in).
    pub required: bool,
    /// Encrypted at rest, never shown back, redacted from logs.
    pub secret: bool,
    /// Used when the shop leaves the field empty. Never set on secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Hint shown under the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The allowed values of a `select` field; empty for every other type.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfigField {
    name: String,
    label: String,
    #[serde(rename = "type", default)]
    field_type: FieldType,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    secret: bool,
    // `default = 10` and `default = true` read naturally for integer and boolean fields.
    default: Option<toml::Value>,
    help: Option<String>,
    options: Option<Vec<String>>,
}

impl ConfigField {
    pub(crate) fn from_raw(index: usize, raw: RawConfigField) -> Result<Self, ManifestError> {
        if !is_field_name(&raw.name) {
            return Err(ManifestError::invalid(
                format!("config[{index}].name"),
                format!(
                    "{:?} is not a field name: use 1 to 63 characters of a-z, 0-9 and '_', \
                     starting with a letter",
                    raw.name
                ),
            ));
        }
        let field_name = raw.name.clone();
        let key = |part: &str| format!("config.{field_name}.{part}");
        if raw.label.trim().is_empty() {
            return Err(ManifestError::invalid(key("label"), "must not be empty"));
        }
        let options = match (raw.field_type, raw.options) {
            (FieldType::Select, None) => {
                return Err(ManifestError::invalid(
                    key("options"),
                    "a select field needs `options`",
                ));
            }
            (FieldType::Select, Some(options)) => {
                check_options(&options)
                    .map_err(|message| ManifestError::invalid(key("options"), message))?;
                options
            }
            (_, Some(_)) => {
                return Err(ManifestError::invalid(
                    key("options"),
                    "only select fields take `options`",
                ));
            }
            (_, None) => Vec::new(),
        };
        let default = match raw.default {
            None => None,
            Some(toml::Value::String(text)) => Some(text),
            Some(toml::Value::Integer(number)) => Some(number.to_string()),
            Some(toml::Value::Boolean(flag)) => Some(flag.to_string()),
            Some(other) => {
                return Err(ManifestError::invalid(
                    key("default"),
                    format!(
                        "must be a string, integer or boolean, not {}",
                        other.type_str()
                    ),
                ));
            }
        };
        if raw.secret && default.is_some() {
            return Err(ManifestError::invalid(
                key("default"),
                "a secret field cannot have a default: a value shipped in plugin.toml is not secret",
            ));
        }
        let mut field = Self {
            name: raw.name,
            label: raw.label,
            field_type: raw.field_type,
            required: raw.required,
            secret: raw.secret,
            default: None,
            help: raw.help,
            options,
        };
        if let Some(default) = default {
            // Store the default as validate_config would store the value, so a filled-in
            // default is always a valid value.
            let accepted = field
                .accept(&default)
                .map_err(|message| ManifestError::invalid(key("default"), message))?;
            field.default = Some(accepted);
        }
        Ok(field)
    }

    /// Checks one non-empty value against the field's type and returns it as stored:
    /// typed values are trimmed, where surrounding whitespace is never meant; plain
    /// strings (and secrets) are kept exactly as typed.
    fn accept(&self, value: &str) -> Result<String, String> {
        let trimmed = value.trim();
        match self.field_type {
            FieldType::String => return Ok(value.to_owned()),
            FieldType::Url => check_url(trimmed)?,
            FieldType::Integer => {
                trimmed
                    .parse::<i64>()
                    .map_err(|_| "must be a whole number".to_owned())?;
            }
            FieldType::Boolean => {
                if trimmed != "true" && trimmed != "false" {
                    return Err("must be true or false".to_owned());
                }
            }
            FieldType::Select => {
                if !self.options.iter().any(|option| option == trimmed) {
                    return Err(format!("must be one of: {}", self.options.join(", ")));
                }
            }
        }
        Ok(trimmed.to_owned())
    }
}

fn check_options(options: &[String]) -> Result<(), String> {
    if options.is_empty() {
        return Err("a select field needs at least one option".to_owned());
    }
    for (index, option) in options.iter().enumerate() {
        if option.trim().is_empty() || option.trim() != option {
            return Err(format!(
                "option {option:?} must be non-empty, without surrounding spaces"
            ));
        }
        if options[..index].contains(option) {
            return Err(format!("option {option:?} is listed twice"));
        }
    }
    Ok(())
}

fn check_url(value: &str) -> Result<(), String> {
    let url =
        Url::parse(value).map_err(|_| "must be an absolute http:// or https:// URL".to_owned())?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!(
            "must be an http:// or https:// URL, not {}://",
            url.scheme()
        ));
    }
    if url.host().is_none() {
        return Err("must name a host".to_owned());
    }
    // The URL is not a secret field, so credentials in it would be shown and logged.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not contain a user name or password; use the plugin's secret fields".to_owned(),
        );
    }
    Ok(())
}

/// `[a-z][a-z0-9_]{0,62}`: a stable key that is also a valid template placeholder.
pub(crate) fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|first| first.is_ascii_lowercase())
        && name.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks a shop's config values against the declared fields; see
/// [`crate::Manifest::validate_config`].
pub(crate) fn validate(
    fields: &[ConfigField],
    values: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ConfigErrors> {
    let mut problems: Vec<FieldProblem> = values
        .keys()
        .filter(|name| !fields.iter().any(|field| &field.name == *name))
        .map(|name| FieldProblem::new(name, "is not a field of this plugin"))
        .collect();
    let mut accepted = BTreeMap::new();
    for field in fields {
        // A form sends an untouched optional field as an empty string.
        let given = values
            .get(&field.name)
            .filter(|value| !value.trim().is_empty());
        match (given, &field.default) {
            (Some(value), _) => match field.accept(value) {
                Ok(value) => {
                    accepted.insert(field.name.clone(), value);
                }
                Err(message) => problems.push(FieldProblem::new(&field.name, message)),
            },
            (None, Some(default)) => {
                accepted.insert(field.name.clone(), default.clone());
            }
            (None, None) if field.required => {
                problems.push(FieldProblem::new(&field.name, "is required"));
            }
            (None, None) => {}
        }
    }
    if problems.is_empty() {
        Ok(accepted)
    } else {
        Err(ConfigErrors { problems })
    }
}

/// One thing wrong with one config field. Messages never repeat the value, so a
/// mistyped secret does not end up in an error response or a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    /// The field's name (or the unknown key that was given).
    pub field: String,
    /// What is wrong, readable after the field name: "is required".
    pub message: String,
}

impl FieldProblem {
    fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.message)
    }
}

/// Every problem found in a shop's config, in field order (unknown keys first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors {
    problems: Vec<FieldProblem>,
}

impl ConfigErrors {
    /// The problems, at least one.
    pub fn problems(&self) -> &[FieldProblem] {
        &self.problems
    }

    /// The problems, owned.
    pub fn into_problems(self) -> Vec<FieldProblem> {
        self.problems
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid config: ")?;
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
