//! [`Config`]: the connector's settings for one shop or carrier account.

use std::fmt;

use crate::types::{ConfigValue, ConnectorError};

/// The optional config field every plugin accepts: it replaces the platform's fixed API
/// address (sandbox accounts, tests against a mock server). The host declares it for you.
pub const API_BASE: &str = "api_base";

/// The config fields a `plugin.toml` declares, as the user filled them in (secrets
/// included, decrypted), typed as the manifest declares them, plus the implicit
/// [`API_BASE`].
///
/// A blank text counts as absent. Errors are `invalid-input` naming the field, so the
/// host can point the user at it. `Debug` shows the field names only, so a config can be
/// logged without leaking secrets.
///
/// ```
/// use tovor_sdk::Config;
/// use tovor_sdk::types::ConfigValue;
///
/// let config = Config::from_iter([
///     ("shop_url", ConfigValue::from("https://shop.example/")),
///     ("api_token", "".into()),
///     ("page_size", 50.into()),
///     ("test_mode", true.into()),
/// ]);
/// assert_eq!(config.text("shop_url"), Some("https://shop.example/"));
/// assert_eq!(config.text("api_token"), None);
/// assert_eq!(config.require("api_token").unwrap_err().field.as_deref(), Some("api_token"));
/// assert_eq!(config.integer("page_size").unwrap(), Some(50));
/// assert_eq!(config.boolean_or("test_mode", false).unwrap(), true);
/// assert_eq!(config.api_base_or("https://api.minishop.example/"), "https://api.minishop.example");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Config {
    fields: Vec<(String, ConfigValue)>,
}

impl Config {
    /// Wraps the raw `(name, value)` list the host passes in.
    pub fn new(fields: Vec<(String, ConfigValue)>) -> Self {
        Self { fields }
    }

    /// The raw value of `name`, or `None` when it is missing or a blank text.
    pub fn value(&self, name: &str) -> Option<&ConfigValue> {
        self.fields
            .iter()
            .find(|(field, value)| {
                field == name && !matches!(value, ConfigValue::Text(text) if text.trim().is_empty())
            })
            .map(|(_, value)| value)
    }

    /// The text value of `name` (`text`, `url`, `select` and secret fields), or `None`
    /// when it is missing, blank or not a text.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.value(name) {
            Some(ConfigValue::Text(text)) => Some(text.as_str()),
            _ => None,
        }
    }

    /// The text value of `name`, or `invalid-input` naming the field when it is missing
    /// (or not a text).
    pub fn require(&self, name: &str) -> Result<&str, ConnectorError> {
        match self.value(name) {
            Some(ConfigValue::Text(text)) => Ok(text.as_str()),
            Some(other) => Err(wrong_type(name, other, "a text")),
            None => Err(missing(name)),
        }
    }

    /// The integer value of `name`; a text holding an integer is read too. `None` when
    /// missing; `invalid-input` naming the field when it is something else.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, ConnectorError> {
        match self.value(name) {
            None => Ok(None),
            Some(ConfigValue::Integer(value)) => Ok(Some(*value)),
            Some(ConfigValue::Text(text)) => text.trim().parse().map(Some).map_err(|_| {
                ConnectorError::invalid_field(
                    name,
                    format!("the setting {name:?} must be a whole number, not {text:?}"),
                )
            }),
            Some(other) => Err(wrong_type(name, other, "a whole number")),
        }
    }

    /// The integer value of `name`, or `invalid-input` naming the field when missing.
    pub fn require_integer(&self, name: &str) -> Result<i64, ConnectorError> {
        self.integer(name)?.ok_or_else(|| missing(name))
    }

    /// The integer value of `name`, or `default` when missing.
    pub fn integer_or(&self, name: &str, default: i64) -> Result<i64, ConnectorError> {
        Ok(self.integer(name)?.unwrap_or(default))
    }

    /// The boolean value of `name`; a text `true`/`false`/`1`/`0`/`yes`/`no` is read too.
    /// `None` when missing; `invalid-input` naming the field when it is something else.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ConnectorError> {
        match self.value(name) {
            None => Ok(None),
            Some(ConfigValue::Boolean(value)) => Ok(Some(*value)),
            Some(ConfigValue::Text(text)) => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(Some(true)),
                "false" | "0" | "no" | "off" => Ok(Some(false)),
                _ => Err(ConnectorError::invalid_field(
                    name,
                    format!("the setting {name:?} must be true or false, not {text:?}"),
                )),
            },
            Some(other) => Err(wrong_type(name, other, "true or false")),
        }
    }

    /// The boolean value of `name`, or `invalid-input` naming the field when missing.
    pub fn require_boolean(&self, name: &str) -> Result<bool, ConnectorError> {
        self.boolean(name)?.ok_or_else(|| missing(name))
    }

    /// The boolean value of `name`, or `default` when missing.
    pub fn boolean_or(&self, name: &str, default: bool) -> Result<bool, ConnectorError> {
        Ok(self.boolean(name)?.unwrap_or(default))
    }

    /// The API address to use: the `api_base` setting when given, else `default`, with
    /// surrounding blanks and trailing `/` removed so paths can be appended with
    /// `format!("{base}/orders")`.
    pub fn api_base_or(&self, default: &str) -> String {
        self.text(API_BASE)
            .unwrap_or(default)
            .trim()
            .trim_end_matches('/')
            .to_owned()
    }

    /// Every `(name, value)` pair as given, blank ones included.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ConfigValue)> {
        self.fields
            .iter()
            .map(|(name, value)| (name.as_str(), value))
    }

    /// The raw list, as the host passed it.
    pub fn into_inner(self) -> Vec<(String, ConfigValue)> {
        self.fields
    }
}

fn missing(name: &str) -> ConnectorError {
    ConnectorError::invalid_field(name, format!("the setting {name:?} is required"))
}

fn wrong_type(name: &str, value: &ConfigValue, expected: &str) -> ConnectorError {
    let found = match value {
        ConfigValue::Text(_) => "a text",
        ConfigValue::Integer(_) => "a number",
        ConfigValue::Boolean(_) => "a yes/no value",
    };
    ConnectorError::invalid_field(
        name,
        format!("the setting {name:?} must be {expected}, but it is {found}"),
    )
}

impl From<Vec<(String, ConfigValue)>> for Config {
    fn from(fields: Vec<(String, ConfigValue)>) -> Self {
        Self::new(fields)
    }
}

impl<K: Into<String>, V: Into<ConfigValue>> FromIterator<(K, V)> for Config {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self::new(
            iter.into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        )
    }
}

impl From<&str> for ConfigValue {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for ConfigValue {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<i64> for ConfigValue {
    fn from(value: i64) -> Self {
        Self::Integer(value)
    }
}

impl From<i32> for ConfigValue {
    fn from(value: i32) -> Self {
        Self::Integer(value.into())
    }
}

impl From<bool> for ConfigValue {
    fn from(value: bool) -> Self {
        Self::Boolean(value)
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values may be secrets: show which fields are set, never what they hold.
        f.debug_map()
            .entries(self.fields.iter().map(|(name, value)| {
                let shown = match value {
                    ConfigValue::Text(text) if text.trim().is_empty() => "<empty>",
                    _ => "<set>",
                };
                (name, shown)
            }))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ErrorKind;

    fn config() -> Config {
        Config::from_iter([
            ("shop_url", ConfigValue::from("https://shop.example")),
            ("blank", "   ".into()),
            ("empty", "".into()),
            ("api_token", "s3cret".into()),
            ("page_size", 25.into()),
            ("page_text", " 40 ".into()),
            ("sandbox", true.into()),
            ("flag_text", "No".into()),
        ])
    }

    #[test]
    fn text_treats_blank_as_absent() {
        let config = config();
        assert_eq!(config.text("shop_url"), Some("https://shop.example"));
        assert_eq!(config.text("blank"), None);
        assert_eq!(config.text("empty"), None);
        assert_eq!(config.text("missing"), None);
        assert_eq!(config.text("page_size"), None, "not a text");
    }

    #[test]
    fn require_names_the_field() {
        let config = config();
        assert_eq!(config.require("api_token").ok(), Some("s3cret"));
        let error = config.require("empty").unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidInput);
        assert_eq!(error.field.as_deref(), Some("empty"));
        assert!(error.message.contains("required"));
        let error = config.require("sandbox").unwrap_err();
        assert_eq!(error.field.as_deref(), Some("sandbox"));
        assert!(error.message.contains("yes/no"), "{}", error.message);
    }

    #[test]
    fn typed_getters() {
        let config = config();
        assert_eq!(config.integer("page_size").unwrap(), Some(25));
        assert_eq!(config.integer("page_text").unwrap(), Some(40));
        assert_eq!(config.integer("missing").unwrap(), None);
        assert_eq!(config.integer_or("missing", 50).unwrap(), 50);
        let error = config.integer("shop_url").unwrap_err();
        assert_eq!(error.field.as_deref(), Some("shop_url"));
        assert!(config.integer("sandbox").is_err());
        assert_eq!(
            config
                .require_integer("missing")
                .unwrap_err()
                .field
                .as_deref(),
            Some("missing")
        );
        assert!(config.require_boolean("sandbox").unwrap());
        assert_eq!(config.boolean("flag_text").unwrap(), Some(false));
        assert!(!config.boolean_or("missing", false).unwrap());
        assert!(config.boolean("shop_url").is_err());
        assert!(config.boolean("page_size").is_err());
    }

    #[test]
    fn api_base_overrides_and_is_trimmed() {
        assert_eq!(
            config().api_base_or("https://api.example/v1/"),
            "https://api.example/v1"
        );
        let overridden = Config::from_iter([(API_BASE, " http://127.0.0.1:9000// ")]);
        assert_eq!(
            overridden.api_base_or("https://api.example"),
            "http://127.0.0.1:9000"
        );
        let blank = Config::from_iter([(API_BASE, "")]);
        assert_eq!(
            blank.api_base_or("https://api.example"),
            "https://api.example"
        );
    }

    #[test]
    fn debug_hides_values() {
        let shown = format!("{:?}", config());
        assert!(shown.contains("api_token"));
        assert!(!shown.contains("s3cret"));
        assert!(shown.contains("<empty>"));
    }
}
