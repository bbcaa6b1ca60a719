//! The connector runtime's `log` import, and what keeps an account's secrets out of
//! everything that leaves a plugin call: log lines, the plugin's output, logged URLs and
//! (through the runtime) the errors a connector or its platform report.
//!
//! A plugin's log lines become the host's `tracing` events, labelled with the plugin, the
//! account and the operation, redacted, and capped per call so a chatty or looping plugin
//! cannot flood the host's logs.

use std::sync::Arc;

/// Lines a plugin may log in one call before the rest are dropped.
pub const MAX_LOG_LINES_PER_CALL: u32 = 500;

/// Who is calling: carried into every log line and egress decision of the call.
#[derive(Debug, Clone)]
pub struct CallLabels {
    pub plugin: Arc<str>,
    /// The account (shop or carrier connection) the call is made for.
    pub shop: Option<Arc<str>>,
    pub operation: &'static str,
}

impl CallLabels {
    fn account(&self) -> &str {
        self.shop.as_deref().unwrap_or("-")
    }
}

/// A log line's level, as every contract version has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// One call's log: counts lines and writes them to the host's log, redacted.
#[derive(Debug, Default)]
pub struct PluginLog {
    lines: u32,
}

impl PluginLog {
    /// Writes one line of the plugin's, unless the call has logged too much already
    /// (then one warning says so, once).
    pub fn write(&mut self, labels: &CallLabels, redactor: &Redactor, level: Level, message: &str) {
        self.lines += 1;
        let plugin = &*labels.plugin;
        let shop = labels.account();
        let operation = labels.operation;
        if self.lines > MAX_LOG_LINES_PER_CALL {
            if self.lines == MAX_LOG_LINES_PER_CALL + 1 {
                tracing::warn!(
                    plugin,
                    shop,
                    "plugin logged more than {MAX_LOG_LINES_PER_CALL} lines in one call; dropping the rest"
                );
            }
            return;
        }
        let message = redactor.redact(message);
        match level {
            Level::Trace => tracing::trace!(plugin, shop, operation, "{message}"),
            Level::Debug => tracing::debug!(plugin, shop, operation, "{message}"),
            Level::Info => tracing::info!(plugin, shop, operation, "{message}"),
            Level::Warn => tracing::warn!(plugin, shop, operation, "{message}"),
            Level::Error => tracing::error!(plugin, shop, operation, "{message}"),
        }
    }

    /// Lines written so far, dropped ones included.
    pub fn lines(&self) -> u32 {
        self.lines
    }
}

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
    "passwd",
    "password",
    "secret",
    "signature",
    "token",
    // A login name is half a credential (DPD EasyShip sends both in the query).
    "user",
    "username",
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

    /// Whether there is anything to redact.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
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
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn replaces_secrets_longest_first() {
        let r = Redactor::new(["abcd", "abcdefgh", "", "xy"]);
        assert_eq!(r.redact("k=abcdefgh j=abcd xy"), "k=*** j=*** xy");
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
        // DPD EasyShip: the login, the password and the tracking secret in the query.
        let easyship = url::Url::parse(
            "https://easyship.si/api/parcel/parcel_status?username=shop1&password=p4ss&secret=t0k&parcel_number=1",
        )
        .unwrap();
        let shown = Redactor::new(Vec::<String>::new()).redact_url(&easyship);
        for hidden in ["shop1", "p4ss", "t0k"] {
            assert!(!shown.contains(hidden), "{shown}");
        }
        assert!(shown.contains("parcel_number=1"), "{shown}");
    }

    #[test]
    fn a_call_logs_at_most_its_share_of_lines() {
        let labels = CallLabels {
            plugin: Arc::from("p"),
            shop: None,
            operation: "op",
        };
        let redactor = Redactor::default();
        let mut log = PluginLog::default();
        for _ in 0..MAX_LOG_LINES_PER_CALL + 10 {
            log.write(&labels, &redactor, Level::Debug, "line");
        }
        assert_eq!(log.lines(), MAX_LOG_LINES_PER_CALL + 10);
    }
}
