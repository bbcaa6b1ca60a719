//! Setting a shop up on its platform and taking it down again: the connection check
//! when a shop is added or edited, and the platform's webhook subscriptions, registered
//! when a shop is added or enabled and removed when it is disabled.

use std::collections::BTreeMap;

use tovor_runtime::model::{ConnectionInfo, RegisteredWebhook, WebhookSetup};
use tovor_runtime::{CallContext, CallError, ErrorKind, ShopClient};
use tovor_store::shops::{RegisteredWebhookRecord, Shop, WebhookSetupRecord};

use crate::connectors::{shop_client, shop_context};
use crate::error::ServiceError;
use crate::state::AppState;

/// Why a connection check failed, in words the user can act on.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConnectionFailed {
    pub message: String,
    /// The config field to fix, when the connector knows it.
    pub field: Option<String>,
}

/// Tests `config` against the platform through the connector `plugin_id`. `Ok(None)`
/// when the connector cannot check (contract 0.1, or no `connection` capability).
/// `shop` scopes connector state, for a shop that exists already.
pub async fn check_connection(
    state: &AppState,
    plugin_id: &str,
    config: BTreeMap<String, String>,
    shop: Option<&Shop>,
) -> Result<Option<ConnectionInfo>, ConnectionFailed> {
    let context = match shop {
        Some(shop) => shop_context(shop, config),
        None => CallContext::new("new-shop", config),
    };
    let client = state
        .runtime
        .shop(plugin_id, context)
        .map_err(|error| ConnectionFailed {
            message: error.to_string(),
            field: Some("plugin".into()),
        })?;
    if !client.can(tovor_runtime::Capability::Connection) {
        return Ok(None);
    }
    match client.check_connection().await {
        Ok(info) => Ok(Some(info)),
        Err(error) => Err(explain_failed_check(&error)),
    }
}

/// The connector's own words where it gave them (they name what to fix), else the
/// host's view of what went wrong on the way.
fn explain_failed_check(error: &CallError) -> ConnectionFailed {
    match error.connector_error() {
        Some(connector) => {
            let hint = match connector.kind {
                ErrorKind::Auth => "the platform refused the credentials",
                ErrorKind::Permission => "the credentials lack a permission",
                ErrorKind::NotFound => "the address does not lead to the platform's API",
                ErrorKind::RateLimited | ErrorKind::Transient => {
                    "the platform did not answer properly; try again shortly"
                }
                _ => "the connection check failed",
            };
            ConnectionFailed {
                message: format!("{hint}: {}", connector.message),
                field: connector
                    .field
                    .as_ref()
                    .map(|field| format!("config.{field}")),
            }
        }
        None => ConnectionFailed {
            message: format!("cannot reach the platform: {error}"),
            field: None,
        },
    }
}

/// Has the platform deliver `shop`'s orders to its webhook URL and records what was
/// done. A failure is recorded too (the shop then shows why and is synced by polling),
/// never an error of the request that added the shop.
pub async fn register_webhooks(
    state: &AppState,
    shop: &Shop,
) -> Result<WebhookSetupRecord, ServiceError> {
    let url = state.webhook_url(&shop.webhook_key);
    let record = match shop_client(state, shop) {
        Ok(client) => registration_record(&client, &url).await,
        Err(error) => failed(&url, &error.to_string()),
    };
    state
        .store
        .company(shop.company)
        .set_webhook_setup(shop.id, Some(&record))
        .await?;
    Ok(record)
}

async fn registration_record(client: &ShopClient, url: &str) -> WebhookSetupRecord {
    match client.register_webhooks(url).await {
        Ok(WebhookSetup::Registered(webhooks)) => WebhookSetupRecord {
            state: "registered".into(),
            url: url.to_owned(),
            webhooks: webhooks
                .into_iter()
                .map(|webhook| RegisteredWebhookRecord {
                    id: webhook.id,
                    topic: webhook.topic,
                })
                .collect(),
            message: None,
        },
        Ok(WebhookSetup::Manual(instructions)) => WebhookSetupRecord {
            state: "manual".into(),
            url: url.to_owned(),
            webhooks: Vec::new(),
            message: Some(instructions),
        },
        Err(error) => {
            tracing::warn!(plugin = client.plugin().id(), %error, "webhook registration failed");
            failed(url, &error.to_string())
        }
    }
}

fn failed(url: &str, message: &str) -> WebhookSetupRecord {
    WebhookSetupRecord {
        state: "failed".into(),
        url: url.to_owned(),
        webhooks: Vec::new(),
        message: Some(message.to_owned()),
    }
}

/// Removes the subscriptions the host registered for `shop` (as `shop` was configured
/// then) and forgets them. When the platform refuses, the record stays with the error,
/// so nothing registered is forgotten.
pub async fn unregister_webhooks(state: &AppState, shop: &Shop) -> Result<(), ServiceError> {
    let Some(record) = &shop.webhook_setup else {
        return Ok(());
    };
    let scope = state.store.company(shop.company);
    if record.state != "registered" {
        scope.set_webhook_setup(shop.id, None).await?;
        return Ok(());
    }
    let registered: Vec<RegisteredWebhook> = record
        .webhooks
        .iter()
        .map(|webhook| RegisteredWebhook {
            id: webhook.id.clone(),
            topic: webhook.topic.clone(),
        })
        .collect();
    let outcome = match shop_client(state, shop) {
        Ok(client) => client
            .unregister_webhooks(&record.url, &registered)
            .await
            .map_err(ServiceError::from),
        Err(error) => Err(error),
    };
    match outcome {
        Ok(()) => scope.set_webhook_setup(shop.id, None).await?,
        Err(error) => {
            tracing::warn!(shop = %shop.id, %error, "removing the platform's webhooks failed");
            let kept = WebhookSetupRecord {
                message: Some(format!("removing these subscriptions failed: {error}")),
                ..record.clone()
            };
            scope.set_webhook_setup(shop.id, Some(&kept)).await?;
        }
    }
    Ok(())
}
