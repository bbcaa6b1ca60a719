//! Items: by shop link, then SKU, else a new item.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::ItemId;
use crate::money;
use crate::order::LineItem;

/// The unit of measure of items created from orders.
pub const UNIT_PIECES: &str = "pcs";

/// A product of one shop: the link between a catalog item and the platform's ids. The
/// shop itself is implied: lookups are per shop.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ShopLink {
    /// The platform's product id.
    pub product_id: String,
    /// The platform's variation id, for variable products.
    pub variation_id: Option<String>,
}

/// The shop link a line carries: its product id (and variation id), when it has one.
/// Blank ids count as absent.
pub fn shop_link(line: &LineItem) -> Option<ShopLink> {
    let product_id = non_blank(line.product_id.as_deref())?;
    Some(ShopLink {
        product_id: product_id.to_owned(),
        variation_id: non_blank(line.variation_id.as_deref()).map(str::to_owned),
    })
}

/// How the storage finds items, within one company and (for links) one shop.
pub trait ItemLookup {
    /// The item linked to this shop product.
    fn by_shop_link(&self, link: &ShopLink) -> Option<ItemId>;
    /// The item whose code is exactly `sku` (case-sensitive; `sku` arrives trimmed).
    fn by_sku(&self, sku: &str) -> Option<ItemId>;
}

/// Which item an order line is.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemMatch {
    /// Already linked to this shop product.
    Linked(ItemId),
    /// Found by its code; the storage links it to the line's [`shop_link`], if any, so
    /// the next order finds it by link.
    BySku(ItemId),
    /// Unknown: the storage creates this item (and its link).
    Create(NewItem),
}

/// An item to add to the catalog, built from an order line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewItem {
    /// Item code: the line's SKU, or generated (see [`match_item`]). The storage keeps
    /// codes unique per company; generated codes of two shops may collide, so it
    /// appends a suffix on conflict.
    pub code: String,
    /// The line's name.
    pub name: String,
    /// Always [`UNIT_PIECES`]: shops sell pieces.
    pub unit: String,
    /// VAT rate in percent, from the line.
    pub vat_rate: Decimal,
    /// Net unit price: the line's unit price, converted from gross when the order's
    /// prices include tax.
    pub price: Decimal,
    /// The shop product to link the new item to.
    pub link: Option<ShopLink>,
}

/// Finds the catalog item of an order line:
///
/// 1. by the line's shop link (product id + variation id) → [`ItemMatch::Linked`];
/// 2. by SKU, exact after trimming → [`ItemMatch::BySku`];
/// 3. otherwise → [`ItemMatch::Create`].
///
/// SKUs compare **case-sensitively**: invoicing programs treat item codes as exact, and
/// `ab-1` and `AB-1` may well be different items. A wrong match would invoice and move
/// the stock of the wrong item; a missed one only adds an item the user can merge.
///
/// A line without SKU gets a generated code: `P{product_id}` or
/// `P{product_id}-{variation_id}`; without platform ids either, `N-` and the first 8
/// hex digits of SHA-256 over the lower-cased name. A name code is looked up like a SKU
/// first, so repeated lines of a custom platform that sends only names reuse one item;
/// product codes are not, because two shops' product 17 are different products.
///
/// The storage calls this for the lines of an order in turn, creating items as it goes,
/// so a later line with the same new SKU finds the item made for an earlier one.
pub fn match_item(
    line: &LineItem,
    prices_include_tax: bool,
    lookups: &impl ItemLookup,
) -> ItemMatch {
    let link = shop_link(line);
    if let Some(item) = link.as_ref().and_then(|link| lookups.by_shop_link(link)) {
        return ItemMatch::Linked(item);
    }
    let sku = non_blank(line.sku.as_deref());
    if let Some(item) = sku.and_then(|sku| lookups.by_sku(sku)) {
        return ItemMatch::BySku(item);
    }
    let code = match (sku, &link) {
        (Some(sku), _) => sku.to_owned(),
        (None, Some(link)) => match &link.variation_id {
            Some(variation) => format!("P{}-{variation}", link.product_id),
            None => format!("P{}", link.product_id),
        },
        (None, None) => {
            let code = name_code(&line.name);
            if let Some(item) = lookups.by_sku(&code) {
                return ItemMatch::BySku(item);
            }
            code
        }
    };
    let vat_rate = line.effective_tax_rate();
    let price = if prices_include_tax {
        money::net_unit_price(line.unit_price, vat_rate)
    } else {
        line.unit_price
    };
    ItemMatch::Create(NewItem {
        code,
        name: line.name.trim().to_owned(),
        unit: UNIT_PIECES.to_owned(),
        vat_rate,
        price,
        link,
    })
}

/// The item codes [`match_item`] may look up for `line`: its SKU, or, for a line with
/// neither SKU nor shop link, the code derived from its name. A storage that cannot
/// answer [`ItemLookup::by_sku`] synchronously fetches these codes first.
pub fn candidate_codes(line: &LineItem) -> Vec<String> {
    match (non_blank(line.sku.as_deref()), shop_link(line)) {
        (Some(sku), _) => vec![sku.to_owned()],
        (None, Some(_)) => Vec::new(),
        (None, None) => vec![name_code(&line.name)],
    }
}

fn name_code(name: &str) -> String {
    let digest = Sha256::digest(name.trim().to_lowercase().as_bytes());
    format!("N-{}", &hex::encode(digest)[..8])
}

pub(super) fn non_blank(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::InMemoryItems;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn line(sku: Option<&str>, product: Option<&str>, variation: Option<&str>) -> LineItem {
        LineItem {
            platform_line_id: Some("1".into()),
            sku: sku.map(Into::into),
            name: " Mug ".into(),
            product_id: product.map(Into::into),
            variation_id: variation.map(Into::into),
            quantity: d("2"),
            ordered_quantity: None,
            unit_price: d("12.20"),
            discount: d("0"),
            tax_rate: Some(d("22")),
            tax_amount: d("5.37"),
            total: d("24.40"),
        }
    }

    #[test]
    fn shop_link_wins_over_sku() {
        let mut items = InMemoryItems::default();
        items.insert_code("MUG", ItemId(1));
        items.insert_link(
            ShopLink {
                product_id: "10".into(),
                variation_id: Some("11".into()),
            },
            ItemId(2),
        );
        let found = match_item(&line(Some("MUG"), Some("10"), Some("11")), false, &items);
        assert_eq!(found, ItemMatch::Linked(ItemId(2)));
        // Another variation of the same product is not the same item.
        let found = match_item(&line(Some("MUG"), Some("10"), Some("12")), false, &items);
        assert_eq!(found, ItemMatch::BySku(ItemId(1)));
    }

    #[test]
    fn sku_is_trimmed_but_case_sensitive() {
        let mut items = InMemoryItems::default();
        items.insert_code("MUG", ItemId(1));
        assert_eq!(
            match_item(&line(Some("  MUG "), None, None), false, &items),
            ItemMatch::BySku(ItemId(1))
        );
        let ItemMatch::Create(new) = match_item(&line(Some("mug"), None, None), false, &items)
        else {
            panic!("a SKU differing in case must not match");
        };
        assert_eq!(new.code, "mug");
    }

    #[test]
    fn unknown_line_becomes_a_new_item() {
        let items = InMemoryItems::default();
        let found = match_item(&line(Some("MUG"), Some("10"), None), false, &items);
        assert_eq!(
            found,
            ItemMatch::Create(NewItem {
                code: "MUG".into(),
                name: "Mug".into(),
                unit: "pcs".into(),
                vat_rate: d("22"),
                price: d("12.20"),
                link: Some(ShopLink {
                    product_id: "10".into(),
                    variation_id: None
                }),
            })
        );
    }

    #[test]
    fn gross_prices_become_net_item_prices() {
        let items = InMemoryItems::default();
        let ItemMatch::Create(new) = match_item(&line(Some("MUG"), None, None), true, &items)
        else {
            panic!("expected a new item");
        };
        assert_eq!(new.price, d("10.0000"));
    }

    #[test]
    fn derived_vat_rate_when_the_line_has_none() {
        let items = InMemoryItems::default();
        let mut without_rate = line(Some("MUG"), None, None);
        without_rate.tax_rate = None;
        let ItemMatch::Create(new) = match_item(&without_rate, false, &items) else {
            panic!("expected a new item");
        };
        assert_eq!(new.vat_rate, d("22.0"));
    }

    #[test]
    fn generated_codes_without_sku() {
        let items = InMemoryItems::default();
        let code = |line: &LineItem| match match_item(line, false, &items) {
            ItemMatch::Create(new) => new.code,
            other => panic!("expected a new item, got {other:?}"),
        };
        assert_eq!(code(&line(None, Some("10"), Some("11"))), "P10-11");
        assert_eq!(code(&line(Some("  "), Some("10"), Some(" "))), "P10");
        let by_name = code(&line(None, None, None));
        assert!(
            by_name.starts_with("N-") && by_name.len() == 10,
            "{by_name}"
        );
        let mut same_name = line(None, None, None);
        same_name.name = "MUG".into();
        assert_eq!(code(&same_name), by_name);
    }

    #[test]
    fn name_codes_are_reused() {
        let mut items = InMemoryItems::default();
        let ItemMatch::Create(new) = match_item(&line(None, None, None), false, &items) else {
            panic!("expected a new item");
        };
        items.insert_code(&new.code, ItemId(7));
        assert_eq!(
            match_item(&line(None, None, None), false, &items),
            ItemMatch::BySku(ItemId(7))
        );
    }

    #[test]
    fn product_codes_are_not_looked_up() {
        let mut items = InMemoryItems::default();
        items.insert_code("P10", ItemId(7));
        assert!(matches!(
            match_item(&line(None, Some("10"), None), false, &items),
            ItemMatch::Create(_)
        ));
    }
}
