//! WooCommerce webhooks: verifying deliveries, and subscribing our URL to the order
//! topics through `/webhooks`.

use serde_json::{Value, json};
use tovor_sdk::shop::{
    OrderHint, RegisteredWebhook, VerifiedWebhook, WebhookEvent, WebhookRequest,
};
use tovor_sdk::signature;
use tovor_sdk::types::{ConnectorError, ErrorKind};

use crate::api::Api;
use crate::woo;

/// The order topics we subscribe to: each maps to an event in [`verify`].
/// (`order.restored` is an order taken out of the trash.)
pub const TOPICS: [&str; 4] = [
    "order.created",
    "order.updated",
    "order.deleted",
    "order.restored",
];

/// Checks and parses a delivery. The activation ping (`webhook_id=N`, unsigned, no
/// `X-WC-*` headers) is answered; anything else must carry a valid signature.
pub fn verify(secret: &str, request: &WebhookRequest) -> Result<VerifiedWebhook, ConnectorError> {
    let topic = request.header("x-wc-webhook-topic").map(str::to_owned);
    let Some(signature_header) = request.header("x-wc-webhook-signature") else {
        if topic.is_none() && is_ping(&request.body) {
            return Ok(VerifiedWebhook {
                delivery_id: None,
                topic: None,
                event: WebhookEvent::Ping(None),
            });
        }
        return Err(ConnectorError::bad_signature(
            "no X-WC-Webhook-Signature header",
        ));
    };
    if !signature::verify_hmac_sha256_base64(secret, &request.body, signature_header) {
        return Err(ConnectorError::bad_signature(
            "X-WC-Webhook-Signature does not match the webhook secret",
        ));
    }
    let event = match topic.as_deref() {
        Some("order.created" | "order.updated" | "order.restored") => {
            let order = woo::parse_order(&request.body).map_err(|error| {
                ConnectorError::invalid_input(format!(
                    "the webhook body is not an order: {}",
                    error.message
                ))
            })?;
            if order.refunds.is_empty() {
                WebhookEvent::OrderChanged(OrderHint::with_order(woo::map_order(order)?))
            } else {
                // The payload lists refunds without their lines, and refunded lines
                // change what is left to deliver: the host fetches the whole order.
                WebhookEvent::OrderChanged(OrderHint::id(order.id.to_string()))
            }
        }
        Some("order.deleted") => {
            let body: Value = request.json()?;
            let id = woo::json_id(&body["id"])
                .ok_or_else(|| ConnectorError::invalid_input("order.deleted without an id"))?;
            WebhookEvent::OrderDeleted(id.to_string())
        }
        Some(other) => WebhookEvent::Ignored(format!("WooCommerce topic {other:?} is not used")),
        None => WebhookEvent::Ignored("a signed delivery without X-WC-Webhook-Topic".into()),
    };
    Ok(VerifiedWebhook {
        delivery_id: request
            .header("x-wc-webhook-delivery-id")
            .map(str::to_owned),
        topic,
        event,
    })
}

/// `webhook_id=<digits>` and nothing else.
pub fn is_ping(body: &[u8]) -> bool {
    std::str::from_utf8(body)
        .ok()
        .map(str::trim)
        .and_then(|body| body.strip_prefix("webhook_id="))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// Subscribes [`TOPICS`] to `url`, signed with `secret`. A topic already subscribed to
/// `url` keeps its webhook, which is set active again (WooCommerce disables one after
/// repeated failed deliveries) and given the current secret; extra copies of it are
/// removed. So registering twice subscribes once.
pub fn register(
    api: &Api,
    secret: &str,
    url: &str,
) -> Result<Vec<RegisteredWebhook>, ConnectorError> {
    let url = delivery_url(url)?;
    let existing: Vec<woo::WooWebhook> = api.get_all("/webhooks", &[])?;
    let mut registered = Vec::with_capacity(TOPICS.len());
    for topic in TOPICS {
        let mut ours = existing
            .iter()
            .filter(|webhook| webhook.topic == topic && same_url(&webhook.delivery_url, url));
        let id = match ours.next() {
            Some(kept) => {
                api.send(
                    "PUT",
                    &webhook_path(kept.id),
                    &[],
                    Some(&json!({ "status": "active", "secret": secret })),
                )?;
                for duplicate in ours {
                    delete(api, duplicate.id)?;
                }
                kept.id
            }
            None => {
                let created: woo::WooWebhook = api
                    .send(
                        "POST",
                        "/webhooks",
                        &[],
                        Some(&json!({
                            "name": format!("tovor: {topic}"),
                            "topic": topic,
                            "delivery_url": url,
                            "secret": secret,
                            "status": "active",
                        })),
                    )?
                    .json()?;
                created.id
            }
        };
        registered.push(RegisteredWebhook {
            id: id.to_string(),
            topic: topic.to_owned(),
        });
    }
    Ok(registered)
}

/// Deletes the webhooks we registered, then any other still delivering to `url`.
/// Webhooks already gone are fine.
pub fn unregister(
    api: &Api,
    url: &str,
    registered: &[RegisteredWebhook],
) -> Result<(), ConnectorError> {
    let url = delivery_url(url)?;
    for webhook in registered {
        match webhook.id.trim().parse::<u64>() {
            Ok(id) => delete(api, id)?,
            // Not one of ours (our ids are WooCommerce's numbers): nothing to delete.
            Err(_) => tovor_sdk::warn!(
                "ignoring the registered webhook {:?}: not a WooCommerce id",
                webhook.id
            ),
        }
    }
    let remaining: Vec<woo::WooWebhook> = api.get_all("/webhooks", &[])?;
    for webhook in remaining
        .iter()
        .filter(|webhook| same_url(&webhook.delivery_url, url))
    {
        delete(api, webhook.id)?;
    }
    Ok(())
}

/// `DELETE /webhooks/{id}?force=true` (webhooks cannot be trashed); one already gone is
/// not an error.
fn delete(api: &Api, id: u64) -> Result<(), ConnectorError> {
    match api.send(
        "DELETE",
        &webhook_path(id),
        &[("force", "true".to_owned())],
        None,
    ) {
        Ok(_) => Ok(()),
        Err(error) if error.is(ErrorKind::NotFound) => Ok(()),
        Err(error) => Err(error.context(format!("deleting webhook {id}"))),
    }
}

fn webhook_path(id: u64) -> String {
    format!("/webhooks/{id}")
}

/// The host's webhook URL, checked as WooCommerce checks `delivery_url`.
fn delivery_url(url: &str) -> Result<&str, ConnectorError> {
    let url = url.trim();
    let scheme = url.split("://").next().unwrap_or_default();
    if url.contains("://")
        && (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
    {
        Ok(url)
    } else {
        Err(ConnectorError::invalid_input(format!(
            "{url:?} is not an http:// or https:// webhook address"
        )))
    }
}

/// Whether WooCommerce's stored `delivery_url` is `url`: WordPress may change the case
/// of scheme and host or drop a trailing `/` when it sanitizes the address.
pub fn same_url(stored: &str, url: &str) -> bool {
    fn normalized(url: &str) -> String {
        let url = url.trim().trim_end_matches('/');
        match url.split_once("://") {
            Some((scheme, rest)) => {
                let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                format!(
                    "{}://{}{path}",
                    scheme.to_ascii_lowercase(),
                    host.to_ascii_lowercase()
                )
            }
            None => url.to_owned(),
        }
    }
    normalized(stored) == normalized(url)
}
