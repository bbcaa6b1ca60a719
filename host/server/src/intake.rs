//! Webhook intake: `POST /hooks/{key}`.
//!
//! The shop's connector verifies the signature and parses the delivery; a verified
//! delivery is written to the inbox and only then answered 200, so a delivery the shop
//! saw accepted survives any crash. Writes from concurrent requests are grouped into
//! one transaction (group commit): one commit, one fsync, for many deliveries.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{Extensions, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use governor::clock::DefaultClock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tovor_domain::order::NormalizedOrder;
use tovor_runtime::ErrorKind;
use tovor_runtime::model::{WebhookEvent, WebhookRequest};
use tovor_runtime::{CallError, Lane};
use tovor_store::Store;
use tovor_store::inbox::{DeliveryState, NewDelivery};

use crate::api::error::ApiError;
use crate::api::extract::ApiPath;
use crate::connectors::{IntakeShop, shop_client_in};
use crate::metrics;
use crate::state::AppState;

/// A stored delivery's meaning: what the inbox worker acts on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboxEvent {
    /// The order changed; `order` is the payload's version when it carried one.
    OrderChanged {
        id: String,
        order: Option<Box<NormalizedOrder>>,
    },
    OrderDeleted {
        id: String,
    },
}

/// Deliveries waiting for the writer, at most this many per transaction.
const GROUP_COMMIT_MAX: usize = 512;

type Pending = (NewDelivery, oneshot::Sender<Result<(), String>>);

/// The handlers' side of the group-commit writer.
pub struct IntakeSender {
    queue: mpsc::Sender<Pending>,
    closed: CancellationToken,
}

/// The writer task's side.
pub struct IntakeWriter {
    queue: mpsc::Receiver<Pending>,
    closed: CancellationToken,
    store: Store,
}

pub fn channel(store: Store) -> (IntakeSender, IntakeWriter) {
    let (tx, rx) = mpsc::channel(GROUP_COMMIT_MAX * 8);
    let closed = CancellationToken::new();
    (
        IntakeSender {
            queue: tx,
            closed: closed.clone(),
        },
        IntakeWriter {
            queue: rx,
            closed,
            store,
        },
    )
}

impl IntakeSender {
    /// Stores one delivery durably, together with whatever else arrived meanwhile.
    pub async fn store(&self, delivery: NewDelivery) -> Result<(), String> {
        let (done, result) = oneshot::channel();
        self.queue
            .send((delivery, done))
            .await
            .map_err(|_| "the intake is shutting down".to_owned())?;
        result
            .await
            .map_err(|_| "the intake writer stopped".to_owned())?
    }

    /// Lets the writer finish what is queued and stop.
    pub fn close(&self) {
        self.closed.cancel();
    }
}

impl IntakeWriter {
    pub async fn run(mut self, state: Arc<AppState>) {
        loop {
            let first = tokio::select! {
                biased;
                next = self.queue.recv() => next,
                () = self.closed.cancelled() => {
                    self.queue.close();
                    self.queue.recv().await
                }
            };
            let Some(first) = first else { break };
            let mut batch = vec![first];
            while batch.len() < GROUP_COMMIT_MAX {
                match self.queue.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            self.commit(batch, &state).await;
        }
    }

    async fn commit(&self, batch: Vec<Pending>, state: &AppState) {
        let (deliveries, waiters): (Vec<NewDelivery>, Vec<_>) = batch.into_iter().unzip();
        let result = self
            .store
            .store_deliveries(&deliveries, OffsetDateTime::now_utc())
            .await;
        match &result {
            Ok(inserted) => {
                let total = deliveries.len() as u64;
                metrics::webhooks("accepted", *inserted);
                metrics::webhooks("duplicate", total.saturating_sub(*inserted));
                state.wake.inbox.notify_one();
            }
            Err(error) => {
                tracing::error!(%error, count = deliveries.len(), "cannot store webhook deliveries")
            }
        }
        let outcome = result.map(drop).map_err(|error| error.to_string());
        for waiter in waiters {
            let _ = waiter.send(outcome.clone());
        }
    }
}

async fn resolve(state: &AppState, key: &str) -> Result<Option<Arc<IntakeShop>>, ApiError> {
    if let Some(shop) = state.shops.get(key) {
        return Ok(Some(shop));
    }
    if !state.shops.may_be_webhook_key(&state.store, key).await? {
        return Ok(None);
    }
    let Some(shop) = state.store.shop_by_webhook_key(key).await? else {
        return Ok(None);
    };
    let client = if shop.settings.is_custom() {
        None
    } else {
        // The platform waits for the answer: its calls never queue behind background work.
        Some(shop_client_in(state, &shop, Lane::Intake)?)
    };
    let resolved = Arc::new(IntakeShop {
        company: shop.company,
        shop: shop.id,
        plugin_id: shop.settings.plugin_id.clone(),
        client,
    });
    state.shops.put(key, resolved.clone());
    Ok(Some(resolved))
}

/// Deliveries to unknown webhook keys allowed per client address: a burst, then a
/// steady trickle. Shops never hit it (their keys are known); a scanner guessing keys does.
const UNKNOWN_KEY_BURST: u32 = 30;
const UNKNOWN_KEYS_PER_SECOND: u32 = 2;

/// Limits, per client address, how often an unknown webhook key is answered.
pub struct UnknownKeyLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl Default for UnknownKeyLimiter {
    fn default() -> Self {
        let per_second = NonZeroU32::new(UNKNOWN_KEYS_PER_SECOND).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(UNKNOWN_KEY_BURST).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)),
        }
    }
}

impl UnknownKeyLimiter {
    /// Whether `client` may get another "unknown key" answer now; otherwise how long it
    /// has to wait.
    fn check(&self, client: IpAddr) -> Result<(), Duration> {
        if self.limiter.len() > 100_000 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&client).map_err(|not_until| {
            not_until.wait_time_from(governor::clock::Clock::now(&DefaultClock::default()))
        })
    }
}

/// A shop platform's webhook delivery. Register the shop's `webhook_url` (this route
/// with the shop's key) in the platform. The body and headers are the platform's own:
/// WooCommerce posts the order JSON signed in `X-WC-Webhook-Signature` (and first a
/// form-encoded `webhook_id=N` ping), Shopify posts the order JSON signed in
/// `X-Shopify-Hmac-Sha256` with `X-Shopify-Event-Id`, other connectors as their manifest
/// says. The shop's connector checks the signature; a verified delivery is stored
/// before the 200.
#[utoipa::path(post, path = "/hooks/{key}", tag = "webhooks", security(()),
    params(("key" = String, Path, description = "the shop's webhook key, from its `webhook_url`")),
    request_body(description = "the platform's delivery, as it sends it",
        content((Object = "application/json"), (String = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "stored (`ok`), kept for inspection when signed but unreadable, a ping answered as the platform expects, or ignored", content_type = "text/plain", body = String),
        (status = 401, description = "the signature does not match (`bad_signature`)", body = crate::api::error::ErrorBody),
        (status = 404, description = "no shop has this key, or the shop is a custom platform", body = crate::api::error::ErrorBody),
        (status = 429, description = "too many deliveries to unknown keys from this address (`rate_limited`, with `Retry-After`)", body = crate::api::error::ErrorBody),
        (status = 503, description = "the delivery could not be verified or stored now; the platform should send it again", body = crate::api::error::ErrorBody)))]
pub async fn receive(
    State(state): State<Arc<AppState>>,
    ApiPath(key): ApiPath<String>,
    method: Method,
    RawQuery(query): RawQuery,
    extensions: Extensions,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Without connect info (a router served without it) all clients share one budget.
    let client = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
    match handle(&state, &key, client, method, query, headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn handle(
    state: &AppState,
    key: &str,
    client: IpAddr,
    method: Method,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(shop) = resolve(state, key).await? else {
        if let Err(wait) = state.unknown_keys.check(client) {
            metrics::webhook("rate_limited");
            let seconds = wait.as_secs().max(1);
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many deliveries to unknown webhook URLs; wait {seconds} s"),
            )
            .into_response();
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
            return Ok(response);
        }
        metrics::webhook("unknown_shop");
        return Err(ApiError::not_found("no shop has this webhook URL"));
    };
    let Some(client) = &shop.client else {
        metrics::webhook("unknown_shop");
        return Err(ApiError::not_found(
            "this shop is a custom platform: send orders to /api/v1/shops/{id}/orders",
        ));
    };
    let request = WebhookRequest {
        method: method.as_str().to_owned(),
        headers: headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        query: query.unwrap_or_default(),
        body: body.to_vec(),
    };
    let verified = client.verify_webhook(&request).await;
    metrics::plugin_call(&shop.plugin_id, "verify-webhook", verified.is_ok());
    let verified = match verified {
        Ok(verified) => verified,
        Err(CallError::Connector { error, .. }) if error.kind == ErrorKind::BadSignature => {
            let reason = error.message;
            metrics::webhook("rejected");
            tracing::warn!(shop = %shop.shop, %reason, "webhook rejected: bad signature");
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_signature",
                "the webhook signature does not match",
            ));
        }
        Err(CallError::Connector { error: problem, .. })
            if problem.kind == ErrorKind::InvalidInput =>
        {
            // The connector checks the signature first, so this delivery is genuine but
            // unreadable: keep it for inspection and tell the platform it arrived.
            let message = problem.message.clone();
            keep_malformed(state, &shop, &request, &message).await?;
            return Ok((StatusCode::OK, "kept for inspection").into_response());
        }
        Err(error) => {
            metrics::webhook("failed");
            tracing::error!(shop = %shop.shop, %error, "webhook verification failed");
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the delivery could not be verified now; send it again",
            ));
        }
    };
    let event = match verified.event {
        WebhookEvent::Ping(reply) => {
            metrics::webhook("ping");
            return Ok((StatusCode::OK, reply.unwrap_or_default()).into_response());
        }
        WebhookEvent::Ignored(reason) => {
            metrics::webhook("ignored");
            tracing::debug!(shop = %shop.shop, %reason, "webhook ignored");
            return Ok(StatusCode::OK.into_response());
        }
        WebhookEvent::OrderDeleted(id) => InboxEvent::OrderDeleted { id },
        WebhookEvent::OrderChanged(hint) => {
            let order = match hint.order.transpose() {
                Ok(order) => order,
                Err(error) => {
                    keep_malformed(state, &shop, &request, &error.to_string()).await?;
                    return Ok((StatusCode::OK, "kept for inspection").into_response());
                }
            };
            InboxEvent::OrderChanged { id: hint.id, order }
        }
    };
    let delivery = NewDelivery {
        company: shop.company,
        shop: shop.shop,
        delivery_id: verified.delivery_id,
        topic: verified.topic,
        event: serde_json::to_string(&event)
            .map_err(|error| ApiError::internal(error.to_string()))?,
        body: None,
        state: DeliveryState::Pending,
        error: None,
    };
    state.intake.store(delivery).await.map_err(|message| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    })?;
    Ok((StatusCode::OK, "ok").into_response())
}

async fn keep_malformed(
    state: &AppState,
    shop: &IntakeShop,
    request: &WebhookRequest,
    problem: &str,
) -> Result<(), ApiError> {
    metrics::webhook("malformed");
    tracing::warn!(shop = %shop.shop, %problem, "webhook kept as malformed");
    let delivery = NewDelivery {
        company: shop.company,
        shop: shop.shop,
        delivery_id: None,
        topic: None,
        event: "{}".into(),
        body: Some(request.body.clone()),
        state: DeliveryState::Malformed,
        error: Some(problem.to_owned()),
    };
    state
        .intake
        .store(delivery)
        .await
        .map_err(|message| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message))
}
