//! Shop connectors: one trait per capability, and the types of the shop interfaces.
//!
//! Implement the traits for what the platform can do, and name the same capabilities in
//! [`export_shop!`](crate::export_shop): the component then exports exactly those
//! interfaces, and the host learns the connector's capabilities from them.
//!
//! | trait | interface | what for |
//! |---|---|---|
//! | [`Orders`] | `orders` | list changed orders, fetch one |
//! | [`Webhooks`] | `webhooks` | verify deliveries; register the platform's subscriptions |
//! | [`Inventory`] | `inventory` | push absolute stock levels |
//! | [`Catalog`] | `catalog` | list products and their stock keys |
//! | [`Fulfillment`] | `fulfillment` | tell the platform what was shipped |
//! | [`StatusChanges`] | `status-changes` | cancel, complete, mark paid |
//! | [`Refunds`] | `refunds` | an order's refunds, when orders do not carry them |
//! | [`PaymentMethods`] | `payment-methods` | the shop's payment methods |
//! | [`Connection`] | `connection` | test credentials |
//!
//! Methods are static (no `self`): a connector keeps nothing in memory between calls.
//! Everything it needs arrives in [`Config`] and the arguments, and what must survive
//! a call goes to [`crate::state`].
//!

use time::OffsetDateTime;

use crate::bindings::catalog::exports::tovor::connector::catalog as catalog_guest;
use crate::bindings::fulfillment::exports::tovor::connector::fulfillment as fulfillment_guest;
use crate::bindings::inventory::exports::tovor::connector::inventory as inventory_guest;
use crate::bindings::orders::exports::tovor::connector::orders as orders_guest;
use crate::bindings::payment_methods::exports::tovor::connector::payment_methods as methods_guest;
use crate::bindings::refunds::exports::tovor::connector::refunds as refunds_guest;
use crate::bindings::status_changes::exports::tovor::connector::status_changes as status_guest;
use crate::bindings::webhooks::exports::tovor::connector::webhooks as webhooks_guest;
use crate::money::{self, Decimal};
use crate::types::{ConfigValue, ConnectorError, Order, PaymentMethod, Refund, Timestamp};
use crate::{Config, check_count};

pub use crate::connection::{Connection, ConnectionInfo};
pub use catalog_guest::{Product, ProductPage, ProductVariant};
pub use fulfillment_guest::{Parcel, Shipment, ShippedLine};
pub use inventory_guest::StockLevel;
pub use orders_guest::OrderPage;
pub use status_guest::StatusChange;
pub use webhooks_guest::{
    OrderHint, RegisteredWebhook, VerifiedWebhook, WebhookEvent, WebhookRequest, WebhookSetup,
};

type RawConfig = Vec<(String, ConfigValue)>;

/// Reading orders: list what changed, fetch one.
pub trait Orders {
    /// Orders changed at or after `changed_since`, oldest change first where the
    /// platform allows it. `cursor` is `None` for the first page, then whatever the
    /// previous page returned as `next_cursor`.
    fn list_orders(
        config: &Config,
        changed_since: OffsetDateTime,
        cursor: Option<String>,
    ) -> Result<OrderPage, ConnectorError>;

    /// One order by the platform's id ([`Order::id`]); `not-found` when it does not exist.
    fn get_order(config: &Config, id: String) -> Result<Order, ConnectorError>;
}

/// Orders pushed by the platform: verifying deliveries, and setting the platform up to
/// send them.
pub trait Webhooks {
    /// Checks the delivery's signature against the configured secret and parses it. A
    /// signature that does not match must fail with `bad-signature`
    /// ([`ConnectorError::bad_signature`]; see [`crate::signature`]).
    fn verify_webhook(
        config: &Config,
        request: WebhookRequest,
    ) -> Result<VerifiedWebhook, ConnectorError>;

    /// Subscribes the platform's order topics to `url` (the shop's webhook address in
    /// the host); registering again for the same URL must not subscribe twice. A
    /// platform without an API for it answers [`WebhookSetup::Manual`] with what the
    /// user does by hand.
    fn register_webhooks(config: &Config, url: String) -> Result<WebhookSetup, ConnectorError>;

    /// Removes what [`Webhooks::register_webhooks`] registered; subscriptions already
    /// gone are not an error.
    fn unregister_webhooks(
        config: &Config,
        url: String,
        registered: Vec<RegisteredWebhook>,
    ) -> Result<(), ConnectorError>;
}

/// One stock level to set, with its quantity read from the contract's decimal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockUpdate {
    /// The platform's stock key: what [`Catalog`] gave for the variant, or for a
    /// product linked by hand its variant id, else its product id.
    pub key: String,
    /// The item's code in the host (the platform's SKU for products linked by SKU).
    pub sku: Option<String>,
    /// The absolute level to set.
    pub quantity: Decimal,
}

impl StockUpdate {
    /// The quantity as a whole number, for platforms that count stock in integers;
    /// `invalid-input` naming `quantity` for fractions.
    pub fn whole_quantity(&self) -> Result<i64, ConnectorError> {
        money::to_integer(self.quantity, "quantity")
    }
}

/// Writing stock levels to the platform.
pub trait Inventory {
    /// The most levels one [`Inventory::push_stock`] call takes.
    fn max_batch() -> u32;

    /// Sets absolute stock levels: one result per level, in the same order. The outer
    /// error fails the whole batch (bad credentials, platform down); the host retries
    /// it, which is safe because levels are absolute.
    fn push_stock(
        config: &Config,
        levels: Vec<StockUpdate>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError>;
}

/// Reading the platform's products, so items can be linked to their stock keys.
pub trait Catalog {
    /// One page of products; `cursor` as for [`Orders::list_orders`].
    fn list_products(
        config: &Config,
        cursor: Option<String>,
    ) -> Result<ProductPage, ConnectorError>;
}

/// Telling the platform what was shipped.
pub trait Fulfillment {
    /// Records `shipment` of the order `order_id` on the platform.
    fn fulfill(config: &Config, order_id: String, shipment: Shipment)
    -> Result<(), ConnectorError>;
}

/// Changing an order's state on the platform.
pub trait StatusChanges {
    /// The changes this platform allows.
    fn supported_changes() -> Vec<StatusChange>;

    /// Applies `change` to the order `order_id`.
    fn set_order_status(
        config: &Config,
        order_id: String,
        change: StatusChange,
    ) -> Result<(), ConnectorError>;
}

/// Refunds of an order, for platforms whose orders do not carry them.
pub trait Refunds {
    /// The refunds of the order `order_id` (build them with [`Refund::builder`]).
    fn list_refunds(config: &Config, order_id: String) -> Result<Vec<Refund>, ConnectorError>;
}

/// The shop's payment methods, so they can be mapped before the first order.
pub trait PaymentMethods {
    /// The payment methods, with code and title as orders carry them.
    fn list_payment_methods(config: &Config) -> Result<Vec<PaymentMethod>, ConnectorError>;
}

impl WebhookRequest {
    /// The value of the header `name`, compared case-insensitively (the first one when it
    /// was sent more than once).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The value of the query parameter `name`, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// The body parsed as JSON; a body that does not parse is `invalid-input`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ConnectorError> {
        serde_json::from_slice(&self.body).map_err(|error| {
            ConnectorError::invalid_input(format!(
                "the webhook body is not the expected JSON: {error}; body: {}",
                crate::http::snippet(&self.body)
            ))
        })
    }
}

impl ShippedLine {
    /// The quantity shipped, as a decimal.
    pub fn quantity_decimal(&self) -> Result<Decimal, ConnectorError> {
        money::from_contract(&self.quantity, "quantity")
    }
}

impl OrderHint {
    /// A hint carrying the whole order: the host need not fetch it again.
    pub fn with_order(order: Order) -> Self {
        Self {
            id: order.id.clone(),
            order: Some(order),
        }
    }

    /// A hint with the id only: the host fetches the order with `get-order`.
    pub fn id(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            order: None,
        }
    }
}

// The raw `Guest` traits, implemented for every implementor of the SDK's traits: the
// export macros need nothing more.

impl<T: Orders> orders_guest::Guest for T {
    fn list_orders(
        config: RawConfig,
        changed_since: Timestamp,
        cursor: Option<String>,
    ) -> Result<OrderPage, ConnectorError> {
        let changed_since = changed_since.to_datetime("changed-since")?;
        <T as Orders>::list_orders(&Config::new(config), changed_since, cursor)
    }

    fn get_order(config: RawConfig, id: String) -> Result<Order, ConnectorError> {
        <T as Orders>::get_order(&Config::new(config), id)
    }
}

impl<T: Webhooks> webhooks_guest::Guest for T {
    fn verify_webhook(
        config: RawConfig,
        request: WebhookRequest,
    ) -> Result<VerifiedWebhook, ConnectorError> {
        <T as Webhooks>::verify_webhook(&Config::new(config), request)
    }

    fn register_webhooks(config: RawConfig, url: String) -> Result<WebhookSetup, ConnectorError> {
        <T as Webhooks>::register_webhooks(&Config::new(config), url)
    }

    fn unregister_webhooks(
        config: RawConfig,
        url: String,
        registered: Vec<RegisteredWebhook>,
    ) -> Result<(), ConnectorError> {
        <T as Webhooks>::unregister_webhooks(&Config::new(config), url, registered)
    }
}

impl<T: Inventory> inventory_guest::Guest for T {
    fn max_batch() -> u32 {
        <T as Inventory>::max_batch()
    }

    fn push_stock(
        config: RawConfig,
        levels: Vec<StockLevel>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let expected = levels.len();
        let updates = levels
            .into_iter()
            .enumerate()
            .map(|(index, level)| {
                Ok(StockUpdate {
                    quantity: money::from_contract(
                        &level.quantity,
                        &format!("levels[{index}].quantity"),
                    )?,
                    key: level.key,
                    sku: level.sku,
                })
            })
            .collect::<Result<Vec<_>, ConnectorError>>()?;
        let results = <T as Inventory>::push_stock(&Config::new(config), updates)?;
        check_count("push-stock", expected, results)
    }
}

impl<T: Catalog> catalog_guest::Guest for T {
    fn list_products(
        config: RawConfig,
        cursor: Option<String>,
    ) -> Result<ProductPage, ConnectorError> {
        <T as Catalog>::list_products(&Config::new(config), cursor)
    }
}

impl<T: Fulfillment> fulfillment_guest::Guest for T {
    fn fulfill(
        config: RawConfig,
        order_id: String,
        shipment: Shipment,
    ) -> Result<(), ConnectorError> {
        <T as Fulfillment>::fulfill(&Config::new(config), order_id, shipment)
    }
}

impl<T: StatusChanges> status_guest::Guest for T {
    fn supported_changes() -> Vec<StatusChange> {
        <T as StatusChanges>::supported_changes()
    }

    fn set_order_status(
        config: RawConfig,
        order_id: String,
        change: StatusChange,
    ) -> Result<(), ConnectorError> {
        if !<T as StatusChanges>::supported_changes().contains(&change) {
            return Err(ConnectorError::unsupported(&format!(
                "the order status change {change:?}"
            )));
        }
        <T as StatusChanges>::set_order_status(&Config::new(config), order_id, change)
    }
}

impl<T: Refunds> refunds_guest::Guest for T {
    fn list_refunds(config: RawConfig, order_id: String) -> Result<Vec<Refund>, ConnectorError> {
        <T as Refunds>::list_refunds(&Config::new(config), order_id)
    }
}

impl<T: PaymentMethods> methods_guest::Guest for T {
    fn list_payment_methods(config: RawConfig) -> Result<Vec<PaymentMethod>, ConnectorError> {
        <T as PaymentMethods>::list_payment_methods(&Config::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ErrorKind;

    struct Minimal;

    impl Inventory for Minimal {
        fn max_batch() -> u32 {
            2
        }

        fn push_stock(
            _config: &Config,
            levels: Vec<StockUpdate>,
        ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
            // One result too few when asked for three, to show the count check.
            Ok(levels
                .iter()
                .take(2)
                .map(|level| {
                    level
                        .whole_quantity()
                        .map(drop)
                        .map_err(|error| error.context(&level.key))
                })
                .collect())
        }
    }

    impl StatusChanges for Minimal {
        fn supported_changes() -> Vec<StatusChange> {
            vec![StatusChange::Cancelled]
        }

        fn set_order_status(
            _config: &Config,
            _order_id: String,
            _change: StatusChange,
        ) -> Result<(), ConnectorError> {
            Ok(())
        }
    }

    impl Orders for Minimal {
        fn list_orders(
            _config: &Config,
            changed_since: OffsetDateTime,
            cursor: Option<String>,
        ) -> Result<OrderPage, ConnectorError> {
            Ok(OrderPage {
                orders: Vec::new(),
                next_cursor: cursor.or(Some(changed_since.unix_timestamp().to_string())),
            })
        }

        fn get_order(_config: &Config, id: String) -> Result<Order, ConnectorError> {
            Err(ConnectorError::not_found(id))
        }
    }

    fn level(key: &str, quantity: &str) -> StockLevel {
        StockLevel {
            key: key.into(),
            sku: None,
            quantity: quantity.into(),
        }
    }

    #[test]
    fn stock_levels_arrive_as_decimals_and_results_are_counted() {
        let push = |levels| <Minimal as inventory_guest::Guest>::push_stock(Vec::new(), levels);
        let results = push(vec![level("a", "7.00"), level("b", "1.5")]).unwrap();
        assert_eq!(results[0], Ok(()));
        let error = results[1].clone().unwrap_err();
        assert_eq!(error.field.as_deref(), Some("quantity"));
        assert!(error.message.starts_with("b: "), "{}", error.message);
        let error = push(vec![level("a", "1"), level("b", "2"), level("c", "3")]).unwrap_err();
        assert!(
            error.message.contains("2 results for 3"),
            "{}",
            error.message
        );
        let error = push(vec![level("a", "x")]).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("levels[0].quantity"));
        assert_eq!(<Minimal as inventory_guest::Guest>::max_batch(), 2);
    }

    #[test]
    fn unsupported_status_changes_are_refused_before_the_connector() {
        let set = |change| {
            <Minimal as status_guest::Guest>::set_order_status(Vec::new(), "1".into(), change)
        };
        assert_eq!(set(StatusChange::Cancelled), Ok(()));
        assert_eq!(
            set(StatusChange::Paid).unwrap_err().kind,
            ErrorKind::Unsupported
        );
    }

    #[test]
    fn timestamps_arrive_as_datetimes() {
        let page = <Minimal as orders_guest::Guest>::list_orders(
            Vec::new(),
            Timestamp {
                seconds: 86_400,
                nanoseconds: 0,
            },
            None,
        )
        .unwrap();
        assert_eq!(page.next_cursor.as_deref(), Some("86400"));
        let error = <Minimal as orders_guest::Guest>::list_orders(
            Vec::new(),
            Timestamp {
                seconds: i64::MAX,
                nanoseconds: 0,
            },
            None,
        )
        .unwrap_err();
        assert_eq!(error.field.as_deref(), Some("changed-since"));
    }

    #[test]
    fn webhook_request_helpers() {
        let request = WebhookRequest {
            method: "POST".into(),
            headers: vec![("x-topic".into(), "order.updated".into())],
            query: "a=1&b=x%20y".into(),
            body: br#"{"id": 5}"#.to_vec(),
        };
        assert_eq!(request.header("X-Topic"), Some("order.updated"));
        assert_eq!(request.query_param("b").as_deref(), Some("x y"));
        let body: serde_json::Value = request.json().unwrap();
        assert_eq!(body["id"], 5);
        assert_eq!(
            request.json::<Vec<u8>>().unwrap_err().kind,
            ErrorKind::InvalidInput
        );
    }
}
