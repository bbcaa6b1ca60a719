//! Orders: the filtered list, one order's page with its history, and issuing its
//! documents.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use rust_decimal::Decimal;
use serde::Deserialize;
use time::{Date, OffsetDateTime, Time};
use tovor_domain::access::Action;
use tovor_domain::mapping::HostStatus;
use tovor_domain::order::Address;
use tovor_domain::{OrderId, ShopId};
use tovor_server::AppState;
use tovor_server::api::auth::Company;
use tovor_server::api::extract::{ApiJson, ApiPath};
use tovor_server::api::orders::{
    DocumentRequest, LineQuantity, create_delivery_note, create_invoice,
};
use tovor_store::orders::{OrderFilter, OrderSummary};
use tovor_store::shipping::ShipmentFilter;
use tovor_store::shops::Shop;

use crate::error::{WebError, WebResult};
use crate::i18n::Texts;
use crate::page::{Chrome, Formats, render};
use crate::pages::{formats, refused};
use crate::session::{Form, Workplace, redirect_with_flash};

/// Orders on one page of the list.
const PAGE_SIZE: u32 = 50;

/// An order as a row of a list.
pub struct OrderRow {
    pub href: String,
    pub number: String,
    pub shop: String,
    pub shop_number: String,
    pub buyer: String,
    pub status: &'static str,
    pub status_key: &'static str,
    pub total: String,
    pub placed: String,
}

fn shop_name(shops: &[Shop], id: ShopId) -> String {
    shops
        .iter()
        .find(|shop| shop.id == id)
        .map_or_else(|| id.to_string(), |shop| shop.settings.name.clone())
}

pub(crate) fn order_rows(
    workplace: &Workplace,
    formats: &Formats,
    shops: &[Shop],
    orders: Vec<OrderSummary>,
) -> Vec<OrderRow> {
    let t = workplace.texts();
    orders
        .into_iter()
        .map(|order| OrderRow {
            href: workplace.link(&format!("/orders/{}", order.id)),
            shop: shop_name(shops, order.shop),
            shop_number: order.external_number,
            buyer: order.buyer.unwrap_or_default(),
            status: t.status(order.status),
            status_key: order.status.as_str(),
            total: formats.money(order.total, &order.currency),
            placed: formats.time(order.shop_created_at),
            number: order.number,
        })
        .collect()
}

/// An option of a select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    shop: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    q: Option<String>,
    before: Option<i64>,
}

impl ListQuery {
    /// The query again with another `before` (paging keeps the filter).
    fn with_before(&self, before: Option<i64>) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        let mut keep = |key, value: &Option<String>| {
            if let Some(value) = value.as_ref().filter(|value| !value.is_empty()) {
                pairs.push((key, value.clone()));
            }
        };
        keep("shop", &self.shop);
        keep("status", &self.status);
        keep("from", &self.from);
        keep("to", &self.to);
        keep("q", &self.q);
        if let Some(before) = before {
            pairs.push(("before", before.to_string()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

fn parse_day(text: Option<&str>) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    text.filter(|text| !text.is_empty())
        .and_then(|text| Date::parse(text.trim(), format).ok())
}

/// The instant the company's day `day` begins.
fn day_start(formats: &Formats, day: Date) -> OffsetDateTime {
    let noon = day.with_time(time::macros::time!(12:00)).assume_utc();
    // The offset at noon of that day is the day's offset for every zone that does not
    // change its clocks at midnight.
    let offset = formats.zone().local(noon).offset();
    day.with_time(Time::MIDNIGHT).assume_offset(offset)
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    page: Chrome,
    rows: Vec<OrderRow>,
    shops: Vec<Choice>,
    statuses: Vec<Choice>,
    from: String,
    to: String,
    q: String,
    older: Option<String>,
    newest: Option<String>,
    /// The first page refreshes itself, so new orders appear as they arrive.
    live: bool,
    self_href: String,
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Query(query): Query<ListQuery>,
) -> WebResult<Response> {
    let t = workplace.texts();
    let formats = formats(&state, &workplace).await?;
    let scope = state.store.company(workplace.company);
    let shops = scope.shops().await?;
    let shop = query
        .shop
        .as_deref()
        .and_then(|shop| shop.parse::<i64>().ok())
        .map(ShopId);
    let status = query
        .status
        .as_deref()
        .and_then(|status| status.parse::<HostStatus>().ok());
    let from = parse_day(query.from.as_deref());
    let to = parse_day(query.to.as_deref());
    let filter = OrderFilter {
        shop,
        status,
        shop_number: None,
        placed_from: from.map(|day| day_start(&formats, day)),
        placed_before: to
            .and_then(|day| day.next_day())
            .map(|day| day_start(&formats, day)),
        text: query.q.clone().filter(|text| !text.trim().is_empty()),
    };
    let found = scope
        .find_orders(&filter, query.before.map(OrderId), PAGE_SIZE + 1)
        .await?;
    let more = found.len() > PAGE_SIZE as usize;
    let page_orders: Vec<OrderSummary> = found.into_iter().take(PAGE_SIZE as usize).collect();
    let last = page_orders.last().map(|order| order.id.0);
    let base = workplace.link("/orders");
    let older = more.then(|| format!("{base}?{}", query.with_before(last)));
    let newest = query
        .before
        .is_some()
        .then(|| format!("{base}?{}", query.with_before(None)));
    let shop_choices = shops
        .iter()
        .map(|candidate| Choice {
            value: candidate.id.to_string(),
            label: candidate.settings.name.clone(),
            selected: Some(candidate.id) == shop,
        })
        .collect();
    let statuses = HostStatus::ALL
        .iter()
        .map(|candidate| Choice {
            value: candidate.as_str().to_owned(),
            label: t.status(*candidate).to_owned(),
            selected: Some(*candidate) == status,
        })
        .collect();
    let page = OrdersPage {
        page: Chrome::company(&workplace, "orders", t.orders),
        rows: order_rows(&workplace, &formats, &shops, page_orders),
        shops: shop_choices,
        statuses,
        from: from.map(|day| day.to_string()).unwrap_or_default(),
        to: to.map(|day| day.to_string()).unwrap_or_default(),
        q: query.q.clone().unwrap_or_default(),
        older,
        live: query.before.is_none(),
        self_href: format!("{base}?{}", query.with_before(query.before)),
        newest,
    };
    Ok(render(&page))
}

/// A line of the order's page.
pub struct LineRow {
    pub position: u32,
    pub sku: String,
    pub name: String,
    pub quantity: String,
    pub delivered: String,
    /// What is left to deliver, as the quantity field's starting value.
    pub remaining: String,
    pub unit_price: String,
    pub total: String,
}

pub struct DocumentRow {
    pub kind: &'static str,
    pub number: String,
    pub state: &'static str,
    pub issued: String,
    pub href: String,
}

pub struct ShipmentRow {
    pub reference: String,
    pub state: String,
    pub status: String,
    pub tracking: String,
}

pub struct Change {
    pub field: String,
    pub before: String,
    pub after: String,
}

pub struct HistoryRow {
    pub at: String,
    pub origin: String,
    pub action: String,
    pub changes: Vec<Change>,
    /// What else the entry records, as `key: value` pairs.
    pub facts: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    page: Chrome,
    shop: String,
    shop_number: String,
    status: &'static str,
    shop_status: String,
    payment_method: String,
    payment_status: String,
    total: String,
    placed: String,
    billing: Vec<String>,
    shipping: Vec<String>,
    lines: Vec<LineRow>,
    documents: Vec<DocumentRow>,
    shipments: Vec<ShipmentRow>,
    history: Vec<HistoryRow>,
    can_issue: bool,
    issue_href: String,
}

fn address_lines(address: Option<&Address>) -> Vec<String> {
    let Some(address) = address else {
        return Vec::new();
    };
    let street = match (&address.street, &address.house_number, &address.line1) {
        (Some(street), Some(number), _) => Some(format!("{street} {number}")),
        (_, _, Some(line)) => Some(line.clone()),
        (Some(street), None, None) => Some(street.clone()),
        _ => None,
    };
    let town = [address.postal_code.as_deref(), address.city.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    [
        address.name.clone(),
        address.company.clone(),
        street,
        address.line2.clone(),
        (!town.is_empty()).then_some(town),
        address.country.clone(),
        address.email.clone(),
        address.phone.clone(),
    ]
    .into_iter()
    .flatten()
    .filter(|line| !line.trim().is_empty())
    .collect()
}

fn document_kind(t: &Texts, kind: &str) -> &'static str {
    match kind {
        "invoice" => t.invoice,
        "delivery_note" => t.delivery_note,
        "credit_note" => t.credit_note,
        _ => t.documents,
    }
}

fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => "—".to_owned(),
        other => other.to_string(),
    }
}

fn history_row(formats: &Formats, entry: tovor_store::orders::HistoryEntry) -> HistoryRow {
    let mut changes = Vec::new();
    let mut facts = Vec::new();
    if let serde_json::Value::Object(detail) = &entry.detail {
        for (key, value) in detail {
            match (key.as_str(), value) {
                ("differences", serde_json::Value::Array(differences)) => {
                    changes.extend(differences.iter().map(|difference| Change {
                        field: plain(&difference["field"]),
                        before: plain(&difference["stored"]),
                        after: plain(&difference["incoming"]),
                    }));
                }
                (_, serde_json::Value::Object(pair))
                    if pair.contains_key("from") && pair.contains_key("to") =>
                {
                    changes.push(Change {
                        field: key.clone(),
                        before: plain(&pair["from"]),
                        after: plain(&pair["to"]),
                    });
                }
                (_, serde_json::Value::Null) => {}
                (_, serde_json::Value::Bool(false)) => {}
                _ => facts.push((key.clone(), plain(value))),
            }
        }
    }
    HistoryRow {
        at: formats.time(entry.at),
        origin: entry.source,
        action: entry.action.replace('_', " "),
        changes,
        facts,
    }
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, order_id)): Path<(i64, i64)>,
) -> WebResult<Response> {
    let t = workplace.texts();
    let formats = formats(&state, &workplace).await?;
    let scope = state.store.company(workplace.company);
    let order = scope.order(OrderId(order_id)).await?;
    let documents = scope.order_documents(order.id).await?;
    let history = scope.order_history(order.id).await?;
    let shipments = scope
        .shipments(&ShipmentFilter {
            order: Some(order.id),
            ..ShipmentFilter::default()
        })
        .await?;
    let shops = scope.shops().await?;
    let currency = order.currency.clone();
    let content = &order.content;
    let lines = order
        .lines
        .iter()
        .map(|line| LineRow {
            position: line.position,
            sku: line.sku.clone().unwrap_or_default(),
            name: line.name.clone(),
            quantity: formats.quantity(line.quantity),
            delivered: formats.quantity(line.delivered),
            remaining: (line.quantity - line.delivered)
                .max(Decimal::ZERO)
                .normalize()
                .to_string(),
            unit_price: formats.money(line.unit_price, &currency),
            total: formats.money(line.total, &currency),
        })
        .collect();
    let page = OrderPage {
        page: Chrome::company(
            &workplace,
            "orders",
            format!("{} {}", t.order, order.number),
        ),
        shop: shop_name(&shops, order.shop),
        shop_number: order.external_number.clone(),
        status: t.status(order.status),
        shop_status: order.shop_status_raw.clone(),
        payment_method: content
            .payment_method
            .as_ref()
            .map(|method| method.title.clone())
            .unwrap_or_default(),
        payment_status: order.payment_status.as_str().replace('_', " "),
        total: formats.money(order.total, &currency),
        placed: formats.time(content.created_at),
        billing: address_lines(content.billing.as_ref()),
        shipping: address_lines(content.shipping.as_ref()),
        lines,
        documents: documents
            .into_iter()
            .map(|document| DocumentRow {
                kind: document_kind(t, document.draft.kind.as_str()),
                state: match document.state {
                    tovor_store::documents::DocumentState::Issued => t.issued,
                    tovor_store::documents::DocumentState::Cancelled => t.cancelled,
                    tovor_store::documents::DocumentState::Reversal => t.reversal,
                },
                issued: formats.time(document.issued_at),
                href: workplace.link(&format!("/documents/{}", document.id)),
                number: document.number,
            })
            .collect(),
        shipments: shipments
            .into_iter()
            .map(|shipment| ShipmentRow {
                reference: shipment.reference,
                state: shipment.state.as_str().replace('_', " "),
                status: shipment.status.as_str().replace('_', " "),
                tracking: shipment.tracking_numbers.join(", "),
            })
            .collect(),
        history: history
            .into_iter()
            .map(|entry| history_row(&formats, entry))
            .collect(),
        can_issue: workplace.may(Action::DailyWork),
        issue_href: workplace.link(&format!("/orders/{}/documents", order.id)),
    };
    Ok(render(&page))
}

#[derive(Debug, Deserialize)]
pub struct IssueForm {
    /// `invoice` or `delivery_note`.
    kind: String,
    /// `all`, or `chosen` for the quantities in `qty_<position>`.
    #[serde(default)]
    scope: String,
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

/// Issues an invoice or delivery note through the API's own handler, so the admin
/// does exactly what `POST /api/v1/orders/{id}/invoices` does.
pub async fn issue(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, order_id)): Path<(i64, i64)>,
    Form(form): Form<IssueForm>,
) -> WebResult<Response> {
    workplace.require(Action::DailyWork)?;
    let t = workplace.texts();
    let back = workplace.link(&format!("/orders/{order_id}"));
    let lines = if form.scope == "chosen" {
        let mut lines = Vec::new();
        for (key, value) in &form.rest {
            let Some(position) = key.strip_prefix("qty_").and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            let value = value.trim().replace(',', ".");
            if value.is_empty() {
                continue;
            }
            let quantity: Decimal = value
                .parse()
                .map_err(|_| WebError::bad_request(format!("{}: {value}", t.quantity)))?;
            if !quantity.is_zero() {
                lines.push(LineQuantity { position, quantity });
            }
        }
        Some(lines)
    } else {
        None
    };
    let request = Some(ApiJson(DocumentRequest { lines }));
    let company = Company(workplace.company);
    let issued = match form.kind.as_str() {
        "invoice" => {
            create_invoice(State(state.clone()), company, ApiPath(order_id), request).await
        }
        "delivery_note" => {
            create_delivery_note(State(state.clone()), company, ApiPath(order_id), request).await
        }
        _ => return Err(WebError::bad_request(t.kind)),
    };
    Ok(match issued {
        Ok((_, document)) => redirect_with_flash(
            &state,
            &back,
            &format!(
                "{} {} {}",
                document_kind(t, &document.kind),
                document.number,
                t.document_issued.to_lowercase()
            ),
        ),
        Err(error) => return refused(&state, &back, error),
    })
}
