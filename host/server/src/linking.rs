//! Linking a shop's products to catalog items by SKU.
//!
//! Orders teach the host links as they arrive, but stock can only be pushed to products
//! the host knows: linking the whole catalog up front lets a shop get stock for items
//! nobody has ordered yet, and learns the ids orders do not carry (Shopify's inventory
//! item id).

use tovor_domain::{CompanyId, ItemId};
use tovor_runtime::model::CatalogEntry;
use tovor_store::catalog::ItemLink;
use tovor_store::shops::Shop;

use crate::connectors::shop_client;
use crate::error::ServiceError;
use crate::metrics;
use crate::state::AppState;

/// How many product pages one linking run reads at most: a guard against a connector
/// that keeps handing out cursors.
const MAX_PAGES: u32 = 10_000;

/// How many unmatched SKUs a report names; the count covers all of them.
const UNMATCHED_LISTED: usize = 100;

/// What a linking run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LinkReport {
    /// Products (or variations) read from the shop.
    pub products: u64,
    /// Links made or completed (a known link that gained its inventory id counts).
    pub linked: u64,
    /// Products already linked exactly so.
    pub already_linked: u64,
    /// Products whose SKU no item has.
    pub unmatched: u64,
    /// The first unmatched SKUs, for the user to create or fix.
    pub unmatched_skus: Vec<String>,
    /// Products without a SKU: nothing to match them by.
    pub without_sku: u64,
}

/// The link a product would give the item whose code is its SKU; `None` for a product
/// without a SKU or product id.
pub fn proposed_link(product: &CatalogEntry) -> Option<(String, ProposedLink)> {
    let sku = product.sku.as_deref().map(str::trim)?;
    let product_id = product.product_id.trim();
    if sku.is_empty() || product_id.is_empty() {
        return None;
    }
    let non_empty = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    Some((
        sku.to_owned(),
        ProposedLink {
            product_id: product_id.to_owned(),
            variation_id: non_empty(&product.variant_id),
            inventory_id: non_empty(&product.stock_key),
        },
    ))
}

/// A product's ids, to be linked to an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedLink {
    pub product_id: String,
    pub variation_id: Option<String>,
    pub inventory_id: Option<String>,
}

impl ProposedLink {
    /// Whether `existing` already says everything this link would.
    pub fn is_known(&self, existing: &[ItemLink]) -> bool {
        existing.iter().any(|link| {
            link.product_id == self.product_id
                && link.variation_id == self.variation_id
                && (self.inventory_id.is_none() || link.inventory_id == self.inventory_id)
        })
    }
}

/// Reads every product of `shop` through its connector and links those whose SKU is an
/// item's code.
pub async fn link_products(
    state: &AppState,
    company: CompanyId,
    shop: &Shop,
) -> Result<LinkReport, ServiceError> {
    let client = shop_client(state, shop)?;
    let scope = state.store.company(company);
    let mut report = LinkReport::default();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = client.list_products(cursor.as_deref()).await;
        metrics::plugin_call(&shop.settings.plugin_id, "list-products", page.is_ok());
        let page = page?;
        for product in &page.entries {
            report.products += 1;
            let Some((sku, proposed)) = proposed_link(product) else {
                report.without_sku += 1;
                continue;
            };
            let Some(item) = scope.item_by_code(&sku).await? else {
                report.unmatched += 1;
                if report.unmatched_skus.len() < UNMATCHED_LISTED {
                    report.unmatched_skus.push(sku);
                }
                continue;
            };
            let existing: Vec<ItemLink> = scope
                .item_links(item.id)
                .await?
                .into_iter()
                .filter(|link| link.shop == shop.id)
                .collect();
            if proposed.is_known(&existing) {
                report.already_linked += 1;
                continue;
            }
            scope.link_item(&link_of(shop, item.id, proposed)).await?;
            report.linked += 1;
        }
        match page.next_cursor {
            Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
            _ => return Ok(report),
        }
    }
    Err(ServiceError::Invalid(format!(
        "the connector kept handing out product pages after {MAX_PAGES}"
    )))
}

fn link_of(shop: &Shop, item: ItemId, proposed: ProposedLink) -> ItemLink {
    ItemLink {
        shop: shop.id,
        item,
        product_id: proposed.product_id,
        variation_id: proposed.variation_id,
        inventory_id: proposed.inventory_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tovor_domain::ShopId;

    fn product(sku: Option<&str>, product: &str, variation: Option<&str>) -> CatalogEntry {
        CatalogEntry {
            sku: sku.map(str::to_owned),
            product_id: product.to_owned(),
            variant_id: variation.map(str::to_owned),
            stock_key: None,
            name: "Mug".into(),
            price: None,
            stock: None,
            manages_stock: true,
        }
    }

    fn link(variation: Option<&str>, inventory: Option<&str>) -> ItemLink {
        ItemLink {
            shop: ShopId(1),
            item: ItemId(1),
            product_id: "55".into(),
            variation_id: variation.map(str::to_owned),
            inventory_id: inventory.map(str::to_owned),
        }
    }

    #[test]
    fn a_product_without_sku_proposes_nothing() {
        assert_eq!(proposed_link(&product(None, "55", None)), None);
        assert_eq!(proposed_link(&product(Some("  "), "55", None)), None);
    }

    #[test]
    fn a_variation_proposes_its_parent_and_its_own_id() {
        let (sku, proposed) = proposed_link(&product(Some(" MUG-B "), "55", Some("57"))).unwrap();
        assert_eq!(sku, "MUG-B");
        assert_eq!(proposed.product_id, "55");
        assert_eq!(proposed.variation_id.as_deref(), Some("57"));
    }

    #[test]
    fn a_known_link_is_not_made_again_unless_it_gains_an_inventory_id() {
        let mut incoming = product(Some("MUG-B"), "55", Some("57"));
        let (_, proposed) = proposed_link(&incoming).unwrap();
        assert!(proposed.is_known(&[link(Some("57"), None)]));
        assert!(!proposed.is_known(&[link(Some("58"), None)]));
        assert!(!proposed.is_known(&[link(None, None)]));

        incoming.stock_key = Some("808".into());
        let (_, proposed) = proposed_link(&incoming).unwrap();
        assert!(!proposed.is_known(&[link(Some("57"), None)]));
        assert!(proposed.is_known(&[link(Some("57"), Some("808"))]));
    }
}
