//! Stock: `stock_availables`, one row per product without combinations
//! (`id_product_attribute` 0) or per combination, found by
//! `filter[id_product]` and `filter[id_product_attribute]` and written back whole with
//! an XML `PUT /api/stock_availables/{id}`. And the catalog (`products`,
//! `combinations`), so items can be linked by SKU (`reference`) to their stock keys.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};
use tovor_sdk::money::Decimal;
use tovor_sdk::shop::{Product, ProductPage, ProductVariant, StockUpdate};
use tovor_sdk::types::ConnectorError;

use crate::api::{self, Api, cdata, de_id, de_text, id_set, text_of};
use crate::mapping::{parse_stock_key, stock_key};

/// Levels per `push-stock` call: two requests each (find the row, write it).
pub const MAX_BATCH: u32 = 50;
/// Products per catalog page.
pub const PRODUCT_PAGE: u64 = 50;

/// A resource as XML for a write, every field as PrestaShop gave it in JSON except
/// `overrides`; the `associations` are left out (a `PUT` without them keeps them).
pub fn resource_xml(
    node: &str,
    fields: &Map<String, Value>,
    overrides: &[(&str, String)],
) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n",
    );
    xml.push_str(&format!("<{node}>\n"));
    for (name, value) in fields {
        if name == "associations" || overrides.iter().any(|(field, _)| field == name) {
            continue;
        }
        if value.is_array() || value.is_object() {
            continue;
        }
        xml.push_str(&format!("<{name}>{}</{name}>\n", cdata(&text_of(value))));
    }
    for (name, value) in overrides {
        xml.push_str(&format!("<{name}>{}</{name}>\n", cdata(value)));
    }
    xml.push_str(&format!("</{node}>\n</prestashop>\n"));
    xml
}

/// Where a level goes: (product, combination or 0).
fn target(level: &StockUpdate) -> Result<(u64, u64), ConnectorError> {
    parse_stock_key(&level.key).ok_or_else(|| {
        ConnectorError::invalid_field(
            "key",
            format!(
                "{:?} is not a PrestaShop stock key (a product id, or product:combination; \
                 list the products to link the item)",
                level.key
            ),
        )
    })
}

pub fn push(
    api: &Api,
    levels: &[StockUpdate],
) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
    let mut results: Vec<Option<Result<(), ConnectorError>>> = vec![None; levels.len()];
    // Find every row at once.
    let mut finds = Vec::new();
    let mut wanted = Vec::new();
    for (index, level) in levels.iter().enumerate() {
        match target(level).and_then(|t| level.whole_quantity().map(|q| (t, q))) {
            Ok(((product, attribute), quantity)) => {
                finds.push(
                    api.get("stock_availables")
                        .query_param("display", "full")
                        .query_param("filter[id_product]", format!("[{product}]"))
                        .query_param("filter[id_product_attribute]", format!("[{attribute}]")),
                );
                wanted.push((index, product, attribute, quantity));
            }
            Err(error) => results[index] = Some(Err(error)),
        }
    }
    let mut writes = Vec::new();
    let mut written = Vec::new();
    for ((index, product, attribute, quantity), answer) in
        wanted.into_iter().zip(api.send_all(finds))
    {
        let rows: Vec<Map<String, Value>> = match answer
            .and_then(|response| api::list_rows(&response, "stock_availables"))
        {
            Ok(rows) => rows,
            // The shop itself is in trouble: the whole batch is retried.
            Err(error) if error.is_retryable() || error.is(tovor_sdk::types::ErrorKind::Auth) => {
                return Err(error);
            }
            Err(error) => {
                results[index] = Some(Err(error));
                continue;
            }
        };
        let Some(row) = rows.into_iter().next() else {
            results[index] = Some(Err(ConnectorError::not_found(format!(
                "PrestaShop has no stock_available for product {product}, combination {attribute}"
            ))));
            continue;
        };
        let id = row.get("id").map(text_of).unwrap_or_default();
        if id.is_empty() {
            results[index] = Some(Err(ConnectorError::other(
                "PrestaShop's stock_available has no id",
            )));
            continue;
        }
        let xml = resource_xml(
            "stock_available",
            &row,
            &[("quantity", quantity.to_string())],
        );
        writes.push(api.put_xml(&format!("stock_availables/{id}"), xml));
        written.push(index);
    }
    for (index, answer) in written.into_iter().zip(api.send_all(writes)) {
        match answer {
            Ok(_) => results[index] = Some(Ok(())),
            Err(error) if error.is_retryable() => return Err(error),
            Err(error) => results[index] = Some(Err(error)),
        }
    }
    Ok(results
        .into_iter()
        .map(|result| result.unwrap_or_else(|| Err(ConnectorError::other("no result"))))
        .collect())
}

#[derive(Deserialize)]
struct ProductRow {
    #[serde(deserialize_with = "de_id")]
    id: u64,
    #[serde(default, deserialize_with = "de_text")]
    name: String,
    #[serde(default, deserialize_with = "de_text")]
    reference: String,
    #[serde(default, deserialize_with = "de_text")]
    ean13: String,
    #[serde(default, with = "tovor_sdk::money::lenient_option")]
    price: Option<Decimal>,
}

#[derive(Deserialize)]
struct CombinationRow {
    #[serde(deserialize_with = "de_id")]
    id: u64,
    #[serde(default, deserialize_with = "de_id")]
    id_product: u64,
    #[serde(default, deserialize_with = "de_text")]
    reference: String,
    #[serde(default, deserialize_with = "de_text")]
    ean13: String,
}

#[derive(Deserialize)]
struct StockRow {
    #[serde(default, deserialize_with = "de_id")]
    id_product: u64,
    #[serde(default, deserialize_with = "de_id")]
    id_product_attribute: u64,
    #[serde(default, with = "tovor_sdk::money::lenient_option")]
    quantity: Option<Decimal>,
}

/// A page of products with their combinations and stock; the cursor is the offset.
pub fn list_products(api: &Api, cursor: Option<&str>) -> Result<ProductPage, ConnectorError> {
    let offset: u64 = match cursor {
        Some(text) => text.trim().parse().map_err(|_| {
            ConnectorError::invalid_input(format!("{text:?} is not a product cursor"))
        })?,
        None => 0,
    };
    let products: Vec<ProductRow> = api.list(
        api.get("products")
            .query_param("display", "[id,name,reference,ean13,price]")
            .query_param("sort", "[id_ASC]")
            .query_param("limit", format!("{offset},{PRODUCT_PAGE}")),
        "products",
    )?;
    if products.is_empty() {
        return Ok(ProductPage {
            products: Vec::new(),
            next_cursor: None,
        });
    }
    let ids = id_set(products.iter().map(|p| p.id));
    let mut answers = api
        .send_all(vec![
            api.get("combinations")
                .query_param("display", "[id,id_product,reference,ean13]")
                .query_param("filter[id_product]", &ids),
            api.get("stock_availables")
                .query_param("display", "[id,id_product,id_product_attribute,quantity]")
                .query_param("filter[id_product]", &ids),
        ])
        .into_iter();
    let combinations: Vec<CombinationRow> = api::list_rows(
        &answers
            .next()
            .unwrap_or_else(|| Err(ConnectorError::other("combinations were not read")))?,
        "combinations",
    )?;
    let stock: Vec<StockRow> = api::list_rows(
        &answers
            .next()
            .unwrap_or_else(|| Err(ConnectorError::other("stock was not read")))?,
        "stock_availables",
    )?;
    let stock: BTreeMap<(u64, u64), Option<Decimal>> = stock
        .into_iter()
        .map(|row| ((row.id_product, row.id_product_attribute), row.quantity))
        .collect();
    let text = |value: &str| {
        let value = value.trim();
        (!value.is_empty()).then(|| value.to_owned())
    };
    let full_page = products.len() as u64 >= PRODUCT_PAGE;
    let products = products
        .into_iter()
        .map(|product| {
            let own: Vec<&CombinationRow> = combinations
                .iter()
                .filter(|c| c.id_product == product.id)
                .collect();
            let variants = if own.is_empty() {
                vec![ProductVariant {
                    stock_key: stock_key(product.id, 0),
                    variant_id: None,
                    sku: text(&product.reference),
                    barcode: text(&product.ean13),
                    name: None,
                    price: product.price.map(tovor_sdk::money::format_decimal),
                    stock: stock
                        .get(&(product.id, 0))
                        .copied()
                        .flatten()
                        .map(tovor_sdk::money::format_decimal),
                    manages_stock: true,
                }]
            } else {
                own.iter()
                    .map(|combination| {
                        let key = stock_key(product.id, combination.id);
                        ProductVariant {
                            stock_key: key.clone(),
                            variant_id: Some(key),
                            sku: text(&combination.reference),
                            barcode: text(&combination.ean13),
                            name: None,
                            price: None,
                            stock: stock
                                .get(&(product.id, combination.id))
                                .copied()
                                .flatten()
                                .map(tovor_sdk::money::format_decimal),
                            manages_stock: true,
                        }
                    })
                    .collect()
            };
            Product {
                id: product.id.to_string(),
                name: product.name,
                variants,
            }
        })
        .collect();
    Ok(ProductPage {
        products,
        next_cursor: full_page.then(|| (offset + PRODUCT_PAGE).to_string()),
    })
}
