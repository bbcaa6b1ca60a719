//! Which catalog item and which customer an imported order refers to (docs/architecture.md, flow 1).
//!
//! The rules ask the storage through two small traits, [`ItemLookup`] and
//! [`CustomerLookup`], so the rules stay pure. [`InMemoryItems`] and
//! [`InMemoryCustomers`] implement them over maps: the storage fills them, inside its
//! transaction, with the rows an order can match ([`candidate_codes`], the order's
//! links, e-mail and VAT id), and tests fill them by hand.

mod customer;
mod item;
mod memory;

pub use customer::{
    CustomerLookup, CustomerMatch, NewCustomer, match_customer, normalize_email, normalize_vat_id,
};
pub use item::{
    ItemLookup, ItemMatch, NewItem, ShopLink, UNIT_PIECES, candidate_codes, match_item, shop_link,
};
pub use memory::{InMemoryCustomers, InMemoryItems};
