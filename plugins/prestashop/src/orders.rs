//! Listing changed orders without losing any.
//!
//! PrestaShop filters `date_upd` with `date=1&filter[date_upd]=[from,to]`, which it
//! turns into `date_upd BETWEEN "from" AND "to"`: both ends inclusive, to the second, in
//! the shop's local time. It sorts by several keys with `sort=[date_upd_ASC,id_ASC]`
//! and pages with `limit=offset,count`. Many orders can share one `date_upd` second (a
//! bulk state change), so paging by offset alone is unsafe: an order changed while we
//! page leaves the window and everything after it shifts forward, one order past the
//! page boundary unseen.
//!
//! The cursor is therefore a keyset, `(date_upd, id)` of the last order handed out,
//! plus the window's end, fixed at the first page (now, in shop time, plus a minute of
//! clock slack) so a busy shop cannot keep the listing going for ever. A page is:
//!
//! 1. the rest of the last second: `filter[date_upd]=[d,d]&filter[id]=>[last_id]`,
//!    sorted by id;
//! 2. when that does not fill the page, the seconds after it:
//!    `filter[date_upd]=[d+1s,to]`, sorted by `date_upd` then `id`.
//!
//! An order changed while we page moves to a later key: it is met again later in this
//! run or in the next (which starts from the last run's start minus ten minutes), and
//! seeing it twice is harmless. Orders that share a second across a page boundary are
//! all met in step 1 of the next page.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use tovor_sdk::Config;
use tovor_sdk::http::Request;
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{ConnectorError, Order};

use crate::api::{self, Api, de_id, de_text, id_set};
use crate::mapping::{
    self, OrderData, PsAddress, PsCustomer, PsDetail, PsOrder, PsOrderCartRule, StatusMap,
};
use crate::reference::Reference;
use crate::shoptime::Zone;

/// Orders per page: their details, customers and addresses are read per page, a
/// handful of requests whatever the size.
pub const PAGE_SIZE: usize = 50;

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The `date_upd` of the last order handed out (shop time, `"YYYY-MM-DD HH:MM:SS"`),
    /// or the start of the window on the first page.
    pub since: String,
    /// The id of the last order handed out; orders of the second `since` with a higher
    /// id come next.
    pub after_id: Option<u64>,
    /// The window's end, fixed at the first page.
    pub until: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let after = self.after_id.map(|id| id.to_string()).unwrap_or_default();
        format!("v1|{}|{}|{}", self.since, after, self.until)
    }

    pub fn decode(text: &str) -> Result<Cursor, ConnectorError> {
        let bad = || ConnectorError::invalid_input(format!("{text:?} is not a PrestaShop cursor"));
        let mut parts = text.split('|');
        if parts.next() != Some("v1") {
            return Err(bad());
        }
        let since = parts.next().ok_or_else(bad)?.to_owned();
        let after = parts.next().ok_or_else(bad)?;
        let until = parts.next().ok_or_else(bad)?.to_owned();
        let after_id = if after.is_empty() {
            None
        } else {
            Some(after.parse().map_err(|_| bad())?)
        };
        if !is_local_time(&since) || !is_local_time(&until) {
            return Err(bad());
        }
        Ok(Cursor {
            since,
            after_id,
            until,
        })
    }

    /// The first page's cursor: from `changed_since` to now, in shop time.
    pub fn first(zone: &Zone, changed_since: OffsetDateTime, now: OffsetDateTime) -> Cursor {
        Cursor {
            since: zone.format(changed_since),
            after_id: None,
            until: zone.format(now + time::Duration::minutes(1)),
        }
    }
}

fn is_local_time(text: &str) -> bool {
    text.len() == 19
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b':' || b == b' ')
}

/// The second after a shop time (`"2026-03-01 10:00:59"` → `"2026-03-01 10:01:00"`).
pub fn next_second(local: &str) -> Result<String, ConnectorError> {
    let parsed = tovor_sdk::time::parse_naive(local)?;
    let next = parsed + time::Duration::seconds(1);
    Ok(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        next.year(),
        u8::from(next.month()),
        next.day(),
        next.hour(),
        next.minute(),
        next.second()
    ))
}

/// The key of an order in the listing.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderKey {
    #[serde(deserialize_with = "de_id")]
    pub id: u64,
    #[serde(default, deserialize_with = "de_text")]
    pub date_upd: String,
}

/// The list request of step 1 (`same_second`) or step 2.
pub fn list_request(api: &Api, cursor: &Cursor, count: usize) -> Result<Request, ConnectorError> {
    let request = api
        .get("orders")
        .query_param("display", "full")
        .query_param("date", 1);
    Ok(match cursor.after_id {
        Some(after) => request
            .query_param(
                "filter[date_upd]",
                format!("[{},{}]", cursor.since, cursor.since),
            )
            .query_param("filter[id]", format!(">[{after}]"))
            .query_param("sort", "[id_ASC]")
            .query_param("limit", format!("0,{count}")),
        None => request
            .query_param(
                "filter[date_upd]",
                format!("[{},{}]", cursor.since, cursor.until),
            )
            .query_param("sort", "[date_upd_ASC,id_ASC]")
            .query_param("limit", format!("0,{count}")),
    })
}

/// One page of orders (as PrestaShop gives them) and the cursor after it.
pub fn page(api: &Api, cursor: &Cursor) -> Result<(Vec<PsOrder>, Option<Cursor>), ConnectorError> {
    let mut rows: Vec<PsOrder> = Vec::new();
    let mut after_second = cursor.clone();
    if cursor.after_id.is_some() {
        rows = api.list(list_request(api, cursor, PAGE_SIZE)?, "orders")?;
        after_second = Cursor {
            since: next_second(&cursor.since)?,
            after_id: None,
            until: cursor.until.clone(),
        };
    }
    if rows.len() < PAGE_SIZE && after_second.since <= after_second.until {
        let more: Vec<PsOrder> = api.list(
            list_request(api, &after_second, PAGE_SIZE - rows.len())?,
            "orders",
        )?;
        rows.extend(more);
    }
    let next = if rows.len() >= PAGE_SIZE {
        rows.last().map(|last| Cursor {
            since: last.date_upd.trim().to_owned(),
            after_id: Some(last.id),
            until: cursor.until.clone(),
        })
    } else {
        None
    };
    Ok((rows, next))
}

#[derive(Deserialize)]
struct CodeRow {
    #[serde(deserialize_with = "de_id")]
    id: u64,
    #[serde(default, deserialize_with = "de_text")]
    code: String,
}

/// Reads what the orders refer to (details, customers, addresses, vouchers), all at
/// once, and assembles them.
pub fn gather(api: &Api, orders: Vec<PsOrder>) -> Result<Vec<OrderData>, ConnectorError> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let order_ids = id_set(orders.iter().map(|o| o.id));
    let customer_ids: BTreeSet<u64> = orders
        .iter()
        .map(|o| o.id_customer)
        .filter(|id| *id != 0)
        .collect();
    let address_ids: BTreeSet<u64> = orders
        .iter()
        .flat_map(|o| [o.id_address_invoice, o.id_address_delivery])
        .filter(|id| *id != 0)
        .collect();
    let mut requests = vec![
        api.get("order_details")
            .query_param("display", "full")
            .query_param("filter[id_order]", &order_ids),
        api.get("order_cart_rules")
            .query_param("display", "full")
            .query_param("filter[id_order]", &order_ids),
    ];
    if !customer_ids.is_empty() {
        requests.push(
            api.get("customers")
                .query_param("display", "[id,email,firstname,lastname,company,is_guest]")
                .query_param("filter[id]", id_set(customer_ids.iter().copied())),
        );
    }
    if !address_ids.is_empty() {
        requests.push(
            api.get("addresses")
                .query_param("display", "full")
                .query_param("filter[id]", id_set(address_ids.iter().copied())),
        );
    }
    let mut answers = api.send_all(requests).into_iter();
    let mut next = || {
        answers
            .next()
            .unwrap_or_else(|| Err(ConnectorError::other("a request was not answered")))
    };
    let details: Vec<PsDetail> = api::list_rows(&next()?, "order_details")?;
    let rules: Vec<PsOrderCartRule> = api::list_rows(&next()?, "order_cart_rules")?;
    let customers: Vec<PsCustomer> = if customer_ids.is_empty() {
        Vec::new()
    } else {
        api::list_rows(&next()?, "customers")?
    };
    let addresses: Vec<PsAddress> = if address_ids.is_empty() {
        Vec::new()
    } else {
        api::list_rows(&next()?, "addresses")?
    };
    let codes: BTreeMap<u64, String> = if rules.is_empty() {
        BTreeMap::new()
    } else {
        let rows: Vec<CodeRow> = api.list(
            api.get("cart_rules")
                .query_param("display", "[id,code]")
                .query_param("filter[id]", id_set(rules.iter().map(|r| r.id_cart_rule))),
            "cart_rules",
        )?;
        rows.into_iter().map(|row| (row.id, row.code)).collect()
    };
    let customers: BTreeMap<u64, PsCustomer> = customers.into_iter().map(|c| (c.id, c)).collect();
    let addresses: BTreeMap<u64, PsAddress> = addresses.into_iter().map(|a| (a.id, a)).collect();
    Ok(orders
        .into_iter()
        .map(|order| {
            let mut order_details: Vec<PsDetail> = details
                .iter()
                .filter(|d| d.id_order == order.id)
                .cloned()
                .collect();
            order_details.sort_by_key(|d| d.id);
            OrderData {
                details: order_details,
                customer: customers.get(&order.id_customer).cloned(),
                invoice: addresses.get(&order.id_address_invoice).cloned(),
                delivery: addresses.get(&order.id_address_delivery).cloned(),
                cart_rules: rules
                    .iter()
                    .filter(|r| r.id_order == order.id)
                    .cloned()
                    .collect(),
                codes: codes.clone(),
                order,
            }
        })
        .collect())
}

/// Maps gathered orders, reading the reference lists again once when an order names a
/// state, carrier or currency they lack.
pub fn map_all(
    api: &Api,
    config: &Config,
    data: &[OrderData],
) -> Result<Vec<Order>, ConnectorError> {
    let statuses = StatusMap::parse(config.text("status_map"))?;
    let mut reference = Reference::load(api)?;
    let states: Vec<u64> = data.iter().map(|d| d.order.current_state).collect();
    let carriers: Vec<u64> = data.iter().map(|d| d.order.id_carrier).collect();
    let currencies: Vec<u64> = data.iter().map(|d| d.order.id_currency).collect();
    if !reference.knows(&states, &carriers, &currencies) {
        reference = Reference::refresh(api)?;
    }
    let zone = reference.zone(config)?;
    data.iter()
        .map(|order| mapping::map_order(order, &reference, &zone, &statuses))
        .collect()
}

/// One order by id.
pub fn get(api: &Api, config: &Config, id: &str) -> Result<Order, ConnectorError> {
    let id: u64 = id
        .trim()
        .parse()
        .map_err(|_| ConnectorError::not_found(format!("{id:?} is not a PrestaShop order id")))?;
    let response = api
        .send(api.get(&format!("orders/{id}")))
        .map_err(|error| error.context(format!("order {id}")))?;
    let order: PsOrder = api::one(&response, "order")?;
    let data = gather(api, vec![order])?;
    let mut orders = map_all(api, config, &data)?;
    orders
        .pop()
        .ok_or_else(|| ConnectorError::not_found(format!("order {id}")))
}

/// The page of the contract's `list-orders`.
pub fn list(
    api: &Api,
    config: &Config,
    changed_since: OffsetDateTime,
    cursor: Option<&str>,
) -> Result<(Vec<Order>, Option<String>), ConnectorError> {
    let cursor = match cursor {
        Some(text) => Cursor::decode(text)?,
        None => {
            let reference = Reference::load(api)?;
            let zone = reference.zone(config)?;
            Cursor::first(&zone, changed_since, OffsetDateTime::now_utc())
        }
    };
    let (rows, next) = page(api, &cursor)?;
    let data = gather(api, rows)?;
    let orders = map_all(api, config, &data)?;
    Ok((orders, next.map(|cursor| cursor.encode())))
}
