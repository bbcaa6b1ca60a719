//! The PrestaShop Webservice (`{shop_url}/api/...`) for one shop: HTTP Basic with the
//! webservice key as the user and an empty password, JSON output for reads
//! (`output_format=JSON`), XML bodies for writes (PrestaShop parses only XML input, in
//! 1.7 and 8 alike), and PrestaShop's error answers in either form.
//!
//! Writes use `PUT` with the whole resource (read first): 8.x also has `PATCH`, but
//! 1.7 refuses it ("Method PATCH is not valid", code 23), and one way for both keeps
//! the connector simple.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use tovor_sdk::Config;
use tovor_sdk::http::{self, Request, Response};
use tovor_sdk::types::{ConnectorError, ErrorKind};

pub const SHOP_URL_FIELD: &str = "shop_url";
pub const KEY_FIELD: &str = "webservice_key";

/// The Webservice root and key of one shop.
#[derive(Debug, Clone)]
pub struct Api {
    /// `{shop_url}/api`, without a trailing `/`.
    base: String,
    key: String,
    /// The shop of a multistore installation (`id_shop`), when configured.
    id_shop: Option<i64>,
}

impl Api {
    pub fn new(config: &Config) -> Result<Self, ConnectorError> {
        let shop_url = config.api_base_or(config.require(SHOP_URL_FIELD)?);
        let shop_url = shop_url.trim().trim_end_matches('/').to_owned();
        let scheme = shop_url
            .split("://")
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(ConnectorError::invalid_field(
                SHOP_URL_FIELD,
                format!("{shop_url:?} is not an http:// or https:// address"),
            ));
        }
        // The Webservice lives at `/api` under the shop; accept the API address too.
        let base = if shop_url.ends_with("/api") {
            shop_url
        } else {
            format!("{shop_url}/api")
        };
        Ok(Self {
            base,
            key: config.require(KEY_FIELD)?.trim().to_owned(),
            id_shop: config.integer("id_shop")?,
        })
    }

    /// The shop's address (for the connection check's account name).
    pub fn shop_url(&self) -> &str {
        self.base.trim_end_matches("/api")
    }

    fn request(&self, method: &str, path: &str) -> Request {
        let request = Request::new(method, format!("{}/{path}", self.base))
            .basic_auth(&self.key, "")
            .timeout_ms(20_000);
        match self.id_shop {
            Some(id) => request.query_param("id_shop", id),
            None => request,
        }
    }

    /// `GET /api/{path}` with JSON output.
    pub fn get(&self, path: &str) -> Request {
        self.request("GET", path)
            .query_param("output_format", "JSON")
    }

    /// `PUT /api/{path}` with an XML body.
    pub fn put_xml(&self, path: &str, xml: String) -> Request {
        self.request("PUT", path)
            .body(xml.into_bytes(), "application/xml")
    }

    /// `POST /api/{path}` with an XML body.
    pub fn post_xml(&self, path: &str, xml: String) -> Request {
        self.request("POST", path)
            .body(xml.into_bytes(), "application/xml")
    }

    /// Sends one request; PrestaShop's error answers become typed errors.
    pub fn send(&self, request: Request) -> Result<Response, ConnectorError> {
        check(request.send()?)
    }

    /// Sends requests at once; one result per request.
    pub fn send_all(&self, requests: Vec<Request>) -> Vec<Result<Response, ConnectorError>> {
        http::send_many(requests)
            .into_iter()
            .map(|answer| answer.and_then(check))
            .collect()
    }

    /// The rows of a JSON list answer (`{"orders": [...]}`); PrestaShop answers `[]`
    /// (or an empty object) when nothing matches.
    pub fn list<T: DeserializeOwned>(
        &self,
        request: Request,
        resource: &str,
    ) -> Result<Vec<T>, ConnectorError> {
        list_rows(&self.send(request)?, resource)
    }
}

/// The rows of a list answer; see [`Api::list`].
pub fn list_rows<T: DeserializeOwned>(
    response: &Response,
    resource: &str,
) -> Result<Vec<T>, ConnectorError> {
    let value: Value = response.json()?;
    let rows = match value {
        Value::Array(rows) if rows.is_empty() => return Ok(Vec::new()),
        Value::Object(mut map) => match map.remove(resource) {
            Some(rows) => rows,
            None if map.is_empty() => return Ok(Vec::new()),
            None => {
                return Err(ConnectorError::other(format!(
                    "PrestaShop's answer for {resource} has no `{resource}` list"
                )));
            }
        },
        other => {
            return Err(ConnectorError::other(format!(
                "PrestaShop's answer for {resource} is not a list: {}",
                snippet(other.to_string().as_bytes())
            )));
        }
    };
    serde_json::from_value(rows).map_err(|error| {
        ConnectorError::other(format!(
            "PrestaShop's {resource} are not as expected: {error}"
        ))
    })
}

/// The single object of a detail answer (`{"order": {...}}`).
pub fn one<T: DeserializeOwned>(response: &Response, node: &str) -> Result<T, ConnectorError> {
    let mut value: Value = response.json()?;
    let inner = value
        .get_mut(node)
        .map(Value::take)
        .ok_or_else(|| ConnectorError::other(format!("PrestaShop's answer has no `{node}`")))?;
    serde_json::from_value(inner).map_err(|error| {
        ConnectorError::other(format!("PrestaShop's {node} is not as expected: {error}"))
    })
}

/// A filter value for a set of ids: `[1|2|3]`.
pub fn id_set<I: IntoIterator<Item = u64>>(ids: I) -> String {
    let mut ids: Vec<u64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let joined: Vec<String> = ids.iter().map(u64::to_string).collect();
    format!("[{}]", joined.join("|"))
}

/// What PrestaShop said went wrong: the first `<error>` of its XML answer or the first
/// entry of `errors` in its JSON answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsError {
    pub code: Option<String>,
    pub message: String,
}

pub fn parse_error(body: &[u8]) -> Option<PsError> {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        let first = value.get("errors")?.as_array()?.first()?.clone();
        let code = match first.get("code") {
            Some(Value::Number(number)) => Some(number.to_string()),
            Some(Value::String(text)) => Some(text.clone()),
            _ => None,
        };
        let message = first
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        return Some(PsError { code, message });
    }
    let answer: XmlAnswer = quick_xml::de::from_str(&String::from_utf8_lossy(body)).ok()?;
    let first = answer.errors?.error.into_iter().next()?;
    Some(PsError {
        code: first.code.map(|code| code.trim().to_owned()),
        message: first.message.unwrap_or_default().trim().to_owned(),
    })
}

/// PrestaShop's XML error answer:
/// `<prestashop><errors><error><code/><message/></error></errors></prestashop>`.
#[derive(serde::Deserialize)]
struct XmlAnswer {
    errors: Option<XmlErrors>,
}

#[derive(serde::Deserialize)]
struct XmlErrors {
    #[serde(default)]
    error: Vec<XmlError>,
}

#[derive(serde::Deserialize)]
struct XmlError {
    code: Option<String>,
    message: Option<String>,
}

/// Text for an XML body: in CDATA, as PrestaShop writes it, with `]]>` split.
pub fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

/// `Ok` for a success; otherwise the typed error, with PrestaShop's own code and
/// message where it sent them.
pub fn check(response: Response) -> Result<Response, ConnectorError> {
    let Some(error) = response.error() else {
        return Ok(response);
    };
    Err(refine(error, response.status, &response.body))
}

/// Chooses the kind from PrestaShop's error code where the status alone misleads.
pub fn refine(error: ConnectorError, status: u16, body: &[u8]) -> ConnectorError {
    let Some(ps) = parse_error(body) else {
        return error;
    };
    let code = ps.code.clone().unwrap_or_default();
    let message = format!(
        "PrestaShop answered HTTP {status}: {} (code {code})",
        ps.message
    );
    let kind = match (status, code.as_str()) {
        // 401 is also how PrestaShop says the key may not use a resource or method.
        (401, "21" | "26") | (405, "25") | (403, _) => ErrorKind::Permission,
        (401, _) => ErrorKind::Auth,
        // The Webservice is switched off in the back office: a setting, not an outage.
        (503, "22") => ErrorKind::Permission,
        _ => error.kind,
    };
    let mut refined = ConnectorError::new(kind, message).with_http_status(status);
    if !code.is_empty() {
        refined = refined.with_platform_code(code);
    }
    if kind == error.kind {
        refined = refined.with_retry_after_ms(error.retry_after_ms);
    }
    if kind == ErrorKind::Auth {
        refined = refined.with_field(KEY_FIELD);
    }
    refined
}

pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// An id PrestaShop sends as a number (`"id": 5`) or a string (`"id_order": "5"`);
/// empty strings are 0.
pub fn de_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u64),
        Text(String),
        Null(()),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Number(id) => Ok(id),
        Raw::Null(()) => Ok(0),
        Raw::Text(text) if text.trim().is_empty() => Ok(0),
        Raw::Text(text) => text
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("{text:?} is not an id"))),
    }
}

/// A flag PrestaShop sends as `"1"`/`"0"` (or a number, or a boolean).
pub fn de_flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    let value = Value::deserialize(deserializer)?;
    Ok(match value {
        Value::Bool(flag) => flag,
        Value::Number(number) => number.as_u64().is_some_and(|n| n != 0),
        Value::String(text) => !matches!(text.trim(), "" | "0" | "false"),
        _ => false,
    })
}

/// A text field; multilingual fields (`[{"id": "1", "value": "..."}]`) give the first
/// language's value.
pub fn de_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let value = Value::deserialize(deserializer)?;
    Ok(text_of(&value))
}

pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Array(languages) => languages
            .iter()
            .find_map(|language| {
                language
                    .get("value")
                    .and_then(Value::as_str)
                    .filter(|text| !text.trim().is_empty())
            })
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}
