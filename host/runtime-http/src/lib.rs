//! The connector runtime's `http` import: every byte a plugin sends out passes through
//! here, whatever contract version it speaks (the runtime turns each version's records
//! into [`Request`] and back).
//!
//! Order of checks: request budget, URL and allow-list (rendered for the calling shop),
//! the addresses the name resolves to, then the request goes out through a client whose
//! resolver applies the same address policy again (so a DNS answer that changes between
//! our check and the connect cannot smuggle in a private address). Redirects are never
//! followed: a 3xx goes back to the plugin and a follow-up is checked like any request.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Name, Resolve, Resolving};
use tovor_egress::{AllowList, Permit};
use url::{Host, Url};

use tovor_runtime_log::{CallLabels, Redactor};

/// An outbound request as a plugin asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD`.
    pub method: String,
    /// Absolute `http` or `https` URL, query included.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// Per-request timeout; clamped to what is left of the call's time budget.
    pub timeout_ms: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why a request got no response, as the plugin is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The allow-list or the address policy refused the request; nothing was sent.
    Denied(String),
    /// The request was malformed (bad URL, bad method, bad header).
    InvalidRequest(String),
    /// No answer in time.
    Timeout,
    /// Could not connect, TLS failed, the connection broke.
    Connection(String),
    /// The response body exceeded the host's cap (bytes).
    ResponseTooLarge(u64),
    /// The call already made as many requests as the plugin's limits allow.
    RequestLimit(u32),
}

/// What went wrong with an outbound request the host made for a plugin, as the host
/// reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpFailure {
    #[error("timed out")]
    Timeout,
    #[error("connection failed: {0}")]
    Connection(String),
    #[error("response larger than {0} bytes")]
    ResponseTooLarge(u64),
    #[error("more than {0} requests in one call")]
    RequestLimit(u32),
}

/// Connect timeout for every outbound request (the per-call budget still applies).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Headers a plugin may not set: the host derives them from the URL and body.
const HOST_CONTROLLED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "proxy-authorization",
    "te",
];

/// The HTTP clients shared by all calls: one that refuses every non-global address and
/// one for allow-list entries that may reach private addresses.
#[derive(Clone)]
pub struct HttpClients {
    public_only: reqwest::Client,
    private_allowed: reqwest::Client,
}

impl HttpClients {
    pub fn new() -> Result<Self, reqwest::Error> {
        Ok(Self {
            public_only: client(false)?,
            private_allowed: client(true)?,
        })
    }

    fn for_permit(&self, permit: &Permit) -> &reqwest::Client {
        if permit.private_allowed {
            &self.private_allowed
        } else {
            &self.public_only
        }
    }
}

fn client(private_allowed: bool) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .user_agent(concat!("tovor/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(60))
        .dns_resolver(Arc::new(PolicyResolver { private_allowed }))
        .build()
}

/// Resolves names and drops the addresses the policy refuses.
struct PolicyResolver {
    private_allowed: bool,
}

/// Every address a name resolved to was refused by the policy.
#[derive(Debug, thiserror::Error)]
#[error("{name} resolves only to refused addresses ({reason})")]
struct AllAddressesRefused {
    name: String,
    reason: String,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let permit = Permit::for_resolver(self.private_allowed);
        Box::pin(async move {
            let name = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            match permitted_addresses(&resolved, &permit) {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs),
                Err(reason) => Err(Box::new(AllAddressesRefused { name, reason }).into()),
            }
        })
    }
}

/// The resolved addresses the permit allows; when none is allowed, the first refusal.
fn permitted_addresses(
    resolved: &[SocketAddr],
    permit: &Permit,
) -> Result<Vec<SocketAddr>, String> {
    let mut first_refusal = None;
    let mut permitted = Vec::with_capacity(resolved.len());
    for addr in resolved {
        match tovor_egress::check_address(addr.ip(), permit) {
            Ok(()) => permitted.push(*addr),
            Err(denied) => {
                first_refusal.get_or_insert_with(|| denied.to_string());
            }
        }
    }
    if permitted.is_empty() {
        Err(first_refusal.unwrap_or_else(|| "the name did not resolve".to_owned()))
    } else {
        Ok(permitted)
    }
}

/// A request that was refused or failed, remembered so the call's error can say what
/// really happened even if the plugin reports it vaguely.
#[derive(Debug, Clone)]
pub enum EgressFailure {
    Denied { url: String, reason: String },
    Http { url: String, failure: HttpFailure },
}

/// Egress state of one call.
pub struct Egress {
    /// Who is calling, for the log lines of refused and failed requests.
    pub labels: CallLabels,
    /// Hides the account's secrets in logged URLs.
    pub redactor: Arc<Redactor>,
    pub allow: Arc<AllowList>,
    pub clients: HttpClients,
    pub max_requests: u32,
    pub max_response_bytes: u64,
    pub deadline: Instant,
    pub requests_made: u32,
    /// Requests that passed the policy and were handed to the network: while it is 0,
    /// nothing this call did can have reached anyone.
    pub requests_sent: u32,
    pub failures: Vec<EgressFailure>,
}

impl Egress {
    /// The first request the policy refused, when nothing of the call left the host.
    pub fn denied_before_sending(&self) -> Option<(&str, &str)> {
        if self.requests_sent > 0 {
            return None;
        }
        self.failures.iter().find_map(|failure| match failure {
            EgressFailure::Denied { url, reason } => Some((url.as_str(), reason.as_str())),
            EgressFailure::Http { .. } => None,
        })
    }
}

impl Egress {
    fn record(&mut self, failure: EgressFailure) {
        let plugin = &*self.labels.plugin;
        let shop = self.labels.shop.as_deref().unwrap_or("-");
        match &failure {
            EgressFailure::Denied { url, reason } => {
                tracing::warn!(plugin, shop, url = %url, reason = %reason, "egress denied")
            }
            EgressFailure::Http { url, failure } => {
                tracing::info!(plugin, shop, url = %url, failure = %failure, "outbound request failed")
            }
        }
        // Keep the first few: that is what explains a failed call.
        if self.failures.len() < 8 {
            self.failures.push(failure);
        }
    }

    /// Checks one request and builds it; nothing is sent yet.
    async fn prepare(&mut self, request: Request) -> Result<Prepared, HttpError> {
        if self.requests_made >= self.max_requests {
            let limit = self.max_requests;
            self.record(EgressFailure::Http {
                url: request.url.clone(),
                failure: HttpFailure::RequestLimit(limit),
            });
            return Err(HttpError::RequestLimit(limit));
        }
        self.requests_made += 1;

        let url = Url::parse(&request.url)
            .map_err(|e| HttpError::InvalidRequest(format!("bad URL {:?}: {e}", request.url)))?;
        let shown_url = self.redactor.redact_url(&url);

        let permit = match self.allow.check_url(&url) {
            Ok(permit) => permit,
            Err(denied) => {
                let reason = denied.to_string();
                self.record(EgressDenied(&shown_url, &reason).into());
                return Err(HttpError::Denied(reason));
            }
        };
        if let Err(reason) = check_destination(&url, &permit).await {
            self.record(EgressDenied(&shown_url, &reason).into());
            return Err(HttpError::Denied(reason));
        }

        let remaining = self.deadline.saturating_duration_since(Instant::now());
        let timeout = request
            .timeout_ms
            .map(|ms| Duration::from_millis(u64::from(ms)).min(remaining))
            .unwrap_or(remaining);
        if timeout.is_zero() {
            self.record(EgressFailure::Http {
                url: shown_url,
                failure: HttpFailure::Timeout,
            });
            return Err(HttpError::Timeout);
        }

        let builder = build_request(self.clients.for_permit(&permit), &url, request)
            .map_err(HttpError::InvalidRequest)?
            .timeout(timeout);
        self.requests_sent += 1;
        Ok(Prepared { builder, shown_url })
    }

    /// Records what became of a sent request.
    fn finish(
        &mut self,
        shown_url: String,
        outcome: Result<Response, Outcome>,
        elapsed_ms: u64,
    ) -> Result<Response, HttpError> {
        match outcome {
            Ok(response) => {
                tracing::debug!(
                    plugin = %self.labels.plugin,
                    shop = self.labels.shop.as_deref().unwrap_or("-"),
                    url = %shown_url,
                    status = response.status,
                    elapsed_ms,
                    "outbound request"
                );
                Ok(response)
            }
            Err(Outcome::Denied(reason)) => {
                self.record(EgressDenied(&shown_url, &reason).into());
                Err(HttpError::Denied(reason))
            }
            Err(Outcome::Failed(failure)) => {
                let error = match &failure {
                    HttpFailure::Timeout => HttpError::Timeout,
                    HttpFailure::Connection(m) => HttpError::Connection(m.clone()),
                    HttpFailure::ResponseTooLarge(n) => HttpError::ResponseTooLarge(*n),
                    HttpFailure::RequestLimit(n) => HttpError::RequestLimit(*n),
                };
                self.record(EgressFailure::Http {
                    url: shown_url,
                    failure,
                });
                Err(error)
            }
        }
    }

    pub async fn send_checked(&mut self, request: Request) -> Result<Response, HttpError> {
        let prepared = self.prepare(request).await?;
        let started = Instant::now();
        let outcome = execute(prepared.builder, self.max_response_bytes).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        self.finish(prepared.shown_url, outcome, elapsed_ms)
    }

    /// Every request checked as [`Egress::send_checked`] does, in order; those that
    /// pass are sent at once and awaited together. One result per request, in order.
    pub async fn send_concurrently(
        &mut self,
        requests: Vec<Request>,
    ) -> Vec<Result<Response, HttpError>> {
        let mut prepared = Vec::with_capacity(requests.len());
        for request in requests {
            prepared.push(self.prepare(request).await);
        }
        let max_bytes = self.max_response_bytes;
        let started = Instant::now();
        let sent = prepared.into_iter().map(|prepared| async move {
            match prepared {
                Ok(Prepared { builder, shown_url }) => {
                    Ok((shown_url, execute(builder, max_bytes).await))
                }
                Err(refused) => Err(refused),
            }
        });
        let outcomes = futures::future::join_all(sent).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        outcomes
            .into_iter()
            .map(|outcome| {
                let (shown_url, outcome) = outcome?;
                self.finish(shown_url, outcome, elapsed_ms)
            })
            .collect()
    }
}

/// A request that passed every check, ready to go.
struct Prepared {
    builder: reqwest::RequestBuilder,
    shown_url: String,
}

struct EgressDenied<'a>(&'a str, &'a str);

impl From<EgressDenied<'_>> for EgressFailure {
    fn from(EgressDenied(url, reason): EgressDenied<'_>) -> Self {
        EgressFailure::Denied {
            url: url.to_owned(),
            reason: reason.to_owned(),
        }
    }
}

/// Checks the addresses the URL's host stands for, before anything is sent.
async fn check_destination(url: &Url, permit: &Permit) -> Result<(), String> {
    let port = url.port_or_known_default().unwrap_or(0);
    let ip: IpAddr = match url.host() {
        Some(Host::Ipv4(ip)) => ip.into(),
        Some(Host::Ipv6(ip)) => ip.into(),
        Some(Host::Domain(name)) => {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((name, port))
                .await
                .map_err(|e| format!("cannot resolve {name}: {e}"))?
                .collect();
            return permitted_addresses(&resolved, permit)
                .map(drop)
                .map_err(|reason| format!("{name}: {reason}"));
        }
        None => return Err("the URL has no host".to_owned()),
    };
    tovor_egress::check_address(ip, permit).map_err(|denied| denied.to_string())
}

fn build_request(
    client: &reqwest::Client,
    url: &Url,
    request: Request,
) -> Result<reqwest::RequestBuilder, String> {
    let method = reqwest::Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("bad method {:?}", request.method))?;
    let mut headers = reqwest::header::HeaderMap::with_capacity(request.headers.len());
    for (name, value) in &request.headers {
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("bad header name {name:?}"))?;
        if HOST_CONTROLLED_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let value = reqwest::header::HeaderValue::from_str(value)
            .map_err(|_| format!("bad value for header {name}"))?;
        headers.append(name, value);
    }
    let mut builder = client.request(method, url.clone()).headers(headers);
    if let Some(body) = request.body {
        builder = builder.body(body);
    }
    Ok(builder)
}

enum Outcome {
    Denied(String),
    Failed(HttpFailure),
}

async fn execute(builder: reqwest::RequestBuilder, max_bytes: u64) -> Result<Response, Outcome> {
    let mut response = builder.send().await.map_err(classify)?;
    if response.content_length().is_some_and(|len| len > max_bytes) {
        return Err(Outcome::Failed(HttpFailure::ResponseTooLarge(max_bytes)));
    }
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        if body.len() as u64 + chunk.len() as u64 > max_bytes {
            return Err(Outcome::Failed(HttpFailure::ResponseTooLarge(max_bytes)));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn classify(error: reqwest::Error) -> Outcome {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<AllAddressesRefused>() {
            return Outcome::Denied(refused.to_string());
        }
        source = cause.source();
    }
    if error.is_timeout() {
        return Outcome::Failed(HttpFailure::Timeout);
    }
    Outcome::Failed(HttpFailure::Connection(error_chain(&error)))
}

/// `outer: inner: innermost`, the way a person wants to read a connection failure.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
