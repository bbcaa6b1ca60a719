//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking XML to the fake Packeta
//! (`tovor-fakes`) on 127.0.0.1.
//!
//! Run with `cargo test --workspace --features tovor/demo --test harness -- <filter>`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use tovor_fakes::packeta::{
    API_KEY, API_PASSWORD, BOX_CZ, FakePacketa, HOME_CZ, HOME_SK, POINT_CZ, POINT_CZ_VINOHRADY,
    POINT_SK,
};
use tovor_harness::connector_error;
use tovor_harness::model::{Address, Capability, PickupPoint, PickupQuery};
use tovor_harness::model::{CashOnDelivery, Parcel, ShipmentRequest, ShipmentStatus};
use tovor_harness::{CarrierClient, TestHost};
use tovor_harness::{ConnectorError, Decimal, ErrorKind, datetime};

async fn connector(
    fake: &FakePacketa,
    password: &str,
) -> anyhow::Result<(TestHost, CarrierClient)> {
    connector_with(fake, &[("api_password", password)]).await
}

/// A connector for the fake with the usual settings, `extra` replacing or adding some
/// (an empty value removes one).
async fn connector_with(
    fake: &FakePacketa,
    extra: &[(&str, &str)],
) -> anyhow::Result<(TestHost, CarrierClient)> {
    let host = TestHost::new()?;
    let plugin = host.load_crate(env!("CARGO_MANIFEST_DIR")).await?;
    let mut config: Vec<(String, String)> = vec![
        ("api_password".into(), API_PASSWORD.into()),
        ("eshop".into(), "myshop.cz".into()),
        ("home_delivery_carriers".into(), format!("CZ:{HOME_CZ}")),
        ("api_key".into(), API_KEY.into()),
        ("api_base".into(), fake.api_base()),
    ];
    for (name, value) in extra {
        config.retain(|(existing, _)| existing != name);
        if !value.is_empty() {
            config.push(((*name).into(), (*value).into()));
        }
    }
    let carrier = host.carrier(plugin.id(), config)?;
    Ok((host, carrier))
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
    assert_eq!(
        info.label_formats,
        ["A6 on A4", "A7 on A4", "105x35mm on A4", "A6 on A6"]
    );
    assert_eq!(info.cod_currencies, ["CZK", "EUR", "HUF", "PLN", "RON"]);
    assert_eq!(info.max_batch, 10);
    assert!(info.pickup_points);

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
    // Label printer paper is printed as A6 labels; A5 Packeta has not.
    let thermal = carrier
        .get_labels(std::slice::from_ref(&first.shipment_id), Some("10x15"))
        .await?;
    assert!(thermal.data.starts_with(b"%PDF"));
    let error = connector_error(
        carrier
            .get_labels(std::slice::from_ref(&first.shipment_id), Some("A5"))
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::Unsupported);

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
    let refused = cancelled[1].as_ref().unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Conflict);
    assert_eq!(
        refused.platform_code.as_deref(),
        Some("CancelNotAllowedFault")
    );
    assert_eq!(fake.packet(&second.shipment_id).unwrap().status_code(), 11);

    // No lookup by our number.
    assert!(!carrier.can(Capability::Lookup));
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
            assert_eq!(error.field.as_deref(), Some("pickup-point"));
            assert!(error.message.contains("Unknown pickup point"), "{error:?}");
            assert_eq!(
                error.platform_code.as_deref(),
                Some("PacketAttributesFault")
            );
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
            assert_eq!(error.field.as_deref(), Some("cash-on-delivery.currency"));
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

#[tokio::test]
async fn a_full_batch_goes_out_together() -> anyhow::Result<()> {
    let fake = FakePacketa::start().await?;
    let (_host, carrier) = connector(&fake, API_PASSWORD).await?;
    let max_batch = carrier.info().await?.max_batch;
    let mut batch: Vec<ShipmentRequest> = (0..max_batch)
        .map(|n| request(&format!("B-{n:02}"), Some(POINT_CZ), None))
        .collect();
    batch[3].services = vec!["adult-content".into()];
    // Each answer a little late, so the fake sees the calls overlap.
    fake.set_slow(Duration::from_millis(300));
    let created = carrier.create_shipments(&batch).await?;
    fake.set_slow(Duration::ZERO);
    assert_eq!(created.len(), batch.len());
    for (created, request) in created.iter().zip(&batch) {
        let created = created.as_ref().unwrap();
        assert_eq!(created.reference, request.reference);
        assert_eq!(
            fake.packet(&created.shipment_id).unwrap().number,
            request.reference
        );
    }
    let adult = created[3].as_ref().unwrap();
    assert_eq!(
        fake.packet(&adult.shipment_id)
            .unwrap()
            .attribute("adultContent"),
        Some("1")
    );
    assert!(
        fake.max_concurrent_requests() > 1,
        "createPacket calls go out together"
    );

    // A service Packeta does not have is refused before anything is sent.
    let mut odd = request("B-ODD", Some(POINT_CZ), None);
    odd.services = vec!["SAT".into()];
    let refused = carrier.create_shipments(&[odd]).await?;
    assert_eq!(
        refused[0].as_ref().unwrap_err().field.as_deref(),
        Some("services")
    );
    assert_eq!(fake.packets().len(), batch.len());
    Ok(())
}

#[tokio::test]
async fn tracks_several_packets_in_one_call_concurrently() -> anyhow::Result<()> {
    let fake = FakePacketa::start().await?;
    let (_host, carrier) = connector(&fake, API_PASSWORD).await?;
    let created = carrier
        .create_shipments(&[
            request("T-1", Some(POINT_CZ), None),
            request("T-2", Some(POINT_CZ), None),
            request("T-3", Some(POINT_CZ), None),
        ])
        .await?;
    let barcodes: Vec<String> = created
        .iter()
        .map(|c| c.as_ref().unwrap().tracking_numbers[0].clone())
        .collect();
    assert!(fake.advance(&barcodes[1], 2));
    assert!(fake.advance(&barcodes[2], 5));
    assert!(fake.advance(&barcodes[2], 7));
    let delay = Duration::from_millis(600);
    fake.set_slow_tracking(delay);
    let asked: Vec<String> = barcodes
        .iter()
        .cloned()
        .chain(["Z999".to_owned(), "nonsense".to_owned()])
        .collect();
    let started = Instant::now();
    let tracked = carrier.track(&asked).await?;
    let took = started.elapsed();
    let last = |index: usize| {
        let result = tracked[index].as_ref().unwrap();
        assert_eq!(result.tracking_number, asked[index]);
        result.events.last().map(|e| (e.status, e.raw_code.clone()))
    };
    assert_eq!(last(0), Some((ShipmentStatus::Pending, "1".to_owned())));
    assert_eq!(last(1), Some((ShipmentStatus::InTransit, "2".to_owned())));
    assert_eq!(last(2), Some((ShipmentStatus::Delivered, "7".to_owned())));
    let delivered = tracked[2].as_ref().unwrap().events.last().unwrap();
    assert_eq!(delivered.raw_text, "delivered");
    let unknown = tracked[3].as_ref().unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::NotFound);
    assert_eq!(unknown.platform_code.as_deref(), Some("PacketIdFault"));
    assert_eq!(
        tracked[4].as_ref().unwrap_err().field.as_deref(),
        Some("tracking-numbers")
    );
    // Four packetTracking calls went out together: one delay, not four.
    assert!(fake.max_concurrent_requests() >= 4);
    assert!(took < delay * 3, "took {took:?}");
    Ok(())
}

#[tokio::test]
async fn searches_pickup_points_in_the_feeds() -> anyhow::Result<()> {
    let fake = FakePacketa::start().await?;
    let (_host, carrier) = connector(&fake, API_PASSWORD).await?;
    let search = |country: &str, postal_code: Option<&str>, text: Option<&str>, limit: u32| {
        let query = PickupQuery {
            country: country.into(),
            postal_code: postal_code.map(Into::into),
            text: text.map(Into::into),
            limit,
        };
        let carrier = &carrier;
        async move { carrier.search_pickup_points(&query).await }
    };
    let ids = |found: &[tovor_harness::model::PickupLocation]| {
        found.iter().map(|p| p.id.clone()).collect::<Vec<_>>()
    };

    // Pickup points first, then lockers.
    let prague = search("CZ", None, Some("praha"), 10).await?;
    assert_eq!(ids(&prague), [POINT_CZ, POINT_CZ_VINOHRADY, BOX_CZ]);
    let point = &prague[0];
    assert_eq!(point.name, "Praha 1, Na Příkopě 15");
    assert_eq!(point.kind.as_deref(), Some("shop"));
    assert_eq!(point.address.street.as_deref(), Some("Na Příkopě 15"));
    assert_eq!(point.address.city.as_deref(), Some("Praha"));
    assert_eq!(point.address.postal_code.as_deref(), Some("110 00"));
    assert_eq!(point.address.country.as_deref(), Some("CZ"));
    assert_eq!(point.latitude.as_deref(), Some("50.0855"));
    assert_eq!(point.longitude.as_deref(), Some("14.4237"));
    assert!(point.opening_hours.is_some());
    assert_eq!(prague[2].kind.as_deref(), Some("locker"));

    assert_eq!(
        ids(&search("CZ", Some("12000"), None, 10).await?),
        [POINT_CZ_VINOHRADY, BOX_CZ]
    );
    assert_eq!(
        ids(&search("cz", None, Some("prikope"), 10).await?),
        [POINT_CZ]
    );
    assert_eq!(ids(&search("CZ", None, Some("z-box"), 10).await?), [BOX_CZ]);
    assert_eq!(
        ids(&search("CZ", None, None, 2).await?),
        [POINT_CZ, POINT_CZ_VINOHRADY]
    );
    assert_eq!(ids(&search("SK", None, None, 10).await?), [POINT_SK]);
    assert!(search("PL", None, None, 10).await?.is_empty());
    let feeds: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("GET /v5/"))
        .collect();
    assert!(feeds.contains(&format!("GET /v5/{API_KEY}/branch.json?lang=en")));
    assert!(feeds.contains(&format!("GET /v5/{API_KEY}/box.json?lang=en")));
    // A limit the branches fill leaves the lockers unread.
    let before = fake.requests().len();
    search("CZ", None, None, 1).await?;
    assert_eq!(fake.requests().len(), before + 1);

    // The feeds need the API key, a good one.
    let (_host, keyless) = connector_with(&fake, &[("api_key", "")]).await?;
    let error = connector_error(
        keyless
            .search_pickup_points(&PickupQuery {
                country: "CZ".into(),
                postal_code: None,
                text: None,
                limit: 5,
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (error.kind, error.field.as_deref()),
        (ErrorKind::InvalidInput, Some("api_key"))
    );
    let (_host, wrong_key) = connector_with(&fake, &[("api_key", "0000000000000000")]).await?;
    let error = connector_error(
        wrong_key
            .search_pickup_points(&PickupQuery {
                country: "CZ".into(),
                postal_code: None,
                text: None,
                limit: 5,
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::Auth);
    assert_eq!(error.field.as_deref(), Some("api_key"));
    assert_eq!(error.http_status, Some(401));
    Ok(())
}

#[tokio::test]
async fn services_are_the_home_delivery_carriers() -> anyhow::Result<()> {
    let fake = FakePacketa::start().await?;
    let (_host, carrier) = connector(&fake, API_PASSWORD).await?;
    let services = carrier.list_services().await?;
    let codes: Vec<&str> = services.iter().map(|s| s.code.as_str()).collect();
    let home_cz = format!("carrier:{HOME_CZ}");
    let home_sk = format!("carrier:{HOME_SK}");
    assert_eq!(codes, ["adult-content", home_cz.as_str(), home_sk.as_str()]);
    assert_eq!(services[1].name, "CZ Packeta Home HD");
    assert!(services.iter().all(|s| s.description.is_some()));

    // A listed carrier sends a packet home.
    let mut home = request("H-1", None, None);
    home.services = vec![home_sk.clone()];
    home.recipient.country = Some("SK".into());
    home.recipient.phone = Some("0905 123 456".into());
    home.value = Some(Decimal::from(20));
    home.currency = Some("EUR".into());
    let created = carrier.create_shipments(&[home]).await?;
    let packet = fake
        .packet(&created[0].as_ref().unwrap().shipment_id)
        .unwrap();
    assert_eq!(packet.attribute("addressId"), Some(HOME_SK));

    // Without the API key, the carriers of the settings.
    let (_host, keyless) = connector_with(&fake, &[("api_key", "")]).await?;
    let codes: Vec<String> = keyless
        .list_services()
        .await?
        .into_iter()
        .map(|s| s.code)
        .collect();
    assert_eq!(codes, ["adult-content".to_owned(), home_cz]);
    Ok(())
}

#[tokio::test]
async fn connection_check_names_what_to_fix() -> anyhow::Result<()> {
    let fake = FakePacketa::start().await?;
    let (_host, carrier) = connector(&fake, API_PASSWORD).await?;
    let info = carrier.check_connection().await?;
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    assert!(fake.requests().iter().any(|r| r.ends_with(" packetStatus")));

    let (_host, wrong) = connector(&fake, "0000000000000000000000000000000x").await?;
    let error = connector_error(wrong.check_connection().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Auth);
    assert_eq!(error.field.as_deref(), Some("api_password"));
    assert_eq!(
        error.platform_code.as_deref(),
        Some("IncorrectApiPasswordFault")
    );
    assert_eq!(error.http_status, Some(200));

    // The password works but the key does not: connected, with a warning.
    let (_host, wrong_key) = connector_with(&fake, &[("api_key", "0000000000000000")]).await?;
    let info = wrong_key.check_connection().await?;
    assert_eq!(info.warnings.len(), 1);
    assert!(info.warnings[0].contains("API key"), "{:?}", info.warnings);
    let (_host, keyless) = connector_with(&fake, &[("api_key", "")]).await?;
    assert_eq!(keyless.check_connection().await?.warnings.len(), 1);

    // An endpoint that is not Packeta's.
    let elsewhere = fake.api_base().replace("/api/rest", "/somewhere-else");
    let (_host, lost) = connector_with(&fake, &[("api_base", elsewhere.as_str())]).await?;
    let error = connector_error(lost.check_connection().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert_eq!(error.field.as_deref(), Some("api_base"));
    assert_eq!(error.http_status, Some(404));
    Ok(())
}
