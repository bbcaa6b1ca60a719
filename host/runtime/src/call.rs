//! Calling a plugin: a fresh store per call, with memory, time and egress limits.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use tovor_egress::{AllowList, Policy};
use tovor_manifest::Kind;
use wasmtime::{Store, Trap, UpdateDeadline};

use crate::adapt::{v0_1, v0_2};
use crate::bindings::v0_1_0::{carrier, shop};
use crate::bindings::v0_2 as contract_v0_2;
use crate::error::CallError;
use crate::limits::{CallLimiter, MemoryLimitExceeded};
use crate::model::{
    Capability, CarrierInfo, CarrierService, CatalogPage, ConnectionInfo, ConnectorError,
    CreatedShipment, ErrorKind, Fulfillment, HandoverReceipt, HandoverShipment, Label,
    NormalizedOrder, OrderPage, PickupLocation, PickupQuery, RegisteredWebhook, ShipmentRequest,
    StatusChange, StockLevel, TrackingResult, VerifiedWebhook, WebhookRequest, WebhookSetup,
};
use crate::plugin::{Exports, ExportsV0_2, LoadedPlugin};
use crate::redact::RedactErrors;
use crate::runtime::{Inner, Runtime};
use crate::state::{CallLabels, CallState};
use tovor_domain::order::{PaymentMethod, Refund};
use tovor_runtime_http::{Egress, EgressFailure};
use tovor_runtime_log::Redactor;
use tovor_runtime_state::{AccountState, StateScope};

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
    /// Whose connector state the call reads and writes (owner and account; the plugin
    /// is added by the runtime). Without it the `state` import answers `unavailable`.
    pub state: Option<(String, String)>,
}

impl CallContext {
    pub fn new(account: impl Into<String>, config: BTreeMap<String, String>) -> Self {
        Self {
            account: Some(account.into()),
            config,
            lane: Lane::Background,
            state: None,
        }
    }

    /// The same context, with connector state kept for `account` of `owner`.
    pub fn with_state(mut self, owner: impl Into<String>, account: impl Into<String>) -> Self {
        self.state = Some((owner.into(), account.into()));
        self
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
    state: AccountState,
    /// The config typed as the manifest declares it, for 0.2 calls: made once per
    /// client, not on every call.
    config_v0_2: std::sync::OnceLock<Vec<(String, contract_v0_2::types::ConfigValue)>>,
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
        let state = match context.state {
            Some((owner, account)) => {
                let scope = StateScope {
                    owner,
                    account,
                    plugin: plugin_id.to_owned(),
                };
                AccountState::new(self.state_store(), scope)
            }
            None => AccountState::none(),
        };
        Ok(Bound {
            runtime: self.inner.clone(),
            state,
            plugin,
            account: context.account.map(Arc::from),
            config: context.config.into_iter().collect(),
            allow: Arc::new(allow),
            redactor: Arc::new(redactor),
            lane: context.lane,
            config_v0_2: std::sync::OnceLock::new(),
        })
    }

    /// Instantiates a freshly loaded plugin and looks up its exports (0.1: calls
    /// `describe`): proof that it runs, before it replaces the version that serves now.
    pub(crate) async fn smoke_test(&self, plugin: &Arc<LoadedPlugin>) -> Result<(), CallError> {
        let bound = self.bind(plugin.clone(), CallContext::default())?;
        match &plugin.exports {
            Exports::ShopV0_1(pre) => {
                let exports = ShopExports::V0_1(pre.clone());
                ShopClient { bound, exports }.describe_v0_1().await
            }
            Exports::CarrierV0_1(pre) => {
                let exports = CarrierExports::V0_1(pre.clone());
                CarrierClient { bound, exports }.info().await.map(drop)
            }
            Exports::V0_2(exports) => {
                let exports = exports.clone();
                bound
                    .run("instantiate", async |store| {
                        let instance = exports.pre.instantiate_async(&mut *store).await?;
                        exports.load_all(&mut *store, &instance)?;
                        Ok(Ok(()))
                    })
                    .await
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
        if plugin.kind() != Kind::Shop {
            return Err(wrong_kind(&plugin, Kind::Shop));
        }
        let exports = match &plugin.exports {
            Exports::ShopV0_1(pre) => ShopExports::V0_1(pre.clone()),
            Exports::V0_2(exports) => ShopExports::V0_2(exports.clone()),
            Exports::CarrierV0_1(_) => return Err(wrong_kind(&plugin, Kind::Shop)),
        };
        Ok(ShopClient {
            bound: self.bind(plugin.clone(), context)?,
            exports,
        })
    }

    /// A handle for calling carrier plugin `plugin_id` on behalf of one carrier account.
    pub fn carrier(
        &self,
        plugin_id: &str,
        context: CallContext,
    ) -> Result<CarrierClient, CallError> {
        let plugin = self.loaded(plugin_id)?;
        if plugin.kind() != Kind::Carrier {
            return Err(wrong_kind(&plugin, Kind::Carrier));
        }
        let exports = match &plugin.exports {
            Exports::CarrierV0_1(pre) => CarrierExports::V0_1(pre.clone()),
            Exports::V0_2(exports) => CarrierExports::V0_2(exports.clone()),
            Exports::ShopV0_1(_) => return Err(wrong_kind(&plugin, Kind::Carrier)),
        };
        Ok(CarrierClient {
            bound: self.bind(plugin.clone(), context)?,
            exports,
        })
    }
}

impl Bound {
    // The generated calls take the list by `&Vec`.
    fn config_v0_2(&self) -> &Vec<(String, contract_v0_2::types::ConfigValue)> {
        self.config_v0_2
            .get_or_init(|| v0_2::config(&self.plugin.manifest, &self.config))
    }

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
            labels: labels.clone(),
            redactor: self.redactor.clone(),
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
        let mut state = CallState::new(labels, limiter, egress, self.redactor.clone());
        state.state = self.state.clone();
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
        let vague = matches!(error.kind, ErrorKind::Transient | ErrorKind::Other);
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

/// Runs one export of a 0.2 component's capability interface on a fresh instance:
/// `$guest` is the interface's loaded exports, `$store` the call's store and `$config`
/// the account's typed config. A component without the capability is refused as
/// unsupported before anything is instantiated.
macro_rules! call_v0_2 {
    ($client:expr, $exports:expr, $field:ident, $capability:expr, $operation:literal,
     |$guest:ident, $store:ident, $config:ident| $body:expr) => {{
        let client = $client;
        let exports: &ExportsV0_2 = $exports;
        let indices = exports
            .$field
            .as_ref()
            .ok_or_else(|| missing(&client.bound, $capability))?;
        let pre = &exports.pre;
        let $config = client.bound.config_v0_2();
        client
            .bound
            .run($operation, async |$store| {
                let instance = pre.instantiate_async(&mut *$store).await?;
                let $guest = indices.load(&mut *$store, &instance)?;
                $body
            })
            .await
    }};
}

fn missing(bound: &Bound, capability: Capability) -> CallError {
    CallError::Connector {
        plugin: bound.plugin_id(),
        error: ConnectorError::new(
            ErrorKind::Unsupported,
            format!("the connector has no {capability} capability"),
        ),
    }
}

enum ShopExports {
    V0_1(shop::ShopPre<CallState>),
    V0_2(Arc<ExportsV0_2>),
}

/// Calls into one shop plugin for one shop, in the host's types whatever contract
/// version the plugin speaks. Bound to the plugin version current when it was made:
/// create one per unit of work to pick up reloads.
pub struct ShopClient {
    bound: Bound,
    exports: ShopExports,
}

impl ShopClient {
    pub fn plugin(&self) -> &Arc<LoadedPlugin> {
        &self.bound.plugin
    }

    /// Whether the connector can do `capability`.
    pub fn can(&self, capability: Capability) -> bool {
        self.bound.plugin.can(capability)
    }

    /// Instantiates a 0.1 plugin and runs one export of its `shop-connector`.
    async fn v0_1<R>(
        &self,
        pre: &shop::ShopPre<CallState>,
        operation: &'static str,
        export: impl AsyncFnOnce(
            &crate::bindings::v0_1_0::shop_api::Guest,
            &mut Store<CallState>,
            &Vec<(String, String)>,
        ) -> wasmtime::Result<
            Result<R, crate::bindings::v0_1_0::types::ConnectorError>,
        >,
    ) -> Result<R, CallError> {
        let config = &self.bound.config;
        self.bound
            .run(operation, async |store| {
                let bindings = pre.instantiate_async(&mut *store).await?;
                let outcome = export(bindings.tovor_connector_shop_connector(), store, config);
                Ok(outcome.await?.map_err(v0_1::error))
            })
            .await
    }

    async fn describe_v0_1(&self) -> Result<(), CallError> {
        match &self.exports {
            ShopExports::V0_1(pre) => {
                self.v0_1(pre, "describe", async |connector, store, _config| {
                    connector.call_describe(store).await.map(|_| Ok(()))
                })
                .await
            }
            ShopExports::V0_2(_) => Ok(()),
        }
    }

    /// Orders changed at or after `changed_since`, a page at a time.
    pub async fn list_orders(
        &self,
        changed_since: OffsetDateTime,
        cursor: Option<&str>,
    ) -> Result<OrderPage, CallError> {
        match &self.exports {
            ShopExports::V0_1(pre) => {
                let since = v0_1::timestamp(changed_since);
                self.v0_1(pre, "list-orders", async |connector, store, config| {
                    let page = connector
                        .call_list_orders(store, config, &since, cursor)
                        .await?;
                    Ok(page.map(v0_1::page))
                })
                .await
            }
            ShopExports::V0_2(exports) => {
                let since = v0_2::timestamp(changed_since);
                call_v0_2!(
                    self,
                    exports,
                    orders,
                    Capability::Orders,
                    "list-orders",
                    |guest, store, config| {
                        let page = guest
                            .call_list_orders(&mut *store, config, since, cursor)
                            .await?;
                        Ok(page.map(v0_2::page).map_err(v0_2::error))
                    }
                )
            }
        }
    }

    /// One order as the platform has it now. An order that breaks the contract is
    /// [`CallError::BadOrder`].
    pub async fn get_order(&self, id: &str) -> Result<NormalizedOrder, CallError> {
        let order = match &self.exports {
            ShopExports::V0_1(pre) => {
                self.v0_1(pre, "get-order", async |connector, store, config| {
                    let order = connector.call_get_order(store, config, id).await?;
                    Ok(order.map(|order| v0_1::order(&order)))
                })
                .await?
            }
            ShopExports::V0_2(exports) => call_v0_2!(
                self,
                exports,
                orders,
                Capability::Orders,
                "get-order",
                |guest, store, config| {
                    let order = guest.call_get_order(&mut *store, config, id).await?;
                    Ok(order.map(|order| v0_2::order(&order)).map_err(v0_2::error))
                }
            )?,
        };
        order.map_err(|error| CallError::BadOrder {
            plugin: self.bound.plugin_id(),
            error,
        })
    }

    pub async fn verify_webhook(
        &self,
        request: &WebhookRequest,
    ) -> Result<VerifiedWebhook, CallError> {
        match &self.exports {
            ShopExports::V0_1(pre) => {
                let request = v0_1::webhook_request(request);
                self.v0_1(pre, "verify-webhook", async |connector, store, config| {
                    let verified = connector
                        .call_verify_webhook(store, config, &request)
                        .await?;
                    Ok(verified.map(v0_1::verified))
                })
                .await
            }
            ShopExports::V0_2(exports) => {
                let request = v0_2::webhook_request(request);
                call_v0_2!(
                    self,
                    exports,
                    webhooks,
                    Capability::Webhooks,
                    "verify-webhook",
                    |guest, store, config| {
                        let verified = guest
                            .call_verify_webhook(&mut *store, config, &request)
                            .await?;
                        Ok(verified.map(v0_2::verified).map_err(v0_2::error))
                    }
                )
            }
        }
    }

    /// How many levels one [`ShopClient::push_stock`] call may carry.
    pub async fn stock_batch(&self) -> Result<usize, CallError> {
        match &self.exports {
            ShopExports::V0_1(_) => Ok(v0_1::STOCK_BATCH),
            ShopExports::V0_2(exports) => {
                if let Some(batch) = exports.stock_batch.get() {
                    return Ok(*batch);
                }
                let batch: u32 = call_v0_2!(
                    self,
                    exports,
                    inventory,
                    Capability::Inventory,
                    "max-batch",
                    |guest, store, _config| Ok(Ok(guest.call_max_batch(&mut *store).await?))
                )?;
                let batch = usize::try_from(batch.max(1)).unwrap_or(1);
                Ok(*exports.stock_batch.get_or_init(|| batch))
            }
        }
    }

    /// Sets absolute stock levels; one result per level, in order.
    pub async fn push_stock(
        &self,
        levels: &[StockLevel],
    ) -> Result<Vec<Result<(), ConnectorError>>, CallError> {
        let outcomes = match &self.exports {
            ShopExports::V0_1(pre) => {
                // Levels 0.1 cannot carry are refused one by one; the rest are sent.
                let converted = v0_1::stock_levels(levels, &self.bound.config);
                let sendable: Vec<_> = converted
                    .iter()
                    .filter_map(|level| level.as_ref().ok().cloned())
                    .collect();
                let mut sent = if sendable.is_empty() {
                    Vec::new()
                } else {
                    self.v0_1(pre, "push-stock", async |connector, store, config| {
                        let outcomes = connector.call_push_stock(store, config, &sendable).await?;
                        Ok(outcomes.map(|outcomes| v0_1::outcomes(outcomes, |()| ())))
                    })
                    .await?
                }
                .into_iter();
                converted
                    .into_iter()
                    .map(|level| match level {
                        Ok(_) => sent.next().unwrap_or_else(|| {
                            Err(ConnectorError::new(
                                ErrorKind::Other,
                                "the connector gave no result for this level",
                            ))
                        }),
                        Err(refused) => Err(refused),
                    })
                    .collect()
            }
            ShopExports::V0_2(exports) => {
                let levels = v0_2::stock_levels(levels);
                call_v0_2!(
                    self,
                    exports,
                    inventory,
                    Capability::Inventory,
                    "push-stock",
                    |guest, store, config| {
                        let outcomes = guest.call_push_stock(&mut *store, config, &levels).await?;
                        Ok(outcomes
                            .map(|outcomes| v0_2::outcomes(outcomes, |()| ()))
                            .map_err(v0_2::error))
                    }
                )?
            }
        };
        Ok(self.bound.redactor.redact_outcomes(outcomes))
    }

    /// A page of the platform's products, each variant an entry.
    pub async fn list_products(&self, cursor: Option<&str>) -> Result<CatalogPage, CallError> {
        match &self.exports {
            ShopExports::V0_1(pre) => {
                self.v0_1(pre, "list-products", async |connector, store, config| {
                    let page = connector.call_list_products(store, config, cursor).await?;
                    Ok(page.map(v0_1::catalog))
                })
                .await
            }
            ShopExports::V0_2(exports) => {
                call_v0_2!(
                    self,
                    exports,
                    catalog,
                    Capability::Catalog,
                    "list-products",
                    |guest, store, config| {
                        let page = guest
                            .call_list_products(&mut *store, config, cursor)
                            .await?;
                        Ok(page.map(v0_2::catalog).map_err(v0_2::error))
                    }
                )
            }
        }
    }

    /// Tells the shop what was shipped for an order.
    pub async fn fulfill(&self, order_id: &str, shipped: &Fulfillment) -> Result<(), CallError> {
        match &self.exports {
            ShopExports::V0_1(pre) => {
                let tracking = v0_1::tracking(shipped);
                self.v0_1(pre, "mark-shipped", async |connector, store, config| {
                    connector
                        .call_mark_shipped(store, config, order_id, &tracking)
                        .await
                })
                .await
            }
            ShopExports::V0_2(exports) => {
                let shipment = v0_2::fulfillment(shipped);
                call_v0_2!(
                    self,
                    exports,
                    fulfillment,
                    Capability::Fulfillment,
                    "fulfill",
                    |guest, store, config| {
                        let done = guest
                            .call_fulfill(&mut *store, config, order_id, &shipment)
                            .await?;
                        Ok(done.map_err(v0_2::error))
                    }
                )
            }
        }
    }

    /// Has the platform deliver the shop's orders to `url`. A connector that cannot
    /// (contract 0.1, or no `webhooks` capability) leaves it to the user, which the
    /// answer says.
    pub async fn register_webhooks(&self, url: &str) -> Result<WebhookSetup, CallError> {
        let ShopExports::V0_2(exports) = &self.exports else {
            return Ok(manual_webhook_setup(url));
        };
        if exports.webhooks.is_none() {
            return Ok(manual_webhook_setup(url));
        }
        call_v0_2!(
            self,
            exports,
            webhooks,
            Capability::Webhooks,
            "register-webhooks",
            |guest, store, config| {
                let setup = guest
                    .call_register_webhooks(&mut *store, config, url)
                    .await?;
                Ok(setup.map(v0_2::webhook_setup).map_err(v0_2::error))
            }
        )
    }

    /// Removes what [`ShopClient::register_webhooks`] registered for `url`.
    pub async fn unregister_webhooks(
        &self,
        url: &str,
        registered: &[RegisteredWebhook],
    ) -> Result<(), CallError> {
        let ShopExports::V0_2(exports) = &self.exports else {
            return Ok(());
        };
        if exports.webhooks.is_none() {
            return Ok(());
        }
        let registered = v0_2::registered_webhooks(registered);
        call_v0_2!(
            self,
            exports,
            webhooks,
            Capability::Webhooks,
            "unregister-webhooks",
            |guest, store, config| {
                let done = guest
                    .call_unregister_webhooks(&mut *store, config, url, &registered)
                    .await?;
                Ok(done.map_err(v0_2::error))
            }
        )
    }

    /// Tests the credentials and permissions; unsupported (a connector error of kind
    /// [`ErrorKind::Unsupported`]) when the connector cannot.
    pub async fn check_connection(&self) -> Result<ConnectionInfo, CallError> {
        let exports = self.v0_2_only(Capability::Connection)?;
        check_connection(&self.bound, exports).await
    }

    /// The refunds of an order, for platforms whose orders do not carry them.
    pub async fn list_refunds(&self, order_id: &str) -> Result<Vec<Refund>, CallError> {
        let exports = self.v0_2_only(Capability::Refunds)?;
        let refunds = call_v0_2!(
            self,
            exports,
            refunds,
            Capability::Refunds,
            "list-refunds",
            |guest, store, config| {
                let refunds = guest
                    .call_list_refunds(&mut *store, config, order_id)
                    .await?;
                Ok(refunds.map_err(v0_2::error))
            }
        )?;
        refunds
            .iter()
            .enumerate()
            .map(|(index, refund)| v0_2::refund(&format!("refunds[{index}]"), refund))
            .collect::<Result<_, _>>()
            .map_err(|error| CallError::Connector {
                plugin: self.bound.plugin_id(),
                error: ConnectorError::new(ErrorKind::InvalidInput, error.to_string()),
            })
    }

    /// The order state changes the platform allows (none without the capability).
    pub async fn supported_status_changes(&self) -> Result<Vec<StatusChange>, CallError> {
        let ShopExports::V0_2(exports) = &self.exports else {
            return Ok(Vec::new());
        };
        if exports.status_changes.is_none() {
            return Ok(Vec::new());
        }
        call_v0_2!(
            self,
            exports,
            status_changes,
            Capability::StatusChanges,
            "supported-changes",
            |guest, store, _config| {
                let changes = guest.call_supported_changes(&mut *store).await?;
                Ok(Ok(v0_2::status_changes(changes)))
            }
        )
    }

    /// Cancels, completes or marks paid the order `order_id` on the platform.
    pub async fn set_order_status(
        &self,
        order_id: &str,
        change: StatusChange,
    ) -> Result<(), CallError> {
        let exports = self.v0_2_only(Capability::StatusChanges)?;
        let change = v0_2::status_change(change);
        call_v0_2!(
            self,
            exports,
            status_changes,
            Capability::StatusChanges,
            "set-order-status",
            |guest, store, config| {
                let done = guest
                    .call_set_order_status(&mut *store, config, order_id, change)
                    .await?;
                Ok(done.map_err(v0_2::error))
            }
        )
    }

    /// The shop's payment methods, as orders name them.
    pub async fn list_payment_methods(&self) -> Result<Vec<PaymentMethod>, CallError> {
        let exports = self.v0_2_only(Capability::PaymentMethods)?;
        call_v0_2!(
            self,
            exports,
            payment_methods,
            Capability::PaymentMethods,
            "list-payment-methods",
            |guest, store, config| {
                let methods = guest.call_list_payment_methods(&mut *store, config).await?;
                Ok(methods.map(v0_2::payment_methods).map_err(v0_2::error))
            }
        )
    }

    /// The 0.2 exports, or unsupported: contract 0.1 has no such capability.
    fn v0_2_only(&self, capability: Capability) -> Result<&ExportsV0_2, CallError> {
        match &self.exports {
            ShopExports::V0_2(exports) => Ok(exports),
            ShopExports::V0_1(_) => Err(missing(&self.bound, capability)),
        }
    }
}

/// `connection`, which shops and carriers share.
async fn check_connection(
    bound: &Bound,
    exports: &ExportsV0_2,
) -> Result<ConnectionInfo, CallError> {
    /// What `call_v0_2!` calls through: the bound account.
    struct Caller<'a> {
        bound: &'a Bound,
    }
    call_v0_2!(
        Caller { bound },
        exports,
        connection,
        Capability::Connection,
        "check-connection",
        |guest, store, config| {
            let info = guest.call_check_connection(&mut *store, config).await?;
            Ok(info.map(v0_2::connection_info).map_err(v0_2::error))
        }
    )
}

/// What the user does when the connector cannot subscribe the platform itself.
fn manual_webhook_setup(url: &str) -> WebhookSetup {
    WebhookSetup::Manual(format!(
        "Add {url} as the webhook delivery URL for order events in the shop's admin, \
         signed with the webhook secret configured here."
    ))
}

enum CarrierExports {
    V0_1(carrier::CarrierPre<CallState>),
    V0_2(Arc<ExportsV0_2>),
}

/// Calls into one carrier plugin for one carrier account, in the host's types.
pub struct CarrierClient {
    bound: Bound,
    exports: CarrierExports,
}

impl CarrierClient {
    pub fn plugin(&self) -> &Arc<LoadedPlugin> {
        &self.bound.plugin
    }

    /// Whether the connector can do `capability`.
    pub fn can(&self, capability: Capability) -> bool {
        self.bound.plugin.can(capability)
    }

    /// Instantiates a 0.1 plugin and runs one export of its `carrier-connector`.
    async fn v0_1<R>(
        &self,
        pre: &carrier::CarrierPre<CallState>,
        operation: &'static str,
        export: impl AsyncFnOnce(
            &crate::bindings::v0_1_0::carrier_api::Guest,
            &mut Store<CallState>,
            &Vec<(String, String)>,
        ) -> wasmtime::Result<
            Result<R, crate::bindings::v0_1_0::types::ConnectorError>,
        >,
    ) -> Result<R, CallError> {
        let config = &self.bound.config;
        self.bound
            .run(operation, async |store| {
                let bindings = pre.instantiate_async(&mut *store).await?;
                let outcome = export(bindings.tovor_connector_carrier_connector(), store, config);
                Ok(outcome.await?.map_err(v0_1::error))
            })
            .await
    }

    /// The carrier's name, label formats, COD currencies and batch size.
    pub async fn info(&self) -> Result<CarrierInfo, CallError> {
        match &self.exports {
            CarrierExports::V0_1(pre) => {
                self.v0_1(pre, "describe", async |connector, store, _config| {
                    Ok(Ok(v0_1::carrier_info(
                        connector.call_describe(store).await?,
                    )))
                })
                .await
            }
            CarrierExports::V0_2(exports) => {
                if let Some(info) = exports.carrier_info.get() {
                    return Ok(info.clone());
                }
                let limits = if exports.shipments.is_some() {
                    Some(call_v0_2!(
                        self,
                        exports,
                        shipments,
                        Capability::Shipments,
                        "limits",
                        |guest, store, _config| Ok(Ok(guest.call_limits(&mut *store).await?))
                    )?)
                } else {
                    None
                };
                let formats = self.label_formats_v0_2(exports).await?;
                // Contract 0.2 does not declare pickup-point delivery (searching points is
                // another matter: GLS delivers to ParcelShops without an API to search
                // them). Every 0.2 carrier gets the pickup point a shipment names, and
                // refuses it with `invalid-input` on `pickup-point` where it cannot
                // deliver there: a point chosen at checkout is never dropped silently.
                let info = v0_2::carrier_info(
                    &self.bound.plugin.manifest.plugin.name,
                    limits,
                    formats,
                    true,
                );
                Ok(exports.carrier_info.get_or_init(|| info).clone())
            }
        }
    }

    async fn label_formats_v0_2(
        &self,
        exports: &ExportsV0_2,
    ) -> Result<Vec<contract_v0_2::labels::LabelFormat>, CallError> {
        if exports.labels.is_none() {
            return Ok(Vec::new());
        }
        call_v0_2!(
            self,
            exports,
            labels,
            Capability::Labels,
            "label-formats",
            |guest, store, _config| Ok(Ok(guest.call_label_formats(&mut *store).await?))
        )
    }

    pub async fn create_shipments(
        &self,
        requests: &[ShipmentRequest],
    ) -> Result<Vec<Result<CreatedShipment, ConnectorError>>, CallError> {
        let outcomes = self.create_then(requests, |outcomes, _| outcomes).await?;
        Ok(self.bound.redactor.redact_outcomes(outcomes))
    }

    /// Runs `create-shipments` and hands its outcomes and what its requests met to
    /// `then`.
    async fn create_then<O>(
        &self,
        requests: &[ShipmentRequest],
        then: impl FnOnce(Vec<Result<CreatedShipment, ConnectorError>>, &Egress) -> O,
    ) -> Result<O, CallError> {
        match &self.exports {
            CarrierExports::V0_1(pre) => {
                let requests: Vec<_> = requests.iter().map(v0_1::shipment_request).collect();
                let config = &self.bound.config;
                self.bound
                    .run_then(
                        "create-shipments",
                        async |store| {
                            let bindings = pre.instantiate_async(&mut *store).await?;
                            let outcomes = bindings
                                .tovor_connector_carrier_connector()
                                .call_create_shipments(store, config, &requests)
                                .await?;
                            Ok(outcomes
                                .map(|outcomes| v0_1::outcomes(outcomes, v0_1::created))
                                .map_err(v0_1::error))
                        },
                        then,
                    )
                    .await
            }
            CarrierExports::V0_2(exports) => {
                let indices = exports
                    .shipments
                    .as_ref()
                    .ok_or_else(|| missing(&self.bound, Capability::Shipments))?;
                let requests: Vec<_> = requests.iter().map(v0_2::shipment_request).collect();
                let config = self.bound.config_v0_2();
                let pre = &exports.pre;
                self.bound
                    .run_then(
                        "create-shipments",
                        async |store| {
                            let instance = pre.instantiate_async(&mut *store).await?;
                            let guest = indices.load(&mut *store, &instance)?;
                            let outcomes = guest
                                .call_create_shipments(&mut *store, config, &requests)
                                .await?;
                            Ok(outcomes
                                .map(|outcomes| v0_2::outcomes(outcomes, v0_2::created))
                                .map_err(v0_2::error))
                        },
                        then,
                    )
                    .await
            }
        }
    }

    /// [`CarrierClient::create_shipments`] with every refused shipment's error made
    /// precise: when the host's egress policy refused this call's requests and none of
    /// them left the host, a shipment's error is [`CallError::EgressDenied`], proof
    /// that the carrier never heard of it. Otherwise it is the connector's error.
    pub async fn create_shipments_checked(
        &self,
        requests: &[ShipmentRequest],
    ) -> Result<Vec<Result<CreatedShipment, CallError>>, CallError> {
        let plugin = self.bound.plugin_id();
        let redactor = &self.bound.redactor;
        self.create_then(requests, |results, egress| {
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
        })
        .await
    }

    /// Labels for the shipments as one document; `format` is a paper size (`A4`,
    /// `A6`, `100x150`) or one of the carrier's format names.
    pub async fn get_labels(
        &self,
        shipment_ids: &[String],
        format: Option<&str>,
    ) -> Result<Label, CallError> {
        match &self.exports {
            CarrierExports::V0_1(pre) => {
                self.v0_1(pre, "get-labels", async |connector, store, config| {
                    let label = connector
                        .call_get_labels(store, config, shipment_ids, format)
                        .await?;
                    Ok(label.map(v0_1::label))
                })
                .await
            }
            CarrierExports::V0_2(exports) => {
                let formats = self.label_formats_v0_2(exports).await?;
                let size = v0_2::paper_size(format, &formats);
                call_v0_2!(
                    self,
                    exports,
                    labels,
                    Capability::Labels,
                    "get-labels",
                    |guest, store, config| {
                        let label = guest
                            .call_get_labels(&mut *store, config, shipment_ids, size)
                            .await?;
                        Ok(label.map(v0_2::label).map_err(v0_2::error))
                    }
                )
            }
        }
    }

    /// Events per tracking number, oldest first; one result per number, in order.
    pub async fn track(
        &self,
        tracking_numbers: &[String],
    ) -> Result<Vec<Result<TrackingResult, ConnectorError>>, CallError> {
        let outcomes = match &self.exports {
            CarrierExports::V0_1(pre) => {
                self.v0_1(pre, "track", async |connector, store, config| {
                    let outcomes = connector
                        .call_track(store, config, tracking_numbers)
                        .await?;
                    Ok(outcomes.map(|outcomes| {
                        v0_1::outcomes(outcomes, v0_1::tracking_result)
                            .into_iter()
                            .map(|outcome| outcome.and_then(|result| result))
                            .collect()
                    }))
                })
                .await?
            }
            CarrierExports::V0_2(exports) => call_v0_2!(
                self,
                exports,
                tracking,
                Capability::Tracking,
                "track",
                |guest, store, config| {
                    let outcomes = guest
                        .call_track(&mut *store, config, tracking_numbers)
                        .await?;
                    Ok(outcomes
                        .map(|outcomes| {
                            v0_2::outcomes(outcomes, v0_2::tracking_result)
                                .into_iter()
                                .map(|outcome| outcome.and_then(|result| result))
                                .collect()
                        })
                        .map_err(v0_2::error))
                }
            )?,
        };
        Ok(self.bound.redactor.redact_outcomes(outcomes))
    }

    /// Cancels shipments; one result per id, in order.
    pub async fn cancel(
        &self,
        shipment_ids: &[String],
    ) -> Result<Vec<Result<(), ConnectorError>>, CallError> {
        let outcomes = match &self.exports {
            CarrierExports::V0_1(pre) => {
                self.v0_1(pre, "cancel", async |connector, store, config| {
                    let outcomes = connector.call_cancel(store, config, shipment_ids).await?;
                    Ok(outcomes.map(|outcomes| v0_1::outcomes(outcomes, |()| ())))
                })
                .await?
            }
            CarrierExports::V0_2(exports) => call_v0_2!(
                self,
                exports,
                cancellation,
                Capability::Cancellation,
                "cancel",
                |guest, store, config| {
                    let outcomes = guest
                        .call_cancel_shipments(&mut *store, config, shipment_ids)
                        .await?;
                    Ok(outcomes
                        .map(|outcomes| v0_2::outcomes(outcomes, |()| ()))
                        .map_err(v0_2::error))
                }
            )?,
        };
        Ok(self.bound.redactor.redact_outcomes(outcomes))
    }

    /// Shipments created since `created_since` carrying `reference`.
    pub async fn find_shipments(
        &self,
        reference: &str,
        created_since: OffsetDateTime,
    ) -> Result<Vec<CreatedShipment>, CallError> {
        match &self.exports {
            CarrierExports::V0_1(pre) => {
                let since = v0_1::timestamp(created_since);
                self.v0_1(pre, "find-shipments", async |connector, store, config| {
                    let found = connector
                        .call_find_shipments(store, config, reference, &since)
                        .await?;
                    Ok(found.map(|found| found.into_iter().map(v0_1::created).collect()))
                })
                .await
            }
            CarrierExports::V0_2(exports) => {
                let since = v0_2::timestamp(created_since);
                call_v0_2!(
                    self,
                    exports,
                    lookup,
                    Capability::Lookup,
                    "find-shipments",
                    |guest, store, config| {
                        let found = guest
                            .call_find_shipments(&mut *store, config, reference, since)
                            .await?;
                        Ok(found
                            .map(|found| found.into_iter().map(v0_2::created).collect())
                            .map_err(v0_2::error))
                    }
                )
            }
        }
    }

    /// Tests the credentials; unsupported when the connector cannot.
    pub async fn check_connection(&self) -> Result<ConnectionInfo, CallError> {
        let exports = self.v0_2_only(Capability::Connection)?;
        check_connection(&self.bound, exports).await
    }

    /// The carrier's pickup points matching `query`.
    pub async fn search_pickup_points(
        &self,
        query: &PickupQuery,
    ) -> Result<Vec<PickupLocation>, CallError> {
        let exports = self.v0_2_only(Capability::PickupPoints)?;
        let query = v0_2::pickup_query(query);
        call_v0_2!(
            self,
            exports,
            pickup_points,
            Capability::PickupPoints,
            "search-pickup-points",
            |guest, store, config| {
                let found = guest
                    .call_search_pickup_points(&mut *store, config, &query)
                    .await?;
                Ok(found.map(v0_2::pickup_locations).map_err(v0_2::error))
            }
        )
    }

    /// Hands `shipments` over to the carrier for `date` (`YYYY-MM-DD`): all or none.
    pub async fn hand_over(
        &self,
        date: &str,
        shipments: &[HandoverShipment],
    ) -> Result<HandoverReceipt, CallError> {
        let exports = self.v0_2_only(Capability::Handover)?;
        let shipments: Vec<_> = shipments.iter().map(v0_2::handover_shipment).collect();
        call_v0_2!(
            self,
            exports,
            handover,
            Capability::Handover,
            "hand-over",
            |guest, store, config| {
                let receipt = guest
                    .call_hand_over(&mut *store, config, date, &shipments)
                    .await?;
                Ok(receipt.map(v0_2::handover_receipt).map_err(v0_2::error))
            }
        )
    }

    /// The carrier's services.
    pub async fn list_services(&self) -> Result<Vec<CarrierService>, CallError> {
        let exports = self.v0_2_only(Capability::Services)?;
        call_v0_2!(
            self,
            exports,
            services,
            Capability::Services,
            "list-services",
            |guest, store, config| {
                let list = guest.call_list_services(&mut *store, config).await?;
                Ok(list.map(v0_2::carrier_services).map_err(v0_2::error))
            }
        )
    }

    /// The 0.2 exports, or unsupported: contract 0.1 has no such capability.
    fn v0_2_only(&self, capability: Capability) -> Result<&ExportsV0_2, CallError> {
        match &self.exports {
            CarrierExports::V0_2(exports) => Ok(exports),
            CarrierExports::V0_1(_) => Err(missing(&self.bound, capability)),
        }
    }
}
fn wrong_kind(plugin: &LoadedPlugin, expected: Kind) -> CallError {
    CallError::WrongKind {
        plugin: plugin.id().to_owned(),
        expected,
        actual: plugin.kind(),
    }
}
