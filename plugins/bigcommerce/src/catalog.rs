//! The catalog: `GET /v3/catalog/products?include=variants` with `page` and `limit`
//! (`meta.pagination`), so items can be linked by SKU before they are first ordered.
//!
//! Every product has at least one variant (its base variant, the one without option
//! values). A variant's stock key is its id, what [`crate::stock`] reads as a variant;
//! a product that tracks stock on the product itself (`inventory_tracking: product`)
//! has one stock for all its variants, so each of them gets `product:{id}`.

use serde::Deserialize;
use tovor_sdk::Config;
use tovor_sdk::address::non_blank;
use tovor_sdk::money::{self, Decimal};
use tovor_sdk::shop::{Product, ProductPage, ProductVariant};
use tovor_sdk::types::ConnectorError;

use crate::api::Api;
use crate::mapping::{self, amount};

/// Products per page (v3 allows up to 250; each comes with all its variants).
pub const PAGE_SIZE: u32 = 50;

#[derive(Debug, Deserialize)]
pub struct CatalogPage {
    #[serde(default)]
    pub data: Vec<CatalogProduct>,
    #[serde(default)]
    pub meta: Meta,
}

#[derive(Debug, Default, Deserialize)]
pub struct Meta {
    #[serde(default)]
    pub pagination: Pagination,
}

#[derive(Debug, Default, Deserialize)]
pub struct Pagination {
    #[serde(default)]
    pub current_page: u32,
    #[serde(default)]
    pub total_pages: u32,
}

#[derive(Debug, Deserialize)]
pub struct CatalogProduct {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub inventory_tracking: Option<String>,
    #[serde(default)]
    pub inventory_level: Option<i64>,
    #[serde(default)]
    pub variants: Vec<CatalogVariant>,
}

#[derive(Debug, Deserialize)]
pub struct CatalogVariant {
    pub id: u64,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub upc: Option<String>,
    #[serde(default)]
    pub gtin: Option<String>,
    #[serde(default, with = "amount")]
    pub calculated_price: Decimal,
    #[serde(default)]
    pub inventory_level: Option<i64>,
    #[serde(default)]
    pub option_values: Vec<OptionValue>,
}

#[derive(Debug, Deserialize)]
pub struct OptionValue {
    #[serde(default)]
    pub label: Option<String>,
}

/// A product with its variants as the contract has them.
pub fn map_product(product: CatalogProduct) -> Product {
    let tracking = product.inventory_tracking.as_deref().unwrap_or("none");
    let variants = product
        .variants
        .into_iter()
        .map(|variant| {
            let name = variant
                .option_values
                .iter()
                .filter_map(|value| non_blank(value.label.as_deref()))
                .collect::<Vec<_>>()
                .join(" / ");
            let (stock_key, stock) = match tracking {
                "product" => (format!("product:{}", product.id), product.inventory_level),
                _ => (variant.id.to_string(), variant.inventory_level),
            };
            ProductVariant {
                stock_key,
                variant_id: Some(variant.id.to_string()),
                sku: non_blank(variant.sku.as_deref()),
                barcode: non_blank(variant.gtin.as_deref())
                    .or_else(|| non_blank(variant.upc.as_deref())),
                name: non_blank(Some(&name)),
                price: Some(money::format_decimal(variant.calculated_price)),
                stock: (tracking != "none")
                    .then_some(stock)
                    .flatten()
                    .map(|level| level.to_string()),
                manages_stock: tracking != "none",
            }
        })
        .collect();
    Product {
        id: product.id.to_string(),
        name: product.name,
        variants,
    }
}

pub fn list(config: &Config, cursor: Option<String>) -> Result<ProductPage, ConnectorError> {
    let api = Api::new(config)?;
    let page: u32 = match cursor.as_deref() {
        None => 1,
        Some(text) => text
            .trim()
            .parse()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| {
                ConnectorError::invalid_field("cursor", format!("{text:?} is not a page number"))
            })?,
    };
    let response = api.get(
        "/v3/catalog/products",
        &[
            ("include", "variants".to_owned()),
            ("page", page.to_string()),
            ("limit", PAGE_SIZE.to_string()),
        ],
    )?;
    let listed: CatalogPage = mapping::parse(&response.body, "product list")?;
    let more = listed.meta.pagination.total_pages > page && !listed.data.is_empty();
    Ok(ProductPage {
        products: listed.data.into_iter().map(map_product).collect(),
        next_cursor: more.then(|| (page + 1).to_string()),
    })
}
