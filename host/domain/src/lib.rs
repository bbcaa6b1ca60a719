//! The commerce rules of tovor as pure functions over plain types.
//!
//! Everything here is deterministic and free of I/O: no database, no network, no
//! clock, no plugin types. The storage layer loads the rows a rule needs, calls the
//! rule, and persists the returned decision in the same transaction, so every rule can
//! be tested (and property-tested) without a database.
//!
//! - [`access`]: the roles people hold in a company and what each may do; e-mail
//!   addresses and passwords as people sign in with them.
//! - [`company`]: the company's profile values (time zone, language, IBAN, VAT id) and
//!   the day a document is dated in the company's zone.
//! - [`money`]: rounding and VAT arithmetic on exact decimals.
//! - [`order`]: the normalized order every connector and the custom-platform API
//!   deliver, its content hash and validation, and what the host stores about it.
//! - [`import`]: what to do when an order arrives (create, overwrite, status only,
//!   nothing), and the difference between two versions of an order.
//! - [`matching`]: which catalog item and which customer an order refers to.
//! - [`mapping`]: a shop's payment methods and statuses in the host's terms.
//! - [`document`]: invoices and delivery notes drafted from an order, numbering,
//!   VAT recap and the rounding line.
//! - [`stock`]: the movement ledger and the quantities shops are told.
//! - [`shipping`]: shipments planned from orders (addresses, parcels, cash on
//!   delivery, references) and the normalized tracking statuses.

pub mod access;
pub mod company;
pub mod decimal;
pub mod document;
pub mod ids;
pub mod import;
pub mod invoicing;
pub mod mapping;
pub mod matching;
pub mod money;
pub mod order;
pub mod shipping;
pub mod stock;

pub use ids::{
    CarrierId, CompanyId, CustomerId, DocumentId, HostPaymentMethodId, ItemId, OrderId, ShipmentId,
    ShopId, UserId, WarehouseId,
};

#[cfg(test)]
mod test_support;
