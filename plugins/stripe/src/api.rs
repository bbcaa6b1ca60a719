//! The Stripe API: the secret key as a Bearer token, a pinned `Stripe-Version`, GETs with
//! query parameters, form-encoded POSTs (bracket notation for lists), and Stripe's error
//! object `{"error": {"type", "code", "message", "param"}}`.
//!
//! **Rate limits and retries.** Stripe answers 429 (`rate_limit`) without a
//! `Retry-After` in general; it advises backing off, so a 429 is `rate-limited` with
//! [`DEFAULT_RETRY_MS`] unless a `Retry-After` is sent. 5xx is `transient`. Stripe also
//! sends `Stripe-Should-Retry`: `true` makes any failure `transient` (a 409 lock
//! timeout, say); every call of this connector reads or is idempotent, so a 5xx is
//! retried even when Stripe says `false` (that advice is about repeating a POST).

use serde::Deserialize;
use tovor_sdk::Config;
use tovor_sdk::http::{self, Request, Response};
use tovor_sdk::types::ConnectorError;

/// The API version every request pins, so payloads keep one shape (the invoice line
/// `pricing`/`taxes` and invoice `total_taxes` shapes, invoice `payments`).
pub const API_VERSION: &str = "2025-03-31.basil";
/// Where Stripe's API lives unless `api_base` says otherwise.
pub const DEFAULT_BASE: &str = "https://api.stripe.com";
/// The wait after a 429 that names none.
pub const DEFAULT_RETRY_MS: u64 = 1000;

/// The API of one Stripe account.
pub struct Api {
    base: String,
    key: String,
}

impl Api {
    pub fn new(config: &Config) -> Result<Self, ConnectorError> {
        let key = config.require("secret_key")?.trim().to_owned();
        check_key_shape(&key)?;
        Ok(Self {
            base: config.api_base_or(DEFAULT_BASE),
            key,
        })
    }

    /// `{base}/v1/{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/v1/{path}", self.base)
    }

    pub fn get(&self, path: &str) -> Request {
        Request::get(self.url(path))
    }

    /// A form-encoded POST; list values repeat their `name[]` key.
    pub fn post_form(&self, path: &str, pairs: &[(&str, String)]) -> Request {
        Request::post(self.url(path)).form(pairs)
    }

    pub fn delete(&self, path: &str) -> Request {
        Request::delete(self.url(path))
    }

    fn authorize(&self, request: Request) -> Request {
        request
            .bearer_auth(&self.key)
            .header("Stripe-Version", API_VERSION)
            .header("Accept", "application/json")
    }

    /// Sends with the key and turns Stripe's error answers into connector errors.
    pub fn send(&self, request: Request) -> Result<Response, ConnectorError> {
        check(self.send_unchecked(request)?)
    }

    /// Sends with the key and returns any answer (for a 404 that is an outcome).
    pub fn send_unchecked(&self, request: Request) -> Result<Response, ConnectorError> {
        self.authorize(request).send()
    }

    /// Several requests at once (the host sends them concurrently), each checked.
    pub fn send_many(&self, requests: Vec<Request>) -> Vec<Result<Response, ConnectorError>> {
        let requests = requests
            .into_iter()
            .map(|request| self.authorize(request))
            .collect();
        http::send_many(requests)
            .into_iter()
            .map(|result| result.and_then(check))
            .collect()
    }
}

/// Publishable keys (`pk_…`) cannot read anything; say so before Stripe does.
fn check_key_shape(key: &str) -> Result<(), ConnectorError> {
    if key.starts_with("pk_") {
        return Err(ConnectorError::invalid_field(
            "secret_key",
            "this is a publishable key (pk_…); use a secret key (sk_live_…, sk_test_…) or a \
             restricted key (rk_…)",
        ));
    }
    Ok(())
}

/// Stripe's error object.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StripeError {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub param: Option<String>,
}

/// The `error` of an error body, when it is Stripe's.
pub fn error_object(body: &[u8]) -> Option<StripeError> {
    #[derive(Deserialize)]
    struct Body {
        error: StripeError,
    }
    serde_json::from_slice::<Body>(body).ok().map(|b| b.error)
}

/// `Ok` for 2xx; otherwise the error Stripe's status means.
///
/// | status | kind |
/// |---|---|
/// | 401 | `auth`, field `secret_key` |
/// | 403 | `permission` (a restricted key without the permission), field `secret_key` |
/// | 404 | `not-found` |
/// | 429 | `rate-limited`, `Retry-After` or 1 s |
/// | 400, 402 | `invalid-input`, with Stripe's `param` |
/// | 409 | `conflict` |
/// | 5xx | `transient` |
pub fn check(response: Response) -> Result<Response, ConnectorError> {
    if response.is_success() {
        return Ok(response);
    }
    let status = response.status;
    let parsed = error_object(&response.body);
    let text = parsed
        .as_ref()
        .and_then(|error| error.message.clone())
        .unwrap_or_else(|| snippet(&response.body));
    let message = if text.is_empty() {
        format!("Stripe answered HTTP {status}")
    } else {
        format!("Stripe answered HTTP {status}: {text}")
    };
    let code = parsed.as_ref().and_then(|error| error.code.clone());
    let should_retry = response
        .header("stripe-should-retry")
        .map(|value| value.trim().eq_ignore_ascii_case("true"));
    let error = match status {
        401 => ConnectorError::auth(format!(
            "{message} (check the secret_key: a secret key sk_live_…/sk_test_… or a \
             restricted key rk_… from Dashboard › Developers › API keys)"
        ))
        .with_field("secret_key"),
        403 => ConnectorError::permission(format!(
            "{message} (the restricted key lacks a permission this needs)"
        ))
        .with_field("secret_key"),
        429 => ConnectorError::rate_limited(
            Some(response.retry_after_ms().unwrap_or(DEFAULT_RETRY_MS)),
            message,
        ),
        _ if should_retry == Some(true) => {
            ConnectorError::transient(message).with_retry_after_ms(response.retry_after_ms())
        }
        404 => ConnectorError::not_found(message),
        409 => ConnectorError::conflict(message),
        400 | 402 => match parsed.as_ref().and_then(|error| error.param.clone()) {
            Some(param) => ConnectorError::invalid_field(param, message),
            None => ConnectorError::invalid_input(message),
        },
        408 | 500..=599 => {
            ConnectorError::transient(message).with_retry_after_ms(response.retry_after_ms())
        }
        _ => http::status_error(
            status,
            &response.headers,
            &response.body,
            tovor_sdk::time::now(),
        )
        .unwrap_or_else(|| ConnectorError::other(message)),
    };
    let error = match code {
        Some(code) => error.with_platform_code(code),
        None => error,
    };
    Err(error.with_http_status(status))
}

/// A Stripe id in a path: ids are `prefix_` plus letters and digits; anything else
/// names nothing (`not-found`), and never reaches the URL unescaped.
pub fn path_id<'a>(id: &'a str, prefix: &str, what: &str) -> Result<&'a str, ConnectorError> {
    let id = id.trim();
    let valid = id.starts_with(prefix)
        && id.len() > prefix.len()
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(id)
    } else {
        Err(ConnectorError::not_found(format!(
            "{:?} is not a Stripe {what} id ({prefix}…)",
            http::percent_encode(id)
        )))
    }
}

/// The start of a body, for messages: one line, at most 200 characters.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line,
    }
}
