//! Webhooks: BigCommerce's signed deliveries (Standard Webhooks), and subscribing the
//! order scopes to the host's URL through `/v3/hooks`.
//!
//! **Signature.** Each delivery carries `webhook-id`, `webhook-timestamp` (unix seconds)
//! and `webhook-signature`: space-separated `v1,<base64>` entries, each the HMAC-SHA256
//! of `{webhook-id}.{webhook-timestamp}.{raw body}`. Standard Webhooks libraries take a
//! base64 secret; BigCommerce's documentation passes them the base64 of the app's
//! client secret, so the HMAC key is the client secret's own bytes. One matching entry
//! is enough (several appear while a secret is rotated). A timestamp more than
//! [`TOLERANCE_SECONDS`] away from now is refused, so a captured delivery cannot be
//! replayed later; the signature covers the timestamp, so it cannot be refreshed.
//!
//! **Store.** An app's client secret signs the deliveries of every store that installed
//! it, so a delivery whose `producer` names another store (`stores/{store_hash}`) is
//! refused too.
//!
//! **Payload.** `{"scope": "store/order/created", "store_id": "...", "data": {"type":
//! "order", "id": 250}, "hash": "...", "created_at": ..., "producer": "stores/abc"}`:
//! only the order id, so the delivery is an order hint and the host fetches the order.
//! Duplicates: a retried delivery keeps its `webhook-id`; `hash` (the same for the same
//! event) is the fallback.

use serde::Deserialize;
use serde_json::{Value, json};
use tovor_sdk::shop::{
    OrderHint, RegisteredWebhook, VerifiedWebhook, WebhookEvent, WebhookRequest, WebhookSetup,
};
use tovor_sdk::types::ConnectorError;
use tovor_sdk::{Config, signature};

use crate::api::Api;
use crate::mapping;

pub const SECRET_FIELD: &str = "client_secret";
/// How far a delivery's timestamp may be from now.
pub const TOLERANCE_SECONDS: i64 = 5 * 60;
/// What [`register`] subscribes.
pub const SCOPES: &[&str] = &[
    "store/order/created",
    "store/order/updated",
    "store/order/statusUpdated",
    "store/order/archived",
];

/// Checks the Standard Webhooks signature of `{id}.{timestamp}.{body}` with `secret`
/// (its bytes are the key) and the timestamp against `now` (unix seconds).
pub fn check_signature(
    secret: &str,
    request: &WebhookRequest,
    now: i64,
) -> Result<(), ConnectorError> {
    let header = |name: &str| {
        request
            .header(name)
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| ConnectorError::bad_signature(format!("no {name} header")))
    };
    let id = header("webhook-id")?;
    let timestamp = header("webhook-timestamp")?;
    let signatures = header("webhook-signature")?;
    let sent: i64 = timestamp
        .parse()
        .map_err(|_| ConnectorError::bad_signature("webhook-timestamp is not unix seconds"))?;
    if (now - sent).abs() > TOLERANCE_SECONDS {
        return Err(ConnectorError::bad_signature(format!(
            "webhook-timestamp {sent} is more than {TOLERANCE_SECONDS} s from now ({now}): \
             refused as a possible replay"
        )));
    }
    let mut signed = Vec::with_capacity(id.len() + timestamp.len() + 2 + request.body.len());
    signed.extend_from_slice(id.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(timestamp.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(&request.body);
    let expected = signature::hmac_sha256_base64(secret.as_bytes(), &signed);
    let matches = signatures
        .split_ascii_whitespace()
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .any(|(_, value)| signature::constant_time_eq(value.as_bytes(), expected.as_bytes()));
    if matches {
        Ok(())
    } else {
        Err(ConnectorError::bad_signature(
            "no webhook-signature entry matches the body and the app's client secret",
        ))
    }
}

#[derive(Debug, Deserialize)]
struct Payload {
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    data: Value,
    #[serde(default)]
    hash: Option<String>,
    #[serde(default)]
    producer: Option<String>,
}

pub fn verify(
    config: &Config,
    request: &WebhookRequest,
) -> Result<VerifiedWebhook, ConnectorError> {
    let secret = config.require(SECRET_FIELD)?;
    check_signature(secret, request, tovor_sdk::time::now().unix_timestamp())?;
    parse(config, request)
}

/// What a verified delivery means.
pub fn parse(config: &Config, request: &WebhookRequest) -> Result<VerifiedWebhook, ConnectorError> {
    let payload: Payload = request.json()?;
    if let (Some(producer), Some(hash)) = (payload.producer.as_deref(), config.text("store_hash")) {
        let sent = producer.trim().trim_start_matches("stores/");
        if !sent.eq_ignore_ascii_case(hash.trim()) {
            return Err(ConnectorError::bad_signature(format!(
                "the delivery is from store {sent:?}, not this one ({:?})",
                hash.trim()
            )));
        }
    }
    let scope = payload.scope.clone().unwrap_or_default();
    let id = mapping::data_id(&payload.data);
    let event = match (scope.as_str(), id) {
        ("store/order/archived", Some(id)) => WebhookEvent::OrderDeleted(id.to_string()),
        (scope, Some(id)) if scope.starts_with("store/order/") => {
            WebhookEvent::OrderChanged(OrderHint::id(id.to_string()))
        }
        (scope, _) => WebhookEvent::Ignored(format!("BigCommerce scope {scope:?} is not used")),
    };
    Ok(VerifiedWebhook {
        delivery_id: request
            .header("webhook-id")
            .map(str::to_owned)
            .or(payload.hash),
        topic: Some(scope),
        event,
    })
}

/// A hook as `/v3/hooks` has it.
#[derive(Debug, Deserialize)]
struct Hook {
    id: u64,
    scope: String,
    destination: String,
    #[serde(default)]
    is_active: bool,
}

fn hooks_at(api: &Api, url: &str) -> Result<Vec<Hook>, ConnectorError> {
    #[derive(Deserialize)]
    struct List {
        data: Vec<Hook>,
    }
    let list: List = api
        .get("/v3/hooks", &[("destination", url.to_owned())])?
        .json()?;
    Ok(list
        .data
        .into_iter()
        .filter(|hook| hook.destination.trim() == url.trim())
        .collect())
}

/// Subscribes [`SCOPES`] to `url`, adopting hooks that already deliver there (and
/// switching them on when BigCommerce deactivated them after failed deliveries).
pub fn register(config: &Config, url: &str) -> Result<WebhookSetup, ConnectorError> {
    let api = Api::new(config)?;
    let existing = hooks_at(&api, url)?;
    let mut registered = Vec::new();
    for scope in SCOPES {
        if let Some(hook) = existing.iter().find(|hook| hook.scope == *scope) {
            if !hook.is_active {
                api.send_json(
                    "PUT",
                    &format!("/v3/hooks/{}", hook.id),
                    &json!({ "is_active": true }),
                )?;
            }
            registered.push(RegisteredWebhook {
                id: hook.id.to_string(),
                topic: hook.scope.clone(),
            });
            continue;
        }
        #[derive(Deserialize)]
        struct Created {
            data: Hook,
        }
        let body = json!({
            "scope": scope,
            "destination": url,
            "is_active": true,
            "headers": {},
        });
        let created: Created = api.send_json("POST", "/v3/hooks", &body)?.json()?;
        registered.push(RegisteredWebhook {
            id: created.data.id.to_string(),
            topic: created.data.scope,
        });
    }
    Ok(WebhookSetup::Registered(registered))
}

/// Deletes the registered hooks and any other of [`SCOPES`] at `url`; ones already
/// gone are fine.
pub fn unregister(
    config: &Config,
    url: &str,
    registered: &[RegisteredWebhook],
) -> Result<(), ConnectorError> {
    let api = Api::new(config)?;
    let mut ids: Vec<u64> = registered
        .iter()
        .filter_map(|hook| hook.id.trim().parse().ok())
        .collect();
    for hook in hooks_at(&api, url)? {
        if SCOPES.contains(&hook.scope.as_str()) && !ids.contains(&hook.id) {
            ids.push(hook.id);
        }
    }
    for id in ids {
        match api.send(api.request("DELETE", &format!("/v3/hooks/{id}"))) {
            Ok(_) => {}
            Err(error) if error.http_status == Some(404) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}
