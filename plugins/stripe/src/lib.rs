//! A shop connector for Stripe invoicing, on contract 0.2: a paid invoice or a completed
//! Checkout Session becomes an order to invoice locally.
//!
//! | Stripe | capability: operation |
//! |---|---|
//! | `GET /v1/invoices?status=paid&created[gte]=…`, then `GET /v1/checkout/sessions?status=complete&created[gte]=…`, `starting_after`/`has_more` | `orders`: `list_orders` |
//! | `GET /v1/invoices/{id}` (+ `/lines` pages), `GET /v1/checkout/sessions/{id}` (+ `/line_items`), `GET /v1/payment_intents/{id}`, `GET /v1/refunds?payment_intent=` | `orders`: `get_order` |
//! | `Stripe-Signature` signed `POST` to our webhook URL | `webhooks`: `verify_webhook` |
//! | `GET`/`POST /v1/webhook_endpoints`, `DELETE /v1/webhook_endpoints/{id}` | `webhooks`: `register_webhooks`, `unregister_webhooks` |
//! | `GET /v1/refunds?payment_intent=` | `refunds`: `list_refunds` |
//! | `GET /v1/account` (or `GET /v1/balance` for restricted keys) | `connection` |
//!
//! Stripe keeps no stock and ships nothing, so there is no `inventory`, `catalog` or
//! `fulfillment` capability; its invoices cannot be cancelled once paid, so there are no
//! status changes either.
//!
//! **Listing.** Stripe has no "changed since" filter: invoices are listed by `created`,
//! looking [`INVOICE_LOOKBACK_DAYS`] back from the host's `changed_since`, because an
//! invoice is often paid weeks after it was created (net-30 terms); sessions complete
//! within a day of creation but delayed payment methods settle later, hence
//! [`SESSION_LOOKBACK_DAYS`]. The host recognises orders it already has.

pub mod api;
pub mod mapping;
pub mod orders;
pub mod webhooks;

use serde::Deserialize;
use tovor_sdk::Config;
use tovor_sdk::shop::{
    Connection, ConnectionInfo, OrderPage, Orders, Refunds, RegisteredWebhook, VerifiedWebhook,
    WebhookRequest, WebhookSetup, Webhooks,
};
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{ConnectorError, ErrorKind, Order, Refund};

use api::Api;
use mapping::{Invoice, List, Session};

/// Orders per page: each needs two more requests (payment intent, refunds).
pub const PAGE_SIZE: u32 = 25;
/// How far before `changed_since` invoices are listed by creation time.
pub const INVOICE_LOOKBACK_DAYS: i64 = 35;
/// How far before `changed_since` Checkout Sessions are listed by creation time.
pub const SESSION_LOOKBACK_DAYS: i64 = 14;

/// The connector; it holds nothing between calls.
pub struct Stripe;

/// Where a listing is: in the invoices or the sessions, after which id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    Invoices(Option<String>),
    Sessions(Option<String>),
}

impl Cursor {
    /// `in:`, `in:{id}`, `cs:`, `cs:{id}`; anything else starts over.
    pub fn parse(text: Option<&str>) -> Self {
        let text = text.map(str::trim).unwrap_or("");
        let after = |rest: &str| Some(rest.to_owned()).filter(|r| !r.is_empty());
        if let Some(rest) = text.strip_prefix("cs:") {
            Self::Sessions(after(rest))
        } else if let Some(rest) = text.strip_prefix("in:") {
            Self::Invoices(after(rest))
        } else {
            Self::Invoices(None)
        }
    }

    pub fn encode(&self) -> String {
        match self {
            Self::Invoices(after) => format!("in:{}", after.as_deref().unwrap_or("")),
            Self::Sessions(after) => format!("cs:{}", after.as_deref().unwrap_or("")),
        }
    }
}

impl Orders for Stripe {
    fn list_orders(
        config: &Config,
        changed_since: OffsetDateTime,
        cursor: Option<String>,
    ) -> Result<OrderPage, ConnectorError> {
        let api = Api::new(config)?;
        match Cursor::parse(cursor.as_deref()) {
            Cursor::Invoices(after) => {
                let since = days_before(changed_since, INVOICE_LOOKBACK_DAYS);
                let mut request = api
                    .get("invoices")
                    .query_param("status", "paid")
                    .query_param("created[gte]", since)
                    .query_param("limit", PAGE_SIZE)
                    .query_param("expand[]", "data.payments")
                    .query_param("expand[]", "data.discounts");
                if let Some(after) = &after {
                    request = request.query_param("starting_after", after);
                }
                let list: List<Invoice> = api.send(request)?.json()?;
                let next = match list.data.last() {
                    Some(last) if list.has_more => Cursor::Invoices(Some(last.id.clone())),
                    _ => Cursor::Sessions(None),
                };
                Ok(OrderPage {
                    orders: orders::map_invoices(&api, list.data)?,
                    next_cursor: Some(next.encode()),
                })
            }
            Cursor::Sessions(after) => {
                let since = days_before(changed_since, SESSION_LOOKBACK_DAYS);
                let mut request = api
                    .get("checkout/sessions")
                    .query_param("status", "complete")
                    .query_param("created[gte]", since)
                    .query_param("limit", PAGE_SIZE)
                    .query_param("expand[]", "data.discounts.promotion_code");
                if let Some(after) = &after {
                    request = request.query_param("starting_after", after);
                }
                let list: List<Session> = api.send(request)?.json()?;
                let next = match list.data.last() {
                    Some(last) if list.has_more => Some(Cursor::Sessions(Some(last.id.clone()))),
                    _ => None,
                };
                // A session that made an invoice is imported as that invoice; one still
                // waiting for a delayed payment comes with its `async_payment_succeeded`.
                let sessions: Vec<Session> = list
                    .data
                    .into_iter()
                    .filter(|s| !s.has_invoice() && s.payment_status.as_deref() != Some("unpaid"))
                    .collect();
                Ok(OrderPage {
                    orders: orders::map_sessions(&api, sessions)?,
                    next_cursor: next.map(|c| c.encode()),
                })
            }
        }
    }

    fn get_order(config: &Config, id: String) -> Result<Order, ConnectorError> {
        let api = Api::new(config)?;
        orders::get(&api, &id)
    }
}

impl Webhooks for Stripe {
    fn verify_webhook(
        config: &Config,
        request: WebhookRequest,
    ) -> Result<VerifiedWebhook, ConnectorError> {
        webhooks::verify(config, &request)
    }

    fn register_webhooks(config: &Config, url: String) -> Result<WebhookSetup, ConnectorError> {
        webhooks::register(config, &url)
    }

    fn unregister_webhooks(
        config: &Config,
        url: String,
        registered: Vec<RegisteredWebhook>,
    ) -> Result<(), ConnectorError> {
        webhooks::unregister(config, &url, &registered)
    }
}

impl Refunds for Stripe {
    /// The order's refunds: what [`Orders::get_order`] carries too.
    fn list_refunds(config: &Config, order_id: String) -> Result<Vec<Refund>, ConnectorError> {
        let api = Api::new(config)?;
        Ok(orders::get(&api, &order_id)?.refunds)
    }
}

impl Connection for Stripe {
    fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
        check_connection(config)
    }
}

/// `GET /v1/account` names the account; a restricted key without the account
/// permission is checked with `GET /v1/balance` instead.
pub fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
    let api = Api::new(config)?;
    let key = config.require("secret_key")?.trim();
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Account {
        id: Option<String>,
        email: Option<String>,
        business_profile: Option<serde_json::Value>,
        settings: Option<serde_json::Value>,
    }
    let mut info = match api.send(api.get("account")) {
        Ok(response) => {
            let account: Account = response.json()?;
            let name = account
                .settings
                .as_ref()
                .and_then(|s| s.pointer("/dashboard/display_name"))
                .or_else(|| {
                    account
                        .business_profile
                        .as_ref()
                        .and_then(|b| b.get("name"))
                })
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
                .or(account.email)
                .or(account.id);
            match name {
                Some(name) => ConnectionInfo::account(name),
                None => ConnectionInfo::anonymous(),
            }
        }
        Err(error) if error.kind == ErrorKind::Permission => {
            api.send(api.get("balance"))?;
            ConnectionInfo::anonymous()
                .warning("the restricted key cannot read the account's name; orders still work")
        }
        Err(error) => return Err(error),
    };
    if key.starts_with("sk_test_") || key.starts_with("rk_test_") {
        info = info.warning("this is a test mode key: only test mode invoices are imported");
    }
    Ok(info)
}

/// Unix seconds `days` before `at`, not before 1970.
pub fn days_before(at: OffsetDateTime, days: i64) -> i64 {
    (at.unix_timestamp() - days * 86_400).max(0)
}

tovor_sdk::export_shop!(Stripe: orders, webhooks, refunds, connection);

#[cfg(test)]
mod tests;
