//! Stock: `PATCH /api/stocks/{stockId}/movements` with absolute levels, at most 300
//! rows a call.
//!
//! **Which stock.** The config's `stock_id`, else the e-shop's default stock
//! (`defaultStockId` of `GET /api/stocks`), found once and kept in connector state.
//!
//! **Which figure.** Shoptet keeps `realStock` (physically in the warehouse), `claim`
//! (what its pending orders hold) and `quantity` = realStock − claim (what can still be
//! ordered). The host sends one figure per item, on-hand or available as the shop's
//! stock mode says. Like the other connectors, which set the platform's sellable figure
//! (Shopify's `available`, WooCommerce's `stock_quantity`), the default sets
//! `quantity`; the `stock_field` setting switches to `realStock` for shops whose stock
//! mode is on-hand, where Shoptet subtracts its own claim.
//!
//! **Keys.** Variants and products are addressed by their code (`40/ZEL`), which is
//! what the host keeps from order lines (the variation id) and what the SKU is; a key
//! that is a GUID (a product linked by its product id) falls back to the SKU.
//!
//! **Outcomes.** A partial failure is `200` with an `errors` row per refused code (its
//! `instance`); all rows failing is `400` with the same rows. Both become per-item
//! results; credentials, rate limits and outages fail the batch, which the host retries
//! (levels are absolute, so that is safe).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::json;
use tovor_sdk::shop::StockUpdate;
use tovor_sdk::types::ConnectorError;
use tovor_sdk::{Config, state};

use crate::api::{Api, ApiError, Envelope, envelope_errors, fails_the_batch};
use crate::mapping::is_guid;

/// Rows Shoptet takes per call.
pub const MAX_BATCH: u32 = 300;
/// The state key of the default stock id.
const STOCK_STATE_KEY: &str = "default-stock-id";

/// Which absolute figure is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockField {
    Quantity,
    RealStock,
}

impl StockField {
    pub fn from_config(config: &Config) -> Result<Self, ConnectorError> {
        match config.text("stock_field").map(str::trim) {
            None | Some("quantity") => Ok(Self::Quantity),
            Some("realStock") => Ok(Self::RealStock),
            Some(other) => Err(ConnectorError::invalid_field(
                "stock_field",
                format!("{other:?} is neither quantity nor realStock"),
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Quantity => "quantity",
            Self::RealStock => "realStock",
        }
    }
}

/// The product code a level is set for.
pub fn product_code(level: &StockUpdate) -> Result<String, ConnectorError> {
    let key = level.key.trim();
    if !key.is_empty() && !is_guid(key) {
        return Ok(key.to_owned());
    }
    level
        .sku
        .as_deref()
        .map(str::trim)
        .filter(|sku| !sku.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            ConnectorError::invalid_field(
                "key",
                format!(
                    "{key:?} is not a Shoptet product code and the item has no code: link \
                     it to the product or variant code (e.g. 40/ZEL)"
                ),
            )
        })
}

/// The rows of one movements call: `{"productCode": ..., "<field>": n}`.
pub fn movement_rows(rows: &[(String, i64)], field: StockField) -> serde_json::Value {
    json!({
        "data": rows
            .iter()
            .map(|(code, quantity)| json!({ "productCode": code, field.name(): quantity }))
            .collect::<Vec<_>>()
    })
}

/// Sets the levels; see the module.
pub fn push(
    config: &Config,
    levels: &[StockUpdate],
) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
    let api = Api::new(config)?;
    let field = StockField::from_config(config)?;
    let stock = stock_id(&api, config)?;
    let mut results: Vec<Option<Result<(), ConnectorError>>> = vec![None; levels.len()];
    let mut rows: Vec<(usize, String, i64)> = Vec::new();
    for (index, level) in levels.iter().enumerate() {
        // A negative level makes no sense to a shop (the host sends none).
        match product_code(level).and_then(|code| Ok((code, level.whole_quantity()?.max(0)))) {
            Ok((code, quantity)) => rows.push((index, code, quantity)),
            Err(error) => results[index] = Some(Err(error.context(&level.key))),
        }
    }
    for chunk in rows.chunks(MAX_BATCH as usize) {
        let body = movement_rows(
            &chunk
                .iter()
                .map(|(_, code, quantity)| (code.clone(), *quantity))
                .collect::<Vec<_>>(),
            field,
        );
        let path = format!("/api/stocks/{stock}/movements");
        let response = api.send_unchecked(api.patch(&path, &body))?;
        let row_errors = match response.status {
            200..=299 => envelope_errors(&response.body),
            400 => {
                let errors = envelope_errors(&response.body);
                if errors.is_empty() || errors.iter().any(|error| error.instance.is_none()) {
                    api.check(response)?;
                    Vec::new()
                } else {
                    errors
                }
            }
            404 => {
                forget_default_stock();
                let error = api
                    .check(response)
                    .err()
                    .unwrap_or_else(|| ConnectorError::not_found("no such stock"));
                return Err(ConnectorError::not_found(format!(
                    "Shoptet has no stock {stock} ({}); set the stock id",
                    error.message
                ))
                .with_field("stock_id")
                .with_http_status(404));
            }
            _ => {
                let error = api
                    .check(response)
                    .err()
                    .unwrap_or_else(|| ConnectorError::other("unexpected answer"));
                if fails_the_batch(&error) {
                    return Err(error);
                }
                for (index, code, _) in chunk {
                    results[*index] = Some(Err(error.clone().context(code)));
                }
                continue;
            }
        };
        let by_code = errors_by_code(row_errors);
        for (index, code, _) in chunk {
            results[*index] = Some(match by_code.get(code.as_str()) {
                Some(error) => Err(row_error(error, code)),
                None => Ok(()),
            });
        }
    }
    Ok(results
        .into_iter()
        .map(|result| result.unwrap_or_else(|| Err(ConnectorError::other("not pushed"))))
        .collect())
}

fn errors_by_code(errors: Vec<ApiError>) -> HashMap<String, ApiError> {
    errors
        .into_iter()
        .filter_map(|error| Some((error.instance.clone()?.trim().to_owned(), error)))
        .collect()
}

/// A refused row: an unknown code is `not-found`, anything else (a product set, which
/// cannot be stocked) `invalid-input`.
pub fn row_error(error: &ApiError, code: &str) -> ConnectorError {
    let message = format!(
        "Shoptet refused the stock of {code}: {}",
        error.message.as_deref().unwrap_or("no reason given")
    );
    let mapped = match error.error_code.as_deref() {
        Some("unknown-product") => ConnectorError::not_found(message),
        _ => ConnectorError::invalid_field("key", message),
    };
    match &error.error_code {
        Some(code) => mapped.with_platform_code(code.clone()),
        None => mapped,
    }
}

/// The stock levels are set in.
fn stock_id(api: &Api, config: &Config) -> Result<i64, ConnectorError> {
    if let Some(id) = config.integer("stock_id")? {
        return Ok(id);
    }
    if let Ok(Some(text)) = state::get_text(STOCK_STATE_KEY)
        && let Ok(id) = text.trim().parse()
    {
        return Ok(id);
    }
    default_stock_id(api)
}

/// `defaultStockId` of `GET /api/stocks`, kept in state.
pub fn default_stock_id(api: &Api) -> Result<i64, ConnectorError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        #[serde(default)]
        default_stock_id: Option<i64>,
        #[serde(default)]
        stocks: Vec<Stock>,
    }
    #[derive(Deserialize)]
    struct Stock {
        id: i64,
    }
    let envelope: Envelope<Data> = api.send(api.get("/api/stocks"))?.json()?;
    let data = envelope
        .data
        .ok_or_else(|| ConnectorError::other("Shoptet listed no stocks"))?;
    let id = data
        .default_stock_id
        .or(match data.stocks.as_slice() {
            [only] => Some(only.id),
            _ => None,
        })
        .ok_or_else(|| {
            ConnectorError::invalid_field(
                "stock_id",
                "the e-shop names no default stock: set the stock id",
            )
        })?;
    if let Err(error) = state::set_text(STOCK_STATE_KEY, &id.to_string()) {
        tovor_sdk::log::debug(format!(
            "cannot keep the default stock id: {}",
            error.message
        ));
    }
    Ok(id)
}

fn forget_default_stock() {
    if let Err(error) = state::delete(STOCK_STATE_KEY) {
        tovor_sdk::log::debug(format!(
            "cannot forget the default stock: {}",
            error.message
        ));
    }
}
