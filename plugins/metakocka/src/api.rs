//! Metakocka's JSON API for one company: every call is a `POST` of a JSON object that
//! carries `secret_key` and `company_id`; the answer carries `opr_code` (`"0"` is
//! success) and, on failure, `opr_desc` / `opr_desc_app`, usually with HTTP 200. So an
//! answer is checked twice: its HTTP status, then its `opr_code`.
//!
//! The request body holds the secret key: it is never logged, and error messages quote
//! only the answer (which never echoes the key).

use serde_json::{Map, Value};
use tovor_sdk::Config;
use tovor_sdk::http::{self, Request, Response};
use tovor_sdk::types::{ConnectorError, ErrorKind};

/// Metakocka's REST root; `search` and `get_document` live under `/v1`, `sync_stock`
/// and `import_inventory` outside it.
pub const DEFAULT_BASE: &str = "https://main.metakocka.si/rest/eshop";
pub const SECRET_FIELD: &str = "secret_key";
pub const COMPANY_FIELD: &str = "company_id";

/// The API root and credentials of one company.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    secret_key: String,
    company_id: String,
}

impl Api {
    pub fn new(config: &Config) -> Result<Self, ConnectorError> {
        Ok(Self {
            base: config.api_base_or(DEFAULT_BASE),
            secret_key: config.require(SECRET_FIELD)?.trim().to_owned(),
            company_id: config.require(COMPANY_FIELD)?.trim().to_owned(),
        })
    }

    pub fn company_id(&self) -> &str {
        &self.company_id
    }

    /// The request of `method` (`"v1/search"`, `"sync_stock"`) with `body` plus the
    /// credentials.
    pub fn request(&self, method: &str, mut body: Map<String, Value>) -> Request {
        body.insert(
            SECRET_FIELD.to_owned(),
            Value::String(self.secret_key.clone()),
        );
        body.insert(
            COMPANY_FIELD.to_owned(),
            Value::String(self.company_id.clone()),
        );
        Request::post(format!("{}/{method}", self.base))
            .json(&Value::Object(body))
            .timeout_ms(25_000)
    }

    /// Calls `method` and answers the checked JSON object.
    pub fn call(&self, method: &str, body: Map<String, Value>) -> Result<Value, ConnectorError> {
        check(self.request(method, body).send()?)
            .map_err(|error| error.context(format!("Metakocka {method}")))
    }

    /// Calls at once; one checked answer per request.
    pub fn call_all(&self, requests: Vec<Request>) -> Vec<Result<Value, ConnectorError>> {
        http::send_many(requests)
            .into_iter()
            .map(|answer| answer.and_then(check))
            .collect()
    }
}

/// The answer's JSON once its HTTP status and `opr_code` say it succeeded.
pub fn check(response: Response) -> Result<Value, ConnectorError> {
    let parsed: Option<Value> = serde_json::from_slice(&response.body).ok();
    // An overloaded or failing server is temporary trouble whatever its body says.
    if (response.status >= 500 || response.status == 429)
        && let Some(error) = response.error()
    {
        return Err(error);
    }
    if let Some(error) = parsed.as_ref().and_then(opr_error) {
        return Err(if response.is_success() {
            error
        } else {
            error.with_http_status(response.status)
        });
    }
    if let Some(error) = response.error() {
        return Err(error);
    }
    parsed.ok_or_else(|| ConnectorError::other("Metakocka's answer is not JSON"))
}

/// The error a Metakocka answer reports, when its `opr_code` is not `"0"`.
pub fn opr_error(answer: &Value) -> Option<ConnectorError> {
    let code = match answer.get("opr_code")? {
        Value::String(code) => code.trim().to_owned(),
        Value::Number(code) => code.to_string(),
        _ => return None,
    };
    if code == "0" {
        return None;
    }
    let text = |name: &str| {
        answer
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|text| !text.is_empty())
    };
    // `opr_desc_app` is the user-facing text where Metakocka gives one.
    let description = text("opr_desc_app")
        .or_else(|| text("opr_desc"))
        .unwrap_or("no description");
    let kind = classify(&code, description);
    let message = format!("Metakocka error {code}: {description}");
    let error = match kind {
        ErrorKind::Auth => ConnectorError::auth(format!(
            "{message} (check the company id and the API secret key)"
        ))
        .with_field(SECRET_FIELD),
        kind => ConnectorError::new(kind, message),
    };
    Some(error.with_platform_code(code))
}

/// Metakocka documents no table of `opr_code`s: it uses `"2"` for invalid parameters
/// and unknown products and `"5"` for refused stock counts. The kind is therefore read
/// from the description too (English and Slovene wording); assumed, to be checked
/// against a live account.
pub fn classify(code: &str, description: &str) -> ErrorKind {
    let text = description.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|word| text.contains(word));
    if has(&[
        "secret",
        "company_id",
        "company id",
        "not authori",
        "unauthori",
        "access denied",
        "dostop",
        "api key",
        "apikey",
    ]) {
        ErrorKind::Auth
    } else if has(&[
        "not found",
        "ne obstaja",
        "ni najden",
        "unknown document id",
    ]) {
        ErrorKind::NotFound
    } else if has(&[
        "timeout",
        "try again",
        "temporar",
        "lock",
        "maintenance",
        "internal error",
        "poskusite ponovno",
    ]) {
        ErrorKind::Transient
    } else if code == "5" {
        ErrorKind::Conflict
    } else {
        ErrorKind::InvalidInput
    }
}
