//! Keeps secrets out of logs.

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
    }
}
