//! Stock: which inventory item a stock key names, and at which location its level is
//! set (`POST inventory_levels/set.json` with `location_id`, `inventory_item_id` and the
//! absolute `available`).
//!
//! # Stock keys
//!
//! The host keeps a stock key per linked item and hands it back opaque. This connector's
//! catalog gives each variant its inventory item as Shopify's own global id
//! (`gid://shopify/InventoryItem/808950810`), so a push needs no lookup. Items linked by
//! hand (or created from an order's lines) carry the variant id, else the product id, as
//! a plain number; links made by the contract 0.1 connector carry the plain inventory
//! item id. A plain number is therefore tried as a variant, then as an inventory item,
//! then as a product with one variant, and what it names is kept in connector state, so
//! the next push of that item makes no lookup.
//!
//! # Location
//!
//! The config's `location_id`, else the shop's primary location (`primary_location_id`
//! of `GET shop.json`, or the only active one of `GET locations.json`), kept in
//! connector state for a day so a push does not ask again.
//!
//! Connector state is a cache here: when the host keeps none (or it is full) the
//! connector looks things up again, it never fails a push for it.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::json;
use tovor_sdk::Config;
use tovor_sdk::shop::StockUpdate;
use tovor_sdk::state;
use tovor_sdk::types::{ConnectorError, ErrorKind};

use crate::api::{Api, fails_the_batch};

/// How many levels one `push_stock` call takes. Each level whose inventory item is
/// known costs one request; Shopify's Standard bucket holds 40 and the connector stops
/// at 38 (see [`crate::api`]), and after a stop it asks the host to wait until the bucket
/// is half empty. 20 levels fit into that half, which leaves the other half for the
/// one-time lookups of keys not yet cached and for the next batch, so back-to-back
/// batches rarely stop half-way. (Plus plans, with a bucket of 400, would take more, but
/// the connector cannot know the plan before its first answer.)
pub const MAX_BATCH: u32 = 20;

/// How long the primary location found by lookup is trusted.
const LOCATION_MAX_AGE_SECONDS: i64 = 24 * 60 * 60;
/// The state key of the primary location.
const LOCATION_STATE_KEY: &str = "primary-location";
/// The prefix of the state keys that cache what a stock key names.
const ITEM_STATE_PREFIX: &str = "inventory-item-of:";
const GID_PREFIX: &str = "gid://shopify/";

/// What a stock key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockKey {
    /// `gid://shopify/InventoryItem/{id}`: what the catalog gives.
    InventoryItem(u64),
    /// `gid://shopify/ProductVariant/{id}`.
    Variant(u64),
    /// `gid://shopify/Product/{id}`: a product with one variant.
    Product(u64),
    /// A plain number: a variant or product id linked by hand, or an inventory item id
    /// from a link the contract 0.1 connector made.
    Number(u64),
}

impl StockKey {
    /// Parses a key; anything else is `invalid-input` naming `key`.
    pub fn parse(key: &str) -> Result<Self, ConnectorError> {
        let key = key.trim();
        let invalid = || {
            ConnectorError::invalid_field(
                "key",
                format!(
                    "{key:?} is not a Shopify stock key (an inventory item, variant or \
                     product: a number or gid://shopify/...)"
                ),
            )
        };
        let id = |text: &str| text.parse::<u64>().ok().filter(|id| *id > 0);
        if let Some(global) = key.strip_prefix(GID_PREFIX) {
            let (kind, number) = global.split_once('/').ok_or_else(invalid)?;
            let number = id(number).ok_or_else(invalid)?;
            return match kind {
                "InventoryItem" => Ok(Self::InventoryItem(number)),
                "ProductVariant" => Ok(Self::Variant(number)),
                "Product" => Ok(Self::Product(number)),
                _ => Err(invalid()),
            };
        }
        id(key).map(Self::Number).ok_or_else(invalid)
    }

    /// The state key caching what this key names (none for an inventory item: it names
    /// itself).
    fn state_key(self) -> Option<String> {
        match self {
            Self::InventoryItem(_) => None,
            other => Some(format!("{ITEM_STATE_PREFIX}{other}")),
        }
    }
}

impl fmt::Display for StockKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InventoryItem(id) => write!(f, "{GID_PREFIX}InventoryItem/{id}"),
            Self::Variant(id) => write!(f, "{GID_PREFIX}ProductVariant/{id}"),
            Self::Product(id) => write!(f, "{GID_PREFIX}Product/{id}"),
            Self::Number(id) => write!(f, "{id}"),
        }
    }
}

/// Where levels are set, and whether it came from a lookup (which a refusal may have
/// made stale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
    Configured(u64),
    Primary(u64),
}

impl Location {
    fn id(self) -> u64 {
        match self {
            Self::Configured(id) | Self::Primary(id) => id,
        }
    }
}

/// The primary location as kept in state.
#[derive(Debug, Serialize, Deserialize)]
struct CachedLocation {
    id: u64,
    /// Unix seconds.
    fetched_at: i64,
}

/// Sets absolute levels; see the module documentation.
pub fn push(
    config: &Config,
    levels: &[StockUpdate],
) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
    let api = Api::new(config)?;
    let location = location(&api, config)?;
    let mut results = Vec::with_capacity(levels.len());
    for level in levels {
        match push_level(&api, location, level) {
            // Trouble with the shop as a whole fails the call: the host retries it,
            // which is safe because levels are absolute.
            Err(error) if fails_the_batch(&error) => return Err(error),
            // Anything else concerns this one item (unknown variant, not tracked).
            other => results.push(other.map_err(|error| error.context(&level.key))),
        }
    }
    Ok(results)
}

fn push_level(api: &Api, location: Location, level: &StockUpdate) -> Result<(), ConnectorError> {
    let key = StockKey::parse(&level.key)?;
    let available = level.whole_quantity()?;
    let item = inventory_item(api, key)?;
    let body = json!({
        "location_id": location.id(),
        "inventory_item_id": item,
        "available": available,
    });
    match api.send(api.post("inventory_levels/set.json", &body)) {
        Ok(_) => Ok(()),
        Err(error) => {
            if error.is(ErrorKind::NotFound) {
                // The item is gone (variant deleted): look the key up afresh next time.
                forget(key.state_key().as_deref());
            }
            if error.http_status == Some(422)
                && matches!(location, Location::Primary(_))
                && error.message.contains("location")
            {
                // The primary location may have changed since it was looked up.
                forget(Some(LOCATION_STATE_KEY));
            }
            Err(error)
        }
    }
}

/// The inventory item `key` names: from the key itself, from state, or looked up (and
/// then kept in state).
fn inventory_item(api: &Api, key: StockKey) -> Result<u64, ConnectorError> {
    let Some(state_key) = key.state_key() else {
        return match key {
            StockKey::InventoryItem(item) => Ok(item),
            other => resolve(api, other),
        };
    };
    if let Some(item) = cached(&state_key) {
        return Ok(item);
    }
    let item = resolve(api, key)?;
    remember(&state_key, &item.to_string());
    Ok(item)
}

/// Asks Shopify what `key` names.
fn resolve(api: &Api, key: StockKey) -> Result<u64, ConnectorError> {
    match key {
        StockKey::InventoryItem(item) => Ok(item),
        StockKey::Variant(id) => variant_item(api, id)?
            .ok_or_else(|| ConnectorError::not_found(format!("Shopify has no variant {id}"))),
        StockKey::Product(id) => product_item(api, id)?
            .ok_or_else(|| ConnectorError::not_found(format!("Shopify has no product {id}"))),
        StockKey::Number(id) => {
            if let Some(item) = variant_item(api, id)? {
                return Ok(item);
            }
            if inventory_item_exists(api, id)? {
                return Ok(id);
            }
            product_item(api, id)?.ok_or_else(|| {
                ConnectorError::not_found(format!(
                    "Shopify has no variant, inventory item or product {id}"
                ))
            })
        }
    }
}

/// `GET variants/{id}.json`: its `inventory_item_id`; `None` when there is no such
/// variant.
fn variant_item(api: &Api, id: u64) -> Result<Option<u64>, ConnectorError> {
    #[derive(Deserialize)]
    struct One {
        variant: Variant,
    }
    #[derive(Deserialize)]
    struct Variant {
        inventory_item_id: Option<u64>,
    }
    let request = api
        .get(&format!("variants/{id}.json"))
        .query_param("fields", "id,inventory_item_id");
    let Some(one) = get_if_exists::<One>(api, request)? else {
        return Ok(None);
    };
    one.variant.inventory_item_id.map(Some).ok_or_else(|| {
        ConnectorError::not_found(format!("Shopify variant {id} has no inventory item"))
    })
}

/// `GET inventory_items/{id}.json`: whether the item exists.
fn inventory_item_exists(api: &Api, id: u64) -> Result<bool, ConnectorError> {
    let request = api.get(&format!("inventory_items/{id}.json"));
    Ok(get_if_exists::<serde_json::Value>(api, request)?.is_some())
}

/// `GET products/{id}.json`: the inventory item of its only variant; `None` when there
/// is no such product, `invalid-input` when it has several variants.
fn product_item(api: &Api, id: u64) -> Result<Option<u64>, ConnectorError> {
    #[derive(Deserialize)]
    struct One {
        product: Product,
    }
    #[derive(Deserialize)]
    struct Product {
        #[serde(default)]
        variants: Vec<Variant>,
    }
    #[derive(Deserialize)]
    struct Variant {
        inventory_item_id: Option<u64>,
    }
    let request = api
        .get(&format!("products/{id}.json"))
        .query_param("fields", "id,variants");
    let Some(one) = get_if_exists::<One>(api, request)? else {
        return Ok(None);
    };
    match one.product.variants.as_slice() {
        [only] => only.inventory_item_id.map(Some).ok_or_else(|| {
            ConnectorError::not_found(format!("Shopify product {id} has no inventory item"))
        }),
        variants => Err(ConnectorError::invalid_field(
            "key",
            format!(
                "Shopify product {id} has {} variants, each with its own stock: link the \
                 item to one of them",
                variants.len()
            ),
        )),
    }
}

/// A GET whose 404 means "no such thing" rather than an error.
fn get_if_exists<T: serde::de::DeserializeOwned>(
    api: &Api,
    request: tovor_sdk::http::Request,
) -> Result<Option<T>, ConnectorError> {
    let response = api.send_unchecked(request)?;
    if response.status == 404 {
        return Ok(None);
    }
    crate::api::check(response)?.json().map(Some)
}

/// Where levels are set: the configured location, else the primary one.
fn location(api: &Api, config: &Config) -> Result<Location, ConnectorError> {
    if let Some(id) = config.integer("location_id")? {
        let id = u64::try_from(id).ok().filter(|id| *id > 0).ok_or_else(|| {
            ConnectorError::invalid_field(
                "location_id",
                format!("{id} is not a Shopify location id"),
            )
        })?;
        return Ok(Location::Configured(id));
    }
    let now = tovor_sdk::time::now().unix_timestamp();
    if let Some(cached) = cached_json::<CachedLocation>(LOCATION_STATE_KEY)
        && now - cached.fetched_at < LOCATION_MAX_AGE_SECONDS
    {
        return Ok(Location::Primary(cached.id));
    }
    let id = primary_location(api)?;
    remember_primary_location(id);
    Ok(Location::Primary(id))
}

/// Keeps the shop's primary location (also learned by the connection check).
pub fn remember_primary_location(id: u64) {
    let value = CachedLocation {
        id,
        fetched_at: tovor_sdk::time::now().unix_timestamp(),
    };
    if let Err(error) = state::set_json(LOCATION_STATE_KEY, &value) {
        tovor_sdk::log::warn(format!(
            "cannot keep the primary location in connector state: {}",
            error.message
        ));
    }
}

/// `primary_location_id` of `GET shop.json`; else the only active location of `GET
/// locations.json`.
fn primary_location(api: &Api) -> Result<u64, ConnectorError> {
    #[derive(Deserialize)]
    struct ShopOne {
        shop: Shop,
    }
    #[derive(Deserialize)]
    struct Shop {
        #[serde(default)]
        primary_location_id: Option<u64>,
    }
    let shop: ShopOne = api
        .send(
            api.get("shop.json")
                .query_param("fields", "primary_location_id"),
        )?
        .json()?;
    if let Some(id) = shop.shop.primary_location_id {
        return Ok(id);
    }
    #[derive(Deserialize)]
    struct Locations {
        locations: Vec<ShopifyLocation>,
    }
    #[derive(Deserialize)]
    struct ShopifyLocation {
        id: u64,
        #[serde(default)]
        name: String,
        #[serde(default = "active_by_default")]
        active: bool,
    }
    fn active_by_default() -> bool {
        true
    }
    let list: Locations = api.send(api.get("locations.json"))?.json()?;
    let active: Vec<&ShopifyLocation> = list.locations.iter().filter(|l| l.active).collect();
    match active.as_slice() {
        [only] => Ok(only.id),
        [] => Err(
            ConnectorError::not_found("the shop has no active location to keep stock at")
                .with_field("location_id"),
        ),
        several => Err(ConnectorError::invalid_field(
            "location_id",
            format!(
                "the shop has {} locations ({}) and names no primary one: set the location id",
                several.len(),
                several
                    .iter()
                    .map(|l| format!("{} {}", l.id, l.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// A cached number; a state that cannot be read counts as empty.
fn cached(key: &str) -> Option<u64> {
    match state::get_text(key) {
        Ok(value) => value.and_then(|text| text.trim().parse().ok()),
        Err(error) => {
            tovor_sdk::log::debug(format!(
                "connector state unreadable, looking {key:?} up: {}",
                error.message
            ));
            None
        }
    }
}

fn cached_json<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    state::get_json(key).unwrap_or_else(|error| {
        tovor_sdk::log::debug(format!(
            "connector state unreadable, looking {key:?} up: {}",
            error.message
        ));
        None
    })
}

fn remember(key: &str, value: &str) {
    if let Err(error) = state::set_text(key, value) {
        tovor_sdk::log::warn(format!(
            "cannot keep {key:?} in connector state (it will be looked up again): {}",
            error.message
        ));
    }
}

fn forget(key: Option<&str>) {
    if let Some(key) = key
        && let Err(error) = state::delete(key)
    {
        tovor_sdk::log::debug(format!(
            "cannot drop {key:?} from connector state: {}",
            error.message
        ));
    }
}
