//! Order status changes: `POST orders/{id}/cancel.json`, `POST orders/{id}/close.json`,
//! and marking paid through `POST orders/{id}/transactions.json`.
//!
//! Each change first reads the order's state, so a change already made (by the merchant,
//! or by an earlier attempt whose answer was lost) is success and never done twice.
//!
//! **Paid** does what Shopify's own "mark as paid" (GraphQL `orderMarkAsPaid`) does with
//! REST transactions: an order with a payment authorization is captured (`kind:
//! capture`, `parent_id` the authorization, its amount and currency); a pending order
//! (cash on delivery, bank transfer) gets a `sale` transaction with `source: external`
//! for the outstanding amount, which Shopify documents as importing a payment taken
//! outside Shopify. A pending order presented in another currency than the shop's is
//! refused: its outstanding amount in the customer's currency is not in the order.

use serde::Deserialize;
use serde_json::json;
use tovor_sdk::Config;
use tovor_sdk::money::{self, Decimal};
use tovor_sdk::shop::StatusChange;
use tovor_sdk::types::ConnectorError;

use crate::api::{Api, numeric_id};

/// The changes Shopify's REST API allows.
pub fn supported() -> Vec<StatusChange> {
    vec![
        StatusChange::Cancelled,
        StatusChange::Completed,
        StatusChange::Paid,
    ]
}

/// What a status change needs to know about the order.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OrderState {
    cancelled_at: Option<String>,
    closed_at: Option<String>,
    financial_status: Option<String>,
    currency: Option<String>,
    presentment_currency: Option<String>,
    #[serde(with = "money::lenient_option")]
    total_outstanding: Option<Decimal>,
}

impl OrderState {
    fn cancelled(&self) -> bool {
        self.cancelled_at
            .as_deref()
            .is_some_and(|at| !at.trim().is_empty())
    }

    fn closed(&self) -> bool {
        self.closed_at
            .as_deref()
            .is_some_and(|at| !at.trim().is_empty())
    }
}

/// Applies `change` to the order `order_id`.
pub fn set(config: &Config, order_id: &str, change: StatusChange) -> Result<(), ConnectorError> {
    let api = Api::new(config)?;
    let id = numeric_id(order_id, "order")?;
    let state = order_state(&api, id)?;
    match change {
        StatusChange::Cancelled if state.cancelled() => Ok(()),
        StatusChange::Cancelled => post_action(&api, id, "cancel"),
        StatusChange::Completed if state.closed() => Ok(()),
        StatusChange::Completed => post_action(&api, id, "close"),
        StatusChange::Paid => mark_paid(&api, id, &state),
    }
}

fn order_state(api: &Api, id: u64) -> Result<OrderState, ConnectorError> {
    #[derive(Deserialize)]
    struct One {
        order: OrderState,
    }
    let request = api.get(&format!("orders/{id}.json")).query_param(
        "fields",
        "id,cancelled_at,closed_at,financial_status,currency,presentment_currency,total_outstanding",
    );
    let one: One = api.send(request)?.json()?;
    Ok(one.order)
}

/// `POST orders/{id}/{action}.json`; Shopify's 422 (a paid order with fulfillments
/// cannot be cancelled) is a `conflict`.
fn post_action(api: &Api, id: u64, action: &str) -> Result<(), ConnectorError> {
    api.send(api.post(&format!("orders/{id}/{action}.json"), &json!({})))
        .map(drop)
        .map_err(unprocessable_is_conflict)
}

fn unprocessable_is_conflict(error: ConnectorError) -> ConnectorError {
    if error.http_status == Some(422) {
        ConnectorError::conflict(error.message).with_http_status(422)
    } else {
        error
    }
}

#[derive(Debug, Deserialize)]
struct Transaction {
    id: u64,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    parent_id: Option<u64>,
    #[serde(default, with = "money::lenient_option")]
    amount: Option<Decimal>,
    #[serde(default)]
    currency: Option<String>,
}

fn mark_paid(api: &Api, id: u64, state: &OrderState) -> Result<(), ConnectorError> {
    let financial = state.financial_status.as_deref().unwrap_or("");
    if matches!(financial, "paid" | "partially_refunded" | "refunded") {
        return Ok(());
    }
    if state.cancelled() {
        return Err(ConnectorError::conflict(format!(
            "Shopify order {id} is cancelled; it cannot be marked paid"
        )));
    }
    match financial {
        "authorized" | "partially_paid" => {
            if capture_authorizations(api, id, state)? {
                return Ok(());
            }
            record_external_sale(api, id, state)
        }
        "pending" => record_external_sale(api, id, state),
        other => Err(ConnectorError::conflict(format!(
            "Shopify order {id} has the financial status {other:?}; it cannot be marked paid"
        ))),
    }
}

/// Captures what the order's successful authorizations have not captured yet; `false`
/// when there was nothing to capture.
fn capture_authorizations(api: &Api, id: u64, state: &OrderState) -> Result<bool, ConnectorError> {
    #[derive(Deserialize)]
    struct List {
        transactions: Vec<Transaction>,
    }
    let list: List = api
        .send(api.get(&format!("orders/{id}/transactions.json")))?
        .json()?;
    let succeeded = |t: &&Transaction| t.status == "success";
    let mut captured_any = false;
    for authorization in list
        .transactions
        .iter()
        .filter(succeeded)
        .filter(|t| t.kind == "authorization")
    {
        let captured: Decimal = list
            .transactions
            .iter()
            .filter(succeeded)
            .filter(|t| t.kind == "capture" && t.parent_id == Some(authorization.id))
            .filter_map(|t| t.amount)
            .sum();
        let left = authorization.amount.unwrap_or_default() - captured;
        if left <= Decimal::ZERO {
            continue;
        }
        // Transactions are in the currency the customer paid in; a capture names it.
        let currency = authorization
            .currency
            .clone()
            .or_else(|| state.presentment_currency.clone())
            .or_else(|| state.currency.clone());
        let body = json!({ "transaction": {
            "kind": "capture",
            "parent_id": authorization.id,
            "amount": money::format_decimal(left),
            "currency": currency,
        }});
        api.send(api.post(&format!("orders/{id}/transactions.json"), &body))
            .map_err(unprocessable_is_conflict)?;
        captured_any = true;
    }
    Ok(captured_any)
}

/// A `sale` from outside Shopify for the outstanding amount.
fn record_external_sale(api: &Api, id: u64, state: &OrderState) -> Result<(), ConnectorError> {
    let shop_currency = state.currency.as_deref().unwrap_or("").trim();
    let presentment = state
        .presentment_currency
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or(shop_currency);
    if !presentment.eq_ignore_ascii_case(shop_currency) {
        return Err(ConnectorError::unsupported(&format!(
            "marking Shopify order {id} paid: the customer paid in {presentment}, the shop \
             keeps {shop_currency}, and the order does not say what is outstanding in \
             {presentment}; mark it paid in Shopify's admin"
        )));
    }
    let outstanding = state.total_outstanding.unwrap_or_default();
    if outstanding <= Decimal::ZERO {
        return Err(ConnectorError::conflict(format!(
            "Shopify order {id} has nothing outstanding, yet is not paid; check it in \
             Shopify's admin"
        )));
    }
    let body = json!({ "transaction": {
        "kind": "sale",
        "source": "external",
        "amount": money::format_decimal(outstanding),
        "currency": presentment,
    }});
    api.send(api.post(&format!("orders/{id}/transactions.json"), &body))
        .map(drop)
        .map_err(unprocessable_is_conflict)
}
