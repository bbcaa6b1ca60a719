//! Stock: absolute levels on whichever catalog the site runs.
//!
//! A Wix site runs Catalog V1 or Catalog V3, never both, and never goes back from V3.
//! The Catalog Versioning API (`GET /stores/v3/provision/version` → `catalogVersion`:
//! `V1_CATALOG`, `V3_CATALOG` or `STORES_NOT_INSTALLED`) says which; the answer is kept
//! in connector state, so it is asked once.
//!
//! # Stock keys
//!
//! Items created from order lines carry the line's variant id, or the product id for a
//! product without options (whose one variant is [`DEFAULT_VARIANT`]); a key may also
//! be `{productId}:{variantId}`. Catalog V1 sets stock per product
//! (`PATCH /stores/v2/inventoryItems/product/{productId}` with its variants), so a bare
//! variant id is looked up once among the site's inventory items
//! (`POST /stores/v2/inventoryItems/query`) and what it names is kept in connector
//! state. Catalog V3 finds inventory items by variant or product id
//! (`POST /stores/v3/inventory-items/query`), which also gives each item's current
//! `revision`.
//!
//! # Revisions (Catalog V3)
//!
//! `POST /stores/v3/bulk/inventory-items/update` needs each item's current `revision`;
//! a stale one is refused (428 or 409, or a failed item naming the revision). The items
//! are then queried again and the update retried, up to [`REVISION_ATTEMPTS`] times:
//! the levels are absolute, so sending them again is safe.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tovor_sdk::Config;
use tovor_sdk::shop::StockUpdate;
use tovor_sdk::state;
use tovor_sdk::types::{ConnectorError, ErrorKind};

use crate::api::{Api, fails_the_batch, segment};
use crate::mapping::{DEFAULT_VARIANT, text};

/// How many levels one push takes: one V3 bulk update (Wix takes up to 1000 items), or
/// on V1 one request per product.
pub const MAX_BATCH: u32 = 50;
/// How many times a V3 update is sent when revisions turned stale in between.
pub const REVISION_ATTEMPTS: usize = 4;
const VERSION_STATE_KEY: &str = "catalog-version";
const TARGET_STATE_PREFIX: &str = "v1-target:";
/// The most V1 inventory pages (of 100 products) a lookup reads.
const MAX_V1_PAGES: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogVersion {
    V1,
    V3,
}

/// The site's catalog version: from connector state, else asked once.
pub fn catalog_version(api: &Api) -> Result<CatalogVersion, ConnectorError> {
    match state::get_text(VERSION_STATE_KEY).ok().flatten().as_deref() {
        Some("V1_CATALOG") => return Ok(CatalogVersion::V1),
        Some("V3_CATALOG") => return Ok(CatalogVersion::V3),
        _ => {}
    }
    let answer: Value = api.send(api.get("stores/v3/provision/version"))?.json()?;
    let raw = answer["catalogVersion"].as_str().unwrap_or_default();
    let version = match raw {
        "V1_CATALOG" => CatalogVersion::V1,
        "V3_CATALOG" => CatalogVersion::V3,
        "STORES_NOT_INSTALLED" => {
            return Err(ConnectorError::new(
                ErrorKind::Unsupported,
                "Wix Stores is not installed on this site: there is no stock to set",
            ));
        }
        other => {
            return Err(ConnectorError::other(format!(
                "Wix answered an unknown catalog version {other:?}"
            )));
        }
    };
    // A cache: a host without state asks again next time.
    let _ = state::set_text(VERSION_STATE_KEY, raw);
    Ok(version)
}

/// A V1 stock target: the product and its variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub product: String,
    pub variant: String,
}

/// `{productId}:{variantId}`, or a bare id.
pub fn split_key(key: &str) -> (Option<&str>, &str) {
    match key.trim().split_once(':') {
        Some((product, variant)) if !product.is_empty() && !variant.is_empty() => {
            (Some(product), variant)
        }
        _ => (None, key.trim()),
    }
}

pub fn push(
    config: &Config,
    levels: &[StockUpdate],
) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
    let api = Api::new(config)?;
    match catalog_version(&api)? {
        CatalogVersion::V1 => push_v1(&api, levels),
        CatalogVersion::V3 => push_v3(&api, levels),
    }
}

// ---------------------------------------------------------------------------------------
// Catalog V1

fn push_v1(
    api: &Api,
    levels: &[StockUpdate],
) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
    let mut results: Vec<Result<(), ConnectorError>> = vec![Ok(()); levels.len()];
    let mut targets: Vec<Option<Target>> = vec![None; levels.len()];
    let mut unknown = Vec::new();
    for (index, level) in levels.iter().enumerate() {
        if let Err(error) = level.whole_quantity() {
            results[index] = Err(error);
            continue;
        }
        let (product, variant) = split_key(&level.key);
        if let Some(product) = product {
            targets[index] = Some(Target {
                product: product.to_owned(),
                variant: variant.to_owned(),
            });
        } else if let Ok(Some(target)) =
            state::get_json::<Target>(&format!("{TARGET_STATE_PREFIX}{variant}"))
        {
            targets[index] = Some(target);
        } else {
            unknown.push(index);
        }
    }
    if !unknown.is_empty() {
        let keys: Vec<&str> = unknown
            .iter()
            .map(|index| split_key(&levels[*index].key).1)
            .collect();
        let found = find_v1_targets(api, &keys)?;
        for index in unknown {
            let key = split_key(&levels[index].key).1;
            match found.get(key) {
                Some(Ok(target)) => {
                    let _ = state::set_json(&format!("{TARGET_STATE_PREFIX}{key}"), target);
                    targets[index] = Some(target.clone());
                }
                Some(Err(error)) => results[index] = Err(error.clone()),
                None => {
                    results[index] = Err(ConnectorError::not_found(format!(
                        "no product or variant {key:?} in the site's Wix Stores inventory"
                    ))
                    .with_field("key"))
                }
            }
        }
    }
    // One PATCH per product, with all its variants of this batch.
    let mut by_product: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, target) in targets.iter().enumerate() {
        if let (Some(target), Ok(())) = (target, &results[index]) {
            by_product
                .entry(target.product.clone())
                .or_default()
                .push(index);
        }
    }
    for (product, indexes) in by_product {
        let variants: Vec<Value> = indexes
            .iter()
            .filter_map(|index| {
                let target = targets[*index].as_ref()?;
                let quantity = levels[*index].whole_quantity().ok()?;
                Some(json!({"variantId": target.variant, "quantity": quantity}))
            })
            .collect();
        let body = json!({"inventoryItem": {"trackQuantity": true, "variants": variants}});
        let path = format!("stores/v2/inventoryItems/product/{}", segment(&product));
        if let Err(error) = api.send(api.patch(&path, &body)) {
            if fails_the_batch(&error) {
                return Err(error);
            }
            if error.is(ErrorKind::NotFound) {
                // The product is gone or the cached target is stale: look it up next time.
                for index in &indexes {
                    let key = split_key(&levels[*index].key).1;
                    let _ = state::delete(&format!("{TARGET_STATE_PREFIX}{key}"));
                }
            }
            for index in indexes {
                results[index] = Err(error.clone());
            }
        }
    }
    Ok(results)
}

/// Reads the site's V1 inventory items until every key is found: a key is a variant
/// id, or a product id of a product with one variant.
fn find_v1_targets(
    api: &Api,
    keys: &[&str],
) -> Result<BTreeMap<String, Result<Target, ConnectorError>>, ConnectorError> {
    let mut found: BTreeMap<String, Result<Target, ConnectorError>> = BTreeMap::new();
    let mut offset = 0usize;
    for _ in 0..MAX_V1_PAGES {
        let body = json!({"query": {"paging": {"limit": 100, "offset": offset}}});
        let page: Value = api
            .send(api.post("stores/v2/inventoryItems/query", &body))?
            .json()?;
        let items = page["inventoryItems"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for item in &items {
            let Some(product) = text(&item["productId"]) else {
                continue;
            };
            let variants: Vec<String> = item["variants"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|variant| text(&variant["variantId"]))
                .collect();
            for key in keys {
                if *key == product {
                    let target = match variants.as_slice() {
                        [only] => Ok(Target {
                            product: product.clone(),
                            variant: only.clone(),
                        }),
                        _ if variants.iter().any(|v| v == DEFAULT_VARIANT) => Ok(Target {
                            product: product.clone(),
                            variant: DEFAULT_VARIANT.to_owned(),
                        }),
                        several => Err(ConnectorError::invalid_field(
                            "key",
                            format!(
                                "Wix product {product} has {} variants: link the item to \
                                 one of them",
                                several.len()
                            ),
                        )),
                    };
                    found.insert((*key).to_owned(), target);
                } else if *key != DEFAULT_VARIANT && variants.iter().any(|v| v == key) {
                    found.insert(
                        (*key).to_owned(),
                        Ok(Target {
                            product: product.clone(),
                            variant: (*key).to_owned(),
                        }),
                    );
                }
            }
        }
        if keys.iter().all(|key| found.contains_key(*key)) {
            break;
        }
        let total = page["totalResults"].as_u64().map(|t| t as usize);
        offset += items.len();
        if items.len() < 100 || total.is_some_and(|total| offset >= total) {
            break;
        }
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------
// Catalog V3

/// An inventory item of V3: id, revision, and what it is the stock of.
#[derive(Debug, Clone)]
struct Item {
    id: String,
    revision: Value,
    product: String,
    variant: String,
}

fn push_v3(
    api: &Api,
    levels: &[StockUpdate],
) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
    let mut results: Vec<Result<(), ConnectorError>> = vec![Ok(()); levels.len()];
    let mut pending: Vec<usize> = Vec::new();
    for (index, level) in levels.iter().enumerate() {
        match level.whole_quantity() {
            Ok(_) => pending.push(index),
            Err(error) => results[index] = Err(error),
        }
    }
    let mut last_conflict = None;
    for _ in 0..REVISION_ATTEMPTS {
        if pending.is_empty() {
            break;
        }
        let items = query_v3_items(
            api,
            &pending.iter().map(|i| &levels[*i]).collect::<Vec<_>>(),
        )?;
        let mut sent: Vec<usize> = Vec::new();
        let mut body_items = Vec::new();
        for index in &pending {
            let key = &levels[*index].key;
            match items.get(key) {
                Some(Ok(item)) => {
                    let quantity = levels[*index].whole_quantity()?;
                    body_items.push(json!({
                        "inventoryItem": {
                            "id": item.id,
                            "revision": item.revision,
                            "trackQuantity": true,
                            "quantity": quantity,
                        },
                        "fieldMask": {"paths": ["trackQuantity", "quantity"]},
                    }));
                    sent.push(*index);
                }
                Some(Err(error)) => results[*index] = Err(error.clone()),
                None => {
                    results[*index] = Err(ConnectorError::not_found(format!(
                        "no inventory item for {key:?} in the site's Wix Stores catalog"
                    ))
                    .with_field("key"))
                }
            }
        }
        if sent.is_empty() {
            pending.clear();
            break;
        }
        let body = json!({"inventoryItems": body_items, "returnEntity": false});
        let answer = api.send(api.post("stores/v3/bulk/inventory-items/update", &body));
        let answer: Value = match answer {
            Ok(response) => response.json()?,
            Err(error) if error.is(ErrorKind::Conflict) => {
                // A stale revision somewhere: query again, send again.
                last_conflict = Some(error);
                pending = sent;
                continue;
            }
            Err(error) if fails_the_batch(&error) => return Err(error),
            Err(error) => {
                for index in sent {
                    results[index] = Err(error.clone());
                }
                pending.clear();
                break;
            }
        };
        pending = Vec::new();
        let outcomes = answer["results"].as_array().cloned().unwrap_or_default();
        for (position, index) in sent.iter().enumerate() {
            let metadata = outcomes
                .iter()
                .map(|outcome| &outcome["itemMetadata"])
                .find(|meta| meta["originalIndex"].as_u64() == Some(position as u64))
                .or_else(|| {
                    outcomes
                        .get(position)
                        .map(|outcome| &outcome["itemMetadata"])
                });
            let Some(metadata) = metadata else {
                continue;
            };
            if metadata["success"].as_bool().unwrap_or(true) {
                continue;
            }
            let code = text(&metadata["error"]["code"]).unwrap_or_default();
            let description = text(&metadata["error"]["description"]).unwrap_or_default();
            if code.to_ascii_uppercase().contains("REVISION") {
                last_conflict =
                    Some(ConnectorError::conflict(description).with_platform_code(code));
                pending.push(*index);
            } else {
                results[*index] = Err(ConnectorError::invalid_input(format!(
                    "Wix refused the stock of {:?}: {description}",
                    levels[*index].key
                ))
                .with_platform_code(code));
            }
        }
    }
    for index in pending {
        results[index] = Err(last_conflict.clone().unwrap_or_else(|| {
            ConnectorError::conflict("the inventory item kept changing on Wix")
        }));
    }
    Ok(results)
}

/// The V3 inventory items the levels' keys name, with their current revisions: by
/// variant id first, then by product id (a product with one variant).
fn query_v3_items(
    api: &Api,
    levels: &[&StockUpdate],
) -> Result<BTreeMap<String, Result<Item, ConnectorError>>, ConnectorError> {
    let mut found: BTreeMap<String, Result<Item, ConnectorError>> = BTreeMap::new();
    let variants: Vec<&str> = levels
        .iter()
        .map(|level| split_key(&level.key).1)
        .filter(|variant| *variant != DEFAULT_VARIANT)
        .collect();
    let by_variant = query_v3(api, "variantId", &variants)?;
    let mut by_product_wanted = Vec::new();
    for level in levels {
        let (product, variant) = split_key(&level.key);
        let hit = by_variant.iter().find(|item| {
            item.variant == variant && product.is_none_or(|product| item.product == product)
        });
        match hit {
            Some(item) => {
                found.insert(level.key.clone(), Ok(item.clone()));
            }
            None => by_product_wanted.push(product.unwrap_or(variant)),
        }
    }
    if by_product_wanted.is_empty() {
        return Ok(found);
    }
    let by_product = query_v3(api, "productId", &by_product_wanted)?;
    for level in levels {
        if found.contains_key(&level.key) {
            continue;
        }
        let (product, variant) = split_key(&level.key);
        let product = product.unwrap_or(variant);
        let items: Vec<&Item> = by_product.iter().filter(|i| i.product == product).collect();
        match items.as_slice() {
            [] => {}
            [only] => {
                found.insert(level.key.clone(), Ok((*only).clone()));
            }
            several => {
                found.insert(
                    level.key.clone(),
                    Err(ConnectorError::invalid_field(
                        "key",
                        format!(
                            "Wix product {product} has {} inventory items: link the item to \
                             one variant",
                            several.len()
                        ),
                    )),
                );
            }
        }
    }
    Ok(found)
}

fn query_v3(api: &Api, field: &str, ids: &[&str]) -> Result<Vec<Item>, ConnectorError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let paging = match &cursor {
            Some(cursor) => json!({"limit": 100, "cursor": cursor}),
            None => json!({"limit": 100}),
        };
        let body = json!({"query": {
            "filter": {field: {"$in": ids}},
            "cursorPaging": paging,
        }});
        let page: Value = api
            .send(api.post("stores/v3/inventory-items/query", &body))?
            .json()?;
        for item in page["inventoryItems"].as_array().into_iter().flatten() {
            if let (Some(id), Some(product)) = (text(&item["id"]), text(&item["productId"])) {
                items.push(Item {
                    id,
                    revision: item["revision"].clone(),
                    product,
                    variant: text(&item["variantId"]).unwrap_or_default(),
                });
            }
        }
        cursor = text(&page["pagingMetadata"]["cursors"]["next"]);
        if cursor.is_none() || page["pagingMetadata"]["hasNext"].as_bool() == Some(false) {
            break;
        }
    }
    Ok(items)
}
