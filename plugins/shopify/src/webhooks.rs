//! Webhooks: verifying Shopify's signed deliveries, and subscribing the order topics to
//! the host's webhook URL through the REST Webhook resource (`GET`/`POST webhooks.json`,
//! `DELETE webhooks/{id}.json`).

use serde::Deserialize;
use serde_json::json;
use tovor_sdk::shop::{
    OrderHint, RegisteredWebhook, VerifiedWebhook, WebhookEvent, WebhookRequest, WebhookSetup,
};
use tovor_sdk::types::ConnectorError;
use tovor_sdk::{Config, signature};

use crate::api::{Api, check};
use crate::mapping::{self, map_order_json};

/// Order webhooks whose body is the whole order.
const ORDER_TOPICS: &[&str] = &[
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/paid",
    "orders/fulfilled",
    "orders/partially_fulfilled",
];

/// What [`register`] subscribes: creation, every change (Shopify sends `orders/updated`
/// for edits, payments, fulfilments, cancellations and refunds too) and deletion.
pub const SUBSCRIBED_TOPICS: &[&str] = &["orders/create", "orders/updated", "orders/delete"];

/// What Shopify answers (422) to a second subscription of one topic to one address.
const ALREADY_TAKEN: &str = "already been taken";

/// Checks the signature, then the shop, then says what the delivery means.
pub fn verify(
    config: &Config,
    request: &WebhookRequest,
) -> Result<VerifiedWebhook, ConnectorError> {
    // The signature first: nothing in an unsigned delivery is trusted.
    check_signature(config.require("webhook_secret")?, request)?;
    check_shop_domain(config, request)?;
    parse_webhook(request)
}

/// `X-Shopify-Hmac-Sha256: base64(HMAC-SHA256(secret, raw body))`, compared in
/// constant time.
fn check_signature(secret: &str, request: &WebhookRequest) -> Result<(), ConnectorError> {
    let header = request
        .header("x-shopify-hmac-sha256")
        .ok_or_else(|| ConnectorError::bad_signature("no X-Shopify-Hmac-Sha256 header"))?;
    if signature::verify_hmac_sha256_base64(secret, &request.body, header) {
        Ok(())
    } else {
        Err(ConnectorError::bad_signature(
            "X-Shopify-Hmac-Sha256 does not match the webhook secret",
        ))
    }
}

/// A public app signs every shop's deliveries with the same secret, so a delivery for
/// another shop would verify: refuse it when both domains are myshopify.com domains and
/// differ. (A custom domain in the config cannot be compared; the header always names
/// the myshopify.com one.)
fn check_shop_domain(config: &Config, request: &WebhookRequest) -> Result<(), ConnectorError> {
    let (Some(sent), Some(configured)) = (
        request
            .header("x-shopify-shop-domain")
            .map(mapping::normalize_domain),
        config.text("shop_domain").map(mapping::normalize_domain),
    ) else {
        return Ok(());
    };
    let both_myshopify = sent.ends_with(".myshopify.com") && configured.ends_with(".myshopify.com");
    if both_myshopify && sent != configured {
        return Err(ConnectorError::bad_signature(format!(
            "the delivery is for {sent}, not for this shop ({configured})"
        )));
    }
    Ok(())
}

/// What a verified delivery means, from `X-Shopify-Topic` and the body.
pub fn parse_webhook(request: &WebhookRequest) -> Result<VerifiedWebhook, ConnectorError> {
    let topic = request
        .header("x-shopify-topic")
        .map(|t| t.trim().to_owned())
        .ok_or_else(|| ConnectorError::invalid_input("no X-Shopify-Topic header"))?;
    #[derive(Deserialize)]
    struct IdOnly {
        id: u64,
    }
    #[derive(Deserialize)]
    struct OrderIdOnly {
        order_id: u64,
    }
    #[derive(Deserialize)]
    struct Edited {
        order_edit: OrderIdOnly,
    }
    let event = match topic.as_str() {
        t if ORDER_TOPICS.contains(&t) => {
            let IdOnly { id } = request.json()?;
            // The body is the whole order; one that does not map (fields limited by the
            // subscription, say) still names the order for the host to fetch.
            match map_order_json(&request.body) {
                Ok(order) => WebhookEvent::OrderChanged(OrderHint::with_order(order)),
                Err(error) => {
                    tovor_sdk::log::warn(format!(
                        "the {topic} delivery for order {id} does not map ({}); the host \
                         will fetch the order",
                        error.message
                    ));
                    WebhookEvent::OrderChanged(OrderHint::id(id.to_string()))
                }
            }
        }
        // The body is only a diff of the edit: the host fetches the order.
        "orders/edited" => {
            let Edited { order_edit } = request.json()?;
            WebhookEvent::OrderChanged(OrderHint::id(order_edit.order_id.to_string()))
        }
        "refunds/create" => {
            let OrderIdOnly { order_id } = request.json()?;
            WebhookEvent::OrderChanged(OrderHint::id(order_id.to_string()))
        }
        "orders/delete" => {
            let IdOnly { id } = request.json()?;
            WebhookEvent::OrderDeleted(id.to_string())
        }
        other => WebhookEvent::Ignored(format!("Shopify topic {other:?} is not used")),
    };
    Ok(VerifiedWebhook {
        // Duplicates of one event share the Event-Id; each delivery attempt has its own
        // Webhook-Id, which is the fallback.
        delivery_id: request
            .header("x-shopify-event-id")
            .or_else(|| request.header("x-shopify-webhook-id"))
            .map(str::to_owned),
        topic: Some(topic),
        event,
    })
}

/// A subscription as `GET webhooks.json` lists it.
#[derive(Debug, Deserialize)]
struct Subscription {
    id: u64,
    topic: String,
    address: String,
}

/// The shop's subscriptions delivering to `url` (`address` filter), of `topic` when
/// given.
fn subscriptions_at(
    api: &Api,
    url: &str,
    topic: Option<&str>,
) -> Result<Vec<Subscription>, ConnectorError> {
    #[derive(Deserialize)]
    struct List {
        webhooks: Vec<Subscription>,
    }
    let mut request = api
        .get("webhooks.json")
        .query_param("address", url)
        .query_param("limit", 250);
    if let Some(topic) = topic {
        request = request.query_param("topic", topic);
    }
    let list: List = api.send(request)?.json()?;
    // The filter is Shopify's; the address is compared again so a looser match on its
    // side cannot make us adopt someone else's subscription.
    Ok(list
        .webhooks
        .into_iter()
        .filter(|subscription| subscription.address.trim() == url.trim())
        .collect())
}

/// Subscribes [`SUBSCRIBED_TOPICS`] to `url`, keeping subscriptions that already exist,
/// so registering twice subscribes nothing twice.
pub fn register(config: &Config, url: &str) -> Result<WebhookSetup, ConnectorError> {
    let api = Api::new(config)?;
    let existing = subscriptions_at(&api, url, None)?;
    let mut registered = Vec::new();
    for topic in SUBSCRIBED_TOPICS {
        if let Some(subscription) = existing.iter().find(|s| s.topic == *topic) {
            registered.push(registered_webhook(subscription));
            continue;
        }
        let body = json!({ "webhook": { "topic": topic, "address": url, "format": "json" } });
        let response = api.send_unchecked(api.post("webhooks.json", &body))?;
        if response.status == 422
            && mapping::error_messages(&response.body)
                .is_some_and(|(_, message)| message.contains(ALREADY_TAKEN))
        {
            // Created meanwhile (a concurrent registration, or an earlier attempt whose
            // answer was lost): adopt it.
            let found = subscriptions_at(&api, url, Some(topic))?;
            let subscription = found.first().ok_or_else(|| {
                ConnectorError::conflict(format!(
                    "Shopify says {topic} is already subscribed to {url}, but does not list \
                     the subscription"
                ))
            })?;
            registered.push(registered_webhook(subscription));
            continue;
        }
        #[derive(Deserialize)]
        struct Created {
            webhook: Subscription,
        }
        let created: Created = check(response)?.json()?;
        registered.push(registered_webhook(&created.webhook));
    }
    Ok(WebhookSetup::Registered(registered))
}

fn registered_webhook(subscription: &Subscription) -> RegisteredWebhook {
    RegisteredWebhook {
        id: subscription.id.to_string(),
        topic: subscription.topic.clone(),
    }
}

/// Deletes the registered subscriptions, and any other subscription of
/// [`SUBSCRIBED_TOPICS`] to `url` (one the host lost track of); ones already gone (404)
/// are fine.
pub fn unregister(
    config: &Config,
    url: &str,
    registered: &[RegisteredWebhook],
) -> Result<(), ConnectorError> {
    let api = Api::new(config)?;
    let mut ids: Vec<u64> = Vec::new();
    for webhook in registered {
        match webhook.id.trim().parse::<u64>() {
            Ok(id) => ids.push(id),
            Err(_) => tovor_sdk::log::warn(format!(
                "{:?} is not a Shopify webhook id; skipping it",
                webhook.id
            )),
        }
    }
    for subscription in subscriptions_at(&api, url, None)? {
        if SUBSCRIBED_TOPICS.contains(&subscription.topic.as_str())
            && !ids.contains(&subscription.id)
        {
            ids.push(subscription.id);
        }
    }
    for id in ids {
        let response = api.send_unchecked(api.delete(&format!("webhooks/{id}.json")))?;
        if response.status != 404 {
            check(response)?;
        }
    }
    Ok(())
}
