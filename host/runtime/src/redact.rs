//! Keeps an account's secrets out of the errors a connector or its platform report (a
//! platform that quotes the bad token back in its error must not put it into the
//! database, the API or the log). The redactor itself lives with the `log` import.

use tovor_runtime_log::Redactor;

use crate::error::CallError;
use crate::model::ConnectorError;

/// Redaction of the runtime's own error types.
pub trait RedactErrors {
    /// The connector's error with every secret value replaced in its texts.
    fn redact_connector_error(&self, error: ConnectorError) -> ConnectorError;
    /// A failed call with every secret value replaced in the texts it carries.
    fn redact_call_error(&self, error: CallError) -> CallError;
    /// Per-item outcomes of a batch call, their errors redacted.
    fn redact_outcomes<T>(
        &self,
        outcomes: Vec<Result<T, ConnectorError>>,
    ) -> Vec<Result<T, ConnectorError>>;
}

impl RedactErrors for Redactor {
    fn redact_connector_error(&self, error: ConnectorError) -> ConnectorError {
        if self.is_empty() {
            return error;
        }
        ConnectorError {
            message: self.redact(&error.message),
            field: error.field.map(|field| self.redact(&field)),
            platform_code: error.platform_code.map(|code| self.redact(&code)),
            ..error
        }
    }

    fn redact_call_error(&self, error: CallError) -> CallError {
        if self.is_empty() {
            return error;
        }
        match error {
            CallError::Connector { plugin, error } => CallError::Connector {
                plugin,
                error: self.redact_connector_error(error),
            },
            CallError::Config { plugin, message } => CallError::Config {
                plugin,
                message: self.redact(&message),
            },
            CallError::EgressDenied {
                plugin,
                url,
                reason,
            } => CallError::EgressDenied {
                plugin,
                url: self.redact(&url),
                reason: self.redact(&reason),
            },
            CallError::Http {
                plugin,
                url,
                failure,
            } => CallError::Http {
                plugin,
                url: self.redact(&url),
                failure: match failure {
                    crate::HttpFailure::Connection(text) => {
                        crate::HttpFailure::Connection(self.redact(&text))
                    }
                    other => other,
                },
            },
            CallError::Trap { plugin, message } => CallError::Trap {
                plugin,
                message: self.redact(&message),
            },
            CallError::Instantiate { plugin, message } => CallError::Instantiate {
                plugin,
                message: self.redact(&message),
            },
            other => other,
        }
    }

    fn redact_outcomes<T>(
        &self,
        outcomes: Vec<Result<T, ConnectorError>>,
    ) -> Vec<Result<T, ConnectorError>> {
        outcomes
            .into_iter()
            .map(|outcome| outcome.map_err(|error| self.redact_connector_error(error)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorKind;

    #[test]
    fn connector_and_call_errors_lose_the_secrets_they_quote() {
        let r = Redactor::new(["tok-0123456789"]);
        let quoted = r.redact_connector_error(ConnectorError::new(
            ErrorKind::Auth,
            "invalid API token tok-0123456789",
        ));
        assert_eq!(quoted.message, "invalid API token ***");
        let mut invalid =
            ConnectorError::new(ErrorKind::InvalidInput, "tok-0123456789 is not valid")
                .with_field("token");
        invalid.platform_code = Some("bad tok-0123456789".into());
        let invalid = r.redact_connector_error(invalid);
        assert_eq!(invalid.field.as_deref(), Some("token"));
        assert_eq!(invalid.message, "*** is not valid");
        assert_eq!(invalid.platform_code.as_deref(), Some("bad ***"));
        let call = r.redact_call_error(CallError::Trap {
            plugin: "p".into(),
            message: "panicked: bad key tok-0123456789".into(),
        });
        assert!(!call.to_string().contains("tok-0123456789"), "{call}");
        let outcomes = r.redact_outcomes::<()>(vec![
            Ok(()),
            Err(ConnectorError::new(ErrorKind::Other, "tok-0123456789")),
        ]);
        assert!(matches!(&outcomes[1], Err(error) if error.message == "***"));
    }
}
