#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use easyship::{CodSplit, CompanyParcels, Settings};
use tovor_sdk::carrier::{CashOnDelivery, Parcel, ShipmentStatus};
use tovor_sdk::types::{Address, PickupPoint};

fn address(name: &str, line: &str, city: &str, zip: &str) -> Address {
    Address {
        name: Some(name.into()),
        company: None,
        street: None,
        house_number: None,
        line1: Some(line.into()),
        line2: None,
        city: Some(city.into()),
        postal_code: Some(zip.into()),
        region: None,
        country: Some("SI".into()),
        phone: Some("+38640111222".into()),
        email: Some("ana@example.si".into()),
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

fn request() -> ShipmentRequest {
    let mut sender = address("Skladišče", "Dunajska cesta 5", "Ljubljana", "1000");
    sender.company = Some("Trgovina d.o.o.".into());
    sender.phone = Some("+38612345678".into());
    ShipmentRequest {
        reference: "2026-00042".into(),
        sender,
        recipient: address("Ana Novak", "Slovenska cesta 12a", "Maribor", "2000"),
        parcels: vec![parcel(1200)],
        cash_on_delivery: None,
        pickup_point: None,
        services: Vec::new(),
        value: None,
        currency: None,
        note: Some("Pokličite pred dostavo".into()),
    }
}

fn cod(amount: &str, currency: &str) -> Option<CashOnDelivery> {
    Some(CashOnDelivery {
        amount: amount.into(),
        currency: currency.into(),
        reference: None,
    })
}

fn params(request: &ShipmentRequest) -> Vec<(&'static str, String)> {
    easyship::import_params(request, Settings::default()).unwrap()
}

fn get<'a>(params: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

fn field(error: ConnectorError) -> String {
    assert_eq!(error.kind, ErrorKind::InvalidInput, "{error:?}");
    error.field.unwrap_or_default()
}

#[test]
fn home_parcel_with_street_split_sender_and_note() {
    let sent = params(&request());
    let names: Vec<&str> = sent.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "name1",
            "street",
            "rPropNum",
            "city",
            "country",
            "pcode",
            "email",
            "phone",
            "num_of_parcel",
            "parcel_type",
            "weight",
            "order_number",
            "predict",
            "sender_name",
            "sender_street",
            "sender_city",
            "sender_pcode",
            "sender_phone",
            "sender_country",
            "sender_remark",
        ]
    );
    assert_eq!(get(&sent, "name1"), Some("Ana Novak"));
    assert_eq!(get(&sent, "street"), Some("Slovenska cesta"));
    assert_eq!(get(&sent, "rPropNum"), Some("12a"));
    assert_eq!(get(&sent, "country"), Some("SI"));
    assert_eq!(get(&sent, "pcode"), Some("2000"));
    assert_eq!(get(&sent, "parcel_type"), Some("D-B2C"));
    assert_eq!(get(&sent, "predict"), Some("1"));
    assert_eq!(get(&sent, "weight"), Some("1.200"));
    assert_eq!(get(&sent, "num_of_parcel"), Some("1"));
    assert_eq!(get(&sent, "order_number"), Some("2026-00042"));
    assert_eq!(get(&sent, "sender_name"), Some("Trgovina d.o.o."));
    assert_eq!(get(&sent, "sender_street"), Some("Dunajska cesta 5"));
    assert_eq!(get(&sent, "sender_remark"), Some("Pokličite pred dostavo"));
    assert_eq!(get(&sent, "cod_amount"), None);
}

#[test]
fn cash_on_delivery_home_and_classic() {
    let mut request = request();
    request.cash_on_delivery = cod("49.9", "EUR");
    request.parcels = vec![parcel(1000), parcel(500)];
    let sent = params(&request);
    assert_eq!(get(&sent, "parcel_type"), Some("D-COD-B2C"));
    assert_eq!(get(&sent, "cod_amount"), Some("49.90"));
    assert_eq!(get(&sent, "cod_purpose"), Some("2026-00042"));
    assert_eq!(get(&sent, "parcel_cod_type"), Some("firstonly"));
    assert_eq!(get(&sent, "num_of_parcel"), Some("2"));
    assert_eq!(get(&sent, "weight"), Some("1.500"));

    // The COD reference, when given, is the purpose; avg when configured.
    request.cash_on_delivery.as_mut().unwrap().reference = Some("SI00 2026-42".into());
    let averaged = Settings {
        cod_split: CodSplit::Average,
        ..Settings::default()
    };
    let sent = easyship::import_params(&request, averaged).unwrap();
    assert_eq!(get(&sent, "cod_purpose"), Some("SI00 2026-42"));
    assert_eq!(get(&sent, "parcel_cod_type"), Some("avg"));

    // A company recipient gets DPD Classic, without Predict; unless the setting or the
    // shipment says Home.
    request.recipient.company = Some("Podjetje d.o.o.".into());
    let sent = params(&request);
    assert_eq!(get(&sent, "parcel_type"), Some("D-COD"));
    assert_eq!(get(&sent, "predict"), None);
    assert_eq!(get(&sent, "name1"), Some("Podjetje d.o.o."));
    assert_eq!(get(&sent, "name2"), Some("Ana Novak"));
    assert_eq!(get(&sent, "contact"), Some("Ana Novak"));
    let home = Settings {
        company_parcels: CompanyParcels::Home,
        ..Settings::default()
    };
    let sent = easyship::import_params(&request, home).unwrap();
    assert_eq!(get(&sent, "parcel_type"), Some("D-COD-B2C"));
    request.services = vec!["home".into()];
    assert_eq!(get(&params(&request), "parcel_type"), Some("D-COD-B2C"));
    request.services = vec!["classic".into()];
    request.cash_on_delivery = None;
    request.recipient.company = None;
    assert_eq!(get(&params(&request), "parcel_type"), Some("D"));
}

#[test]
fn cash_on_delivery_only_in_the_destination_currency() {
    let mut request = request();
    request.cash_on_delivery = cod("49.90", "USD");
    let error = easyship::import_params(&request, Settings::default()).unwrap_err();
    assert!(
        error.message.contains("EUR") && error.message.contains("USD"),
        "{error:?}"
    );
    assert_eq!(field(error), "cash-on-delivery.currency");

    request.recipient.country = Some("HU".into());
    request.cash_on_delivery = cod("15000", "EUR");
    let error = easyship::import_params(&request, Settings::default()).unwrap_err();
    assert!(error.message.contains("HUF"), "{error:?}");
    request.cash_on_delivery = cod("15000", "HUF");
    assert_eq!(get(&params(&request), "cod_amount"), Some("15000.00"));

    request.recipient.country = Some("US".into());
    request.cash_on_delivery = cod("10", "USD");
    assert_eq!(
        field(easyship::import_params(&request, Settings::default()).unwrap_err()),
        "cash-on-delivery.currency"
    );

    request.recipient.country = Some("HR".into());
    request.cash_on_delivery = cod("1.005", "EUR");
    assert_eq!(
        field(easyship::import_params(&request, Settings::default()).unwrap_err()),
        "cash-on-delivery.amount"
    );
    request.cash_on_delivery = cod("0", "EUR");
    assert_eq!(
        field(easyship::import_params(&request, Settings::default()).unwrap_err()),
        "cash-on-delivery.amount"
    );
    request.cash_on_delivery = cod("12.50", "eur");
    assert_eq!(get(&params(&request), "cod_amount"), Some("12.50"));
}

#[test]
fn parcel_shop_needs_contact_and_weight_and_takes_no_cod() {
    let mut request = request();
    request.pickup_point = Some(PickupPoint {
        carrier: Some("dpd".into()),
        id: "SI10042".into(),
        name: None,
        address: None,
    });
    let sent = params(&request);
    assert_eq!(get(&sent, "parcel_type"), Some("D-B2C-PSD"));
    assert_eq!(get(&sent, "pudo_id"), Some("SI10042"));
    assert_eq!(get(&sent, "predict"), Some("1"));

    let mut no_phone = request.clone();
    no_phone.recipient.phone = None;
    assert_eq!(
        field(easyship::import_params(&no_phone, Settings::default()).unwrap_err()),
        "recipient.phone"
    );
    let mut no_email = request.clone();
    no_email.recipient.email = Some("  ".into());
    assert_eq!(
        field(easyship::import_params(&no_email, Settings::default()).unwrap_err()),
        "recipient.email"
    );
    let mut weightless = request.clone();
    weightless.parcels = vec![parcel(0)];
    assert_eq!(
        field(easyship::import_params(&weightless, Settings::default()).unwrap_err()),
        "parcels"
    );
    let mut with_cod = request.clone();
    with_cod.cash_on_delivery = cod("10", "EUR");
    assert_eq!(
        field(easyship::import_params(&with_cod, Settings::default()).unwrap_err()),
        "cash-on-delivery"
    );

    // Without the recipient's address, the point's fills in.
    let mut bare = request;
    bare.recipient.line1 = None;
    bare.recipient.city = None;
    bare.recipient.postal_code = None;
    bare.pickup_point.as_mut().unwrap().address = Some(address(
        "DPD Pickup Petrol",
        "Tržaška cesta 2",
        "Ljubljana",
        "1000",
    ));
    let sent = params(&bare);
    assert_eq!(get(&sent, "street"), Some("Tržaška cesta"));
    assert_eq!(get(&sent, "rPropNum"), Some("2"));
    assert_eq!(get(&sent, "city"), Some("Ljubljana"));
}

#[test]
fn names_are_cut_and_required_fields_named() {
    let mut request = request();
    request.recipient.name = Some("Ana Marija Novak Kovačič Potočnik Zupančič".into());
    let name1 = get(&params(&request), "name1").unwrap().to_owned();
    assert_eq!(name1.chars().count(), 35);
    assert!(name1.starts_with("Ana Marija Novak Kovačič"));

    let mut nameless = request.clone();
    nameless.recipient.name = None;
    assert_eq!(
        field(easyship::import_params(&nameless, Settings::default()).unwrap_err()),
        "recipient.name"
    );
    let mut cityless = request.clone();
    cityless.recipient.city = Some(" ".into());
    assert_eq!(
        field(easyship::import_params(&cityless, Settings::default()).unwrap_err()),
        "recipient.city"
    );
    let mut services = request.clone();
    services.services = vec!["saturday".into()];
    assert_eq!(
        field(easyship::import_params(&services, Settings::default()).unwrap_err()),
        "services"
    );
    services.services = vec!["classic".into(), "home".into()];
    assert_eq!(
        field(easyship::import_params(&services, Settings::default()).unwrap_err()),
        "services"
    );
    // ID check names the person.
    let mut checked = request;
    checked.recipient.name = Some("Ana Novak".into());
    checked.services = vec!["id-check".into()];
    let sent = params(&checked);
    assert_eq!(get(&sent, "is_id_check"), Some("1"));
    assert_eq!(get(&sent, "id_check_receiver"), Some("Ana Novak"));
}

#[test]
fn street_lines_split_or_go_whole() {
    let split = |line: &str| easyship::split_street(line);
    assert_eq!(
        split("Slovenska cesta 12a"),
        Some(("Slovenska cesta".into(), "12a".into()))
    );
    assert_eq!(
        split("Cesta 24. junija 5 b"),
        Some(("Cesta 24. junija".into(), "5b".into()))
    );
    assert_eq!(split("Ilica 1/3"), Some(("Ilica".into(), "1/3".into())));
    assert_eq!(split("Trg 1,"), Some(("Trg".into(), "1".into())));
    assert_eq!(split("Pod lipami"), None);
    assert_eq!(split("12"), None);

    // Given apart, they stay apart; a line without a number goes whole.
    let mut apart = address("A", "ignored", "Izola", "6310");
    apart.street = Some("Partizanska".into());
    apart.house_number = Some("44".into());
    assert_eq!(
        easyship::street_and_number(&apart),
        Some(("Partizanska".into(), Some("44".into())))
    );
    let whole = address("A", "Pod lipami", "Izola", "6310");
    assert_eq!(
        easyship::street_and_number(&whole),
        Some(("Pod lipami".into(), None))
    );
    let mut none = whole;
    none.line1 = None;
    assert_eq!(easyship::street_and_number(&none), None);
    assert_eq!(easyship::kilograms(1), "0.001");
    assert_eq!(easyship::kilograms(25_040), "25.040");
}

#[test]
fn answers_and_business_errors_are_typed() {
    let ok = easyship::parse_answer(
        br#"{"status":"ok","errlog":null,"pl_number":["16962028228119","16962028228120"]}"#,
        Method::Import,
    )
    .unwrap();
    let created = easyship::created("R-1", &ok).unwrap();
    assert_eq!(created.shipment_id, "16962028228119,16962028228120");
    assert_eq!(
        created.tracking_numbers,
        ["16962028228119", "16962028228120"]
    );
    let numeric = easyship::parse_answer(
        br#"{"status":"ok","pl_number":[16962028228121]}"#,
        Method::Import,
    )
    .unwrap();
    assert_eq!(easyship::pl_numbers(&numeric).unwrap(), ["16962028228121"]);
    let empty =
        easyship::parse_answer(br#"{"status":"ok","pl_number":[]}"#, Method::Import).unwrap();
    assert_eq!(
        easyship::created("R-1", &empty).unwrap_err().kind,
        ErrorKind::Other,
        "created or not is unknown: not a refusal"
    );

    let import_error = |errlog: &str| {
        let body = serde_json::json!({"status": "err", "errlog": errlog}).to_string();
        easyship::parse_answer(body.as_bytes(), Method::Import).unwrap_err()
    };
    let error = import_error("Parameter pcode is not valid");
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert_eq!(error.field.as_deref(), Some("recipient.postal-code"));
    assert_eq!(error.http_status, Some(200));
    assert!(error.message.contains("pcode is not valid"));
    assert_eq!(
        import_error("Missing cod_amount").field.as_deref(),
        Some("cash-on-delivery.amount")
    );
    assert_eq!(
        import_error("Invalid rPropNum").field.as_deref(),
        Some("recipient.house-number")
    );
    assert_eq!(
        import_error("Wrong postal code").field.as_deref(),
        Some("recipient.postal-code")
    );
    assert_eq!(import_error("Something broke").field, None);
    assert_eq!(
        import_error("Wrong username or password").kind,
        ErrorKind::Auth
    );
    assert_eq!(
        import_error("Napačno uporabniško ime ali geslo").kind,
        ErrorKind::Auth
    );

    let print_error = |errlog: &str| {
        let body = serde_json::json!({"status": "err", "errlog": errlog}).to_string();
        easyship::parse_answer(body.as_bytes(), Method::Print).unwrap_err()
    };
    assert_eq!(
        print_error("Parcel was already printed").kind,
        ErrorKind::Conflict
    );
    assert_eq!(
        print_error("Parcel 1 does not exist").kind,
        ErrorKind::NotFound
    );

    let not_json = easyship::parse_answer(b"<html>Bad gateway</html>", Method::Status).unwrap_err();
    assert_eq!(not_json.kind, ErrorKind::Other);
    assert!(!easyship::is_business(&not_json));
    let no_status = easyship::parse_answer(br#"{"pl_number":[]}"#, Method::Import).unwrap_err();
    assert_eq!(no_status.kind, ErrorKind::Other);
}

#[test]
fn ids_numbers_and_dates() {
    assert_eq!(
        easyship::parse_shipment_id(" 16962028228119, 16962028228120 ").unwrap(),
        ["16962028228119", "16962028228120"]
    );
    assert_eq!(
        field(easyship::parse_shipment_id("abc").unwrap_err()),
        "shipment-ids"
    );
    assert_eq!(
        field(easyship::parse_shipment_id(",").unwrap_err()),
        "shipment-ids"
    );
    assert_eq!(
        field(easyship::parse_parcel_number("Z123").unwrap_err()),
        "tracking-numbers"
    );
    assert_eq!(easyship::parse_date("2026-03-02").unwrap(), "2026-03-02");
    for bad in [
        "2026-3-2",
        "02.03.2026",
        "2026-13-01",
        "2026-02-32",
        "yesterday",
    ] {
        assert_eq!(
            field(easyship::parse_date(bad).unwrap_err()),
            "date",
            "{bad}"
        );
    }
}

#[test]
fn statuses_map_by_keyword() {
    use easyship::map_status;
    assert_eq!(map_status("printed"), ShipmentStatus::Pending);
    assert_eq!(map_status("Sent"), ShipmentStatus::Pending);
    assert_eq!(map_status("Delivered"), ShipmentStatus::Delivered);
    assert_eq!(
        map_status("Parcel delivered to recipient"),
        ShipmentStatus::Delivered
    );
    assert_eq!(map_status("Dostavljeno"), ShipmentStatus::Delivered);
    assert_eq!(map_status("Pošiljka je vročena"), ShipmentStatus::Delivered);
    assert_eq!(map_status("Isporučeno"), ShipmentStatus::Delivered);
    assert_eq!(map_status("cancelled"), ShipmentStatus::Cancelled);
    assert_eq!(map_status("Deleted"), ShipmentStatus::Cancelled);
    assert_eq!(map_status("Stornirano"), ShipmentStatus::Cancelled);
    assert_eq!(map_status("Not delivered"), ShipmentStatus::Unknown);
    assert_eq!(map_status("Nedostavljeno"), ShipmentStatus::Unknown);
    assert_eq!(map_status("In transit"), ShipmentStatus::Unknown);
    assert_eq!(map_status("Recipient absent"), ShipmentStatus::Unknown);
    assert_eq!(map_status("imported"), ShipmentStatus::Unknown);
}

#[test]
fn an_unchanged_status_keeps_its_time() {
    let first = time::OffsetDateTime::from_unix_timestamp(1_770_000_000).unwrap();
    let later = time::OffsetDateTime::from_unix_timestamp(1_770_003_600).unwrap();
    let (event, remember) = easyship::status_event("  Sent ", None, first);
    assert_eq!(event.at.seconds, 1_770_000_000);
    assert_eq!(event.raw_code, "sent");
    assert_eq!(event.raw_text, "Sent");
    assert_eq!(event.status, ShipmentStatus::Pending);
    let remember = remember.unwrap();
    let (again, nothing) = easyship::status_event("sent", Some(&remember), later);
    assert_eq!(again.at.seconds, 1_770_000_000);
    assert!(nothing.is_none());
    let (moved, changed) = easyship::status_event("Delivered", Some(&remember), later);
    assert_eq!(moved.at.seconds, 1_770_003_600);
    assert_eq!(moved.status, ShipmentStatus::Delivered);
    assert_eq!(changed.unwrap().code, "delivered");
}

#[test]
fn remembered_events_do_not_pile_up_and_are_forgotten_when_final() {
    let number = "16962028228119";
    let first = remembered_event(number, "printed");
    let second = remembered_event(number, "printed");
    assert_eq!(first.at, second.at);
    assert!(state::get(&state_key(number)).unwrap().is_some());
    let delivered = remembered_event(number, "Delivered");
    assert_eq!(delivered.status, ShipmentStatus::Delivered);
    assert!(state::get(&state_key(number)).unwrap().is_none());
}

#[test]
fn settings_and_countries() {
    assert_eq!(easyship::country(" si ").unwrap(), "SI");
    assert_eq!(field(easyship::country("AT").unwrap_err()), "country");
    assert_eq!(easyship::default_api_base("HR"), "https://easyship.hr/api");
    assert_eq!(easyship::default_api_base("SI"), "https://easyship.si/api");
    assert_eq!(
        field(Settings::from_values(Some("fast"), None).unwrap_err()),
        "company_parcels"
    );
    assert_eq!(
        field(Settings::from_values(None, Some("all")).unwrap_err()),
        "cod_split"
    );
    assert_eq!(
        Settings::from_values(Some("home"), Some("avg")).unwrap(),
        Settings {
            company_parcels: CompanyParcels::Home,
            cod_split: CodSplit::Average
        }
    );
    assert_eq!(
        easyship::cod_currencies(),
        ["CZK", "EUR", "HUF", "PLN", "RON"]
    );
    let account = Account::from_config(&Config::from_iter([
        ("username", "u"),
        ("password", "p"),
        ("country", "HR"),
    ]))
    .unwrap();
    let request = account.request(Method::Import, &[("name1", "Ana Novak".to_owned())]);
    assert_eq!(
        request.url(),
        "https://easyship.hr/api/parcel/parcel_import?username=u&password=p&name1=Ana%20Novak"
    );
    assert_eq!(request.method(), "POST");
    assert_eq!(request.body_bytes(), Some(&b""[..]));
    assert_eq!(account.manifest_type, "manifest");
    let status = account.status_request("k", "1");
    assert_eq!(
        status.url(),
        "https://easyship.hr/api/parcel/parcel_status?secret=k&parcel_number=1"
    );
}
