//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking to the fake MyGLS service
//! (`tovor-fakes`) on 127.0.0.1, which checks the SHA-512 password bytes, validates
//! parcels and answers with per-method error lists on HTTP 200 as MyGLS does.
//!
//! Run with `cargo test --workspace --features tovor/demo --test harness -- <filter>`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use tovor_fakes::gls::{CLIENT_NUMBER, FakeGls, PASSWORD, USERNAME};
use tovor_harness::connector_error;
use tovor_harness::model::{Address, Capability, PickupPoint, PickupQuery};
use tovor_harness::model::{CashOnDelivery, Parcel, ShipmentRequest, ShipmentStatus};
use tovor_harness::{CarrierClient, TestHost};
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
    let prints: Vec<&serde_json::Value> = bodies
        .iter()
        .filter(|(m, _)| m == "PrintLabels")
        .map(|(_, body)| body)
        .collect();
    assert_eq!(prints.len(), 2);
    // Sent together, so in either order.
    let print_of = |reference: &str| {
        *prints
            .iter()
            .find(|body| body["ParcelList"][0]["ClientReference"] == reference)
            .unwrap()
    };
    let body = print_of("2026-00042");
    assert_eq!(body["Username"], USERNAME);
    assert_eq!(body["Password"].as_array().unwrap().len(), 64);
    assert_eq!(body["ClientNumberList"][0], CLIENT_NUMBER);
    let parcel = &body["ParcelList"][0];
    assert_eq!(parcel["CODAmount"], 49.9);
    assert_eq!(parcel["CODCurrency"], "EUR");
    assert_eq!(parcel["DeliveryAddress"]["HouseNumber"], "12");
    assert_eq!(parcel["DeliveryAddress"]["HouseNumberInfo"], "a");
    assert_eq!(parcel["DeliveryAddress"]["ContactPhone"], "+38640111222");
    let psd = &print_of("2026-00043")["ParcelList"][0]["ServiceList"][0];
    assert_eq!(psd["Code"], "PSD");
    assert_eq!(psd["PSDParameter"]["StringValue"], "1234-PARCELSHOP");

    // Labels again, for both shipments, one page per parcel: the carrier's name for a
    // layout reaches the connector as its paper, A4, printed in the account's A4 layout.
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
    assert_eq!(printed["TypeOfPrinter"], "A4_2x2");

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
    match &cancelled[1] {
        Err(error) => {
            assert_eq!(error.kind, ErrorKind::Conflict, "{error:?}");
            assert_eq!(error.platform_code.as_deref(), Some("6"));
            assert_eq!(error.http_status, Some(200));
        }
        Ok(()) => panic!("a scanned parcel was cancelled"),
    }
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
            assert_eq!(error.platform_code.as_deref(), Some("13"));
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
    for result in &results {
        assert!(
            matches!(
                result,
                Err(ConnectorError {
                    kind: ErrorKind::Transient,
                    ..
                })
            ),
            "{results:?}"
        );
    }
    // One PrintLabels per shipment, sent together, neither retried.
    let prints = fake
        .requests()
        .iter()
        .filter(|r| r.ends_with("/PrintLabels"))
        .count();
    assert_eq!(prints, 2);
    fake.set_slow(Duration::ZERO);
    for reference in ["R-SLOW", "R-NEXT"] {
        let found = carrier
            .find_shipments(reference, datetime!(2020-01-01 0:00 UTC))
            .await?;
        assert_eq!(found.len(), 1, "{reference}");
        assert_eq!(found[0].tracking_numbers.len(), 1);
    }
    assert_eq!(fake.parcels().len(), 2);
    Ok(())
}

#[tokio::test]
async fn facts_batches_and_services() -> anyhow::Result<()> {
    let fake = FakeGls::start().await?;
    let (_host, carrier) = connector(&fake, &[]).await?;
    let info = carrier.info().await?;
    assert_eq!(info.carrier, "GLS");
    assert_eq!(info.max_batch, 20);
    assert_eq!(info.cod_currencies, ["CZK", "EUR", "HUF", "RON", "RSD"]);
    assert_eq!(info.label_formats[0], "A4_2x2");
    for format in [
        "A4_4x1",
        "Thermo",
        "Connect",
        "ThermoZPL",
        "ThermoZPL_300DPI",
    ] {
        assert!(info.label_formats.iter().any(|f| f == format), "{format}");
    }
    // No ParcelShop search in the MyGLS API (delivery to a ParcelShop works: PSD).
    assert!(!carrier.can(Capability::PickupPoints));
    let error = connector_error(
        carrier
            .search_pickup_points(&PickupQuery {
                country: "SI".into(),
                postal_code: Some("1000".into()),
                text: None,
                limit: 5,
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::Unsupported);

    // A batch of the largest size: one PrintLabels each, all in one call, sent together
    // (each answer a little late, so the fake sees them overlap).
    fake.set_slow(Duration::from_millis(300));
    let batch: Vec<ShipmentRequest> = (0..info.max_batch)
        .map(|n| shipment(&format!("B-{n:02}")))
        .collect();
    let results = carrier.create_shipments(&batch).await?;
    assert_eq!(results.len(), batch.len());
    for (result, request) in results.iter().zip(&batch) {
        assert_eq!(result.as_ref().unwrap().reference, request.reference);
    }
    assert_eq!(fake.parcels().len(), batch.len());
    assert!(
        fake.max_concurrent_requests() > 1,
        "the PrintLabels calls of a batch go out together"
    );
    fake.set_slow(Duration::ZERO);

    let services = carrier.list_services().await?;
    for code in ["FDS", "FSS", "SM2", "COD", "PSD", "SAT", "SRS"] {
        let service = services.iter().find(|s| s.code == code);
        assert!(
            service.is_some_and(|s| !s.name.is_empty() && s.description.is_some()),
            "{code}: {services:?}"
        );
    }
    // The Shop Return Service is Hungarian and Slovenian only.
    let (_host, croatian) = connector(&fake, &[("country", "HR")]).await?;
    assert!(
        !croatian
            .list_services()
            .await?
            .iter()
            .any(|s| s.code == "SRS")
    );
    Ok(())
}

#[tokio::test]
async fn labels_follow_the_paper_and_the_printer_setting() -> anyhow::Result<()> {
    let fake = FakeGls::start().await?;
    let (_host, carrier) = connector(&fake, &[("printer_type", "A4_4x1")]).await?;
    let created = carrier.create_shipments(&[shipment("L-1")]).await?;
    let created = created[0].clone().unwrap();
    let printed_as = |fake: &FakeGls| {
        fake.request_bodies()
            .into_iter()
            .rfind(|(m, _)| m == "GetPrintedLabels" || m == "PrintLabels")
            .map(|(_, body)| body["TypeOfPrinter"].as_str().unwrap_or("").to_owned())
            .unwrap()
    };
    assert_eq!(
        printed_as(&fake),
        "A4_4x1",
        "created in the account's layout"
    );
    let ids = std::slice::from_ref(&created.shipment_id);

    // A4 asked, with or without a name: the account's A4 layout.
    for asked in [None, Some("A4"), Some("A4_2x2")] {
        let label = carrier.get_labels(ids, asked).await?;
        assert_eq!(label.content_type, "application/pdf");
        assert_eq!(printed_as(&fake), "A4_4x1", "{asked:?}");
    }
    // Thermal paper: GLS's thermal layout.
    for asked in ["Thermo", "100x150", "A6"] {
        let label = carrier.get_labels(ids, Some(asked)).await?;
        assert!(label.data.starts_with(b"%PDF"));
        assert_eq!(printed_as(&fake), "Thermo", "{asked}");
    }
    // ZPL when the account prints ZPL on its thermal printer.
    let (_host, zpl) = connector(&fake, &[("printer_type", "ThermoZPL")]).await?;
    let label = zpl.get_labels(ids, Some("100x150")).await?;
    assert_eq!(label.content_type, "application/zpl");
    assert!(label.data.starts_with(b"^XA"));
    // Paper GLS does not print on.
    let error = connector_error(carrier.get_labels(ids, Some("A5")).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Unsupported);
    Ok(())
}

#[tokio::test]
async fn tracks_several_parcels_in_one_call_concurrently() -> anyhow::Result<()> {
    let fake = FakeGls::start().await?;
    let (_host, carrier) = connector(&fake, &[]).await?;
    let created = carrier
        .create_shipments(&[shipment("T-1"), shipment("T-2"), shipment("T-3")])
        .await?;
    let numbers: Vec<String> = created
        .iter()
        .map(|c| c.as_ref().unwrap().tracking_numbers[0].clone())
        .collect();
    for (number, codes) in numbers
        .iter()
        .zip([&["51"][..], &["51", "1"], &["51", "1", "5"]])
    {
        for code in codes {
            assert!(fake.advance(number.parse()?, code));
        }
    }
    let delay = Duration::from_millis(600);
    fake.set_slow_tracking(delay);
    let asked: Vec<String> = numbers
        .iter()
        .cloned()
        .chain(["12345".to_owned(), "not-a-number".to_owned()])
        .collect();
    let started = Instant::now();
    let tracked = carrier.track(&asked).await?;
    let took = started.elapsed();
    assert_eq!(tracked.len(), 5);
    let last_status = |index: usize| {
        tracked[index]
            .as_ref()
            .unwrap()
            .events
            .last()
            .map(|e| e.status)
    };
    assert_eq!(tracked[0].as_ref().unwrap().tracking_number, numbers[0]);
    assert_eq!(last_status(0), Some(ShipmentStatus::Pending));
    assert_eq!(last_status(1), Some(ShipmentStatus::PickedUp));
    assert_eq!(last_status(2), Some(ShipmentStatus::Delivered));
    let delivered = tracked[2].as_ref().unwrap().events.last().unwrap();
    assert_eq!(delivered.raw_code, "5");
    assert!(!delivered.raw_text.is_empty());
    let unknown = tracked[3].as_ref().unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::NotFound);
    assert_eq!(unknown.platform_code.as_deref(), Some("9"));
    assert_eq!(
        tracked[4].as_ref().unwrap_err().field.as_deref(),
        Some("tracking-numbers")
    );
    // Four GetParcelStatuses calls went out together: one delay, not four.
    assert!(fake.max_concurrent_requests() >= 4);
    assert!(took < delay * 3, "took {took:?}");
    Ok(())
}

#[tokio::test]
async fn connection_check_names_what_to_fix() -> anyhow::Result<()> {
    let fake = FakeGls::start().await?;
    let (_host, carrier) = connector(&fake, &[]).await?;
    let info = carrier.check_connection().await?;
    let account = info.account.unwrap();
    assert!(
        account.contains(USERNAME) && account.contains(&CLIENT_NUMBER.to_string()),
        "{account}"
    );
    assert!(info.warnings.is_empty());
    let (_, checked) = fake.request_bodies().pop().unwrap();
    assert_eq!(checked["ClientNumberList"][0], CLIENT_NUMBER);

    let refused = |setting: &'static str, value: &'static str| {
        let fake = fake.clone();
        async move {
            let (_host, carrier) = connector(&fake, &[(setting, value)]).await?;
            anyhow::Ok(connector_error(
                carrier.check_connection().await.unwrap_err(),
            ))
        }
    };
    let error = refused("password", "wrong").await?;
    assert_eq!(error.kind, ErrorKind::Auth);
    assert_eq!(error.field.as_deref(), Some("password"));
    assert_eq!(error.platform_code.as_deref(), Some("-1"));
    let error = refused("username", "someone@else.si").await?;
    assert_eq!(error.kind, ErrorKind::Auth);
    let error = refused("client_number", "42").await?;
    assert_eq!(error.kind, ErrorKind::Auth);
    assert_eq!(error.field.as_deref(), Some("client_number"));
    assert_eq!(error.platform_code.as_deref(), Some("27"));

    // An address that is not MyGLS: 404 for its paths.
    let wrong_base = format!("{}/somewhere-else", fake.api_base());
    let (_host, lost) = connector(&fake, &[("api_base", wrong_base.as_str())]).await?;
    let error = connector_error(lost.check_connection().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert_eq!(error.field.as_deref(), Some("api_base"));
    assert_eq!(error.http_status, Some(404));
    assert!(error.message.contains("MyGLS"), "{}", error.message);
    Ok(())
}
