//! The connection check: the reference lists (order states, carriers, currencies,
//! countries, and `configurations` for the time zone) prove the key and most
//! permissions; one order row proves `orders`; one `stock_availables` row shows whether
//! stock can be set.

use serde::Deserialize;
use tovor_sdk::Config;
use tovor_sdk::shop::ConnectionInfo;
use tovor_sdk::types::{ConnectorError, ErrorKind};

use crate::api::{Api, KEY_FIELD, SHOP_URL_FIELD, de_text};
use crate::reference::Reference;

#[derive(Deserialize)]
struct ConfigurationRow {
    #[serde(default, deserialize_with = "de_text")]
    value: String,
}

pub fn check(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
    let api = Api::new(config)?;
    let reference = Reference::refresh(&api).map_err(explain)?;
    reference.zone(config)?;
    api.send(
        api.get("orders")
            .query_param("display", "[id]")
            .query_param("limit", "0,1"),
    )
    .map_err(explain)?;
    let name = api
        .list::<ConfigurationRow>(
            api.get("configurations")
                .query_param("display", "[value]")
                .query_param("filter[name]", "[PS_SHOP_NAME]"),
            "configurations",
        )
        .ok()
        .and_then(|rows| rows.into_iter().next())
        .map(|row| row.value.trim().to_owned())
        .filter(|name| !name.is_empty());
    let account = match name {
        Some(name) => format!("{name} ({})", api.shop_url()),
        None => api.shop_url().to_owned(),
    };
    let mut info = ConnectionInfo::account(account);
    if reference.time_zone.is_none() && config.text("time_zone").is_none() {
        info = info.warning("the key may not read configurations: set the shop's time zone");
    }
    match api.send(
        api.get("stock_availables")
            .query_param("display", "[id]")
            .query_param("limit", "0,1"),
    ) {
        Ok(_) => {}
        Err(error) if error.is(ErrorKind::Permission) => {
            info = info.warning(format!(
                "the key may not use stock_availables, so stock levels cannot be set: {}",
                error.message
            ));
        }
        Err(error) => return Err(error),
    }
    Ok(info)
}

/// The check's errors, saying which setting to fix.
fn explain(error: ConnectorError) -> ConnectorError {
    let status = error.http_status;
    let with_status = |fixed: ConnectorError| match status {
        Some(status) => fixed.with_http_status(status),
        None => fixed,
    };
    match error.kind {
        ErrorKind::Auth => with_status(
            ConnectorError::auth(format!(
                "PrestaShop refused the webservice key ({}); copy it again from Advanced \
                 Parameters › Webservice and check that it is enabled",
                error.message
            ))
            .with_field(KEY_FIELD),
        ),
        ErrorKind::Permission => with_status(
            ConnectorError::permission(format!(
                "the webservice key lacks a permission ({}); tick GET for orders, \
                 order_details, order_states, order_carriers, order_cart_rules, cart_rules, \
                 customers, addresses, countries, carriers, currencies, configurations, \
                 products, combinations, GET and PUT for stock_availables and order_carriers, \
                 POST for order_histories",
                error.message
            ))
            .with_field(KEY_FIELD),
        ),
        ErrorKind::NotFound => with_status(
            ConnectorError::not_found(format!(
                "no PrestaShop Webservice at this address ({}); give the shop's address, \
                 with friendly URLs enabled",
                error.message
            ))
            .with_field(SHOP_URL_FIELD),
        ),
        _ => error,
    }
}
