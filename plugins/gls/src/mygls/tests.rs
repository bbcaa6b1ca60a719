#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use tovor_sdk::carrier::CashOnDelivery;
use tovor_sdk::time::format_utc;
use tovor_sdk::types::{ErrorKind, PickupPoint};

fn address(street: &str, number: Option<&str>, country: &str) -> Address {
    Address {
        name: Some("Ana Novak".into()),
        company: None,
        street: Some(street.into()),
        house_number: number.map(Into::into),
        line1: Some(match number {
            Some(n) => format!("{street} {n}"),
            None => street.into(),
        }),
        line2: None,
        city: Some("Maribor".into()),
        postal_code: Some("2000".into()),
        region: None,
        country: Some(country.into()),
        phone: Some("040 111 222".into()),
        email: Some("ana@example.si".into()),
    }
}

fn request() -> ShipmentRequest {
    let mut sender = address("Dunajska cesta", Some("5"), "SI");
    sender.company = Some("Trgovina d.o.o.".into());
    sender.phone = Some("+386 1 234 5678".into());
    ShipmentRequest {
        reference: "2026-00042".into(),
        sender,
        recipient: address("Slovenska cesta", Some("12a"), "SI"),
        parcels: vec![tovor_sdk::carrier::Parcel {
            weight_grams: 1200,
            length_mm: None,
            width_mm: None,
            height_mm: None,
        }],
        cash_on_delivery: None,
        pickup_point: None,
        services: Vec::new(),
        value: None,
        currency: None,
        note: None,
    }
}

fn field_of(error: ConnectorError) -> Option<String> {
    assert_eq!(error.kind, ErrorKind::InvalidInput, "{error:?}");
    error.field
}

#[test]
fn password_is_the_sha512_digest_bytes() {
    let digest = password_digest("abc");
    assert_eq!(digest.len(), 64);
    assert_eq!(&digest[..4], &[0xdd, 0xaf, 0x35, 0xa1]);
    assert_eq!(&digest[60..], &[0xa5, 0x4c, 0xa4, 0x9f]);
    let fields = auth_fields("api@shop.si", "abc", Some(100_000_001));
    assert_eq!(fields["Password"][0], 221);
    assert_eq!(fields["Password"].as_array().unwrap().len(), 64);
    assert_eq!(fields["ClientNumberList"], json!([100_000_001]));
    assert_eq!(fields["WebshopEngine"], "tovor");
    assert!(!auth_fields("u", "p", None).contains_key("ClientNumberList"));
}

#[test]
fn street_and_house_number_split() {
    assert_eq!(
        split_street_line("Slovenska cesta 12a"),
        Some(("Slovenska cesta".into(), "12".into(), "a".into()))
    );
    assert_eq!(
        split_street_line("Slovenska cesta 12 a"),
        Some(("Slovenska cesta".into(), "12".into(), "a".into()))
    );
    assert_eq!(
        split_street_line("Ulica 1. maja 2/b"),
        Some(("Ulica 1. maja".into(), "2".into(), "/b".into()))
    );
    assert_eq!(split_street_line("Slovenska cesta"), None);
    assert_eq!(split_street_line("12"), None);
    assert_eq!(split_house_number("12a"), ("12".into(), "a".into()));
    assert_eq!(split_house_number(" 2/b "), ("2".into(), "/b".into()));

    // Separate fields win; the line is the fallback.
    let parts = street_parts(&address("Slovenska cesta", Some("12a"), "SI"), "recipient").unwrap();
    assert_eq!(parts, ("Slovenska cesta".into(), "12".into(), "a".into()));
    let mut only_line = address("x", None, "SI");
    only_line.street = None;
    only_line.line1 = Some("Trg republike 3B".into());
    assert_eq!(
        street_parts(&only_line, "recipient").unwrap(),
        ("Trg republike".into(), "3".into(), "B".into())
    );
    let zero = address("Slovenska cesta", Some("0"), "SI");
    assert_eq!(
        field_of(street_parts(&zero, "recipient").unwrap_err()).as_deref(),
        Some("recipient.house-number")
    );
    let none = address("Slovenska cesta", None, "SI");
    assert_eq!(
        field_of(street_parts(&none, "recipient").unwrap_err()).as_deref(),
        Some("recipient.house-number")
    );
}

#[test]
fn phones_become_international() {
    assert_eq!(
        normalize_phone("040 111 222", "SI").as_deref(),
        Some("+38640111222")
    );
    assert_eq!(
        normalize_phone("+386 (40) 111-222", "SI").as_deref(),
        Some("+38640111222")
    );
    assert_eq!(
        normalize_phone("00386 40 111 222", "SI").as_deref(),
        Some("+38640111222")
    );
    assert_eq!(
        normalize_phone("06 30 123 4567", "HU").as_deref(),
        Some("+36301234567")
    );
    assert_eq!(
        normalize_phone("0722 123 456", "RO").as_deref(),
        Some("+40722123456")
    );
    assert_eq!(
        normalize_phone("38640111222", "SI").as_deref(),
        Some("+38640111222")
    );
    assert_eq!(
        normalize_phone("091 234 5678", "HR").as_deref(),
        Some("+385912345678")
    );
    assert_eq!(normalize_phone("12", "SI"), None);
}

#[test]
fn parcel_json_matches_the_reference_shape() {
    let mut request = request();
    request.cash_on_delivery = Some(CashOnDelivery {
        amount: "49.90".into(),
        currency: "eur".into(),
        reference: None,
    });
    request.services = vec!["FDS".into(), "SM2".into(), "sat".into()];
    let parcel = parcel_json(&request, 100_000_001, "/Date(1717200000000)/").unwrap();
    assert_eq!(parcel["ClientNumber"], 100_000_001);
    assert_eq!(parcel["ClientReference"], "2026-00042");
    assert_eq!(parcel["Count"], 1);
    assert_eq!(parcel["CODAmount"], 49.9);
    assert_eq!(parcel["CODCurrency"], "EUR");
    assert_eq!(parcel["CODReference"], "2026-00042");
    let delivery = &parcel["DeliveryAddress"];
    assert_eq!(delivery["Street"], "Slovenska cesta");
    assert_eq!(delivery["HouseNumber"], "12");
    assert_eq!(delivery["HouseNumberInfo"], "a");
    assert_eq!(delivery["ContactPhone"], "+38640111222");
    assert_eq!(delivery["CountryIsoCode"], "SI");
    assert_eq!(parcel["PickupAddress"]["Name"], "Trgovina d.o.o.");
    assert_eq!(parcel["PickupAddress"]["ContactName"], "Ana Novak");
    assert_eq!(
        parcel["ServiceList"],
        json!([
            {"Code": "COD"},
            {"Code": "FDS", "FDSParameter": {"Value": "ana@example.si"}},
            {"Code": "SM2", "SM2Parameter": {"StringValue": "+38640111222"}},
            {"Code": "SAT"},
        ])
    );
}

#[test]
fn parcel_shop_delivery_uses_psd() {
    let mut request = request();
    request.pickup_point = Some(PickupPoint {
        carrier: Some("gls".into()),
        id: "2351-CSOMAGPONT".into(),
        name: None,
        address: None,
    });
    let parcel = parcel_json(&request, 1, "/Date(0)/").unwrap();
    assert_eq!(
        parcel["ServiceList"][0],
        json!({"Code": "PSD", "PSDParameter": {"StringValue": "2351-CSOMAGPONT"}})
    );
    request.recipient.email = None;
    assert_eq!(
        field_of(parcel_json(&request, 1, "/Date(0)/").unwrap_err()).as_deref(),
        Some("recipient.email")
    );
    let mut plain = self::request();
    plain.services = vec!["PSD".into()];
    assert_eq!(
        field_of(parcel_json(&plain, 1, "/Date(0)/").unwrap_err()).as_deref(),
        Some("pickup-point")
    );
    plain.services = vec!["ADR".into()];
    assert_eq!(
        field_of(parcel_json(&plain, 1, "/Date(0)/").unwrap_err()).as_deref(),
        Some("services")
    );
}

#[test]
fn cod_rules() {
    let with = |amount: &str, currency: &str, country: &str| {
        let mut request = request();
        request.recipient.country = Some(country.into());
        request.cash_on_delivery = Some(CashOnDelivery {
            amount: amount.into(),
            currency: currency.into(),
            reference: Some("VS42".into()),
        });
        request
    };
    assert_eq!(
        cod(&with("10", "HUF", "HU"), "HU").unwrap(),
        Some((10.0, "HUF".into()))
    );
    // Wrong currency for the destination.
    assert_eq!(
        field_of(cod(&with("10", "EUR", "HU"), "HU").unwrap_err()).as_deref(),
        Some("cash-on-delivery.currency")
    );
    // Not a GLS country.
    assert_eq!(
        field_of(cod(&with("10", "EUR", "AT"), "AT").unwrap_err()).as_deref(),
        Some("cash-on-delivery")
    );
    assert_eq!(
        field_of(cod(&with("0", "EUR", "SI"), "SI").unwrap_err()).as_deref(),
        Some("cash-on-delivery.amount")
    );
    assert_eq!(
        field_of(cod(&with("1.005", "EUR", "SI"), "SI").unwrap_err()).as_deref(),
        Some("cash-on-delivery.amount")
    );
    let parcel = parcel_json(&with("12.50", "EUR", "SI"), 1, "/Date(0)/").unwrap();
    assert_eq!(parcel["CODReference"], "VS42");
    assert_eq!(cod_currencies(), ["CZK", "EUR", "HUF", "RON", "RSD"]);
}

#[test]
fn statuses_map_to_the_normalized_set() {
    assert_eq!(map_status("51"), ShipmentStatus::Pending);
    assert_eq!(map_status("1"), ShipmentStatus::PickedUp);
    assert_eq!(map_status("01"), ShipmentStatus::PickedUp);
    assert_eq!(map_status("3"), ShipmentStatus::InTransit);
    assert_eq!(map_status("4"), ShipmentStatus::OutForDelivery);
    assert_eq!(map_status("05"), ShipmentStatus::Delivered);
    assert_eq!(map_status("55"), ShipmentStatus::ReadyForPickup);
    assert_eq!(map_status("12"), ShipmentStatus::DeliveryFailed);
    assert_eq!(map_status("36"), ShipmentStatus::DeliveryFailed);
    assert_eq!(map_status("13"), ShipmentStatus::DeliveryDelayed);
    assert_eq!(map_status("80"), ShipmentStatus::OnHold);
    assert_eq!(map_status("23"), ShipmentStatus::ReturnToSender);
    assert_eq!(map_status("91"), ShipmentStatus::Cancelled);
    assert_eq!(map_status("99"), ShipmentStatus::Unknown);
    assert_eq!(map_status("x"), ShipmentStatus::Unknown);
}

#[test]
fn wcf_dates_both_ways() {
    let utc = |text: &str| format_utc(parse_wcf_date(text).unwrap());
    assert_eq!(utc("/Date(1700000000000+0100)/"), "2023-11-14T22:13:20Z");
    assert_eq!(utc("/Date(1700000000000)/"), "2023-11-14T22:13:20Z");
    assert_eq!(utc("/Date(1717430000000-0500)/"), "2024-06-03T15:53:20Z");
    assert!(parse_wcf_date("2023-11-14").is_err());
    assert!(parse_wcf_date("/Date(12+1)/").is_err());
    let at = OffsetDateTime::from_unix_timestamp(1_576_367_999).unwrap();
    assert_eq!(wcf_date(at), "/Date(1576367999000)/");
}

#[test]
fn error_lists_become_typed_errors() {
    let body = json!({"Labels": [], "PrintLabelsInfoList": [], "PrintLabelsErrorList": [
        {"ErrorCode": 13, "ErrorDescription": "DeliveryAddress.ZipCode is invalid.",
         "ClientReferenceList": ["R-2"], "ParcelIdList": []}]});
    let errors = error_list(&body, "PrintLabelsErrorList").unwrap();
    assert_eq!(errors[0].references(), ["R-2"]);
    assert!(request_error(&errors).is_none());
    assert_eq!(
        field_of(errors[0].to_error()).as_deref(),
        Some("recipient.postal-code")
    );
    let sender = ErrorInfo {
        error_code: 13,
        error_description: Some("PickupAddress.City is required.".into()),
        ..ErrorInfo::default()
    };
    assert_eq!(field_of(sender.to_error()).as_deref(), Some("sender.city"));
    let code = |code: i64| {
        ErrorInfo {
            error_code: code,
            ..ErrorInfo::default()
        }
        .to_error()
    };
    let auth = code(-1);
    assert_eq!(
        (auth.kind, auth.field.as_deref()),
        (ErrorKind::Auth, Some("password"))
    );
    assert_eq!(auth.platform_code.as_deref(), Some("-1"));
    assert_eq!(
        auth.http_status,
        Some(200),
        "MyGLS reports errors with HTTP 200"
    );
    assert_eq!(code(27).kind, ErrorKind::Auth);
    assert_eq!(code(27).field.as_deref(), Some("client_number"));
    assert_eq!(code(14).field.as_deref(), Some("username"));
    let limited = code(31);
    assert_eq!(limited.kind, ErrorKind::RateLimited);
    assert_eq!(limited.retry_after_ms, Some(300_000));
    assert_eq!(code(1000).kind, ErrorKind::Transient);
    assert_eq!(code(9).kind, ErrorKind::NotFound);
    assert_eq!(code(5).kind, ErrorKind::Permission);
    assert_eq!(
        field_of(code(48)).as_deref(),
        Some("cash-on-delivery.currency")
    );
    assert_eq!(
        field_of(code(23)).as_deref(),
        Some("recipient.house-number")
    );
    assert_eq!(
        field_of(code(8)).as_deref(),
        Some("cash-on-delivery.amount")
    );
    assert_eq!(field_of(code(29)).as_deref(), Some("parcels"));
    assert_eq!(field_of(code(30)).as_deref(), Some("services"));
    let auth =
        json!({"GetParcelListErrors": [{"ErrorCode": -1, "ErrorDescription": "Unauthorized"}]});
    let errors = error_list(&auth, "GetParcelListErrors").unwrap();
    assert_eq!(
        request_error(&errors).map(|e| e.kind),
        Some(ErrorKind::Auth)
    );
    assert!(error_list(&json!({"X": null}), "X").unwrap().is_empty());
    assert!(error_list(&json!({}), "X").unwrap().is_empty());
}

#[test]
fn print_labels_answer_maps_to_a_shipment() {
    let body = json!({"Labels": [37, 80, 68, 70], "PrintLabelsErrorList": [],
        "PrintLabelsInfoList": [
            {"ClientReference": "R-1", "ParcelId": 79463181, "ParcelNumber": 5000000001_i64},
            {"ClientReference": "R-1", "ParcelId": 79463182, "ParcelNumber": 5000000002_i64}]});
    let a4 = PRINTER_TYPES[0];
    let created = crate::created_from_print_labels("R-1", &body, a4).unwrap();
    assert_eq!(created.shipment_id, "79463181,79463182");
    assert_eq!(created.tracking_numbers, ["5000000001", "5000000002"]);
    let label = created.label.unwrap();
    assert_eq!(label.content_type, "application/pdf");
    assert_eq!(label.data, b"%PDF");
    assert_eq!(
        parse_shipment_id("79463181,79463182").unwrap(),
        [79463181, 79463182]
    );
    assert!(parse_shipment_id("abc").is_err());

    let refused = json!({"Labels": [], "PrintLabelsInfoList": [], "PrintLabelsErrorList": [
        {"ErrorCode": 23, "ErrorDescription": "House number cannot be 0.", "ClientReferenceList": ["R-1"]}]});
    assert_eq!(
        field_of(crate::created_from_print_labels("R-1", &refused, a4).unwrap_err()).as_deref(),
        Some("recipient.house-number")
    );
}

#[test]
fn tracking_events_oldest_first() {
    let body = json!({"ParcelNumber": 5000000001_i64, "ParcelStatusList": [
        {"StatusCode": "5", "StatusDate": "/Date(1717430000000+0200)/", "StatusDescription": "Delivered",
         "StatusInfo": "", "DepotCity": "Maribor", "DepotNumber": "SI02"},
        {"StatusCode": "1", "StatusDate": "/Date(1717400000000+0200)/", "StatusDescription": "Handed over",
         "StatusInfo": "x", "DepotCity": "", "DepotNumber": "SI01"}]});
    let events = tracking_events(&body).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].raw_code, "1");
    assert_eq!(events[0].raw_text, "Handed over (x)");
    assert_eq!(events[0].location, None);
    assert_eq!(events[0].status, ShipmentStatus::PickedUp);
    assert_eq!(events[1].status, ShipmentStatus::Delivered);
    assert_eq!(events[1].location.as_deref(), Some("Maribor"));
    assert_eq!(events[1].at.seconds, 1_717_430_000);
    assert!(events[0].at.seconds < events[1].at.seconds);
}

#[test]
fn printer_types_follow_the_paper_and_the_setting() {
    let named = |name: &str| printer_type_named(name, "printer_type").unwrap();
    assert_eq!(named("thermo").name, "Thermo");
    assert_eq!(
        printer_type_named("A5", "printer_type")
            .unwrap_err()
            .field
            .as_deref(),
        Some("printer_type")
    );
    let a4_2x2 = named("A4_2x2");
    let a4_4x1 = named("A4_4x1");
    let zpl = named("ThermoZPL");
    // The setting decides among layouts on the asked paper...
    assert_eq!(printer_for(PaperSize::A4, a4_4x1).unwrap().name, "A4_4x1");
    assert_eq!(
        printer_for(PaperSize::Label100x150, zpl).unwrap().name,
        "ThermoZPL"
    );
    assert_eq!(printer_for(PaperSize::A6, zpl).unwrap().name, "ThermoZPL");
    // ...and the preferred one of the paper stands in when it prints elsewhere.
    assert_eq!(
        printer_for(PaperSize::Label100x150, a4_2x2).unwrap().name,
        "Thermo"
    );
    assert_eq!(printer_for(PaperSize::A6, a4_4x1).unwrap().name, "Thermo");
    assert_eq!(printer_for(PaperSize::A4, zpl).unwrap().name, "A4_2x2");
    for paper in [PaperSize::A5, PaperSize::Label100x100] {
        let error = printer_for(paper, a4_2x2).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Unsupported);
        assert_eq!(error.field.as_deref(), Some("size"));
    }
    assert_eq!(named("ThermoZPL_300DPI").content_type, "application/zpl");
    assert_eq!(named("ShipItThermoZpl").content_type, "application/zpl");
    assert_eq!(named("Connect").content_type, "application/pdf");
    let formats = label_formats();
    assert_eq!(formats.len(), PRINTER_TYPES.len());
    assert_eq!(formats[0].carrier_name, "A4_2x2");
    assert_eq!(formats[0].size, PaperSize::A4);
    assert_eq!(formats[1].carrier_name, "A4_4x1");
    assert!(
        formats
            .iter()
            .any(|f| f.carrier_name == "Thermo" && f.size == PaperSize::Label100x150)
    );
    assert_eq!(default_api_base("SI"), "https://api.mygls.si");
    assert_eq!(language("CZ"), "CS");
    assert!(country("at").is_err());
    assert_eq!(country(" si ").unwrap(), "SI");
}

#[test]
fn every_listed_service_is_accepted_and_the_rest_refused() {
    let mut request = request();
    request.cash_on_delivery = Some(CashOnDelivery {
        amount: "10".into(),
        currency: "EUR".into(),
        reference: None,
    });
    request.pickup_point = Some(PickupPoint {
        carrier: None,
        id: "SI-1000-1".into(),
        name: None,
        address: None,
    });
    request.services = SERVICES
        .iter()
        .filter(|service| service.source != ServiceSource::Implied)
        .map(|service| service.code.to_ascii_lowercase())
        .collect();
    let parcel = parcel_json(&request, 1, "/Date(0)/").unwrap();
    let mut sent: Vec<&str> = parcel["ServiceList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|service| service["Code"].as_str().unwrap())
        .collect();
    let mut listed: Vec<&str> = SERVICES.iter().map(|service| service.code).collect();
    let fss = &parcel["ServiceList"][3];
    assert_eq!(fss["FSSParameter"]["Value"], "+38640111222");
    let aos = &parcel["ServiceList"][7];
    assert_eq!(aos["AOSParameter"]["Value"], "Ana Novak");
    sent.sort_unstable();
    listed.sort_unstable();
    assert_eq!(sent, listed, "every listed service goes out, once");

    // FSS without FDS is GLS error 30: refused before sending.
    let mut lone = self::request();
    lone.services = vec!["FSS".into()];
    assert_eq!(
        field_of(parcel_json(&lone, 1, "/Date(0)/").unwrap_err()).as_deref(),
        Some("services")
    );
    // Codes outside the list (or needing data the shipment lacks) are refused; the
    // older plain codes are still passed on.
    lone.services = vec!["DDS".into()];
    assert!(parcel_json(&lone, 1, "/Date(0)/").is_err());
    lone.services = vec!["shd".into()];
    assert_eq!(
        parcel_json(&lone, 1, "/Date(0)/").unwrap()["ServiceList"],
        json!([{"Code": "SHD"}])
    );

    let everywhere = services_for(None);
    assert_eq!(everywhere.len(), SERVICES.len());
    assert!(everywhere.iter().all(|s| s.description.is_some()));
    assert!(services_for(Some("SI")).iter().any(|s| s.code == "SRS"));
    assert!(!services_for(Some("HR")).iter().any(|s| s.code == "SRS"));
}

#[test]
fn found_parcels_group_by_count() {
    let info = |id: i64, reference: &str, count: u64| mygls_info(id, reference, count);
    let found = crate::group_found(
        "R-1",
        vec![
            info(12, "R-1", 2),
            info(10, "R-1", 1),
            info(11, "R-1", 2),
            info(13, "R-2", 1),
        ],
    );
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].shipment_id, "10");
    assert_eq!(found[1].shipment_id, "11,12");
    assert_eq!(found[1].tracking_numbers, ["5000000011", "5000000012"]);
}

fn mygls_info(id: i64, reference: &str, count: u64) -> ParcelInfo {
    ParcelInfo {
        client_reference: Some(reference.into()),
        parcel_id: id,
        parcel_number: Some(5_000_000_000 + id),
        parcel: Some(json!({"Count": count})),
    }
}
