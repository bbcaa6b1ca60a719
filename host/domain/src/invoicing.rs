//! Automatic invoicing: when an imported order gets its invoice without anyone asking.
//!
//! A shop's policy is one of: never, once the order is paid, or once it reaches a given
//! host status. The rule is checked after every import of the order; an order is
//! invoiced automatically at most once (an existing invoice, issued by hand or by the
//! rule, stops it).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::mapping::HostStatus;
use crate::order::PaymentStatus;

/// A shop's automatic-invoicing policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "when", content = "status")]
pub enum AutoInvoice {
    /// Invoices are issued by hand only.
    #[default]
    Off,
    /// Once the shop reports the order paid in full.
    WhenPaid,
    /// Once the order reaches this host status.
    AtStatus(HostStatus),
}

/// What the rule looks at on an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvoiceFacts {
    pub status: HostStatus,
    pub payment_status: PaymentStatus,
    /// Whether the order already has an invoice that is not cancelled.
    pub has_invoice: bool,
}

/// Whether the order should now be invoiced automatically.
pub fn invoice_due(policy: AutoInvoice, facts: InvoiceFacts) -> bool {
    if facts.has_invoice || matches!(facts.status, HostStatus::Cancelled | HostStatus::Refunded) {
        return false;
    }
    match policy {
        AutoInvoice::Off => false,
        AutoInvoice::WhenPaid => facts.payment_status == PaymentStatus::Paid,
        AutoInvoice::AtStatus(status) => facts.status == status,
    }
}

impl fmt::Display for AutoInvoice {
    /// `off`, `paid`, or `status:<host status>`: the stored and command-line form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Off => f.write_str("off"),
            Self::WhenPaid => f.write_str("paid"),
            Self::AtStatus(status) => write!(f, "status:{status}"),
        }
    }
}

/// The text is not `off`, `paid` or `status:<host status>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an invoicing policy (off, paid, status:<status>)")]
pub struct UnknownPolicy(pub String);

impl FromStr for AutoInvoice {
    type Err = UnknownPolicy;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "off" => Ok(Self::Off),
            "paid" => Ok(Self::WhenPaid),
            other => other
                .strip_prefix("status:")
                .and_then(|status| status.parse().ok())
                .map(Self::AtStatus)
                .ok_or_else(|| UnknownPolicy(text.to_owned())),
        }
    }
}

/// What happens to a refund the shop reports on an invoiced order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditNotePolicy {
    /// A credit note is issued at once, for what the refund gave back.
    Auto,
    /// The refund is shown on the order; a person issues the credit note.
    #[default]
    Offer,
}

impl CreditNotePolicy {
    /// `auto` or `offer`: the stored and command-line form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Offer => "offer",
        }
    }
}

/// The text is not `auto` or `offer`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a credit note policy (auto, offer)")]
pub struct UnknownCreditNotePolicy(pub String);

impl FromStr for CreditNotePolicy {
    type Err = UnknownCreditNotePolicy;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "auto" => Ok(Self::Auto),
            "offer" => Ok(Self::Offer),
            other => Err(UnknownCreditNotePolicy(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(status: HostStatus, payment_status: PaymentStatus) -> InvoiceFacts {
        InvoiceFacts {
            status,
            payment_status,
            has_invoice: false,
        }
    }

    #[test]
    fn off_never_invoices() {
        assert!(!invoice_due(
            AutoInvoice::Off,
            facts(HostStatus::Completed, PaymentStatus::Paid)
        ));
    }

    #[test]
    fn when_paid_waits_for_full_payment() {
        let policy = AutoInvoice::WhenPaid;
        assert!(invoice_due(
            policy,
            facts(HostStatus::Processing, PaymentStatus::Paid)
        ));
        assert!(!invoice_due(
            policy,
            facts(HostStatus::New, PaymentStatus::Unpaid)
        ));
        assert!(!invoice_due(
            policy,
            facts(HostStatus::New, PaymentStatus::Authorized)
        ));
        assert!(!invoice_due(
            policy,
            facts(HostStatus::Processing, PaymentStatus::PartiallyPaid)
        ));
    }

    #[test]
    fn at_status_matches_the_host_status_only() {
        let policy = AutoInvoice::AtStatus(HostStatus::Completed);
        assert!(invoice_due(
            policy,
            facts(HostStatus::Completed, PaymentStatus::Unpaid)
        ));
        assert!(!invoice_due(
            policy,
            facts(HostStatus::Processing, PaymentStatus::Paid)
        ));
    }

    #[test]
    fn an_invoiced_or_cancelled_order_is_left_alone() {
        let mut invoiced = facts(HostStatus::Processing, PaymentStatus::Paid);
        invoiced.has_invoice = true;
        assert!(!invoice_due(AutoInvoice::WhenPaid, invoiced));
        assert!(!invoice_due(
            AutoInvoice::WhenPaid,
            facts(HostStatus::Cancelled, PaymentStatus::Paid)
        ));
    }

    #[test]
    fn policies_round_trip_through_text() {
        for policy in [
            AutoInvoice::Off,
            AutoInvoice::WhenPaid,
            AutoInvoice::AtStatus(HostStatus::Completed),
        ] {
            assert_eq!(policy.to_string().parse::<AutoInvoice>(), Ok(policy));
        }
        assert!("status:shipped".parse::<AutoInvoice>().is_err());
        assert!("always".parse::<AutoInvoice>().is_err());
    }
}
