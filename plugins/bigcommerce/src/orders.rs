//! Listing changed orders: `GET /v2/orders?min_date_modified=...&sort=date_modified:asc`
//! with `page` and `limit`, and each order's `products`, `shipping_addresses` and
//! `coupons`.
//!
//! **Paging.** v2 pages by offset (`page`, `limit`) and has no keyset filter on a pair
//! of fields: `min_id` cannot be combined with a date order, and `min_date_modified`
//! takes whole seconds and is inclusive. Plain offsets are unsafe while the store
//! works: an order on page 1 that changes between our requests moves to the end, every
//! later one shifts back and one is never seen. So every request restarts from the
//! last change we saw: the cursor is `(T, n, ids)` where `T` is the `date_modified`
//! of the last order of the previous page, `ids` the orders already returned that were
//! modified in the second `T`, and `n` the page to ask within the orders modified at or
//! after `T` (1, unless a whole page was modified in that same second). The next
//! request asks `min_date_modified=T`, page `n`, and drops the orders in `ids`. So two
//! orders changed in the same second on either side of a page boundary are both
//! returned, and an order changing while we page is seen again later (harmless: the
//! host compares `modified_at`). Sorting is by `date_modified` only (BigCommerce takes
//! one sort field); ties within a second may come in any order, which is why `ids`
//! keeps every order seen at `T`, not just the last one.
//!
//! v2 answers a page with nothing on it with `204 No Content`; a page shorter than
//! `limit` is the last.

use std::collections::BTreeSet;

use tovor_sdk::Config;
use tovor_sdk::http::{Request, send_many};
use tovor_sdk::shop::OrderPage;
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{ConnectorError, Order};

use crate::api::{self, Api};
use crate::mapping::{self, BcOrder};

pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// v2's largest `limit`.
pub const MAX_PAGE_SIZE: i64 = 250;
const CURSOR_PREFIX: &str = "bc1:";

/// Where the previous page ended (see the module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Unix seconds of the last `date_modified` seen.
    pub modified: i64,
    /// The page to ask among the orders modified at or after `modified`.
    pub page: u32,
    /// Orders already returned that were modified in that second.
    pub seen: BTreeSet<u64>,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let ids: Vec<String> = self.seen.iter().map(u64::to_string).collect();
        format!(
            "{CURSOR_PREFIX}{}|{}|{}",
            self.modified,
            self.page,
            ids.join(",")
        )
    }

    pub fn decode(text: &str) -> Result<Self, ConnectorError> {
        let invalid = || {
            ConnectorError::invalid_field("cursor", format!("{text:?} is not a BigCommerce cursor"))
        };
        let rest = text.strip_prefix(CURSOR_PREFIX).ok_or_else(invalid)?;
        let mut parts = rest.splitn(3, '|');
        let modified = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(invalid)?;
        let page = parts
            .next()
            .and_then(|p| p.parse().ok())
            .filter(|p| *p >= 1)
            .ok_or_else(invalid)?;
        let seen = parts
            .next()
            .ok_or_else(invalid)?
            .split(',')
            .filter(|id| !id.is_empty())
            .map(|id| id.parse::<u64>().map_err(|_| invalid()))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            modified,
            page,
            seen,
        })
    }
}

/// The query of one page.
pub fn list_query(
    since: OffsetDateTime,
    cursor: Option<&Cursor>,
    limit: i64,
) -> Vec<(&'static str, String)> {
    let (from, page) = match cursor {
        Some(cursor) => (
            OffsetDateTime::from_unix_timestamp(cursor.modified).unwrap_or(since),
            cursor.page,
        ),
        None => (since, 1),
    };
    vec![
        ("min_date_modified", mapping::format_time(from)),
        ("sort", "date_modified:asc".to_owned()),
        ("page", page.to_string()),
        ("limit", limit.to_string()),
    ]
}

/// What to return of a page and the cursor after it: `page` is what v2 answered (in
/// `date_modified` order), `modified` each entry's time in unix seconds.
pub fn next(
    page: &[(u64, i64)],
    cursor: Option<&Cursor>,
    limit: i64,
) -> (Vec<u64>, Option<Cursor>) {
    let fresh: Vec<u64> = page
        .iter()
        .filter(|(id, modified)| {
            cursor.is_none_or(|c| !(*modified == c.modified && c.seen.contains(id)))
        })
        .map(|(id, _)| *id)
        .collect();
    let full = page.len() as i64 >= limit;
    let Some(&(_, last)) = page.last() else {
        return (fresh, None);
    };
    if !full {
        return (fresh, None);
    }
    let at_last: BTreeSet<u64> = page
        .iter()
        .filter(|(_, modified)| *modified == last)
        .map(|(id, _)| *id)
        .collect();
    let next = match cursor {
        // The whole page was modified in the cursor's second: the next page of it.
        Some(c) if c.modified == last && page.iter().all(|(_, m)| *m == last) => Cursor {
            modified: last,
            page: c.page + 1,
            seen: c.seen.union(&at_last).copied().collect(),
        },
        _ if page.iter().all(|(_, m)| *m == last) && cursor.is_none() => Cursor {
            modified: last,
            page: 2,
            seen: at_last,
        },
        _ => Cursor {
            modified: last,
            page: 1,
            seen: at_last,
        },
    };
    (fresh, Some(next))
}

pub fn page_size(config: &Config) -> Result<i64, ConnectorError> {
    let size = config.integer_or("page_size", DEFAULT_PAGE_SIZE)?;
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(ConnectorError::invalid_field(
            "page_size",
            format!("{size} orders per page: use 1 to {MAX_PAGE_SIZE}"),
        ));
    }
    Ok(size)
}

/// One page of orders changed at or after `changed_since`.
pub fn list(
    config: &Config,
    changed_since: OffsetDateTime,
    cursor: Option<String>,
) -> Result<OrderPage, ConnectorError> {
    let api = Api::new(config)?;
    let cursor = cursor.as_deref().map(Cursor::decode).transpose()?;
    let limit = page_size(config)?;
    let listed: Vec<BcOrder> = api.get_list(
        "/v2/orders",
        &list_query(changed_since, cursor.as_ref(), limit),
    )?;
    let mut stamped = Vec::with_capacity(listed.len());
    for order in &listed {
        let modified = mapping::parse_time(&order.date_modified)
            .map_err(|error| error.context(format!("order {}", order.id)))?;
        stamped.push((order.id, modified.unix_timestamp()));
    }
    let (fresh, next_cursor) = next(&stamped, cursor.as_ref(), limit);
    let wanted: Vec<BcOrder> = listed
        .into_iter()
        .filter(|order| fresh.contains(&order.id))
        .collect();
    let orders = complete(&api, wanted)?;
    Ok(OrderPage {
        orders,
        next_cursor: next_cursor.map(|c| c.encode()),
    })
}

/// Fetches the sub-resources of `orders` (three requests each, sent together) and maps
/// them.
fn complete(api: &Api, orders: Vec<BcOrder>) -> Result<Vec<Order>, ConnectorError> {
    const PARTS: [&str; 3] = ["products", "shipping_addresses", "coupons"];
    let requests: Vec<Request> = orders
        .iter()
        .flat_map(|order| {
            PARTS.map(|part| {
                api.request("GET", &format!("/v2/orders/{}/{part}", order.id))
                    .query(&[("limit", "250")])
            })
        })
        .collect();
    let mut responses = send_many(requests).into_iter();
    let mut mapped = Vec::with_capacity(orders.len());
    for mut order in orders {
        let id = order.id;
        let mut part = || -> Result<tovor_sdk::http::Response, ConnectorError> {
            let response = responses
                .next()
                .ok_or_else(|| ConnectorError::other("a sub-resource answer is missing"))??;
            match api::error_of(&response) {
                Some(error) => Err(error),
                None => Ok(response),
            }
        };
        let context = |error: ConnectorError| error.context(format!("order {id}"));
        order.products = api::parse_list(&part().map_err(context)?).map_err(context)?;
        order.shipping_addresses = api::parse_list(&part().map_err(context)?).map_err(context)?;
        order.coupons = api::parse_list(&part().map_err(context)?).map_err(context)?;
        mapped.push(mapping::map_order(&order).map_err(context)?);
    }
    Ok(mapped)
}

/// One order by id.
pub fn get(config: &Config, id: &str) -> Result<Order, ConnectorError> {
    let api = Api::new(config)?;
    let id = id.trim();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::not_found(format!(
            "{id:?} is not a BigCommerce order id"
        )));
    }
    let response = api
        .get(&format!("/v2/orders/{id}"), &[])
        .map_err(|error| error.context(format!("order {id}")))?;
    let order: BcOrder = mapping::parse(&response.body, "order")?;
    let mut orders = complete(&api, vec![order])?;
    orders
        .pop()
        .ok_or_else(|| ConnectorError::other(format!("order {id} did not map")))
}
