//! Checking a shop's settings: the site URL, the REST API key and its permissions.

use serde::Deserialize;
use tovor_sdk::http::Request;
use tovor_sdk::shop::ConnectionInfo;
use tovor_sdk::types::{ConnectorError, ErrorKind};

use crate::api::Api;

/// WordPress's REST index (`GET {site}/wp-json/`), the fields we ask for.
#[derive(Debug, Deserialize)]
struct SiteIndex {
    #[serde(default)]
    name: String,
}

/// One order is the cheapest authenticated answer, and reading orders is what the key
/// is needed for first; the site's name comes from WordPress's public REST index.
pub fn check(api: &Api) -> Result<ConnectionInfo, ConnectorError> {
    let mut answers = api
        .send_all(vec![
            api.request(
                "GET",
                "/orders",
                &[("per_page", "1".to_owned()), ("_fields", "id".to_owned())],
                None,
            ),
            Request::get(format!("{}/wp-json/", api.site()))
                .query_param("_fields", "name,url")
                .header("Accept", "application/json"),
        ])
        .into_iter();
    answers
        .next()
        .ok_or_else(|| ConnectorError::other("the host answered no request"))?
        .map_err(explain)?;
    // The name is a nicety: a site that hides its index is still connected.
    let name = answers
        .next()
        .and_then(Result::ok)
        .and_then(|response| response.json::<SiteIndex>().ok())
        .map(|index| index.name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| host_of(api.site()).to_owned());
    let mut info = ConnectionInfo::account(name);
    if api.is_plain_http() && !is_local(api.site()) {
        info = info.warning(
            "the site is reached over plain http://, so orders and customers' addresses \
             travel unencrypted; use its https:// address if it has one",
        );
    }
    Ok(info)
}

/// What a failed check means for the person filling in the settings.
pub fn explain(error: ConnectorError) -> ConnectorError {
    let said = error.message.clone();
    let code = error.platform_code.clone().unwrap_or_default();
    match error.kind {
        // Core answers 401 also for a key without the permission the method needs.
        ErrorKind::Auth if said.contains("does not have") && said.contains("permissions") => {
            ConnectorError {
                kind: ErrorKind::Permission,
                message: format!(
                    "WooCommerce accepts the REST API key but not for this ({said}): the key \
                     needs Read/Write permissions (WooCommerce → Settings → Advanced → REST API)"
                ),
                field: Some("consumer_key".into()),
                ..error
            }
        }
        ErrorKind::Auth => {
            // "Consumer key is invalid." names the key; a bad signature or "Consumer
            // secret is invalid." the secret.
            let field = if said.contains("secret") || said.contains("signature") {
                "consumer_secret"
            } else {
                "consumer_key"
            };
            ConnectorError {
                message: format!(
                    "WooCommerce refused the REST API key ({said}): check consumer_key and \
                     consumer_secret (WooCommerce → Settings → Advanced → REST API). If they \
                     are right, the web server may drop the Authorization header."
                ),
                field: Some(field.into()),
                ..error
            }
        }
        ErrorKind::Permission => ConnectorError {
            message: format!(
                "WooCommerce refused the request ({said}): the key needs Read/Write \
                 permissions and must belong to an administrator or shop manager"
            ),
            field: Some("consumer_key".into()),
            ..error
        },
        ErrorKind::NotFound if code == "rest_no_route" => ConnectorError {
            message: format!(
                "WordPress answers at this address but has no WooCommerce REST API \
                 (wc/v3): is WooCommerce installed and active? ({said})"
            ),
            field: Some("url".into()),
            ..error
        },
        ErrorKind::NotFound => ConnectorError {
            message: format!(
                "no WooCommerce REST API at this address; is the site URL right and are \
                 permalinks on? ({said})"
            ),
            field: Some("url".into()),
            ..error
        },
        // A redirect: the shop lives elsewhere (https, www); the message names where.
        ErrorKind::Other
            if error
                .http_status
                .is_some_and(|status| (300..400).contains(&status)) =>
        {
            ConnectorError {
                field: Some("url".into()),
                ..error
            }
        }
        _ => error,
    }
}

/// The host (and port) of `site`: `https://shop.example:8443/x` → `shop.example:8443`.
fn host_of(site: &str) -> &str {
    site.split_once("://")
        .map_or(site, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or(site)
}

/// A site on this machine or a private network, where plain HTTP is common and
/// harmless (a shop under development, a test server).
fn is_local(site: &str) -> bool {
    let host = host_of(site);
    let host = host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(host, _)| host);
    host == "localhost"
        || host.ends_with(".local")
        || host.starts_with("127.")
        || host.starts_with("10.")
        || host.starts_with("192.168.")
        || host == "[::1]"
}
