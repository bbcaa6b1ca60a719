//! The normalized types every connector speaks, shared by shops and carriers.
//!
//! Amounts and quantities are exact decimal **strings** in the contract (`"19.99"`, dot
//! separator, no exponent) and times are [`Timestamp`] records; connectors work with
//! [`Decimal`] and [`OffsetDateTime`](::time::OffsetDateTime) and let the builders
//! ([`Order::builder`], [`LineItem::builder`], [`Address::builder`],
//! [`ChargeLine::builder`], [`Refund::builder`]) and [`crate::money`] / [`crate::time`]
//! write them.
//!
//! [`ConnectorError`] is how every call fails: the host decides from its
//! [`ErrorKind`] whether to retry (`rate-limited`, `transient`), ask the user (`auth`,
//! `permission`, `invalid-input` naming the field) or give up. Its constructors are
//! documented on the type.

pub use crate::bindings::host::tovor::connector::types::{
    Address, ChargeLine, ConfigValue, ConnectorError, Customer, ErrorKind, LineItem, Order,
    OrderStatus, PaymentMethod, PaymentStatus, PickupPoint, Refund, RefundLine, Timestamp,
};
pub use crate::money::Decimal;
