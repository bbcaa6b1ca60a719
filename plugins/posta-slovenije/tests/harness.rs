//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime (with connector state, as the service
//! keeps it per carrier account), talking to the fake eOddaja (`tovor-fakes`) on
//! 127.0.0.1, which checks the customer's ids and every row of the hand-over CSV.
//!
//! The labels are checked as a person would: `pdfinfo` for pages and paper,
//! `pdftotext` for the text, `pdftoppm` at 300 dpi and `zbarimg` for the barcode
//! (poppler-utils and zbar-tools).
//!
//! Run with `cargo test --workspace --features tovor/demo --test harness -- posta_`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use posta_slovenije::label::{self, LabelData, Layout};
use posta_slovenije::row::{Defaults, Shipment};
use posta_slovenije::s10::S10;
use tovor_fakes::posta::{FakePosta, KOMITENT_ID, PODRUZNICA_ID, POGODBA_ID, POSTA_ID};
use tovor_harness::model::{Address, CashOnDelivery, HandoverShipment, Parcel, ShipmentRequest};
use tovor_harness::{CallError, CarrierClient, Decimal, ErrorKind, TestHost, connector_error};

const FIRST: &str = "RA00000010SI";
const LAST: &str = "RA00099999SI";

async fn connector(
    fake: &FakePosta,
    extra: &[(&str, &str)],
) -> anyhow::Result<(TestHost, CarrierClient)> {
    let host = TestHost::new()?;
    let plugin = host.load_crate(env!("CARGO_MANIFEST_DIR")).await?;
    let mut config: Vec<(String, String)> = vec![
        ("komitent_id".into(), KOMITENT_ID.into()),
        ("pogodba_id".into(), POGODBA_ID.into()),
        ("posta_id".into(), POSTA_ID.into()),
        ("podruznica_id".into(), PODRUZNICA_ID.into()),
        ("environment".into(), "test".into()),
        ("first_number".into(), FIRST.into()),
        ("last_number".into(), LAST.into()),
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
        recipient: address("Žiga Đurić", "Čučkova ulica", "5", "Maribor", "2000"),
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
        note: Some("Naročilo 42".into()),
    }
}

fn cod_shipment(reference: &str) -> ShipmentRequest {
    let mut request = shipment(reference);
    request.cash_on_delivery = Some(CashOnDelivery {
        amount: Decimal::new(4990, 2),
        currency: "EUR".into(),
        reference: Some(reference.into()),
    });
    request
}

/// A scratch file for a PDF and what poppler and zbar make of it.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tovor-posta-harness-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run(command: &mut Command) -> String {
    let output = command
        .output()
        .expect("poppler-utils and zbar-tools are installed");
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Whether the command-line tool `name` can be run. A missing one skips the check that
/// needs it, saying so, so the tests pass on a machine with only the Rust toolchain;
/// `TOVOR_REQUIRE_TOOLS=1` (set by CI, which installs poppler-utils and zbar-tools)
/// makes a missing tool fail instead.
fn tool_available(name: &str) -> bool {
    let found = Command::new(name)
        .arg("--help")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok();
    let required =
        std::env::var("TOVOR_REQUIRE_TOOLS").is_ok_and(|value| !value.is_empty() && value != "0");
    assert!(
        found || !required,
        "{name} is not installed and TOVOR_REQUIRE_TOOLS is set (run .ci/tools)"
    );
    if !found {
        eprintln!("skipped: {name} is not installed (poppler-utils / zbar-tools)");
    }
    found
}

/// The page count (from the page objects) and, where `pdfinfo` is installed, the page
/// size in points as it reports it.
fn pdf_pages(pdf: &[u8], name: &str) -> (usize, Option<String>) {
    let raw = String::from_utf8_lossy(pdf);
    let pages = raw.matches("/Type /Page").count() - raw.matches("/Type /Pages").count();
    if !tool_available("pdfinfo") {
        return (pages, None);
    }
    let path = scratch(&format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    let info = run(Command::new("pdfinfo").arg(&path));
    let field = |label: &str| {
        info.lines()
            .find_map(|line| line.strip_prefix(label))
            .map(|value| value.trim().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(field("Pages:").parse::<usize>().unwrap(), pages);
    (pages, Some(field("Page size:")))
}

/// The text `pdftotext` extracts, where it is installed.
fn pdf_text(pdf: &[u8], name: &str) -> Option<String> {
    if !tool_available("pdftotext") {
        return None;
    }
    let path = scratch(&format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    Some(run(Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")))
}

/// The Code 128 symbols zbar reads on the first page rendered at 300 dpi, where
/// `pdftoppm` and `zbarimg` are installed.
fn barcodes(pdf: &[u8], name: &str) -> Option<Vec<String>> {
    if !(tool_available("pdftoppm") && tool_available("zbarimg")) {
        return None;
    }
    let path = scratch(&format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    let prefix = scratch(name);
    run(Command::new("pdftoppm")
        .args(["-r", "300", "-png", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&path)
        .arg(&prefix));
    let png = prefix.with_extension("png");
    Some(
        run(Command::new("zbarimg")
            .args(["--quiet", "--raw", "-Sdisable", "-Scode128.enable"])
            .arg(&png))
        .lines()
        .map(str::to_owned)
        .collect(),
    )
}

fn handover_shipment(
    created: &tovor_harness::model::CreatedShipment,
    request: ShipmentRequest,
) -> HandoverShipment {
    HandoverShipment {
        shipment_id: created.shipment_id.clone(),
        tracking_numbers: created.tracking_numbers.clone(),
        request,
        created_at: time::OffsetDateTime::now_utc(),
    }
}

#[tokio::test]
async fn posta_numbers_labels_and_the_days_hand_over() -> anyhow::Result<()> {
    let fake = FakePosta::start().await?;
    let (_host, carrier) = connector(&fake, &[]).await?;

    let info = carrier.info().await?;
    assert_eq!(info.label_formats, ["A6", "A6 on A4"]);
    assert_eq!(info.cod_currencies, ["EUR"]);
    let connected = carrier.check_connection().await?;
    assert_eq!(
        connected.account.as_deref(),
        Some(format!("komitent {KOMITENT_ID}").as_str())
    );

    let requests = vec![
        cod_shipment("2026-00042"),
        shipment("2026-00043"),
        shipment("2026-00044"),
    ];
    let results = carrier.create_shipments(&requests).await?;
    let created: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    // In order from the range's first number, each a valid S10 number.
    for (index, shipment) in created.iter().enumerate() {
        let number = S10::parse(&shipment.shipment_id).unwrap();
        assert_eq!(number.serial(), 10 + index as u32);
        assert_eq!(shipment.tracking_numbers, [number.to_string()]);
    }
    let first = &created[0];
    assert_eq!(first.shipment_id, "RA000000102SI");

    // The label: one A6 page, real text, a barcode that reads back as the number.
    let label = first.label.as_ref().unwrap();
    assert_eq!(label.content_type, "application/pdf");
    let (pages, size) = pdf_pages(&label.data, "cod-label");
    assert_eq!(pages, 1);
    if let Some(size) = size {
        assert!(
            size.starts_with("297.6"),
            "A6 is 297.64 x 419.53 pt: {size}"
        );
    }
    if let Some(text) = pdf_text(&label.data, "cod-label") {
        for expected in [
            "Čučkova ulica 5",
            "Žiga Đurić",
            "2000 Maribor",
            "Trgovina d.o.o.",
            "Dunajska cesta 5",
            "1000 Ljubljana",
            "Tel. 040 111 222",
            "109 Mali paket",
            "Masa: 1,2 kg",
            "ODKUPNINA",
            "49,90 EUR",
            "Sklic: 2026-00042",
            "Storitve: ODK",
            "RA 0000 0010 2 SI",
            "Ref. 2026-00042",
        ] {
            assert!(text.contains(expected), "{expected:?} not in:\n{text}");
        }
    }
    if let Some(codes) = barcodes(&label.data, "cod-label") {
        assert_eq!(codes, ["RA000000102SI"]);
    }
    if let Some(plain) = pdf_text(&created[1].label.as_ref().unwrap().data, "plain-label") {
        assert!(!plain.contains("ODKUPNINA"), "{plain}");
    }

    // No label again: the connector keeps no shipment data.
    let again = connector_error(
        carrier
            .get_labels(std::slice::from_ref(&first.shipment_id), Some("A6"))
            .await
            .unwrap_err(),
    );
    assert_eq!(again.kind, ErrorKind::Unsupported);

    // A shipment cancelled before the hand-over simply stays out of it.
    let cancelled = carrier.cancel(&[created[2].shipment_id.clone()]).await?;
    assert!(cancelled[0].is_ok(), "{cancelled:?}");

    // The day's hand-over: one submission, every row, taken.
    let handed: Vec<HandoverShipment> = created[..2]
        .iter()
        .zip(requests.clone())
        .map(|(created, request)| handover_shipment(created, request))
        .collect();
    let receipt = carrier.hand_over("2026-12-03", &handed).await?;
    let guid = receipt.reference.clone().unwrap();
    assert_eq!(
        fake.operations(),
        ["GetGuid", "GetGuid", "PostData", "GetStatus"]
    );
    let submission = fake.submission(&guid).unwrap();
    assert!(submission.accepted, "{:?}", submission.problems);
    assert_eq!(submission.rows.len(), 2);
    let row = &submission.rows[0];
    assert_eq!(row["CrtnaKoda"], "RA000000102SI");
    assert_eq!(row["VrstaPosiljke"], "109");
    assert_eq!(row["Naziv"], "Žiga Đurić");
    assert_eq!(row["Naslov"], "Čučkova ulica 5");
    assert_eq!(row["PostnaSt"], "2000");
    assert_eq!(row["Drzava"], "705");
    assert_eq!(row["TelSt"], "0038640111222");
    assert_eq!(row["Masa"], "1200");
    assert_eq!(row["DodatneStoritve"], "ODK");
    assert_eq!(row["Odkupnina"], "49,90");
    assert_eq!(row["Sklic"], "2026-00042");
    assert_eq!(submission.rows[1]["Odkupnina"], "");
    assert!(
        submission
            .data
            .unwrap()
            .starts_with("VrstaPosiljke;CrtnaKoda;Naziv;")
    );
    let document = receipt.document.unwrap();
    assert!(document.data.starts_with(b"%PDF"));
    if let Some(list) = pdf_text(&document.data, "handover-list") {
        assert!(list.contains("RA000000102SI"), "{list}");
        assert!(list.contains("RA000000116SI"), "{list}");
        assert!(list.contains(&guid), "{list}");
    }

    // Handed over: no cancelling any more.
    let refused = carrier
        .cancel(std::slice::from_ref(&first.shipment_id))
        .await?;
    assert_eq!(refused[0].as_ref().unwrap_err().kind, ErrorKind::Conflict);

    // Handing the same number over again is refused by eOddaja, naming the row.
    let error = connector_error(
        carrier
            .hand_over("2026-12-04", &handed[..1])
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert_eq!(error.platform_code.as_deref(), Some("Error"));
    assert!(
        error.message.contains("vrstica 2 (RA000000102SI)"),
        "{}",
        error.message
    );
    Ok(())
}

#[tokio::test]
async fn posta_concurrent_creates_never_share_a_number() -> anyhow::Result<()> {
    let fake = FakePosta::start().await?;
    let (_host, carrier) = connector(&fake, &[]).await?;
    let calls = (0..20).map(|index| {
        let carrier = &carrier;
        async move {
            carrier
                .create_shipments(&[shipment(&format!("C-{index}"))])
                .await
        }
    });
    let results = futures::future::join_all(calls).await;
    let numbers: BTreeSet<u32> = results
        .into_iter()
        .map(|result| {
            let created = result.unwrap().remove(0).unwrap();
            S10::parse(&created.shipment_id).unwrap().serial()
        })
        .collect();
    assert_eq!(numbers.len(), 20, "twenty distinct numbers");
    assert_eq!(numbers, (10..30).collect(), "and none skipped");
    Ok(())
}

#[tokio::test]
async fn posta_the_range_runs_out() -> anyhow::Result<()> {
    let fake = FakePosta::start().await?;
    let (_host, carrier) = connector(
        &fake,
        &[
            ("first_number", "CP00000001SI"),
            ("last_number", "CP00000002SI"),
        ],
    )
    .await?;
    let results = carrier
        .create_shipments(&[shipment("A"), shipment("B"), shipment("C")])
        .await?;
    assert!(results[0].is_ok() && results[1].is_ok());
    let error = results[2].as_ref().unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert_eq!(error.field.as_deref(), Some("last_number"));
    let error = connector_error(
        carrier
            .create_shipments(&[shipment("D")])
            .await
            .unwrap_err(),
    );
    assert_eq!(error.field.as_deref(), Some("last_number"));
    assert!(error.message.contains("used up"), "{}", error.message);
    Ok(())
}

#[tokio::test]
async fn posta_label_layouts() -> anyhow::Result<()> {
    let fake = FakePosta::start().await?;
    let (_host, carrier) = connector(&fake, &[("label_format", "A6 on A4")]).await?;
    let created = carrier
        .create_shipments(&[cod_shipment("2026-00050")])
        .await?
        .remove(0)
        .unwrap();
    let sheet = created.label.unwrap().data;
    let (pages, size) = pdf_pages(&sheet, "a4-label");
    assert_eq!(pages, 1);
    if let Some(size) = size {
        assert!(
            size.starts_with("595.2"),
            "A4 is 595.28 x 841.89 pt: {size}"
        );
    }
    if let Some(text) = pdf_text(&sheet, "a4-label") {
        assert!(text.contains("Čučkova ulica 5"), "{text}");
    }
    if let Some(codes) = barcodes(&sheet, "a4-label") {
        assert_eq!(codes, [created.shipment_id]);
    }

    // A whole batch (the connector's `max_batch`) drawn in one call, within the
    // plugin's memory and time limits.
    let batch: Vec<ShipmentRequest> = (0..50)
        .map(|index| cod_shipment(&format!("B-{index}")))
        .collect();
    let drawn = carrier.create_shipments(&batch).await?;
    assert_eq!(drawn.len(), 50);
    assert!(drawn.iter().all(|created| {
        created
            .as_ref()
            .is_ok_and(|created| created.label.is_some())
    }));

    // The layouts themselves: six labels on six A6 pages, or on two A4 sheets.
    let shipment = Shipment::from_request(
        &to_contract(&cod_shipment("L")),
        &Defaults {
            item_type: "109".into(),
        },
    )
    .unwrap();
    let labels: Vec<LabelData> = (0..6)
        .map(|serial| LabelData {
            number: S10::new(*b"RA", 500 + serial),
            shipment: shipment.clone(),
            item_type_name: Some("Mali paket".into()),
            date: "03.12.2026".into(),
        })
        .collect();
    let a6 = label::render(&labels, Layout::A6).unwrap();
    assert_eq!(pdf_pages(&a6, "six-a6").0, 6);
    let a4 = label::render(&labels, Layout::A4FourUp).unwrap();
    let (pages, size) = pdf_pages(&a4, "six-a4");
    assert_eq!(pages, 2);
    if let Some(size) = size {
        assert!(size.starts_with("595.2"), "{size}");
    }
    if let Some(text) = pdf_text(&a4, "six-a4") {
        assert_eq!(text.matches("Čučkova ulica 5").count(), 6, "{text}");
    }
    if let Some(codes) = barcodes(&a4, "six-a4") {
        assert_eq!(codes.len(), 4, "four labels on the first sheet: {codes:?}");
    }
    Ok(())
}

/// The harness's request as the contract's, for the connector's own functions.
fn to_contract(request: &ShipmentRequest) -> tovor_sdk::carrier::ShipmentRequest {
    let address = |address: &Address| tovor_sdk::types::Address {
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
    };
    tovor_sdk::carrier::ShipmentRequest {
        reference: request.reference.clone(),
        sender: address(&request.sender),
        recipient: address(&request.recipient),
        parcels: request
            .parcels
            .iter()
            .map(|parcel| tovor_sdk::carrier::Parcel {
                weight_grams: parcel.weight_grams,
                length_mm: parcel.length_mm,
                width_mm: parcel.width_mm,
                height_mm: parcel.height_mm,
            })
            .collect(),
        cash_on_delivery: request.cash_on_delivery.as_ref().map(|cod| {
            tovor_sdk::carrier::CashOnDelivery {
                amount: cod.amount.to_string(),
                currency: cod.currency.clone(),
                reference: cod.reference.clone(),
            }
        }),
        pickup_point: None,
        services: request.services.clone(),
        value: request.value.map(|value| value.to_string()),
        currency: request.currency.clone(),
        note: request.note.clone(),
    }
}

#[tokio::test]
async fn posta_refusals_and_outages_are_typed() -> anyhow::Result<()> {
    let fake = FakePosta::start().await?;

    // Wrong ids: GetGuid answers a ResultCode other than Normal.
    let (_host, wrong) = connector(&fake, &[("komitent_id", "99999")]).await?;
    let error = connector_error(wrong.check_connection().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Auth);
    assert_eq!(error.platform_code.as_deref(), Some("Error"));

    let (_host, carrier) = connector(&fake, &[("request_timeout_ms", "1500")]).await?;
    // What eOddaja would refuse is refused before a number is spent.
    let mut bad = shipment("BAD");
    bad.recipient.postal_code = Some("20000".into());
    let results = carrier.create_shipments(&[bad, shipment("GOOD")]).await?;
    let error = results[0].as_ref().unwrap_err();
    assert_eq!(error.field.as_deref(), Some("recipient.postal-code"));
    let good = results[1].as_ref().unwrap();
    assert_eq!(
        good.shipment_id, "RA000000102SI",
        "the first number of the range"
    );

    // A row eOddaja refuses: the hand-over fails whole, typed, and names the row.
    let mut edited = shipment("GOOD");
    edited.cash_on_delivery = Some(CashOnDelivery {
        amount: Decimal::new(1000, 2),
        currency: "EUR".into(),
        reference: None,
    });
    let mut handed = vec![handover_shipment(good, shipment("GOOD"))];
    // A shipment whose number is not valid never reaches eOddaja.
    handed.push(HandoverShipment {
        shipment_id: "RA000000101SI".into(),
        tracking_numbers: vec!["RA000000101SI".into()],
        request: edited.clone(),
        created_at: time::OffsetDateTime::now_utc(),
    });
    let error = connector_error(carrier.hand_over("2026-12-03", &handed).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert_eq!(error.field.as_deref(), Some("tracking-numbers"));
    assert!(fake.submissions().is_empty(), "nothing sent");

    // eOddaja down: transient, nothing recorded, and the next try goes through.
    fake.set_down(true);
    let error = connector_error(
        carrier
            .hand_over("2026-12-03", &handed[..1])
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::Transient);
    assert_eq!(error.http_status, Some(503));
    let error = connector_error(carrier.check_connection().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Transient);
    fake.set_down(false);

    // The status answer lost after the data went in: the next try asks about that
    // submission instead of sending the data a second time.
    fake.set_slow_operation("GetStatus", Duration::from_secs(4));
    let timed_out = carrier
        .hand_over("2026-12-03", &handed[..1])
        .await
        .unwrap_err();
    // The host saw the request time out: a failure to try again later.
    assert!(
        matches!(timed_out, CallError::Http { .. }) && timed_out.is_retryable(),
        "{timed_out:?}"
    );
    fake.set_slow_operation("GetStatus", Duration::ZERO);
    let receipt = carrier.hand_over("2026-12-03", &handed[..1]).await?;
    let submissions = fake.submissions();
    assert_eq!(submissions.len(), 1, "one submission: {submissions:?}");
    assert_eq!(
        receipt.reference.as_deref(),
        Some(submissions[0].guid.as_str())
    );
    assert!(submissions[0].accepted);
    assert_eq!(
        fake.operations(),
        ["GetGuid", "GetGuid", "PostData", "GetStatus", "GetStatus"],
        "the refused connection check, then one submission; the second try only asked"
    );
    Ok(())
}
