//! Write tovor connectors: shop platforms and parcel carriers as sandboxed WebAssembly
//! components, for the contract `tovor:connector@0.2.1` ([`CONTRACT_VERSION`]).
//!
//! A connector is a `cdylib` crate built for `wasm32-wasip2`. It implements one SDK trait
//! per capability its platform has ([`shop::Orders`], [`shop::Webhooks`],
//! [`shop::Inventory`], ..., [`carrier::Shipments`], [`carrier::Tracking`], ...) for a
//! type, and exports them with [`export_shop!`] or [`export_carrier!`]. The component
//! then exports exactly those interfaces, and the host learns the connector's
//! capabilities from its exports: `plugin.toml` does not list them.
//!
//! The host calls it with the account's [`Config`]; the connector talks to the platform
//! through [`http`] (the only way out of the sandbox, checked against the manifest's
//! allow-list), keeps what must survive a call in [`state`], and answers in the
//! normalized [`types`], built with the [`builders`].
//!
//! | module | what for |
//! |---|---|
//! | [`shop`], [`carrier`] | one trait per capability, and the interfaces' records |
//! | [`types`], [`builders`] | the shared records; builders from [`Decimal`](money::Decimal) and [`OffsetDateTime`](time::OffsetDateTime) |
//! | [`Config`] | the settings the user filled in: `text`, `integer`, `boolean`, `require`, `api_base_or` |
//! | [`http`] | requests, `send_many`, typed errors, JSON, `Link` pagination, `Retry-After` |
//! | [`state`] | a small key-value store per account (tokens sealed), JSON helpers |
//! | [`signature`] | webhook HMACs, compared in constant time |
//! | [`money`] | exact decimals from strings or JSON numbers, minor units |
//! | [`time`] | RFC 3339, contract timestamps |
//! | [`address`] | street and house number apart, blank fields as `None` |
//! | [`log`] | lines in the host's log, tagged with plugin and account |
//!
//! # A complete connector
//!
//! ```
//! use serde::Deserialize;
//! use tovor_sdk::http::{Request, percent_encode};
//! use tovor_sdk::money::{self, Decimal};
//! use tovor_sdk::shop::{Connection, ConnectionInfo, OrderPage, Orders};
//! use tovor_sdk::time::{self, OffsetDateTime};
//! use tovor_sdk::types::{ConnectorError, LineItem, Order, OrderStatus, PaymentStatus};
//! use tovor_sdk::Config;
//!
//! pub struct TinyShop;
//!
//! /// The platform's order, only the fields we use.
//! #[derive(Deserialize)]
//! struct TinyOrder {
//!     id: u64,
//!     #[serde(with = "time::lenient")]
//!     updated_at: OffsetDateTime,
//!     currency: String,
//!     sku: String,
//!     #[serde(with = "money::lenient")]
//!     quantity: Decimal,
//!     #[serde(with = "money::lenient")]
//!     price: Decimal,
//! }
//!
//! fn base(config: &Config) -> String {
//!     config.api_base_or("https://api.tinyshop.example")
//! }
//!
//! impl Orders for TinyShop {
//!     fn list_orders(
//!         config: &Config,
//!         changed_since: OffsetDateTime,
//!         cursor: Option<String>,
//!     ) -> Result<OrderPage, ConnectorError> {
//!         // The first page is built from `changed_since`; later ones follow the
//!         // platform's `Link: <...>; rel="next"` header, carried as the cursor.
//!         let url = cursor.unwrap_or_else(|| {
//!             Request::get(format!("{}/orders", base(config)))
//!                 .query_param("updated_since", time::format_utc(changed_since))
//!                 .url()
//!                 .to_owned()
//!         });
//!         let response = Request::get(url)
//!             .bearer_auth(config.require("api_token")?)
//!             .send()?
//!             .error_for_status()?;
//!         let orders: Vec<TinyOrder> = response.json()?;
//!         Ok(OrderPage {
//!             orders: orders.into_iter().map(to_order).collect::<Result<_, _>>()?,
//!             next_cursor: response.next_link(),
//!         })
//!     }
//!
//!     fn get_order(config: &Config, id: String) -> Result<Order, ConnectorError> {
//!         let order: TinyOrder = Request::get(format!("{}/orders/{}", base(config), percent_encode(&id)))
//!             .bearer_auth(config.require("api_token")?)
//!             .send()?
//!             .error_for_status()? // 404 -> not-found, 401 -> auth, 429 -> rate-limited, ...
//!             .json()?;
//!         to_order(order)
//!     }
//! }
//!
//! impl Connection for TinyShop {
//!     fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
//!         Request::get(format!("{}/me", base(config)))
//!             .bearer_auth(config.require("api_token")?)
//!             .send()?
//!             .error_for_status()?;
//!         Ok(ConnectionInfo::anonymous())
//!     }
//! }
//!
//! /// Pure mapping: easy to unit-test natively.
//! fn to_order(order: TinyOrder) -> Result<Order, ConnectorError> {
//!     Order::builder(order.id.to_string(), order.id.to_string(), order.currency)
//!         .status(OrderStatus::Processing, "paid")
//!         .payment_status(PaymentStatus::Paid)
//!         .created_at(order.updated_at)
//!         .line(LineItem::builder(order.sku.clone(), order.quantity, order.price).sku(order.sku).build())
//!         .build()
//! }
//!
//! // The component's exports: exactly the capabilities named here.
//! tovor_sdk::export_shop!(TinyShop: orders, connection);
//! # fn main() {
//! #     let order = TinyOrder {
//! #         id: 7,
//! #         updated_at: time::parse_rfc3339("2026-11-28T10:00:00+01:00").unwrap(),
//! #         currency: "eur".into(),
//! #         sku: "MUG-1".into(),
//! #         quantity: Decimal::from(2),
//! #         price: Decimal::new(990, 2),
//! #     };
//! #     assert_eq!(to_order(order).unwrap().total, "19.80");
//! # }
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` (the crate needs
//! `crate-type = ["cdylib"]`); the `.wasm` that comes out is the component the host
//! loads as `plugin.wasm`, next to a `plugin.toml` that says `contract = "0.2.1"`.
//!
//! # Testing
//!
//! The SDK also builds for the machine you develop on, so keep the mapping from the
//! platform's JSON to [`types`] in plain functions and unit-test them with `cargo test`.
//! There the export macros expand to nothing but a check that the named traits are
//! implemented, [`http`] requests fail with `other`, [`state`] lives in memory and
//! [`log`] writes to stderr.
//!
//! # Errors
//!
//! Every operation returns [`ConnectorError`](types::ConnectorError): a kind, a message,
//! and where known the field at fault, the platform's HTTP status and error code, and
//! how long to wait. The host decides from the kind what to do: retry later
//! (`transient`, `rate-limited`), ask the user to fix the settings (`auth`,
//! `permission`, `invalid-input` naming the field), or report (`other`).
//! [`http::Response::error_for_status`] and the helpers in this crate already choose the
//! right kind; see the constructors on the type for your own.

mod config;
mod connection;
mod error;

pub mod address;
#[doc(hidden)]
pub mod bindings;

pub mod builders;
pub mod carrier;
pub mod http;
pub mod log;
pub mod money;
pub mod oauth1;
pub mod shop;
pub mod signature;
pub mod state;
pub mod time;
pub mod types;

pub use config::{API_BASE, Config};
pub use connection::{Connection, ConnectionInfo};

use types::ConnectorError;

/// The contract this SDK speaks: the `tovor:connector` WIT package version its bindings
/// are generated from. A connector's `plugin.toml` says the same in `contract`.
pub const CONTRACT_VERSION: &str = "0.2.1";

/// Exports shop capabilities: `tovor_sdk::export_shop!(MyShop: orders, webhooks, inventory);`
///
/// Invoke it once, at the top level of the connector crate, with the implementing type
/// and the capabilities it implements, each one the trait of the same name in [`shop`]:
/// `orders`, `webhooks`, `inventory`, `catalog`, `fulfillment`, `status_changes`,
/// `refunds`, `payment_methods`, `connection`. The component exports exactly these
/// interfaces.
///
/// On `wasm32` it generates the exports; elsewhere (native `cargo test`) only a check
/// that the type implements the named traits.
#[macro_export]
macro_rules! export_shop {
    ($ty:ty : $($capability:ident),+ $(,)?) => {
        const _: () = {
            // The generated export macros take a plain identifier; an alias makes paths
            // and generic instances work too.
            #[allow(dead_code)]
            type __TovorConnector = $ty;
            $( $crate::__tovor_shop_capability!(__TovorConnector, $capability); )+
        };
    };
}

/// Exports carrier capabilities: `tovor_sdk::export_carrier!(MyCarrier: shipments, labels, tracking);`
///
/// Invoke it once, at the top level of the connector crate, with the implementing type
/// and the capabilities it implements, each one the trait of the same name in
/// [`carrier`]: `shipments`, `labels`, `tracking`, `cancellation`, `lookup`,
/// `pickup_points`, `services`, `handover`, `connection`. The component exports exactly these
/// interfaces.
///
/// On `wasm32` it generates the exports; elsewhere (native `cargo test`) only a check
/// that the type implements the named traits.
#[macro_export]
macro_rules! export_carrier {
    ($ty:ty : $($capability:ident),+ $(,)?) => {
        const _: () = {
            #[allow(dead_code)]
            type __TovorConnector = $ty;
            $( $crate::__tovor_carrier_capability!(__TovorConnector, $capability); )+
        };
    };
}

/// One capability's exports (on wasm32) or trait check (elsewhere).
#[doc(hidden)]
#[macro_export]
macro_rules! __tovor_export {
    ($ty:ident, $trait:path, $module:ident, $export:ident) => {
        const _: () = {
            #[allow(dead_code)]
            fn __tovor_implements<T: $trait>() {}
            #[allow(dead_code)]
            const __TOVOR_CHECK: fn() = __tovor_implements::<$ty>;
        };
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::$module::$export!($ty with_types_in $crate::bindings::$module);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __tovor_shop_capability {
    ($ty:ident, orders) => {
        $crate::__tovor_export!($ty, $crate::shop::Orders, orders, export_orders);
    };
    ($ty:ident, webhooks) => {
        $crate::__tovor_export!($ty, $crate::shop::Webhooks, webhooks, export_webhooks);
    };
    ($ty:ident, inventory) => {
        $crate::__tovor_export!($ty, $crate::shop::Inventory, inventory, export_inventory);
    };
    ($ty:ident, catalog) => {
        $crate::__tovor_export!($ty, $crate::shop::Catalog, catalog, export_catalog);
    };
    ($ty:ident, fulfillment) => {
        $crate::__tovor_export!(
            $ty,
            $crate::shop::Fulfillment,
            fulfillment,
            export_fulfillment
        );
    };
    ($ty:ident, status_changes) => {
        $crate::__tovor_export!(
            $ty,
            $crate::shop::StatusChanges,
            status_changes,
            export_status_changes
        );
    };
    ($ty:ident, refunds) => {
        $crate::__tovor_export!($ty, $crate::shop::Refunds, refunds, export_refunds);
    };
    ($ty:ident, payment_methods) => {
        $crate::__tovor_export!(
            $ty,
            $crate::shop::PaymentMethods,
            payment_methods,
            export_payment_methods
        );
    };
    ($ty:ident, connection) => {
        $crate::__tovor_export!($ty, $crate::Connection, connection, export_connection);
    };
    ($ty:ident, $other:ident) => {
        ::core::compile_error!(::core::concat!(
            "`",
            ::core::stringify!($other),
            "` is not a shop capability; use orders, webhooks, ",
            "inventory, catalog, fulfillment, status_changes, refunds, payment_methods or connection"
        ));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __tovor_carrier_capability {
    ($ty:ident, shipments) => {
        $crate::__tovor_export!($ty, $crate::carrier::Shipments, shipments, export_shipments);
    };
    ($ty:ident, labels) => {
        $crate::__tovor_export!($ty, $crate::carrier::Labels, labels, export_labels);
    };
    ($ty:ident, tracking) => {
        $crate::__tovor_export!($ty, $crate::carrier::Tracking, tracking, export_tracking);
    };
    ($ty:ident, cancellation) => {
        $crate::__tovor_export!(
            $ty,
            $crate::carrier::Cancellation,
            cancellation,
            export_cancellation
        );
    };
    ($ty:ident, lookup) => {
        $crate::__tovor_export!($ty, $crate::carrier::Lookup, lookup, export_lookup);
    };
    ($ty:ident, pickup_points) => {
        $crate::__tovor_export!(
            $ty,
            $crate::carrier::PickupPoints,
            pickup_points,
            export_pickup_points
        );
    };
    ($ty:ident, services) => {
        $crate::__tovor_export!($ty, $crate::carrier::Services, services, export_services);
    };
    ($ty:ident, handover) => {
        $crate::__tovor_export!($ty, $crate::carrier::Handover, handover, export_handover);
    };
    ($ty:ident, connection) => {
        $crate::__tovor_export!($ty, $crate::Connection, connection, export_connection);
    };
    ($ty:ident, $other:ident) => {
        ::core::compile_error!(::core::concat!(
            "`",
            ::core::stringify!($other),
            "` is not a carrier capability; use shipments, ",
            "labels, tracking, cancellation, lookup, pickup_points, services, handover or connection"
        ));
    };
}

/// Checks that a batch operation answered once per input, as the contract requires.
fn check_count<T>(
    operation: &str,
    expected: usize,
    results: Vec<Result<T, ConnectorError>>,
) -> Result<Vec<Result<T, ConnectorError>>, ConnectorError> {
    if results.len() == expected {
        Ok(results)
    } else {
        Err(ConnectorError::other(format!(
            "the connector's {operation} returned {} results for {expected} inputs",
            results.len()
        )))
    }
}
