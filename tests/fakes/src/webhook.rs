//! A webhook delivery as a fake platform makes it, and sending it the way platforms do.

use std::time::Duration;

use anyhow::Context as _;

/// One webhook delivery: the headers and raw body a platform POSTs, exactly as signed.
/// Tests send it, send it twice, or tamper with it first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Delivery {
    /// The value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// POSTs the delivery to `url` and answers the HTTP status, giving up after
    /// `timeout` as the platform does. Redirects are not followed: no platform follows
    /// one with a webhook.
    pub async fn send(&self, url: &str, timeout: Duration) -> anyhow::Result<u16> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()?;
        let mut request = client.post(url).body(self.body.clone());
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("delivering a webhook to {url}"))?;
        Ok(response.status().as_u16())
    }
}
