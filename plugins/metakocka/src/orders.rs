//! Listing changed sales orders without skipping any.
//!
//! `search` with `doc_type: sales_order` and `query_advance` `last_change_from` /
//! `last_change_to` lists the orders changed in a window, at most 50 a call, paged by
//! `offset`/`limit`; its answer says how many match in all (`result_all_records`).
//! Each order is then read whole with `get_document`.
//!
//! **The cursor** fixes the window at the first page: `last_change_to` is "now" then
//! (plus a minute of clock slack), so orders changed while we page cannot enter it and
//! push others to later offsets. They can still *leave* it: an order changed while we
//! page now has a `last_change` after the window's end, and every order behind it moves
//! one offset forward, so the first order of the next page would slip into the page
//! already read. The cursor therefore keeps the count of the previous answer; when the
//! next answer counts `d` fewer, the offset steps back by `d` (re-reading an order is
//! harmless: imports are idempotent). The order that left is met by the next run,
//! whose window starts before this one's end.
//!
//! Cursor text: `v1|<from>|<to>|<offset>|<count>`, times in RFC 3339 UTC.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use tovor_sdk::Config;
use tovor_sdk::time::{OffsetDateTime, format_utc, parse_rfc3339};
use tovor_sdk::types::{ConnectorError, ErrorKind, Order};

use crate::api::Api;
use crate::mapping::{self, MkSalesOrder, Settings, de_text};

/// Metakocka answers at most 50 records a `search` call.
pub const PAGE_SIZE: u64 = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
    pub offset: u64,
    /// `result_all_records` of the previous page (0 on the first).
    pub count: u64,
}

impl Cursor {
    pub fn first(changed_since: OffsetDateTime, now: OffsetDateTime) -> Self {
        Self {
            from: changed_since,
            to: now + time::Duration::minutes(1),
            offset: 0,
            count: 0,
        }
    }

    pub fn encode(&self) -> String {
        format!(
            "v1|{}|{}|{}|{}",
            format_utc(self.from),
            format_utc(self.to),
            self.offset,
            self.count
        )
    }

    pub fn decode(text: &str) -> Result<Self, ConnectorError> {
        let bad = || ConnectorError::invalid_input(format!("{text:?} is not a Metakocka cursor"));
        let parts: Vec<&str> = text.split('|').collect();
        let [version, from, to, offset, count] = parts.as_slice() else {
            return Err(bad());
        };
        if *version != "v1" {
            return Err(bad());
        }
        Ok(Self {
            from: parse_rfc3339(from).map_err(|_| bad())?,
            to: parse_rfc3339(to).map_err(|_| bad())?,
            offset: offset.parse().map_err(|_| bad())?,
            count: count.parse().map_err(|_| bad())?,
        })
    }

    /// Where this page really starts: stepped back by the orders that left the window
    /// since the previous page.
    pub fn start(&self, all_records: u64) -> u64 {
        let left = self.count.saturating_sub(all_records);
        if self.count == 0 {
            self.offset
        } else {
            self.offset.saturating_sub(left)
        }
    }
}

/// Metakocka's time format for `query_advance`: RFC 3339 with an offset.
pub fn mk_time(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
}

/// The body of a `search` for the window's orders from `offset`.
pub fn search_body(cursor: &Cursor, offset: u64) -> Map<String, Value> {
    let body = json!({
        "doc_type": "sales_order",
        "offset": offset.to_string(),
        "limit": PAGE_SIZE.to_string(),
        "query_advance": [
            {"type": "last_change_from", "value": mk_time(cursor.from)},
            {"type": "last_change_to", "value": mk_time(cursor.to)},
        ],
    });
    match body {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[derive(Debug, Deserialize)]
struct Found {
    #[serde(default, deserialize_with = "de_text")]
    mk_id: String,
}

#[derive(Debug, Deserialize)]
struct SearchAnswer {
    #[serde(default, deserialize_with = "de_text")]
    result_all_records: String,
    #[serde(default)]
    result: Vec<Found>,
}

fn number(text: &str, what: &str) -> Result<u64, ConnectorError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    text.parse()
        .map_err(|_| ConnectorError::other(format!("Metakocka's {what} {text:?} is not a count")))
}

/// One page of order ids and the cursor after it.
pub fn page(api: &Api, cursor: &Cursor) -> Result<(Vec<String>, Option<Cursor>), ConnectorError> {
    let mut offset = cursor.offset;
    let mut attempts = 0;
    let mut answer: SearchAnswer;
    loop {
        attempts += 1;
        let value = api.call("v1/search", search_body(cursor, offset))?;
        answer = serde_json::from_value(value).map_err(|error| {
            ConnectorError::other(format!(
                "Metakocka's search answer is not as expected: {error}"
            ))
        })?;
        let all = number(&answer.result_all_records, "result_all_records")?;
        let start = cursor.start(all);
        if start == offset || attempts >= 3 {
            break;
        }
        // Orders left the window since the previous page: read from the earlier offset.
        offset = start;
    }
    let all = number(&answer.result_all_records, "result_all_records")?;
    let ids: Vec<String> = answer
        .result
        .into_iter()
        .map(|found| found.mk_id.trim().to_owned())
        .filter(|id| !id.is_empty())
        .collect();
    let end = offset + ids.len() as u64;
    let next = (!ids.is_empty() && end < all).then(|| Cursor {
        offset: end,
        count: all,
        ..cursor.clone()
    });
    Ok((ids, next))
}

pub fn get_body(id: &str) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("doc_type".into(), Value::String("sales_order".into()));
    body.insert("doc_id".into(), Value::String(id.to_owned()));
    body
}

fn settings(config: &Config) -> Result<Settings, ConnectorError> {
    Settings::new(config.text("tax_codes"), config.text("shipping_codes"))
}

fn map_answer(value: Value, settings: &Settings) -> Result<Order, ConnectorError> {
    let order: MkSalesOrder = serde_json::from_value(value).map_err(|error| {
        ConnectorError::other(format!(
            "Metakocka's sales order is not as expected: {error}"
        ))
    })?;
    mapping::map_order(&order, settings)
        .map_err(|error| error.context(format!("sales order {}", order.count_code)))
}

/// One sales order by `mk_id`.
pub fn get(api: &Api, config: &Config, id: &str) -> Result<Order, ConnectorError> {
    let settings = settings(config)?;
    let value = api.call("v1/get_document", get_body(id.trim()))?;
    map_answer(value, &settings)
}

/// The page of the contract's `list-orders`.
pub fn list(
    api: &Api,
    config: &Config,
    changed_since: OffsetDateTime,
    cursor: Option<&str>,
) -> Result<(Vec<Order>, Option<String>), ConnectorError> {
    let settings = settings(config)?;
    let cursor = match cursor {
        Some(text) => Cursor::decode(text)?,
        None => Cursor::first(changed_since, tovor_sdk::time::now()),
    };
    let (ids, next) = page(api, &cursor)?;
    let requests = ids
        .iter()
        .map(|id| api.request("v1/get_document", get_body(id)))
        .collect();
    let mut orders = Vec::with_capacity(ids.len());
    for (id, answer) in ids.iter().zip(api.call_all(requests)) {
        let value = match answer {
            Ok(value) => value,
            // Deleted between the search and the read: nothing to import.
            Err(error) if error.is(ErrorKind::NotFound) => continue,
            Err(error) => return Err(error.context(format!("Metakocka get_document {id}"))),
        };
        orders.push(map_answer(value, &settings)?);
    }
    Ok((orders, next.map(|cursor| cursor.encode())))
}
