//! Tracking: the normalized statuses every carrier's events are mapped to, and when a
//! shipment is asked about again.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Where a parcel is, in the same words for every carrier. Connectors map the
/// carrier's own codes; the raw code and text are kept beside every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    /// Data sent to the carrier; the parcel is not in its hands yet.
    Pending,
    PickedUp,
    InTransit,
    OutForDelivery,
    /// Waiting at a pickup point or locker.
    ReadyForPickup,
    Delivered,
    /// A delivery attempt failed (nobody home, refused, wrong address).
    DeliveryFailed,
    DeliveryDelayed,
    /// Held by the carrier (customs, investigation).
    OnHold,
    ReturnToSender,
    Cancelled,
    Unknown,
}

impl ShipmentStatus {
    pub const ALL: [Self; 12] = [
        Self::Pending,
        Self::PickedUp,
        Self::InTransit,
        Self::OutForDelivery,
        Self::ReadyForPickup,
        Self::Delivered,
        Self::DeliveryFailed,
        Self::DeliveryDelayed,
        Self::OnHold,
        Self::ReturnToSender,
        Self::Cancelled,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::PickedUp => "picked_up",
            Self::InTransit => "in_transit",
            Self::OutForDelivery => "out_for_delivery",
            Self::ReadyForPickup => "ready_for_pickup",
            Self::Delivered => "delivered",
            Self::DeliveryFailed => "delivery_failed",
            Self::DeliveryDelayed => "delivery_delayed",
            Self::OnHold => "on_hold",
            Self::ReturnToSender => "return_to_sender",
            Self::Cancelled => "cancelled",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Nothing more will happen to the parcel: it is no longer tracked.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Cancelled)
    }
}

/// One tracking event as far as the status is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusAt {
    pub at: OffsetDateTime,
    pub status: ShipmentStatus,
}

/// The shipment's status from all its events (of all its parcels): the latest event
/// wins, and among events at the same instant the one listed last (carriers list
/// oldest first). An `unknown` event does not hide a known status past `pending` before
/// it: a carrier's new code should not make a delivered parcel look lost. After
/// `pending` it does: the parcel has left what the host can see (handed over to a
/// carrier that tracks nothing, or moved on in a way the connector cannot name).
pub fn current_status(events: &[StatusAt]) -> Option<StatusAt> {
    let mut ordered: Vec<(usize, &StatusAt)> = events.iter().enumerate().collect();
    ordered.sort_by_key(|(index, event)| (event.at, *index));
    let known = ordered
        .iter()
        .rev()
        .find(|(_, event)| event.status != ShipmentStatus::Unknown);
    let latest = ordered.last();
    match known {
        Some((_, known)) if known.status != ShipmentStatus::Pending => Some(**known),
        _ => latest.map(|(_, event)| **event),
    }
}

/// How often shipments are asked about, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    /// Between two looks at a parcel on its way.
    pub every: Duration,
    /// Parcels not yet handed over change less often: looked at this much less often.
    pub pending_factor: u32,
    /// A shipment older than this is no longer tracked, final or not.
    pub give_up_after: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            every: Duration::from_secs(30 * 60),
            pending_factor: 4,
            give_up_after: Duration::from_secs(60 * 24 * 3600),
        }
    }
}

impl PollPolicy {
    /// When to look at the shipment again, or `None` to stop tracking it.
    pub fn next_poll(
        &self,
        status: ShipmentStatus,
        created_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        if status.is_final() {
            return None;
        }
        let age = now - created_at;
        if age > self.give_up_after {
            return None;
        }
        let delay = match status {
            ShipmentStatus::Pending => self.every.saturating_mul(self.pending_factor.max(1)),
            _ => self.every,
        };
        Some(now + delay)
    }
}
