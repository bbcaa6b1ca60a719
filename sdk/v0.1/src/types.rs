//! The normalized types every connector speaks, shared by both worlds.
//!
//! Money and quantities are exact decimal **strings** (`"19.99"`, dot separator, no
//! exponent); build them with [`crate::money::format_decimal`]. Times are RFC 3339
//! strings in UTC (`"2026-11-28T20:21:54Z"`); build them with [`crate::time`].
//!
//! [`ConnectorError`] is how every call fails: the host decides from the variant whether
//! to retry (`RateLimited`, `Transient`), ask the user (`Auth`, `InvalidInput`) or give
//! up. Its helper constructors are documented on the type.

pub use crate::bindings::shop::tovor::connector::types::{
    Address, ChargeLine, ConnectorError, Customer, FieldError, LineItem, Order, OrderStatus,
    PaymentMethod, PaymentStatus, PickupPoint, RateLimit, Refund, Timestamp, Tracking,
};
