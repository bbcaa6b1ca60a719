//! The connection check: `GET shop.json` (any valid token may read it) names the shop,
//! and `GET /admin/oauth/access_scopes.json` says which scopes the token has, so missing
//! ones are reported before a sync or a stock push runs into them.

use serde::Deserialize;
use tovor_sdk::Config;
use tovor_sdk::shop::ConnectionInfo;
use tovor_sdk::types::{ConnectorError, ErrorKind};

use crate::api::Api;
use crate::mapping::{self, non_blank};

/// The scope without which the connector is of no use.
const ORDERS_SCOPE: &str = "read_orders";

/// Scopes whose absence breaks one capability: any of the alternatives, and what stops
/// working without them.
const WANTED_SCOPES: &[(&[&str], &str)] = &[
    (
        &["read_all_orders"],
        "orders older than 60 days cannot be read (history imports stop there)",
    ),
    (
        &["read_products"],
        "products cannot be listed for linking items",
    ),
    (&["write_inventory"], "stock levels cannot be set"),
    (
        &[
            "write_merchant_managed_fulfillment_orders",
            "write_fulfillments",
        ],
        "shipments cannot be recorded as fulfillments",
    ),
    (
        &["write_orders"],
        "orders cannot be cancelled, closed or marked paid",
    ),
];

pub fn check(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
    let api = Api::new(config)?;
    let domain = mapping::normalize_domain(config.require("shop_domain")?);
    #[derive(Deserialize)]
    struct One {
        shop: Shop,
    }
    #[derive(Deserialize)]
    struct Shop {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        myshopify_domain: Option<String>,
        #[serde(default)]
        primary_location_id: Option<u64>,
    }
    let one: One = api
        .send(api.get("shop.json"))
        .map_err(|error| explain(error, &domain))?
        .json()?;
    let shop = one.shop;
    if config.integer("location_id")?.is_none()
        && let Some(location) = shop.primary_location_id
    {
        // Free here, and the first stock push then needs no lookup.
        crate::stock::remember_primary_location(location);
    }
    let account = match (
        non_blank(shop.name.as_deref()),
        non_blank(shop.myshopify_domain.as_deref()),
    ) {
        (Some(name), Some(domain)) => format!("{name} ({domain})"),
        (Some(name), None) => name,
        (None, Some(domain)) => domain,
        (None, None) => domain,
    };
    let mut info = ConnectionInfo::account(account);
    let Some(scopes) = access_scopes(&api) else {
        return Ok(info);
    };
    if !has_scope(&scopes, ORDERS_SCOPE) {
        return Err(ConnectorError::permission(format!(
            "the access token lacks the {ORDERS_SCOPE} scope, so no order can be read; grant \
             it in the app's Admin API scopes and install the app again"
        ))
        .with_field("access_token")
        .with_platform_code(ORDERS_SCOPE));
    }
    for (alternatives, consequence) in WANTED_SCOPES {
        if !alternatives.iter().any(|scope| has_scope(&scopes, scope))
            && let Some(scope) = alternatives.first()
        {
            info = info.warning(format!(
                "the access token lacks the {scope} scope: {consequence}"
            ));
        }
    }
    Ok(info)
}

/// The connection check's errors, saying which setting to fix.
fn explain(error: ConnectorError, domain: &str) -> ConnectorError {
    match error.kind {
        ErrorKind::NotFound => ConnectorError::not_found(format!(
            "no Shopify shop answers at {domain} ({}); use the shop's permanent \
             ….myshopify.com domain",
            error.message
        ))
        .with_field("shop_domain")
        .with_http_status(error.http_status.unwrap_or(404)),
        ErrorKind::Auth => ConnectorError::auth(format!(
            "Shopify refused the access token ({}); copy the Admin API access token of the \
             shop's custom app again",
            error.message
        ))
        .with_field("access_token")
        .with_http_status(error.http_status.unwrap_or(401)),
        _ => error,
    }
}

/// The token's scopes; `None` when Shopify does not say (the check then has nothing to
/// warn about, and the calls themselves report a missing scope).
fn access_scopes(api: &Api) -> Option<Vec<String>> {
    #[derive(Deserialize)]
    struct Scopes {
        access_scopes: Vec<Handle>,
    }
    #[derive(Deserialize)]
    struct Handle {
        handle: String,
    }
    let request =
        tovor_sdk::http::Request::get(api.unversioned_url("admin/oauth/access_scopes.json"));
    match api
        .send(request)
        .and_then(|response| response.json::<Scopes>())
    {
        Ok(scopes) => Some(
            scopes
                .access_scopes
                .into_iter()
                .map(|scope| scope.handle)
                .collect(),
        ),
        Err(error) => {
            tovor_sdk::log::info(format!(
                "cannot read the access token's scopes: {}",
                error.message
            ));
            None
        }
    }
}

/// Whether `scopes` grant `wanted`; a `write_` scope includes its `read_` one.
fn has_scope(scopes: &[String], wanted: &str) -> bool {
    let write = wanted
        .strip_prefix("read_")
        .map(|rest| format!("write_{rest}"));
    scopes
        .iter()
        .any(|scope| scope == wanted || write.as_deref() == Some(scope.as_str()))
}
