//! The BigCommerce REST API for one store: `{host}/stores/{store_hash}/v2|v3/...` with the
//! API account's `X-Auth-Token`, and BigCommerce's answers as typed errors.
//!
//! - v2 answers an empty list (a page past the last, a filter that matches nothing) with
//!   `204 No Content` and no body: [`Api::get_list`] reads that as an empty list.
//! - Errors are `[{"status": 404, "message": "..."}]` on v2 and `{"status": 422, "title":
//!   "...", "errors": {...}}` on v3; both are read into the message.
//! - Too many requests: `429` with `X-Rate-Limit-Time-Reset-Ms` (how long until the
//!   window resets), which becomes the error's retry-after, so the host waits that long.

use serde::de::DeserializeOwned;
use serde_json::Value;
use tovor_sdk::Config;
use tovor_sdk::http::{Request, Response};
use tovor_sdk::types::ConnectorError;

/// Where BigCommerce's API lives; `api_base` replaces it (tests, proxies).
pub const DEFAULT_HOST: &str = "https://api.bigcommerce.com";
pub const STORE_HASH_FIELD: &str = "store_hash";
pub const TOKEN_FIELD: &str = "access_token";

/// The API root and token for one store.
pub struct Api {
    /// `{host}/stores/{store_hash}`, no trailing `/`.
    root: String,
    token: String,
}

impl Api {
    pub fn new(config: &Config) -> Result<Self, ConnectorError> {
        let hash = config.require(STORE_HASH_FIELD)?.trim();
        // The hash is what follows `/stores/` in the API path the store shows; a pasted
        // API path (`https://api.bigcommerce.com/stores/abc123/v3/`) is taken as meant.
        let hash = match hash.split_once("stores/") {
            Some((_, rest)) => rest.split('/').next().unwrap_or_default(),
            None => hash.trim_matches('/'),
        };
        if hash.is_empty() || !hash.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ConnectorError::invalid_field(
                STORE_HASH_FIELD,
                format!(
                    "{hash:?} is not a store hash (the letters and digits after /stores/ in \
                     the API path of your API account)"
                ),
            ));
        }
        let token = config.require(TOKEN_FIELD)?.trim().to_owned();
        let host = config.api_base_or(DEFAULT_HOST);
        let host = host.trim().trim_end_matches('/');
        Ok(Self {
            root: format!("{host}/stores/{hash}"),
            token,
        })
    }

    /// A request to `path` (`/v2/orders`, `/v3/hooks`) with the token.
    pub fn request(&self, method: &str, path: &str) -> Request {
        Request::new(method, format!("{}{path}", self.root))
            .header("X-Auth-Token", self.token.clone())
            .header("Accept", "application/json")
    }

    /// Sends; a non-2xx answer is the error of [`error_of`].
    pub fn send(&self, request: Request) -> Result<Response, ConnectorError> {
        let response = request.send()?;
        match error_of(&response) {
            None => Ok(response),
            Some(error) => Err(error),
        }
    }

    pub fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Response, ConnectorError> {
        self.send(self.request("GET", path).query(query))
    }

    /// A v2 list: 204 (or an empty body) is an empty list.
    pub fn get_list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>, ConnectorError> {
        parse_list(&self.get(path, query)?)
    }

    pub fn send_json(
        &self,
        method: &str,
        path: &str,
        body: &Value,
    ) -> Result<Response, ConnectorError> {
        self.send(self.request(method, path).json(body))
    }
}

/// A v2 list answer: `204 No Content` (or an empty body) is an empty list.
pub fn parse_list<T: DeserializeOwned>(response: &Response) -> Result<Vec<T>, ConnectorError> {
    if response.status == 204 || response.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    response.json()
}

/// The error a BigCommerce answer means, with BigCommerce's message, and the wait of a
/// 429 from `X-Rate-Limit-Time-Reset-Ms`.
pub fn error_of(response: &Response) -> Option<ConnectorError> {
    let mut error = response.error()?;
    if let Some(text) = message(&response.body) {
        error.message = format!("BigCommerce answered HTTP {}: {text}", response.status);
    }
    if response.status == 429 {
        let reset = response
            .header("x-rate-limit-time-reset-ms")
            .and_then(|value| value.trim().parse::<u64>().ok());
        if reset.is_some() {
            error = error.with_retry_after_ms(reset);
        }
    }
    if response.status == 401 {
        error = error.with_field(TOKEN_FIELD);
    }
    Some(error)
}

/// BigCommerce's own message: v2 `[{"status", "message"}]`, v3 `{"title", "errors"}`.
pub fn message(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let text = |value: &Value| value.as_str().map(str::trim).map(str::to_owned);
    let mut parts: Vec<String> = Vec::new();
    match &value {
        Value::Array(items) => {
            for item in items {
                if let Some(message) = item.get("message").and_then(text) {
                    parts.push(message);
                }
            }
        }
        Value::Object(map) => {
            if let Some(title) = map.get("title").and_then(text) {
                parts.push(title);
            }
            if let Some(Value::Object(errors)) = map.get("errors") {
                for (key, value) in errors {
                    if let Some(message) = text(value) {
                        parts.push(format!("{key}: {message}"));
                    }
                }
            }
        }
        _ => {}
    }
    parts.retain(|part| !part.is_empty());
    (!parts.is_empty()).then(|| parts.join("; "))
}
