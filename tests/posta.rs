//! Pošta Slovenije end to end: orders from the fake WooCommerce, shipped with the real
//! Pošta Slovenije connector (Wasm) through the service's API, handed over to the fake
//! eOddaja, on SQLite and PostgreSQL.
//!
//! An order paid by a method mapped to cash on delivery → a shipment numbered from the
//! contract's S10 range with the amount to collect → an A6 label whose barcode reads
//! back (pdftoppm at 300 dpi, zbarimg) as the number → the day's hand-over, which
//! sends eOddaja a CSV row per shipment → `pending`, then `delivered` set by hand, as
//! Pošta tracks nothing for contract customers. Twenty shipments created at once get
//! twenty different numbers, and print four to an A4 sheet with every barcode readable.
//! A parcel handed over on an earlier day is `unknown` now: in Pošta's hands, out of
//! sight.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};
use tovor_fakes::posta::{self, FakePosta};
use tovor_fakes::woocommerce::{
    AddressSpec, CONSUMER_KEY, CONSUMER_SECRET, FakeWoo, OrderSpec, WEBHOOK_SECRET,
};
use tovor_tests::service::{Db, ShopSession, quick_workers};
use tovor_tests::tool_available;

tovor_tests::on_both_databases!(
    posta_cash_on_delivery_order_to_label_hand_over_and_delivered,
    posta_twenty_concurrent_shipments_get_distinct_numbers,
    posta_parcel_handed_over_yesterday_is_out_of_sight_today,
);

/// The contract's range in the tests: RA000000102SI onwards.
const FIRST: &str = "RA00000010SI";
const LAST: &str = "RA00099999SI";

struct Posta {
    s: ShopSession,
    woo: FakeWoo,
    posta: FakePosta,
    carrier: i64,
}

/// A company selling through WooCommerce whose "cod" payment method is mapped to a
/// cash-on-delivery method, with a Pošta Slovenije carrier connection.
async fn setup(db: Db) -> Posta {
    let woo = FakeWoo::start().await.unwrap();
    let fake = FakePosta::start().await.unwrap();
    let workers = quick_workers(&format!("posta-{}", std::process::id()));
    let config = json!({
        "url": woo.url(),
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
    });
    let s = ShopSession::start_with(
        db,
        "woocommerce",
        config,
        json!({}),
        &["posta-slovenije"],
        workers,
    )
    .await;
    let (status, method) = s
        .post(
            "/api/v1/payment-methods",
            json!({"code": "COD", "name": "Po povzetju", "cash_on_delivery": true}),
        )
        .await;
    assert_eq!(status, 201, "{method}");
    let (status, body) = s
        .service
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/shops/{}/payment-methods/cod", s.shop_id),
            Some(&s.token),
            Some(json!({"payment_method_id": method["id"]})),
        )
        .await
        .unwrap();
    assert!(status == 200 || status == 204, "mapping: {status} {body}");
    let (status, carrier) = s
        .post(
            "/api/v1/carriers",
            json!({
                "plugin": "posta-slovenije",
                "name": "Pošta Slovenije",
                "config": {
                    "komitent_id": posta::KOMITENT_ID,
                    "pogodba_id": posta::POGODBA_ID,
                    "posta_id": posta::POSTA_ID,
                    "podruznica_id": posta::PODRUZNICA_ID,
                    "environment": "test",
                    "first_number": FIRST,
                    "last_number": LAST,
                    "api_base": fake.api_base(),
                },
                "sender": {
                    "name": "Trgovina d.o.o.",
                    "street": "Dunajska cesta 5",
                    "city": "Ljubljana",
                    "postal_code": "1000",
                    "country": "SI",
                    "phone": "01 234 56 78",
                    "email": "info@trgovina.test",
                },
                "label_format": "A6",
                "tell_shop": "off",
            }),
        )
        .await;
    assert_eq!(status, 201, "{carrier}");
    Posta {
        s,
        woo,
        posta: fake,
        carrier: carrier["id"].as_i64().unwrap(),
    }
}

impl Posta {
    /// A mug ordered by Žiga from Maribor: cash on delivery and unpaid when `cod`,
    /// else paid by card. Returns the imported order.
    async fn order(&self, sku: &str, cod: bool) -> Value {
        let mug = self
            .woo
            .add_simple_product(sku, "Skodelica", "12.40", Some(50));
        let ziga = AddressSpec {
            phone: "040 111 222".into(),
            ..AddressSpec::new("Žiga", "Đurić", "Čučkova ulica 5", "2000", "Maribor", "SI")
        };
        let spec = OrderSpec::new()
            .guest(ziga)
            .line(mug, None, 2)
            .shipping("Pošta Slovenije", "3.90");
        let spec = if cod {
            spec.payment("cod", "Po povzetju").paid(false)
        } else {
            spec.payment("card", "Kartica").paid(true)
        };
        let placed = self.woo.create_order(&spec);
        let woo_id = placed["id"].as_u64().unwrap();
        let status = self
            .woo
            .deliver(
                &self.s.webhook_url,
                &self.woo.delivery("order.created", woo_id),
            )
            .await
            .unwrap();
        assert_eq!(status, 200);
        self.s.order_where(&woo_id.to_string(), |_| true).await
    }

    async fn ship(&self, order: &Value) -> (u16, Value) {
        self.s
            .post(
                &format!("/api/v1/orders/{}/shipments", order["id"]),
                json!({"carrier_id": self.carrier, "weight_grams": 1200}),
            )
            .await
    }

    /// `GET path` as raw bytes: (status, content type, body).
    async fn download(&self, path: &str) -> (u16, String, Vec<u8>) {
        let token = &self.s.token;
        let get = reqwest::Method::GET;
        self.s
            .service
            .download(get, path, token, None)
            .await
            .unwrap()
    }

    /// The shipments' labels printed on `sheet` through `POST /api/v1/labels`.
    async fn print(&self, ids: &[i64], sheet: &str) -> (u16, String, Vec<u8>) {
        let body = json!({"shipment_ids": ids, "sheet": sheet});
        let (post, token) = (reqwest::Method::POST, &self.s.token);
        self.s
            .service
            .download(post, "/api/v1/labels", token, Some(body))
            .await
            .unwrap()
    }
}

/// Today's date (UTC, as the host's hand-over days are): every shipment created so far
/// belongs to its list.
fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

/// Two letters, eight digits, the S10 check digit, `SI`.
fn valid_s10(number: &str) -> bool {
    posta::valid_s10(number)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tovor-posta-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("checked with tool_available");
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn posta_cash_on_delivery_order_to_label_hand_over_and_delivered(db: Db) {
    let t = setup(db).await;
    let order = t.order("MUG-COD", true).await;

    let (status, shipment) = t.ship(&order).await;
    assert_eq!(status, 201, "{shipment}");
    assert_eq!(shipment["state"], "created");
    assert_eq!(shipment["cash_on_delivery"]["amount"], order["total"]);
    assert_eq!(shipment["cash_on_delivery"]["currency"], "EUR");
    let number = shipment["tracking_numbers"][0].as_str().unwrap().to_owned();
    assert!(valid_s10(&number), "{number}");
    assert_eq!(number, "RA000000102SI", "the range's first number");
    assert_eq!(shipment["carrier_shipment_id"], number.as_str());
    let id = shipment["id"].as_i64().unwrap();

    // The label drawn at creation: one A6 page whose barcode reads back as the number.
    let (status, content_type, pdf) = t.download(&format!("/api/v1/shipments/{id}/label")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(content_type, "application/pdf");
    assert_eq!(tovor_labels::page_count(&pdf).unwrap(), 1);
    let path = scratch(&format!("label-{db:?}-{id}.pdf"));
    std::fs::write(&path, &pdf).unwrap();
    if tool_available("pdfinfo") {
        let info = run(Command::new("pdfinfo").arg(&path));
        assert!(info.contains("297.6"), "A6: {info}");
    }
    let amount = order["total"].as_str().unwrap().replace('.', ",");
    if tool_available("pdftotext") {
        let text = run(Command::new("pdftotext").arg("-layout").arg(&path).arg("-"));
        for expected in [
            "Čučkova ulica 5",
            "Žiga Đurić",
            "2000 Maribor",
            "Trgovina d.o.o.",
            "ODKUPNINA",
            &format!("{amount} EUR"),
            "RA 0000 0010 2 SI",
        ] {
            assert!(text.contains(expected), "{expected:?} not in:\n{text}");
        }
    }
    if tool_available("pdftoppm") && tool_available("zbarimg") {
        let png = scratch(&format!("label-{db:?}-{id}"));
        run(Command::new("pdftoppm")
            .args(["-r", "300", "-png", "-singlefile"])
            .arg(&path)
            .arg(&png));
        let decoded = run(Command::new("zbarimg")
            .args(["--quiet", "--raw"])
            .arg(png.with_extension("png")));
        assert_eq!(decoded.trim(), number);
    }

    // The day's hand-over: one submission with the shipment's row, taken by eOddaja.
    let (status, handover) =
        t.s.post(
            &format!("/api/v1/carriers/{}/handovers", t.carrier),
            json!({"date": today()}),
        )
        .await;
    assert_eq!(status, 201, "{handover}");
    assert_eq!(handover["carrier_id"], t.carrier);
    assert_eq!(handover["date"], today());
    assert_eq!(handover["state"], "done");
    assert_eq!(handover["shipment_ids"], json!([id]));
    assert_eq!(handover["has_document"], true);
    let guid = handover["reference"].as_str().unwrap();
    let submission = t.posta.submission(guid).unwrap();
    assert!(submission.accepted, "{:?}", submission.problems);
    assert_eq!(submission.rows.len(), 1);
    let row = &submission.rows[0];
    assert_eq!(row["CrtnaKoda"], number);
    assert_eq!(row["Naziv"], "Žiga Đurić");
    assert_eq!(row["Naslov"], "Čučkova ulica 5");
    assert_eq!(row["PostnaSt"], "2000");
    assert_eq!(row["NazivPoste"], "Maribor");
    assert_eq!(row["Drzava"], "705");
    assert_eq!(row["TelSt"], "0038640111222");
    assert_eq!(row["Masa"], "1200");
    assert_eq!(row["DodatneStoritve"], "ODK");
    assert_eq!(row["Odkupnina"], amount);
    let (status, content_type, document) = t
        .download(&format!("/api/v1/handovers/{}/document", handover["id"]))
        .await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/pdf");
    assert!(document.starts_with(b"%PDF"));

    // Handed over: pending, in that hand-over. Nothing else waits for a list.
    let shipment = t.s.get(&format!("/api/v1/shipments/{id}")).await;
    assert_eq!(shipment["status"], "pending");
    assert_eq!(shipment["handover_id"], handover["id"]);
    let (status, body) =
        t.s.post(
            &format!("/api/v1/carriers/{}/handovers", t.carrier),
            json!({"date": today()}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(t.posta.submissions().len(), 1);

    // Pošta tells nothing more: the delivery is set by hand.
    let (status, shipment) =
        t.s.post(
            &format!("/api/v1/shipments/{id}/status"),
            json!({"status": "delivered", "note": "Prevzel sosed"}),
        )
        .await;
    assert_eq!(status, 200, "{shipment}");
    assert_eq!(shipment["status"], "delivered");
}

async fn posta_twenty_concurrent_shipments_get_distinct_numbers(db: Db) {
    let t = setup(db).await;
    let mut orders = Vec::new();
    for index in 0..20 {
        orders.push(t.order(&format!("MUG-{index}"), index % 2 == 0).await);
    }

    // Twenty create calls in flight at once, each a connector call of its own.
    let answers = futures::future::join_all(orders.iter().map(|order| t.ship(order))).await;
    let mut numbers = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for (status, shipment) in &answers {
        assert_eq!(*status, 201, "{shipment}");
        let number = shipment["tracking_numbers"][0].as_str().unwrap().to_owned();
        assert!(valid_s10(&number), "{number}");
        numbers.insert(number);
        ids.insert(shipment["id"].as_i64().unwrap());
    }
    assert_eq!(numbers.len(), 20, "twenty different numbers: {numbers:?}");
    let serials: BTreeSet<u32> = numbers
        .iter()
        .map(|number| number[2..10].parse().unwrap())
        .collect();
    assert_eq!(serials, (10..30).collect(), "the range's first twenty");

    // Five labels printed four to an A4 sheet: two sheets, the first with four
    // barcodes that each read back as its shipment's number.
    let five: Vec<&Value> = answers
        .iter()
        .take(5)
        .map(|(_, shipment)| shipment)
        .collect();
    let five_ids: Vec<i64> = five
        .iter()
        .map(|shipment| shipment["id"].as_i64().unwrap())
        .collect();
    let (status, content_type, pdf) = t.print(&five_ids, "a4-4up").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(content_type, "application/pdf");
    assert_eq!(tovor_labels::page_count(&pdf).unwrap(), 2);
    let path = scratch(&format!("four-up-{db:?}.pdf"));
    std::fs::write(&path, &pdf).unwrap();
    if tool_available("pdfinfo") {
        let info = run(Command::new("pdfinfo").arg(&path));
        assert!(
            info.contains("595.2") && info.contains("841.8"),
            "A4: {info}"
        );
    }
    if tool_available("pdftoppm") && tool_available("zbarimg") {
        let png = scratch(&format!("four-up-{db:?}"));
        run(Command::new("pdftoppm")
            .args(["-r", "300", "-png", "-singlefile", "-f", "1", "-l", "1"])
            .arg(&path)
            .arg(&png));
        let decoded = run(Command::new("zbarimg")
            .args(["--quiet", "--raw"])
            .arg(png.with_extension("png")));
        let read: BTreeSet<&str> = decoded.lines().map(str::trim).collect();
        let expected: BTreeSet<&str> = five[..4]
            .iter()
            .map(|shipment| shipment["tracking_numbers"][0].as_str().unwrap())
            .collect();
        assert_eq!(read, expected, "the first sheet's four barcodes");
    }
    let (status, _, body) = t.print(&five_ids, "letter").await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));

    // One hand-over takes all twenty; eOddaja gets a row for each.
    let (status, handover) =
        t.s.post(
            &format!("/api/v1/carriers/{}/handovers", t.carrier),
            json!({"date": today()}),
        )
        .await;
    assert_eq!(status, 201, "{handover}");
    assert_eq!(handover["state"], "done");
    let handed: BTreeSet<i64> = handover["shipment_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_i64().unwrap())
        .collect();
    assert_eq!(handed, ids);
    let submission = t
        .posta
        .submission(handover["reference"].as_str().unwrap())
        .unwrap();
    assert!(submission.accepted, "{:?}", submission.problems);
    let sent: BTreeSet<String> = submission
        .rows
        .iter()
        .map(|row| row["CrtnaKoda"].clone())
        .collect();
    assert_eq!(sent, numbers);
    let cod_rows = submission
        .rows
        .iter()
        .filter(|row| row["DodatneStoritve"] == "ODK")
        .count();
    assert_eq!(cod_rows, 10, "the ten cash-on-delivery orders");
}

async fn posta_parcel_handed_over_yesterday_is_out_of_sight_today(db: Db) {
    let t = setup(db).await;
    let order = t.order("MUG-YESTERDAY", false).await;
    let (status, shipment) = t.ship(&order).await;
    assert_eq!(status, 201, "{shipment}");
    let id = shipment["id"].as_i64().unwrap();

    // The parcel was made yesterday, and yesterday's list is handed over late.
    let now = time::OffsetDateTime::now_utc();
    let yesterday = now - time::Duration::days(1);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    let created = yesterday.format(&format).unwrap();
    t.s.service
        .execute_sql(&format!(
            "UPDATE shipments SET created_at = '{created}' WHERE id = {id}"
        ))
        .await
        .unwrap();
    let (status, handover) =
        t.s.post(
            &format!("/api/v1/carriers/{}/handovers", t.carrier),
            json!({"date": yesterday.date().to_string()}),
        )
        .await;
    assert_eq!(status, 201, "{handover}");
    assert_eq!(handover["state"], "done");
    assert_eq!(handover["shipment_ids"], json!([id]));

    // Handed over for a day already past: the worker's next look finds the parcel in
    // Pošta's hands since this morning, and stops looking.
    let shipment =
        t.s.until("the parcel to be out of sight", || async {
            let shipment = t.s.get(&format!("/api/v1/shipments/{id}")).await;
            // The status and the end of looking are two writes: wait for both.
            (shipment["status"] == "unknown" && shipment["next_track_at"].is_null())
                .then_some(shipment)
        })
        .await;
    let codes: Vec<&str> = shipment["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["raw_code"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(codes, ["handover", "untracked"], "{shipment}");
    let untracked = &shipment["events"][1];
    assert_eq!(untracked["status"], "unknown");
    assert_eq!(
        untracked["at"].as_str().unwrap()[..10],
        now.date().to_string(),
        "out of sight from this morning"
    );
    assert!(shipment["next_track_at"].is_null(), "{shipment}");
}
