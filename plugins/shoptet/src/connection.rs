//! The connection check: `GET /api/eshop` names the e-shop (any token may read it), and
//! `GET /api/stocks` shows whether stock can be set.

use serde::Deserialize;
use tovor_sdk::Config;
use tovor_sdk::shop::ConnectionInfo;
use tovor_sdk::types::{ConnectorError, ErrorKind};

use crate::api::{Api, Auth, ESHOP_URL_FIELD, Envelope};
use crate::mapping::non_blank;

/// What `GET /api/eshop` says about the e-shop.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactInformation {
    #[serde(default)]
    pub eshop_id: Option<serde_json::Value>,
    #[serde(default)]
    pub eshop_name: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

pub fn eshop_info(api: &Api) -> Result<ContactInformation, ConnectorError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        #[serde(default)]
        contact_information: Option<ContactInformation>,
    }
    let envelope: Envelope<Data> = api.send(api.get("/api/eshop"))?.json()?;
    Ok(envelope
        .data
        .and_then(|data| data.contact_information)
        .unwrap_or_default())
}

pub fn check(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
    let api = Api::new(config)?;
    let info = eshop_info(&api).map_err(|error| explain(error, api.auth()))?;
    let account = match (
        non_blank(info.eshop_name.as_deref()),
        non_blank(info.url.as_deref()),
    ) {
        (Some(name), Some(url)) if name != url => format!("{name} ({url})"),
        (Some(name), _) => name,
        (None, Some(url)) => url,
        (None, None) => String::from("Shoptet e-shop"),
    };
    let mut connection = ConnectionInfo::account(account);
    if config.integer("stock_id")?.is_none() {
        match crate::stock::default_stock_id(&api) {
            Ok(_) => {}
            Err(error) if error.is(ErrorKind::Permission) => {
                connection = connection.warning(format!(
                    "the token may not read stocks, so stock levels cannot be set: {}",
                    error.message
                ));
            }
            Err(error) => return Err(error),
        }
    }
    Ok(connection)
}

/// The connection check's errors, saying which setting to fix.
fn explain(error: ConnectorError, auth: &Auth) -> ConnectorError {
    let status = error.http_status;
    let with_status = |fixed: ConnectorError| match status {
        Some(status) => fixed.with_http_status(status),
        None => fixed,
    };
    match (error.kind, auth) {
        (ErrorKind::Auth, Auth::Private(_)) => with_status(
            ConnectorError::auth(format!(
                "Shoptet refused the private API token ({}); copy it again from Settings › \
                 Access to API",
                error.message
            ))
            .with_field(auth.field()),
        ),
        (ErrorKind::Auth, Auth::Addon { .. }) => with_status(
            ConnectorError::auth(format!(
                "Shoptet refused the addon's token ({}); check the addon OAuth access token",
                error.message
            ))
            .with_field(
                error
                    .field
                    .clone()
                    .unwrap_or_else(|| auth.field().to_owned()),
            ),
        ),
        (ErrorKind::Permission, _) => with_status(
            ConnectorError::permission(format!(
                "the token may not read the e-shop's settings ({}); grant it the e-shop \
                 endpoint group under Access to API",
                error.message
            ))
            .with_field(auth.field()),
        ),
        (ErrorKind::NotFound, Auth::Addon { .. }) => error.with_field(ESHOP_URL_FIELD),
        _ => error,
    }
}
