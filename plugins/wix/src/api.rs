//! The Wix REST APIs of one site: addresses, the API key, and Wix's error bodies.
//!
//! Every call goes to `https://www.wixapis.com` (or `api_base`) with the API key in
//! `Authorization` and the site in `wix-site-id`.
//!
//! Wix answers errors as `{"message": "...", "details": {"applicationError": {"code":
//! "...", "description": "..."}}}` (or `validationError.fieldViolations` for bad input).

use serde::Serialize;
use serde_json::Value;
use tovor_sdk::Config;
use tovor_sdk::http::{self, Request, Response};
use tovor_sdk::types::{ConnectorError, ErrorKind};

/// Where the Wix REST APIs live.
pub const DEFAULT_BASE: &str = "https://www.wixapis.com";
/// The wait after a 429 without `Retry-After`. Wix does not document one; a few seconds
/// is what its per-site limits (requests per minute) need to recover.
pub const DEFAULT_RETRY_MS: u64 = 2000;

/// One site's APIs.
pub struct Api {
    base: String,
    key: String,
    site: String,
}

impl Api {
    pub fn new(config: &Config) -> Result<Self, ConnectorError> {
        Ok(Self {
            base: config.api_base_or(DEFAULT_BASE),
            key: config.require("api_key")?.trim().to_owned(),
            site: config.require("site_id")?.trim().to_owned(),
        })
    }

    pub fn site(&self) -> &str {
        &self.site
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    pub fn get(&self, path: &str) -> Request {
        Request::get(self.url(path))
    }

    pub fn post<T: Serialize + ?Sized>(&self, path: &str, body: &T) -> Request {
        Request::post(self.url(path)).json(body)
    }

    pub fn patch<T: Serialize + ?Sized>(&self, path: &str, body: &T) -> Request {
        Request::patch(self.url(path)).json(body)
    }

    /// The request with the key and the site.
    pub fn authorize(&self, request: Request) -> Request {
        request
            .header("Authorization", self.key.as_str())
            .header("wix-site-id", self.site.as_str())
            .header("Accept", "application/json")
    }

    /// Sends and turns Wix's error answers into connector errors ([`check`]).
    pub fn send(&self, request: Request) -> Result<Response, ConnectorError> {
        check(self.authorize(request).send()?)
    }

    /// Sends several requests concurrently; each answer is checked.
    pub fn send_many(&self, requests: Vec<Request>) -> Vec<Result<Response, ConnectorError>> {
        http::send_many(
            requests
                .into_iter()
                .map(|request| self.authorize(request))
                .collect(),
        )
        .into_iter()
        .map(|result| result.and_then(check))
        .collect()
    }
}

/// What Wix's error body says: the message, the application error code and the field
/// of the first validation violation.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WixError {
    pub message: String,
    pub code: Option<String>,
    pub field: Option<String>,
}

/// Reads Wix's error body; `None` when it is not one.
pub fn parse_error(body: &[u8]) -> Option<WixError> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    let details = &value["details"];
    let application = &details["applicationError"];
    let description = application["description"].as_str().unwrap_or_default();
    let message = object
        .get("message")
        .and_then(Value::as_str)
        .filter(|text| !text.trim().is_empty())
        .unwrap_or(description)
        .trim()
        .to_owned();
    let violation = details["validationError"]["fieldViolations"]
        .as_array()
        .and_then(|list| list.first());
    let message = match violation.and_then(|v| v["description"].as_str()) {
        Some(text) if message.is_empty() => text.to_owned(),
        _ => message,
    };
    let code = application["code"]
        .as_str()
        .map(str::to_owned)
        .filter(|code| !code.is_empty());
    let field = violation
        .and_then(|v| v["field"].as_str())
        .map(str::to_owned);
    if message.is_empty() && code.is_none() {
        return None;
    }
    Some(WixError {
        message,
        code,
        field,
    })
}

/// `Ok` for 2xx; else the error Wix's status means.
///
/// | status | kind |
/// |---|---|
/// | 401 | `auth`, field `api_key` |
/// | 403 | `permission`, field `api_key` (a key without the permission, or a site the key's account cannot reach) |
/// | 404 | `not-found` |
/// | 409, 428 | `conflict` (on Catalog V3: a stale `revision`), with Wix's code |
/// | 429 | `rate-limited`, `Retry-After` or 2 s |
/// | 400, 422 | `invalid-input`, with the field Wix names |
/// | 408, 5xx | `transient` |
pub fn check(response: Response) -> Result<Response, ConnectorError> {
    if response.is_success() {
        return Ok(response);
    }
    let status = response.status;
    let parsed = parse_error(&response.body);
    let text = match &parsed {
        Some(error) => match &error.code {
            Some(code) => format!("{} ({code})", error.message),
            None => error.message.clone(),
        },
        None => snippet(&response.body),
    };
    let message = if text.is_empty() {
        format!("Wix answered HTTP {status}")
    } else {
        format!("Wix answered HTTP {status}: {text}")
    };
    let error = match status {
        401 => ConnectorError::auth(format!(
            "{message}. Check the API key (`api_key`): it may be revoked or mistyped"
        ))
        .with_field("api_key"),
        403 => ConnectorError::permission(format!(
            "{message}. Give the API key (`api_key`) the Wix eCommerce and Wix Stores \
             permissions, and check that `site_id` names a site of the key's account"
        ))
        .with_field("api_key"),
        404 => ConnectorError::not_found(message),
        409 | 428 => ConnectorError::conflict(message),
        429 => ConnectorError::rate_limited(
            Some(response.retry_after_ms().unwrap_or(DEFAULT_RETRY_MS)),
            message,
        ),
        400 | 422 => match parsed.as_ref().and_then(|error| error.field.clone()) {
            Some(field) => ConnectorError::invalid_field(field, message),
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
    let error = match parsed.and_then(|error| error.code) {
        Some(code) => error.with_platform_code(code),
        None => error,
    };
    Err(error.with_http_status(status))
}

/// Whether an error concerns the site as a whole (credentials, rate limit, outage): a
/// batch stops there and the host retries it later.
pub fn fails_the_batch(error: &ConnectorError) -> bool {
    matches!(
        error.kind,
        ErrorKind::Auth | ErrorKind::Permission | ErrorKind::RateLimited | ErrorKind::Transient
    )
}

/// An id as a path segment.
pub fn segment(id: &str) -> String {
    http::percent_encode(id.trim())
}

/// The start of a body, for messages: one line, at most 300 characters.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(300) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line,
    }
}
