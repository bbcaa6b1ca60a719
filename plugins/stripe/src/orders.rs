//! Reading invoices and Checkout Sessions, with what completes them: every line (the
//! invoice's `lines` holds only the first handful), the payment method (the payment
//! intent's charge) and the refunds of the payment.

use serde::Deserialize;
use tovor_sdk::http::Request;
use tovor_sdk::types::{ConnectorError, Order};

use crate::api::{Api, path_id};
use crate::mapping::{
    self, Extras, Invoice, InvoiceLine, List, PaymentIntent, Session, SessionLine, StripeRefund,
    TaxId,
};

/// Stripe's largest page, for lines and refunds.
const MAX_PAGE: u32 = 100;

/// Fetches and maps the order `id`: an invoice (`in_…`) or a Checkout Session (`cs_…`).
pub fn get(api: &Api, id: &str) -> Result<Order, ConnectorError> {
    let id = id.trim();
    if id.starts_with("cs_") {
        let id = path_id(id, "cs_", "Checkout Session")?;
        let session: Session = api
            .send(
                api.get(&format!("checkout/sessions/{id}"))
                    .query_param("expand[]", "discounts.promotion_code")
                    .query_param("expand[]", "shipping_cost.shipping_rate"),
            )?
            .json()?;
        map_sessions(api, vec![session])?
            .pop()
            .ok_or_else(|| ConnectorError::other(format!("Checkout Session {id} did not map")))
    } else {
        let id = path_id(id, "in_", "invoice")?;
        let invoice: Invoice = api
            .send(
                api.get(&format!("invoices/{id}"))
                    .query_param("expand[]", "payments")
                    .query_param("expand[]", "discounts"),
            )?
            .json()?;
        map_invoices(api, vec![invoice])?
            .pop()
            .ok_or_else(|| ConnectorError::other(format!("invoice {id} did not map")))
    }
}

/// Invoices with all their lines and extras, mapped.
pub fn map_invoices(api: &Api, invoices: Vec<Invoice>) -> Result<Vec<Order>, ConnectorError> {
    let intents: Vec<Option<String>> = invoices.iter().map(Invoice::payment_intent).collect();
    let extras = extras(api, &intents)?;
    invoices
        .iter()
        .zip(extras)
        .map(|(invoice, extras)| {
            let lines = invoice_lines(api, invoice)?;
            mapping::map_invoice(invoice, &lines, &extras)
        })
        .collect()
}

/// Sessions with all their line items, customer tax ids and extras, mapped.
pub fn map_sessions(api: &Api, sessions: Vec<Session>) -> Result<Vec<Order>, ConnectorError> {
    let intents: Vec<Option<String>> = sessions
        .iter()
        .map(|s| mapping::id_of(s.payment_intent.as_ref()))
        .collect();
    let extras = extras(api, &intents)?;
    sessions
        .iter()
        .zip(extras)
        .map(|(session, extras)| {
            let lines = session_lines(api, &session.id)?;
            let tax_ids = session_tax_ids(api, session)?;
            mapping::map_session(session, &lines, &tax_ids, &extras)
        })
        .collect()
}

/// Every line of an invoice: the embedded first page, then `GET invoices/{id}/lines`
/// from the last one while `has_more`.
fn invoice_lines(api: &Api, invoice: &Invoice) -> Result<Vec<InvoiceLine>, ConnectorError> {
    let mut lines = invoice.lines.data.clone();
    let mut more = invoice.lines.has_more;
    let id = path_id(&invoice.id, "in_", "invoice")?;
    while more {
        let mut request = api
            .get(&format!("invoices/{id}/lines"))
            .query_param("limit", MAX_PAGE);
        if let Some(last) = lines.last().and_then(|line| line.id.clone()) {
            request = request.query_param("starting_after", last);
        }
        let page: List<InvoiceLine> = api.send(request)?.json()?;
        more = page.has_more && !page.data.is_empty();
        lines.extend(page.data);
    }
    Ok(lines)
}

/// Every line item of a session, with their taxes (rates included) and discounts.
fn session_lines(api: &Api, id: &str) -> Result<Vec<SessionLine>, ConnectorError> {
    let id = path_id(id, "cs_", "Checkout Session")?;
    let mut lines: Vec<SessionLine> = Vec::new();
    loop {
        let mut request = api
            .get(&format!("checkout/sessions/{id}/line_items"))
            .query_param("limit", MAX_PAGE)
            .query_param("expand[]", "data.taxes");
        if let Some(last) = lines.last().and_then(|line| line.id.clone()) {
            request = request.query_param("starting_after", last);
        }
        let page: List<SessionLine> = api.send(request)?.json()?;
        let more = page.has_more && !page.data.is_empty();
        lines.extend(page.data);
        if !more {
            return Ok(lines);
        }
    }
}

/// A session's customer tax ids: in `customer_details` when Checkout collected them,
/// else the Stripe customer's (`GET customers/{id}/tax_ids`); none for a guest.
fn session_tax_ids(api: &Api, session: &Session) -> Result<Vec<TaxId>, ConnectorError> {
    let collected = session
        .customer_details
        .as_ref()
        .and_then(|details| details.tax_ids.clone())
        .unwrap_or_default();
    if !collected.is_empty() {
        return Ok(collected);
    }
    let Some(customer) = mapping::id_of(session.customer.as_ref()) else {
        return Ok(Vec::new());
    };
    let customer = path_id(&customer, "cus_", "customer")?;
    let list: List<TaxId> = api
        .send(api.get(&format!("customers/{customer}/tax_ids")))?
        .json()?;
    Ok(list.data)
}

/// The payment method and refunds of each payment intent (none where there is none),
/// fetched concurrently: the intent with its latest charge, and its refunds.
pub fn extras(api: &Api, intents: &[Option<String>]) -> Result<Vec<Extras>, ConnectorError> {
    let mut requests: Vec<Request> = Vec::new();
    for intent in intents.iter().flatten() {
        let intent = path_id(intent, "pi_", "payment intent")?;
        requests.push(
            api.get(&format!("payment_intents/{intent}"))
                .query_param("expand[]", "latest_charge"),
        );
        requests.push(
            api.get("refunds")
                .query_param("payment_intent", intent)
                .query_param("limit", MAX_PAGE),
        );
    }
    let mut answers = api.send_many(requests).into_iter();
    let mut out = Vec::with_capacity(intents.len());
    for intent in intents {
        if intent.is_none() {
            out.push(Extras::default());
            continue;
        }
        let (Some(pi), Some(refunds)) = (answers.next(), answers.next()) else {
            return Err(ConnectorError::other(
                "the host answered fewer requests than sent",
            ));
        };
        let pi: PaymentIntent = pi?.json()?;
        let refunds: List<StripeRefund> = refunds?.json()?;
        out.push(Extras {
            payment_method: pi.method(),
            paid_at: pi.charged_at(),
            refunds: refunds.data,
        });
    }
    Ok(out)
}

/// The order a payment intent paid: a Checkout Session without an invoice, else the
/// invoice the payment belongs to (`GET invoice_payments`; basil has no `invoice` on
/// charges or payment intents).
pub fn order_of_payment(api: &Api, intent: &str) -> Result<Option<String>, ConnectorError> {
    let intent = path_id(intent, "pi_", "payment intent")?;
    let sessions: List<Session> = api
        .send(
            api.get("checkout/sessions")
                .query_param("payment_intent", intent)
                .query_param("limit", 10),
        )?
        .json()?;
    if let Some(session) = sessions.data.iter().find(|s| !s.has_invoice()) {
        return Ok(Some(session.id.clone()));
    }
    #[derive(Deserialize)]
    struct Payment {
        invoice: Option<serde_json::Value>,
    }
    let payments: List<Payment> = api
        .send(
            api.get("invoice_payments")
                .query_param("payment[type]", "payment_intent")
                .query_param("payment[payment_intent]", intent)
                .query_param("limit", 10),
        )?
        .json()?;
    Ok(payments
        .data
        .iter()
        .find_map(|payment| mapping::id_of(payment.invoice.as_ref())))
}
