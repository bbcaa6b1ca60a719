//! Shipping, at the edge: plans shipments with the domain rules, records them, calls
//! the carrier connector, settles lost answers by reference, fetches and merges labels,
//! tracks parcels and tells shops the tracking number.
//!
//! The one rule every path here keeps: a carrier is asked to create a shipment only
//! when the host knows no parcel exists for it. The shipment row is written (and
//! leased) before the call; an answer that never came makes it `unknown_outcome`, which
//! is looked up by reference at carriers that can be asked, and left to a person at
//! carriers that cannot.

use std::collections::BTreeMap;
use std::time::Duration;

use time::OffsetDateTime;
use tovor_domain::order::FieldProblem;
use tovor_domain::shipping::{
    CarrierFacts, LineToFulfil, PollPolicy, ShipmentChoices, ShipmentInput, ShipmentState,
    fulfilled_lines, plan_shipment,
};
use tovor_domain::{CompanyId, OrderId, ShipmentId};
use tovor_runtime::Capability;
use tovor_runtime::model::{CarrierInfo, CreatedShipment, Fulfillment};
use tovor_runtime::{CallContext, CallError, CarrierClient, HttpFailure};
use tovor_runtime::{ConnectorError, ErrorKind};
use tovor_store::CompanyScope;
use tovor_store::shipping::{
    Carrier, CarrierShipment, NoticeOutcome, Shipment, ShipmentEvent, ShipmentTask, StoredLabel,
    TellShop,
};

use crate::connectors::shop_client;
use crate::convert;
use crate::error::ServiceError;
use crate::metrics;
use crate::state::AppState;

/// Look-ups by reference that find nothing before a shipment counts as never created
/// and is created again.
pub const LOOKUPS_BEFORE_RETRY: u32 = 3;

/// The carrier connection's full connector config: plain fields and opened secrets.
fn carrier_config(
    state: &AppState,
    carrier: &Carrier,
) -> Result<BTreeMap<String, String>, ServiceError> {
    let mut config = carrier.settings.config.clone();
    config.extend(
        state
            .sealer
            .open(carrier.settings.sealed_secrets.as_deref())?,
    );
    Ok(config)
}

/// A client of the carrier connection's connector.
pub fn carrier_client(state: &AppState, carrier: &Carrier) -> Result<CarrierClient, ServiceError> {
    let account = format!("carrier-{}", carrier.id);
    let context = CallContext::new(account.clone(), carrier_config(state, carrier)?)
        .with_state(carrier.company.0.to_string(), account);
    Ok(state
        .runtime
        .carrier(&carrier.settings.plugin_id, context)?)
}

/// What the shipping rules need to know about the carrier.
pub fn carrier_facts(carrier: &Carrier, info: &CarrierInfo) -> CarrierFacts {
    CarrierFacts {
        name: info.carrier.clone(),
        plugin_id: carrier.settings.plugin_id.clone(),
        cash_on_delivery: !info.cod_currencies.is_empty(),
        cod_currencies: info.cod_currencies.clone(),
        pickup_points: info.pickup_points,
    }
}

/// How a create call that did not create the shipment ended, as far as can be known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateFailure {
    /// The carrier (or its connector) refused it: no parcel exists. `field` is the one
    /// the refusal names, in the host's naming.
    Refused {
        message: String,
        field: Option<String>,
    },
    /// The host refused to send it (its egress policy, a plugin it cannot run):
    /// nothing reached the carrier, so the shipment gives its reference back.
    NotSent(String),
    /// The request may have reached the carrier: a parcel may exist.
    Unknown(String),
}

/// A connector's field name in the host's naming, the one the shipping rules use:
/// connectors name the fields of the shipment request they were given, in the
/// contract's words (`recipient.postal-code`, `cash-on-delivery.amount`); the host
/// names the order's (`shipping.postal_code`, `cash_on_delivery.amount`).
pub fn host_field(connector_field: &str) -> String {
    let field = connector_field.trim().replace('-', "_");
    match field.split_once('.') {
        Some(("recipient", rest)) => format!("shipping.{rest}"),
        _ if field == "recipient" => "shipping".to_owned(),
        _ => field,
    }
}

/// A connector's error in words for the user: the field first when one is named.
pub fn connector_message(error: &ConnectorError) -> String {
    let message = &error.message;
    match error.kind {
        ErrorKind::InvalidInput => match &error.field {
            Some(field) => format!("{}: {message}", host_field(field)),
            None => message.clone(),
        },
        ErrorKind::Auth => format!("the carrier refused the credentials: {message}"),
        ErrorKind::Permission => format!("the carrier account may not do this: {message}"),
        ErrorKind::NotFound => format!("not found at the carrier: {message}"),
        ErrorKind::RateLimited => format!("rate limited: {message}"),
        ErrorKind::Conflict => format!("the carrier refused it in this state: {message}"),
        ErrorKind::Transient => format!("temporary failure: {message}"),
        ErrorKind::Unsupported => format!("not supported: {message}"),
        ErrorKind::BadSignature | ErrorKind::Other => message.clone(),
    }
}

/// Sorts a connector's error for one shipment. Only answers that prove the carrier did
/// not create the parcel count as refusals; anything else may hide a created parcel.
pub fn classify_connector_error(error: &ConnectorError) -> CreateFailure {
    match error.kind {
        ErrorKind::InvalidInput
        | ErrorKind::Auth
        | ErrorKind::Permission
        | ErrorKind::NotFound
        | ErrorKind::Conflict
        | ErrorKind::Unsupported
        | ErrorKind::BadSignature
        | ErrorKind::RateLimited => CreateFailure::Refused {
            message: connector_message(error),
            field: match error.kind {
                ErrorKind::InvalidInput => error.field.as_deref().map(host_field),
                _ => None,
            },
        },
        ErrorKind::Transient | ErrorKind::Other => CreateFailure::Unknown(connector_message(error)),
    }
}

/// Sorts a failed call as a whole (every shipment in it shares the outcome).
pub fn classify_call_error(error: &CallError) -> CreateFailure {
    match error {
        CallError::Connector { error, .. } => classify_connector_error(error),
        // Nothing was sent: the plugin is missing, misconfigured, or was not allowed
        // to reach the address.
        CallError::PluginNotFound(_)
        | CallError::WrongKind { .. }
        | CallError::Config { .. }
        | CallError::EgressDenied { .. }
        | CallError::Instantiate { .. } => CreateFailure::NotSent(error.to_string()),
        CallError::Http {
            failure: HttpFailure::RequestLimit(_),
            ..
        } => CreateFailure::Unknown(error.to_string()),
        CallError::Http { .. }
        | CallError::Trap { .. }
        | CallError::Timeout { .. }
        | CallError::OutOfMemory { .. }
        | CallError::BadOrder { .. } => CreateFailure::Unknown(error.to_string()),
    }
}

/// Why one order got no shipment.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    /// The shipping rules refused it before anything was recorded.
    #[error("{}", describe(.0))]
    Refused(Vec<FieldProblem>),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<tovor_store::StoreError> for ShipError {
    fn from(error: tovor_store::StoreError) -> Self {
        Self::Service(error.into())
    }
}

fn describe(problems: &[FieldProblem]) -> String {
    problems
        .iter()
        .map(|problem| format!("{}: {}", problem.field, problem.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// How often the service asks carriers about their parcels.
pub(crate) fn poll_policy(state: &AppState) -> PollPolicy {
    PollPolicy {
        every: state.workers.track_every,
        ..PollPolicy::default()
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn after(delay: Duration) -> OffsetDateTime {
    crate::workers::later(delay)
}

/// Plans, records and creates shipments for `orders` with one carrier connection, in
/// calls of as many shipments as the connector takes at once (one call has one time
/// budget, so a connector declares what fits in it). One result per order, in order.
pub async fn ship_orders(
    state: &AppState,
    company: CompanyId,
    carrier: &Carrier,
    orders: &[(OrderId, ShipmentChoices)],
) -> Result<Vec<Result<Shipment, ShipError>>, ServiceError> {
    let scope = state.store.company(company);
    let client = carrier_client(state, carrier)?;
    let info = client.info().await?;
    let facts = carrier_facts(carrier, &info);
    let cod_methods: Vec<_> = scope
        .payment_methods()
        .await?
        .into_iter()
        .filter(|method| method.cash_on_delivery)
        .map(|method| method.id)
        .collect();
    let mut results: Vec<Result<Shipment, ShipError>> = Vec::with_capacity(orders.len());
    let mut recorded = Vec::new();
    for (order_id, choices) in orders {
        let result = async {
            let order = scope.order(*order_id).await?;
            let input = ShipmentInput {
                order_number: &order.number,
                order: &order.content,
                earlier_shipments: scope.order_shipment_count(order.id).await?,
                cod_rounding: &carrier.settings.cod_rounding,
                payment_is_cash_on_delivery: order
                    .payment_method
                    .is_some_and(|method| cod_methods.contains(&method)),
                sender: &carrier.settings.sender,
                carrier: &facts,
                default_weight_grams: carrier.settings.default_weight_grams,
                default_services: &carrier.settings.services,
                choices,
            };
            let plan = plan_shipment(&input).map_err(ShipError::Refused)?;
            let lease_until = after(state.workers.create_lease);
            Ok::<_, ShipError>(
                scope
                    .record_shipment(
                        order.id,
                        carrier.id,
                        (&plan, choices.additional),
                        &state.workers.node,
                        lease_until,
                        now(),
                    )
                    .await?,
            )
        }
        .await;
        if let Ok(shipment) = &result {
            recorded.push(shipment.clone());
        }
        results.push(result);
    }
    let lookup = client.can(Capability::Lookup);
    let batch = usize::try_from(info.max_batch).unwrap_or(1).max(1);
    for chunk in recorded.chunks(batch) {
        send(state, scope, carrier, &client, chunk, lookup).await?;
    }
    for shipment in results.iter_mut().flatten() {
        *shipment = scope.shipment(shipment.id).await?;
    }
    Ok(results)
}

/// Asks the carrier to create recorded shipments (all `requested` and leased to us)
/// and records what came of each.
async fn send(
    state: &AppState,
    scope: CompanyScope<'_>,
    carrier: &Carrier,
    client: &CarrierClient,
    shipments: &[Shipment],
    lookup: bool,
) -> Result<(), ServiceError> {
    let requests: Vec<_> = shipments
        .iter()
        .map(|shipment| convert::shipment_request(&shipment.plan))
        .collect();
    tracing::info!(carrier = %carrier.id, shipments = requests.len(), "creating shipments");
    let result = client.create_shipments_checked(&requests).await;
    metrics::plugin_call(
        &carrier.settings.plugin_id,
        "create-shipments",
        result.is_ok(),
    );
    match result {
        Ok(answers) => {
            let mut answers = answers.into_iter();
            for shipment in shipments {
                match answers.next() {
                    Some(Ok(created)) => {
                        record_created(state, scope, carrier, client, shipment.id, &created)
                            .await?;
                    }
                    Some(Err(error)) => {
                        let failure = classify_call_error(&error);
                        record_failure(state, scope, shipment, failure, lookup).await?;
                    }
                    None => {
                        let failure = CreateFailure::Unknown(
                            "the connector gave no answer for this shipment".into(),
                        );
                        record_failure(state, scope, shipment, failure, lookup).await?;
                    }
                }
            }
        }
        Err(error) => {
            let failure = classify_call_error(&error);
            tracing::warn!(carrier = %carrier.id, %error, "create-shipments failed");
            for shipment in shipments {
                record_failure(state, scope, shipment, failure.clone(), lookup).await?;
            }
        }
    }
    Ok(())
}

async fn record_failure(
    state: &AppState,
    scope: CompanyScope<'_>,
    shipment: &Shipment,
    failure: CreateFailure,
    lookup: bool,
) -> Result<(), ServiceError> {
    match failure {
        CreateFailure::Refused { message, field } => {
            scope
                .shipment_failed(shipment.id, &message, field.as_deref(), now())
                .await?;
        }
        CreateFailure::NotSent(message) => {
            tracing::warn!(shipment = %shipment.id, %message, "shipment not sent; its reference is given back");
            scope
                .shipment_not_sent(shipment.id, &message, now())
                .await?;
        }
        CreateFailure::Unknown(message) if lookup => {
            tracing::warn!(shipment = %shipment.id, %message, "create outcome unknown; will look it up");
            let next = after(state.workers.settle_delay);
            scope
                .shipment_outcome_unknown(shipment.id, &message, Some(next), now())
                .await?;
        }
        CreateFailure::Unknown(message) => {
            tracing::warn!(shipment = %shipment.id, %message, "create outcome unknown; the carrier cannot be asked");
            let message = format!(
                "{message}. The carrier cannot be asked whether it created the shipment: look \
                 for reference {} in the carrier's portal, then resolve the shipment with the \
                 carrier's shipment id, or as not created to create it again",
                shipment.reference
            );
            scope
                .shipment_outcome_unknown(shipment.id, &message, None, now())
                .await?;
        }
    }
    Ok(())
}

/// Records a shipment the carrier created, then fetches its label when the answer
/// carried none (a label that cannot be fetched now is fetched when asked for).
async fn record_created(
    state: &AppState,
    scope: CompanyScope<'_>,
    carrier: &Carrier,
    client: &CarrierClient,
    id: ShipmentId,
    created: &CreatedShipment,
) -> Result<(), ServiceError> {
    let shipment = scope.shipment(id).await?;
    let order = scope.order(shipment.order).await?;
    let shop = scope.shop(order.shop).await?;
    let tell_now = carrier.settings.tell_shop == TellShop::Created && !shop.settings.is_custom();
    let record = CarrierShipment {
        shipment_id: created.shipment_id.clone(),
        tracking_numbers: created.tracking_numbers.clone(),
        label: created.label.as_ref().map(|label| StoredLabel {
            content_type: label.content_type.clone(),
            data: label.data.clone(),
        }),
    };
    let first_track = after(state.workers.track_every);
    let applied = scope
        .shipment_created(id, &record, first_track, tell_now, now())
        .await?;
    if !applied {
        return Ok(());
    }
    if tell_now {
        state.wake.shipping.notify_one();
    }
    if record.label.is_none()
        && let Err(error) = fetch_label(scope, carrier, client, id, &created.shipment_id).await
    {
        tracing::warn!(shipment = %id, %error, "label not fetched yet");
    }
    Ok(())
}

async fn fetch_label(
    scope: CompanyScope<'_>,
    carrier: &Carrier,
    client: &CarrierClient,
    id: ShipmentId,
    carrier_shipment_id: &str,
) -> Result<StoredLabel, ServiceError> {
    let ids = [carrier_shipment_id.to_owned()];
    let result = client
        .get_labels(&ids, carrier.settings.label_format.as_deref())
        .await;
    metrics::plugin_call(&carrier.settings.plugin_id, "get-labels", result.is_ok());
    let label = result?;
    let label = StoredLabel {
        content_type: label.content_type,
        data: label.data,
    };
    scope.store_label(id, &label, now()).await?;
    Ok(label)
}

/// The shipment's label as stored, fetched from the carrier first if it has none yet.
pub async fn label(
    state: &AppState,
    company: CompanyId,
    id: ShipmentId,
) -> Result<StoredLabel, ServiceError> {
    let scope = state.store.company(company);
    if let Some(label) = scope.shipment_label(id).await? {
        return Ok(label);
    }
    let shipment = scope.shipment(id).await?;
    let (ShipmentState::Created, Some(carrier_id)) =
        (shipment.state, shipment.carrier_shipment_id.as_deref())
    else {
        return Err(ServiceError::Invalid(format!(
            "shipment {id} is {}: it has no label",
            shipment.state.as_str()
        )));
    };
    let carrier = scope.carrier(shipment.carrier).await?;
    let client = carrier_client(state, &carrier)?;
    fetch_label(scope, &carrier, &client, id, carrier_id).await
}

/// The labels of many shipments as one PDF, in the order given.
pub async fn merged_labels(
    state: &AppState,
    company: CompanyId,
    ids: &[ShipmentId],
    sheet: tovor_labels::Sheet,
) -> Result<Vec<u8>, ServiceError> {
    // Stored labels come in one read; only a shipment whose label was never fetched
    // goes to its carrier.
    let mut stored = state.store.company(company).shipment_labels(ids).await?;
    let mut labels = Vec::with_capacity(ids.len());
    for id in ids {
        let label = match stored.remove(id) {
            Some(label) => label,
            None => label(state, company, *id).await?,
        };
        if label.content_type != "application/pdf" {
            return Err(ServiceError::Invalid(format!(
                "shipment {id} has a {} label, which cannot be merged into a PDF",
                label.content_type
            )));
        }
        labels.push(label.data);
    }
    let documents: Vec<&[u8]> = labels.iter().map(Vec::as_slice).collect();
    tovor_labels::print(&documents, sheet)
        .map_err(|error| ServiceError::Invalid(format!("merging labels: {error}")))
}

/// Settles a shipment whose create call's answer was lost (claimed by the worker): a
/// carrier that can be asked is asked by reference; one that finds nothing several
/// times counts as never created and the shipment is created again.
pub async fn settle(state: &AppState, task: &ShipmentTask) -> Result<(), ServiceError> {
    let scope = state.store.company(task.company);
    let shipment = scope.shipment(task.shipment).await?;
    if !matches!(
        shipment.state,
        ShipmentState::Requested | ShipmentState::UnknownOutcome
    ) {
        state
            .store
            .release_shipment(task, &state.workers.node)
            .await?;
        return Ok(());
    }
    let carrier = scope.carrier(shipment.carrier).await?;
    let client = carrier_client(state, &carrier)?;
    let lookup = client.can(Capability::Lookup);
    if shipment.state == ShipmentState::Requested || !lookup {
        // Its creator stopped mid-call, so the answer is lost; a carrier that cannot be
        // asked leaves it to a person (`resolve`), with nothing due until then.
        let message = shipment
            .error
            .clone()
            .unwrap_or_else(|| "the process creating it stopped mid-call".into());
        let failure = CreateFailure::Unknown(message);
        record_failure(state, scope, &shipment, failure, lookup).await?;
        if !lookup {
            return Ok(());
        }
    }
    let since = shipment.created_at - time::Duration::days(1);
    let result = client.find_shipments(&shipment.reference, since).await;
    metrics::plugin_call(
        &carrier.settings.plugin_id,
        "find-shipments",
        result.is_ok(),
    );
    match result {
        Ok(found) => {
            if let Some(first) = found.first() {
                if found.len() > 1 {
                    tracing::error!(
                        shipment = %shipment.id,
                        reference = %shipment.reference,
                        found = found.len(),
                        "the carrier holds several shipments with one reference; keeping the first"
                    );
                }
                tracing::info!(shipment = %shipment.id, "found at the carrier by reference");
                record_created(state, scope, &carrier, &client, shipment.id, first).await?;
            } else if shipment.lookups + 1 >= LOOKUPS_BEFORE_RETRY {
                tracing::info!(shipment = %shipment.id, "not at the carrier after {} look-ups; creating it again", shipment.lookups + 1);
                let lease_until = after(state.workers.create_lease);
                if scope
                    .retry_shipment(shipment.id, &state.workers.node, lease_until, now())
                    .await?
                {
                    let again = scope.shipment(shipment.id).await?;
                    send(state, scope, &carrier, &client, &[again], true).await?;
                }
            } else {
                let delay = state
                    .workers
                    .settle_delay
                    .saturating_mul(1 << shipment.lookups.min(10));
                scope
                    .shipment_lookup_missed(shipment.id, after(delay), now())
                    .await?;
            }
        }
        Err(error) => {
            let message = format!("looking the shipment up failed: {error}");
            let delay = crate::workers::backoff(
                shipment.lookups + 1,
                state.workers.settle_delay,
                state.workers.max_backoff,
                error.retry_after(),
            );
            scope
                .shipment_outcome_unknown(shipment.id, &message, Some(after(delay)), now())
                .await?;
        }
    }
    Ok(())
}

/// How a person settles a shipment whose outcome the carrier cannot be asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The person found it at the carrier.
    Found {
        shipment_id: String,
        tracking_numbers: Vec<String>,
    },
    /// The person checked: the carrier has no such shipment; create it again.
    NotCreated,
}

pub async fn resolve(
    state: &AppState,
    company: CompanyId,
    id: ShipmentId,
    resolution: Resolution,
) -> Result<Shipment, ServiceError> {
    let scope = state.store.company(company);
    let shipment = scope.shipment(id).await?;
    let carrier = scope.carrier(shipment.carrier).await?;
    let client = carrier_client(state, &carrier)?;
    match resolution {
        Resolution::Found {
            shipment_id,
            tracking_numbers,
        } => {
            if shipment.state != ShipmentState::UnknownOutcome {
                return Err(ServiceError::Invalid(format!(
                    "shipment {id} is {}, not of unknown outcome",
                    shipment.state.as_str()
                )));
            }
            let created = CreatedShipment {
                reference: shipment.reference.clone(),
                shipment_id,
                tracking_numbers,
                label: None,
            };
            record_created(state, scope, &carrier, &client, id, &created).await?;
        }
        Resolution::NotCreated => {
            let lease_until = after(state.workers.create_lease);
            if !scope
                .retry_shipment(id, &state.workers.node, lease_until, now())
                .await?
            {
                return Err(ServiceError::Invalid(if shipment.reference_released {
                    format!(
                        "shipment {id} was never sent and gave its reference back: make a new \
                         shipment for the order instead"
                    )
                } else {
                    format!(
                        "shipment {id} is {}: only a failed shipment or one of unknown outcome is created again",
                        shipment.state.as_str()
                    )
                }));
            }
            let again = scope.shipment(id).await?;
            let lookup = client.can(Capability::Lookup);
            send(state, scope, &carrier, &client, &[again], lookup).await?;
        }
    }
    Ok(scope.shipment(id).await?)
}

/// Cancels a created shipment at the carrier (or a failed one, which needs no call).
pub async fn cancel(
    state: &AppState,
    company: CompanyId,
    id: ShipmentId,
) -> Result<Shipment, ServiceError> {
    let scope = state.store.company(company);
    let shipment = scope.shipment(id).await?;
    match shipment.state {
        ShipmentState::Cancelled => return Ok(shipment),
        ShipmentState::Failed => {}
        ShipmentState::Created => {
            let carrier = scope.carrier(shipment.carrier).await?;
            let client = carrier_client(state, &carrier)?;
            let ids = [shipment.carrier_shipment_id.clone().unwrap_or_default()];
            let result = client.cancel(&ids).await;
            metrics::plugin_call(&carrier.settings.plugin_id, "cancel", result.is_ok());
            match result?.into_iter().next() {
                Some(Ok(())) => {}
                Some(Err(error)) => {
                    return Err(CallError::Connector {
                        plugin: carrier.settings.plugin_id.clone(),
                        error,
                    }
                    .into());
                }
                None => {
                    return Err(ServiceError::Unavailable(
                        "the carrier gave no answer for the cancellation".into(),
                    ));
                }
            }
        }
        ShipmentState::Requested | ShipmentState::UnknownOutcome => {
            return Err(ServiceError::Invalid(format!(
                "shipment {id} is {}: wait until it is settled, then cancel it",
                shipment.state.as_str()
            )));
        }
    }
    scope.shipment_cancelled(id, now()).await?;
    Ok(scope.shipment(id).await?)
}

/// Asks the carrier where the given shipments (of one company and one carrier
/// connection, all created) are, and records what it says.
pub async fn track(
    state: &AppState,
    company: CompanyId,
    shipments: &[Shipment],
) -> Result<(), ServiceError> {
    let Some(first) = shipments.first() else {
        return Ok(());
    };
    let scope = state.store.company(company);
    let carrier = scope.carrier(first.carrier).await?;
    let client = carrier_client(state, &carrier)?;
    let policy = poll_policy(state);
    if !client.can(Capability::Tracking) {
        return crate::handover::track_untracked(scope, shipments, &policy).await;
    }
    let numbers: Vec<String> = shipments
        .iter()
        .flat_map(|shipment| shipment.tracking_numbers.iter().cloned())
        .collect();
    let result = client.track(&numbers).await;
    metrics::plugin_call(&carrier.settings.plugin_id, "track", result.is_ok());
    let results = match result {
        Ok(results) => results,
        Err(error) => {
            tracing::warn!(carrier = %carrier.id, %error, "tracking failed; will retry");
            for shipment in shipments {
                scope
                    .tracking_failed(shipment.id, &error.to_string(), after(policy.every), now())
                    .await?;
            }
            return Ok(());
        }
    };
    let mut by_number = BTreeMap::new();
    for (number, result) in numbers.iter().zip(results) {
        by_number.insert(number.clone(), result);
    }
    let tell_on_delivery = carrier.settings.tell_shop == TellShop::Delivered;
    for shipment in shipments {
        let mut events = Vec::new();
        let mut failure = None;
        for number in &shipment.tracking_numbers {
            match by_number.remove(number) {
                Some(Ok(result)) => {
                    events.extend(result.events.into_iter().map(|event| ShipmentEvent {
                        tracking_number: number.clone(),
                        at: event.at,
                        status: event.status,
                        raw_code: event.raw_code,
                        raw_text: event.raw_text,
                        location: event.location,
                    }));
                }
                // Not scanned yet: nothing to record.
                Some(Err(error)) if error.kind == ErrorKind::NotFound => {}
                Some(Err(error)) => failure = Some(error.to_string()),
                None => failure = Some(format!("the connector gave no answer for {number}")),
            }
        }
        if let Some(error) = failure
            && events.is_empty()
        {
            scope
                .tracking_failed(shipment.id, &error, after(policy.every), now())
                .await?;
            continue;
        }
        let tell = tell_on_delivery && !shop_is_custom(scope, shipment.order).await?;
        scope
            .record_tracking(shipment.id, &events, &policy, tell, now())
            .await?;
        if tell {
            state.wake.shipping.notify_one();
        }
    }
    Ok(())
}

pub(crate) async fn shop_is_custom(
    scope: CompanyScope<'_>,
    order: OrderId,
) -> Result<bool, ServiceError> {
    let order = scope.order(order).await?;
    Ok(scope.shop(order.shop).await?.settings.is_custom())
}

/// Tells the order's shop the shipment's tracking number through the shop
/// connector's `mark-shipped`.
pub async fn tell_shop(state: &AppState, task: &ShipmentTask) -> Result<(), ServiceError> {
    let scope = state.store.company(task.company);
    let shipment = scope.shipment(task.shipment).await?;
    let order = scope.order(shipment.order).await?;
    let shop = scope.shop(order.shop).await?;
    let carrier = scope.carrier(shipment.carrier).await?;
    if shipment.tracking_numbers.is_empty() {
        scope
            .shop_notice_done(
                shipment.id,
                NoticeOutcome::Failed("the shipment has no tracking number"),
                now(),
            )
            .await?;
        return Ok(());
    }
    let carrier_name = match carrier_client(state, &carrier) {
        Ok(client) => client
            .info()
            .await
            .map(|info| info.carrier)
            .unwrap_or_else(|_| carrier.settings.name.clone()),
        Err(_) => carrier.settings.name.clone(),
    };
    // The whole order in one shipment (what its documents delivered), one tracking
    // number per parcel.
    let to_fulfil: Vec<LineToFulfil<'_>> = order
        .lines
        .iter()
        .map(|line| LineToFulfil {
            platform_line_id: order
                .content
                .lines
                .get(line.position as usize)
                .and_then(|content| content.platform_line_id.as_deref()),
            quantity: line.quantity,
            delivered: line.delivered,
        })
        .collect();
    let shipped = Fulfillment {
        lines: fulfilled_lines(&to_fulfil),
        carrier: carrier_name,
        parcels: shipment
            .tracking_numbers
            .iter()
            .map(|number| (number.clone(), None))
            .collect(),
        notify_customer: true,
    };
    let result = match shop_client(state, &shop) {
        Ok(client) => client
            .fulfill(&order.external_id, &shipped)
            .await
            .map_err(ServiceError::from),
        Err(error) => Err(error),
    };
    metrics::plugin_call(&shop.settings.plugin_id, "mark-shipped", result.is_ok());
    match result {
        Ok(()) => {
            tracing::info!(shipment = %shipment.id, order = %order.id, "shop told the tracking number");
            scope
                .shop_notice_done(shipment.id, NoticeOutcome::Sent, now())
                .await?;
        }
        Err(error) => {
            let message = error.to_string();
            let attempts = shipment.shop_notice_attempts;
            if error.is_retryable() && attempts + 1 < state.workers.max_attempts {
                let delay = crate::workers::backoff(
                    attempts + 1,
                    state.workers.backoff,
                    state.workers.max_backoff,
                    error.retry_after(),
                );
                let retry = NoticeOutcome::Retry {
                    error: &message,
                    at: after(delay),
                };
                scope.shop_notice_done(shipment.id, retry, now()).await?;
            } else {
                tracing::warn!(shipment = %shipment.id, %message, "the shop could not be told the tracking number");
                scope
                    .shop_notice_done(shipment.id, NoticeOutcome::Failed(&message), now())
                    .await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn plugin(error: ConnectorError) -> CallError {
        CallError::Connector {
            plugin: "gls".into(),
            error,
        }
    }

    #[test]
    fn only_proven_refusals_count_as_not_created() {
        let refused = [
            ConnectorError::new(ErrorKind::InvalidInput, "whole crowns").with_field("cod"),
            ConnectorError::new(ErrorKind::Auth, "wrong password"),
            ConnectorError::new(ErrorKind::RateLimited, "error 31"),
        ];
        for error in refused {
            assert!(
                matches!(
                    classify_connector_error(&error),
                    CreateFailure::Refused { .. }
                ),
                "{error:?}"
            );
        }
        for error in [
            ConnectorError::new(ErrorKind::Transient, "timed out"),
            ConnectorError::new(ErrorKind::Other, "HTTP 500"),
        ] {
            assert!(
                matches!(classify_connector_error(&error), CreateFailure::Unknown(_)),
                "{error:?}"
            );
        }
    }

    #[test]
    fn a_call_that_may_have_reached_the_carrier_is_of_unknown_outcome() {
        let unknown = [
            CallError::Http {
                plugin: "gls".into(),
                url: "https://api.mygls.si".into(),
                failure: HttpFailure::Timeout,
            },
            CallError::Timeout {
                plugin: "gls".into(),
                limit: Duration::from_secs(120),
            },
            CallError::Trap {
                plugin: "gls".into(),
                message: "unreachable".into(),
            },
        ];
        for error in &unknown {
            assert!(
                matches!(classify_call_error(error), CreateFailure::Unknown(_)),
                "{error}"
            );
        }
        let never_sent = [
            CallError::PluginNotFound("gls".into()),
            CallError::EgressDenied {
                plugin: "gls".into(),
                url: "http://10.0.0.1".into(),
                reason: "private".into(),
            },
        ];
        for error in &never_sent {
            assert!(
                matches!(classify_call_error(error), CreateFailure::NotSent(_)),
                "{error}"
            );
        }
        let refused = plugin(
            ConnectorError::new(
                ErrorKind::InvalidInput,
                "GLS error 13: DeliveryAddress.ZipCode is invalid.",
            )
            .with_field("recipient.postal-code"),
        );
        assert_eq!(
            classify_call_error(&refused),
            CreateFailure::Refused {
                message: "shipping.postal_code: GLS error 13: DeliveryAddress.ZipCode is invalid."
                    .into(),
                field: Some("shipping.postal_code".into()),
            }
        );
        assert!(matches!(
            classify_call_error(&plugin(ConnectorError::new(
                ErrorKind::Unsupported,
                "find-shipments"
            ))),
            CreateFailure::Refused { .. }
        ));
    }

    #[test]
    fn connector_fields_are_named_as_the_host_names_them() {
        for (connector, host) in [
            ("recipient.postal-code", "shipping.postal_code"),
            ("recipient.house_number", "shipping.house_number"),
            ("cash-on-delivery.amount", "cash_on_delivery.amount"),
            ("pickup-point", "pickup_point"),
            ("sender.street", "sender.street"),
        ] {
            assert_eq!(host_field(connector), host);
        }
    }

    #[test]
    fn connector_errors_read_as_sentences_naming_the_field() {
        let error = ConnectorError::new(
            ErrorKind::InvalidInput,
            "CZK cash on delivery must be a whole number of crowns",
        )
        .with_field("cash_on_delivery.amount");
        assert_eq!(
            connector_message(&error),
            "cash_on_delivery.amount: CZK cash on delivery must be a whole number of crowns"
        );
        assert_eq!(
            connector_message(&ConnectorError::new(ErrorKind::Auth, "-1")),
            "the carrier refused the credentials: -1"
        );
    }
}
