//! Calling a plugin: a fresh store per call, with memory, time and egress limits.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tovor_egress::{AllowList, Policy};
use tovor_manifest::Kind;
use wasmtime::{Store, Trap, UpdateDeadline};

use crate::bindings::latest::types::ConnectorError;
use crate::bindings::v0_1_0::{carrier, carrier_api, shop, shop_api, types};
use crate::egress::{Egress, EgressFailure};
use crate::error::CallError;
use crate::limits::{CallLimiter, MemoryLimitExceeded};
use crate::plugin::{Exports, LoadedPlugin};
use crate::redact::Redactor;
use crate::runtime::{Inner, Runtime};
use crate::state::{CallLabels, CallState};

/// Which instance slots a call waits for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lane {
    /// Background work: syncs, stock pushes, carrier calls, API-triggered calls.
    #[default]
    Background,
    /// Webhook verification, which a platform waits on: it never queues behind
    /// background work.
    Intake,
}

/// Who a call is for: the shop (or carrier account) and its configuration.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// A label for logs, e.g. the shop's id.
    pub account: Option<String>,
    /// The plugin's config fields as the user filled them in, secrets decrypted.
    pub config: BTreeMap<String, String>,
    pub lane: Lane,
}

impl CallContext {
    pub fn new(account: impl Into<String>, config: BTreeMap<String, String>) -> Self {
        Self {
            account: Some(account.into()),
            config,
            lane: Lane::Background,
        }
    }

    /// The same context, its calls waiting for instance slots in `lane`.
    pub fn in_lane(mut self, lane: Lane) -> Self {
        self.lane = lane;
        self
    }
}

/// Everything a call needs that does not change between calls for one account: bound
/// to the plugin version that was current when it was made.
struct Bound {
    runtime: Arc<Inner>,
    plugin: Arc<LoadedPlugin>,
    account: Option<Arc<str>>,
    config: Vec<(String, String)>,
    allow: Arc<AllowList>,
    redactor: Arc<Redactor>,
    lane: Lane,
}

impl Runtime {
    fn bind(&self, plugin: Arc<LoadedPlugin>, context: CallContext) -> Result<Bound, CallError> {
        let plugin_id = plugin.id();
        let policy = Policy {
            allow_private_egress: self.inner.options.allow_private_egress,
        };
        let allow = AllowList::render(&plugin.manifest.egress.allow, &context.config, policy)
            .map_err(|e| CallError::Config {
                plugin: plugin_id.to_owned(),
                message: e.to_string(),
            })?;
        let redactor = Redactor::new(
            plugin
                .manifest
                .secret_fields()
                .filter_map(|name| context.config.get(name).cloned()),
        );
        Ok(Bound {
            runtime: self.inner.clone(),
            plugin,
            account: context.account.map(Arc::from),
            config: context.config.into_iter().collect(),
            allow: Arc::new(allow),
            redactor: Arc::new(redactor),
            lane: context.lane,
        })
    }

    /// Instantiates a freshly loaded plugin and calls `describe`: proof that it runs,
    /// before it replaces the version that serves now.
    pub(crate) async fn smoke_test(&self, plugin: &Arc<LoadedPlugin>) -> Result<(), CallError> {
        let context = CallContext::default();
        match &plugin.exports {
            Exports::ShopV0_1(pre) => {
                let client = ShopClient {
                    pre: pre.clone(),
                    bound: self.bind(plugin.clone(), context)?,
                };
                client.describe().await.map(drop)
            }
            Exports::CarrierV0_1(pre) => {
                let client = CarrierClient {
                    pre: pre.clone(),
                    bound: self.bind(plugin.clone(), context)?,
                };
                client.describe().await.map(drop)
            }
        }
    }

    fn loaded(&self, plugin_id: &str) -> Result<Arc<LoadedPlugin>, CallError> {
        self.plugin(plugin_id)
            .ok_or_else(|| CallError::PluginNotFound(plugin_id.to_owned()))
    }

    /// A handle for calling shop plugin `plugin_id` on behalf of one shop.
    pub fn shop(&self, plugin_id: &str, context: CallContext) -> Result<ShopClient, CallError> {
        let plugin = self.loaded(plugin_id)?;
        match &plugin.exports {
            Exports::ShopV0_1(pre) => Ok(ShopClient {
                pre: pre.clone(),
                bound: self.bind(plugin.clone(), context)?,
            }),
            Exports::CarrierV0_1(_) => Err(wrong_kind(&plugin, Kind::Shop)),
        }
    }

    /// A handle for calling carrier plugin `plugin_id` on behalf of one carrier account.
    pub fn carrier(
        &self,
        plugin_id: &str,
        context: CallContext,
    ) -> Result<CarrierClient, CallError> {
        let plugin = self.loaded(plugin_id)?;
        match &plugin.exports {
            Exports::CarrierV0_1(pre) => Ok(CarrierClient {
                pre: pre.clone(),
                bound: self.bind(plugin.clone(), context)?,
            }),
            Exports::ShopV0_1(_) => Err(wrong_kind(&plugin, Kind::Carrier)),
        }
    }
}

impl Bound {
    fn plugin_id(&self) -> String {
        self.plugin.id().to_owned()
    }

    fn new_store(&self, operation: &'static str) -> (Store<CallState>, Duration) {
        let limits = &self.plugin.manifest.limits;
        let timeout = limits.timeout();
        let deadline = Instant::now() + timeout;
        let labels = CallLabels {
            plugin: Arc::from(self.plugin.id()),
            shop: self.account.clone(),
            operation,
        };
        let egress = Egress {
            allow: self.allow.clone(),
            clients: self.runtime.clients.clone(),
            max_requests: limits.max_requests,
            max_response_bytes: limits.max_response_bytes,
            deadline,
            requests_made: 0,
            requests_sent: 0,
            failures: Vec::new(),
        };
        let limiter = CallLimiter::new(limits.memory_bytes());
        let state = CallState::new(labels, limiter, egress, self.redactor.clone());
        let mut store = Store::new(&self.runtime.engine, state);
        store.limiter(|state| &mut state.limiter);
        // Yield to the executor on every epoch tick so a busy plugin never starves the
        // other tasks of its thread, and stop it at the first tick past its deadline.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        (store, timeout)
    }

    /// Runs one export on a fresh instance and turns every way it can fail into a
    /// [`CallError`].
    async fn run<R>(
        &self,
        operation: &'static str,
        call: impl AsyncFnOnce(&mut Store<CallState>) -> wasmtime::Result<Result<R, ConnectorError>>,
    ) -> Result<R, CallError> {
        self.run_then(operation, call, |value, _| value).await
    }

    /// [`Bound::run`], with `then` given the call's value and what its requests met.
    async fn run_then<R, O>(
        &self,
        operation: &'static str,
        call: impl AsyncFnOnce(&mut Store<CallState>) -> wasmtime::Result<Result<R, ConnectorError>>,
        then: impl FnOnce(R, &Egress) -> O,
    ) -> Result<O, CallError> {
        let slots = match self.lane {
            Lane::Background => &self.runtime.instance_slots,
            Lane::Intake => &self.runtime.intake_slots,
        };
        let _slot = slots.acquire().await.map_err(|_| CallError::Instantiate {
            plugin: self.plugin_id(),
            message: "the runtime is shutting down".into(),
        })?;
        let started = Instant::now();
        let (mut store, timeout) = self.new_store(operation);
        let outcome = tokio::time::timeout(timeout, call(&mut store)).await;
        let state = store.data();
        let output = state.take_output();
        let result = match outcome {
            Err(_elapsed) => Err(CallError::Timeout {
                plugin: self.plugin_id(),
                limit: timeout,
            }),
            Ok(Err(trap)) => Err(self.classify_trap(trap, timeout, &output)),
            Ok(Ok(Err(error))) => Err(self.explain(error, &state.egress.failures)),
            Ok(Ok(Ok(value))) => Ok(then(value, &state.egress)),
        }
        .map_err(|error| self.redactor.redact_call_error(error));
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let plugin = self.plugin.id();
        let account = self.account.as_deref().unwrap_or("-");
        match &result {
            Ok(_) => tracing::debug!(plugin, account, operation, elapsed_ms, "plugin call"),
            Err(error) => {
                tracing::warn!(plugin, account, operation, elapsed_ms, %error, "plugin call failed")
            }
        }
        result
    }

    fn classify_trap(&self, error: wasmtime::Error, timeout: Duration, output: &str) -> CallError {
        let plugin = self.plugin_id();
        if let Some(exceeded) = error.downcast_ref::<MemoryLimitExceeded>() {
            return CallError::OutOfMemory {
                plugin,
                limit_bytes: exceeded.limit as u64,
            };
        }
        if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
            return CallError::Timeout {
                plugin,
                limit: timeout,
            };
        }
        let mut message = format!("{error:#}");
        if !output.is_empty() {
            message.push_str("; plugin output: ");
            message.push_str(output);
        }
        CallError::Trap { plugin, message }
    }

    /// A connector error, made precise when the host saw what really went wrong.
    fn explain(&self, error: ConnectorError, failures: &[EgressFailure]) -> CallError {
        let plugin = self.plugin_id();
        let denied = failures.iter().find_map(|f| match f {
            EgressFailure::Denied { url, reason } => Some((url, reason)),
            EgressFailure::Http { .. } => None,
        });
        if let Some((url, reason)) = denied {
            return CallError::EgressDenied {
                plugin,
                url: url.clone(),
                reason: reason.clone(),
            };
        }
        let vague = matches!(
            error,
            ConnectorError::Transient(_) | ConnectorError::Other(_)
        );
        if vague && let Some(EgressFailure::Http { url, failure }) = failures.last() {
            return CallError::Http {
                plugin,
                url: url.clone(),
                failure: failure.clone(),
            };
        }
        CallError::Connector { plugin, error }
    }
}

/// Calls into one shop plugin for one shop. Bound to the plugin version current when
/// it was made: create one per unit of work to pick up reloads.
pub struct ShopClient {
    bound: Bound,
    pre: shop::ShopPre<CallState>,
}

impl ShopClient {
    pub fn plugin(&self) -> &Arc<LoadedPlugin> {
        &self.bound.plugin
    }

    /// Instantiates the plugin and runs one export of its `shop-connector`.
    async fn call<R>(
        &self,
        operation: &'static str,
        export: impl AsyncFnOnce(
            &shop_api::Guest,
            &mut Store<CallState>,
            &Vec<(String, String)>,
        ) -> wasmtime::Result<Result<R, ConnectorError>>,
    ) -> Result<R, CallError> {
        let (pre, config) = (&self.pre, &self.bound.config);
        self.bound
            .run(operation, async |store| {
                let bindings = pre.instantiate_async(&mut *store).await?;
                export(bindings.tovor_connector_shop_connector(), store, config).await
            })
            .await
    }

    pub async fn describe(&self) -> Result<shop_api::ShopInfo, CallError> {
        self.call("describe", async |connector, store, _config| {
            connector.call_describe(store).await.map(Ok)
        })
        .await
    }

    pub async fn list_orders(
        &self,
        changed_since: &str,
        cursor: Option<&str>,
    ) -> Result<shop_api::OrderPage, CallError> {
        let changed_since = changed_since.to_owned();
        self.call("list-orders", async |connector, store, config| {
            connector
                .call_list_orders(store, config, &changed_since, cursor)
                .await
        })
        .await
    }

    pub async fn get_order(&self, id: &str) -> Result<types::Order, CallError> {
        self.call("get-order", async |connector, store, config| {
            connector.call_get_order(store, config, id).await
        })
        .await
    }

    pub async fn verify_webhook(
        &self,
        request: &shop_api::WebhookRequest,
    ) -> Result<shop_api::VerifiedWebhook, CallError> {
        self.call("verify-webhook", async |connector, store, config| {
            connector.call_verify_webhook(store, config, request).await
        })
        .await
    }

    pub async fn push_stock(
        &self,
        levels: &[shop_api::StockLevel],
    ) -> Result<Vec<Result<(), ConnectorError>>, CallError> {
        self.call("push-stock", async |connector, store, config| {
            connector.call_push_stock(store, config, levels).await
        })
        .await
        .map(|outcomes| self.bound.redactor.redact_outcomes(outcomes))
    }

    pub async fn list_products(
        &self,
        cursor: Option<&str>,
    ) -> Result<shop_api::ProductPage, CallError> {
        self.call("list-products", async |connector, store, config| {
            connector.call_list_products(store, config, cursor).await
        })
        .await
    }

    pub async fn mark_shipped(
        &self,
        order_id: &str,
        tracking: &types::Tracking,
    ) -> Result<(), CallError> {
        self.call("mark-shipped", async |connector, store, config| {
            connector
                .call_mark_shipped(store, config, order_id, tracking)
                .await
        })
        .await
    }
}

/// Calls into one carrier plugin for one carrier account.
pub struct CarrierClient {
    bound: Bound,
    pre: carrier::CarrierPre<CallState>,
}

impl CarrierClient {
    pub fn plugin(&self) -> &Arc<LoadedPlugin> {
        &self.bound.plugin
    }

    /// Instantiates the plugin and runs one export of its `carrier-connector`.
    async fn call<R>(
        &self,
        operation: &'static str,
        export: impl AsyncFnOnce(
            &carrier_api::Guest,
            &mut Store<CallState>,
            &Vec<(String, String)>,
        ) -> wasmtime::Result<Result<R, ConnectorError>>,
    ) -> Result<R, CallError> {
        let (pre, config) = (&self.pre, &self.bound.config);
        self.bound
            .run(operation, async |store| {
                let bindings = pre.instantiate_async(&mut *store).await?;
                export(bindings.tovor_connector_carrier_connector(), store, config).await
            })
            .await
    }

    pub async fn describe(&self) -> Result<carrier_api::CarrierInfo, CallError> {
        self.call("describe", async |connector, store, _config| {
            connector.call_describe(store).await.map(Ok)
        })
        .await
    }

    pub async fn create_shipments(
        &self,
        requests: &[carrier_api::ShipmentRequest],
    ) -> Result<Vec<Result<carrier_api::CreatedShipment, ConnectorError>>, CallError> {
        self.call("create-shipments", async |connector, store, config| {
            connector
                .call_create_shipments(store, config, requests)
                .await
        })
        .await
        .map(|outcomes| self.bound.redactor.redact_outcomes(outcomes))
    }

    /// [`CarrierClient::create_shipments`] with every refused shipment's error made
    /// precise: when the host's egress policy refused this call's requests and none of
    /// them left the host, a shipment's error is [`CallError::EgressDenied`], proof
    /// that the carrier never heard of it. Otherwise it is the connector's error.
    pub async fn create_shipments_checked(
        &self,
        requests: &[carrier_api::ShipmentRequest],
    ) -> Result<Vec<Result<carrier_api::CreatedShipment, CallError>>, CallError> {
        let (pre, config) = (&self.pre, &self.bound.config);
        let plugin = self.bound.plugin_id();
        let redactor = &self.bound.redactor;
        self.bound
            .run_then(
                "create-shipments",
                async |store| {
                    let bindings = pre.instantiate_async(&mut *store).await?;
                    bindings
                        .tovor_connector_carrier_connector()
                        .call_create_shipments(store, config, requests)
                        .await
                },
                |results, egress| {
                    let denied = egress.denied_before_sending();
                    results
                        .into_iter()
                        .map(|result| {
                            result.map_err(|error| match denied {
                                Some((url, reason)) => CallError::EgressDenied {
                                    plugin: plugin.clone(),
                                    url: redactor.redact(url),
                                    reason: redactor.redact(reason),
                                },
                                None => CallError::Connector {
                                    plugin: plugin.clone(),
                                    error: redactor.redact_connector_error(error),
                                },
                            })
                        })
                        .collect()
                },
            )
            .await
    }

    pub async fn get_labels(
        &self,
        shipment_ids: &[String],
        format: Option<&str>,
    ) -> Result<carrier_api::Label, CallError> {
        self.call("get-labels", async |connector, store, config| {
            connector
                .call_get_labels(store, config, shipment_ids, format)
                .await
        })
        .await
    }

    pub async fn track(
        &self,
        tracking_numbers: &[String],
    ) -> Result<Vec<Result<carrier_api::TrackingResult, ConnectorError>>, CallError> {
        self.call("track", async |connector, store, config| {
            connector.call_track(store, config, tracking_numbers).await
        })
        .await
        .map(|outcomes| self.bound.redactor.redact_outcomes(outcomes))
    }

    pub async fn cancel(
        &self,
        shipment_ids: &[String],
    ) -> Result<Vec<Result<(), ConnectorError>>, CallError> {
        self.call("cancel", async |connector, store, config| {
            connector.call_cancel(store, config, shipment_ids).await
        })
        .await
        .map(|outcomes| self.bound.redactor.redact_outcomes(outcomes))
    }

    pub async fn find_shipments(
        &self,
        reference: &str,
        created_since: &str,
    ) -> Result<Vec<carrier_api::CreatedShipment>, CallError> {
        let (reference, created_since) = (reference.to_owned(), created_since.to_owned());
        self.call("find-shipments", async |connector, store, config| {
            connector
                .call_find_shipments(store, config, &reference, &created_since)
                .await
        })
        .await
    }
}

fn wrong_kind(plugin: &LoadedPlugin, expected: Kind) -> CallError {
    CallError::WrongKind {
        plugin: plugin.id().to_owned(),
        expected,
        actual: plugin.kind(),
    }
}
