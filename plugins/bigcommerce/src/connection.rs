//! The connection check: `GET /v2/store` proves the store hash and the token and names
//! the store; `GET /v2/orders?limit=1` proves the *Orders* scope.

use serde::Deserialize;
use tovor_sdk::Config;
use tovor_sdk::shop::ConnectionInfo;
use tovor_sdk::types::{ConnectorError, ErrorKind};

use crate::api::{Api, STORE_HASH_FIELD, TOKEN_FIELD};
use crate::webhooks::SECRET_FIELD;

pub fn check(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
    let api = Api::new(config)?;
    #[derive(Deserialize)]
    struct Store {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        domain: Option<String>,
    }
    let store: Store = api
        .get("/v2/store", &[])
        .map_err(|error| match error.kind {
            ErrorKind::NotFound => error
                .context("no store with this hash")
                .with_field(STORE_HASH_FIELD),
            ErrorKind::Auth => error
                .context("the API account's access token was refused")
                .with_field(TOKEN_FIELD),
            _ => error,
        })?
        .json()?;
    api.get("/v2/orders", &[("limit", "1".to_owned())])
        .map_err(|error| match error.kind {
            ErrorKind::Permission | ErrorKind::Auth => error
                .context("the API account needs the Orders scope (read-only or modify)")
                .with_field(TOKEN_FIELD),
            _ => error,
        })?;
    let name = store
        .name
        .or(store.domain)
        .unwrap_or_else(|| "BigCommerce store".to_owned());
    let mut info = ConnectionInfo::account(name);
    if config
        .text(SECRET_FIELD)
        .is_none_or(|s| s.trim().is_empty())
    {
        info = info.warning(
            "no client secret: webhooks cannot be verified, orders arrive by polling only"
                .to_owned(),
        );
    }
    Ok(info)
}
