//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking to the fake DPD EasyShip
//! (`tovor-fakes`) on 127.0.0.1, which takes every parameter in the query string,
//! validates parcels, answers business errors with HTTP 200 and prints a label once.
//!
//! Run with `cargo test --workspace --features tovor/demo --test harness -- dpd_`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use tovor_fakes::dpd::{self, FakeDpd, PASSWORD, TRACKING_SECRET, USERNAME};
use tovor_harness::model::{
    Address, CashOnDelivery, HandoverShipment, Parcel, PickupPoint, ShipmentRequest, ShipmentStatus,
};
use tovor_harness::{CarrierClient, TestHost, connector_error};
use tovor_harness::{ConnectorError, Decimal, ErrorKind};

async fn connector(
    fake: &FakeDpd,
    extra: &[(&str, &str)],
) -> anyhow::Result<(TestHost, CarrierClient)> {
    let host = TestHost::new()?;
    let plugin = host.load_crate(env!("CARGO_MANIFEST_DIR")).await?;
    let mut config: Vec<(String, String)> = vec![
        ("username".into(), USERNAME.into()),
        ("password".into(), PASSWORD.into()),
        ("country".into(), "SI".into()),
        ("tracking_secret".into(), TRACKING_SECRET.into()),
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

fn address(name: &str, line: &str, city: &str, zip: &str) -> Address {
    Address {
        name: Some(name.into()),
        line1: Some(line.into()),
        city: Some(city.into()),
        postal_code: Some(zip.into()),
        country: Some("SI".into()),
        phone: Some("+38640111222".into()),
        email: Some("ana@example.si".into()),
        ..Address::default()
    }
}

fn parcel(grams: u32) -> Parcel {
    Parcel {
        weight_grams: grams,
        length_mm: None,
        width_mm: None,
        height_mm: None,
    }
}

fn shipment(reference: &str) -> ShipmentRequest {
    let mut sender = address("Skladišče", "Dunajska cesta 5", "Ljubljana", "1000");
    sender.company = Some("Trgovina d.o.o.".into());
    ShipmentRequest {
        reference: reference.into(),
        sender,
        recipient: address("Ana Novak", "Slovenska cesta 12a", "Maribor", "2000"),
        parcels: vec![parcel(1200)],
        cash_on_delivery: None,
        pickup_point: None,
        services: vec![],
        value: None,
        currency: None,
        note: Some("Pokličite pred dostavo".into()),
    }
}

fn cod(amount: Decimal, currency: &str) -> Option<CashOnDelivery> {
    Some(CashOnDelivery {
        amount,
        currency: currency.into(),
        reference: None,
    })
}

fn pages(pdf: &[u8]) -> usize {
    assert!(pdf.starts_with(b"%PDF"));
    String::from_utf8_lossy(pdf).matches("/Type /Page ").count()
}

fn kind<T: std::fmt::Debug>(result: &Result<T, ConnectorError>) -> ErrorKind {
    match result {
        Err(error) => error.kind,
        Ok(value) => panic!("expected an error, got {value:?}"),
    }
}

#[tokio::test]
async fn dpd_imports_parcels_as_easyship_wants_them_and_prints_once() -> anyhow::Result<()> {
    let fake = FakeDpd::start().await?;
    let (_host, carrier) = connector(&fake, &[]).await?;

    let mut home_cod = shipment("2026-00042");
    home_cod.cash_on_delivery = cod(Decimal::new(4990, 2), "EUR");
    home_cod.parcels = vec![parcel(1000), parcel(750)];
    let mut company = shipment("2026-00043");
    company.recipient.company = Some("Podjetje d.o.o.".into());
    company.cash_on_delivery = cod(Decimal::new(120, 0), "EUR");
    let mut shop = shipment("2026-00044");
    shop.pickup_point = Some(PickupPoint {
        carrier: Some("dpd".into()),
        id: "SI20001".into(),
        name: None,
    });
    let plain = shipment("2026-00045");

    let results = carrier
        .create_shipments(&[home_cod, company, shop, plain])
        .await?;
    let created: Vec<_> = results
        .iter()
        .map(|result| result.clone().unwrap())
        .collect();
    assert_eq!(
        created[0].tracking_numbers.len(),
        2,
        "one number per parcel"
    );
    assert_eq!(
        created[0].shipment_id,
        created[0].tracking_numbers.join(","),
        "the shipment id carries every parcel number"
    );
    assert!(created[0].label.is_none(), "labels are printed on request");
    for number in created.iter().flat_map(|c| &c.tracking_numbers) {
        assert_eq!(number.len(), 14, "{number}");
    }

    // What EasyShip received: POSTs with empty bodies, everything in the query.
    let imports = fake.requests_to("parcel_import");
    assert_eq!(imports.len(), 4, "one import per shipment");
    assert!(
        imports
            .iter()
            .all(|r| r.method == "POST" && r.body_len == 0)
    );
    let import_of = |reference: &str| {
        imports
            .iter()
            .find(|r| r.param("order_number") == Some(reference))
            .unwrap()
            .clone()
    };
    let sent = import_of("2026-00042");
    assert_eq!(sent.param("username"), Some(USERNAME));
    assert_eq!(sent.param("password"), Some(PASSWORD));
    assert_eq!(sent.param("name1"), Some("Ana Novak"));
    assert_eq!(sent.param("street"), Some("Slovenska cesta"));
    assert_eq!(sent.param("rPropNum"), Some("12a"));
    assert_eq!(sent.param("city"), Some("Maribor"));
    assert_eq!(sent.param("country"), Some("SI"));
    assert_eq!(sent.param("pcode"), Some("2000"));
    assert_eq!(sent.param("parcel_type"), Some("D-COD-B2C"));
    assert_eq!(sent.param("num_of_parcel"), Some("2"));
    assert_eq!(sent.param("cod_amount"), Some("49.90"));
    assert_eq!(sent.param("cod_purpose"), Some("2026-00042"));
    assert_eq!(sent.param("parcel_cod_type"), Some("firstonly"));
    assert_eq!(sent.param("weight"), Some("1.750"));
    assert_eq!(sent.param("predict"), Some("1"));
    assert_eq!(sent.param("email"), Some("ana@example.si"));
    assert_eq!(sent.param("phone"), Some("+38640111222"));
    assert_eq!(sent.param("sender_name"), Some("Trgovina d.o.o."));
    assert_eq!(sent.param("sender_street"), Some("Dunajska cesta 5"));
    assert_eq!(sent.param("sender_remark"), Some("Pokličite pred dostavo"));
    let business = import_of("2026-00043");
    assert_eq!(business.param("parcel_type"), Some("D-COD"));
    assert_eq!(business.param("name1"), Some("Podjetje d.o.o."));
    assert_eq!(business.param("name2"), Some("Ana Novak"));
    assert_eq!(business.param("cod_amount"), Some("120.00"));
    assert_eq!(business.param("predict"), None);
    let to_shop = import_of("2026-00044");
    assert_eq!(to_shop.param("parcel_type"), Some("D-B2C-PSD"));
    assert_eq!(to_shop.param("pudo_id"), Some("SI20001"));
    assert_eq!(import_of("2026-00045").param("parcel_type"), Some("D-B2C"));

    // Labels: one PDF for two shipments, a page per parcel; then never again.
    let ids = [
        created[0].shipment_id.clone(),
        created[3].shipment_id.clone(),
    ];
    let label = carrier.get_labels(&ids, None).await?;
    assert_eq!(label.content_type, "application/pdf");
    assert_eq!(pages(&label.data), 3);
    let print = fake.requests_to("parcel_print");
    assert_eq!(
        print[0].param("parcels").unwrap().split(',').count(),
        3,
        "all parcel numbers in one call"
    );
    let again = connector_error(carrier.get_labels(&ids[..1], Some("A4")).await.unwrap_err());
    assert_eq!(again.kind, ErrorKind::Conflict, "{again:?}");
    assert!(again.message.contains("only once"), "{}", again.message);
    assert_eq!(
        fake.parcels().iter().map(|p| p.prints).max(),
        Some(1),
        "no parcel printed twice"
    );
    Ok(())
}

#[tokio::test]
async fn dpd_business_errors_come_typed_per_shipment() -> anyhow::Result<()> {
    let fake = FakeDpd::start().await?;
    let (_host, carrier) = connector(&fake, &[]).await?;
    let good = shipment("E-OK");
    let mut bad_zip = shipment("E-ZIP");
    bad_zip.recipient.postal_code = Some("20".into());
    let mut dollars = shipment("E-USD");
    dollars.cash_on_delivery = cod(Decimal::new(4990, 2), "USD");
    let mut cents = shipment("E-CENTS");
    cents.cash_on_delivery = cod(Decimal::new(49_905, 3), "EUR");
    let mut croatia = shipment("E-HR");
    croatia.recipient.country = Some("HR".into());
    croatia.recipient.postal_code = Some("10000".into());
    croatia.cash_on_delivery = cod(Decimal::new(1500, 2), "EUR");

    let results = carrier
        .create_shipments(&[good, bad_zip, dollars, cents, croatia])
        .await?;
    assert!(results[0].is_ok(), "{results:?}");
    // EasyShip's HTTP-200 refusal, naming the parameter.
    let zip = results[1].as_ref().unwrap_err();
    assert_eq!(zip.kind, ErrorKind::InvalidInput);
    assert_eq!(zip.field.as_deref(), Some("recipient.postal-code"));
    assert_eq!(zip.http_status, Some(200));
    assert!(zip.message.contains("pcode"), "{}", zip.message);
    // Refused before asking DPD.
    let currency = results[2].as_ref().unwrap_err();
    assert_eq!(currency.field.as_deref(), Some("cash-on-delivery.currency"));
    assert!(currency.message.contains("EUR"), "{}", currency.message);
    assert_eq!(
        results[3].as_ref().unwrap_err().field.as_deref(),
        Some("cash-on-delivery.amount")
    );
    assert!(results[4].is_ok(), "{results:?}");
    assert_eq!(fake.requests_to("parcel_import").len(), 3);
    assert_eq!(fake.parcels().len(), 2);

    // A refused login refuses the whole batch.
    let (_host, wrong) = connector(&fake, &[("password", "nope")]).await?;
    let error = connector_error(
        wrong
            .create_shipments(&[shipment("E-AUTH")])
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::Auth, "{error:?}");
    assert_eq!(error.field.as_deref(), Some("password"));
    assert!(!error.message.contains("nope"), "{}", error.message);
    assert_eq!(fake.parcels().len(), 2);
    Ok(())
}

#[tokio::test]
async fn dpd_a_timed_out_import_is_sent_once_and_outages_are_transient() -> anyhow::Result<()> {
    let fake = FakeDpd::start().await?;
    let (_host, carrier) = connector(&fake, &[("request_timeout_ms", "300")]).await?;
    fake.set_slow(Duration::from_millis(1500));
    let results = carrier.create_shipments(&[shipment("SLOW-1")]).await?;
    assert_eq!(kind(&results[0]), ErrorKind::Transient, "{results:?}");
    assert_eq!(fake.requests_to("parcel_import").len(), 1, "not repeated");
    assert_eq!(fake.parcels().len(), 1, "DPD made it all the same");
    fake.set_slow(Duration::ZERO);

    fake.set_down(true);
    let results = carrier.create_shipments(&[shipment("DOWN-1")]).await?;
    let down = results[0].as_ref().unwrap_err();
    assert_eq!(down.kind, ErrorKind::Transient);
    assert_eq!(down.http_status, Some(503));
    assert!(
        !down.message.contains(PASSWORD) && !down.message.contains(USERNAME),
        "{}",
        down.message
    );
    assert_eq!(fake.requests_to("parcel_import").len(), 2);
    fake.set_down(false);
    Ok(())
}

#[tokio::test]
async fn dpd_tracking_maps_status_texts_and_keeps_an_unchanged_status_once() -> anyhow::Result<()> {
    let fake = FakeDpd::start().await?;
    let (_host, carrier) = connector(&fake, &[]).await?;
    let created = carrier.create_shipments(&[shipment("T-1")]).await?[0]
        .clone()
        .unwrap();
    let number = created.tracking_numbers[0].clone();
    carrier
        .get_labels(std::slice::from_ref(&created.shipment_id), None)
        .await?;

    let track = |numbers: Vec<String>| {
        let carrier = &carrier;
        async move { carrier.track(&numbers).await }
    };
    let first = track(vec![number.clone(), "1".into(), "Z-1".into()]).await?;
    let printed = &first[0].as_ref().unwrap().events;
    assert_eq!(printed.len(), 1, "one event per call");
    assert_eq!(printed[0].status, ShipmentStatus::Pending);
    assert_eq!(printed[0].raw_code, "printed");
    assert_eq!(printed[0].raw_text, "printed");
    assert_eq!(kind(&first[1]), ErrorKind::NotFound);
    assert_eq!(
        first[2].as_ref().unwrap_err().field.as_deref(),
        Some("tracking-numbers")
    );
    let secret_sent = fake.requests_to("parcel_status");
    assert_eq!(secret_sent[0].param("secret"), Some(TRACKING_SECRET));
    assert_eq!(
        secret_sent[0].param("password"),
        None,
        "the key, not the login"
    );

    // Polling an unchanged status gives the same event (same time, same code).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = track(vec![number.clone()]).await?;
    assert_eq!(again[0].as_ref().unwrap().events, *printed);

    assert!(fake.set_status(&number, "sent"));
    let sent = track(vec![number.clone()]).await?;
    let sent = &sent[0].as_ref().unwrap().events[0];
    assert_eq!(sent.status, ShipmentStatus::Pending);
    assert_eq!(sent.raw_code, "sent");
    assert!(sent.at > printed[0].at);

    assert!(fake.set_status(&number, "Delivered"));
    let delivered = track(vec![number.clone()]).await?;
    let delivered = &delivered[0].as_ref().unwrap().events[0];
    assert_eq!(delivered.status, ShipmentStatus::Delivered);
    assert_eq!(delivered.raw_code, "delivered");
    assert_eq!(delivered.raw_text, "Delivered");

    // Without the key, or with a wrong one: the setting is named.
    let (_host, keyless) = connector(&fake, &[("tracking_secret", "")]).await?;
    let error = connector_error(
        keyless
            .track(std::slice::from_ref(&number))
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert_eq!(error.field.as_deref(), Some("tracking_secret"));
    let (_host, wrong) = connector(&fake, &[("tracking_secret", "wrong-key")]).await?;
    let error = connector_error(wrong.track(&[number]).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Auth);
    assert_eq!(error.field.as_deref(), Some("tracking_secret"));
    Ok(())
}

#[tokio::test]
async fn dpd_cancel_deletes_before_printing_and_cancels_after() -> anyhow::Result<()> {
    let fake = FakeDpd::start().await?;
    let (_host, carrier) = connector(&fake, &[]).await?;
    let mut two = shipment("C-1");
    two.parcels = vec![parcel(500), parcel(500)];
    let results = carrier
        .create_shipments(&[two, shipment("C-2"), shipment("C-3")])
        .await?;
    let ids: Vec<String> = results
        .iter()
        .map(|r| r.as_ref().unwrap().shipment_id.clone())
        .collect();
    carrier.get_labels(&ids[1..2], None).await?;
    carrier.get_labels(&ids[2..3], None).await?;
    carrier.cancel(&ids[2..3]).await?[0].clone().unwrap();

    let cancelled = carrier
        .cancel(&[ids[0].clone(), ids[1].clone(), ids[2].clone(), "x".into()])
        .await?;
    assert!(cancelled[0].is_ok(), "{cancelled:?}");
    assert!(cancelled[1].is_ok(), "{cancelled:?}");
    // Cancelled already: DPD refuses both ways.
    let twice = cancelled[2].as_ref().unwrap_err();
    assert_eq!(twice.kind, ErrorKind::Conflict, "{twice:?}");
    assert!(twice.message.contains("parcel_cancel"), "{}", twice.message);
    assert_eq!(
        cancelled[3].as_ref().unwrap_err().field.as_deref(),
        Some("shipment-ids")
    );

    let parcels = fake.parcels();
    let by_reference = |reference: &str| {
        parcels
            .iter()
            .filter(|p| p.param("order_number") == Some(reference))
            .collect::<Vec<_>>()
    };
    assert!(
        by_reference("C-1")
            .iter()
            .all(|p| p.deleted && !p.cancelled)
    );
    assert_eq!(by_reference("C-1").len(), 2);
    assert!(
        by_reference("C-2")
            .iter()
            .all(|p| p.cancelled && !p.deleted)
    );
    let deletes = fake.requests_to("parcel_delete");
    assert_eq!(
        deletes[0].param("parcels"),
        Some(ids[2].as_str()),
        "every parcel of the shipment in one call"
    );
    assert!(
        deletes
            .iter()
            .any(|r| r.param("parcels") == Some(ids[0].as_str())),
        "{deletes:?}"
    );
    Ok(())
}

#[tokio::test]
async fn dpd_hands_the_day_over_with_the_manifest() -> anyhow::Result<()> {
    let fake = FakeDpd::start().await?;
    let (_host, carrier) = connector(&fake, &[]).await?;
    let mut cod_one = shipment("H-1");
    cod_one.cash_on_delivery = cod(Decimal::new(2500, 2), "EUR");
    let requests = vec![cod_one, shipment("H-2"), shipment("H-3")];
    let created: Vec<_> = carrier
        .create_shipments(&requests)
        .await?
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let ids: Vec<String> = created.iter().map(|c| c.shipment_id.clone()).collect();
    carrier.get_labels(&ids, None).await?;
    carrier.cancel(&ids[2..3]).await?[0].clone().unwrap();

    let today = dpd::today();
    let handed: Vec<HandoverShipment> = created[..2]
        .iter()
        .zip(&requests)
        .map(|(created, request)| HandoverShipment {
            shipment_id: created.shipment_id.clone(),
            tracking_numbers: created.tracking_numbers.clone(),
            request: request.clone(),
            created_at: time::OffsetDateTime::now_utc(),
        })
        .collect();
    let receipt = carrier.hand_over(&today, &handed).await?;
    assert_eq!(receipt.reference, None);
    let document = receipt.document.unwrap();
    assert_eq!(document.content_type, "application/pdf");
    assert_eq!(
        pages(&document.data),
        2,
        "the cancelled parcel is not on it"
    );
    let text = String::from_utf8_lossy(&document.data);
    for number in created[..2].iter().flat_map(|c| &c.tracking_numbers) {
        assert!(text.contains(number.as_str()), "{number}");
    }
    let asked = fake.requests_to("parcel_manifest_print");
    assert_eq!(asked[0].param("type"), Some("manifest"));
    assert_eq!(asked[0].param("date"), Some(today.as_str()));

    // The COD manifest, as configured.
    let (_host, cod_list) = connector(&fake, &[("manifest_type", "manifest_cod")]).await?;
    let receipt = cod_list.hand_over(&today, &handed).await?;
    assert_eq!(pages(&receipt.document.unwrap().data), 1);

    // A day without parcels at DPD, and a date that is not one.
    let error = connector_error(carrier.hand_over("2001-01-01", &handed).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::NotFound, "{error:?}");
    assert!(error.message.contains("2001-01-01"), "{}", error.message);
    let error = connector_error(carrier.hand_over("1.1.2001", &handed).await.unwrap_err());
    assert_eq!(error.field.as_deref(), Some("date"));
    Ok(())
}

#[tokio::test]
async fn dpd_connection_check_creates_nothing_and_names_what_to_fix() -> anyhow::Result<()> {
    let fake = FakeDpd::start().await?;
    let (_host, carrier) = connector(&fake, &[]).await?;
    let info = carrier.check_connection().await?;
    assert_eq!(info.account.as_deref(), Some("DPD EasyShip SI"));
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    assert!(fake.parcels().is_empty());
    assert!(fake.requests_to("parcel_import").is_empty());
    assert_eq!(
        fake.requests_to("parcel_manifest_print")[0].param("date"),
        Some("2000-01-01")
    );

    let (_host, wrong) = connector(&fake, &[("password", "wrong")]).await?;
    let error = connector_error(wrong.check_connection().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Auth, "{error:?}");
    let (_host, keyless) = connector(&fake, &[("tracking_secret", "")]).await?;
    let info = keyless.check_connection().await?;
    assert!(
        info.warnings[0].contains("tracking key"),
        "{:?}",
        info.warnings
    );
    let (_host, bad_key) = connector(&fake, &[("tracking_secret", "nope")]).await?;
    let info = bad_key.check_connection().await?;
    assert!(info.warnings[0].contains("refused"), "{:?}", info.warnings);

    // An address that is not EasyShip: 404 for its paths.
    let wrong_base = format!("{}/elsewhere", fake.api_base());
    let (_host, lost) = connector(&fake, &[("api_base", wrong_base.as_str())]).await?;
    let error = connector_error(lost.check_connection().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert_eq!(error.field.as_deref(), Some("api_base"));

    let info = carrier.info().await?;
    assert_eq!(info.carrier, "DPD");
    assert_eq!(info.max_batch, 10);
    assert!(info.cod_currencies.contains(&"EUR".to_owned()));
    let services = carrier.list_services().await?;
    for code in ["home", "classic", "id-check"] {
        assert!(services.iter().any(|s| s.code == code), "{code}");
    }
    Ok(())
}
