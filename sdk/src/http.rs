//! An HTTP client over the host's `http` import.
//!
//! The host performs every request: it checks it against the plugin's allow-list (no
//! request leaves for an address the manifest does not allow), caps its time and the
//! response size, and does not follow redirects. Errors come back typed, already mapped
//! to [`ConnectorError`] so `?` does the right thing.
//!
//! ```no_run
//! use serde::Deserialize;
//! use tovor_sdk::http::{self, Request};
//! use tovor_sdk::types::ConnectorError;
//!
//! #[derive(Deserialize)]
//! struct Page {
//!     orders: Vec<serde_json::Value>,
//! }
//!
//! fn first_page(base: &str, token: &str) -> Result<Page, ConnectorError> {
//!     Request::get(format!("{base}/orders"))
//!         .query(&[("page", "1"), ("per_page", "50")])
//!         .bearer_auth(token)
//!         .send()? // network and policy failures
//!         .error_for_status()? // 401 -> auth, 404 -> not-found, 429 -> rate-limited, ...
//!         .json() // the body, or `other` with a snippet of what came instead
//! }
//!
//! // Several requests at once: sent concurrently, one result each, in order.
//! fn three_orders(base: &str, token: &str) -> Vec<Result<http::Response, ConnectorError>> {
//!     http::send_many(
//!         ["1", "2", "3"]
//!             .iter()
//!             .map(|id| Request::get(format!("{base}/orders/{id}")).bearer_auth(token))
//!             .collect(),
//!     )
//! }
//! ```
//!
//! Outside the host (native unit tests) [`Request::send`] fails with `other`: test the
//! request you build ([`Request::url`], [`Request::header_value`], [`Request::body_bytes`])
//! and the parsing of canned [`Response`]s instead, or run the connector in a test host.

use std::fmt;
use std::time::SystemTime;

use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::bindings::host::tovor::connector::http as raw;
use crate::types::ConnectorError;

/// An outgoing request, built step by step and sent with [`Request::send`].
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    timeout_ms: Option<u32>,
    /// A builder step that failed (a body that would not serialize); reported by `send`.
    error: Option<ConnectorError>,
}

impl Request {
    /// A request with any method (`"GET"`, `"POST"`, ...); the host accepts `GET`, `POST`,
    /// `PUT`, `PATCH`, `DELETE` and `HEAD`.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout_ms: None,
            error: None,
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    /// A `POST` request.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }

    /// A `PUT` request.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new("PUT", url)
    }

    /// A `PATCH` request.
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new("PATCH", url)
    }

    /// A `DELETE` request.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new("DELETE", url)
    }

    /// A `HEAD` request.
    pub fn head(url: impl Into<String>) -> Self {
        Self::new("HEAD", url)
    }

    /// Appends query parameters, percent-encoded (RFC 3986: everything but
    /// `A-Z a-z 0-9 - . _ ~` is escaped, a space becomes `%20`), after any query the URL
    /// already has and before its `#fragment`.
    pub fn query<K: AsRef<str>, V: fmt::Display>(mut self, pairs: &[(K, V)]) -> Self {
        self.url = append_query(&self.url, pairs);
        self
    }

    /// Appends one query parameter (see [`Request::query`]); handy when values have
    /// different types: `.query_param("since", since).query_param("page", 2)`.
    pub fn query_param(self, name: &str, value: impl fmt::Display) -> Self {
        self.query(&[(name, value)])
    }

    /// Sets a header, replacing any header of that name (compared case-insensitively).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.headers
            .retain(|(key, _)| !key.eq_ignore_ascii_case(&name));
        self.headers.push((name, value.into()));
        self
    }

    /// `Authorization: Basic base64(user:password)`.
    pub fn basic_auth(self, user: &str, password: &str) -> Self {
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.header("Authorization", format!("Basic {credentials}"))
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer_auth(self, token: &str) -> Self {
        self.header("Authorization", format!("Bearer {token}"))
    }

    /// A JSON body, with `Content-Type: application/json`.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => self.body(bytes, "application/json"),
            Err(error) => {
                self.error = Some(ConnectorError::other(format!(
                    "cannot serialize the request body: {error}"
                )));
                self
            }
        }
    }

    /// A form body (`application/x-www-form-urlencoded`).
    pub fn form<K: AsRef<str>, V: fmt::Display>(self, pairs: &[(K, V)]) -> Self {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in pairs {
            form.append_pair(key.as_ref(), &value.to_string());
        }
        self.body(form.finish(), "application/x-www-form-urlencoded")
    }

    /// A raw body with its content type.
    pub fn body(mut self, bytes: impl Into<Vec<u8>>, content_type: &str) -> Self {
        self.body = Some(bytes.into());
        self.header("Content-Type", content_type)
    }

    /// A timeout for this request; the host clamps it to what is left of the call's time.
    pub fn timeout_ms(mut self, timeout_ms: u32) -> Self {
        self.timeout_ms = Some(timeout_ms);
        self
    }

    /// The method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The URL, query included.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The value of a header set so far (case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// All headers set so far.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body set so far.
    pub fn body_bytes(&self) -> Option<&[u8]> {
        self.body.as_deref()
    }

    /// Sends the request through the host. A response with any status is `Ok`: chain
    /// [`Response::error_for_status`] to turn 4xx/5xx into errors.
    ///
    /// Failures map to [`ConnectorError`]: refused by the allow-list or malformed →
    /// `other` (not retryable: the plugin or its settings must change), timeout or
    /// connection trouble → `transient`, response too large or too many requests in this
    /// call → `other`.
    pub fn send(self) -> Result<Response, ConnectorError> {
        let (request, url, context) = self.into_raw()?;
        backend::send(&request)
            .map(|response| Response::from_raw(response, url))
            .map_err(|error| map_http_error(error, &context))
    }

    /// The raw request, the URL (for the response) and `METHOD url` for messages; a
    /// builder step that failed is reported here.
    fn into_raw(self) -> Result<(raw::Request, String, String), ConnectorError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let context = format!("{} {}", self.method, display_url(&self.url));
        let url = self.url.clone();
        let request = raw::Request {
            method: self.method,
            url: self.url,
            headers: self.headers,
            body: self.body,
            timeout_ms: self.timeout_ms,
        };
        Ok((request, url, context))
    }
}

/// Sends several requests at once: the host sends them concurrently under the same rules
/// as [`Request::send`] (each counts against the call's request limit) and answers one
/// result per request, in the same order. A request whose builder failed is answered
/// with its error without being sent.
pub fn send_many(requests: Vec<Request>) -> Vec<Result<Response, ConnectorError>> {
    let mut results: Vec<Option<Result<Response, ConnectorError>>> = Vec::new();
    let mut pending = Vec::new();
    let mut raw_requests = Vec::new();
    for (index, request) in requests.into_iter().enumerate() {
        match request.into_raw() {
            Ok((raw_request, url, context)) => {
                results.push(None);
                pending.push((index, url, context));
                raw_requests.push(raw_request);
            }
            Err(error) => results.push(Some(Err(error))),
        }
    }
    if !raw_requests.is_empty() {
        let mut answers = backend::send_many(&raw_requests).into_iter();
        for (index, url, context) in pending {
            let result = match answers.next() {
                Some(Ok(response)) => Ok(Response::from_raw(response, url)),
                Some(Err(error)) => Err(map_http_error(error, &context)),
                None => Err(ConnectorError::other(format!(
                    "{context}: the host answered fewer results than requests"
                ))),
            };
            if let Some(slot) = results.get_mut(index) {
                *slot = Some(result);
            }
        }
    }
    results
        .into_iter()
        .map(|result| {
            result.unwrap_or_else(|| Err(ConnectorError::other("a request was not answered")))
        })
        .collect()
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values and the query may carry credentials: show names and the path only.
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &display_url(&self.url))
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

#[cfg(target_arch = "wasm32")]
mod backend {
    use super::raw;

    pub fn send(request: &raw::Request) -> Result<raw::Response, raw::HttpError> {
        raw::send(request)
    }

    pub fn send_many(requests: &[raw::Request]) -> Vec<Result<raw::Response, raw::HttpError>> {
        raw::send_many(requests)
    }
}

/// Native builds (unit tests): no host, so every request fails cleanly.
#[cfg(not(target_arch = "wasm32"))]
mod backend {
    use super::raw;

    fn unavailable() -> raw::HttpError {
        raw::HttpError::InvalidRequest(
            "HTTP is only available inside the tovor host (this is a native build)".to_owned(),
        )
    }

    pub fn send(_request: &raw::Request) -> Result<raw::Response, raw::HttpError> {
        Err(unavailable())
    }

    pub fn send_many(requests: &[raw::Request]) -> Vec<Result<raw::Response, raw::HttpError>> {
        requests.iter().map(|_| Err(unavailable())).collect()
    }
}

/// Maps the host's typed HTTP failure to a connector error; `context` is `METHOD url`.
fn map_http_error(error: raw::HttpError, context: &str) -> ConnectorError {
    use raw::HttpError as E;
    match error {
        E::Denied(message) => ConnectorError::other(format!(
            "{context}: refused by the host's egress policy: {message}"
        )),
        E::InvalidRequest(message) => {
            ConnectorError::other(format!("{context}: invalid request: {message}"))
        }
        E::Timeout => ConnectorError::transient(format!("{context}: no answer in time")),
        E::Connection(message) => {
            ConnectorError::transient(format!("{context}: connection failed: {message}"))
        }
        E::ResponseTooLarge(cap) => ConnectorError::other(format!(
            "{context}: the response exceeded the host's cap of {cap} bytes"
        )),
        E::RequestLimit(limit) => ConnectorError::other(format!(
            "{context}: this call already made the {limit} requests the plugin's limits allow"
        )),
    }
}

/// A response with any status.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// Headers as received.
    pub headers: Vec<(String, String)>,
    /// The body (possibly empty).
    pub body: Vec<u8>,
    /// The URL that was requested; relative `Link` targets resolve against it.
    pub url: String,
}

impl Response {
    fn from_raw(response: raw::Response, url: String) -> Self {
        Self {
            status: response.status,
            headers: response.headers,
            body: response.body,
            url,
        }
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The value of the header `name` (case-insensitive; the first if repeated).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON. A body that does not parse is `other`, with the parser's
    /// message and the start of the body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ConnectorError> {
        serde_json::from_slice(&self.body).map_err(|error| {
            ConnectorError::other(format!(
                "{} answered HTTP {} with a body that is not the expected JSON ({error}): {}",
                display_url(&self.url),
                self.status,
                snippet(&self.body)
            ))
        })
    }

    /// `Ok(self)` for 1xx, 2xx and 304; otherwise the error [`status_error`] makes of it
    /// (with the HTTP status, and `Retry-After` when sent).
    pub fn error_for_status(self) -> Result<Response, ConnectorError> {
        match self.error() {
            Some(error) => Err(error),
            None => Ok(self),
        }
    }

    /// The error this response's status means, if any (see [`status_error`]). Add what
    /// the platform said with [`ConnectorError::with_platform_code`] and friends.
    pub fn error(&self) -> Option<ConnectorError> {
        status_error(self.status, &self.headers, &self.body, now())
    }

    /// The wait the response asks for in its `Retry-After` header, in milliseconds.
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.header("retry-after")
            .and_then(|value| parse_retry_after(value, now()))
    }

    /// The target of the `Link` header with `rel="next"` (RFC 8288), resolved against
    /// the request URL when relative.
    pub fn next_link(&self) -> Option<String> {
        self.link("next")
    }

    /// The target of the `Link` header with the given relation type (`"next"`, `"prev"`,
    /// `"last"`, ...), resolved against the request URL when relative.
    pub fn link(&self, rel: &str) -> Option<String> {
        let values = self
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("link"))
            .map(|(_, value)| value.as_str());
        find_link(values, rel, &self.url)
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("url", &display_url(&self.url))
            .field("headers", &self.headers)
            .field("body", &snippet(&self.body))
            .finish()
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// The error a response status means, if any, always with `http-status` set. `now` is
/// the reference for a `Retry-After` given as a date.
///
/// | status | kind |
/// |---|---|
/// | 401 | `auth` |
/// | 403 | `permission` |
/// | 404, 410 | `not-found` |
/// | 409 | `conflict` |
/// | 429 | `rate-limited`, with `Retry-After` (seconds or HTTP date) when sent |
/// | 408, 5xx | `transient`, with `Retry-After` when sent (503 often has one) |
/// | other 4xx | `invalid-input` |
/// | 3xx but 304 | `other` (the host does not follow redirects; the message names the target) |
///
/// Messages carry the status and a snippet of the body.
pub fn status_error(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    now: OffsetDateTime,
) -> Option<ConnectorError> {
    let message = || {
        let text = snippet(body);
        if text.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {text}")
        }
    };
    let retry_after =
        || find_header(headers, "retry-after").and_then(|value| parse_retry_after(value, now));
    let error = match status {
        100..=299 | 304 => return None,
        300..=399 => {
            let target = find_header(headers, "location").unwrap_or("nowhere");
            ConnectorError::other(format!(
                "HTTP {status}: redirected to {} (redirects are not followed; check the \
                 configured address)",
                display_url(target)
            ))
        }
        401 => ConnectorError::auth(message()),
        403 => ConnectorError::permission(message()),
        404 | 410 => ConnectorError::not_found(message()),
        409 => ConnectorError::conflict(message()),
        429 => ConnectorError::rate_limited(retry_after(), message()),
        408 | 500..=599 => ConnectorError::transient(message()).with_retry_after_ms(retry_after()),
        400..=499 => ConnectorError::invalid_input(message()),
        _ => ConnectorError::other(message()),
    };
    Some(error.with_http_status(status))
}

/// Parses a `Retry-After` value into milliseconds: delta-seconds (`"120"`, also
/// fractional `"1.5"`) or an HTTP date (`"Wed, 21 Oct 2015 07:28:00 GMT"`, also the
/// obsolete RFC 850 and asctime forms, read by `httpdate`) counted from `now`; a date in
/// the past is 0.
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<u64> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
        if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
            return None;
        }
        let seconds: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        // Milliseconds from the first three fraction digits, rounding any rest up.
        let mut millis: u64 = 0;
        for (index, digit) in fraction.bytes().enumerate() {
            let digit = u64::from(digit - b'0');
            match index {
                0 => millis += digit * 100,
                1 => millis += digit * 10,
                2 => millis += digit,
                _ if digit > 0 => {
                    millis += 1;
                    break;
                }
                _ => {}
            }
        }
        return Some(seconds.saturating_mul(1000).saturating_add(millis));
    }
    let at = OffsetDateTime::from(httpdate::parse_http_date(value).ok()?);
    let millis = (at - now).whole_milliseconds();
    Some(u64::try_from(millis.max(0)).unwrap_or(u64::MAX))
}

/// `at` as an HTTP date (`If-Modified-Since`, `Date`): `Wed, 21 Oct 2015 07:28:00 GMT`.
/// Times before 1970 are written as 1970-01-01.
pub fn format_http_date(at: OffsetDateTime) -> String {
    httpdate::fmt_http_date(SystemTime::from(at.max(OffsetDateTime::UNIX_EPOCH)))
}

/// The target of the first link whose relation types include `rel` (ASCII
/// case-insensitive), across all given `Link` header values, resolved against `base`
/// (RFC 8288, parsed by `http-link`). A header value that does not parse is skipped.
pub fn find_link<'a>(
    values: impl IntoIterator<Item = &'a str>,
    rel: &str,
    base: &str,
) -> Option<String> {
    // Relative targets need an absolute base; without one only absolute targets resolve.
    let base = url::Url::parse(base)
        .or_else(|_| url::Url::parse("about:blank"))
        .ok()?;
    values
        .into_iter()
        .filter_map(|value| http_link::parse_link_header(value, &base).ok())
        .flatten()
        .find(|link| link.rel.eq_ignore_ascii_case(rel))
        .map(|link| link.target.to_string())
}

/// Everything but the unreserved characters of RFC 3986 (`A-Z a-z 0-9 - . _ ~`).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes `text` for a query component or a path segment (RFC 3986): every
/// byte but the unreserved `A-Z a-z 0-9 - . _ ~` is escaped, a space becomes `%20`.
///
/// ```
/// use tovor_sdk::http::percent_encode;
/// assert_eq!(percent_encode("MUG 1/blue&ä"), "MUG%201%2Fblue%26%C3%A4");
/// ```
pub fn percent_encode(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// `url` with `pairs` appended to its query (see [`Request::query`]).
fn append_query<K: AsRef<str>, V: fmt::Display>(url: &str, pairs: &[(K, V)]) -> String {
    if pairs.is_empty() {
        return url.to_owned();
    }
    let (base, fragment) = match url.find('#') {
        Some(index) => url.split_at(index),
        None => (url, ""),
    };
    let mut out = String::with_capacity(url.len() + pairs.len() * 16);
    out.push_str(base);
    if !base.contains('?') {
        out.push('?');
    } else if !base.ends_with('?') && !base.ends_with('&') {
        out.push('&');
    }
    for (index, (key, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        out.push_str(&percent_encode(key.as_ref()));
        out.push('=');
        out.push_str(&percent_encode(&value.to_string()));
    }
    out.push_str(fragment);
    out
}

/// The URL for messages: without user info, query or fragment (they may hold secrets).
fn display_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.set_query(None);
            parsed.set_fragment(None);
            // Both only fail for URLs that cannot have credentials; nothing to hide then.
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or_default().to_owned(),
    }
}

/// The start of a body for error messages: UTF-8 (lossy), whitespace collapsed, at most
/// 200 characters.
pub(crate) fn snippet(body: &[u8]) -> String {
    const MAX_CHARS: usize = 200;
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut chars = 0;
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
            chars += 1;
        }
        for c in word.chars() {
            if chars >= MAX_CHARS {
                out.push('…');
                return out;
            }
            out.push(c);
            chars += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ErrorKind;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2015-10-21 07:27:00 UTC);

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn kind(error: Option<ConnectorError>) -> Option<ErrorKind> {
        error.map(|error| error.kind)
    }

    #[test]
    fn query_is_encoded_and_appended() {
        let request = Request::get("https://shop.example/api/orders").query(&[
            ("updated_since", "2026-11-28T10:00:00+01:00"),
            ("q", "a b&c=d/é"),
        ]);
        assert_eq!(
            request.url(),
            "https://shop.example/api/orders?updated_since=2026-11-28T10%3A00%3A00%2B01%3A00\
             &q=a%20b%26c%3Dd%2F%C3%A9"
        );
        let request = Request::get("https://x.example/p?a=1#frag").query(&[("page", 2)]);
        assert_eq!(request.url(), "https://x.example/p?a=1&page=2#frag");
        let request = Request::get("https://x.example/p")
            .query_param("since", "2026-01-01T00:00:00Z")
            .query_param("page", 2);
        assert_eq!(
            request.url(),
            "https://x.example/p?since=2026-01-01T00%3A00%3A00Z&page=2"
        );
        let request = Request::get("https://x.example/p?").query(&[("page", 2)]);
        assert_eq!(request.url(), "https://x.example/p?page=2");
        let request = Request::get("https://x.example/p?a=1&").query(&[("b", "")]);
        assert_eq!(request.url(), "https://x.example/p?a=1&b=");
        let empty: &[(&str, &str)] = &[];
        assert_eq!(
            Request::get("https://x.example/").query(empty).url(),
            "https://x.example/"
        );
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved() {
        assert_eq!(percent_encode("AZaz09-._~"), "AZaz09-._~");
        assert_eq!(
            percent_encode(" +%/?#[]@!$&'()*,;="),
            "%20%2B%25%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2C%3B%3D"
        );
        assert_eq!(percent_encode("€"), "%E2%82%AC");
    }

    #[test]
    fn builder_sets_headers_and_bodies() {
        let request = Request::post("https://x.example/")
            .header("X-Test", "1")
            .header("x-test", "2")
            .basic_auth("Aladdin", "open sesame")
            .json(&serde_json::json!({"quantity": 3}))
            .timeout_ms(500);
        assert_eq!(request.method(), "POST");
        assert_eq!(request.header_value("X-TEST"), Some("2"));
        assert_eq!(
            request
                .headers()
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("x-test"))
                .count(),
            1
        );
        assert_eq!(
            request.header_value("authorization"),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        assert_eq!(
            request.header_value("content-type"),
            Some("application/json")
        );
        assert_eq!(request.body_bytes(), Some(&br#"{"quantity":3}"#[..]));

        let request = Request::put("https://x.example/")
            .bearer_auth("t0k")
            .form(&[("a b", "c&d"), ("n", "1")]);
        assert_eq!(request.header_value("Authorization"), Some("Bearer t0k"));
        assert_eq!(request.body_bytes(), Some(&b"a+b=c%26d&n=1"[..]));
        assert!(!format!("{request:?}").contains("t0k"));
    }

    #[test]
    fn unserializable_body_fails_at_send() {
        let mut map = std::collections::HashMap::new();
        map.insert((1, 2), 3);
        let result = Request::post("https://x.example/").json(&map).send();
        assert!(
            matches!(result, Err(e) if e.kind == ErrorKind::Other && e.message.contains("serialize"))
        );
    }

    #[test]
    fn native_send_fails_cleanly() {
        match Request::get("https://x.example/?token=secret").send() {
            Err(error) => {
                assert_eq!(error.kind, ErrorKind::Other);
                assert!(error.message.contains("GET https://x.example/"));
                assert!(!error.message.contains("secret"));
            }
            Ok(response) => panic!("unexpected {response:?}"),
        }
    }

    #[test]
    fn send_many_answers_each_request_in_order() {
        let mut map = std::collections::HashMap::new();
        map.insert((1, 2), 3);
        let results = send_many(vec![
            Request::get("https://x.example/a"),
            Request::post("https://x.example/b").json(&map),
            Request::get("https://x.example/c"),
        ]);
        assert_eq!(results.len(), 3);
        let messages: Vec<String> = results
            .into_iter()
            .map(|result| result.err().map(|e| e.message).unwrap_or_default())
            .collect();
        assert!(
            messages[0].contains("GET https://x.example/a"),
            "{messages:?}"
        );
        assert!(messages[1].contains("serialize"), "{messages:?}");
        assert!(
            messages[2].contains("GET https://x.example/c"),
            "{messages:?}"
        );
        assert!(send_many(Vec::new()).is_empty());
    }

    #[test]
    fn http_errors_map_to_connector_errors() {
        let c = "GET https://x.example/";
        let map = |error| map_http_error(error, c);
        let denied = map(raw::HttpError::Denied("no".into()));
        assert_eq!(denied.kind, ErrorKind::Other);
        assert!(denied.message.contains("egress") && denied.message.contains(c));
        assert_eq!(
            map(raw::HttpError::InvalidRequest("bad".into())).kind,
            ErrorKind::Other
        );
        assert_eq!(map(raw::HttpError::Timeout).kind, ErrorKind::Transient);
        let reset = map(raw::HttpError::Connection("reset".into()));
        assert_eq!(reset.kind, ErrorKind::Transient);
        assert!(reset.message.contains("reset"));
        assert!(
            map(raw::HttpError::ResponseTooLarge(1024))
                .message
                .contains("1024")
        );
        assert!(map(raw::HttpError::RequestLimit(50)).message.contains("50"));
    }

    #[test]
    fn status_mapping() {
        let none = headers(&[]);
        let error = |status: u16| status_error(status, &none, b"{\"error\": \"nope\"}", NOW);
        assert_eq!(error(200), None);
        assert_eq!(error(204), None);
        assert_eq!(error(304), None);
        let auth = error(401).unwrap();
        assert_eq!(auth.kind, ErrorKind::Auth);
        assert_eq!(auth.message, "HTTP 401: {\"error\": \"nope\"}");
        assert_eq!(auth.http_status, Some(401));
        assert_eq!(kind(error(403)), Some(ErrorKind::Permission));
        assert_eq!(kind(error(404)), Some(ErrorKind::NotFound));
        assert_eq!(kind(error(410)), Some(ErrorKind::NotFound));
        assert_eq!(kind(error(409)), Some(ErrorKind::Conflict));
        assert_eq!(kind(error(408)), Some(ErrorKind::Transient));
        assert_eq!(kind(error(500)), Some(ErrorKind::Transient));
        assert_eq!(kind(error(422)), Some(ErrorKind::InvalidInput));
        assert_eq!(kind(error(400)), Some(ErrorKind::InvalidInput));
        assert_eq!(kind(error(700)), Some(ErrorKind::Other));
        let limited = error(429).unwrap();
        assert_eq!(
            (limited.kind, limited.retry_after_ms, limited.http_status),
            (ErrorKind::RateLimited, None, Some(429))
        );
        let moved = headers(&[("Location", "https://new.example/api?key=secret")]);
        let redirect = status_error(301, &moved, b"", NOW).unwrap();
        assert_eq!(redirect.kind, ErrorKind::Other);
        assert!(redirect.message.contains("https://new.example/api"));
        assert!(!redirect.message.contains("secret"));
        assert_eq!(
            status_error(500, &none, b"", NOW)
                .map(|e| e.message)
                .as_deref(),
            Some("HTTP 500")
        );
    }

    #[test]
    fn retry_after_is_kept_for_429_and_503() {
        let with = |status: u16, value: &str| {
            status_error(status, &headers(&[("retry-after", value)]), b"", NOW)
                .and_then(|error| error.retry_after_ms)
        };
        assert_eq!(with(429, "120"), Some(120_000));
        assert_eq!(with(429, "Wed, 21 Oct 2015 07:28:00 GMT"), Some(60_000));
        assert_eq!(with(429, "soon"), None);
        assert_eq!(with(503, "30"), Some(30_000));
        let response = Response {
            status: 429,
            headers: headers(&[("Retry-After", "2")]),
            body: Vec::new(),
            url: "https://x.example/".into(),
        };
        assert_eq!(response.retry_after_ms(), Some(2000));
        assert_eq!(response.error().and_then(|e| e.retry_after_ms), Some(2000));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("0", NOW), Some(0));
        assert_eq!(parse_retry_after(" 2 ", NOW), Some(2000));
        assert_eq!(parse_retry_after("1.5", NOW), Some(1500));
        assert_eq!(parse_retry_after(".5", NOW), Some(500));
        assert_eq!(parse_retry_after("0.0001", NOW), Some(1));
        assert_eq!(parse_retry_after("1.2.3", NOW), None);
        assert_eq!(parse_retry_after(".", NOW), None);
        assert_eq!(parse_retry_after("-1", NOW), None);
        assert_eq!(parse_retry_after("", NOW), None);
        assert_eq!(parse_retry_after("99999999999999999999", NOW), None);
        assert_eq!(parse_retry_after("18446744073709552", NOW), Some(u64::MAX));
        // HTTP dates: IMF-fixdate, RFC 850, asctime; the past is 0.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", NOW),
            Some(60_000)
        );
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", NOW),
            Some(120_000)
        );
        assert_eq!(
            parse_retry_after("Wed Oct 21 07:27:30 2015", NOW),
            Some(30_000)
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", NOW),
            Some(0)
        );
        assert_eq!(
            parse_retry_after("Tue, 20 Oct 2015 07:28:00 GMT", NOW),
            Some(0)
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 +0000", NOW),
            None
        );
    }

    #[test]
    fn http_dates_are_written_in_imf_fixdate() {
        assert_eq!(format_http_date(NOW), "Wed, 21 Oct 2015 07:27:00 GMT");
        assert_eq!(
            format_http_date(datetime!(1960-01-01 00:00:00 UTC)),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    #[test]
    fn link_header_parsing() {
        let base = "https://api.example/orders?page=1";
        let github = r#"<https://api.example/orders?page=2>; rel="next", <https://api.example/orders?page=5>; rel="last""#;
        assert_eq!(
            find_link([github], "next", base).as_deref(),
            Some("https://api.example/orders?page=2")
        );
        assert_eq!(
            find_link([github], "last", base).as_deref(),
            Some("https://api.example/orders?page=5")
        );
        assert_eq!(find_link([github], "prev", base), None);
        // Unquoted rel, odd spacing, case, several rel values, quoted commas.
        let shopify = r#"<https://s.example/a.json?page_info=abc>;rel=previous , <https://s.example/a.json?page_info=def>; title="x, \"y\""; REL="Next last""#;
        assert_eq!(
            find_link([shopify], "next", base).as_deref(),
            Some("https://s.example/a.json?page_info=def")
        );
        assert_eq!(
            find_link([shopify], "LAST", base).as_deref(),
            Some("https://s.example/a.json?page_info=def")
        );
        assert_eq!(
            find_link([shopify], "previous", base).as_deref(),
            Some("https://s.example/a.json?page_info=abc")
        );
        // Commas inside the URI, several header values, only the first rel counts.
        let first = r#"<https://x.example/a,b>; rel="prev""#;
        let second = r#"<https://x.example/c,d>; rel="next"; rel="prev""#;
        assert_eq!(
            find_link([first, second], "next", base).as_deref(),
            Some("https://x.example/c,d")
        );
        assert_eq!(
            find_link([first, second], "prev", base).as_deref(),
            Some("https://x.example/a,b")
        );
        // A value that does not parse is skipped; the others still count.
        assert_eq!(
            find_link(["garbage", "<https://x.example/n>; rel=next"], "next", base).as_deref(),
            Some("https://x.example/n")
        );
        assert_eq!(find_link(["<unterminated; rel=next"], "next", base), None);
        assert_eq!(find_link([""], "next", base), None);
    }

    #[test]
    fn next_link_resolves_relative_targets() {
        let response = Response {
            status: 200,
            headers: headers(&[("Link", "</api/v1/orders?page=3>; rel=\"next\"")]),
            body: Vec::new(),
            url: "https://shop.example/api/v1/orders?page=2".into(),
        };
        assert_eq!(
            response.next_link().as_deref(),
            Some("https://shop.example/api/v1/orders?page=3")
        );
        assert_eq!(response.link("prev"), None);
    }

    #[test]
    fn response_helpers() {
        let response = Response {
            status: 200,
            headers: headers(&[("Content-Type", "application/json")]),
            body: br#"{"id": 7}"#.to_vec(),
            url: "https://shop.example/api?token=secret".into(),
        };
        assert!(response.is_success());
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(response.text(), r#"{"id": 7}"#);
        let value: serde_json::Value = response.json().unwrap();
        assert_eq!(value["id"], 7);
        let error = response.json::<Vec<u32>>().unwrap_err();
        assert_eq!(error.kind, ErrorKind::Other);
        assert!(error.message.contains("HTTP 200"), "{}", error.message);
        assert!(error.message.contains(r#"{"id": 7}"#), "{}", error.message);
        assert!(!error.message.contains("secret"), "{}", error.message);
        assert!(response.clone().error_for_status().is_ok());
        let failed = Response {
            status: 404,
            ..response
        };
        let error = failed.error_for_status().unwrap_err();
        assert_eq!(
            (error.kind, error.http_status),
            (ErrorKind::NotFound, Some(404))
        );
    }

    #[test]
    fn snippets_are_short_and_tidy() {
        assert_eq!(snippet(b"  a \n\n b\t"), "a b");
        let long = "x".repeat(500);
        let cut = snippet(long.as_bytes());
        assert_eq!(cut.chars().count(), 201);
        assert!(cut.ends_with('…'));
        assert_eq!(snippet(&[0xff, b'a']), "\u{fffd}a");
    }

    #[test]
    fn display_url_hides_secrets() {
        assert_eq!(
            display_url("https://user:pw@x.example/a?k=v#f"),
            "https://x.example/a"
        );
        assert_eq!(display_url("not a url?k=v"), "not a url");
    }
}
