//! The Shoptet REST API of one e-shop: its address, the two ways to authenticate,
//! Shoptet's response envelope and its error answers.
//!
//! **Authentication.** A private API token (Premium e-shops) goes in
//! `Shoptet-Private-API-Token` as it is. An addon holds a long-lived OAuth access token
//! instead, and exchanges it at the e-shop's own OAuth server
//! (`GET {eshop_url}/action/ApiOAuthServer/getAccessToken`, `Authorization: Bearer`) for
//! a short-lived API access token, sent as `Shoptet-Access-Token`. That token is kept
//! (sealed) in connector state until it expires; a `401` whose error code is
//! `expired-token` gets a new one, once per request.
//!
//! **Errors.** Every answer is `{"data", "errors": [{errorCode, message, instance}],
//! "metadata"}`. 401 is `auth` and 403 `permission`, both naming the token field; 429
//! (connection limit or a full leaky bucket) is `rate-limited` with its `Retry-After`,
//! which Shoptet sends as an HTTP date; 423 (an identical write still being processed,
//! locked for at most 5 s) and 503 (maintenance) are `transient`, so the host retries.
//!
//! **Concurrency.** Shoptet allows three connections per token; [`Api::send_all`]
//! sends at most that many at once.

use std::cell::RefCell;

use serde::{Deserialize, Serialize};
use tovor_sdk::Config;
use tovor_sdk::http::{self, Request, Response};
use tovor_sdk::state;
use tovor_sdk::types::{ConnectorError, ErrorKind};

/// Shoptet's API address (`api_base` replaces it in tests).
pub const DEFAULT_API: &str = "https://api.myshoptet.com";
/// The config field of a private API token.
pub const PRIVATE_TOKEN_FIELD: &str = "private_api_token";
/// The config field of an addon's long-lived OAuth access token.
pub const OAUTH_TOKEN_FIELD: &str = "oauth_access_token";
/// The config field of the e-shop's own address.
pub const ESHOP_URL_FIELD: &str = "eshop_url";
/// Connections Shoptet allows per token at once.
pub const CONCURRENCY: usize = 3;
/// The wait after a 429 without `Retry-After`.
pub const DEFAULT_RETRY_MS: u64 = 1000;
/// The wait after a 423: Shoptet holds a write lock for at most 5 s.
pub const LOCK_RETRY_MS: u64 = 5000;
/// A kept API access token is renewed this long before it expires.
const TOKEN_MARGIN_SECONDS: i64 = 60;
/// How long an API access token lives when the OAuth server does not say (30 minutes
/// is what Shoptet issues).
const DEFAULT_TOKEN_SECONDS: i64 = 30 * 60;
/// The state key of the addon's API access token.
const TOKEN_STATE_KEY: &str = "api-access-token";

/// How the connector authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Shoptet-Private-API-Token`.
    Private(String),
    /// An addon: the OAuth access token and the e-shop's address.
    Addon {
        oauth_token: String,
        eshop_url: String,
    },
}

impl Auth {
    /// The mode the config chooses: a private token wins when both are set.
    pub fn from_config(config: &Config) -> Result<Self, ConnectorError> {
        if let Some(token) = config.text(PRIVATE_TOKEN_FIELD) {
            return Ok(Self::Private(token.trim().to_owned()));
        }
        if let Some(token) = config.text(OAUTH_TOKEN_FIELD) {
            let eshop_url = config.text(ESHOP_URL_FIELD).ok_or_else(|| {
                ConnectorError::invalid_field(
                    ESHOP_URL_FIELD,
                    "the addon OAuth token needs the e-shop's address (its OAuth server \
                     issues the API access tokens)",
                )
            })?;
            return Ok(Self::Addon {
                oauth_token: token.trim().to_owned(),
                eshop_url: eshop_url.trim().trim_end_matches('/').to_owned(),
            });
        }
        Err(ConnectorError::invalid_field(
            PRIVATE_TOKEN_FIELD,
            "set a private API token (Premium), or the addon OAuth access token with the \
             e-shop's address",
        ))
    }

    /// The config field holding the credential, for messages.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Private(_) => PRIVATE_TOKEN_FIELD,
            Self::Addon { .. } => OAUTH_TOKEN_FIELD,
        }
    }
}

/// An API access token as kept in state.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeptToken {
    token: String,
    /// Unix seconds.
    expires_at: i64,
}

/// One error of Shoptet's envelope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub instance: Option<String>,
}

/// The envelope of every answer.
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    pub data: Option<T>,
    #[serde(default)]
    pub errors: Option<Vec<ApiError>>,
}

/// The errors of an answer's envelope (none when it has none or is not JSON).
pub fn envelope_errors(body: &[u8]) -> Vec<ApiError> {
    serde_json::from_slice::<Envelope<serde_json::Value>>(body)
        .ok()
        .and_then(|envelope| envelope.errors)
        .unwrap_or_default()
}

/// The API of one e-shop.
pub struct Api {
    base: String,
    auth: Auth,
    /// The addon's API access token once known in this call.
    token: RefCell<Option<String>>,
}

impl Api {
    pub fn new(config: &Config) -> Result<Self, ConnectorError> {
        Ok(Self {
            base: config.api_base_or(DEFAULT_API),
            auth: Auth::from_config(config)?,
            token: RefCell::new(None),
        })
    }

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// `{base}{path}`; `path` starts with `/api/`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
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

    pub fn delete(&self, path: &str) -> Request {
        Request::delete(self.url(path))
    }

    /// Sends with the credentials and turns error answers into connector errors.
    pub fn send(&self, request: Request) -> Result<Response, ConnectorError> {
        self.check(self.send_unchecked(request)?)
    }

    /// Sends with the credentials and returns any answer (an expired addon token is
    /// renewed and the request sent again once), for callers that treat some error
    /// statuses as outcomes (a 404 on delete, a 422 for a webhook that exists).
    pub fn send_unchecked(&self, request: Request) -> Result<Response, ConnectorError> {
        let response = self.authorized(request.clone(), false)?.send()?;
        if is_expired_token(&response) {
            return self.authorized(request, true)?.send();
        }
        Ok(response)
    }

    /// Sends several requests, at most [`CONCURRENCY`] at once; one result per request,
    /// in order, each checked like [`Api::send`].
    pub fn send_all(&self, requests: Vec<Request>) -> Vec<Result<Response, ConnectorError>> {
        let mut results = Vec::with_capacity(requests.len());
        // One new token serves every request that found the old one expired.
        let mut renewed = false;
        for chunk in requests.chunks(CONCURRENCY) {
            let authorized: Vec<Result<Request, ConnectorError>> = chunk
                .iter()
                .map(|request| self.authorized(request.clone(), false))
                .collect();
            let mut to_send = Vec::new();
            let mut slots = Vec::new();
            for (index, request) in authorized.into_iter().enumerate() {
                match request {
                    Ok(request) => {
                        slots.push((index, None));
                        to_send.push(request);
                    }
                    Err(error) => slots.push((index, Some(error))),
                }
            }
            let mut answers = http::send_many(to_send).into_iter();
            for (index, failed) in slots {
                let answer = match failed {
                    Some(error) => Err(error),
                    None => answers
                        .next()
                        .unwrap_or_else(|| Err(ConnectorError::other("a request went unanswered"))),
                };
                let answer = match answer {
                    Ok(response) if is_expired_token(&response) => match chunk.get(index) {
                        Some(request) => {
                            let renew = !renewed;
                            renewed = true;
                            self.authorized(request.clone(), renew)
                                .and_then(Request::send)
                        }
                        None => Ok(response),
                    },
                    other => other,
                };
                results.push(answer.and_then(|response| self.check(response)));
            }
        }
        results
    }

    /// `request` with the credential header (and JSON accepted).
    fn authorized(&self, request: Request, renew: bool) -> Result<Request, ConnectorError> {
        let request = request.header("Accept", "application/json");
        match &self.auth {
            Auth::Private(token) => Ok(request.header("Shoptet-Private-API-Token", token.as_str())),
            Auth::Addon { .. } => {
                let token = self.access_token(renew)?;
                Ok(request.header("Shoptet-Access-Token", token))
            }
        }
    }

    /// The addon's API access token: from this call, from state while valid, or a new
    /// one from the e-shop's OAuth server (`renew` skips the kept ones).
    pub fn access_token(&self, renew: bool) -> Result<String, ConnectorError> {
        let Auth::Addon {
            oauth_token,
            eshop_url,
        } = &self.auth
        else {
            return Err(ConnectorError::other(
                "no addon token in private-token mode",
            ));
        };
        if !renew {
            if let Some(token) = self.token.borrow().clone() {
                return Ok(token);
            }
            let now = tovor_sdk::time::now().unix_timestamp();
            if let Some(kept) = kept_token()
                && kept.expires_at - TOKEN_MARGIN_SECONDS > now
            {
                *self.token.borrow_mut() = Some(kept.token.clone());
                return Ok(kept.token);
            }
        }
        let fresh = fetch_access_token(eshop_url, oauth_token)?;
        // State is a cache: without it (a connection check before the shop is saved)
        // every call asks the OAuth server again, which still works.
        if let Err(error) = state::set_json_sealed(TOKEN_STATE_KEY, &fresh) {
            tovor_sdk::log::debug(format!(
                "cannot keep the API access token in connector state: {}",
                error.message
            ));
        }
        *self.token.borrow_mut() = Some(fresh.token.clone());
        Ok(fresh.token)
    }

    /// `Ok` for 2xx; otherwise the error Shoptet's answer means (see the module).
    pub fn check(&self, response: Response) -> Result<Response, ConnectorError> {
        check(response, self.auth.field())
    }
}

fn kept_token() -> Option<KeptToken> {
    state::get_json::<KeptToken>(TOKEN_STATE_KEY).unwrap_or_else(|error| {
        tovor_sdk::log::debug(format!(
            "connector state unreadable, asking for a new API access token: {}",
            error.message
        ));
        None
    })
}

/// The OAuth server's answer. Shoptet documents "a JSON containing an API access token
/// value and the token expiration time value"; its examples name them `access_token`
/// and `expires_in` (seconds), as OAuth does. Assumed, as the schema is not published.
#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
}

fn fetch_access_token(eshop_url: &str, oauth_token: &str) -> Result<KeptToken, ConnectorError> {
    let url = format!("{eshop_url}/action/ApiOAuthServer/getAccessToken");
    let response = Request::get(url)
        .bearer_auth(oauth_token)
        .header("Accept", "application/json")
        .send()
        .map_err(|error| {
            if error.is(ErrorKind::Other) {
                // Refused by the allow-list or a malformed address: the address is wrong.
                error.with_field(ESHOP_URL_FIELD)
            } else {
                error
            }
        })?;
    if !response.is_success() {
        let status = response.status;
        let detail = snippet(&response.body);
        let error = match status {
            400 | 401 | 403 => ConnectorError::auth(format!(
                "the e-shop's OAuth server refused the addon OAuth access token (HTTP \
                 {status}: {detail}); install the addon again to get a new one"
            ))
            .with_field(OAUTH_TOKEN_FIELD),
            404 => ConnectorError::not_found(format!(
                "no Shoptet OAuth server at {eshop_url} (HTTP 404); use the e-shop's own \
                 address"
            ))
            .with_field(ESHOP_URL_FIELD),
            _ => check(response, OAUTH_TOKEN_FIELD)
                .err()
                .unwrap_or_else(|| ConnectorError::other(format!("HTTP {status}"))),
        };
        return Err(error.with_http_status(status));
    }
    let answer: TokenAnswer = response.json()?;
    let lifetime = answer
        .expires_in
        .filter(|seconds| *seconds > 0)
        .unwrap_or(DEFAULT_TOKEN_SECONDS);
    Ok(KeptToken {
        token: answer.access_token,
        expires_at: tovor_sdk::time::now().unix_timestamp() + lifetime,
    })
}

/// Whether the answer says the API access token expired.
fn is_expired_token(response: &Response) -> bool {
    response.status == 401
        && envelope_errors(&response.body)
            .iter()
            .any(|error| error.error_code.as_deref() == Some("expired-token"))
}

/// `Ok` for 2xx; otherwise the error Shoptet's status and envelope mean; `token_field`
/// is the config field named on 401 and 403.
pub fn check(response: Response, token_field: &str) -> Result<Response, ConnectorError> {
    if response.is_success() {
        return Ok(response);
    }
    let status = response.status;
    let errors = envelope_errors(&response.body);
    let first = errors.first().cloned().unwrap_or_default();
    let said = errors
        .iter()
        .filter_map(|error| error.message.as_deref())
        .collect::<Vec<_>>()
        .join("; ");
    let message = if said.is_empty() {
        let text = snippet(&response.body);
        if text.is_empty() {
            format!("Shoptet answered HTTP {status}")
        } else {
            format!("Shoptet answered HTTP {status}: {text}")
        }
    } else {
        format!("Shoptet answered HTTP {status}: {said}")
    };
    let error = match status {
        401 => ConnectorError::auth(format!(
            "{message} (check the {token_field} setting: Shoptet refused the token)"
        ))
        .with_field(token_field),
        403 => ConnectorError::permission(format!(
            "{message} (give the token in {token_field} the rights for this endpoint group \
             under Access to API)"
        ))
        .with_field(token_field),
        404 => ConnectorError::not_found(message),
        409 => ConnectorError::conflict(message),
        423 => ConnectorError::transient(format!(
            "{message} (an identical request is still being processed)"
        ))
        .with_retry_after_ms(Some(response.retry_after_ms().unwrap_or(LOCK_RETRY_MS))),
        429 => ConnectorError::rate_limited(
            Some(response.retry_after_ms().unwrap_or(DEFAULT_RETRY_MS)),
            message,
        ),
        503 => ConnectorError::transient(format!("{message} (Shoptet maintenance)"))
            .with_retry_after_ms(response.retry_after_ms()),
        408 | 500..=599 => {
            ConnectorError::transient(message).with_retry_after_ms(response.retry_after_ms())
        }
        400 | 413 | 422 => ConnectorError::invalid_input(message),
        _ => http::status_error(
            status,
            &response.headers,
            &response.body,
            tovor_sdk::time::now(),
        )
        .unwrap_or_else(|| ConnectorError::other(message)),
    };
    let error = match first.error_code {
        Some(code) => error.with_platform_code(code),
        None => error,
    };
    Err(error.with_http_status(status))
}

/// Whether an error concerns the e-shop as a whole (credentials, rate limit, outage):
/// a batch stops there and the host retries it later.
pub fn fails_the_batch(error: &ConnectorError) -> bool {
    matches!(
        error.kind,
        ErrorKind::Auth | ErrorKind::Permission | ErrorKind::RateLimited | ErrorKind::Transient
    )
}

/// An order code for a path: Shoptet codes are digits, letters and dashes; anything
/// else is percent-encoded.
pub fn code_segment(code: &str) -> String {
    http::percent_encode(code.trim())
}

/// The start of a body, for messages: one line, at most 300 characters.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(300) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line,
    }
}
