//! Absolute stock levels through WooCommerce's batch endpoints.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};
use tovor_sdk::shop::StockUpdate;
use tovor_sdk::types::{ConnectorError, ErrorKind};

use crate::api::{self, Api};
use crate::woo;

/// Objects per batch request: WooCommerce's default `woocommerce_rest_batch_items_limit`.
pub const BATCH_LIMIT: usize = 100;

/// Where a stock level goes: a product's own stock, or a variation's. A bare id may be
/// either: the contract's key for an item linked by hand (or from an order line) is
/// its variant id when it has one, and WooCommerce's variation ids do not say whose
/// they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockTarget {
    Product(u64),
    Variation { product: u64, variation: u64 },
}

/// Reads a stock key back: `"55"` (a product) or `"55:57"` (variation 57 of product 55),
/// as the catalog hands them out.
pub fn stock_target(key: &str) -> Result<StockTarget, ConnectorError> {
    let id = |text: &str| -> Result<u64, ConnectorError> {
        text.trim().parse().map_err(|_| {
            ConnectorError::invalid_field(
                "key",
                format!(
                    "{key:?} is not a WooCommerce stock key (a product id, or \
                     product:variation for a variation; list the products to link it)"
                ),
            )
        })
    };
    match key.split_once(':') {
        None => Ok(StockTarget::Product(id(key)?)),
        Some((product, variation)) => Ok(StockTarget::Variation {
            product: id(product)?,
            variation: id(variation)?,
        }),
    }
}

/// One item of a batch: where its result goes, the id in the batch, the level.
type BatchItem = (usize, u64, i64);

/// Sets the levels: simple products in one batch endpoint, variations per parent
/// (WooCommerce only updates a variation reliably through its parent's variations
/// endpoint), all batches sent at once. One result per level; the whole push fails only
/// for trouble with the shop itself.
pub fn push(
    api: &Api,
    levels: &[StockUpdate],
) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
    let mut results: Vec<Option<Result<(), ConnectorError>>> = vec![None; levels.len()];
    let mut products: Vec<BatchItem> = Vec::new();
    let mut variations: BTreeMap<u64, Vec<BatchItem>> = BTreeMap::new();
    let targets: Vec<Result<(StockTarget, i64), ConnectorError>> = levels
        .iter()
        .map(|level| Ok((stock_target(&level.key)?, level.whole_quantity()?)))
        .collect();
    let bare: Vec<u64> = targets
        .iter()
        .filter_map(|target| match target {
            Ok((StockTarget::Product(id), _)) => Some(*id),
            _ => None,
        })
        .collect();
    let resolved = resolve_bare_ids(api, &bare)?;
    for (index, (level, target)) in levels.iter().zip(targets).enumerate() {
        let target = target.and_then(|(target, quantity)| match target {
            StockTarget::Product(id) => match resolved.get(&id) {
                Some(Err(error)) => Err(error.clone()),
                Some(Ok(resolved)) => Ok((*resolved, quantity)),
                None => Ok((target, quantity)),
            },
            StockTarget::Variation { .. } => Ok((target, quantity)),
        });
        match target {
            Ok((StockTarget::Product(product), quantity)) => {
                products.push((index, product, quantity));
            }
            Ok((StockTarget::Variation { product, variation }, quantity)) => variations
                .entry(product)
                .or_default()
                .push((index, variation, quantity)),
            Err(error) => results[index] = Some(Err(error.context(&level.key))),
        }
    }
    let mut batches: Vec<(String, &[BatchItem])> = products
        .chunks(BATCH_LIMIT)
        .map(|chunk| ("/products/batch".to_owned(), chunk))
        .collect();
    for (parent, items) in &variations {
        let path = format!("/products/{parent}/variations/batch");
        batches.extend(items.chunks(BATCH_LIMIT).map(|chunk| (path.clone(), chunk)));
    }
    let requests = batches
        .iter()
        .map(|(path, items)| api.request("POST", path, &[], Some(&batch_body(items))))
        .collect();
    for ((_, items), answer) in batches.iter().zip(api.send_all(requests)) {
        match answer {
            Ok(response) => record_batch(&response.json()?, items, &mut results),
            // The shop itself is in trouble: the host retries the whole push, which is
            // safe because levels are absolute.
            Err(error)
                if matches!(
                    error.kind,
                    ErrorKind::Auth
                        | ErrorKind::Permission
                        | ErrorKind::RateLimited
                        | ErrorKind::Transient
                ) =>
            {
                return Err(error);
            }
            // Anything else concerns this batch's items (an unknown parent product).
            Err(error) => {
                for (index, _, _) in items.iter() {
                    results[*index] = Some(Err(error.clone()));
                }
            }
        }
    }
    Ok(results
        .into_iter()
        .map(|result| {
            result.unwrap_or_else(|| Err(ConnectorError::other("no result for this item")))
        })
        .collect())
}

/// What each bare id is: a product, a variation (of which parent), or nothing. Products
/// are the common case and cost one listing per 100 (`include` lists products, never
/// variations); only the ids it does not find are fetched one by one, all at once.
fn resolve_bare_ids(
    api: &Api,
    ids: &[u64],
) -> Result<HashMap<u64, Result<StockTarget, ConnectorError>>, ConnectorError> {
    let ids: Vec<u64> = ids
        .iter()
        .copied()
        .collect::<BTreeSet<u64>>()
        .into_iter()
        .collect();
    let mut resolved = HashMap::new();
    let mut unknown = Vec::new();
    for chunk in ids.chunks(api::PAGE_SIZE) {
        let include: Vec<String> = chunk.iter().map(u64::to_string).collect();
        let listed: Vec<Value> = api
            .get(
                "/products",
                &[
                    ("include", include.join(",")),
                    ("per_page", api::PAGE_SIZE.to_string()),
                    ("_fields", "id".to_owned()),
                ],
            )?
            .json()?;
        let found: BTreeSet<u64> = listed.iter().filter_map(|p| p["id"].as_u64()).collect();
        for id in chunk {
            if found.contains(id) {
                resolved.insert(*id, Ok(StockTarget::Product(*id)));
            } else {
                unknown.push(*id);
            }
        }
    }
    let requests = unknown
        .iter()
        .map(|id| {
            let fields = [("_fields", "id,type,parent_id".to_owned())];
            api.request("GET", &format!("/products/{id}"), &fields, None)
        })
        .collect();
    for (id, answer) in unknown.iter().zip(api.send_all(requests)) {
        let target = match answer {
            Ok(response) => {
                let item: Value = response.json()?;
                match (item["type"].as_str(), item["parent_id"].as_u64()) {
                    (Some("variation"), Some(parent)) if parent != 0 => {
                        Ok(StockTarget::Variation {
                            product: parent,
                            variation: *id,
                        })
                    }
                    // A product the listing leaves out (in the trash, say): the batch
                    // answers for it.
                    _ => Ok(StockTarget::Product(*id)),
                }
            }
            Err(error) if error.is(ErrorKind::NotFound) => Err(error),
            Err(error) => return Err(error),
        };
        resolved.insert(*id, target);
    }
    Ok(resolved)
}

/// `{"update": [...]}` setting absolute stock, with stock management switched on: a
/// level pushed for an item means we keep its stock.
fn batch_body(items: &[BatchItem]) -> Value {
    let update: Vec<Value> = items
        .iter()
        .map(|(_, id, quantity)| json!({ "id": id, "manage_stock": true, "stock_quantity": quantity }))
        .collect();
    json!({ "update": update })
}

/// Per-item outcomes of one batch answer, into `results`.
fn record_batch(
    answer: &Value,
    items: &[BatchItem],
    results: &mut [Option<Result<(), ConnectorError>>],
) {
    let answered = answer["update"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (position, (index, id, _)) in items.iter().enumerate() {
        // Core answers in request order; look the id up in case it did not.
        let item = answered
            .get(position)
            .filter(|item| item["id"].as_u64() == Some(*id))
            .or_else(|| {
                answered
                    .iter()
                    .find(|item| item["id"].as_u64() == Some(*id))
            });
        let result = match item {
            Some(item) => woo::batch_item_result(item),
            None => Err(ConnectorError::other(format!(
                "WooCommerce's batch answer has no result for id {id}"
            ))),
        };
        if let Some(slot) = results.get_mut(*index) {
            *slot = Some(result);
        }
    }
}
