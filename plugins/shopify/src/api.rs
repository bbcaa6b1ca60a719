//! The Admin REST API of one shop: addresses, the access token, Shopify's error bodies
//! and its leaky bucket.
//!
//! **Rate limits.** Shopify's REST bucket holds 40 requests and leaks 2 per second
//! (Standard plans); every response says how full it is in
//! `X-Shopify-Shop-Api-Call-Limit: used/capacity`. A call that needs several requests
//! stops before the bucket is full and returns `rate-limited` with the time it takes to
//! drain to half (waiting inside the sandbox would only burn the call's time budget); the
//! host retries later, which is safe because every operation of this connector is
//! idempotent. A 429 is `rate-limited` with its `Retry-After` (seconds, possibly
//! fractional) or [`DEFAULT_RETRY_MS`].

use std::cell::Cell;

use serde::Serialize;
use tovor_sdk::Config;
use tovor_sdk::http::{self, Request, Response};
use tovor_sdk::types::ConnectorError;

use crate::mapping;

/// The Admin API version used unless the shop's config names another.
pub const DEFAULT_API_VERSION: &str = "2025-07";
/// Requests left in the bucket below which a multi-request call stops.
const BUCKET_RESERVE: u32 = 2;
/// The wait after a 429 without `Retry-After` (it happens, per Shopify's forum): one
/// second's leak at the Standard rate frees two requests.
pub const DEFAULT_RETRY_MS: u64 = 2000;

/// The Admin API of one shop, and the bucket state its last answer reported.
pub struct Api {
    /// `https://{shop_domain}`, or `api_base` instead.
    origin: String,
    /// `{origin}/admin/api/{version}`.
    base: String,
    token: String,
    /// `(used, capacity)` from the last `X-Shopify-Shop-Api-Call-Limit` of this call.
    bucket: Cell<Option<(u32, u32)>>,
}

impl Api {
    pub fn new(config: &Config) -> Result<Self, ConnectorError> {
        let domain = mapping::normalize_domain(config.require("shop_domain")?);
        let version = config
            .text("api_version")
            .map(str::trim)
            .unwrap_or(DEFAULT_API_VERSION);
        let origin = config.api_base_or(&format!("https://{domain}"));
        Ok(Self {
            base: format!("{origin}/admin/api/{version}"),
            origin,
            token: config.require("access_token")?.to_owned(),
            bucket: Cell::new(None),
        })
    }

    /// A versioned Admin API address: `{base}/{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// An address outside the versioned API (`admin/oauth/access_scopes.json`).
    pub fn unversioned_url(&self, path: &str) -> String {
        format!("{}/{path}", self.origin)
    }

    pub fn get(&self, path: &str) -> Request {
        Request::get(self.url(path))
    }

    pub fn post<T: Serialize + ?Sized>(&self, path: &str, body: &T) -> Request {
        Request::post(self.url(path)).json(body)
    }

    pub fn delete(&self, path: &str) -> Request {
        Request::delete(self.url(path))
    }

    /// Sends with the token and turns Shopify's error answers into connector errors
    /// ([`check`]).
    pub fn send(&self, request: Request) -> Result<Response, ConnectorError> {
        check(self.send_unchecked(request)?)
    }

    /// Sends with the token and returns any answer, for callers that treat some error
    /// statuses as outcomes (a 404 on delete, a 422 for a duplicate subscription).
    /// Refuses to send when the previous answer of this call showed the bucket almost
    /// full; a 429 is always an error.
    pub fn send_unchecked(&self, request: Request) -> Result<Response, ConnectorError> {
        if let Some((used, capacity)) = self.bucket.get()
            && used + BUCKET_RESERVE >= capacity
        {
            return Err(ConnectorError::rate_limited(
                Some(mapping::drain_ms(used, capacity)),
                format!(
                    "Shopify's API bucket is at {used}/{capacity}; stopping before it \
                     overflows"
                ),
            ));
        }
        let response = request
            .header("X-Shopify-Access-Token", self.token.as_str())
            .header("Accept", "application/json")
            .send()?;
        if let Some(limit) = response
            .header("x-shopify-shop-api-call-limit")
            .and_then(mapping::parse_call_limit)
        {
            self.bucket.set(Some(limit));
        }
        if response.status == 429 {
            return check(response);
        }
        Ok(response)
    }
}

/// `Ok` for 2xx; otherwise the error Shopify's status means, with the messages of its
/// `{"errors": ...}` body and the HTTP status.
///
/// | status | kind |
/// |---|---|
/// | 401 | `auth`, field `access_token` |
/// | 403 | `permission`, naming the missing scope when Shopify does |
/// | 404 | `not-found` |
/// | 429 | `rate-limited`, `Retry-After` or 2 s |
/// | 400, 422 | `invalid-input`, with the field Shopify names |
/// | 408, 5xx | `transient` |
pub fn check(response: Response) -> Result<Response, ConnectorError> {
    if response.is_success() {
        return Ok(response);
    }
    let status = response.status;
    let parsed = mapping::error_messages(&response.body);
    let message = match &parsed {
        Some((_, text)) => format!("Shopify answered HTTP {status}: {text}"),
        None => {
            let text = snippet(&response.body);
            if text.is_empty() {
                format!("Shopify answered HTTP {status}")
            } else {
                format!("Shopify answered HTTP {status}: {text}")
            }
        }
    };
    let error = match status {
        401 => ConnectorError::auth(message).with_field("access_token"),
        403 => {
            let scope = parsed
                .as_ref()
                .and_then(|(_, text)| mapping::scope_in_message(text));
            match scope {
                Some(scope) => ConnectorError::permission(format!(
                    "{message} (grant the app the {scope} scope)"
                ))
                .with_platform_code(scope),
                None => ConnectorError::permission(message),
            }
            .with_field("access_token")
        }
        404 => ConnectorError::not_found(message),
        429 => ConnectorError::rate_limited(
            Some(response.retry_after_ms().unwrap_or(DEFAULT_RETRY_MS)),
            message,
        ),
        400 | 422 => match parsed.and_then(|(field, _)| field) {
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
    Err(error.with_http_status(status))
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

/// Shopify ids are 64-bit numbers; anything else cannot name one (`not-found`).
pub fn numeric_id(id: &str, what: &str) -> Result<u64, ConnectorError> {
    id.trim().parse::<u64>().map_err(|_| {
        ConnectorError::not_found(format!(
            "{:?} is not a Shopify {what} id (a number)",
            http::percent_encode(id)
        ))
    })
}

/// Whether an error concerns the shop as a whole (credentials, rate limit, outage): a
/// batch stops there and the host retries it later.
pub fn fails_the_batch(error: &ConnectorError) -> bool {
    use tovor_sdk::types::ErrorKind;
    matches!(
        error.kind,
        ErrorKind::Auth | ErrorKind::Permission | ErrorKind::RateLimited | ErrorKind::Transient
    )
}
