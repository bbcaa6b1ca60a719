//! The connection check: one order search (limit 1) proves the key, the site and the
//! order permission; the catalog version proves the stores permission and says whether
//! stock can be set.

use serde_json::json;
use tovor_sdk::Config;
use tovor_sdk::shop::ConnectionInfo;
use tovor_sdk::types::{ConnectorError, ErrorKind};

use crate::api::Api;
use crate::stock;

pub fn check(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
    let api = Api::new(config)?;
    // The key must be parseable before the shop is saved: a delivery can only be
    // verified with it.
    crate::webhooks::public_key(config.require("webhook_public_key")?)
        .map_err(|error| ConnectorError::invalid_field("webhook_public_key", error.message))?;
    let search = json!({"search": {"cursorPaging": {"limit": 1}}});
    api.send(api.post("ecom/v1/orders/search", &search))
        .map_err(|error| match error.kind {
            ErrorKind::NotFound => ConnectorError::not_found(format!(
                "{}. Check `site_id`: Wix knows no such site for this key",
                error.message
            ))
            .with_field("site_id"),
            _ => error,
        })?;
    let mut info = ConnectionInfo::account(format!("Wix site {}", api.site()));
    match stock::catalog_version(&api) {
        Ok(version) => {
            let _ = version;
        }
        Err(error) if error.is(ErrorKind::Unsupported) => {
            info = info.warning(format!("{}; stock will not be pushed", error.message));
        }
        Err(error) if error.is(ErrorKind::Permission) => {
            info = info.warning(format!(
                "the API key may not read the store's catalog ({}); give it the Wix Stores \
                 permissions for stock pushes",
                error.message
            ));
        }
        Err(error) => return Err(error),
    }
    Ok(info)
}
