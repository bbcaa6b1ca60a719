//! An HTTP client over the host's `http` import.
//!
//! The host performs every request: it checks it against the plugin's allow-list (no
//! request leaves for an address the manifest does not allow), caps its time and the
//! response size, and does not follow redirects. Errors come back typed, already mapped
//! to [`ConnectorError`] so `?` does the right thing.
//!
//! ```no_run
//! use serde::Deserialize;
//! use tovor_sdk::http::Request;
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
//! ```
//!
//! Outside the host (native unit tests) [`Request::send`] fails with `other`: test the
//! request you build ([`Request::url`], [`Request::header`], [`Request::body_bytes`]) and
//! the parsing of canned [`Response`]s instead, or run the connector in `tovor-harness`.

use std::fmt;

use base64::Engine as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::bindings::shop::tovor::connector::http as raw;
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
                self.error = Some(ConnectorError::Other(format!(
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
        match send_raw(&request) {
            Ok(response) => Ok(Response {
                status: response.status,
                headers: response.headers,
                body: response.body,
                url,
            }),
            Err(error) => Err(map_http_error(error, &context)),
        }
    }
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
fn send_raw(request: &raw::Request) -> Result<raw::Response, raw::HttpError> {
    raw::send(request)
}

#[cfg(not(target_arch = "wasm32"))]
fn send_raw(_request: &raw::Request) -> Result<raw::Response, raw::HttpError> {
    Err(raw::HttpError::InvalidRequest(
        "HTTP is only available inside the tovor host (this is a native build)".to_owned(),
    ))
}

/// Maps the host's typed HTTP failure to a connector error; `context` is `METHOD url`.
fn map_http_error(error: raw::HttpError, context: &str) -> ConnectorError {
    use raw::HttpError as E;
    match error {
        E::Denied(message) => ConnectorError::Other(format!(
            "{context}: refused by the host's egress policy: {message}"
        )),
        E::InvalidRequest(message) => {
            ConnectorError::Other(format!("{context}: invalid request: {message}"))
        }
        E::Timeout => ConnectorError::Transient(format!("{context}: no answer in time")),
        E::Connection(message) => {
            ConnectorError::Transient(format!("{context}: connection failed: {message}"))
        }
        E::ResponseTooLarge(cap) => ConnectorError::Other(format!(
            "{context}: the response exceeded the host's cap of {cap} bytes"
        )),
        E::RequestLimit(limit) => ConnectorError::Other(format!(
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
            ConnectorError::Other(format!(
                "{} answered HTTP {} with a body that is not the expected JSON ({error}): {}",
                display_url(&self.url),
                self.status,
                snippet(&self.body)
            ))
        })
    }

    /// `Ok(self)` for 1xx, 2xx and 304; otherwise the matching error:
    ///
    /// | status | error |
    /// |---|---|
    /// | 401, 403 | `auth` |
    /// | 404 | `not-found` |
    /// | 429 | `rate-limited`, with `Retry-After` (seconds or HTTP date) when sent |
    /// | 408, 5xx | `transient` |
    /// | other 4xx | `invalid-input` |
    /// | 3xx | `other` (the host does not follow redirects; the message names the target) |
    ///
    /// Messages carry the status and a snippet of the body.
    pub fn error_for_status(self) -> Result<Response, ConnectorError> {
        match status_error(self.status, &self.headers, &self.body, now()) {
            Some(error) => Err(error),
            None => Ok(self),
        }
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
        find_link(values, rel).map(|target| resolve(&self.url, &target))
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

/// The error a response status means, if any (see [`Response::error_for_status`]).
/// `now` is the reference for a `Retry-After` given as a date.
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
    match status {
        100..=299 | 304 => None,
        300..=399 => {
            let target = find_header(headers, "location").unwrap_or("nowhere");
            Some(ConnectorError::Other(format!(
                "HTTP {status}: redirected to {} (redirects are not followed; check the \
                 configured address)",
                display_url(target)
            )))
        }
        401 | 403 => Some(ConnectorError::Auth(message())),
        404 => Some(ConnectorError::NotFound(message())),
        429 => {
            let retry_after_ms =
                find_header(headers, "retry-after").and_then(|value| parse_retry_after(value, now));
            Some(ConnectorError::rate_limited(retry_after_ms, message()))
        }
        408 | 500..=599 => Some(ConnectorError::Transient(message())),
        400..=499 => Some(ConnectorError::invalid_input(message())),
        _ => Some(ConnectorError::Other(message())),
    }
}

/// Parses a `Retry-After` value into milliseconds: delta-seconds (`"120"`, also
/// fractional `"1.5"`) or an HTTP date (`"Wed, 21 Oct 2015 07:28:00 GMT"`, also the
/// obsolete RFC 850 and asctime forms) counted from `now`; a date in the past is 0.
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
    let at = parse_http_date(value, now)?;
    let millis = (at - now).whole_milliseconds();
    Some(u64::try_from(millis.max(0)).unwrap_or(u64::MAX))
}

/// Parses an HTTP date (RFC 9110 §5.6.7): IMF-fixdate, RFC 850 or asctime.
fn parse_http_date(value: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
    use time::PrimitiveDateTime;
    use time::format_description::FormatItem;
    use time::macros::format_description;
    const IMF_FIXDATE: &[FormatItem<'_>] = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    const ASCTIME: &[FormatItem<'_>] = format_description!(
        "[weekday repr:short] [month repr:short] [day padding:space] [hour]:[minute]:[second] [year]"
    );
    const RFC_850_REBUILT: &[FormatItem<'_>] =
        format_description!("[day] [month repr:short] [year] [hour]:[minute]:[second] GMT");
    if let Ok(at) = PrimitiveDateTime::parse(value, IMF_FIXDATE) {
        return Some(at.assume_utc());
    }
    if let Ok(at) = PrimitiveDateTime::parse(value, ASCTIME) {
        return Some(at.assume_utc());
    }
    // RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`. Its two-digit year is read as the one
    // closest to now, never more than 50 years ahead (RFC 9110).
    let (_, rest) = value.split_once(", ")?;
    let (date, clock) = rest.split_once(' ')?;
    let mut parts = date.split('-');
    let (day, month, short_year) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || short_year.len() != 2 {
        return None;
    }
    let short_year: i32 = short_year.parse().ok()?;
    let mut year = now.year() / 100 * 100 + short_year;
    if year > now.year() + 50 {
        year -= 100;
    }
    let rebuilt = format!("{day} {month} {year} {clock}");
    PrimitiveDateTime::parse(&rebuilt, RFC_850_REBUILT)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// A parsed `Link` header entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Link {
    target: String,
    rels: Vec<String>,
}

/// The target of the first link whose `rel` contains `rel` (ASCII case-insensitive),
/// across all given `Link` header values (RFC 8288).
pub fn find_link<'a>(values: impl IntoIterator<Item = &'a str>, rel: &str) -> Option<String> {
    values
        .into_iter()
        .flat_map(parse_link_header)
        .find(|link| link.rels.iter().any(|r| r.eq_ignore_ascii_case(rel)))
        .map(|link| link.target)
}

/// Parses one `Link` header value: `<uri>; rel="next"; title="x", <uri2>; rel=prev`.
/// Malformed entries are skipped, not fatal.
fn parse_link_header(value: &str) -> Vec<Link> {
    let mut links = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if rest.is_empty() {
            break;
        }
        let Some(after_open) = rest.strip_prefix('<') else {
            // Not a link-value: skip to the next top-level comma.
            rest = skip_to_comma(rest);
            continue;
        };
        let Some(close) = after_open.find('>') else {
            break;
        };
        let target = after_open[..close].trim().to_owned();
        rest = &after_open[close + 1..];
        let mut rels = Vec::new();
        // Parameters: `; name=value` or `; name="quoted"` until a top-level comma.
        loop {
            rest = rest.trim_start();
            let Some(after_semi) = rest.strip_prefix(';') else {
                break;
            };
            let param = after_semi.trim_start();
            let name_end = param
                .find(|c: char| c == '=' || c == ';' || c == ',' || c.is_whitespace())
                .unwrap_or(param.len());
            let name = &param[..name_end];
            rest = param[name_end..].trim_start();
            let mut param_value = String::new();
            if let Some(after_eq) = rest.strip_prefix('=') {
                let after_eq = after_eq.trim_start();
                if let Some(quoted) = after_eq.strip_prefix('"') {
                    let mut chars = quoted.char_indices();
                    let mut end = quoted.len();
                    while let Some((index, c)) = chars.next() {
                        match c {
                            '\\' => {
                                if let Some((_, escaped)) = chars.next() {
                                    param_value.push(escaped);
                                }
                            }
                            '"' => {
                                end = index + 1;
                                break;
                            }
                            other => param_value.push(other),
                        }
                    }
                    rest = &quoted[end..];
                } else {
                    let token_end = after_eq.find([';', ',']).unwrap_or(after_eq.len());
                    param_value = after_eq[..token_end].trim().to_owned();
                    rest = &after_eq[token_end..];
                }
            }
            // Only the first `rel` counts (RFC 8288 §3.3).
            if name.eq_ignore_ascii_case("rel") && rels.is_empty() {
                rels = param_value.split_whitespace().map(str::to_owned).collect();
            }
        }
        links.push(Link { target, rels });
        rest = skip_to_comma(rest);
    }
    links
}

/// The rest after the next comma outside quotes (or empty).
fn skip_to_comma(text: &str) -> &str {
    let mut quoted = false;
    let mut escaped = false;
    for (index, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => return &text[index + 1..],
            _ => {}
        }
    }
    ""
}

/// Resolves a link target against the request URL; targets that are already absolute or
/// cannot be resolved come back unchanged.
fn resolve(base: &str, target: &str) -> String {
    if url::Url::parse(target).is_ok() {
        return target.to_owned();
    }
    url::Url::parse(base)
        .and_then(|base| base.join(target))
        .map(|url| url.to_string())
        .unwrap_or_else(|_| target.to_owned())
}

/// Percent-encodes `text` for a query component or a path segment (RFC 3986): every
/// byte but the unreserved `A-Z a-z 0-9 - . _ ~` is escaped, a space becomes `%20`.
///
/// ```
/// use tovor_sdk::http::percent_encode;
/// assert_eq!(percent_encode("MUG 1/blue&ä"), "MUG%201%2Fblue%26%C3%A4");
/// ```
pub fn percent_encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
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
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2015-10-21 07:27:00 UTC);

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
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
        assert_eq!(
            request.header_value("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(request.body_bytes(), Some(&b"a+b=c%26d&n=1"[..]));
        assert!(!format!("{request:?}").contains("t0k"));
    }

    #[test]
    fn unserializable_body_fails_at_send() {
        let mut map = std::collections::HashMap::new();
        map.insert((1, 2), 3);
        let result = Request::post("https://x.example/").json(&map).send();
        assert!(matches!(result, Err(ConnectorError::Other(m)) if m.contains("serialize")));
    }

    #[test]
    fn native_send_fails_cleanly() {
        let result = Request::get("https://x.example/?token=secret").send();
        match result {
            Err(ConnectorError::Other(message)) => {
                assert!(message.contains("GET https://x.example/"));
                assert!(!message.contains("secret"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn http_errors_map_to_connector_errors() {
        let c = "GET https://x.example/";
        assert!(
            matches!(map_http_error(raw::HttpError::Denied("no".into()), c), ConnectorError::Other(m) if m.contains("egress") && m.contains(c))
        );
        assert!(matches!(
            map_http_error(raw::HttpError::InvalidRequest("bad".into()), c),
            ConnectorError::Other(_)
        ));
        assert!(matches!(
            map_http_error(raw::HttpError::Timeout, c),
            ConnectorError::Transient(_)
        ));
        assert!(
            matches!(map_http_error(raw::HttpError::Connection("reset".into()), c), ConnectorError::Transient(m) if m.contains("reset"))
        );
        assert!(
            matches!(map_http_error(raw::HttpError::ResponseTooLarge(1024), c), ConnectorError::Other(m) if m.contains("1024"))
        );
        assert!(
            matches!(map_http_error(raw::HttpError::RequestLimit(50), c), ConnectorError::Other(m) if m.contains("50"))
        );
    }

    #[test]
    fn status_mapping() {
        let none = headers(&[]);
        let error = |status: u16| status_error(status, &none, b"{\"error\": \"nope\"}", NOW);
        assert_eq!(error(200), None);
        assert_eq!(error(204), None);
        assert_eq!(error(304), None);
        assert!(
            matches!(error(401), Some(ConnectorError::Auth(m)) if m == "HTTP 401: {\"error\": \"nope\"}")
        );
        assert!(matches!(error(403), Some(ConnectorError::Auth(_))));
        assert!(matches!(error(404), Some(ConnectorError::NotFound(_))));
        assert!(matches!(error(408), Some(ConnectorError::Transient(_))));
        assert!(matches!(error(500), Some(ConnectorError::Transient(_))));
        assert!(matches!(error(503), Some(ConnectorError::Transient(_))));
        assert!(
            matches!(error(422), Some(ConnectorError::InvalidInput(e)) if e.field.is_none() && e.message.contains("nope"))
        );
        assert!(matches!(error(400), Some(ConnectorError::InvalidInput(_))));
        assert!(
            matches!(error(429), Some(ConnectorError::RateLimited(l)) if l.retry_after_ms.is_none())
        );
        assert!(matches!(error(700), Some(ConnectorError::Other(_))));
        let moved = headers(&[("Location", "https://new.example/api?key=secret")]);
        assert!(
            matches!(status_error(301, &moved, b"", NOW), Some(ConnectorError::Other(m)) if m.contains("https://new.example/api") && !m.contains("secret"))
        );
        assert!(
            matches!(status_error(500, &none, b"", NOW), Some(ConnectorError::Transient(m)) if m == "HTTP 500")
        );
    }

    #[test]
    fn rate_limit_reads_retry_after() {
        let limited =
            |value: &str| match status_error(429, &headers(&[("retry-after", value)]), b"", NOW) {
                Some(ConnectorError::RateLimited(limit)) => limit.retry_after_ms,
                other => panic!("unexpected {other:?}"),
            };
        assert_eq!(limited("120"), Some(120_000));
        assert_eq!(limited("Wed, 21 Oct 2015 07:28:00 GMT"), Some(60_000));
        assert_eq!(limited("soon"), None);
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("0", NOW), Some(0));
        assert_eq!(parse_retry_after(" 2 ", NOW), Some(2000));
        assert_eq!(parse_retry_after("1.5", NOW), Some(1500));
        assert_eq!(parse_retry_after("0.25", NOW), Some(250));
        assert_eq!(parse_retry_after(".5", NOW), Some(500));
        assert_eq!(parse_retry_after("2.", NOW), Some(2000));
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
        // RFC 850's two-digit year: never more than 50 years ahead, so `94` is 1994.
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", NOW),
            Some(0)
        );
        assert_eq!(
            parse_retry_after("Thursday, 22-Oct-15 07:27:00 GMT", NOW),
            Some(86_400_000)
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
    fn link_header_parsing() {
        let github = r#"<https://api.example/orders?page=2>; rel="next", <https://api.example/orders?page=5>; rel="last""#;
        assert_eq!(
            find_link([github], "next").as_deref(),
            Some("https://api.example/orders?page=2")
        );
        assert_eq!(
            find_link([github], "last").as_deref(),
            Some("https://api.example/orders?page=5")
        );
        assert_eq!(find_link([github], "prev"), None);
        // Unquoted rel, odd spacing, case, several rel values, extra parameters.
        let shopify = r#"<https://s.example/a.json?page_info=abc>;rel=previous , <https://s.example/a.json?page_info=def>; title="x, \"y\""; REL="Next last""#;
        assert_eq!(
            find_link([shopify], "next").as_deref(),
            Some("https://s.example/a.json?page_info=def")
        );
        assert_eq!(
            find_link([shopify], "previous").as_deref(),
            Some("https://s.example/a.json?page_info=abc")
        );
        // Commas inside the URI, several header values, only the first rel counts.
        let first = r#"<https://x.example/a,b>; rel="prev""#;
        let second = r#"<https://x.example/c,d>; rel="next"; rel="prev""#;
        assert_eq!(
            find_link([first, second], "next").as_deref(),
            Some("https://x.example/c,d")
        );
        assert_eq!(
            find_link([first, second], "prev").as_deref(),
            Some("https://x.example/a,b")
        );
        // Garbage is skipped.
        assert_eq!(
            find_link(["garbage, <https://x.example/n>; rel=next"], "next").as_deref(),
            Some("https://x.example/n")
        );
        assert_eq!(find_link(["<unterminated; rel=next"], "next"), None);
        assert_eq!(find_link([""], "next"), None);
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
        match response.json::<Vec<u32>>() {
            Err(ConnectorError::Other(message)) => {
                assert!(message.contains("HTTP 200"), "{message}");
                assert!(message.contains(r#"{"id": 7}"#), "{message}");
                assert!(!message.contains("secret"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(response.clone().error_for_status().is_ok());
        let failed = Response {
            status: 404,
            ..response
        };
        assert!(matches!(
            failed.error_for_status(),
            Err(ConnectorError::NotFound(_))
        ));
    }

    #[test]
    fn snippets_are_short_and_tidy() {
        assert_eq!(snippet(b"  a \n\n b\t"), "a b");
        let long = "x".repeat(500);
        let cut = snippet(long.as_bytes());
        assert_eq!(cut.chars().count(), 201);
        assert!(cut.ends_with('…'));
        assert_eq!(snippet(&[0xff, b'a']), "\u{fffd}a");
        let multibyte = "č".repeat(300);
        assert_eq!(snippet(multibyte.as_bytes()).chars().count(), 201);
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
