//! Handing a carrier's shipments over for a day, and what the host knows of a parcel
//! afterwards when the carrier tracks nothing; statuses set by hand.

use time::{Date, OffsetDateTime};
use tovor_domain::shipping::{
    PollPolicy, ShipmentState, ShipmentStatus, handover_created_before, untracked_from,
};
use tovor_domain::{CarrierId, CompanyId, ShipmentId};
use tovor_runtime::Capability;
use tovor_runtime::model::HandoverShipment;
use tovor_store::CompanyScope;
use tovor_store::handovers::{Handover, HandoverOutcome, HandoverState};
use tovor_store::shipping::{Shipment, ShipmentEvent, StoredLabel, TellShop};

use crate::convert;
use crate::error::ServiceError;
use crate::metrics;
use crate::shipping::{carrier_client, poll_policy};
use crate::state::AppState;

/// The raw code of the event a successful hand-over records.
pub const HANDOVER_CODE: &str = "handover";
/// The raw code of the event that says an untracked parcel is now out of sight.
pub const UNTRACKED_CODE: &str = "untracked";
/// The raw code of a status set by hand.
pub const MANUAL_CODE: &str = "manual";

/// Hands the carrier's shipments waiting for `date` over (see
/// [`handover_created_before`]): all of them, or, when the carrier refuses, none (the
/// failed hand-over is kept, with its error, and its shipments wait for the next).
pub async fn hand_over(
    state: &AppState,
    company: CompanyId,
    carrier_id: CarrierId,
    date: Date,
) -> Result<Handover, ServiceError> {
    let scope = state.store.company(company);
    let carrier = scope.carrier(carrier_id).await?;
    let client = carrier_client(state, &carrier)?;
    if !client.can(Capability::Handover) {
        return Err(ServiceError::Invalid(format!(
            "carrier connection {carrier_id} ({}) has no hand-over: its shipments need none \
             or are handed over outside tovor",
            carrier.settings.plugin_id
        )));
    }
    let date_text = date.to_string();
    let started = OffsetDateTime::now_utc();
    let Some((handover, shipments)) = scope
        .begin_handover(
            carrier_id,
            &date_text,
            handover_created_before(date, started),
            started,
        )
        .await?
    else {
        return Err(ServiceError::Invalid(format!(
            "no shipments of carrier connection {carrier_id} wait for a hand-over on {date_text}"
        )));
    };
    let handed: Vec<HandoverShipment> = shipments.iter().filter_map(handover_shipment).collect();
    let result = client.hand_over(&date_text, &handed).await;
    metrics::plugin_call(&carrier.settings.plugin_id, "hand-over", result.is_ok());
    let receipt = match result {
        Ok(receipt) => receipt,
        Err(error) => {
            tracing::warn!(carrier = %carrier_id, handover = handover.id, %error, "hand-over refused");
            scope
                .finish_handover(
                    handover.id,
                    HandoverOutcome::Failed(&error.to_string()),
                    OffsetDateTime::now_utc(),
                )
                .await?;
            return Err(error.into());
        }
    };
    let document = receipt.document.map(|document| StoredLabel {
        content_type: document.content_type,
        data: document.data,
    });
    let finished = OffsetDateTime::now_utc();
    let handover = scope
        .finish_handover(
            handover.id,
            HandoverOutcome::Done {
                reference: receipt.reference.as_deref(),
                document: document.as_ref(),
            },
            finished,
        )
        .await?;
    let tracked = client.can(Capability::Tracking);
    let text = match &handover.reference {
        Some(reference) => format!("Handed over to the carrier for {date_text} ({reference})"),
        None => format!("Handed over to the carrier for {date_text}"),
    };
    let policy = poll_policy(state);
    for shipment in &shipments {
        let events = events_for(
            shipment,
            finished,
            ShipmentStatus::Pending,
            HANDOVER_CODE,
            &text,
        );
        scope
            .record_tracking(shipment.id, &events, &policy, false, finished)
            .await?;
        if !tracked {
            // Nothing to ask the carrier: look again when the parcel leaves sight.
            scope
                .schedule_tracking(shipment.id, Some(untracked_from(date, finished)))
                .await?;
        }
    }
    Ok(handover)
}

/// Tracking for a carrier that tracks nothing: a parcel handed over is `unknown` from the
/// morning after its hand-over day, and then no longer looked at; one not handed over
/// waits for its hand-over (which schedules it again).
pub async fn track_untracked(
    scope: CompanyScope<'_>,
    shipments: &[Shipment],
    policy: &PollPolicy,
) -> Result<(), ServiceError> {
    let now = OffsetDateTime::now_utc();
    for shipment in shipments {
        let handed = match shipment.handover_id {
            Some(id) => Some(scope.handover(id).await?),
            None => None,
        };
        let Some(handover) = handed.filter(|handover| handover.state == HandoverState::Done) else {
            scope.schedule_tracking(shipment.id, None).await?;
            continue;
        };
        let Ok(date) = Date::parse(
            &handover.date,
            time::macros::format_description!("[year]-[month]-[day]"),
        ) else {
            scope.schedule_tracking(shipment.id, None).await?;
            continue;
        };
        let handed_over_at = handover.finished_at.unwrap_or(handover.created_at);
        let from = untracked_from(date, handed_over_at);
        if now < from {
            scope.schedule_tracking(shipment.id, Some(from)).await?;
            continue;
        }
        let text = format!(
            "The carrier publishes no tracking: the parcel is in its hands since the \
             hand-over for {}",
            handover.date
        );
        let events = events_for(
            shipment,
            from,
            ShipmentStatus::Unknown,
            UNTRACKED_CODE,
            &text,
        );
        scope
            .record_tracking(shipment.id, &events, policy, false, now)
            .await?;
        scope.schedule_tracking(shipment.id, None).await?;
    }
    Ok(())
}

/// Sets a shipment's status by hand, as an event beside the carrier's (kept with its
/// note). A final status stops tracking; a delivered parcel is told to the shop when
/// the carrier connection tells shops on delivery.
pub async fn set_status(
    state: &AppState,
    company: CompanyId,
    id: ShipmentId,
    status: ShipmentStatus,
    note: Option<&str>,
) -> Result<(), ServiceError> {
    let scope = state.store.company(company);
    let shipment = scope.shipment(id).await?;
    if shipment.state != ShipmentState::Created {
        return Err(ServiceError::Invalid(format!(
            "shipment {id} is {}: only a created shipment has a status",
            shipment.state.as_str()
        )));
    }
    let carrier = scope.carrier(shipment.carrier).await?;
    let text = note
        .map(str::trim)
        .filter(|note| !note.is_empty())
        .unwrap_or("Set by hand");
    let now = OffsetDateTime::now_utc();
    let events = events_for(&shipment, now, status, MANUAL_CODE, text);
    let tell = carrier.settings.tell_shop == TellShop::Delivered
        && !crate::shipping::shop_is_custom(scope, shipment.order).await?;
    scope
        .record_tracking(id, &events, &poll_policy(state), tell, now)
        .await?;
    if tell {
        state.wake.shipping.notify_one();
    }
    Ok(())
}

/// One event per parcel of the shipment (or one under its reference when the carrier
/// gave no numbers).
fn events_for(
    shipment: &Shipment,
    at: OffsetDateTime,
    status: ShipmentStatus,
    raw_code: &str,
    raw_text: &str,
) -> Vec<ShipmentEvent> {
    let numbers = if shipment.tracking_numbers.is_empty() {
        vec![shipment.reference.clone()]
    } else {
        shipment.tracking_numbers.clone()
    };
    numbers
        .into_iter()
        .map(|tracking_number| ShipmentEvent {
            tracking_number,
            at,
            status,
            raw_code: raw_code.to_owned(),
            raw_text: raw_text.to_owned(),
            location: None,
        })
        .collect()
}

fn handover_shipment(shipment: &Shipment) -> Option<HandoverShipment> {
    Some(HandoverShipment {
        shipment_id: shipment.carrier_shipment_id.clone()?,
        tracking_numbers: shipment.tracking_numbers.clone(),
        request: convert::shipment_request(&shipment.plan),
        created_at: shipment.created_at,
    })
}
