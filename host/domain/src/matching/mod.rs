//! Which catalog item and which customer an imported order refers to (DESIGN flow 1).
//!
//! The rules ask the storage through two small traits, [`ItemLookup`] and
//! [`CustomerLookup`], which the storage implements over its open transaction, so the
//! rules stay pure and see the rows the transaction sees. [`InMemoryItems`] and
//! [`InMemoryCustomers`] implement them over maps, for tests.

mod customer;
mod item;
mod memory;

pub use customer::{
    CustomerLookup, CustomerMatch, NewCustomer, match_customer, normalize_email, normalize_vat_id,
};
pub use item::{ItemLookup, ItemMatch, NewItem, ShopLink, UNIT_PIECES, match_item, shop_link};
pub use memory::{InMemoryCustomers, InMemoryItems};
