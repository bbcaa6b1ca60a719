//! The catalog: products and their variants with stock keys `{productId}:{variantId}`,
//! so stock pushes need no lookup.
//!
//! Catalog V1: `POST /stores/v1/products/query` with `includeVariants` (offset paging,
//! `totalResults`). Catalog V3: `POST /stores/v3/products/query` (cursor paging), whose
//! products carry `variantsInfo.variants`; stock lives in V3 inventory items, so V3
//! variants come without a stock figure.

use serde_json::{Value, json};
use tovor_sdk::Config;
use tovor_sdk::money;
use tovor_sdk::shop::{Product, ProductPage, ProductVariant};
use tovor_sdk::types::ConnectorError;

use crate::api::Api;
use crate::mapping::{DEFAULT_VARIANT, text};
use crate::stock::{self, CatalogVersion};

const PAGE: usize = 100;

pub fn list(config: &Config, cursor: Option<String>) -> Result<ProductPage, ConnectorError> {
    let api = Api::new(config)?;
    match stock::catalog_version(&api)? {
        CatalogVersion::V1 => list_v1(&api, cursor.as_deref()),
        CatalogVersion::V3 => list_v3(&api, cursor.as_deref()),
    }
}

fn decimal(value: &Value) -> Option<String> {
    if value.is_null() {
        return None;
    }
    money::decimal_from_json(value)
        .ok()
        .map(money::format_decimal)
}

fn choices_name(choices: &Value) -> Option<String> {
    let names: Vec<String> = choices
        .as_object()?
        .values()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    (!names.is_empty()).then(|| names.join(" / "))
}

fn list_v1(api: &Api, cursor: Option<&str>) -> Result<ProductPage, ConnectorError> {
    let offset: usize = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
    let body =
        json!({"query": {"paging": {"limit": PAGE, "offset": offset}}, "includeVariants": true});
    let page: Value = api
        .send(api.post("stores/v1/products/query", &body))?
        .json()?;
    let list = page["products"].as_array().cloned().unwrap_or_default();
    let mut products = Vec::new();
    for product in &list {
        let Some(id) = text(&product["id"]) else {
            continue;
        };
        let variants = product["variants"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|variant| {
                let variant_id = text(&variant["id"])?;
                let stock = &variant["stock"];
                let tracked = stock["trackQuantity"].as_bool().unwrap_or(false);
                Some(ProductVariant {
                    stock_key: format!("{id}:{variant_id}"),
                    variant_id: (variant_id != DEFAULT_VARIANT).then(|| variant_id.clone()),
                    sku: text(&variant["variant"]["sku"]).or_else(|| text(&product["sku"])),
                    barcode: None,
                    name: choices_name(&variant["choices"]),
                    price: decimal(&variant["variant"]["priceData"]["price"]),
                    stock: if tracked {
                        decimal(&stock["quantity"])
                    } else {
                        None
                    },
                    manages_stock: tracked,
                })
            })
            .collect();
        products.push(Product {
            id,
            name: text(&product["name"]).unwrap_or_default(),
            variants,
        });
    }
    let total = page["totalResults"].as_u64().map(|t| t as usize);
    let next = offset + list.len();
    let more = list.len() == PAGE && total.is_none_or(|total| next < total);
    Ok(ProductPage {
        products,
        next_cursor: more.then(|| next.to_string()),
    })
}

fn list_v3(api: &Api, cursor: Option<&str>) -> Result<ProductPage, ConnectorError> {
    let paging = match cursor {
        Some(cursor) => json!({"limit": PAGE, "cursor": cursor}),
        None => json!({"limit": PAGE}),
    };
    let body = json!({"query": {"cursorPaging": paging}, "fields": ["CURRENCY"]});
    let page: Value = api
        .send(api.post("stores/v3/products/query", &body))?
        .json()?;
    let mut products = Vec::new();
    for product in page["products"].as_array().into_iter().flatten() {
        let Some(id) = text(&product["id"]) else {
            continue;
        };
        let variants = product["variantsInfo"]["variants"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|variant| {
                let variant_id = text(&variant["id"])?;
                let names: Vec<String> = variant["choices"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|choice| text(&choice["optionChoiceNames"]["choiceName"]))
                    .collect();
                Some(ProductVariant {
                    stock_key: format!("{id}:{variant_id}"),
                    variant_id: Some(variant_id),
                    sku: text(&variant["sku"]),
                    barcode: text(&variant["barcode"]),
                    name: (!names.is_empty()).then(|| names.join(" / ")),
                    price: decimal(&variant["price"]["actualPrice"]["amount"]),
                    stock: None,
                    manages_stock: true,
                })
            })
            .collect();
        products.push(Product {
            id,
            name: text(&product["name"]).unwrap_or_default(),
            variants,
        });
    }
    let next = text(&page["pagingMetadata"]["cursors"]["next"]);
    let more = page["pagingMetadata"]["hasNext"]
        .as_bool()
        .unwrap_or(next.is_some());
    Ok(ProductPage {
        products,
        next_cursor: if more { next } else { None },
    })
}
