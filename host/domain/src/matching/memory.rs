//! Map-backed lookups: filled by the storage with an order's candidates, or by tests.

use std::collections::BTreeMap;

use super::{CustomerLookup, ItemLookup, ShopLink, normalize_email, normalize_vat_id};
use crate::ids::{CustomerId, ItemId};

/// An item catalog of one company and one shop, held in maps.
#[derive(Debug, Clone, Default)]
pub struct InMemoryItems {
    links: BTreeMap<ShopLink, ItemId>,
    codes: BTreeMap<String, ItemId>,
}

impl InMemoryItems {
    /// Links a shop product to an item.
    pub fn insert_link(&mut self, link: ShopLink, item: ItemId) {
        self.links.insert(link, item);
    }

    /// Registers an item's code.
    pub fn insert_code(&mut self, code: &str, item: ItemId) {
        self.codes.insert(code.to_owned(), item);
    }
}

impl ItemLookup for InMemoryItems {
    fn by_shop_link(&self, link: &ShopLink) -> Option<ItemId> {
        self.links.get(link).copied()
    }

    fn by_sku(&self, sku: &str) -> Option<ItemId> {
        self.codes.get(sku).copied()
    }
}

/// A customer catalog of one company and one shop, held in maps.
#[derive(Debug, Clone, Default)]
pub struct InMemoryCustomers {
    links: BTreeMap<String, CustomerId>,
    emails: BTreeMap<String, CustomerId>,
    vat_ids: BTreeMap<String, CustomerId>,
}

impl InMemoryCustomers {
    /// Links a shop's customer id to a customer.
    pub fn insert_link(&mut self, platform_id: &str, customer: CustomerId) {
        self.links.insert(platform_id.to_owned(), customer);
    }

    /// Registers a customer's e-mail, normalized as the storage would.
    pub fn insert_email(&mut self, email: &str, customer: CustomerId) {
        if let Some(email) = normalize_email(email) {
            self.emails.insert(email, customer);
        }
    }

    /// Registers a customer's VAT id, normalized as the storage would.
    pub fn insert_vat_id(&mut self, vat_id: &str, customer: CustomerId) {
        if let Some(vat_id) = normalize_vat_id(vat_id) {
            self.vat_ids.insert(vat_id, customer);
        }
    }
}

impl CustomerLookup for InMemoryCustomers {
    fn by_shop_link(&self, platform_id: &str) -> Option<CustomerId> {
        self.links.get(platform_id).copied()
    }

    fn by_email(&self, normalized_email: &str) -> Option<CustomerId> {
        self.emails.get(normalized_email).copied()
    }

    fn by_vat_id(&self, normalized_vat_id: &str) -> Option<CustomerId> {
        self.vat_ids.get(normalized_vat_id).copied()
    }
}
