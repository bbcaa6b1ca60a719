//! The Magento 2 REST API (`{base_url}/rest[/{store_code}]/V1`) for one shop: requests
//! with an integration's credentials, and Magento's error bodies as typed errors.
//!
//! Authentication, from the config:
//! - `consumer_key`, `consumer_secret`, `access_token` and `access_token_secret`: OAuth
//!   1.0a, each request signed with HMAC-SHA256 (see [`tovor_sdk::oauth1`]). What an
//!   integration uses by default since Magento 2.4.4.
//! - `access_token` alone: `Authorization: Bearer`, for an admin token or a store that
//!   allows integration tokens as Bearer tokens.
//!
//! Magento answers errors as `{"message": "The \"%1\" parameter ...", "parameters":
//! ["sku"]}` (or `parameters` keyed by name for `%name` placeholders), sometimes with
//! `errors: [{message, parameters}]` beside it; [`magento_error`] fills the
//! placeholders in and keeps the kind the status means, except that Magento's 401
//! "The consumer isn't authorized to access %resources." is a missing permission
//! (the integration's API resources), not bad credentials.

use serde::Deserialize;
use serde_json::Value;
use tovor_sdk::Config;
use tovor_sdk::http::{Request, Response, percent_encode};
use tovor_sdk::types::{ConnectorError, ErrorKind};

use tovor_sdk::oauth1::{self, Credentials};

/// The config field of the shop's address.
pub const BASE_URL_FIELD: &str = "base_url";

/// How requests are authenticated.
#[derive(Clone)]
pub enum Auth {
    Bearer(String),
    OAuth(Credentials),
}

impl Auth {
    /// The config field to blame when Magento refuses the credentials.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Bearer(_) => "access_token",
            Self::OAuth(_) => "consumer_key",
        }
    }
}

/// The API root and credentials for one shop.
pub struct Api {
    /// `{base_url}/rest/V1` or `{base_url}/rest/{store_code}/V1`, no trailing `/`.
    root: String,
    auth: Auth,
}

impl Api {
    pub fn new(config: &Config) -> Result<Self, ConnectorError> {
        let base = config.api_base_or(config.require(BASE_URL_FIELD)?);
        let base = base.trim().trim_end_matches('/');
        let scheme = base
            .split("://")
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !base.contains("://") || (scheme != "http" && scheme != "https") {
            return Err(ConnectorError::invalid_field(
                BASE_URL_FIELD,
                format!("{base:?} is not an http:// or https:// address"),
            ));
        }
        // A base URL pasted with the REST path already on it is taken as meant.
        let base = base
            .strip_suffix("/V1")
            .map(|rest| rest.trim_end_matches('/'))
            .unwrap_or(base);
        let base = base.strip_suffix("/rest").unwrap_or(base);
        let store = config
            .text("store_code")
            .map(str::trim)
            .filter(|code| !code.is_empty());
        let root = match store {
            Some(code) => format!("{base}/rest/{}/V1", percent_encode(code)),
            None => format!("{base}/rest/V1"),
        };
        Ok(Self {
            root,
            auth: auth(config)?,
        })
    }

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The full URL of `path` (which starts with `/`, segments already encoded).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.root)
    }

    /// A request with our credentials. The query must be given here: with OAuth it is
    /// part of the signature.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Request {
        let url = self.url(path);
        let mut request = Request::new(method, url.clone())
            .query(query)
            .header("Accept", "application/json");
        request = match &self.auth {
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::OAuth(credentials) => {
                let header = oauth1::authorization_header(&oauth1::signed_params(
                    credentials,
                    method,
                    &url,
                    query,
                    tovor_sdk::time::now().unix_timestamp(),
                    &oauth1::nonce(),
                ));
                request.header("Authorization", header)
            }
        };
        if let Some(body) = body {
            request = request.json(body);
        }
        request
    }

    /// Sends a request; a non-2xx answer is the typed error of [`magento_error`].
    pub fn send(&self, request: Request) -> Result<Response, ConnectorError> {
        let response = request.send()?;
        match response.error() {
            None => Ok(response),
            Some(error) => Err(magento_error(
                error,
                &response.body,
                matches!(self.auth, Auth::OAuth(_)),
            )),
        }
    }

    pub fn get(&self, path: &str, query: &[(String, String)]) -> Result<Response, ConnectorError> {
        self.send(self.request("GET", path, query, None))
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Response, ConnectorError> {
        self.send(self.request("POST", path, &[], Some(body)))
    }

    pub fn put(&self, path: &str, body: &Value) -> Result<Response, ConnectorError> {
        self.send(self.request("PUT", path, &[], Some(body)))
    }
}

fn auth(config: &Config) -> Result<Auth, ConnectorError> {
    let text = |name: &str| {
        config
            .text(name)
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let token = text("access_token").ok_or_else(|| {
        ConnectorError::invalid_field(
            "access_token",
            "the integration's access token is required (System › Integrations › Integration \
             Info)",
        )
    })?;
    let oauth_fields = ["consumer_key", "consumer_secret", "access_token_secret"];
    if oauth_fields.iter().all(|name| text(name).is_none()) {
        return Ok(Auth::Bearer(token));
    }
    let mut values = Vec::with_capacity(3);
    for name in oauth_fields {
        values.push(text(name).ok_or_else(|| {
            ConnectorError::invalid_field(
                name,
                format!(
                    "OAuth 1.0a needs the consumer key, consumer secret, access token and \
                     access token secret of the integration; `{name}` is missing"
                ),
            )
        })?);
    }
    let mut values = values.into_iter();
    let mut next = || values.next().unwrap_or_default();
    let (consumer_key, consumer_secret, token_secret) = (next(), next(), next());
    Ok(Auth::OAuth(Credentials {
        consumer_key,
        consumer_secret,
        token: Some((token, token_secret)),
    }))
}

/// Magento's error body.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub parameters: Option<Value>,
    #[serde(default)]
    pub errors: Vec<ErrorBody>,
}

impl ErrorBody {
    /// The message with its placeholders filled in, and those of `errors` after it.
    pub fn text(&self) -> Option<String> {
        let mut parts: Vec<String> = Vec::new();
        if let Some(message) = &self.message {
            parts.push(render(message, self.parameters.as_ref()));
        }
        for error in &self.errors {
            if let Some(text) = error.text()
                && !parts.contains(&text)
            {
                parts.push(text);
            }
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// Fills Magento's placeholders: `%1`, `%2`, ... from a list (or an object keyed `"1"`,
/// `"2"`), `%name` from an object. Longer names first, so `%10` is not read as `%1`.
pub fn render(message: &str, parameters: Option<&Value>) -> String {
    let mut pairs: Vec<(String, String)> = match parameters {
        Some(Value::Array(values)) => values
            .iter()
            .enumerate()
            .map(|(index, value)| (format!("{}", index + 1), scalar_text(value)))
            .collect(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(key, value)| (key.clone(), scalar_text(value)))
            .collect(),
        _ => Vec::new(),
    };
    pairs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    let mut out = message.to_owned();
    for (name, value) in pairs {
        out = out.replace(&format!("%{name}"), &value);
    }
    out
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(values) => values
            .iter()
            .map(scalar_text)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// The status's error with Magento's own message instead of the raw body. `signed`:
/// the request was OAuth-signed, so Magento accepted who we are (a bad signature or
/// token has a message of its own) and "isn't authorized to access" means a missing
/// API resource. For a Bearer token the same answer also means the token was refused
/// (Magento treats an unknown token as an anonymous caller), so it stays `auth`.
pub fn magento_error(error: ConnectorError, body: &[u8], signed: bool) -> ConnectorError {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let Some(text) = parsed.as_ref().and_then(ErrorBody::text) else {
        return maintenance(error, body);
    };
    let status = error.http_status.unwrap_or_default();
    let mut error = ConnectorError {
        message: format!("Magento answered HTTP {status}: {text}"),
        ..error
    };
    if status == 401 && text.contains("isn't authorized to access") {
        if signed {
            error.kind = ErrorKind::Permission;
            error.message.push_str(
                " (grant the integration this API resource under System › Integrations › API)",
            );
        } else {
            error.message.push_str(
                " (the token was refused, or lacks this API resource; since Magento 2.4.4 an \
                 integration's access token is only a Bearer token where the store allows it, \
                 otherwise use OAuth 1.0a)",
            );
        }
    }
    error
}

/// Magento in maintenance mode answers 503 with an HTML page.
fn maintenance(error: ConnectorError, body: &[u8]) -> ConnectorError {
    if error.http_status == Some(503) {
        let text = String::from_utf8_lossy(body).to_ascii_lowercase();
        if text.contains("maintenance") || text.contains("temporarily unavailable") {
            return ConnectorError {
                message: "Magento is in maintenance mode (HTTP 503); retried later".into(),
                ..error
            };
        }
    }
    error
}

/// Whether the error is Magento's 404 for a path it has no route for (a module that is
/// not installed), rather than for a missing entity.
pub fn is_missing_route(error: &ConnectorError) -> bool {
    error.is(ErrorKind::NotFound) && error.message.contains("does not match any route")
}

/// A path segment for an id or SKU (SKUs may hold `/`, spaces, `#`).
pub fn segment(value: &str) -> String {
    percent_encode(value)
}
