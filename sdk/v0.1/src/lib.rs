//! Write tovor connectors: shop platforms and parcel carriers as sandboxed WebAssembly
//! components.
//!
//! A connector is a `cdylib` crate built for `wasm32-wasip2` that implements [`Shop`] or
//! [`Carrier`] for a type and exports it with [`export_shop!`] or [`export_carrier!`].
//! The host loads the component next to its `plugin.toml` and calls it with the shop's
//! [`Config`]; the connector talks to the platform through [`http`] (the only way out of
//! the sandbox, checked against the manifest's allow-list) and answers in the normalized
//! [`types`].
//!
//! | module | what for |
//! |---|---|
//! | [`types`], [`shop`], [`carrier`] | the contract's records, and the traits |
//! | [`Config`] | the settings the user filled in (`get`, `require`, `api_base_or`) |
//! | [`http`] | requests, typed errors, JSON, pagination links |
//! | [`signature`] | webhook HMACs, compared in constant time |
//! | [`money`] | exact decimals from strings or JSON numbers, minor units |
//! | [`time`] | RFC 3339 in UTC |
//! | [`log`] | lines in the host's log, tagged with plugin and shop |
//!
//! # A complete connector
//!
//! ```
//! use serde::Deserialize;
//! use tovor_sdk::http::{Request, percent_encode};
//! use tovor_sdk::money::{self, Decimal};
//! use tovor_sdk::shop::{OrderPage, ShopCapabilities, ShopInfo};
//! use tovor_sdk::types::{ConnectorError, Order, OrderStatus, PaymentStatus};
//! use tovor_sdk::{Config, Shop};
//!
//! struct TinyShop;
//!
//! /// The platform's order, only the fields we use.
//! #[derive(Deserialize)]
//! struct TinyOrder {
//!     id: u64,
//!     updated_at: String,
//!     currency: String,
//!     #[serde(with = "money::lenient")]
//!     total: Decimal,
//! }
//!
//! impl Shop for TinyShop {
//!     fn describe() -> ShopInfo {
//!         ShopInfo { platform: "TinyShop".into(), capabilities: ShopCapabilities::empty() }
//!     }
//!
//!     fn get_order(config: &Config, id: String) -> Result<Order, ConnectorError> {
//!         let base = config.api_base_or("https://api.tinyshop.example");
//!         let order: TinyOrder = Request::get(format!("{base}/orders/{}", percent_encode(&id)))
//!             .bearer_auth(config.require("api_token")?)
//!             .send()?
//!             .error_for_status()?
//!             .json()?;
//!         to_order(order)
//!     }
//!
//!     fn list_orders(
//!         config: &Config,
//!         changed_since: &str,
//!         cursor: Option<String>,
//!     ) -> Result<OrderPage, ConnectorError> {
//!         let base = config.api_base_or("https://api.tinyshop.example");
//!         // The first page is built from `changed_since`; later ones follow the
//!         // platform's `Link: <...>; rel="next"` header, carried as the cursor.
//!         let url = cursor.unwrap_or_else(|| {
//!             Request::get(format!("{base}/orders"))
//!                 .query(&[("updated_since", changed_since)])
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
//! }
//!
//! /// Pure mapping: easy to unit-test natively.
//! fn to_order(order: TinyOrder) -> Result<Order, ConnectorError> {
//!     let modified_at = tovor_sdk::time::parse_to_utc(&order.updated_at)?;
//!     Ok(Order {
//!         id: order.id.to_string(),
//!         number: order.id.to_string(),
//!         status: OrderStatus::Processing,
//!         status_raw: "paid".into(),
//!         payment_status: PaymentStatus::Paid,
//!         payment_method: None,
//!         currency: order.currency,
//!         prices_include_tax: false,
//!         created_at: modified_at.clone(),
//!         modified_at,
//!         paid_at: None,
//!         customer: None,
//!         billing: None,
//!         shipping: None,
//!         lines: Vec::new(),
//!         shipping_lines: Vec::new(),
//!         fees: Vec::new(),
//!         coupons: Vec::new(),
//!         discount_total: "0".into(),
//!         shipping_total: "0".into(),
//!         tax_total: "0".into(),
//!         total: money::format_decimal(order.total),
//!         refunds: Vec::new(),
//!         customer_note: None,
//!         pickup_point: None,
//!     })
//! }
//!
//! // Generates the component's exports. Exactly one per connector crate.
//! tovor_sdk::export_shop!(TinyShop);
//! # fn main() {}
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` (the crate needs
//! `crate-type = ["cdylib"]`); the `.wasm` that comes out is the component the host
//! loads as `plugin.wasm`.
//!
//! # Testing
//!
//! The SDK also builds for the machine you develop on, so keep the mapping from the
//! platform's JSON to [`types`] in plain functions and unit-test them with `cargo test`.
//! There the host's imports are absent: [`http::Request::send`] fails with `other` and
//! [`log`] writes to stderr. To run the real component against a mock platform, use
//! `tovor-harness`.
//!
//! # Errors
//!
//! Every operation returns [`ConnectorError`], and the host
//! decides from its variant what to do: retry later (`transient`, `rate-limited`), ask
//! the user to fix the settings (`auth`, `invalid-input` naming the field), or report
//! (`other`). [`http::Response::error_for_status`] and the helpers in this crate
//! already choose the right variant; see the constructors on the type for your own.

mod config;
mod error;

#[doc(hidden)]
pub mod bindings;

pub mod carrier;
pub mod http;
pub mod log;
pub mod money;
pub mod shop;
pub mod signature;
pub mod time;
pub mod types;

pub use carrier::Carrier;
pub use config::{API_BASE, Config};
pub use shop::Shop;

use types::ConnectorError;

/// Exports a [`Shop`] implementation as the component's `shop-connector`.
///
/// Invoke it once, at the top level of the connector crate, with the implementing type:
///
/// ```ignore
/// tovor_sdk::export_shop!(MyShop);
/// ```
#[macro_export]
macro_rules! export_shop {
    ($ty:ty) => {
        // Natively, what the component would export still counts as used.
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            let _ = <$ty as $crate::Shop>::describe;
            let _ = <$ty as $crate::Shop>::list_orders;
            let _ = <$ty as $crate::Shop>::get_order;
            let _ = <$ty as $crate::Shop>::verify_webhook;
            let _ = <$ty as $crate::Shop>::push_stock;
            let _ = <$ty as $crate::Shop>::list_products;
            let _ = <$ty as $crate::Shop>::mark_shipped;
        };
        // Exports exist only in the component: a native build (`cargo test`) of the
        // connector crate has nothing to export, and its linker refuses export names
        // like `tovor:connector/...`.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            // The generated export macro takes a plain identifier; an alias makes paths
            // and generic instances work too.
            type __TovorShopConnector = $ty;
            $crate::bindings::shop::export_shop_world!(
                __TovorShopConnector with_types_in $crate::bindings::shop
            );
        };
    };
}

/// Exports a [`Carrier`] implementation as the component's `carrier-connector`.
///
/// Invoke it once, at the top level of the connector crate, with the implementing type:
///
/// ```ignore
/// tovor_sdk::export_carrier!(MyCarrier);
/// ```
#[macro_export]
macro_rules! export_carrier {
    ($ty:ty) => {
        // Natively, what the component would export still counts as used.
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            let _ = <$ty as $crate::Carrier>::describe;
            let _ = <$ty as $crate::Carrier>::create_shipments;
            let _ = <$ty as $crate::Carrier>::get_labels;
            let _ = <$ty as $crate::Carrier>::track;
            let _ = <$ty as $crate::Carrier>::cancel;
            let _ = <$ty as $crate::Carrier>::find_shipments;
        };
        // Exports exist only in the component: a native build (`cargo test`) of the
        // connector crate has nothing to export, and its linker refuses export names
        // like `tovor:connector/...`.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            // The generated export macro takes a plain identifier; an alias makes paths
            // and generic instances work too.
            type __TovorCarrierConnector = $ty;
            $crate::bindings::carrier::export_carrier_world!(
                __TovorCarrierConnector with_types_in $crate::bindings::carrier
            );
        };
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
        Err(ConnectorError::Other(format!(
            "the connector's {operation} returned {} results for {expected} inputs",
            results.len()
        )))
    }
}
