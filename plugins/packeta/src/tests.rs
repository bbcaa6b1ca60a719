#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use tovor_sdk::carrier::{CashOnDelivery, Parcel};
use tovor_sdk::time::format_utc;
use tovor_sdk::types::{Address, PickupPoint};
use xml::StatusRecord;

fn address() -> Address {
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
        country: Some("CZ".into()),
        phone: Some("777 123 456".into()),
        email: Some("jana@example.test".into()),
    }
}

fn request() -> ShipmentRequest {
    ShipmentRequest {
        reference: "2026-00042".into(),
        sender: Address {
            name: Some("Shop".into()),
            ..address()
        },
        recipient: address(),
        parcels: vec![Parcel {
            weight_grams: 1200,
            length_mm: None,
            width_mm: None,
            height_mm: None,
        }],
        cash_on_delivery: Some(CashOnDelivery {
            amount: "729".into(),
            currency: "CZK".into(),
            reference: Some("2026-00042".into()),
        }),
        pickup_point: Some(PickupPoint {
            carrier: Some("packeta".into()),
            id: "79".into(),
            name: None,
            address: None,
        }),
        services: Vec::new(),
        value: None,
        currency: None,
        note: None,
    }
}

fn get<'a>(attributes: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

fn field(error: ConnectorError) -> String {
    assert_eq!(error.kind, ErrorKind::InvalidInput, "{error:?}");
    error.field.unwrap_or_default()
}

#[test]
fn pickup_point_packet_with_cod() {
    let attributes = packet_attributes(&request(), "myshop.cz", "").unwrap();
    let names: Vec<&str> = attributes.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "number",
            "name",
            "surname",
            "email",
            "phone",
            "addressId",
            "currency",
            "cod",
            "value",
            "weight",
            "eshop"
        ]
    );
    assert_eq!(get(&attributes, "name"), Some("Jana"));
    assert_eq!(get(&attributes, "surname"), Some("Nováková"));
    assert_eq!(get(&attributes, "phone"), Some("+420777123456"));
    assert_eq!(get(&attributes, "addressId"), Some("79"));
    assert_eq!(get(&attributes, "cod"), Some("729"));
    assert_eq!(get(&attributes, "value"), Some("729"));
    assert_eq!(get(&attributes, "currency"), Some("CZK"));
    assert_eq!(get(&attributes, "weight"), Some("1.2"));
}

#[test]
fn home_delivery_splits_the_street() {
    let mut request = request();
    request.pickup_point = None;
    request.cash_on_delivery = None;
    request.value = Some("500".into());
    assert_eq!(
        field(packet_attributes(&request, "myshop.cz", "").unwrap_err()),
        "pickup-point"
    );
    let attributes = packet_attributes(&request, "myshop.cz", "SK:131, CZ:106").unwrap();
    assert_eq!(get(&attributes, "addressId"), Some("106"));
    assert_eq!(get(&attributes, "street"), Some("Na Příkopě"));
    assert_eq!(get(&attributes, "houseNumber"), Some("1234/5"));
    assert_eq!(get(&attributes, "city"), Some("Praha"));
    assert_eq!(get(&attributes, "zip"), Some("110 00"));
    assert_eq!(get(&attributes, "currency"), Some("CZK"));
    assert_eq!(get(&attributes, "cod"), None);
    request.services = vec!["carrier:13".into()];
    let attributes = packet_attributes(&request, "myshop.cz", "CZ:106").unwrap();
    assert_eq!(get(&attributes, "addressId"), Some("13"));
    request.recipient.line1 = Some("Na Příkopě".into());
    assert_eq!(
        field(packet_attributes(&request, "myshop.cz", "CZ:106").unwrap_err()),
        "recipient.house-number"
    );
}

#[test]
fn services_are_the_age_check_and_home_carriers_only() {
    let mut adult = request();
    adult.services = vec!["Adult-Content".into()];
    let attributes = packet_attributes(&adult, "e", "").unwrap();
    assert_eq!(get(&attributes, "adultContent"), Some("1"));
    assert_eq!(
        attributes.iter().position(|(n, _)| *n == "adultContent"),
        attributes
            .iter()
            .position(|(n, _)| *n == "eshop")
            .map(|i| i + 1),
        "after eshop, in Packeta's element order"
    );
    assert_eq!(
        get(
            &packet_attributes(&request(), "e", "").unwrap(),
            "adultContent"
        ),
        None
    );
    adult.services = vec!["SAT".into()];
    assert_eq!(
        field(packet_attributes(&adult, "e", "").unwrap_err()),
        "services"
    );
    assert_eq!(
        configured_home_carriers(" cz:106; SK=131, bad, :7"),
        [
            ("CZ".to_owned(), "106".to_owned()),
            ("SK".to_owned(), "131".to_owned())
        ]
    );
}

#[test]
fn refusals_name_the_field() {
    let mut bad = request();
    bad.cash_on_delivery = Some(CashOnDelivery {
        amount: "49.90".into(),
        currency: "EUR".into(),
        reference: None,
    });
    let error = packet_attributes(&bad, "e", "").unwrap_err();
    assert!(error.message.contains("CZK"), "{error:?}");
    assert_eq!(field(error), "cash-on-delivery.currency");

    let mut bad = request();
    bad.recipient.name = Some("Cher".into());
    assert_eq!(
        field(packet_attributes(&bad, "e", "").unwrap_err()),
        "recipient.name"
    );
    let mut bad = request();
    bad.recipient.email = None;
    bad.recipient.phone = None;
    assert_eq!(
        field(packet_attributes(&bad, "e", "").unwrap_err()),
        "recipient.email"
    );
    let mut bad = request();
    bad.parcels.push(bad.parcels[0]);
    assert_eq!(
        field(packet_attributes(&bad, "e", "").unwrap_err()),
        "parcels"
    );
    let mut bad = request();
    bad.cash_on_delivery = None;
    assert_eq!(
        field(packet_attributes(&bad, "e", "").unwrap_err()),
        "value"
    );
    let mut bad = request();
    bad.currency = Some("EUR".into());
    assert_eq!(
        field(packet_attributes(&bad, "e", "").unwrap_err()),
        "currency"
    );
    let mut bad = request();
    bad.reference = "x".repeat(37);
    assert_eq!(
        field(packet_attributes(&bad, "e", "").unwrap_err()),
        "reference"
    );
    let mut bad = request();
    bad.cash_on_delivery = Some(CashOnDelivery {
        amount: "lots".into(),
        currency: "CZK".into(),
        reference: None,
    });
    assert_eq!(
        field(packet_attributes(&bad, "e", "").unwrap_err()),
        "cash-on-delivery.amount"
    );
}

#[test]
fn label_formats_follow_the_paper_and_the_setting() {
    let formats = <Packeta as Labels>::label_formats();
    let names: Vec<&str> = formats.iter().map(|f| f.carrier_name.as_str()).collect();
    assert_eq!(
        names,
        ["A6 on A4", "A7 on A4", "105x35mm on A4", "A6 on A6"]
    );
    assert_eq!(formats[0].size, PaperSize::A4);
    assert_eq!(formats[3].size, PaperSize::A6);
    assert!(formats.iter().all(|f| f.content_type == "application/pdf"));

    let default = label_format(None).unwrap();
    assert_eq!(default.name, "A6 on A4");
    let a7_sheet = label_format(Some("a7 on a4")).unwrap();
    let a8 = label_format(Some("A8 on A8")).unwrap();
    assert_eq!(
        label_format(Some("10x15")).unwrap_err().field.as_deref(),
        Some("label_format")
    );
    let format = |paper, configured| format_for(paper, configured).unwrap().name;
    assert_eq!(format(PaperSize::A4, default), "A6 on A4");
    assert_eq!(format(PaperSize::A4, a7_sheet), "A7 on A4");
    assert_eq!(format(PaperSize::A6, default), "A6 on A6");
    assert_eq!(format(PaperSize::Label100x150, a7_sheet), "A6 on A6");
    assert_eq!(format(PaperSize::A6, a8), "A8 on A8");
    assert_eq!(format(PaperSize::Label100x100, a8), "A8 on A8");
    assert_eq!(format(PaperSize::Label100x100, default), "A8 on A8");
    let a7 = label_format(Some("A7 on A7")).unwrap();
    assert_eq!(format(PaperSize::Label100x150, a7), "A7 on A7");
    assert_eq!(
        format(PaperSize::Label100x100, a7),
        "A8 on A8",
        "A7 is 105 mm tall"
    );
    assert_eq!(format(PaperSize::A4, a8), "A6 on A4");
    let error = format_for(PaperSize::A5, default).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unsupported);
}

#[test]
fn limits_ids_and_pdfs() {
    let limits = <Packeta as Shipments>::limits();
    assert_eq!(limits.max_batch, CREATE_BATCH);
    assert!(limits.cod_currencies.contains(&"HUF".to_owned()));
    assert_eq!(packet_id("Z 123 4567 890", "f").unwrap(), "1234567890");
    assert_eq!(packet_id("1234567890", "f").unwrap(), "1234567890");
    assert_eq!(
        field(packet_id("ZX1", "tracking-numbers").unwrap_err()),
        "tracking-numbers"
    );
    assert_eq!(decode_pdf("JVBERi0x\nLjQ=").unwrap(), b"%PDF-1.4");
    assert!(decode_pdf("aGVsbG8=").is_err());
    assert!(decode_pdf("!!").is_err());
}

#[test]
fn events_are_sorted_and_mapped() {
    let record = |at: &str, code: &str, text: &str| StatusRecord {
        date_time: at.into(),
        status_code: code.into(),
        code_text: Some(text.into()),
        status_text: None,
        branch_id: None,
    };
    let events = tracking_events(StatusRecords {
        record: vec![
            record("2026-07-02T09:00:00", "5", "ready for pickup"),
            record("2026-07-01T10:00:00", "1", "received data"),
        ],
    })
    .unwrap();
    assert_eq!(
        format_utc(events[0].at.to_datetime("at").unwrap()),
        "2026-07-01T08:00:00Z"
    );
    assert_eq!(events[0].status, ShipmentStatus::Pending);
    assert_eq!(events[0].raw_code, "1");
    assert_eq!(events[0].raw_text, "received data");
    assert_eq!(events[1].status, ShipmentStatus::ReadyForPickup);
}

#[test]
fn services_without_a_key_come_from_the_settings() {
    let config = Config::from_iter([
        ("api_password", "p"),
        ("home_delivery_carriers", "CZ:106, SK:131"),
    ]);
    let services = <Packeta as Services>::list_services(&config).unwrap();
    let codes: Vec<&str> = services.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes, [ADULT_CONTENT, "carrier:106", "carrier:131"]);
    assert!(services[1].description.as_deref().unwrap().contains("CZ"));
}

#[test]
fn pickup_search_needs_the_api_key() {
    let config = Config::from_iter([("api_password", "p")]);
    let query = PickupQuery {
        country: "CZ".into(),
        postal_code: None,
        text: Some("Praha".into()),
        limit: 5,
    };
    let error = <Packeta as PickupPoints>::search_pickup_points(&config, query).unwrap_err();
    assert_eq!(
        (error.kind, error.field.as_deref()),
        (ErrorKind::InvalidInput, Some("api_key"))
    );
}
