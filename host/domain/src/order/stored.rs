//! What the host remembers about an imported order, as far as the import rules care.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::NormalizedOrder;
use crate::mapping::HostStatus;

/// The host's record of an already imported order, loaded by the storage layer for
/// [`crate::import::decide`].
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOrderState {
    /// [`super::content_hash`] of the last shop payload applied (by create, overwrite or
    /// status-only update). It stays the shop payload's hash after local edits, so a
    /// re-delivery of that payload is still recognised as identical.
    pub content_hash: String,
    /// `modified_at` of the last shop payload applied.
    pub shop_modified_at: OffsetDateTime,
    /// The host status the order has now.
    pub mapped_status: HostStatus,
    /// What has happened to the order locally since it was imported.
    pub touched: Touched,
    /// The order's content as the host holds it now (including local edits): the
    /// baseline for the differences reported on a status-only update.
    pub content: NormalizedOrder,
}

/// What was done to an order in the host. Any of these makes the order "touched": the
/// shop may then change only its status (docs/architecture.md, "The import rules").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Touched {
    /// An invoice, delivery note or advance invoice was issued from it.
    pub documents_issued: bool,
    /// Its content (lines, amounts, addresses, customer) was edited by hand.
    pub content_edited: bool,
    /// Its status was changed by hand.
    pub status_changed_by_hand: bool,
    /// A shipment was created for it.
    pub shipment_created: bool,
}

impl Touched {
    /// Whether anything at all was done to the order locally.
    pub fn any(self) -> bool {
        self.documents_issued
            || self.content_edited
            || self.status_changed_by_hand
            || self.shipment_created
    }
}
