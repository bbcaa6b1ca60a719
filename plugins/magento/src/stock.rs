//! Stock levels, by SKU: through Multi-Source Inventory where the store has it, else
//! through the legacy CatalogInventory API.
//!
//! - MSI (Magento 2.3+ with the Inventory modules): `POST /V1/inventory/source-items`
//!   with `{"sourceItems": [{"sku", "source_code", "quantity", "status"}]}` for the
//!   configured source (`source_code`, `default` unless set). One call saves a batch,
//!   all or nothing: when Magento refuses the batch with a 400 (an unknown SKU), each
//!   level is sent alone so the others still land and each refusal names its SKU.
//! - Legacy: `GET /V1/stockItems/{sku}` for the stock item's `item_id`, then
//!   `PUT /V1/products/{sku}/stockItems/{itemId}` with `{"stockItem": {"qty",
//!   "is_in_stock"}}`.
//!
//! Which one applies is probed once, `GET /V1/inventory/sources` (a 404 "Request does
//! not match any route" means the MSI modules are absent), and kept in connector state;
//! an MSI call that later hits a missing route probes again.
//!
//! The key is the SKU: the host sends the item's code (the SKU the order line carried)
//! beside the key; a level without one uses the key. SKUs are percent-encoded in
//! paths (they may hold `/`; Apache must allow encoded slashes for such SKUs to reach
//! Magento, `AllowEncodedSlashes NoDecode`).

use serde::Deserialize;
use serde_json::{Value, json};
use tovor_sdk::Config;
use tovor_sdk::money::Decimal;
use tovor_sdk::shop::StockUpdate;
use tovor_sdk::state;
use tovor_sdk::types::{ConnectorError, ErrorKind};

use crate::api::{Api, is_missing_route, segment};

/// Levels per `push-stock` call.
pub const MAX_BATCH: u32 = 50;
/// The connector state key of the probed stock API.
pub const STATE_KEY: &str = "stock_api";
/// The source when none is configured: the one every Magento has.
pub const DEFAULT_SOURCE: &str = "default";

/// Which stock API the store has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockApi {
    Msi,
    Legacy,
}

impl StockApi {
    fn as_str(self) -> &'static str {
        match self {
            Self::Msi => "msi",
            Self::Legacy => "legacy",
        }
    }
}

/// `GET /V1/inventory/sources`: the sources, or `None` without MSI.
pub fn sources(api: &Api) -> Result<Option<Vec<String>>, ConnectorError> {
    #[derive(Deserialize)]
    struct Source {
        source_code: String,
    }
    #[derive(Deserialize)]
    struct Sources {
        #[serde(default)]
        items: Vec<Source>,
    }
    match api.get("/inventory/sources", &[]) {
        Ok(response) => {
            let sources: Sources = response.json()?;
            Ok(Some(
                sources.items.into_iter().map(|s| s.source_code).collect(),
            ))
        }
        Err(error) if is_missing_route(&error) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Probes the store and remembers the answer.
pub fn probe(api: &Api) -> Result<StockApi, ConnectorError> {
    let found = match sources(api)? {
        Some(_) => StockApi::Msi,
        None => StockApi::Legacy,
    };
    state::set_text(STATE_KEY, found.as_str())?;
    Ok(found)
}

fn known() -> Result<Option<StockApi>, ConnectorError> {
    Ok(match state::get_text(STATE_KEY)?.as_deref() {
        Some("msi") => Some(StockApi::Msi),
        Some("legacy") => Some(StockApi::Legacy),
        _ => None,
    })
}

pub fn source_code(config: &Config) -> String {
    config
        .text("source_code")
        .map(str::trim)
        .filter(|code| !code.is_empty())
        .unwrap_or(DEFAULT_SOURCE)
        .to_owned()
}

/// The SKU a level is for.
fn sku(level: &StockUpdate) -> Result<String, ConnectorError> {
    level
        .sku
        .as_deref()
        .map(str::trim)
        .filter(|sku| !sku.is_empty())
        .or_else(|| Some(level.key.trim()).filter(|key| !key.is_empty()))
        .map(str::to_owned)
        .ok_or_else(|| ConnectorError::invalid_field("sku", "the stock level names no SKU"))
}

/// The body of `POST /V1/inventory/source-items` for these levels.
pub fn source_items_body(source: &str, levels: &[(String, Decimal)]) -> Value {
    let items: Vec<Value> = levels
        .iter()
        .map(|(sku, quantity)| {
            json!({
                "sku": sku,
                "source_code": source,
                "quantity": decimal_number(*quantity),
                "status": i32::from(*quantity > Decimal::ZERO),
            })
        })
        .collect();
    json!({ "sourceItems": items })
}

/// A quantity as a JSON number (Magento's `quantity`/`qty` are floats); whole
/// numbers as integers.
fn decimal_number(quantity: Decimal) -> Value {
    let normalized = quantity.normalize();
    if normalized.scale() == 0
        && let Ok(whole) = i64::try_from(normalized.mantissa())
    {
        return json!(whole);
    }
    serde_json::from_str(&normalized.to_string()).unwrap_or(Value::Null)
}

pub fn push(
    config: &Config,
    levels: &[StockUpdate],
) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
    let api = Api::new(config)?;
    let mut parsed = Vec::with_capacity(levels.len());
    for level in levels {
        parsed.push(sku(level).map(|sku| (sku, level.quantity)));
    }
    let kind = match known()? {
        Some(kind) => kind,
        None => probe(&api)?,
    };
    let result = match kind {
        StockApi::Msi => push_msi(&api, &source_code(config), &parsed),
        StockApi::Legacy => push_legacy(&api, &parsed),
    };
    match result {
        // MSI was removed since we probed: probe again and go the other way.
        Err(error) if is_missing_route(&error) => match probe(&api)? {
            StockApi::Msi => Err(error),
            StockApi::Legacy => push_legacy(&api, &parsed),
        },
        other => other,
    }
}

type Parsed = Result<(String, Decimal), ConnectorError>;

fn push_msi(
    api: &Api,
    source: &str,
    levels: &[Parsed],
) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
    let valid: Vec<(String, Decimal)> = levels.iter().filter_map(|l| l.clone().ok()).collect();
    let mut results: Vec<Result<(), ConnectorError>> =
        levels.iter().map(|level| level.clone().map(drop)).collect();
    if valid.is_empty() {
        return Ok(results);
    }
    match api.post(
        "/inventory/source-items",
        &source_items_body(source, &valid),
    ) {
        Ok(_) => Ok(results),
        Err(error) if error.is(ErrorKind::InvalidInput) && valid.len() > 1 => {
            // Find which levels Magento refuses: one at a time.
            for (index, level) in levels.iter().enumerate() {
                let Ok((sku, quantity)) = level else { continue };
                let body = source_items_body(source, &[(sku.clone(), *quantity)]);
                results[index] = match api.post("/inventory/source-items", &body) {
                    Ok(_) => Ok(()),
                    Err(error) if platform_trouble(&error) => return Err(error),
                    Err(error) => Err(error.context(format!("SKU {sku}"))),
                };
            }
            Ok(results)
        }
        Err(error) if error.is(ErrorKind::InvalidInput) => {
            if let Some(index) = levels.iter().position(Result::is_ok) {
                results[index] = Err(error.context(format!("SKU {}", valid[0].0)));
            }
            Ok(results)
        }
        Err(error) => Err(error),
    }
}

/// The legacy stock item of a SKU: its `item_id`.
fn stock_item_id(api: &Api, sku: &str) -> Result<u64, ConnectorError> {
    #[derive(Deserialize)]
    struct StockItem {
        item_id: u64,
    }
    let item: StockItem = api
        .get(&format!("/stockItems/{}", segment(sku)), &[])?
        .json()?;
    Ok(item.item_id)
}

fn push_legacy(
    api: &Api,
    levels: &[Parsed],
) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
    let mut results = Vec::with_capacity(levels.len());
    for level in levels {
        let (sku, quantity) = match level {
            Ok(level) => level.clone(),
            Err(error) => {
                results.push(Err(error.clone()));
                continue;
            }
        };
        let set = || -> Result<(), ConnectorError> {
            let item_id = stock_item_id(api, &sku)?;
            let body = json!({"stockItem": {
                "qty": decimal_number(quantity),
                "is_in_stock": quantity > Decimal::ZERO,
            }});
            api.put(
                &format!("/products/{}/stockItems/{item_id}", segment(&sku)),
                &body,
            )?;
            Ok(())
        };
        match set() {
            Ok(()) => results.push(Ok(())),
            Err(error) if platform_trouble(&error) => return Err(error),
            Err(error) => results.push(Err(error.context(format!("SKU {sku}")))),
        }
    }
    Ok(results)
}

/// Trouble with the platform itself, not with one level: the whole batch is retried.
fn platform_trouble(error: &ConnectorError) -> bool {
    error.is_retryable() || error.is(ErrorKind::Auth) || error.is(ErrorKind::Permission)
}
