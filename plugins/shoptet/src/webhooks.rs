//! Webhooks: verifying Shoptet's signed notifications, and registering the order events
//! to the host's webhook address (`POST /api/webhooks`, `DELETE /api/webhooks/{id}`).
//!
//! **Signature.** `Shoptet-Webhook-Signature` is the lowercase hex HMAC-SHA1 of the raw
//! body under the installation's signature key. That key is not something the merchant
//! copies: `POST /api/webhooks/renew-signature-key` makes a new one on every call, so
//! registration asks for one and keeps it (sealed) in connector state. Without a kept
//! key nothing verifies.
//!
//! **Events.** A notification is `{eshopId, event, eventCreated, eventInstance}`; the
//! instance of an order event is the order code, and the host fetches the order. There
//! is no event id, so the delivery id is built from all four fields: a retry of the
//! same event has the same one. Mass events (`order:massCreate`, `order:massUpdate`,
//! `order:massPaid`) carry a JSON list of codes in `eventInstance`: each code is an
//! order to fetch, but a delivery answers one event, so the first is answered and the
//! rest are kept in state for the next `list-orders`, which fetches them first.
//!
//! **What is registered.** `order:create`, `order:update`, `order:paid`, `order:delete`,
//! `order:massCreate`, `order:massUpdate`. `order:update` covers cancellations, status
//! changes and edits, and Shoptet refuses it together with `order:cancel` (409), so
//! `order:cancel` is not registered; `order:paid` only fires on the unpaid → paid step
//! and is cheap to have; `order:massPaid` is left out as `order:paid` is sent per order
//! too. Shoptet allows one URL per event and installation, so a registration already
//! pointing elsewhere (an earlier address of this shop) is moved to ours.

use serde::Deserialize;
use serde_json::json;
use tovor_sdk::shop::{
    OrderHint, RegisteredWebhook, VerifiedWebhook, WebhookEvent, WebhookRequest, WebhookSetup,
};
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::ConnectorError;
use tovor_sdk::{Config, signature, state};

use crate::api::{Api, envelope_errors};

/// The events [`register`] subscribes; see the module.
pub const SUBSCRIBED_EVENTS: &[&str] = &[
    "order:create",
    "order:update",
    "order:paid",
    "order:delete",
    "order:massCreate",
    "order:massUpdate",
];
/// The signature header.
pub const SIGNATURE_HEADER: &str = "shoptet-webhook-signature";
/// The state key of the signature key.
pub const SIGNATURE_KEY_STATE: &str = "webhook-signature-key";
/// The state key of the e-shop id learned at registration.
pub const ESHOP_ID_STATE: &str = "eshop-id";
/// The state key of order codes from mass events still to fetch.
pub const PENDING_CODES_STATE: &str = "pending-order-codes";
/// The most codes kept for the next listing.
const MAX_PENDING: usize = 500;

/// A notification's body.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub eshop_id: serde_json::Value,
    pub event: String,
    #[serde(default)]
    pub event_created: Option<String>,
    #[serde(default)]
    pub event_instance: serde_json::Value,
}

impl Notification {
    pub fn eshop_id(&self) -> String {
        json_text(&self.eshop_id)
    }

    pub fn instance(&self) -> String {
        json_text(&self.event_instance)
    }

    /// The delivery id: Shoptet sends none, so the event's own fields make one.
    pub fn delivery_id(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.eshop_id(),
            self.event,
            self.instance(),
            self.event_created.as_deref().unwrap_or_default()
        )
    }

    /// The order codes a mass event names (`eventInstance` is a JSON list, possibly
    /// serialized into a string).
    pub fn mass_codes(&self) -> Result<Vec<String>, ConnectorError> {
        let list = match &self.event_instance {
            serde_json::Value::Array(list) => list.clone(),
            serde_json::Value::String(text) => serde_json::from_str(text).map_err(|error| {
                ConnectorError::invalid_input(format!(
                    "the {} event's instance is not a list of codes: {error}",
                    self.event
                ))
            })?,
            other => {
                return Err(ConnectorError::invalid_input(format!(
                    "the {} event's instance is not a list of codes: {other}",
                    self.event
                )));
            }
        };
        Ok(list
            .iter()
            .map(json_text)
            .filter(|code| !code.is_empty())
            .collect())
    }
}

fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.trim().to_owned(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Checks the signature against the kept key, then says what the delivery means.
pub fn verify(
    _config: &Config,
    request: &WebhookRequest,
) -> Result<VerifiedWebhook, ConnectorError> {
    let key = state::get_text(SIGNATURE_KEY_STATE)?.ok_or_else(|| {
        ConnectorError::bad_signature(
            "no webhook signature key is kept for this e-shop: register the webhooks \
             (tovor does when the shop is added or enabled)",
        )
    })?;
    check_signature(key.trim(), request)?;
    let notification: Notification = request.json()?;
    check_age(&notification, tovor_sdk::time::now())?;
    if let Ok(Some(known)) = state::get_text(ESHOP_ID_STATE)
        && !known.trim().is_empty()
        && known.trim() != notification.eshop_id()
    {
        return Err(ConnectorError::bad_signature(format!(
            "the notification is for e-shop {}, not for this one ({})",
            notification.eshop_id(),
            known.trim()
        )));
    }
    interpret(&notification)
}

/// The oldest notification taken, by its `eventCreated`. Shoptet signs only the body,
/// so a captured notification verifies forever; but Shoptet gives up on a notification
/// within the hour (three attempts, 15 minutes apart) and then deactivates the webhook,
/// so one created a day ago can only be a replay.
pub const MAX_AGE_SECONDS: i64 = 24 * 60 * 60;

/// Refuses a notification created more than [`MAX_AGE_SECONDS`] before `now`, as a
/// replay. One without `eventCreated` (no current notification lacks it) passes: the
/// delivery id still stops a repeat.
pub fn check_age(notification: &Notification, now: OffsetDateTime) -> Result<(), ConnectorError> {
    let Some(created) = notification.event_created.as_deref() else {
        return Ok(());
    };
    let created = tovor_sdk::time::parse_rfc3339(created).map_err(|_| {
        ConnectorError::bad_signature(format!(
            "the notification's eventCreated {created:?} is not a time"
        ))
    })?;
    if (now - created).whole_seconds() > MAX_AGE_SECONDS {
        return Err(ConnectorError::bad_signature(format!(
            "the notification was created at {}, more than a day ago: Shoptet stops \
             retrying within the hour, so this is a replay",
            tovor_sdk::time::format_utc(created)
        )));
    }
    Ok(())
}

/// `Shoptet-Webhook-Signature: hex(HMAC-SHA1(key, raw body))`, compared in constant time.
pub fn check_signature(key: &str, request: &WebhookRequest) -> Result<(), ConnectorError> {
    let header = request
        .header(SIGNATURE_HEADER)
        .ok_or_else(|| ConnectorError::bad_signature("no Shoptet-Webhook-Signature header"))?;
    if signature::verify_hmac_sha1_hex(key, &request.body, header) {
        Ok(())
    } else {
        Err(ConnectorError::bad_signature(
            "Shoptet-Webhook-Signature does not match the signature key",
        ))
    }
}

/// What a verified notification means; mass events keep all but their first code for
/// the next listing.
pub fn interpret(notification: &Notification) -> Result<VerifiedWebhook, ConnectorError> {
    let event = match notification.event.as_str() {
        "order:create" | "order:update" | "order:paid" | "order:cancel" => {
            let code = notification.instance();
            if code.is_empty() {
                return Err(ConnectorError::invalid_input(format!(
                    "the {} notification names no order",
                    notification.event
                )));
            }
            WebhookEvent::OrderChanged(OrderHint::id(code))
        }
        "order:delete" => WebhookEvent::OrderDeleted(notification.instance()),
        "order:massCreate" | "order:massUpdate" | "order:massPaid" => {
            let codes = notification.mass_codes()?;
            match codes.split_first() {
                Some((first, rest)) => {
                    keep_pending(rest);
                    WebhookEvent::OrderChanged(OrderHint::id(first.clone()))
                }
                None => WebhookEvent::Ignored(format!("{} names no orders", notification.event)),
            }
        }
        other => WebhookEvent::Ignored(format!("Shoptet event {other:?} is not used")),
    };
    Ok(VerifiedWebhook {
        delivery_id: Some(notification.delivery_id()),
        topic: Some(notification.event.clone()),
        event,
    })
}

/// The codes of a mass event, as separate order hints.
pub fn mass_hints(notification: &Notification) -> Result<Vec<OrderHint>, ConnectorError> {
    Ok(notification
        .mass_codes()?
        .into_iter()
        .map(OrderHint::id)
        .collect())
}

/// Adds codes to those the next listing fetches first.
fn keep_pending(codes: &[String]) {
    if codes.is_empty() {
        return;
    }
    let mut pending = pending_codes();
    for code in codes {
        if !pending.contains(code) {
            pending.push(code.clone());
        }
    }
    let start = pending.len().saturating_sub(MAX_PENDING);
    if let Err(error) = state::set_json(PENDING_CODES_STATE, &pending[start..]) {
        // The host's regular sync finds these orders by their change time anyway.
        tovor_sdk::log::warn(format!(
            "cannot keep {} order codes of a mass event: {}",
            codes.len(),
            error.message
        ));
    }
}

/// The codes mass events left for the next listing.
pub fn pending_codes() -> Vec<String> {
    state::get_json::<Vec<String>>(PENDING_CODES_STATE)
        .ok()
        .flatten()
        .unwrap_or_default()
}

pub fn clear_pending() {
    if let Err(error) = state::delete(PENDING_CODES_STATE) {
        tovor_sdk::log::debug(format!("cannot clear pending codes: {}", error.message));
    }
}

/// A registration as Shoptet lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct Registration {
    pub id: i64,
    pub event: String,
    pub url: String,
}

fn registrations(api: &Api) -> Result<Vec<Registration>, ConnectorError> {
    #[derive(Deserialize)]
    struct Data {
        webhooks: Vec<Registration>,
        paginator: crate::mapping::Paginator,
    }
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let response = api.send(
            api.get("/api/webhooks")
                .query_param("itemsPerPage", 500)
                .query_param("page", page),
        )?;
        let envelope: crate::api::Envelope<Data> = response.json()?;
        let Some(data) = envelope.data else {
            break;
        };
        all.extend(data.webhooks);
        match crate::mapping::next_page(&data.paginator) {
            Some(next) if next <= 20 => page = next,
            _ => break,
        }
    }
    Ok(all)
}

/// Registers [`SUBSCRIBED_EVENTS`] to `url`, keeping what is registered already, and
/// renews the signature key (kept in state).
pub fn register(config: &Config, url: &str) -> Result<WebhookSetup, ConnectorError> {
    let api = Api::new(config)?;
    remember_eshop_id(&api);
    let existing = registrations(&api)?;
    let mut registered = Vec::new();
    let mut missing = Vec::new();
    for event in SUBSCRIBED_EVENTS {
        match existing.iter().find(|hook| hook.event == *event) {
            Some(hook) if hook.url.trim() == url.trim() => {
                registered.push(registered_webhook(hook))
            }
            Some(hook) => {
                // One URL per event and installation: an older address of this shop.
                api.send(api.patch(
                    &format!("/api/webhooks/{}", hook.id),
                    &json!({ "data": { "url": url } }),
                ))?;
                registered.push(RegisteredWebhook {
                    id: hook.id.to_string(),
                    topic: hook.event.clone(),
                });
            }
            None => missing.push(*event),
        }
    }
    if !missing.is_empty() {
        let body = json!({
            "data": missing
                .iter()
                .map(|event| json!({ "event": event, "url": url }))
                .collect::<Vec<_>>()
        });
        let response = api.send_unchecked(api.post("/api/webhooks", &body))?;
        if response.status == 422
            && envelope_errors(&response.body).iter().any(|error| {
                error
                    .message
                    .as_deref()
                    .is_some_and(|message| message.contains("already exists"))
            })
        {
            // Registered meanwhile (an earlier attempt whose answer was lost): adopt.
            for hook in registrations(&api)? {
                if missing.contains(&hook.event.as_str()) && hook.url.trim() == url.trim() {
                    registered.push(registered_webhook(&hook));
                }
            }
        } else {
            #[derive(Deserialize)]
            struct Data {
                webhooks: Vec<Registration>,
            }
            let envelope: crate::api::Envelope<Data> = api.check(response)?.json()?;
            for hook in envelope.data.map(|data| data.webhooks).unwrap_or_default() {
                registered.push(registered_webhook(&hook));
            }
        }
    }
    renew_signature_key(&api)?;
    Ok(WebhookSetup::Registered(registered))
}

/// A new signature key, kept in state: deliveries signed with the old one fail from now.
pub fn renew_signature_key(api: &Api) -> Result<(), ConnectorError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        signature_key: String,
    }
    let envelope: crate::api::Envelope<Data> = api
        .send(api.post("/api/webhooks/renew-signature-key", &json!({})))?
        .json()?;
    let key = envelope
        .data
        .map(|data| data.signature_key)
        .filter(|key| !key.trim().is_empty())
        .ok_or_else(|| ConnectorError::other("Shoptet gave no signature key"))?;
    state::set_sealed(SIGNATURE_KEY_STATE, key.trim())
}

fn remember_eshop_id(api: &Api) {
    let id = crate::connection::eshop_info(api)
        .ok()
        .and_then(|info| info.eshop_id)
        .map(|id| json_text(&id))
        .filter(|id| !id.is_empty());
    if let Some(id) = id
        && let Err(error) = state::set_text(ESHOP_ID_STATE, &id)
    {
        tovor_sdk::log::debug(format!("cannot keep the e-shop id: {}", error.message));
    }
}

fn registered_webhook(hook: &Registration) -> RegisteredWebhook {
    RegisteredWebhook {
        id: hook.id.to_string(),
        topic: hook.event.clone(),
    }
}

/// Deletes the registered webhooks and any other of [`SUBSCRIBED_EVENTS`] to `url`;
/// ones already gone (404) are fine.
pub fn unregister(
    config: &Config,
    url: &str,
    registered: &[RegisteredWebhook],
) -> Result<(), ConnectorError> {
    let api = Api::new(config)?;
    let mut ids: Vec<i64> = registered
        .iter()
        .filter_map(|hook| hook.id.trim().parse().ok())
        .collect();
    for hook in registrations(&api)? {
        if SUBSCRIBED_EVENTS.contains(&hook.event.as_str())
            && hook.url.trim() == url.trim()
            && !ids.contains(&hook.id)
        {
            ids.push(hook.id);
        }
    }
    for id in ids {
        let response = api.send_unchecked(api.delete(&format!("/api/webhooks/{id}")))?;
        if response.status != 404 {
            api.check(response)?;
        }
    }
    Ok(())
}
