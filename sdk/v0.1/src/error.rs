//! Conveniences on [`ConnectorError`].

use crate::types::{ConnectorError, FieldError, RateLimit};

impl ConnectorError {
    /// `invalid-input` without a field: the request as a whole was refused.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput(FieldError {
            field: None,
            message: message.into(),
        })
    }

    /// `invalid-input` naming the offending field (a config field, or a field of the
    /// order, shipment or stock level the host passed in).
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidInput(FieldError {
            field: Some(field.into()),
            message: message.into(),
        })
    }

    /// `rate-limited`, with the wait the platform asked for when it said so.
    pub fn rate_limited(retry_after_ms: Option<u64>, message: impl Into<String>) -> Self {
        Self::RateLimited(RateLimit {
            retry_after_ms,
            message: message.into(),
        })
    }

    /// `unsupported` for an operation this connector does not implement
    /// (`"push-stock"`, `"cancel"`, ...).
    pub fn unsupported(operation: &str) -> Self {
        Self::Unsupported(format!("this connector does not support {operation}"))
    }

    /// Whether the host may retry the same call later (`rate-limited`, `transient`).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited(_) | Self::Transient(_))
    }

    /// The human-readable message, whatever the variant.
    pub fn message(&self) -> &str {
        match self {
            Self::Auth(message)
            | Self::NotFound(message)
            | Self::BadSignature(message)
            | Self::Transient(message)
            | Self::Unsupported(message)
            | Self::Other(message) => message,
            Self::RateLimited(limit) => &limit.message,
            Self::InvalidInput(error) => &error.message,
        }
    }
}

/// JSON that does not have the expected shape is `other`: retrying will not help and the
/// user cannot fix it, the connector (or the platform) has to.
impl From<serde_json::Error> for ConnectorError {
    fn from(error: serde_json::Error) -> Self {
        Self::Other(format!("unexpected JSON: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors() {
        assert_eq!(
            ConnectorError::invalid_field("shop_url", "missing"),
            ConnectorError::InvalidInput(FieldError {
                field: Some("shop_url".into()),
                message: "missing".into()
            })
        );
        assert_eq!(ConnectorError::invalid_input("bad").message(), "bad");
        let limited = ConnectorError::rate_limited(Some(1500), "slow down");
        assert!(limited.is_retryable());
        assert_eq!(limited.message(), "slow down");
        assert!(ConnectorError::Transient("x".into()).is_retryable());
        assert!(!ConnectorError::Auth("x".into()).is_retryable());
        assert!(
            ConnectorError::unsupported("push-stock")
                .message()
                .contains("push-stock")
        );
    }

    #[test]
    fn json_errors_are_other() {
        let error = serde_json::from_str::<u32>("\"x\"").map_err(ConnectorError::from);
        assert!(matches!(error, Err(ConnectorError::Other(m)) if m.starts_with("unexpected JSON")));
    }
}
