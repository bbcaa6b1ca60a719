//! Metakocka's webhook: stock changes (`X-MetaKocka-Event:
//! warehouse_product_stock_update`), with `X-MetaKocka-Id` (a unique event id) and
//! `X-MetaKocka-Signature`, documented as "hash body value (HmacSHA1) with
//! client_secret value and then Base64": the base64 HMAC-SHA1 of the raw body under the
//! webhook's `client_secret`. Metakocka wants a JSON answer with
//! `"check_respond_status_json_ok": "true"`, else it tries twice more, 60 s apart.
//!
//! Metakocka sends no order events, and the contract's webhook events are about
//! orders: a verified stock delivery is answered as a [`WebhookEvent::Ping`] carrying
//! the answer Metakocka expects (an `ignored` event would be answered with an empty
//! body, which Metakocka takes as a failure and repeats). tovor is the stock's master,
//! so the amounts are not used. Assumed, unconfirmed against a live account: the
//! signature is over the exact body bytes, in standard base64 with padding.

use tovor_sdk::Config;
use tovor_sdk::shop::{VerifiedWebhook, WebhookEvent, WebhookRequest};
use tovor_sdk::signature::verify_hmac_sha1_base64;
use tovor_sdk::types::ConnectorError;

pub const SECRET_FIELD: &str = "webhook_secret";
/// The answer Metakocka requires.
pub const ANSWER: &str = r#"{"check_respond_status_json_ok":"true"}"#;

pub fn verify(
    config: &Config,
    request: &WebhookRequest,
) -> Result<VerifiedWebhook, ConnectorError> {
    let secret = config
        .text(SECRET_FIELD)
        .map(str::trim)
        .filter(|secret| !secret.is_empty())
        .ok_or_else(|| {
            ConnectorError::bad_signature(
                "no webhook client secret is set, so Metakocka's deliveries cannot be checked",
            )
        })?;
    let signature = request
        .header("x-metakocka-signature")
        .ok_or_else(|| ConnectorError::bad_signature("no X-MetaKocka-Signature header"))?;
    if !verify_hmac_sha1_base64(secret, &request.body, signature.trim()) {
        return Err(ConnectorError::bad_signature(
            "X-MetaKocka-Signature does not match the body under the client secret",
        ));
    }
    let topic = request.header("x-metakocka-event").map(str::to_owned);
    Ok(VerifiedWebhook {
        delivery_id: request.header("x-metakocka-id").map(str::to_owned),
        topic,
        event: WebhookEvent::Ping(Some(ANSWER.to_owned())),
    })
}

/// What the user sets up in Metakocka.
pub fn instructions(url: &str) -> String {
    format!(
        "In Metakocka, add a webhook for stock changes (warehouse_product_stock_update) with \
         the URL {url} and a client secret, and enter the same client secret here as the \
         webhook client secret. Orders are read from Metakocka every few minutes; the \
         webhook only confirms that Metakocka can reach tovor."
    )
}
