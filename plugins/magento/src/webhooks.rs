//! Adobe Commerce webhooks (optional; polling stays the way orders arrive).
//!
//! Adobe Commerce (not Magento Open Source) can call a URL when an event happens
//! (*System › Webhooks*, or `webhooks.xml`), for example `observer.sales_order_save_after`.
//! With signature verification on (*Stores › Configuration › Adobe Services ›
//! Webhooks*, which generates a key pair), each request carries
//! `x-adobe-commerce-webhook-signature`: the base64 RSA signature (PKCS#1 v1.5,
//! SHA-256) of the raw body made with the store's private key; the public key shown
//! there goes into `webhook_public_key`.
//!
//! Assumed where Adobe's documentation is thin:
//! - the body is JSON `{"eventName": "observer.sales_order_save_after", "data":
//!   {"order": {...}}}`; the order is looked for under `data.order`,
//!   `data.data_object`, `data.entity`, `data.result` or `data` itself, by its
//!   `entity_id`. The payload's order is not taken as the order (Adobe trims payloads
//!   to the configured fields): the delivery is a hint and the host fetches the order.
//! - deliveries carry no id of their own, so duplicates are not told apart here (the
//!   host compares the order's `modified_at`, so a repeat changes nothing).
//! - Adobe's webhooks are synchronous and expect `{"op": "success"}` in the answer;
//!   the host's plain 200 is taken as success by an *after* webhook.
//!
//! Without a public key configured, deliveries are refused: nothing unverified is
//! acted on.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::RsaPublicKey;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey as _;
use rsa::sha2::Sha256;
use rsa::signature::Verifier as _;
use serde_json::Value;
use tovor_sdk::Config;
use tovor_sdk::shop::{OrderHint, VerifiedWebhook, WebhookEvent, WebhookRequest, WebhookSetup};
use tovor_sdk::types::ConnectorError;

/// The header Adobe Commerce signs deliveries in.
pub const SIGNATURE_HEADER: &str = "x-adobe-commerce-webhook-signature";
/// The config field with the public key.
pub const KEY_FIELD: &str = "webhook_public_key";

/// The public key from PEM: SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`, what the admin
/// shows) or PKCS#1 (`BEGIN RSA PUBLIC KEY`); a key pasted with literal `\n` is taken.
pub fn public_key(pem: &str) -> Result<RsaPublicKey, ConnectorError> {
    let pem = pem.trim().replace("\\n", "\n").replace("\r\n", "\n");
    RsaPublicKey::from_public_key_pem(&pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(&pem))
        .map_err(|error| {
            ConnectorError::bad_signature(format!(
                "`{KEY_FIELD}` is not an RSA public key in PEM form ({error}); paste the whole \
                 block from Stores › Configuration › Adobe Services › Webhooks"
            ))
            .with_field(KEY_FIELD)
        })
}

/// Checks the base64 RSA-SHA256 `signature` of `body`.
pub fn verify_signature(
    key: &RsaPublicKey,
    body: &[u8],
    signature: &str,
) -> Result<(), ConnectorError> {
    let bytes = STANDARD
        .decode(signature.trim())
        .map_err(|_| ConnectorError::bad_signature(format!("{SIGNATURE_HEADER} is not base64")))?;
    let signature = Signature::try_from(bytes.as_slice())
        .map_err(|_| ConnectorError::bad_signature("the signature has the wrong length"))?;
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(body, &signature)
        .map_err(|_| {
            ConnectorError::bad_signature(
                "the signature does not match the body and the configured public key",
            )
        })
}

pub fn verify(
    config: &Config,
    request: &WebhookRequest,
) -> Result<VerifiedWebhook, ConnectorError> {
    let pem = config
        .text(KEY_FIELD)
        .filter(|pem| !pem.trim().is_empty())
        .ok_or_else(|| {
            ConnectorError::bad_signature(
                "no webhook public key is configured, so deliveries cannot be verified",
            )
            .with_field(KEY_FIELD)
        })?;
    let key = public_key(pem)?;
    let signature = request.header(SIGNATURE_HEADER).ok_or_else(|| {
        ConnectorError::bad_signature(format!("the delivery has no {SIGNATURE_HEADER} header"))
    })?;
    verify_signature(&key, &request.body, signature)?;
    let body: Value = request.json()?;
    Ok(parse_event(&body))
}

/// What a verified delivery means.
pub fn parse_event(body: &Value) -> VerifiedWebhook {
    let topic = body
        .get("eventName")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let event = match order_id(body) {
        Some(id) if topic.as_deref().is_none_or(is_order_event) => {
            WebhookEvent::OrderChanged(OrderHint::id(id))
        }
        Some(_) => WebhookEvent::Ignored(format!(
            "{} is not an order event",
            topic.as_deref().unwrap_or("the delivery")
        )),
        None => WebhookEvent::Ignored("the delivery names no order (entity_id)".into()),
    };
    VerifiedWebhook {
        delivery_id: None,
        topic,
        event,
    }
}

fn is_order_event(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.contains("sales_order") || name.contains("order_repository") || name.contains(".order")
}

fn order_id(body: &Value) -> Option<String> {
    let data = body.get("data").unwrap_or(body);
    ["order", "data_object", "entity", "result"]
        .iter()
        .filter_map(|key| data.get(*key))
        .chain(std::iter::once(data))
        .find_map(|candidate| match candidate.get("entity_id") {
            Some(Value::Number(number)) => number.as_u64().map(|id| id.to_string()),
            Some(Value::String(text))
                if text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() =>
            {
                Some(text.clone())
            }
            _ => None,
        })
}

/// Adobe Commerce webhooks are set up in its admin: what to do there.
pub fn register(url: &str) -> WebhookSetup {
    WebhookSetup::Manual(format!(
        "Optional, Adobe Commerce only (orders arrive by polling anyway). In the Commerce \
         admin under System › Webhooks › Webhooks Subscriptions, add a webhook for \
         observer.sales_order_save_after (type: after) with the URL {url}. Under Stores › \
         Configuration › Adobe Services › Webhooks enable digital signature verification, \
         regenerate the key pair and copy the public key into this shop's \
         `webhook_public_key`."
    ))
}
