//! Shop connectors: the [`Shop`] trait and the types of the `shop` world.
//!
//! Implement [`Shop`] for a unit struct and export it with
//! [`export_shop!`](crate::export_shop). Only [`Shop::describe`] is required; every
//! other operation answers `unsupported` until you implement it, so declare in
//! [`ShopCapabilities`] (and in `plugin.toml`) what you actually implement.

use crate::Config;
use crate::bindings::shop::exports::tovor::connector::shop_connector as guest;
use crate::types::{ConnectorError, Order, Tracking};

pub use guest::{
    OrderHint, OrderPage, Product, ProductPage, ShopCapabilities, ShopInfo, StockKey, StockLevel,
    VerifiedWebhook, WebhookEvent, WebhookRequest,
};

/// A shop platform connector. Methods are static (no `self`): a connector keeps no state
/// between calls, everything it needs arrives in [`Config`] and the arguments.
pub trait Shop {
    /// The platform's name and what this connector can do. Called once at load.
    fn describe() -> ShopInfo;

    /// Orders changed at or after `changed_since` (RFC 3339, UTC), oldest change first
    /// where the platform allows it. `cursor` is `None` for the first page, then whatever
    /// the previous page returned as `next_cursor`.
    fn list_orders(
        config: &Config,
        changed_since: &str,
        cursor: Option<String>,
    ) -> Result<OrderPage, ConnectorError> {
        let _ = (config, changed_since, cursor);
        Err(ConnectorError::unsupported("list-orders"))
    }

    /// One order by the platform's id ([`Order::id`]); `not-found` when it does not exist.
    fn get_order(config: &Config, id: String) -> Result<Order, ConnectorError> {
        let _ = (config, id);
        Err(ConnectorError::unsupported("get-order"))
    }

    /// Checks a webhook delivery's signature against the configured secret and parses
    /// it. A signature that does not match must return `bad-signature`. See
    /// [`crate::signature`].
    fn verify_webhook(
        config: &Config,
        request: WebhookRequest,
    ) -> Result<VerifiedWebhook, ConnectorError> {
        let _ = (config, request);
        Err(ConnectorError::unsupported("webhooks"))
    }

    /// Sets absolute stock levels: one result per level, in the same order. The outer
    /// error fails the whole batch (bad credentials, platform down).
    fn push_stock(
        config: &Config,
        levels: Vec<StockLevel>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let _ = (config, levels);
        Err(ConnectorError::unsupported("push-stock"))
    }

    /// The platform's products with their stock keys, so the host can link its SKUs.
    fn list_products(
        config: &Config,
        cursor: Option<String>,
    ) -> Result<ProductPage, ConnectorError> {
        let _ = (config, cursor);
        Err(ConnectorError::unsupported("list-products"))
    }

    /// Tells the platform the order has shipped, with its tracking number.
    fn mark_shipped(
        config: &Config,
        order_id: String,
        tracking: Tracking,
    ) -> Result<(), ConnectorError> {
        let _ = (config, order_id, tracking);
        Err(ConnectorError::unsupported("mark-shipped"))
    }
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

/// The hidden raw trait, implemented for every [`Shop`]: the export macro needs nothing
/// more than this.
impl<T: Shop> guest::Guest for T {
    fn describe() -> ShopInfo {
        <T as Shop>::describe()
    }

    fn list_orders(
        config: Vec<(String, String)>,
        changed_since: String,
        cursor: Option<String>,
    ) -> Result<OrderPage, ConnectorError> {
        <T as Shop>::list_orders(&Config::new(config), &changed_since, cursor)
    }

    fn get_order(config: Vec<(String, String)>, id: String) -> Result<Order, ConnectorError> {
        <T as Shop>::get_order(&Config::new(config), id)
    }

    fn verify_webhook(
        config: Vec<(String, String)>,
        request: WebhookRequest,
    ) -> Result<VerifiedWebhook, ConnectorError> {
        <T as Shop>::verify_webhook(&Config::new(config), request)
    }

    fn push_stock(
        config: Vec<(String, String)>,
        levels: Vec<StockLevel>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let expected = levels.len();
        let results = <T as Shop>::push_stock(&Config::new(config), levels)?;
        crate::check_count("push-stock", expected, results)
    }

    fn list_products(
        config: Vec<(String, String)>,
        cursor: Option<String>,
    ) -> Result<ProductPage, ConnectorError> {
        <T as Shop>::list_products(&Config::new(config), cursor)
    }

    fn mark_shipped(
        config: Vec<(String, String)>,
        order_id: String,
        tracking: Tracking,
    ) -> Result<(), ConnectorError> {
        <T as Shop>::mark_shipped(&Config::new(config), order_id, tracking)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Minimal;

    impl Shop for Minimal {
        fn describe() -> ShopInfo {
            ShopInfo {
                platform: "Minimal".into(),
                capabilities: ShopCapabilities::empty(),
            }
        }
    }

    #[test]
    fn defaults_are_unsupported() {
        let config = Config::default();
        assert!(matches!(
            Minimal::get_order(&config, "1".into()),
            Err(ConnectorError::Unsupported(_))
        ));
        assert!(matches!(
            Minimal::list_orders(&config, "2026-01-01T00:00:00Z", None),
            Err(ConnectorError::Unsupported(_))
        ));
        assert!(matches!(
            <Minimal as guest::Guest>::push_stock(Vec::new(), Vec::new()),
            Err(ConnectorError::Unsupported(_))
        ));
        assert_eq!(<Minimal as guest::Guest>::describe().platform, "Minimal");
    }

    struct Miscounting;

    impl Shop for Miscounting {
        fn describe() -> ShopInfo {
            Minimal::describe()
        }

        fn push_stock(
            _config: &Config,
            _levels: Vec<StockLevel>,
        ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
            Ok(vec![Ok(())])
        }
    }

    #[test]
    fn result_count_is_checked() {
        let level = StockLevel {
            key: StockKey {
                sku: Some("A".into()),
                product_id: None,
                variation_id: None,
                inventory_item_id: None,
                location_id: None,
            },
            quantity: 3,
        };
        let results = <Miscounting as guest::Guest>::push_stock(Vec::new(), vec![level.clone()]);
        assert_eq!(results, Ok(vec![Ok(())]));
        let results =
            <Miscounting as guest::Guest>::push_stock(Vec::new(), vec![level.clone(), level]);
        assert!(matches!(results, Err(ConnectorError::Other(m)) if m.contains("push-stock")));
    }

    #[test]
    fn webhook_request_helpers() {
        let request = WebhookRequest {
            method: "POST".into(),
            headers: vec![("x-minishop-event".into(), "ping".into())],
            query: "topic=orders%2Fcreate&x=1".into(),
            body: br#"{"ping":true}"#.to_vec(),
        };
        assert_eq!(request.header("X-Minishop-Event"), Some("ping"));
        assert_eq!(request.header("x-other"), None);
        assert_eq!(
            request.query_param("topic").as_deref(),
            Some("orders/create")
        );
        let body: serde_json::Value = request.json().unwrap();
        assert_eq!(body["ping"], true);
        let broken = WebhookRequest {
            body: b"nope".to_vec(),
            ..request
        };
        assert!(matches!(
            broken.json::<serde_json::Value>(),
            Err(ConnectorError::InvalidInput(_))
        ));
    }
}
