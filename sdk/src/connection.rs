//! The `connection` capability, shared by shops and carriers: testing credentials and
//! permissions when an account is added or edited.

use crate::Config;
use crate::bindings::connection::exports::tovor::connector::connection as guest;
use crate::types::ConnectorError;

pub use guest::ConnectionInfo;

/// Checks the account's credentials with a cheap authenticated request.
pub trait Connection {
    /// The account as the platform names it, and warnings for what works but needs
    /// attention. Fails with `auth`, `permission` (naming what is missing) or `not-found`
    /// (wrong address), with a message that says what to fix.
    fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError>;
}

impl ConnectionInfo {
    /// Connected, as `account` (the shop's name or domain), with no warnings.
    pub fn account(account: impl Into<String>) -> Self {
        Self {
            account: Some(account.into()),
            warnings: Vec::new(),
        }
    }

    /// Connected; the platform does not say as whom.
    pub fn anonymous() -> Self {
        Self {
            account: None,
            warnings: Vec::new(),
        }
    }

    /// Adds a warning.
    #[must_use]
    pub fn warning(mut self, warning: impl Into<String>) -> Self {
        self.warnings.push(warning.into());
        self
    }
}

impl<T: Connection> guest::Guest for T {
    fn check_connection(
        config: Vec<(String, crate::types::ConfigValue)>,
    ) -> Result<ConnectionInfo, ConnectorError> {
        <T as Connection>::check_connection(&Config::new(config))
    }
}
