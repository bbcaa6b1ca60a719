//! What to do with an order that arrives from a shop (docs/architecture.md, "The import rules").
//!
//! The storage layer loads the stored state of the order (if any), calls [`decide`],
//! and applies the decision in the same transaction that locked the order row:
//!
//! | decision | the storage |
//! |---|---|
//! | [`ImportDecision::Create`] | inserts the order (matching items and customers) |
//! | [`ImportDecision::Overwrite`] | replaces lines, amounts, addresses, customer and status |
//! | [`ImportDecision::StatusOnly`] | applies the mapped status, keeps the content, records the differences |
//! | [`ImportDecision::Unchanged`] | changes nothing |
//!
//! After `Create`, `Overwrite` and `StatusOnly` it records `incoming_hash` and the
//! incoming `modified_at` as the order's [`StoredOrderState::content_hash`] and
//! [`StoredOrderState::shop_modified_at`] (see [`ImportDecision::records_version`]):
//! that is what makes a re-delivery a no-op and a stale version lose.

mod diff;

use time::OffsetDateTime;

use crate::order::NormalizedOrder;

pub use crate::order::{StoredOrderState, Touched};
pub use diff::{Difference, diff};

/// The shop's setting that matters for re-imports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSettings {
    /// Whether an already imported order may be updated. The shop's "update existing
    /// orders" setting; an order-update webhook event passes `true` for that event.
    pub update_existing: bool,
}

/// What to do with an incoming order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportDecision {
    /// The order is new to the host: create it.
    Create,
    /// Leave the stored order as it is.
    Unchanged(UnchangedReason),
    /// Replace the stored order's content and status with the incoming one: it is
    /// untouched in the host.
    Overwrite,
    /// Apply only the shop's (mapped) status: the order is touched in the host. The
    /// content stays; these differences are recorded for the user.
    StatusOnly {
        /// How the incoming content differs from the stored one; empty when only the
        /// status or the timestamp changed.
        differences: Vec<Difference>,
    },
}

impl ImportDecision {
    /// Whether the storage records the incoming hash and `modified_at` as the order's
    /// current shop version.
    pub fn records_version(&self) -> bool {
        !matches!(self, Self::Unchanged(_))
    }
}

/// Why an incoming order changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnchangedReason {
    /// The same version as the one applied last (same content hash).
    Identical,
    /// The shop does not update already imported orders.
    UpdatesDisabled,
    /// An older version than the one applied last: webhooks arrive out of order and
    /// are retried with stale payloads.
    Stale {
        /// `modified_at` of the version applied last.
        stored: OffsetDateTime,
        /// `modified_at` of the incoming version.
        incoming: OffsetDateTime,
    },
}

/// Decides what an incoming order does to the host's copy. Checked in this order:
///
/// 1. not imported yet → [`ImportDecision::Create`];
/// 2. same content hash as the version applied last → `Unchanged(Identical)`;
/// 3. `modified_at` older than the stored one → `Unchanged(Stale)`;
/// 4. updates disabled → `Unchanged(UpdatesDisabled)`;
/// 5. untouched → [`ImportDecision::Overwrite`];
/// 6. touched → [`ImportDecision::StatusOnly`] with the content differences.
///
/// An incoming version with the **same** `modified_at` as the stored one but different
/// content counts as newer. Platforms stamp times to the second, so two edits can share
/// a stamp, and only the platform knows which is current; the host's scheduled
/// reconciliation fetches the current version, and it must be able to land. Treating
/// ties as stale would instead keep whichever of the two arrived first, for good.
///
/// `incoming_hash` is [`crate::order::content_hash`] of `incoming`; the caller computes
/// it once because it also stores it.
pub fn decide(
    existing: Option<&StoredOrderState>,
    incoming: &NormalizedOrder,
    incoming_hash: &str,
    settings: ImportSettings,
) -> ImportDecision {
    let Some(stored) = existing else {
        return ImportDecision::Create;
    };
    if stored.content_hash == incoming_hash {
        return ImportDecision::Unchanged(UnchangedReason::Identical);
    }
    if incoming.modified_at < stored.shop_modified_at {
        return ImportDecision::Unchanged(UnchangedReason::Stale {
            stored: stored.shop_modified_at,
            incoming: incoming.modified_at,
        });
    }
    if !settings.update_existing {
        return ImportDecision::Unchanged(UnchangedReason::UpdatesDisabled);
    }
    if stored.touched.any() {
        ImportDecision::StatusOnly {
            differences: diff(&stored.content, incoming),
        }
    } else {
        ImportDecision::Overwrite
    }
}

#[cfg(test)]
mod tests;
