//! [`Config`]: the connector's settings for one shop or carrier account.

use std::fmt;

use crate::types::ConnectorError;

/// The optional config field every plugin accepts: it replaces the platform's fixed API
/// address (sandbox accounts, tests against a mock server). The host declares it for you.
pub const API_BASE: &str = "api_base";

/// The config fields a `plugin.toml` declares, as the user filled them in (secrets
/// included, decrypted), plus the implicit [`API_BASE`].
///
/// An empty (or all-blank) value counts as absent, as it does for the host.
/// `Debug` shows the field names only, so a config can be logged without leaking secrets.
///
/// ```
/// use tovor_sdk::Config;
///
/// let config = Config::from_iter([("shop_url", "https://shop.example/"), ("api_token", "")]);
/// assert_eq!(config.get("shop_url"), Some("https://shop.example/"));
/// assert_eq!(config.get("api_token"), None);
/// assert!(config.require("api_token").is_err());
/// assert_eq!(config.api_base_or("https://api.minishop.example/"), "https://api.minishop.example");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Config {
    fields: Vec<(String, String)>,
}

impl Config {
    /// Wraps the raw `(name, value)` list the host passes in.
    pub fn new(fields: Vec<(String, String)>) -> Self {
        Self { fields }
    }

    /// The value of `name`, or `None` when it is missing or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, value)| field == name && !value.trim().is_empty())
            .map(|(_, value)| value.as_str())
    }

    /// The value of `name`, or an `invalid-input` error naming the field.
    pub fn require(&self, name: &str) -> Result<&str, ConnectorError> {
        self.get(name).ok_or_else(|| {
            ConnectorError::invalid_field(name, format!("the setting {name:?} is required"))
        })
    }

    /// The API address to use: the `api_base` setting when given, else `default`, with
    /// surrounding blanks and trailing `/` removed so paths can be appended with
    /// `format!("{base}/orders")`.
    pub fn api_base_or(&self, default: &str) -> String {
        self.get(API_BASE)
            .unwrap_or(default)
            .trim()
            .trim_end_matches('/')
            .to_owned()
    }

    /// Every `(name, value)` pair as given, blank ones included.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The raw list, as the host passed it.
    pub fn into_inner(self) -> Vec<(String, String)> {
        self.fields
    }
}

impl From<Vec<(String, String)>> for Config {
    fn from(fields: Vec<(String, String)>) -> Self {
        Self::new(fields)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Config {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self::new(
            iter.into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        )
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values may be secrets: show which fields are set, never what they hold.
        f.debug_map()
            .entries(self.fields.iter().map(|(name, value)| {
                let shown = if value.trim().is_empty() {
                    "<empty>"
                } else {
                    "<set>"
                };
                (name, shown)
            }))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::from_iter([
            ("shop_url", "https://shop.example"),
            ("blank", "   "),
            ("empty", ""),
            ("api_token", "s3cret"),
        ])
    }

    #[test]
    fn get_treats_blank_as_absent() {
        let config = config();
        assert_eq!(config.get("shop_url"), Some("https://shop.example"));
        assert_eq!(config.get("blank"), None);
        assert_eq!(config.get("empty"), None);
        assert_eq!(config.get("missing"), None);
    }

    #[test]
    fn require_names_the_field() {
        let config = config();
        assert_eq!(config.require("api_token").ok(), Some("s3cret"));
        match config.require("empty") {
            Err(ConnectorError::InvalidInput(error)) => {
                assert_eq!(error.field.as_deref(), Some("empty"));
                assert!(error.message.contains("empty"));
            }
            other => panic!("unexpected {other:?}"),
        }
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
    }
}
