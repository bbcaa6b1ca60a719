//! Carrier connectors: the [`Carrier`] trait and the types of the `carrier` world.
//!
//! Implement [`Carrier`] for a unit struct and export it with
//! [`export_carrier!`](crate::export_carrier). Only [`Carrier::describe`] is required;
//! every other operation answers `unsupported` until you implement it.

use crate::Config;
use crate::bindings::carrier::exports::tovor::connector::carrier_connector as guest;
use crate::types::ConnectorError;

pub use crate::types::PickupPoint;
pub use guest::{
    CarrierCapabilities, CarrierInfo, CashOnDelivery, CreatedShipment, Label, Parcel,
    ShipmentRequest, ShipmentStatus, TrackingEvent, TrackingResult,
};

/// A parcel carrier connector. Methods are static (no `self`): a connector keeps no
/// state between calls, everything it needs arrives in [`Config`] and the arguments.
pub trait Carrier {
    /// The carrier's name, label formats and capabilities. Called once at load.
    fn describe() -> CarrierInfo;

    /// Creates shipments: one result per request, in the same order. The outer error
    /// fails the whole batch (bad credentials, carrier down).
    fn create_shipments(
        config: &Config,
        requests: Vec<ShipmentRequest>,
    ) -> Result<Vec<Result<CreatedShipment, ConnectorError>>, ConnectorError> {
        let _ = (config, requests);
        Err(ConnectorError::unsupported("create-shipments"))
    }

    /// Labels for the given shipments as one document, in `format` (one of
    /// [`CarrierInfo::label_formats`]) or the carrier's default.
    fn get_labels(
        config: &Config,
        shipment_ids: Vec<String>,
        format: Option<String>,
    ) -> Result<Label, ConnectorError> {
        let _ = (config, shipment_ids, format);
        Err(ConnectorError::unsupported("get-labels"))
    }

    /// Events per tracking number, oldest first: one result per number, in the same order.
    fn track(
        config: &Config,
        tracking_numbers: Vec<String>,
    ) -> Result<Vec<Result<TrackingResult, ConnectorError>>, ConnectorError> {
        let _ = (config, tracking_numbers);
        Err(ConnectorError::unsupported("track"))
    }

    /// Cancels shipments: one result per shipment id, in the same order.
    fn cancel(
        config: &Config,
        shipment_ids: Vec<String>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let _ = (config, shipment_ids);
        Err(ConnectorError::unsupported("cancel"))
    }

    /// Shipments created since `created_since` (RFC 3339, UTC) carrying `reference`, so a
    /// create call that timed out can be reconciled instead of repeated.
    fn find_shipments(
        config: &Config,
        reference: String,
        created_since: String,
    ) -> Result<Vec<CreatedShipment>, ConnectorError> {
        let _ = (config, reference, created_since);
        Err(ConnectorError::unsupported("find-shipments"))
    }
}

/// The hidden raw trait, implemented for every [`Carrier`]: the export macro needs
/// nothing more than this.
impl<T: Carrier> guest::Guest for T {
    fn describe() -> CarrierInfo {
        <T as Carrier>::describe()
    }

    fn create_shipments(
        config: Vec<(String, String)>,
        requests: Vec<ShipmentRequest>,
    ) -> Result<Vec<Result<CreatedShipment, ConnectorError>>, ConnectorError> {
        let expected = requests.len();
        let results = <T as Carrier>::create_shipments(&Config::new(config), requests)?;
        crate::check_count("create-shipments", expected, results)
    }

    fn get_labels(
        config: Vec<(String, String)>,
        shipment_ids: Vec<String>,
        format: Option<String>,
    ) -> Result<Label, ConnectorError> {
        <T as Carrier>::get_labels(&Config::new(config), shipment_ids, format)
    }

    fn track(
        config: Vec<(String, String)>,
        tracking_numbers: Vec<String>,
    ) -> Result<Vec<Result<TrackingResult, ConnectorError>>, ConnectorError> {
        let expected = tracking_numbers.len();
        let results = <T as Carrier>::track(&Config::new(config), tracking_numbers)?;
        crate::check_count("track", expected, results)
    }

    fn cancel(
        config: Vec<(String, String)>,
        shipment_ids: Vec<String>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let expected = shipment_ids.len();
        let results = <T as Carrier>::cancel(&Config::new(config), shipment_ids)?;
        crate::check_count("cancel", expected, results)
    }

    fn find_shipments(
        config: Vec<(String, String)>,
        reference: String,
        created_since: String,
    ) -> Result<Vec<CreatedShipment>, ConnectorError> {
        <T as Carrier>::find_shipments(&Config::new(config), reference, created_since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Minimal;

    impl Carrier for Minimal {
        fn describe() -> CarrierInfo {
            CarrierInfo {
                carrier: "Minimal".into(),
                label_formats: vec!["A6".into()],
                cod_currencies: Vec::new(),
                capabilities: CarrierCapabilities::CANCEL,
            }
        }

        fn cancel(
            _config: &Config,
            shipment_ids: Vec<String>,
        ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
            Ok(shipment_ids.iter().map(|_| Ok(())).collect())
        }
    }

    #[test]
    fn defaults_and_forwarding() {
        assert_eq!(<Minimal as guest::Guest>::describe().carrier, "Minimal");
        assert!(matches!(
            <Minimal as guest::Guest>::track(Vec::new(), vec!["1".into()]),
            Err(ConnectorError::Unsupported(_))
        ));
        assert_eq!(
            <Minimal as guest::Guest>::cancel(Vec::new(), vec!["1".into(), "2".into()]),
            Ok(vec![Ok(()), Ok(())])
        );
    }
}
