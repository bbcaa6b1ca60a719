//! The connection check: one order through `GET /V1/orders` (`searchCriteria[pageSize]=1`)
//! proves the address, the credentials and the *Sales › Operations › Orders* resource;
//! `GET /V1/inventory/sources` tells MSI from legacy stock and whether the configured
//! source exists.

use tovor_sdk::Config;
use tovor_sdk::shop::ConnectionInfo;
use tovor_sdk::types::{ConnectorError, ErrorKind};

use crate::api::{Api, Auth, BASE_URL_FIELD, is_missing_route};
use crate::mapping;
use crate::stock;

pub fn check(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
    let api = Api::new(config)?;
    let query = vec![
        ("searchCriteria[pageSize]".to_owned(), "1".to_owned()),
        ("searchCriteria[currentPage]".to_owned(), "1".to_owned()),
    ];
    let response = api
        .get("/orders", &query)
        .map_err(|error| explain(error, api.auth()))?;
    let orders = mapping::parse_search(&response.body)?;
    let address = config.api_base_or(config.text(BASE_URL_FIELD).unwrap_or_default());
    let mut info = ConnectionInfo::account(format!(
        "{} ({} orders)",
        address.trim_end_matches('/'),
        orders.total_count
    ));
    match stock::sources(&api) {
        // The check runs before the account exists, without connector state: the
        // first stock push probes again and keeps the answer.
        Ok(Some(sources)) => {
            let source = stock::source_code(config);
            if !sources.contains(&source) {
                return Err(ConnectorError::invalid_field(
                    "source_code",
                    format!(
                        "the store has no inventory source {source:?}; its sources are: {}",
                        sources.join(", ")
                    ),
                ));
            }
        }
        Ok(None) => {
            info = info.warning(
                "the store has no Multi-Source Inventory: stock is set on its legacy stock items"
                    .to_owned(),
            );
        }
        Err(error) if error.is(ErrorKind::Permission) => {
            info = info.warning(format!(
                "the integration may not read inventory sources, so stock levels cannot be \
                 set: {}",
                error.message
            ));
        }
        Err(error) => return Err(error),
    }
    Ok(info)
}

/// The check's errors, saying which setting to fix.
fn explain(error: ConnectorError, auth: &Auth) -> ConnectorError {
    let status = error.http_status;
    let with_status = |fixed: ConnectorError| match status {
        Some(status) => fixed.with_http_status(status),
        None => fixed,
    };
    match (error.kind, auth) {
        (ErrorKind::Auth, Auth::Bearer(_)) => with_status(
            ConnectorError::auth(format!(
                "{}. Magento refused the access token as a Bearer token: since 2.4.4 \
                 integration tokens need OAuth 1.0a (fill in the consumer key, consumer \
                 secret and access token secret) unless the store allows them as Bearer \
                 tokens",
                error.message
            ))
            .with_field("access_token"),
        ),
        (ErrorKind::Auth, Auth::OAuth(_)) => with_status(
            ConnectorError::auth(format!(
                "{}. Check the integration's consumer key and secret, access token and \
                 access token secret (System › Integrations › Integration Info), and that the \
                 integration is active",
                error.message
            ))
            .with_field("consumer_key"),
        ),
        (ErrorKind::Permission, _) => error.with_field(auth.field()),
        (ErrorKind::NotFound, _) if is_missing_route(&error) => error.with_field(BASE_URL_FIELD),
        (ErrorKind::NotFound, _) => with_status(
            ConnectorError::not_found(format!(
                "{}: no Magento REST API at this address (or store code)",
                error.message
            ))
            .with_field(BASE_URL_FIELD),
        ),
        _ => error,
    }
}
