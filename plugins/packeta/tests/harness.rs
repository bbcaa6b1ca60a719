//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking XML to the fake Packeta
//! (`tovor-fakes`) on 127.0.0.1.
//!
//! Run with `cargo test -p packeta`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tovor_fakes::packeta::{API_PASSWORD, FakePacketa, HOME_CZ, POINT_CZ, POINT_SK};
use tovor_harness::model::{Address, PickupPoint};
use tovor_harness::model::{CashOnDelivery, Parcel, ShipmentRequest, ShipmentStatus};
use tovor_harness::{CallError, CarrierClient, TestHost};
use tovor_harness::{ConnectorError, Decimal, ErrorKind, datetime};

async fn connector(
    fake: &FakePacketa,
    password: &str,
) -> anyhow::Result<(TestHost, CarrierClient)> {
    let host = TestHost::new()?;
    let plugin = host.load_crate(env!("CARGO_MANIFEST_DIR")).await?;
    let carrier = host.carrier(
        plugin.id(),
        [
            ("api_password", password.to_owned()),
            ("eshop", "myshop.cz".to_owned()),
            ("home_delivery_carriers", format!("CZ:{HOME_CZ}")),
            ("api_base", fake.api_base()),
        ],
    )?;
    Ok((host, carrier))
}

fn connector_error(error: CallError) -> ConnectorError {
    match error {
        CallError::Connector { error, .. } => error,
        other => panic!("expected a connector error, got {other:?}"),
    }
}

fn recipient(country: &str) -> Address {
    Address {
        name: Some("Jana Nováková".into()),
        company: None,
        street: None,
        house_number: None,
        line1: Some("Na Příkopě 1234/5".into()),
        line2: None,
        city: Some("Praha".into()),
        postal_code: Some("110 00".into()),
        region: None,
        country: Some(country.into()),
        phone: Some("777 123 456".into()),
        email: Some("jana@example.test".into()),
    }
}

fn request(reference: &str, point: Option<&str>, cod: Option<(Decimal, &str)>) -> ShipmentRequest {
    ShipmentRequest {
        reference: reference.into(),
        sender: Address {
            name: Some("My Shop".into()),
            ..recipient("CZ")
        },
        recipient: recipient("CZ"),
        parcels: vec![Parcel {
            weight_grams: 1200,
            length_mm: None,
            width_mm: None,
            height_mm: None,
        }],
        cash_on_delivery: cod.map(|(amount, currency)| CashOnDelivery {
            amount,
            currency: currency.into(),
            reference: Some(reference.into()),
        }),
        pickup_point: point.map(|id| PickupPoint {
            carrier: Some("packeta".into()),
            id: id.into(),
            name: None,
        }),
        services: Vec::new(),
        value: Some(Decimal::from(729)),
        currency: Some("CZK".into()),
        note: None,
    }
}

#[tokio::test]
async fn create_label_track_cancel() -> anyhow::Result<()> {
    let fake = FakePacketa::start().await?;
    let (_host, carrier) = connector(&fake, API_PASSWORD).await?;

    let info = carrier.info().await?;
    assert_eq!(info.carrier, "Packeta");
    assert!(info.label_formats.contains(&"A6 on A4".to_owned()));
    assert!(info.cod_currencies.contains(&"CZK".to_owned()));

    let mut home = request("2026-00043", None, None);
    home.value = Some(Decimal::from(500));
    let created = carrier
        .create_shipments(&[
            request(
                "2026-00042",
                Some(POINT_CZ),
                Some((Decimal::from(729), "CZK")),
            ),
            home,
        ])
        .await?;
    assert_eq!(created.len(), 2);
    let first = created[0].as_ref().expect("pickup-point packet");
    let second = created[1].as_ref().expect("home-delivery packet");
    assert_eq!(first.reference, "2026-00042");
    assert_eq!(first.shipment_id, "1234567890");
    assert_eq!(first.tracking_numbers, ["Z1234567890"]);

    let stored = fake.packet(&first.shipment_id).unwrap();
    assert_eq!(stored.number, "2026-00042");
    assert_eq!(stored.attribute("addressId"), Some(POINT_CZ));
    assert_eq!(stored.attribute("cod"), Some("729"));
    assert_eq!(stored.attribute("currency"), Some("CZK"));
    assert_eq!(stored.attribute("phone"), Some("+420777123456"));
    assert_eq!(stored.attribute("weight"), Some("1.2"));
    assert_eq!(stored.attribute("eshop"), Some("myshop.cz"));
    let stored = fake.packet(&second.shipment_id).unwrap();
    assert_eq!(stored.attribute("addressId"), Some(HOME_CZ));
    assert_eq!(stored.attribute("street"), Some("Na Příkopě"));
    assert_eq!(stored.attribute("houseNumber"), Some("1234/5"));
    assert_eq!(stored.attribute("cod"), None);

    // Labels: one id → packetLabelPdf, two → packetsLabelsPdf.
    let label = carrier
        .get_labels(std::slice::from_ref(&first.shipment_id), Some("A6 on A6"))
        .await?;
    assert_eq!(label.content_type, "application/pdf");
    assert!(label.data.starts_with(b"%PDF"));
    let both = carrier
        .get_labels(
            &[first.shipment_id.clone(), second.shipment_id.clone()],
            None,
        )
        .await?;
    assert!(both.data.starts_with(b"%PDF"));
    assert_eq!(
        String::from_utf8_lossy(&both.data)
            .matches("/Type /Page ")
            .count(),
        2
    );
    let methods: Vec<String> = fake.requests();
    assert!(methods.iter().any(|r| r.ends_with(" packetLabelPdf")));
    assert!(methods.iter().any(|r| r.ends_with(" packetsLabelsPdf")));
    let error = connector_error(
        carrier
            .get_labels(std::slice::from_ref(&first.shipment_id), Some("10x15"))
            .await
            .unwrap_err(),
    );
    assert!(
        matches!(error, ref e @ ConnectorError { kind: ErrorKind::InvalidInput, .. } if e.field.as_deref() == Some("format"))
    );

    // Tracking, oldest first.
    assert!(fake.advance(&first.shipment_id, 2));
    assert!(fake.advance(&first.shipment_id, 5));
    let tracked = carrier
        .track(&[first.tracking_numbers[0].clone(), "Z999".to_owned()])
        .await?;
    let events = &tracked[0].as_ref().unwrap().events;
    let statuses: Vec<ShipmentStatus> = events.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [
            ShipmentStatus::Pending,
            ShipmentStatus::InTransit,
            ShipmentStatus::ReadyForPickup
        ]
    );
    assert_eq!(events[2].raw_code, "5");
    assert_eq!(events[2].raw_text, "ready for pickup");
    // The 0.1 adapter keeps the connector's offset: UTC means it wrote `Z` (or +00:00).
    assert!(events[0].at.offset().is_utc() && events[0].at <= events[2].at);
    assert!(matches!(
        tracked[1],
        Err(ConnectorError {
            kind: ErrorKind::NotFound,
            ..
        })
    ));

    // Cancel: the home-delivery packet still can be, the other has left.
    let cancelled = carrier
        .cancel(&[second.shipment_id.clone(), first.shipment_id.clone()])
        .await?;
    assert!(cancelled[0].is_ok(), "{cancelled:?}");
    assert!(matches!(
        cancelled[1],
        Err(ConnectorError {
            kind: ErrorKind::InvalidInput,
            ..
        })
    ));
    assert_eq!(fake.packet(&second.shipment_id).unwrap().status_code(), 11);

    // No lookup by our number.
    let error = connector_error(
        carrier
            .find_shipments("2026-00042", datetime!(2026-01-01 0:00 UTC))
            .await
            .unwrap_err(),
    );
    assert!(matches!(
        error,
        ConnectorError {
            kind: ErrorKind::Unsupported,
            ..
        }
    ));
    Ok(())
}

#[tokio::test]
async fn faults_with_http_200_and_partial_batches() -> anyhow::Result<()> {
    let fake = FakePacketa::start().await?;
    let (_host, carrier) = connector(&fake, API_PASSWORD).await?;

    // The second packet goes to a pickup point Packeta does not know: only it fails,
    // naming Packeta's field; the third is refused before any request (EUR COD in CZ).
    let created = carrier
        .create_shipments(&[
            request("A-1", Some(POINT_CZ), None),
            request("A-2", Some("424242"), None),
            request("A-3", Some(POINT_CZ), Some((Decimal::new(4990, 2), "EUR"))),
            request("A-4", Some(POINT_CZ), None),
        ])
        .await?;
    assert!(created[0].is_ok());
    match &created[1] {
        Err(
            error @ ConnectorError {
                kind: ErrorKind::InvalidInput,
                ..
            },
        ) => {
            assert_eq!(error.field.as_deref(), Some("pickup_point"));
            assert!(error.message.contains("Unknown pickup point"), "{error:?}");
        }
        other => panic!("unexpected {other:?}"),
    }
    match &created[2] {
        Err(
            error @ ConnectorError {
                kind: ErrorKind::InvalidInput,
                ..
            },
        ) => {
            assert_eq!(error.field.as_deref(), Some("cash_on_delivery.currency"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(created[3].is_ok());
    assert_eq!(fake.packets().len(), 2);
    assert_eq!(
        fake.requests()
            .iter()
            .filter(|r| r.ends_with(" createPacket"))
            .count(),
        3
    );

    // A SK pickup point with a CZK value: Packeta's own currency check, HTTP 200 fault.
    let mut wrong = request("A-5", Some(POINT_SK), None);
    wrong.recipient.country = None;
    let created = carrier.create_shipments(&[wrong]).await?;
    assert!(
        matches!(&created[0], Err(e @ ConnectorError { kind: ErrorKind::InvalidInput, .. }) if e.field.as_deref() == Some("currency")),
        "{created:?}"
    );

    // A wrong password fails the whole batch with `auth`.
    let (_host2, wrong_password) = connector(&fake, "0000000000000000000000000000000x").await?;
    let error = connector_error(
        wrong_password
            .create_shipments(&[request("B-1", Some(POINT_CZ), None)])
            .await
            .unwrap_err(),
    );
    assert!(
        matches!(
            error,
            ConnectorError {
                kind: ErrorKind::Auth,
                ..
            }
        ),
        "{error:?}"
    );
    let error = connector_error(
        wrong_password
            .track(&["Z1234567890".to_owned()])
            .await
            .unwrap_err(),
    );
    assert!(
        matches!(
            error,
            ConnectorError {
                kind: ErrorKind::Auth,
                ..
            }
        ),
        "{error:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_slow_create_times_out_as_transient() -> anyhow::Result<()> {
    let fake = FakePacketa::start().await?;
    let (_host, carrier) = connector(&fake, API_PASSWORD).await?;
    fake.set_slow(std::time::Duration::from_secs(40));
    let result = carrier
        .create_shipments(&[request("T-1", Some(POINT_CZ), None)])
        .await;
    // The plugin's 30 s call budget ends first: the host reports a timeout (or the
    // connector a transient failure), never a success.
    match result {
        Ok(results) => assert!(
            matches!(
                results[0],
                Err(ConnectorError {
                    kind: ErrorKind::Transient,
                    ..
                })
            ),
            "{results:?}"
        ),
        Err(error) => {
            let text = format!("{error:?}").to_lowercase();
            assert!(
                text.contains("time") || text.contains("transient"),
                "{error:?}"
            );
        }
    }
    Ok(())
}
