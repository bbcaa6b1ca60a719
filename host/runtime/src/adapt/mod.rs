//! Per contract version: the host imports and the conversions between that version's
//! generated types and the host's own ([`crate::model`]).

pub(crate) mod v0_1;
pub(crate) mod v0_2;

use rust_decimal::Decimal;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::model::ConvertError;

pub(crate) fn bad(field: &str, message: impl Into<String>) -> ConvertError {
    ConvertError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// A contract decimal (`"19.99"`) as an exact decimal.
pub(crate) fn decimal(field: &str, text: &str) -> Result<Decimal, ConvertError> {
    text.trim()
        .parse()
        .map_err(|_| bad(field, format!("{text:?} is not a decimal")))
}

pub(crate) fn optional_decimal(
    field: &str,
    text: Option<&str>,
) -> Result<Option<Decimal>, ConvertError> {
    text.map(|text| decimal(field, text)).transpose()
}

/// An exact decimal as the contract writes it: no exponent, no trailing zeros.
pub(crate) fn decimal_text(value: Decimal) -> String {
    value.normalize().to_string()
}

/// RFC 3339 text (contract 0.1's timestamps) as a time.
pub(crate) fn rfc3339(field: &str, text: &str) -> Result<OffsetDateTime, ConvertError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(|at| at.to_offset(time::UtcOffset::UTC))
        .map_err(|_| bad(field, format!("{text:?} is not an RFC 3339 time")))
}

/// RFC 3339 in UTC.
pub fn rfc3339_text(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// The `http` import's records of one contract version (`$http`, its module) to and from
/// the egress crate's, which every version's `send` goes through: `http_request` and
/// `http_outcome`.
macro_rules! http_shapes {
    ($http:ident) => {
        fn http_request(request: $http::Request) -> tovor_runtime_http::Request {
            tovor_runtime_http::Request {
                method: request.method,
                url: request.url,
                headers: request.headers,
                body: request.body,
                timeout_ms: request.timeout_ms,
            }
        }

        fn http_outcome(
            outcome: Result<tovor_runtime_http::Response, tovor_runtime_http::HttpError>,
        ) -> Result<$http::Response, $http::HttpError> {
            use tovor_runtime_http::HttpError as E;
            match outcome {
                Ok(response) => Ok($http::Response {
                    status: response.status,
                    headers: response.headers,
                    body: response.body,
                }),
                Err(E::Denied(reason)) => Err($http::HttpError::Denied(reason)),
                Err(E::InvalidRequest(reason)) => Err($http::HttpError::InvalidRequest(reason)),
                Err(E::Timeout) => Err($http::HttpError::Timeout),
                Err(E::Connection(reason)) => Err($http::HttpError::Connection(reason)),
                Err(E::ResponseTooLarge(limit)) => Err($http::HttpError::ResponseTooLarge(limit)),
                Err(E::RequestLimit(limit)) => Err($http::HttpError::RequestLimit(limit)),
            }
        }
    };
}
pub(crate) use http_shapes;

/// Conversions of the records every contract version spells the same way (field for
/// field), generated for one version's bindings: `$types` is its `types` module and
/// `$carrier` the module of its shipment types.
macro_rules! same_shape {
    ($types:ident, $carrier:ident) => {
        /// Per-item outcomes of a batch call, in the host's types (the version's own
        /// `error` converts the failures).
        pub(crate) fn outcomes<T, U>(
            outcomes: Vec<Result<T, $types::ConnectorError>>,
            convert: impl Fn(T) -> U,
        ) -> Vec<Result<U, crate::model::ConnectorError>> {
            outcomes
                .into_iter()
                .map(|outcome| outcome.map(&convert).map_err(error))
                .collect()
        }

        /// The connector's order in the host's types (the version's own `exact_order`),
        /// with characters no text column can hold taken out.
        pub(crate) fn order(
            order: &$types::Order,
        ) -> Result<tovor_domain::order::NormalizedOrder, crate::model::ConvertError> {
            let mut converted = exact_order(order)?;
            converted.strip_unstorable_text();
            Ok(converted)
        }

        fn payment_method(method: &$types::PaymentMethod) -> tovor_domain::order::PaymentMethod {
            tovor_domain::order::PaymentMethod {
                code: method.code.clone(),
                title: method.title.clone(),
            }
        }

        fn customer(customer: &$types::Customer) -> tovor_domain::order::Customer {
            tovor_domain::order::Customer {
                platform_id: customer.platform_id.clone(),
                email: customer.email.clone(),
                first_name: customer.first_name.clone(),
                last_name: customer.last_name.clone(),
                company: customer.company.clone(),
                vat_id: customer.vat_id.clone(),
                phone: customer.phone.clone(),
            }
        }

        fn pickup_point(point: &$types::PickupPoint) -> tovor_domain::order::PickupPoint {
            tovor_domain::order::PickupPoint {
                carrier: point.carrier.clone(),
                id: point.id.clone(),
                name: point.name.clone(),
            }
        }

        fn order_status(status: $types::OrderStatus) -> tovor_domain::order::OrderStatus {
            use tovor_domain::order::OrderStatus as D;
            use $types::OrderStatus as W;
            match status {
                W::Pending => D::Pending,
                W::Processing => D::Processing,
                W::OnHold => D::OnHold,
                W::Completed => D::Completed,
                W::Cancelled => D::Cancelled,
                W::Refunded => D::Refunded,
                W::Failed => D::Failed,
                W::Other => D::Other,
            }
        }

        fn payment_status(status: $types::PaymentStatus) -> tovor_domain::order::PaymentStatus {
            use tovor_domain::order::PaymentStatus as D;
            use $types::PaymentStatus as W;
            match status {
                W::Unpaid => D::Unpaid,
                W::Authorized => D::Authorized,
                W::Paid => D::Paid,
                W::PartiallyPaid => D::PartiallyPaid,
                W::PartiallyRefunded => D::PartiallyRefunded,
                W::Refunded => D::Refunded,
                W::Voided => D::Voided,
                W::Unknown => D::Unknown,
            }
        }

        fn address(address: &$types::Address) -> tovor_domain::order::Address {
            tovor_domain::order::Address {
                name: address.name.clone(),
                company: address.company.clone(),
                street: address.street.clone(),
                house_number: address.house_number.clone(),
                line1: address.line1.clone(),
                line2: address.line2.clone(),
                city: address.city.clone(),
                postal_code: address.postal_code.clone(),
                region: address.region.clone(),
                country: address.country.clone(),
                phone: address.phone.clone(),
                email: address.email.clone(),
            }
        }

        fn address_out(address: &tovor_domain::order::Address) -> $types::Address {
            $types::Address {
                name: address.name.clone(),
                company: address.company.clone(),
                street: address.street.clone(),
                house_number: address.house_number.clone(),
                line1: address.line1.clone(),
                line2: address.line2.clone(),
                city: address.city.clone(),
                postal_code: address.postal_code.clone(),
                region: address.region.clone(),
                country: address.country.clone(),
                phone: address.phone.clone(),
                email: address.email.clone(),
            }
        }

        fn charges(
            list: &str,
            lines: &[$types::ChargeLine],
        ) -> Result<Vec<tovor_domain::order::ChargeLine>, ConvertError> {
            lines
                .iter()
                .enumerate()
                .map(|(index, line)| {
                    let field = |name: &str| format!("{list}[{index}].{name}");
                    Ok(tovor_domain::order::ChargeLine {
                        platform_line_id: line.platform_line_id.clone(),
                        code: line.code.clone(),
                        title: line.title.clone(),
                        amount: decimal(&field("amount"), &line.amount)?,
                        tax_rate: optional_decimal(&field("tax_rate"), line.tax_rate.as_deref())?,
                        tax_amount: decimal(&field("tax_amount"), &line.tax_amount)?,
                    })
                })
                .collect()
        }

        fn shipment_status(
            status: $carrier::ShipmentStatus,
        ) -> tovor_domain::shipping::ShipmentStatus {
            use tovor_domain::shipping::ShipmentStatus as S;
            use $carrier::ShipmentStatus as W;
            match status {
                W::Pending => S::Pending,
                W::PickedUp => S::PickedUp,
                W::InTransit => S::InTransit,
                W::OutForDelivery => S::OutForDelivery,
                W::ReadyForPickup => S::ReadyForPickup,
                W::Delivered => S::Delivered,
                W::DeliveryFailed => S::DeliveryFailed,
                W::DeliveryDelayed => S::DeliveryDelayed,
                W::OnHold => S::OnHold,
                W::ReturnToSender => S::ReturnToSender,
                W::Cancelled => S::Cancelled,
                W::Unknown => S::Unknown,
            }
        }
    };
}
pub(crate) use same_shape;
