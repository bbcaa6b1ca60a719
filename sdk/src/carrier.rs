//! Carrier connectors: one trait per capability, and the types of the carrier interfaces.
//!
//! | trait | interface | what for |
//! |---|---|---|
//! | [`Shipments`] | `shipments` | create shipments (batches, limits) |
//! | [`Labels`] | `labels` | print labels |
//! | [`Tracking`] | `tracking` | follow parcels |
//! | [`Cancellation`] | `cancellation` | cancel shipments not yet picked up |
//! | [`Lookup`] | `lookup` | find shipments by our reference |
//! | [`PickupPoints`] | `pickup-points` | search parcel lockers and post offices |
//! | [`Services`] | `services` | the carrier's additional services |
//! | [`Handover`] | `handover` | hand the day's shipments over (submission, manifest) |
//! | [`Connection`] | `connection` | test credentials |
//!
//! Implement the traits for what the carrier can do, and name the same capabilities in
//! [`export_carrier!`](crate::export_carrier).

use time::OffsetDateTime;

use crate::bindings::cancellation::exports::tovor::connector::cancellation as cancellation_guest;
use crate::bindings::handover::exports::tovor::connector::handover as handover_guest;
use crate::bindings::labels::exports::tovor::connector::labels as labels_guest;
use crate::bindings::lookup::exports::tovor::connector::lookup as lookup_guest;
use crate::bindings::pickup_points::exports::tovor::connector::pickup_points as pickup_guest;
use crate::bindings::services::exports::tovor::connector::services as services_guest;
use crate::bindings::shipments::exports::tovor::connector::shipments as shipments_guest;
use crate::bindings::tracking::exports::tovor::connector::tracking as tracking_guest;
use crate::money::{self, Decimal};
use crate::types::{ConfigValue, ConnectorError, Timestamp};
use crate::{Config, check_count};

pub use crate::bindings::host::tovor::connector::carrier_types::{
    CashOnDelivery, CreatedShipment, Label, PaperSize, Parcel, ShipmentRequest,
};
pub use crate::connection::{Connection, ConnectionInfo};
pub use handover_guest::{HandoverReceipt, HandoverShipment};
pub use labels_guest::LabelFormat;
pub use pickup_guest::{PickupLocation, PickupQuery};
pub use services_guest::Service;
pub use shipments_guest::ShippingLimits;
pub use tracking_guest::{ShipmentStatus, TrackingEvent, TrackingResult};

type RawConfig = Vec<(String, ConfigValue)>;

/// Creating shipments.
pub trait Shipments {
    /// The most shipments one call takes, and the cash-on-delivery currencies.
    fn limits() -> ShippingLimits;

    /// Creates shipments: one result per request, in the same order. The outer error
    /// fails the whole batch (bad credentials, carrier down).
    fn create_shipments(
        config: &Config,
        requests: Vec<ShipmentRequest>,
    ) -> Result<Vec<Result<CreatedShipment, ConnectorError>>, ConnectorError>;
}

/// Printing labels.
pub trait Labels {
    /// The formats this carrier prints, the preferred one first.
    fn label_formats() -> Vec<LabelFormat>;

    /// Labels for the given shipments as one document, on paper of `size`.
    fn get_labels(
        config: &Config,
        shipment_ids: Vec<String>,
        size: PaperSize,
    ) -> Result<Label, ConnectorError>;
}

/// Following parcels.
pub trait Tracking {
    /// Events per tracking number, oldest first: one result per number, in the same order.
    fn track(
        config: &Config,
        tracking_numbers: Vec<String>,
    ) -> Result<Vec<Result<TrackingResult, ConnectorError>>, ConnectorError>;
}

/// Cancelling shipments not yet picked up.
pub trait Cancellation {
    /// Cancels shipments: one result per shipment id, in the same order.
    fn cancel_shipments(
        config: &Config,
        shipment_ids: Vec<String>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError>;
}

/// Finding shipments by our reference, so a create call that timed out is reconciled
/// instead of repeated.
pub trait Lookup {
    /// Shipments created since `created_since` carrying `reference`.
    fn find_shipments(
        config: &Config,
        reference: String,
        created_since: OffsetDateTime,
    ) -> Result<Vec<CreatedShipment>, ConnectorError>;
}

/// Searching the carrier's pickup points.
pub trait PickupPoints {
    /// At most `query.limit` pickup points matching the query.
    fn search_pickup_points(
        config: &Config,
        query: PickupQuery,
    ) -> Result<Vec<PickupLocation>, ConnectorError>;
}

/// The carrier's additional services.
pub trait Services {
    /// The services, with the codes [`ShipmentRequest::services`] takes.
    fn list_services(config: &Config) -> Result<Vec<Service>, ConnectorError>;
}

/// Handing the day's shipments over to the carrier (contract 0.2.1).
pub trait Handover {
    /// Hands `shipments` over for `date` (`YYYY-MM-DD`, the sender's local date): all of
    /// them, or none with an error. The host hands each shipment over once, and records
    /// the receipt's reference and keeps its document.
    fn hand_over(
        config: &Config,
        date: &str,
        shipments: Vec<HandoverShipment>,
    ) -> Result<HandoverReceipt, ConnectorError>;
}

impl CashOnDelivery {
    /// The amount, as a decimal.
    pub fn amount_decimal(&self) -> Result<Decimal, ConnectorError> {
        money::from_contract(&self.amount, "cash-on-delivery.amount")
    }
}

impl ShipmentRequest {
    /// The declared value, as a decimal.
    pub fn value_decimal(&self) -> Result<Option<Decimal>, ConnectorError> {
        self.value
            .as_deref()
            .map(|value| money::from_contract(value, "value"))
            .transpose()
    }

    /// The total weight of the parcels, in grams.
    pub fn total_weight_grams(&self) -> u64 {
        self.parcels
            .iter()
            .map(|parcel| u64::from(parcel.weight_grams))
            .sum()
    }
}

impl<T: Shipments> shipments_guest::Guest for T {
    fn limits() -> ShippingLimits {
        <T as Shipments>::limits()
    }

    fn create_shipments(
        config: RawConfig,
        requests: Vec<ShipmentRequest>,
    ) -> Result<Vec<Result<CreatedShipment, ConnectorError>>, ConnectorError> {
        let expected = requests.len();
        let results = <T as Shipments>::create_shipments(&Config::new(config), requests)?;
        check_count("create-shipments", expected, results)
    }
}

impl<T: Labels> labels_guest::Guest for T {
    fn label_formats() -> Vec<LabelFormat> {
        <T as Labels>::label_formats()
    }

    fn get_labels(
        config: RawConfig,
        shipment_ids: Vec<String>,
        size: PaperSize,
    ) -> Result<Label, ConnectorError> {
        <T as Labels>::get_labels(&Config::new(config), shipment_ids, size)
    }
}

impl<T: Tracking> tracking_guest::Guest for T {
    fn track(
        config: RawConfig,
        tracking_numbers: Vec<String>,
    ) -> Result<Vec<Result<TrackingResult, ConnectorError>>, ConnectorError> {
        let expected = tracking_numbers.len();
        let results = <T as Tracking>::track(&Config::new(config), tracking_numbers)?;
        check_count("track", expected, results)
    }
}

impl<T: Cancellation> cancellation_guest::Guest for T {
    fn cancel_shipments(
        config: RawConfig,
        shipment_ids: Vec<String>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let expected = shipment_ids.len();
        let results = <T as Cancellation>::cancel_shipments(&Config::new(config), shipment_ids)?;
        check_count("cancel-shipments", expected, results)
    }
}

impl<T: Lookup> lookup_guest::Guest for T {
    fn find_shipments(
        config: RawConfig,
        reference: String,
        created_since: Timestamp,
    ) -> Result<Vec<CreatedShipment>, ConnectorError> {
        let created_since = created_since.to_datetime("created-since")?;
        <T as Lookup>::find_shipments(&Config::new(config), reference, created_since)
    }
}

impl<T: Handover> handover_guest::Guest for T {
    fn hand_over(
        config: RawConfig,
        date: String,
        shipments: Vec<HandoverShipment>,
    ) -> Result<HandoverReceipt, ConnectorError> {
        <T as Handover>::hand_over(&Config::new(config), &date, shipments)
    }
}

impl<T: PickupPoints> pickup_guest::Guest for T {
    fn search_pickup_points(
        config: RawConfig,
        query: PickupQuery,
    ) -> Result<Vec<PickupLocation>, ConnectorError> {
        <T as PickupPoints>::search_pickup_points(&Config::new(config), query)
    }
}

impl<T: Services> services_guest::Guest for T {
    fn list_services(config: RawConfig) -> Result<Vec<Service>, ConnectorError> {
        <T as Services>::list_services(&Config::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Minimal;

    impl Cancellation for Minimal {
        fn cancel_shipments(
            _config: &Config,
            shipment_ids: Vec<String>,
        ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
            Ok(shipment_ids.iter().map(|_| Ok(())).collect())
        }
    }

    impl Tracking for Minimal {
        fn track(
            _config: &Config,
            _tracking_numbers: Vec<String>,
        ) -> Result<Vec<Result<TrackingResult, ConnectorError>>, ConnectorError> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn forwarding_and_counting() {
        assert_eq!(
            <Minimal as cancellation_guest::Guest>::cancel_shipments(
                Vec::new(),
                vec!["1".into(), "2".into()]
            ),
            Ok(vec![Ok(()), Ok(())])
        );
        let error =
            <Minimal as tracking_guest::Guest>::track(Vec::new(), vec!["1".into()]).unwrap_err();
        assert!(
            error.message.contains("0 results for 1"),
            "{}",
            error.message
        );
    }
}
