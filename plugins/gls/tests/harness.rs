//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking to the fake MyGLS service
//! (`tovor-fakes`) on 127.0.0.1, which checks the SHA-512 password bytes, validates
//! parcels and answers with per-method error lists on HTTP 200 as MyGLS does.
//!
//! Run with `cargo test -p gls`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use tovor_fakes::gls::{CLIENT_NUMBER, FakeGls, PASSWORD, USERNAME};
use tovor_harness::model::{Address, PickupPoint};
use tovor_harness::model::{CashOnDelivery, Parcel, ShipmentRequest, ShipmentStatus};
use tovor_harness::{CallError, CarrierClient, TestHost};
use tovor_harness::{ConnectorError, Decimal, ErrorKind, datetime};

async fn connector(
    fake: &FakeGls,
    extra: &[(&str, &str)],
) -> anyhow::Result<(TestHost, CarrierClient)> {
    let host = TestHost::new()?;
    let plugin = host.load_crate(env!("CARGO_MANIFEST_DIR")).await?;
    let mut config: Vec<(String, String)> = vec![
        ("username".into(), USERNAME.into()),
        ("password".into(), PASSWORD.into()),
        ("client_number".into(), CLIENT_NUMBER.to_string()),
        ("country".into(), "SI".into()),
        ("api_base".into(), fake.api_base()),
    ];
    for (name, value) in extra {
        config.retain(|(existing, _)| existing != name);
        config.push(((*name).into(), (*value).into()));
    }
    let carrier = host.carrier(plugin.id(), config)?;
    Ok((host, carrier))
}

fn connector_error(error: CallError) -> ConnectorError {
    match error {
        CallError::Connector { error, .. } => error,
        other => panic!("expected a connector error, got {other:?}"),
    }
}

fn address(name: &str, street: &str, number: &str, city: &str, zip: &str) -> Address {
    Address {
        name: Some(name.into()),
        company: None,
        street: Some(street.into()),
        house_number: Some(number.into()),
        line1: Some(format!("{street} {number}")),
        line2: None,
        city: Some(city.into()),
        postal_code: Some(zip.into()),
        region: None,
        country: Some("SI".into()),
        phone: Some("040 111 222".into()),
        email: Some("ana@example.si".into()),
    }
}

fn shipment(reference: &str) -> ShipmentRequest {
    let mut sender = address("Skladišče", "Dunajska cesta", "5", "Ljubljana", "1000");
    sender.company = Some("Trgovina d.o.o.".into());
    ShipmentRequest {
        reference: reference.into(),
        sender,
        recipient: address("Ana Novak", "Slovenska cesta", "12a", "Maribor", "2000"),
        parcels: vec![Parcel {
            weight_grams: 1200,
            length_mm: None,
            width_mm: None,
            height_mm: None,
        }],
        cash_on_delivery: None,
        pickup_point: None,
        services: vec![],
        value: None,
        currency: None,
        note: Some("Order 42".into()),
    }
}

#[tokio::test]
async fn creates_with_cod_and_parcel_shop_then_labels_tracks_finds_and_cancels()
-> anyhow::Result<()> {
    let fake = FakeGls::start().await?;
    let (_host, carrier) = connector(&fake, &[]).await?;

    let mut cod = shipment("2026-00042");
    cod.cash_on_delivery = Some(CashOnDelivery {
        amount: Decimal::new(4990, 2),
        currency: "EUR".into(),
        reference: None,
    });
    cod.services = vec!["FDS".into()];
    let mut shop = shipment("2026-00043");
    shop.pickup_point = Some(PickupPoint {
        carrier: Some("gls".into()),
        id: "1234-PARCELSHOP".into(),
        name: None,
    });
    shop.parcels.push(Parcel {
        weight_grams: 500,
        length_mm: None,
        width_mm: None,
        height_mm: None,
    });

    let results = carrier.create_shipments(&[cod, shop]).await?;
    let first = results[0].clone().unwrap();
    let second = results[1].clone().unwrap();
    assert_eq!(first.reference, "2026-00042");
    assert_eq!(first.tracking_numbers.len(), 1);
    let label = first.label.clone().unwrap();
    assert_eq!(label.content_type, "application/pdf");
    assert!(label.data.starts_with(b"%PDF"));
    assert_eq!(
        second.tracking_numbers.len(),
        2,
        "Count = 2 gives two parcel numbers"
    );
    assert_eq!(second.shipment_id.split(',').count(), 2);

    // What went over the wire: one PrintLabels per shipment, real field shapes.
    let bodies = fake.request_bodies();
    assert_eq!(bodies.iter().filter(|(m, _)| m == "PrintLabels").count(), 2);
    let body = &bodies[0].1;
    assert_eq!(body["Username"], USERNAME);
    assert_eq!(body["Password"].as_array().unwrap().len(), 64);
    assert_eq!(body["ClientNumberList"][0], CLIENT_NUMBER);
    let parcel = &body["ParcelList"][0];
    assert_eq!(parcel["CODAmount"], 49.9);
    assert_eq!(parcel["CODCurrency"], "EUR");
    assert_eq!(parcel["DeliveryAddress"]["HouseNumber"], "12");
    assert_eq!(parcel["DeliveryAddress"]["HouseNumberInfo"], "a");
    assert_eq!(parcel["DeliveryAddress"]["ContactPhone"], "+38640111222");
    let psd = &bodies[1].1["ParcelList"][0]["ServiceList"][0];
    assert_eq!(psd["Code"], "PSD");
    assert_eq!(psd["PSDParameter"]["StringValue"], "1234-PARCELSHOP");

    // Labels again, for both shipments, one page per parcel.
    let labels = carrier
        .get_labels(
            &[first.shipment_id.clone(), second.shipment_id.clone()],
            Some("A4_4x1"),
        )
        .await?;
    assert!(labels.data.starts_with(b"%PDF"));
    assert_eq!(
        String::from_utf8_lossy(&labels.data)
            .matches("/Type /Page ")
            .count(),
        3
    );
    let (_, printed) = fake
        .request_bodies()
        .into_iter()
        .rfind(|(m, _)| m == "GetPrintedLabels")
        .unwrap();
    assert_eq!(printed["TypeOfPrinter"], "A4_4x1");

    // Tracking, oldest first.
    let number: i64 = first.tracking_numbers[0].parse()?;
    assert!(fake.advance(number, "51"));
    assert!(fake.advance(number, "1"));
    assert!(fake.advance(number, "5"));
    let tracked = carrier
        .track(&[first.tracking_numbers[0].clone(), "1".into()])
        .await?;
    let events = &tracked[0].as_ref().unwrap().events;
    let statuses: Vec<ShipmentStatus> = events.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [
            ShipmentStatus::Pending,
            ShipmentStatus::PickedUp,
            ShipmentStatus::Delivered
        ]
    );
    assert_eq!(events[2].raw_code, "5");
    assert_eq!(events[2].location.as_deref(), Some("Ljubljana"));
    assert!(matches!(
        tracked[1],
        Err(ConnectorError {
            kind: ErrorKind::NotFound,
            ..
        })
    ));
    let (_, status_request) = fake
        .request_bodies()
        .into_iter()
        .rfind(|(m, _)| m == "GetParcelStatuses")
        .unwrap();
    assert_eq!(status_request["ReturnPOD"], false);
    assert_eq!(status_request["LanguageIsoCode"], "SL");

    // Find by reference.
    let found = carrier
        .find_shipments("2026-00043", datetime!(2020-01-01 0:00 UTC))
        .await?;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].shipment_id, second.shipment_id);
    assert_eq!(found[0].tracking_numbers, second.tracking_numbers);

    // Cancel: the scanned (delivered) one is refused, the other deleted with its pieces.
    let cancelled = carrier
        .cancel(&[second.shipment_id.clone(), first.shipment_id.clone()])
        .await?;
    assert!(cancelled[0].is_ok(), "{cancelled:?}");
    assert!(
        matches!(
            &cancelled[1],
            Err(ConnectorError {
                kind: ErrorKind::InvalidInput,
                ..
            })
        ),
        "{cancelled:?}"
    );
    assert!(fake.parcels().iter().filter(|p| p.deleted).count() == 2);
    let (_, delete) = fake
        .request_bodies()
        .into_iter()
        .rfind(|(m, _)| m == "DeleteLabels")
        .unwrap();
    assert!(delete.get("ClientNumberList").is_none());
    assert!(
        carrier
            .find_shipments("2026-00043", datetime!(2020-01-01 0:00 UTC))
            .await?
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn error_lists_on_http_200_become_typed_errors_per_shipment() -> anyhow::Result<()> {
    let fake = FakeGls::start().await?;
    let (_host, carrier) = connector(&fake, &[]).await?;
    let good = shipment("R-OK");
    let mut bad = shipment("R-BAD");
    bad.recipient.postal_code = Some("20".into());
    let results = carrier.create_shipments(&[good, bad]).await?;
    assert!(results[0].is_ok(), "{results:?}");
    match &results[1] {
        Err(
            error @ ConnectorError {
                kind: ErrorKind::InvalidInput,
                ..
            },
        ) => {
            assert_eq!(error.field.as_deref(), Some("recipient.postal-code"));
            assert!(error.message.contains("13"), "{}", error.message);
        }
        other => panic!("expected invalid-input, got {other:?}"),
    }
    assert_eq!(fake.parcels().len(), 1);
    Ok(())
}

#[tokio::test]
async fn wrong_password_is_auth() -> anyhow::Result<()> {
    let fake = FakeGls::start().await?;
    let (_host, carrier) = connector(&fake, &[("password", "nope")]).await?;
    let error = connector_error(
        carrier
            .create_shipments(&[shipment("R-1")])
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
    let error = connector_error(carrier.track(&["5000000001".into()]).await.unwrap_err());
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
    assert!(fake.parcels().is_empty());
    Ok(())
}

#[tokio::test]
async fn a_timed_out_create_is_reconciled_not_repeated() -> anyhow::Result<()> {
    let fake = FakeGls::start().await?;
    let (_host, carrier) = connector(&fake, &[("request_timeout_ms", "300")]).await?;
    fake.set_slow(Duration::from_millis(1500));
    let results = carrier
        .create_shipments(&[shipment("R-SLOW"), shipment("R-NEXT")])
        .await?;
    assert!(
        matches!(
            results[0],
            Err(ConnectorError {
                kind: ErrorKind::Transient,
                ..
            })
        ),
        "{results:?}"
    );
    assert!(
        matches!(
            results[1],
            Err(ConnectorError {
                kind: ErrorKind::Transient,
                ..
            })
        ),
        "{results:?}"
    );
    // One PrintLabels only: neither retried nor followed by the next shipment.
    let prints = fake
        .requests()
        .iter()
        .filter(|r| r.ends_with("/PrintLabels"))
        .count();
    assert_eq!(prints, 1);
    fake.set_slow(Duration::ZERO);
    let found = carrier
        .find_shipments("R-SLOW", datetime!(2020-01-01 0:00 UTC))
        .await?;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].tracking_numbers.len(), 1);
    assert_eq!(fake.parcels().len(), 1);
    Ok(())
}
