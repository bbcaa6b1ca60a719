//! A shop's payment methods and order statuses in the host's terms (docs/architecture.md, flow 5).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::HostPaymentMethodId;
use crate::order::{OrderStatus, PaymentMethod};

/// One mapping of a shop's payment method to a host payment method, as the user set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMapping {
    /// The shop's method code (`"bacs"`); empty when the mapping is by title only.
    pub code: String,
    /// The shop's method title (`"Direct bank transfer"`); empty when by code only.
    pub title: String,
    /// The host's payment method it means.
    pub method: HostPaymentMethodId,
}

/// What a shop's payment method resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentResolution {
    /// A mapping names it.
    Mapped(HostPaymentMethodId),
    /// No mapping names it: the storage records it for the user to map, the order is
    /// imported without a host payment method. Never dropped.
    Unmapped {
        /// The shop's code.
        code: String,
        /// The shop's title.
        title: String,
    },
}

/// Resolves a shop's payment method: first a mapping with the same code (exact, after
/// trimming), then one with the same title (case-insensitive, after trimming).
///
/// Codes are compared exactly because they are machine identifiers; titles are typed
/// by people and change case between plugin versions and languages. Blank codes and
/// titles never match, so a mapping by title only cannot capture every method without
/// a code.
pub fn map_payment(raw: &PaymentMethod, mappings: &[PaymentMapping]) -> PaymentResolution {
    let code = raw.code.trim();
    let title = raw.title.trim();
    let by_code = || {
        mappings
            .iter()
            .find(|mapping| !code.is_empty() && mapping.code.trim() == code)
    };
    let by_title = || {
        mappings.iter().find(|mapping| {
            let mapped_title = mapping.title.trim();
            !title.is_empty() && !mapped_title.is_empty() && eq_ignore_case(mapped_title, title)
        })
    };
    match by_code().or_else(by_title) {
        Some(mapping) => PaymentResolution::Mapped(mapping.method),
        None => PaymentResolution::Unmapped {
            code: raw.code.clone(),
            title: raw.title.clone(),
        },
    }
}

fn eq_ignore_case(left: &str, right: &str) -> bool {
    left.to_lowercase() == right.to_lowercase()
}

/// The host's order statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostStatus {
    /// Received, not yet confirmed or paid.
    New,
    /// Confirmed, being fulfilled.
    Processing,
    /// Held.
    OnHold,
    /// Fulfilled.
    Completed,
    /// Cancelled (also: payment failed).
    Cancelled,
    /// Refunded.
    Refunded,
}

impl HostStatus {
    /// Every status, in workflow order.
    pub const ALL: [HostStatus; 6] = [
        Self::New,
        Self::Processing,
        Self::OnHold,
        Self::Completed,
        Self::Cancelled,
        Self::Refunded,
    ];

    /// The snake_case name used in JSON and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Processing => "processing",
            Self::OnHold => "on_hold",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
        }
    }

    /// Whether an order in this status still reserves stock for what is not delivered.
    pub fn is_open(self) -> bool {
        matches!(self, Self::New | Self::Processing | Self::OnHold)
    }

    /// The status an order gets when no override names its raw status.
    ///
    /// `Failed` becomes `Cancelled`: nothing will be fulfilled and nothing should stay
    /// reserved. `Other` becomes `New`, so an order in a state the connector did not know
    /// lands where the user looks first rather than looking settled.
    pub fn default_for(status: OrderStatus) -> Self {
        match status {
            OrderStatus::Pending | OrderStatus::Other => Self::New,
            OrderStatus::Processing => Self::Processing,
            OrderStatus::OnHold => Self::OnHold,
            OrderStatus::Completed => Self::Completed,
            OrderStatus::Cancelled | OrderStatus::Failed => Self::Cancelled,
            OrderStatus::Refunded => Self::Refunded,
        }
    }
}

impl fmt::Display for HostStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a [`HostStatus`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown host status {0:?}")]
pub struct UnknownHostStatus(pub String);

impl FromStr for HostStatus {
    type Err = UnknownHostStatus;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| UnknownHostStatus(text.to_owned()))
    }
}

/// A per-shop override: this raw shop status means that host status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusOverride {
    /// The shop's raw status code (`"wc-awaiting-shipment"`).
    pub raw: String,
    /// The host status it means.
    pub status: HostStatus,
}

/// The host status of an order: the shop's override for its raw status code when there
/// is one (trimmed, case-insensitive: raw codes are the platform's and custom statuses
/// are typed by merchants), otherwise [`HostStatus::default_for`] the normalized status.
pub fn map_status(normalized: OrderStatus, raw: &str, overrides: &[StatusOverride]) -> HostStatus {
    let raw = raw.trim();
    overrides
        .iter()
        .find(|entry| !raw.is_empty() && eq_ignore_case(entry.raw.trim(), raw))
        .map(|entry| entry.status)
        .unwrap_or_else(|| HostStatus::default_for(normalized))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(code: &str, title: &str) -> PaymentMethod {
        PaymentMethod {
            code: code.into(),
            title: title.into(),
        }
    }

    fn mapping(code: &str, title: &str, id: i64) -> PaymentMapping {
        PaymentMapping {
            code: code.into(),
            title: title.into(),
            method: HostPaymentMethodId(id),
        }
    }

    #[test]
    fn code_wins_over_title() {
        let mappings = [mapping("", "Bank transfer", 1), mapping("bacs", "", 2)];
        assert_eq!(
            map_payment(&method("bacs", "Bank transfer"), &mappings),
            PaymentResolution::Mapped(HostPaymentMethodId(2))
        );
    }

    #[test]
    fn title_matches_case_insensitively_when_no_code_does() {
        let mappings = [mapping("cod", "", 1), mapping("", "Plačilo po povzetju", 2)];
        assert_eq!(
            map_payment(&method("other", "  PLAČILO PO POVZETJU "), &mappings),
            PaymentResolution::Mapped(HostPaymentMethodId(2))
        );
    }

    #[test]
    fn code_is_exact_apart_from_whitespace() {
        let mappings = [mapping("bacs", "", 1)];
        assert_eq!(
            map_payment(&method(" bacs ", ""), &mappings),
            PaymentResolution::Mapped(HostPaymentMethodId(1))
        );
        assert!(matches!(
            map_payment(&method("BACS", ""), &mappings),
            PaymentResolution::Unmapped { .. }
        ));
    }

    #[test]
    fn unmapped_methods_are_reported_with_code_and_title() {
        assert_eq!(
            map_payment(&method("stripe", "Card"), &[mapping("bacs", "Bank", 1)]),
            PaymentResolution::Unmapped {
                code: "stripe".into(),
                title: "Card".into()
            }
        );
    }

    #[test]
    fn blank_codes_and_titles_never_match() {
        let mappings = [mapping("", "", 1)];
        assert!(matches!(
            map_payment(&method("", ""), &mappings),
            PaymentResolution::Unmapped { .. }
        ));
        let mappings = [mapping("", "Card", 1)];
        assert!(matches!(
            map_payment(&method("", ""), &mappings),
            PaymentResolution::Unmapped { .. }
        ));
    }

    #[test]
    fn status_defaults() {
        assert_eq!(map_status(OrderStatus::Pending, "", &[]), HostStatus::New);
        assert_eq!(
            map_status(OrderStatus::Processing, "", &[]),
            HostStatus::Processing
        );
        assert_eq!(map_status(OrderStatus::OnHold, "", &[]), HostStatus::OnHold);
        assert_eq!(
            map_status(OrderStatus::Completed, "", &[]),
            HostStatus::Completed
        );
        assert_eq!(
            map_status(OrderStatus::Cancelled, "", &[]),
            HostStatus::Cancelled
        );
        assert_eq!(
            map_status(OrderStatus::Failed, "", &[]),
            HostStatus::Cancelled
        );
        assert_eq!(
            map_status(OrderStatus::Refunded, "", &[]),
            HostStatus::Refunded
        );
        assert_eq!(
            map_status(OrderStatus::Other, "weird", &[]),
            HostStatus::New
        );
    }

    #[test]
    fn override_by_raw_code_wins() {
        let overrides = [StatusOverride {
            raw: "wc-awaiting-shipment".into(),
            status: HostStatus::Processing,
        }];
        assert_eq!(
            map_status(OrderStatus::Other, " WC-Awaiting-Shipment", &overrides),
            HostStatus::Processing
        );
        assert_eq!(
            map_status(OrderStatus::Other, "wc-other", &overrides),
            HostStatus::New
        );
        let blank = [StatusOverride {
            raw: String::new(),
            status: HostStatus::Completed,
        }];
        assert_eq!(
            map_status(OrderStatus::Pending, "", &blank),
            HostStatus::New
        );
    }

    #[test]
    fn host_status_names_round_trip() {
        for status in HostStatus::ALL {
            assert_eq!(status.as_str().parse::<HostStatus>(), Ok(status));
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{}\"", status.as_str())
            );
        }
        assert!("done".parse::<HostStatus>().is_err());
        assert!(HostStatus::OnHold.is_open());
        assert!(!HostStatus::Completed.is_open());
    }
}
