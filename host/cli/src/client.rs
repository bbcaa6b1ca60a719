//! A small client for a running tovor's HTTP API (`/api/v1`).
//!
//! Every call answers the response body as JSON (`null` for `204 No Content`), except
//! the downloads ([`Client::get_bytes`], [`Client::post_bytes`]) that answer the bytes and
//! their content type (labels); an error answer (`{"error": {"code", "message",
//! "field"?}}`) becomes an [`ApiError`], shown as `<message> (field <field>)`.

use std::fmt;
use std::path::Path;

use anyhow::Context;
use reqwest::Method;
use serde_json::Value;
use url::Url;

/// The global options of the commands that talk to a running tovor.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Connection")]
pub struct ApiOptions {
    /// Address of the running tovor.
    #[arg(
        long,
        global = true,
        env = "TOVOR_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
    /// API token: a company's token, or the admin token for companies and plugins.
    /// Defaults to `<data-dir>/admin-token` when that file exists.
    #[arg(long, global = true, env = "TOVOR_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The data folder of a local `tovor serve`, where the admin token is kept.
    #[arg(
        long,
        global = true,
        env = "TOVOR_DATA_DIR",
        default_value = "tovor-data"
    )]
    pub data_dir: std::path::PathBuf,
    /// Print the API's JSON answers instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

impl ApiOptions {
    /// A client for `--url` with the token from `--token`, `TOVOR_TOKEN`,
    /// `<data-dir>/admin-token` or `TOVOR_ADMIN_TOKEN`, in that order.
    pub fn client(&self) -> anyhow::Result<Client> {
        let token = match &self.token {
            Some(token) if !token.trim().is_empty() => Some(token.trim().to_owned()),
            _ => token_from_data_dir(&self.data_dir)?.or_else(|| {
                std::env::var("TOVOR_ADMIN_TOKEN")
                    .ok()
                    .filter(|token| !token.trim().is_empty())
            }),
        };
        Client::new(&self.url, token)
    }
}

fn token_from_data_dir(data_dir: &Path) -> anyhow::Result<Option<String>> {
    let path = data_dir.join("admin-token");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().to_owned()).filter(|token| !token.is_empty())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// An error answer of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(field) = &self.field {
            write!(f, " (field {field})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// The error a failed answer carries: the API's `{"error": ...}` body when it has one,
    /// else the status and whatever text came back.
    pub fn from_body(status: u16, body: &[u8]) -> Self {
        let detail = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|value| value.get("error").cloned())
            .filter(Value::is_object);
        match detail {
            Some(detail) => Self {
                status,
                code: detail["code"].as_str().unwrap_or("error").to_owned(),
                message: detail["message"]
                    .as_str()
                    .map_or_else(|| format!("HTTP {status}"), str::to_owned),
                field: detail["field"].as_str().map(str::to_owned),
            },
            None => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                Self {
                    status,
                    code: "http".to_owned(),
                    message: if text.is_empty() {
                        format!("HTTP {status}")
                    } else {
                        format!("HTTP {status}: {}", shorten(text, 300))
                    },
                    field: None,
                }
            }
        }
    }
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max_chars).collect();
        short.push('…');
        short
    }
}

/// A successful answer as it came: its status, content type and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// The `Content-Type` header without parameters (`application/pdf`), when given.
    pub content_type: Option<String>,
    /// The file name the service suggests (`Content-Disposition`), when it does.
    pub disposition: Option<String>,
    pub bytes: Vec<u8>,
}

impl Answer {
    /// The suggested file name, reduced to its last path part so a download never
    /// lands outside the current directory.
    pub fn filename(&self) -> Option<String> {
        let value = self.disposition.as_deref()?;
        let name = value.split(';').find_map(|part| {
            part.trim()
                .strip_prefix("filename=")
                .map(|name| name.trim_matches('"').to_owned())
        })?;
        let name = name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or_default()
            .to_owned();
        (!name.is_empty() && name != "." && name != "..").then_some(name)
    }
}

/// Talks to one tovor.
#[derive(Debug, Clone)]
pub struct Client {
    base: Url,
    token: Option<String>,
    http: reqwest::Client,
}

impl Client {
    /// A client for the tovor at `base` (`http://127.0.0.1:8080`, possibly with a path
    /// prefix when it sits behind a proxy).
    pub fn new(base: &str, token: Option<String>) -> anyhow::Result<Self> {
        let base = Url::parse(base.trim()).with_context(|| format!("--url {base:?}"))?;
        anyhow::ensure!(
            matches!(base.scheme(), "http" | "https") && base.has_host(),
            "--url {base}: must be an http:// or https:// address"
        );
        let http = reqwest::Client::builder()
            .user_agent(concat!("tovor-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(300))
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(Self { base, token, http })
    }

    /// The address of `/api/v1/<segments...>` with `query`; each segment is
    /// percent-encoded, so ids and codes may hold any text.
    pub fn url(&self, segments: &[&str], query: &[(&str, String)]) -> anyhow::Result<Url> {
        let mut url = self.base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| anyhow::anyhow!("--url {}: cannot hold a path", self.base))?;
            path.pop_if_empty().extend(["api", "v1"]).extend(segments);
        }
        url.set_query(None);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(key, value)| (*key, value.as_str())));
        }
        Ok(url)
    }

    pub async fn get(&self, segments: &[&str], query: &[(&str, String)]) -> anyhow::Result<Value> {
        self.send(Method::GET, self.url(segments, query)?, None)
            .await
    }

    pub async fn post(&self, segments: &[&str], body: Option<&Value>) -> anyhow::Result<Value> {
        self.send(Method::POST, self.url(segments, &[])?, body)
            .await
    }

    pub async fn patch(&self, segments: &[&str], body: &Value) -> anyhow::Result<Value> {
        self.send(Method::PATCH, self.url(segments, &[])?, Some(body))
            .await
    }

    pub async fn put(&self, segments: &[&str], body: &Value) -> anyhow::Result<Value> {
        self.send(Method::PUT, self.url(segments, &[])?, Some(body))
            .await
    }

    /// `POST` answering the status with the JSON body, for routes whose success
    /// statuses mean different things (`201` created, `202` accepted and still going).
    pub async fn post_with_status(
        &self,
        segments: &[&str],
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let url = self.url(segments, &[])?;
        let answer = self.exchange(Method::POST, url.clone(), body).await?;
        let value = json_of(&Method::POST, &url, &answer.bytes)?;
        Ok((answer.status, value))
    }

    /// `GET` of a download (a label, a PDF): the bytes as they came, with their content
    /// type.
    pub async fn get_bytes(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> anyhow::Result<Answer> {
        self.exchange(Method::GET, self.url(segments, query)?, None)
            .await
    }

    /// `PUT` of raw bytes with their content type (a logo).
    pub async fn put_bytes(
        &self,
        segments: &[&str],
        content_type: &str,
        bytes: Vec<u8>,
    ) -> anyhow::Result<Answer> {
        let content_type = content_type.to_owned();
        self.exchange_with(Method::PUT, self.url(segments, &[])?, |request| {
            request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(bytes)
        })
        .await
    }

    pub async fn delete(&self, segments: &[&str]) -> anyhow::Result<Answer> {
        self.exchange(Method::DELETE, self.url(segments, &[])?, None)
            .await
    }

    /// `POST` answering a download (merged labels).
    pub async fn post_bytes(&self, segments: &[&str], body: &Value) -> anyhow::Result<Answer> {
        self.exchange(Method::POST, self.url(segments, &[])?, Some(body))
            .await
    }

    async fn send(&self, method: Method, url: Url, body: Option<&Value>) -> anyhow::Result<Value> {
        let answer = self.exchange(method.clone(), url.clone(), body).await?;
        json_of(&method, &url, &answer.bytes)
    }

    /// `POST` of a multipart form (a plugin upload), answering JSON.
    pub async fn post_form(
        &self,
        segments: &[&str],
        form: reqwest::multipart::Form,
    ) -> anyhow::Result<Value> {
        let url = self.url(segments, &[])?;
        let answer = self
            .exchange_with(Method::POST, url.clone(), |request| request.multipart(form))
            .await?;
        json_of(&Method::POST, &url, &answer.bytes)
    }

    /// Sends one request; an unsuccessful status becomes an [`ApiError`].
    async fn exchange(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> anyhow::Result<Answer> {
        self.exchange_with(method, url, |request| match body {
            Some(body) => request.json(body),
            None => request,
        })
        .await
    }

    /// [`Client::exchange`] with the body set by `with_body`.
    async fn exchange_with(
        &self,
        method: Method,
        url: Url,
        with_body: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> anyhow::Result<Answer> {
        let mut request = self.http.request(method.clone(), url.clone());
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request = with_body(request);
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach tovor at {}", self.base))?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(media_type);
        let disposition = response
            .headers()
            .get(reqwest::header::CONTENT_DISPOSITION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .bytes()
            .await
            .with_context(|| format!("{method} {}: the answer broke off", url.path()))?;
        if !status.is_success() {
            let mut error = ApiError::from_body(status.as_u16(), &bytes);
            if status == reqwest::StatusCode::UNAUTHORIZED && self.token.is_none() {
                error.message.push_str(
                    "; no token was given: pass --token or set TOVOR_TOKEN \
                     (the admin token is kept in <data-dir>/admin-token)",
                );
            }
            return Err(error.into());
        }
        Ok(Answer {
            status: status.as_u16(),
            content_type,
            disposition,
            bytes: bytes.to_vec(),
        })
    }
}

/// The body of a JSON answer (`null` when empty).
fn json_of(method: &Method, url: &Url, bytes: &[u8]) -> anyhow::Result<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes).with_context(|| {
        format!(
            "{method} {}: the answer is not JSON: {}",
            url.path(),
            shorten(&String::from_utf8_lossy(bytes), 200)
        )
    })
}

/// `application/pdf; charset=...` → `application/pdf`, lower case.
fn media_type(header: &str) -> String {
    header
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn api_errors_show_message_and_field() {
        let error = ApiError::from_body(
            400,
            br#"{"error": {"code": "bad_request", "message": "must be on_hand or available", "field": "stock_mode"}}"#,
        );
        assert_eq!(error.code, "bad_request");
        assert_eq!(
            error.to_string(),
            "must be on_hand or available (field stock_mode)"
        );
        let error = ApiError::from_body(
            404,
            br#"{"error": {"code": "not_found", "message": "no shop 9"}}"#,
        );
        assert_eq!(error.to_string(), "no shop 9");
        assert_eq!(error.field, None);
    }

    #[test]
    fn other_error_bodies_keep_the_status() {
        assert_eq!(
            ApiError::from_body(502, b"Bad Gateway").to_string(),
            "HTTP 502: Bad Gateway"
        );
        assert_eq!(ApiError::from_body(503, b"").to_string(), "HTTP 503");
    }

    #[test]
    fn urls_encode_segments_and_keep_a_prefix() {
        let client = Client::new("http://127.0.0.1:8080", None).unwrap();
        let url = client
            .url(
                &["shops", "3", "payment-methods", "cash on/delivery"],
                &[("state", "failed".into())],
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/api/v1/shops/3/payment-methods/cash%20on%2Fdelivery?state=failed"
        );
        let client = Client::new("https://erp.example/tovor/", None).unwrap();
        assert_eq!(
            client.url(&["orders"], &[]).unwrap().as_str(),
            "https://erp.example/tovor/api/v1/orders"
        );
    }

    #[tokio::test]
    async fn downloads_keep_their_bytes_and_content_type() {
        use axum::http::{StatusCode, header};
        use axum::routing::{get, post};

        let pdf: &[u8] = b"%PDF-1.7\n\x00\xff binary";
        let app = axum::Router::new()
            .route(
                "/api/v1/shipments/1/label",
                get(move || async move {
                    ([(header::CONTENT_TYPE, "application/pdf")], pdf.to_vec())
                }),
            )
            .route(
                "/api/v1/labels",
                post(|| async {
                    (
                        StatusCode::BAD_REQUEST,
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"error": {"code": "bad_request", "message": "give 1 to 2000 shipments", "field": "shipment_ids"}}"#,
                    )
                }),
            )
            .route(
                "/api/v1/orders/1/shipments",
                post(|| async { (StatusCode::ACCEPTED, axum::Json(serde_json::json!({"id": 5}))) }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = Client::new(&format!("http://{addr}"), Some("t".into())).unwrap();

        let label = client
            .get_bytes(&["shipments", "1", "label"], &[])
            .await
            .unwrap();
        assert_eq!(label.bytes, pdf);
        assert_eq!(label.content_type.as_deref(), Some("application/pdf"));
        assert_eq!(label.status, 200);
        let error = client
            .post_bytes(&["labels"], &serde_json::json!({"shipment_ids": []}))
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "give 1 to 2000 shipments (field shipment_ids)"
        );
        let (status, body) = client
            .post_with_status(&["orders", "1", "shipments"], None)
            .await
            .unwrap();
        assert_eq!((status, body), (202, serde_json::json!({"id": 5})));
    }

    #[test]
    fn media_types_lose_their_parameters() {
        assert_eq!(media_type("application/pdf"), "application/pdf");
        assert_eq!(
            media_type("Application/JSON; charset=utf-8"),
            "application/json"
        );
    }

    #[test]
    fn only_http_urls() {
        assert!(Client::new("ftp://example.org", None).is_err());
        assert!(Client::new("not a url", None).is_err());
    }

    #[test]
    fn the_admin_token_file_is_read_when_present() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(token_from_data_dir(dir.path()).unwrap(), None);
        std::fs::write(dir.path().join("admin-token"), "abc123\n").unwrap();
        assert_eq!(
            token_from_data_dir(dir.path()).unwrap().as_deref(),
            Some("abc123")
        );
    }
}
