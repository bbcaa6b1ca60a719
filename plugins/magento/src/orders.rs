//! Listing changed orders: `GET /V1/orders` with `searchCriteria`, paged by keyset.
//!
//! **Why keyset, not `currentPage`.** Magento pages with `searchCriteria[pageSize]` and
//! `searchCriteria[currentPage]` over a query ordered by `updated_at`. Offsets are
//! unsafe while the shop keeps working: an order on page 1 that changes between our
//! requests moves to the end, every later order shifts back by one, and the order that
//! slides from page 2 onto page 1 is never seen. Magento also answers a `currentPage`
//! past the last page with the last page again (`Magento\Framework\Data\Collection::
//! getCurPage` clamps to `getLastPageNumber`), so an empty page never comes and paging
//! must stop by `total_count`.
//!
//! So every request asks for the *first* page of "orders after the last one we saw",
//! sorted by `updated_at` then `entity_id` (Magento applies every `sortOrders` entry in
//! turn), and the opaque cursor is that last order's `(updated_at, entity_id)`.
//! Magento ANDs filter groups and ORs the filters inside one group, which expresses the
//! keyset condition exactly:
//!
//! ```text
//! group 0: updated_at gteq T                      -- T = changed_since on the first page
//! group 1: updated_at gt T  OR  entity_id gt E    -- only with a cursor (T, E)
//! ```
//!
//! i.e. `updated_at > T OR (updated_at = T AND entity_id > E)`. Two orders changed in
//! the same second on either side of a page boundary share `T` and are told apart by
//! `entity_id`, so both are imported. An order that changes while we page gets a newer
//! `updated_at` and comes again later (the host compares `modified_at`, so seeing it
//! twice is harmless). There is more when `total_count` (the size of the whole
//! filtered result) exceeds what the page held. An order changed later in the very
//! second `T` with a smaller `entity_id` than `E` is found by the next sync, which the
//! host starts from the previous one's start minus an overlap.

use tovor_sdk::shop::OrderPage;
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::ConnectorError;

use crate::api::Api;
use crate::mapping::{self, SearchResult};

/// Orders per page unless the config says otherwise.
pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// Magento allows larger pages, but every order comes whole with its items.
pub const MAX_PAGE_SIZE: i64 = 200;
/// The cursor's version prefix, so a cursor of another shape is refused, not misread.
const CURSOR_PREFIX: &str = "k1:";

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Magento's `updated_at` text of the last order, `YYYY-MM-DD HH:MM:SS`.
    pub updated_at: String,
    pub entity_id: u64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{CURSOR_PREFIX}{}|{}", self.updated_at, self.entity_id)
    }

    pub fn decode(text: &str) -> Result<Self, ConnectorError> {
        let invalid =
            || ConnectorError::invalid_field("cursor", format!("{text:?} is not a Magento cursor"));
        let rest = text.strip_prefix(CURSOR_PREFIX).ok_or_else(invalid)?;
        let (updated_at, entity_id) = rest.rsplit_once('|').ok_or_else(invalid)?;
        mapping::parse_time(updated_at).map_err(|_| invalid())?;
        Ok(Self {
            updated_at: updated_at.to_owned(),
            entity_id: entity_id.parse().map_err(|_| invalid())?,
        })
    }
}

fn filter(
    group: usize,
    index: usize,
    field: &str,
    value: &str,
    condition: &str,
) -> [(String, String); 3] {
    let key =
        |part: &str| format!("searchCriteria[filter_groups][{group}][filters][{index}][{part}]");
    [
        (key("field"), field.to_owned()),
        (key("value"), value.to_owned()),
        (key("condition_type"), condition.to_owned()),
    ]
}

/// The query of one page: orders changed at or after `since`, after `cursor`.
pub fn search_query(since: &str, cursor: Option<&Cursor>, page_size: i64) -> Vec<(String, String)> {
    let mut query = Vec::new();
    match cursor {
        None => query.extend(filter(0, 0, "updated_at", since, "gteq")),
        Some(cursor) => {
            // The cursor is never before `since` (it came from this listing), so the
            // lower bound is the cursor's time.
            query.extend(filter(0, 0, "updated_at", &cursor.updated_at, "gteq"));
            query.extend(filter(1, 0, "updated_at", &cursor.updated_at, "gt"));
            query.extend(filter(
                1,
                1,
                "entity_id",
                &cursor.entity_id.to_string(),
                "gt",
            ));
        }
    }
    for (index, field) in ["updated_at", "entity_id"].iter().enumerate() {
        query.push((
            format!("searchCriteria[sortOrders][{index}][field]"),
            (*field).to_owned(),
        ));
        query.push((
            format!("searchCriteria[sortOrders][{index}][direction]"),
            "ASC".to_owned(),
        ));
    }
    query.push(("searchCriteria[pageSize]".to_owned(), page_size.to_string()));
    query.push(("searchCriteria[currentPage]".to_owned(), "1".to_owned()));
    query
}

/// The cursor for the page after `result`, if there is more.
pub fn next_cursor(result: &SearchResult, previous: Option<&Cursor>) -> Option<Cursor> {
    let last = result.items.last()?;
    if result.total_count <= result.items.len() as u64 {
        return None;
    }
    let next = Cursor {
        updated_at: last.updated_at.clone(),
        entity_id: last.entity_id,
    };
    // A page that did not move on would be asked for forever.
    (Some(&next) != previous).then_some(next)
}

pub fn page_size(config: &tovor_sdk::Config) -> Result<i64, ConnectorError> {
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
    config: &tovor_sdk::Config,
    changed_since: OffsetDateTime,
    cursor: Option<String>,
) -> Result<OrderPage, ConnectorError> {
    let api = Api::new(config)?;
    let cursor = cursor.as_deref().map(Cursor::decode).transpose()?;
    let query = search_query(
        &mapping::magento_time(changed_since),
        cursor.as_ref(),
        page_size(config)?,
    );
    let response = api.get("/orders", &query)?;
    let result = mapping::parse_search(&response.body)?;
    let orders = result
        .items
        .iter()
        .map(|order| {
            mapping::map_order(order)
                .map_err(|error| error.context(format!("order {}", order.entity_id)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(OrderPage {
        orders,
        next_cursor: next_cursor(&result, cursor.as_ref()).map(|next| next.encode()),
    })
}

/// One order by its `entity_id`.
pub fn get(
    config: &tovor_sdk::Config,
    id: &str,
) -> Result<tovor_sdk::types::Order, ConnectorError> {
    let api = Api::new(config)?;
    let id = id.trim();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::not_found(format!(
            "{id:?} is not a Magento order id (entity_id)"
        )));
    }
    let response = api
        .get(&format!("/orders/{id}"), &[])
        .map_err(|error| error.context(format!("order {id}")))?;
    mapping::map_order(&mapping::parse_order(&response.body)?)
}
