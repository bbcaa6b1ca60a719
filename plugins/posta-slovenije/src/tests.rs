//! The connector's operations, natively: numbers and labels come from the in-memory
//! state of the SDK; eOddaja is not reachable here (the harness tests that).

use tovor_sdk::carrier::{CashOnDelivery, PaperSize, Parcel};
use tovor_sdk::types::{Address, ConfigValue};

use super::*;

fn config(extra: &[(&str, &str)]) -> Config {
    let mut fields: Vec<(String, ConfigValue)> = [
        ("komitent_id", "12345"),
        ("pogodba_id", "678"),
        ("posta_id", "1000"),
        ("podruznica_id", "1"),
        ("first_number", "RA00000010SI"),
        ("last_number", "RA00000019SI"),
    ]
    .iter()
    .map(|(name, value)| ((*name).to_owned(), ConfigValue::from(*value)))
    .collect();
    for (name, value) in extra {
        fields.retain(|(known, _)| known != name);
        fields.push(((*name).to_owned(), ConfigValue::from(*value)));
    }
    Config::new(fields)
}

fn address(name: &str, street: &str, zip: &str, city: &str) -> Address {
    Address {
        name: Some(name.into()),
        company: None,
        street: None,
        house_number: None,
        line1: Some(street.into()),
        line2: None,
        city: Some(city.into()),
        postal_code: Some(zip.into()),
        region: None,
        country: Some("SI".into()),
        phone: Some("041 222 333".into()),
        email: None,
    }
}

fn request(reference: &str) -> ShipmentRequest {
    ShipmentRequest {
        reference: reference.into(),
        sender: address("Trgovina d.o.o.", "Dunajska cesta 5", "1000", "Ljubljana"),
        recipient: address("Žiga Đurić", "Čučkova ulica 5", "2000", "Maribor"),
        parcels: vec![Parcel {
            weight_grams: 800,
            length_mm: None,
            width_mm: None,
            height_mm: None,
        }],
        cash_on_delivery: Some(CashOnDelivery {
            amount: "23.5".into(),
            currency: "EUR".into(),
            reference: None,
        }),
        pickup_point: None,
        services: vec![],
        value: None,
        currency: None,
        note: None,
    }
}

#[test]
fn creates_numbered_shipments_with_labels_and_spends_no_number_on_a_refusal() {
    let mut refused = request("B");
    refused.recipient.postal_code = Some("SI-2000".into());
    let results =
        PostaSlovenije::create_shipments(&config(&[]), vec![request("A"), refused, request("C")])
            .unwrap();
    let first = results[0].as_ref().unwrap();
    assert_eq!(first.shipment_id, "RA000000102SI");
    assert_eq!(first.tracking_numbers, ["RA000000102SI"]);
    let label = first.label.as_ref().unwrap();
    assert_eq!(label.content_type, "application/pdf");
    assert!(label.data.starts_with(b"%PDF"));
    let error = results[1].as_ref().unwrap_err();
    assert_eq!(error.field.as_deref(), Some("recipient.postal-code"));
    assert_eq!(
        results[2].as_ref().unwrap().shipment_id,
        S10::new(*b"RA", 11).to_string(),
        "the refused shipment took no number"
    );
}

#[test]
fn the_range_runs_out_with_an_error_naming_it() {
    let config = config(&[
        ("first_number", "CP00000001SI"),
        ("last_number", "CP00000002SI"),
    ]);
    let results =
        PostaSlovenije::create_shipments(&config, vec![request("A"), request("B"), request("C")])
            .unwrap();
    assert!(results[0].is_ok() && results[1].is_ok());
    let error = results[2].as_ref().unwrap_err();
    assert_eq!(error.field.as_deref(), Some(s10::LAST_FIELD));
    let error = PostaSlovenije::create_shipments(&config, vec![request("D")]).unwrap_err();
    assert!(error.message.contains("used up"), "{}", error.message);
}

#[test]
fn settings_are_checked() {
    let field = |extra: &[(&str, &str)]| {
        PostaSlovenije::create_shipments(&config(extra), vec![request("A")])
            .unwrap_err()
            .field
            .unwrap_or_default()
    };
    assert_eq!(field(&[("first_number", "RA000000011SI")]), "first_number");
    assert_eq!(field(&[("item_type", "mali")]), "item_type");
    assert_eq!(field(&[("label_format", "A5")]), "label_format");
    assert_eq!(field(&[("environment", "staging")]), "environment");
    assert_eq!(field(&[("komitent_id", "")]), "komitent_id");
}

#[test]
fn label_formats_and_the_refused_reprint() {
    let formats = PostaSlovenije::label_formats();
    assert_eq!(formats[0].carrier_name, "A6");
    assert_eq!(formats[0].size, PaperSize::A6);
    assert_eq!(formats[1].carrier_name, "A6 on A4");
    assert_eq!(formats[1].size, PaperSize::A4);
    let error =
        PostaSlovenije::get_labels(&config(&[]), vec!["RA000000102SI".into()], PaperSize::A6)
            .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unsupported);
}

#[test]
fn cancelling_before_and_after_the_hand_over() {
    let config = config(&[
        ("first_number", "RB00000001SI"),
        ("last_number", "RB00000099SI"),
    ]);
    let created =
        PostaSlovenije::create_shipments(&config, vec![request("A"), request("B")]).unwrap();
    let ids: Vec<String> = created
        .iter()
        .map(|created| created.as_ref().unwrap().shipment_id.clone())
        .collect();
    ledger::record_handed_over(&[S10::parse(&ids[1]).unwrap()]).unwrap();
    let never = S10::new(*b"RB", 50).to_string();
    let results = PostaSlovenije::cancel_shipments(
        &config,
        vec![ids[0].clone(), ids[1].clone(), never, "Z123".into()],
    )
    .unwrap();
    assert!(results[0].is_ok());
    assert_eq!(results[1].as_ref().unwrap_err().kind, ErrorKind::Conflict);
    assert_eq!(results[2].as_ref().unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(results[3].as_ref().unwrap_err().kind, ErrorKind::NotFound);
}

#[test]
fn hand_over_checks_its_input_before_calling_eoddaja() {
    let handed = |number: &str| HandoverShipment {
        shipment_id: number.into(),
        tracking_numbers: vec![number.into()],
        request: request("A"),
        created_at: Timestamp::now(),
    };
    let error = PostaSlovenije::hand_over(&config(&[]), "3.12.2026", vec![handed("RA000000102SI")])
        .unwrap_err();
    assert_eq!(error.field.as_deref(), Some("date"));
    let error =
        PostaSlovenije::hand_over(&config(&[]), "2026-12-03", vec![handed("RA000000104SI")])
            .unwrap_err();
    assert_eq!(error.field.as_deref(), Some("tracking-numbers"));
    let error = PostaSlovenije::hand_over(
        &config(&[]),
        "2026-12-03",
        vec![handed("RA000000102SI"), handed("RA000000102SI")],
    )
    .unwrap_err();
    assert!(error.message.contains("twice"));
    // Natively no request leaves: the SDK's HTTP fails, and nothing is recorded.
    assert!(
        PostaSlovenije::hand_over(&config(&[]), "2026-12-03", vec![handed("RA000000102SI")])
            .is_err()
    );
    assert!(!ledger::was_handed_over(&S10::parse("RA000000102SI").unwrap()).unwrap());
}

#[test]
fn a_hand_over_list_is_drawn() {
    let shipment = Shipment::from_request(
        &request("A"),
        &Defaults {
            item_type: "109".into(),
        },
    )
    .unwrap();
    let items: Vec<(S10, Shipment)> = (0..70)
        .map(|serial| (S10::new(*b"RA", serial), shipment.clone()))
        .collect();
    let pdf = document::handover_list("2026-12-03", "0f8fad5b", &items).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
}

#[test]
fn labels_in_both_layouts() {
    let shipment = Shipment::from_request(
        &request("A"),
        &Defaults {
            item_type: "109".into(),
        },
    )
    .unwrap();
    let labels: Vec<LabelData> = (0..6)
        .map(|serial| LabelData {
            number: S10::new(*b"RA", serial),
            shipment: shipment.clone(),
            item_type_name: Some("Mali paket".into()),
            date: "03.12.2026".into(),
        })
        .collect();
    let pages = |pdf: &[u8]| {
        let text = String::from_utf8_lossy(pdf);
        text.matches("/Type /Page").count() - text.matches("/Type /Pages").count()
    };
    assert_eq!(pages(&label::render(&labels, Layout::A6).unwrap()), 6);
    assert_eq!(pages(&label::render(&labels, Layout::A4FourUp).unwrap()), 2);
}
