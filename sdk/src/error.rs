//! Constructors and conveniences on [`ConnectorError`].

use std::fmt;

use crate::types::{ConnectorError, ErrorKind};

impl ConnectorError {
    /// An error of `kind` with `message` and nothing else.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            field: None,
            http_status: None,
            platform_code: None,
            retry_after_ms: None,
        }
    }

    /// `auth`: the platform refused the credentials.
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Auth, message)
    }

    /// `permission`: valid credentials without the permission or scope the call needs
    /// (say which in the message).
    pub fn permission(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Permission, message)
    }

    /// `not-found`: the thing asked for does not exist on the platform.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// `rate-limited`, with the wait the platform asked for when it said so.
    pub fn rate_limited(retry_after_ms: Option<u64>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::RateLimited, message).with_retry_after_ms(retry_after_ms)
    }

    /// `invalid-input` without a field: the request as a whole was refused.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// `invalid-input` naming the offending field (a config field, or a field of the
    /// order, shipment or stock level the host passed in: `recipient.postal-code`).
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid_input(message).with_field(field)
    }

    /// `conflict`: the thing exists but its state forbids the call (already shipped).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    /// `bad-signature`: a webhook delivery whose signature does not match.
    pub fn bad_signature(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadSignature, message)
    }

    /// `transient`: temporary trouble (timeouts, 5xx, maintenance); the host retries.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Transient, message)
    }

    /// `unsupported` for something the platform or this connector cannot do
    /// (`"cash on delivery in USD"`).
    pub fn unsupported(what: &str) -> Self {
        Self::new(
            ErrorKind::Unsupported,
            format!("this connector does not support {what}"),
        )
    }

    /// `other`: anything else (a platform answer that makes no sense, a connector bug).
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Other, message)
    }

    /// The input field at fault.
    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The platform's HTTP status, when the failure came from an HTTP answer.
    #[must_use]
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    /// The platform's own error code (`"rest_invalid_param"`, GLS `"13"`).
    #[must_use]
    pub fn with_platform_code(mut self, code: impl Into<String>) -> Self {
        self.platform_code = Some(code.into());
        self
    }

    /// How long to wait before trying again (keeps an earlier value when `None`).
    #[must_use]
    pub fn with_retry_after_ms(mut self, retry_after_ms: Option<u64>) -> Self {
        if retry_after_ms.is_some() {
            self.retry_after_ms = retry_after_ms;
        }
        self
    }

    /// The message with a prefix saying where it happened (`"order 1042: ..."`).
    #[must_use]
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// Whether the host may retry the same call later (`rate-limited`, `transient`).
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::RateLimited | ErrorKind::Transient)
    }

    /// Whether this is an error of `kind`.
    pub fn is(&self, kind: ErrorKind) -> bool {
        self.kind == kind
    }
}

/// JSON that does not have the expected shape is `other`: retrying will not help and the
/// user cannot fix it, the connector (or the platform) has to.
impl From<serde_json::Error> for ConnectorError {
    fn from(error: serde_json::Error) -> Self {
        Self::other(format!("unexpected JSON: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_set_the_kind_and_keep_details() {
        let error = ConnectorError::invalid_field("shop_url", "missing");
        assert_eq!(error.kind, ErrorKind::InvalidInput);
        assert_eq!(error.field.as_deref(), Some("shop_url"));
        assert_eq!(error.message, "missing");
        let limited = ConnectorError::rate_limited(Some(1500), "slow down")
            .with_http_status(429)
            .with_platform_code("too_many")
            .with_retry_after_ms(None);
        assert!(limited.is_retryable());
        assert_eq!(limited.retry_after_ms, Some(1500));
        assert_eq!(limited.http_status, Some(429));
        assert_eq!(limited.platform_code.as_deref(), Some("too_many"));
        assert!(ConnectorError::transient("x").is_retryable());
        for error in [
            ConnectorError::auth("x"),
            ConnectorError::permission("x"),
            ConnectorError::not_found("x"),
            ConnectorError::conflict("x"),
            ConnectorError::bad_signature("x"),
            ConnectorError::other("x"),
        ] {
            assert!(!error.is_retryable(), "{error:?}");
        }
        let unsupported = ConnectorError::unsupported("cash on delivery");
        assert!(unsupported.is(ErrorKind::Unsupported));
        assert!(unsupported.message.contains("cash on delivery"));
        assert_eq!(
            ConnectorError::not_found("gone").context("order 7").message,
            "order 7: gone"
        );
    }

    #[test]
    fn json_errors_are_other() {
        let error = serde_json::from_str::<u32>("\"x\"").map_err(ConnectorError::from);
        assert!(
            matches!(error, Err(e) if e.kind == ErrorKind::Other && e.message.starts_with("unexpected JSON"))
        );
    }
}
