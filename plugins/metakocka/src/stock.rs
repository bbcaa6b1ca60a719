//! Stock to Metakocka: `POST /rest/eshop/sync_stock` with
//! `stock_list[{warehouse_id, product_code | product_id, amount}]`, which sets the
//! absolute amount of each item in a warehouse (Metakocka writes it into a stock count
//! dated the previous day). The answer is `opr_code "0"` with an `error_list` of the
//! rows it refused (`product_code`, `warehouse_id`, `error`), which become per-level
//! results.
//!
//! **Why the whole stock is sent.** Metakocka documents that "the total stock for all
//! warehouses must be sent in one request" and that an item of the count missing from
//! the request "will be removed from stock" (listed in the answer's
//! `stock_remove_list`). Sending only the levels that changed would wipe every other
//! item. So a push first reads Metakocka's current stock of every warehouse
//! (`POST /rest/eshop/v1/json/warehouse_stock`, paged with `offset` / `limit`), sums
//! its rows per warehouse and item (an item has one row per microlocation; amounts are
//! strings, maybe negative or with a decimal comma), replaces the amounts of the
//! levels pushed in the configured warehouse (adding the items it does not hold yet)
//! and sends that whole list in one `sync_stock` request. A non-empty
//! `stock_remove_list` in the answer should therefore not happen; it is logged as a
//! warning naming the items.
//!
//! **Remaining race.** A stock change made in Metakocka between the read and the
//! write (a delivery, an invoice) is overwritten by the amount read. Metakocka offers
//! no conditional write, so the window is kept short: one read, then one write.
//!
//! **Keys.** Metakocka matches its item code to the shop's SKU, so the code sent is the
//! item's SKU in tovor; a level without one falls back to its key (a Metakocka `mk_id`,
//! all digits, goes as `product_id`; anything else as the code). A level matches a row
//! read by its `count_code` or `code` (a code) or its `mk_id` (an id).
//!
//! `import_inventory` was not used: it refuses a second count of an item on the same
//! date (`opr_code "5"`), so a level could be set only once a day.

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tovor_sdk::Config;
use tovor_sdk::money::format_decimal;
use tovor_sdk::shop::StockUpdate;
use tovor_sdk::types::{ConnectorError, ErrorKind};

use crate::api::Api;
use crate::mapping::de_text;

/// Levels per push: every level of a push goes in the one `sync_stock` request with
/// the whole stock anyway, so fewer, larger pushes mean fewer full reads.
pub const MAX_BATCH: u32 = 1000;
pub const WAREHOUSE_FIELD: &str = "warehouse_id";
/// `warehouse_stock`'s default and largest page.
pub const STOCK_PAGE: usize = 1000;
/// A guard against an answer that never ends (a million rows).
const MAX_PAGES: usize = 1000;

/// The identification of a level: `("product_code", code)` or `("product_id", mk_id)`.
pub fn product_ref(level: &StockUpdate) -> Result<(&'static str, String), ConnectorError> {
    if let Some(sku) = level
        .sku
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        return Ok(("product_code", sku.to_owned()));
    }
    let key = level.key.trim();
    if key.is_empty() {
        return Err(ConnectorError::invalid_field(
            "key",
            "the item has no code: give it the Metakocka item code as its code",
        ));
    }
    if key.bytes().all(|b| b.is_ascii_digit()) {
        Ok(("product_id", key.to_owned()))
    } else {
        Ok(("product_code", key.to_owned()))
    }
}

/// One row of `warehouse_stock`'s `stock_list` (one item in one microlocation).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StockRow {
    #[serde(deserialize_with = "de_text")]
    pub warehouse_id: String,
    #[serde(deserialize_with = "de_text")]
    pub mk_id: String,
    #[serde(deserialize_with = "de_text")]
    pub count_code: String,
    #[serde(deserialize_with = "de_text")]
    pub code: String,
    #[serde(deserialize_with = "de_text")]
    pub amount: String,
}

/// An amount as Metakocka writes it: `"47"`, `"-3"`, `"863,75"`.
pub fn parse_amount(text: &str) -> Option<Decimal> {
    let text = text.trim();
    if text.is_empty() {
        return Some(Decimal::ZERO);
    }
    text.replace(',', ".").parse().ok()
}

/// One item of the `sync_stock` list.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub warehouse_id: String,
    /// The item's code (`count_code`), sent as `product_code` when known.
    pub product_code: String,
    /// The item's `mk_id`, sent as `product_id` when known.
    pub product_id: String,
    /// The shop's code (`code`) of a row read, to match a level's SKU; never sent.
    pub code: String,
    pub amount: Decimal,
}

impl Item {
    fn to_json(&self) -> Value {
        let mut item = Map::new();
        item.insert("warehouse_id".into(), json!(self.warehouse_id));
        if !self.product_code.is_empty() {
            item.insert("product_code".into(), json!(self.product_code));
        }
        if !self.product_id.is_empty() {
            item.insert("product_id".into(), json!(self.product_id));
        }
        item.insert(
            "amount".into(),
            json!(format_decimal(self.amount.normalize())),
        );
        Value::Object(item)
    }

    fn is(&self, field: &str, id: &str) -> bool {
        if field == "product_id" {
            self.product_id == id
        } else {
            self.product_code == id || self.code == id
        }
    }
}

/// The whole stock to send: `rows` read from Metakocka summed per warehouse and item,
/// with `levels` (`(field, id, amount)`) set in `warehouse`. Answers the items and,
/// per level, the index of its item.
pub fn merge(
    rows: &[StockRow],
    warehouse: &str,
    levels: &[(&'static str, String, Decimal)],
) -> Result<(Vec<Item>, Vec<usize>), ConnectorError> {
    let mut items: Vec<Item> = Vec::new();
    for row in rows {
        let amount = parse_amount(&row.amount).ok_or_else(|| {
            ConnectorError::other(format!(
                "Metakocka's stock of {} has an amount that is not a number: {:?}",
                row.count_code, row.amount
            ))
        })?;
        let (warehouse_id, mk_id, count_code) = (
            row.warehouse_id.trim(),
            row.mk_id.trim(),
            row.count_code.trim(),
        );
        let same = items.iter_mut().find(|item| {
            item.warehouse_id == warehouse_id
                && if mk_id.is_empty() {
                    item.product_code == count_code
                } else {
                    item.product_id == mk_id
                }
        });
        match same {
            Some(item) => item.amount += amount,
            None => items.push(Item {
                warehouse_id: warehouse_id.to_owned(),
                product_code: count_code.to_owned(),
                product_id: mk_id.to_owned(),
                code: row.code.trim().to_owned(),
                amount,
            }),
        }
    }
    let mut placed = Vec::with_capacity(levels.len());
    for (field, id, amount) in levels {
        let found = items
            .iter()
            .position(|item| item.warehouse_id == warehouse && item.is(field, id));
        let index = match found {
            Some(index) => {
                items[index].amount = *amount;
                index
            }
            None => {
                let (product_code, product_id) = if *field == "product_id" {
                    (String::new(), id.clone())
                } else {
                    (id.clone(), String::new())
                };
                items.push(Item {
                    warehouse_id: warehouse.to_owned(),
                    product_code,
                    product_id,
                    code: String::new(),
                    amount: *amount,
                });
                items.len() - 1
            }
        };
        placed.push(index);
    }
    Ok((items, placed))
}

/// The `sync_stock` body (without the credentials).
pub fn sync_body(items: &[Item]) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert(
        "stock_list".into(),
        Value::Array(items.iter().map(Item::to_json).collect()),
    );
    body
}

#[derive(Debug, Deserialize)]
struct StockPage {
    #[serde(default)]
    stock_list: Vec<StockRow>,
    #[serde(default, deserialize_with = "de_text")]
    limit: String,
}

/// Every row of Metakocka's current stock, all warehouses.
pub fn read_all(api: &Api) -> Result<Vec<StockRow>, ConnectorError> {
    let mut rows = Vec::new();
    for _ in 0..MAX_PAGES {
        let mut body = Map::new();
        body.insert("offset".into(), json!(rows.len().to_string()));
        body.insert("limit".into(), json!(STOCK_PAGE.to_string()));
        let value = api.call("v1/json/warehouse_stock", body)?;
        let page: StockPage = serde_json::from_value(value).map_err(|error| {
            ConnectorError::other(format!(
                "Metakocka's warehouse_stock answer is not as expected: {error}"
            ))
        })?;
        // The answer says the page size it used; a shorter page is the last.
        let limit = page
            .limit
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|limit| *limit > 0)
            .unwrap_or(STOCK_PAGE);
        let count = page.stock_list.len();
        rows.extend(page.stock_list);
        if count == 0 || count < limit {
            return Ok(rows);
        }
    }
    Err(ConnectorError::other(
        "Metakocka's warehouse_stock did not end after 1000 pages",
    ))
}

#[derive(Debug, Deserialize)]
struct RowError {
    #[serde(default, deserialize_with = "de_text")]
    product_code: String,
    #[serde(default, deserialize_with = "de_text")]
    product_id: String,
    #[serde(default, deserialize_with = "de_text")]
    warehouse_id: String,
    #[serde(default, deserialize_with = "de_text")]
    error: String,
}

#[derive(Debug, Deserialize)]
struct SyncAnswer {
    #[serde(default)]
    error_list: Vec<RowError>,
    /// An object for one item in Metakocka's example, so a list or an object.
    #[serde(default)]
    stock_remove_list: Value,
}

/// The items named in `stock_remove_list` (`warehouse/code`).
pub fn removed(list: &Value) -> Vec<String> {
    let entries: Vec<&Value> = match list {
        Value::Array(entries) => entries.iter().collect(),
        Value::Object(_) => vec![list],
        _ => Vec::new(),
    };
    entries
        .into_iter()
        .map(|entry| {
            let text = |name: &str| entry.get(name).and_then(Value::as_str).unwrap_or("");
            let id = if text("product_code").is_empty() {
                text("product_id")
            } else {
                text("product_code")
            };
            format!("{}/{id}", text("warehouse_id"))
        })
        .collect()
}

pub fn push(
    api: &Api,
    config: &Config,
    levels: &[StockUpdate],
) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
    let warehouse = config
        .text(WAREHOUSE_FIELD)
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .ok_or_else(|| {
            ConnectorError::invalid_field(
                WAREHOUSE_FIELD,
                "set the Metakocka warehouse id to send stock to",
            )
        })?
        .to_owned();
    let mut results: Vec<Option<Result<(), ConnectorError>>> = vec![None; levels.len()];
    let mut wanted = Vec::new();
    let mut sent = Vec::new();
    for (index, level) in levels.iter().enumerate() {
        match product_ref(level) {
            Ok((field, id)) => {
                wanted.push((field, id, level.quantity));
                sent.push(index);
            }
            Err(error) => results[index] = Some(Err(error)),
        }
    }
    if !wanted.is_empty() {
        let current = read_all(api)?;
        let (items, placed) = merge(&current, &warehouse, &wanted)?;
        let value = api.call("sync_stock", sync_body(&items))?;
        let answer: SyncAnswer = serde_json::from_value(value).map_err(|error| {
            ConnectorError::other(format!(
                "Metakocka's sync_stock answer is not as expected: {error}"
            ))
        })?;
        let gone = removed(&answer.stock_remove_list);
        if !gone.is_empty() {
            tovor_sdk::log::warn(format!(
                "Metakocka removed stock of items not sent (warehouse/item): {}",
                gone.join(", ")
            ));
        }
        for ((level, item), index) in wanted.iter().zip(&placed).zip(&sent) {
            let item = &items[*item];
            let refused = answer.error_list.iter().find(|error| {
                let warehouse_ok =
                    error.warehouse_id.trim().is_empty() || error.warehouse_id.trim() == warehouse;
                let code = error.product_code.trim();
                let id = error.product_id.trim();
                warehouse_ok
                    && ((!code.is_empty() && (code == item.product_code || code == level.1))
                        || (!id.is_empty() && id == item.product_id))
            });
            results[*index] = Some(match refused {
                None => Ok(()),
                Some(error) => {
                    let message = format!("Metakocka refused {}: {}", level.1, error.error.trim());
                    let kind = if error.error.to_lowercase().contains("not found") {
                        ErrorKind::NotFound
                    } else {
                        ErrorKind::InvalidInput
                    };
                    Err(ConnectorError::new(kind, message))
                }
            });
        }
    }
    Ok(results
        .into_iter()
        .map(|result| result.unwrap_or_else(|| Err(ConnectorError::other("no result"))))
        .collect())
}
