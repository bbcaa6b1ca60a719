//! Keeps an account's secrets out of everything that leaves a plugin call: log lines,
//! the plugin's output, logged URLs, and the errors the connector or its platform report
//! (a platform that quotes the bad token back in its error must not put it into the
//! database, the API or the log).

use crate::error::CallError;
use crate::model::ConnectorError;

/// Secrets shorter than this are not redacted by value: replacing every `"1"` in a log
/// line would destroy the line without protecting anything.
const MIN_SECRET_LEN: usize = 4;

/// Query parameters whose values are always hidden in logged URLs, whatever the config.
const SENSITIVE_QUERY_KEYS: &[&str] = &[
    "access_token",
    "api_key",
    "apikey",
    "consumer_key",
    "consumer_secret",
    "key",
    "password",
    "secret",
    "signature",
    "token",
];

/// Replaces the values of a plugin's secret config fields wherever they appear.
#[derive(Debug, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// A redactor for the given secret values (empty and very short ones are ignored).
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .map(Into::into)
            .filter(|s| s.len() >= MIN_SECRET_LEN)
            .collect();
        // Longest first, so a secret that contains another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets }
    }

    /// The text with every secret value replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }

    /// The connector's error with every secret value replaced in its texts.
    pub fn redact_connector_error(&self, error: ConnectorError) -> ConnectorError {
        if self.secrets.is_empty() {
            return error;
        }
        ConnectorError {
            message: self.redact(&error.message),
            field: error.field.map(|field| self.redact(&field)),
            platform_code: error.platform_code.map(|code| self.redact(&code)),
            ..error
        }
    }

    /// A failed call with every secret value replaced in the texts it carries.
    pub fn redact_call_error(&self, error: CallError) -> CallError {
        if self.secrets.is_empty() {
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

    /// Per-item outcomes of a batch call, their errors redacted.
    pub fn redact_outcomes<T>(
        &self,
        outcomes: Vec<Result<T, ConnectorError>>,
    ) -> Vec<Result<T, ConnectorError>> {
        outcomes
            .into_iter()
            .map(|outcome| outcome.map_err(|error| self.redact_connector_error(error)))
            .collect()
    }

    /// A URL fit for logs: secrets replaced, sensitive query values and userinfo hidden.
    pub fn redact_url(&self, url: &url::Url) -> String {
        let mut shown = url.clone();
        if !shown.username().is_empty() || shown.password().is_some() {
            let _ = shown.set_username("***");
            let _ = shown.set_password(None);
        }
        if shown.query().is_some() {
            let pairs: Vec<(String, String)> = shown
                .query_pairs()
                .map(|(k, v)| {
                    let hidden = SENSITIVE_QUERY_KEYS
                        .iter()
                        .any(|s| k.eq_ignore_ascii_case(s));
                    let value = if hidden {
                        "***".to_owned()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), value)
                })
                .collect();
            shown.query_pairs_mut().clear().extend_pairs(pairs);
        }
        self.redact(shown.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorKind;

    #[test]
    fn replaces_secrets_longest_first() {
        let r = Redactor::new(["abcd", "abcdefgh", "", "xy"]);
        assert_eq!(r.redact("k=abcdefgh j=abcd xy"), "k=*** j=*** xy");
    }

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

    #[test]
    fn hides_sensitive_query_values_and_userinfo() {
        let r = Redactor::new(["s3cr3t-value"]);
        let url = url::Url::parse(
            "https://ck:cs@shop.example/wp-json?consumer_key=ck_1&page=2&x=s3cr3t-value",
        )
        .unwrap();
        let shown = r.redact_url(&url);
        assert!(!shown.contains("ck_1"), "{shown}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(!shown.contains(":cs@"), "{shown}");
        assert!(shown.contains("page=2"), "{shown}");
    }
}
