//! Webhooks: Wix posts each event as one JWT (the whole body), signed RS256 with the
//! app's key pair; the app's public key (PEM) is in the config.
//!
//! The decoded token holds `data` (a JSON string, or an already parsed object: both are
//! accepted), `iat` and `exp`. `data` holds `eventType`, `instanceId`, `identity` (a JSON
//! string) and `data`: again a JSON string, with the event's `id` (what duplicates share),
//! `entityFqdn`, `slug`, `entityId`, and `createdEvent{entity | entityAsJson}`,
//! `updatedEvent{currentEntity | currentEntityAsJson}` or `actionEvent{body |
//! bodyAsJson}`.
//!
//! Wix has no API to subscribe webhooks: they are added in the app's dashboard, so
//! [`register`] answers with what to do there.

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use rsa::RsaPublicKey;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey as _;
use rsa::sha2::Sha256;
use rsa::signature::Verifier as _;
use serde_json::Value;
use tovor_sdk::Config;
use tovor_sdk::shop::{
    OrderHint, RegisteredWebhook, VerifiedWebhook, WebhookEvent, WebhookRequest, WebhookSetup,
};
use tovor_sdk::types::ConnectorError;

use crate::mapping::text;

/// How far `iat` may be ahead of, and `exp` behind, this host's clock.
pub const LEEWAY_SECONDS: i64 = 60;

/// The order events this connector acts on.
pub const ORDER_EVENTS: &[&str] = &[
    "wix.ecom.v1.order_created",
    "wix.ecom.v1.order_updated",
    "wix.ecom.v1.order_canceled",
    "wix.ecom.v1.order_approved",
];

/// Verifies the delivery's token against `webhook_public_key`, then says what it means.
pub fn verify(
    config: &Config,
    request: &WebhookRequest,
) -> Result<VerifiedWebhook, ConnectorError> {
    let key = public_key(config.require("webhook_public_key")?)?;
    let now = tovor_sdk::time::now().unix_timestamp();
    let claims = verify_jwt(&key, &request.body, now)?;
    parse_event(config.text("instance_id"), &claims)
}

/// The public key from PEM: SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`, what Wix shows)
/// or PKCS#1 (`BEGIN RSA PUBLIC KEY`). A key pasted with literal `\n` is accepted. A
/// key that does not parse fails as `bad-signature` naming the field: nothing can be
/// verified with it, so nothing is accepted.
pub fn public_key(pem: &str) -> Result<RsaPublicKey, ConnectorError> {
    let pem = pem.trim().replace("\\n", "\n").replace("\r\n", "\n");
    RsaPublicKey::from_public_key_pem(&pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(&pem))
        .map_err(|error| {
            ConnectorError::bad_signature(format!(
                "`webhook_public_key` is not an RSA public key in PEM form ({error}); paste \
                 the whole block from the app dashboard, -----BEGIN PUBLIC KEY----- included"
            ))
            .with_field("webhook_public_key")
        })
}

fn base64url(part: &str, what: &str) -> Result<Vec<u8>, ConnectorError> {
    URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(part))
        .map_err(|_| ConnectorError::bad_signature(format!("the token's {what} is not base64url")))
}

/// Checks a compact JWS: three base64url parts, header `alg` exactly `RS256` (no
/// `none`, no HMAC with the public key as secret), the RSASSA-PKCS1-v1_5 SHA-256
/// signature over `header.payload`, then `exp` and `iat` against `now` (Unix seconds)
/// with [`LEEWAY_SECONDS`]. Returns the claims.
pub fn verify_jwt(key: &RsaPublicKey, body: &[u8], now: i64) -> Result<Value, ConnectorError> {
    let token = std::str::from_utf8(body)
        .map_err(|_| ConnectorError::bad_signature("the body is not a JWT (not UTF-8)"))?
        .trim()
        .trim_matches('"');
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ConnectorError::bad_signature(
            "the body is not a signed JWT (three dot-separated parts)",
        ));
    };
    let header_json: Value = serde_json::from_slice(&base64url(header, "header")?)
        .map_err(|_| ConnectorError::bad_signature("the token's header is not JSON"))?;
    match header_json["alg"].as_str() {
        Some("RS256") => {}
        other => {
            return Err(ConnectorError::bad_signature(format!(
                "the token is signed with {}, not RS256",
                other.unwrap_or("no algorithm")
            )));
        }
    }
    let signature = Signature::try_from(base64url(signature, "signature")?.as_slice())
        .map_err(|_| ConnectorError::bad_signature("the token's signature is malformed"))?;
    let signed = &token[..header.len() + 1 + payload.len()];
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| {
            ConnectorError::bad_signature(
                "the token's signature does not match `webhook_public_key`",
            )
        })?;
    let claims: Value = serde_json::from_slice(&base64url(payload, "payload")?)
        .map_err(|_| ConnectorError::bad_signature("the token's payload is not JSON"))?;
    let exp = claims["exp"].as_i64();
    let iat = claims["iat"].as_i64();
    if exp.is_none() && iat.is_none() {
        return Err(ConnectorError::bad_signature(
            "the token has neither exp nor iat: it could be replayed forever",
        ));
    }
    if let Some(exp) = exp
        && now > exp + LEEWAY_SECONDS
    {
        return Err(ConnectorError::bad_signature(format!(
            "the token expired {} s ago (a replay, or a delivery retried too late)",
            now - exp
        )));
    }
    if let Some(iat) = iat
        && iat > now + LEEWAY_SECONDS
    {
        return Err(ConnectorError::bad_signature(format!(
            "the token was issued {} s in the future; check the clock",
            iat - now
        )));
    }
    Ok(claims)
}

/// A claim that is a JSON string holding JSON, or the JSON itself.
fn nested(value: &Value, what: &str) -> Result<Value, ConnectorError> {
    match value {
        Value::String(text) => serde_json::from_str(text).map_err(|error| {
            ConnectorError::invalid_input(format!("the webhook's {what} is not JSON: {error}"))
        }),
        Value::Object(_) => Ok(value.clone()),
        Value::Null => Ok(Value::Null),
        other => Err(ConnectorError::invalid_input(format!(
            "the webhook's {what} is {other}, not an object"
        ))),
    }
}

/// What verified claims mean.
pub fn parse_event(
    instance: Option<&str>,
    claims: &Value,
) -> Result<VerifiedWebhook, ConnectorError> {
    let envelope = nested(&claims["data"], "data claim")?;
    let event_type = text(&envelope["eventType"]).unwrap_or_default();
    if let (Some(expected), Some(sent)) = (instance.map(str::trim), text(&envelope["instanceId"]))
        && !expected.is_empty()
        && expected != sent
    {
        return Err(ConnectorError::bad_signature(format!(
            "the delivery is for app instance {sent}, not this site's ({expected})"
        )));
    }
    let event = nested(&envelope["data"], "event data")?;
    let delivery_id = text(&event["id"]);
    let topic = (!event_type.is_empty()).then(|| event_type.clone());
    if !ORDER_EVENTS.contains(&event_type.as_str()) {
        return Ok(VerifiedWebhook {
            delivery_id,
            topic,
            event: WebhookEvent::Ignored(format!("Wix event {event_type:?} is not an order event")),
        });
    }
    let entity = entity_of(&event)?;
    let order_id = text(&event["entityId"])
        .or_else(|| text(&entity["id"]))
        .or_else(|| text(&entity["order"]["id"]))
        .or_else(|| text(&entity["orderId"]))
        .ok_or_else(|| {
            ConnectorError::invalid_input(format!("the {event_type} event names no order"))
        })?;
    let order = if entity["order"].is_object() {
        &entity["order"]
    } else {
        &entity
    };
    // Wix never lists INITIALIZED orders (checkouts not yet placed); an event about
    // one says nothing the host could import, and order_approved follows.
    let event = if order["status"].as_str() == Some("INITIALIZED") {
        WebhookEvent::Ignored(format!("order {order_id} is not placed yet (INITIALIZED)"))
    } else {
        // The host fetches the order (with its transactions) by id: the payload has no
        // payment method and may be older than what Wix has now.
        WebhookEvent::OrderChanged(OrderHint::id(order_id))
    };
    Ok(VerifiedWebhook {
        delivery_id,
        topic,
        event,
    })
}

/// The entity an event carries, from whichever of Wix's shapes it uses.
fn entity_of(event: &Value) -> Result<Value, ConnectorError> {
    for (outer, inner) in [
        ("createdEvent", "entity"),
        ("createdEvent", "entityAsJson"),
        ("updatedEvent", "currentEntity"),
        ("updatedEvent", "currentEntityAsJson"),
        ("actionEvent", "body"),
        ("actionEvent", "bodyAsJson"),
    ] {
        let value = &event[outer][inner];
        if !value.is_null() {
            return nested(value, inner);
        }
    }
    Ok(Value::Null)
}

/// Wix has no API for it: the instructions for the app dashboard.
pub fn register(url: &str) -> WebhookSetup {
    WebhookSetup::Manual(format!(
        "Wix has no API to subscribe webhooks. In your app's dashboard on dev.wix.com, \
         open Webhooks and add these eCommerce events with the callback URL {url}: \
         Order Created (wix.ecom.v1.order_created), Order Updated \
         (wix.ecom.v1.order_updated), Order Approved (wix.ecom.v1.order_approved) and \
         Order Canceled (wix.ecom.v1.order_canceled). Then copy the app's public key \
         (Webhooks › Get Public Key) into this shop's `webhook_public_key`. Until then, \
         orders arrive by the regular sync."
    ))
}

/// Nothing was registered, so nothing to remove.
pub fn unregister(_registered: &[RegisteredWebhook]) {}
