//! Documents end to end, through the service's API on SQLite and PostgreSQL: a
//! multi-rate order with a discount, shipping and a rounding cent, pushed by a custom
//! platform, invoiced, and printed as a PDF whose text (pdftotext) shows every line, the
//! VAT recap and the totals to the cent, whose UPN QR code (pdftoppm, zbarimg) reads
//! back with the amount, IBAN and reference, and whose e-SLOG and UBL exports carry
//! the same sums. The company profile refuses what it cannot use.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use mail_parser::MimeHeaders;
use reqwest::Method;
use serde_json::{Value, json};
use tovor_tests::service::{Db, TestService, quick_workers};
use tovor_tests::tool_available;

tovor_tests::on_both_databases!(
    an_invoice_prints_with_its_recap_totals_and_payment_code,
    a_profile_refuses_what_documents_cannot_use,
    a_sent_invoice_arrives_with_its_pdf_after_the_server_comes_back,
);

const IBAN: &str = "SI56191000000123438";

struct Session {
    service: TestService,
    token: String,
}

impl Session {
    async fn start(db: Db) -> Self {
        let workers = quick_workers(&format!("documents-{}", std::process::id()));
        let service = TestService::start_with(db, workers).await.unwrap();
        let token = service.company("Trgovina").await.unwrap();
        Self { service, token }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.service
            .call(method, path, Some(&self.token), body)
            .await
            .unwrap()
    }

    /// `GET path` as bytes, with the content type.
    async fn bytes(&self, path: &str) -> (u16, String, Vec<u8>) {
        let get = Method::GET;
        self.service
            .download(get, path, &self.token, None)
            .await
            .unwrap()
    }
}

/// A sole trader's order (a VAT number, so it can go out as a Peppol e-invoice): two
/// lines at 22 % (one with a discount), one at 9.5 %, shipping at 22 %, net prices; the
/// shop's total is a cent above the lines' sum. Unpaid, by bank transfer.
fn order() -> Value {
    json!({
        "id": "W-1001",
        "number": "1001",
        "status": "processing",
        "payment_status": "unpaid",
        "payment_method": {"code": "bacs", "title": "Bančno nakazilo"},
        "currency": "EUR",
        "prices_include_tax": false,
        "created_at": "2026-11-28T09:00:00Z",
        "modified_at": "2026-11-28T09:00:00Z",
        "customer": {"email": "ziga@example.si", "first_name": "Žiga", "last_name": "Đurić",
                     "company": "Đurić s.p.", "vat_id": "SI23456787"},
        "billing": {"name": "Žiga Đurić", "line1": "Čučkova ulica 5", "city": "Maribor",
                    "postal_code": "2000", "country": "SI", "email": "ziga@example.si"},
        "lines": [
            {"sku": "MUG-2", "name": "Skodelica Čaj", "quantity": "2", "unit_price": "10.00",
             "discount": "2.00", "tax_rate": "22", "tax_amount": "3.96", "total": "18.00"},
            {"sku": "TEA-3", "name": "Žajbljev čaj", "quantity": "3", "unit_price": "4.59",
             "tax_rate": "9.5", "tax_amount": "1.31", "total": "13.77"},
            {"sku": "SCARF", "name": "Šal iz volne", "quantity": "1", "unit_price": "25.00",
             "tax_rate": "22", "tax_amount": "5.50", "total": "25.00"},
        ],
        "shipping_lines": [{"title": "Dostava po Sloveniji", "amount": "4.10",
                            "tax_rate": "22", "tax_amount": "0.90"}],
        "shipping_total": "4.10",
        "discount_total": "2.00",
        "tax_total": "11.67",
        "total": "72.55"
    })
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tovor-documents-e2e-{}", std::process::id()));
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

/// Every element's text by local name, in document order.
fn texts<'a>(document: &'a roxmltree::Document, name: &str) -> Vec<&'a str> {
    document
        .descendants()
        .filter(|node| node.tag_name().name() == name)
        .filter_map(|node| node.text())
        .collect()
}

/// e-SLOG's monetary amounts: (qualifier, amount) of every `S_MOA`.
fn eslog_amounts(document: &roxmltree::Document) -> Vec<(String, String)> {
    document
        .descendants()
        .filter(|node| node.tag_name().name() == "C_C516")
        .map(|node| {
            let child = |name: &str| {
                node.children()
                    .find(|child| child.tag_name().name() == name)
                    .and_then(|child| child.text())
                    .unwrap_or_default()
                    .to_owned()
            };
            (child("D_5025"), child("D_5004"))
        })
        .collect()
}

/// A company with its profile and a custom platform shop, and the invoice of
/// [`order`]: the session, the invoice and the order's id.
async fn invoiced(db: Db) -> (Session, Value, Value) {
    let s = Session::start(db).await;
    let (status, profile) = s
        .call(
            Method::PUT,
            "/api/v1/company/profile",
            Some(json!({
                "legal_name": "Trgovina Čebelica d.o.o.",
                "street": "Dunajska cesta 5",
                "postal_code": "1000",
                "city": "Ljubljana",
                "country": "SI",
                "vat_id": "SI12345679",
                "registration_number": "1234567000",
                "iban": "SI56 1910 0000 0123 438",
                "bic": "DBSISI2X",
                "footer": "Vpis v sodni register: Okrožno sodišče v Ljubljani",
            })),
        )
        .await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["iban"], IBAN);
    let (status, warehouse) = s
        .call(
            Method::POST,
            "/api/v1/warehouses",
            Some(json!({"name": "Glavno"})),
        )
        .await;
    assert_eq!(status, 201, "{warehouse}");
    let (status, shop) = s
        .call(
            Method::POST,
            "/api/v1/shops",
            Some(json!({"name": "Lastna trgovina", "warehouse_id": warehouse["id"]})),
        )
        .await;
    assert_eq!(status, 201, "{shop}");
    let (status, pushed) = s
        .call(
            Method::POST,
            &format!("/api/v1/shops/{}/orders", shop["id"]),
            Some(order()),
        )
        .await;
    assert!(status == 200 || status == 201, "{status} {pushed}");
    let (status, invoice) = s
        .call(
            Method::POST,
            &format!("/api/v1/orders/{}/invoices", pushed["order_id"]),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 201, "{invoice}");
    let order_id = pushed["order_id"].clone();
    (s, invoice, order_id)
}

async fn an_invoice_prints_with_its_recap_totals_and_payment_code(db: Db) {
    let (s, invoice, order_id) = invoiced(db).await;
    let totals = &invoice["draft"]["totals"];
    assert_eq!(
        (
            &totals["net"],
            &totals["vat"],
            &totals["rounding"],
            &totals["gross"]
        ),
        (
            &json!("60.87"),
            &json!("11.67"),
            &json!("0.01"),
            &json!("72.55")
        )
    );
    let id = invoice["id"].as_i64().unwrap();
    let number = invoice["number"].as_str().unwrap().to_owned();

    let (status, content_type, pdf) = s.bytes(&format!("/api/v1/documents/{id}/pdf")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(content_type, "application/pdf");
    let path = scratch(&format!("invoice-{db:?}.pdf"));
    std::fs::write(&path, &pdf).unwrap();
    if tool_available("pdftotext") {
        let text = run(Command::new("pdftotext").arg("-layout").arg(&path).arg("-"));
        for expected in [
            "Trgovina Čebelica d.o.o.",
            "SI12345679",
            &format!("Račun {number}"),
            "Žiga Đurić",
            "SI23456787",
            "Čučkova ulica 5",
            "2000 Maribor",
            "1001",
            "Skodelica Čaj",
            "Žajbljev čaj",
            "Šal iz volne",
            "Dostava po Sloveniji",
            // The recap: 22 % on 47,10 is 10,36; 9,5 % on 13,77 is 1,31.
            "47,10",
            "10,36",
            "13,77",
            "1,31",
            // Totals and the rounding cent.
            "60,87",
            "11,67",
            "0,01",
            "72,55",
            "Bančno nakazilo",
            "Okrožno sodišče v Ljubljani",
        ] {
            assert!(text.contains(expected), "{expected:?} not in:\n{text}");
        }
    }
    if tool_available("pdftoppm") && tool_available("zbarimg") {
        let png = scratch(&format!("invoice-{db:?}"));
        run(Command::new("pdftoppm")
            .args(["-r", "200", "-png", "-singlefile"])
            .arg(&path)
            .arg(&png));
        let decoded = run(Command::new("zbarimg")
            .args(["--quiet", "--raw", "-Sqrcode.enable", "-Sean13.disable"])
            .arg(png.with_extension("png")));
        let fields: Vec<&str> = decoded.lines().collect();
        assert_eq!(fields.first(), Some(&"UPNQR"), "{decoded}");
        // Field 9 is the amount in cents, 11 digits; 15 the IBAN; 16 the reference.
        assert_eq!(fields[8], "00000007255", "{fields:?}");
        assert_eq!(fields[14], IBAN, "{fields:?}");
        assert!(fields[15].starts_with("SI00"), "{fields:?}");
        assert_eq!(fields[16], "Trgovina Čebelica d.o.o.");
    }

    // e-SLOG and UBL carry the same sums as the PDF.
    let (status, content_type, eslog) = s
        .bytes(&format!("/api/v1/documents/{id}/einvoice?format=eslog"))
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&eslog));
    assert_eq!(content_type, "application/xml");
    let eslog = String::from_utf8(eslog).unwrap();
    let eslog = roxmltree::Document::parse(&eslog).unwrap();
    let amounts = eslog_amounts(&eslog);
    for (code, amount) in [
        ("79", "60.87"),
        ("176", "11.67"),
        ("366", "0.01"),
        ("9", "72.55"),
    ] {
        assert!(
            amounts.contains(&(code.to_owned(), amount.to_owned())),
            "MOA {code} {amount} not in {amounts:?}"
        );
    }
    for (code, amount) in [
        ("125", "47.10"),
        ("124", "10.36"),
        ("125", "13.77"),
        ("124", "1.31"),
    ] {
        assert!(
            amounts.contains(&(code.to_owned(), amount.to_owned())),
            "MOA {code} {amount} not in {amounts:?}"
        );
    }
    let (status, _, ubl) = s
        .bytes(&format!("/api/v1/documents/{id}/einvoice?format=ubl"))
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&ubl));
    let ubl = String::from_utf8(ubl).unwrap();
    let ubl = roxmltree::Document::parse(&ubl).unwrap();
    // The document's sum comes first (LegalMonetaryTotal), then each line's; the lines
    // add up to it.
    let line_sums = texts(&ubl, "LineExtensionAmount");
    assert_eq!(line_sums.first(), Some(&"60.87"), "{line_sums:?}");
    let lines: rust_decimal::Decimal = line_sums[1..]
        .iter()
        .map(|sum| sum.parse::<rust_decimal::Decimal>().unwrap())
        .sum();
    assert_eq!(lines.to_string(), "60.87");
    assert_eq!(texts(&ubl, "TaxExclusiveAmount"), ["60.87"]);
    assert_eq!(texts(&ubl, "TaxInclusiveAmount"), ["72.54"]);
    assert_eq!(texts(&ubl, "PayableRoundingAmount"), ["0.01"]);
    assert_eq!(texts(&ubl, "PayableAmount"), ["72.55"]);
    assert!(texts(&ubl, "TaxAmount").contains(&"11.67"));
    assert!(texts(&ubl, "ID").contains(&IBAN));
    let (status, body) = s
        .call(
            Method::GET,
            &format!("/api/v1/documents/{id}/einvoice?format=pdf"),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "format");

    // Printed together with its delivery note: one PDF, the note without prices.
    let (status, note) = s
        .call(
            Method::POST,
            &format!("/api/v1/orders/{order_id}/delivery-notes"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 201, "{note}");
    let both = s
        .service
        .http
        .post(s.service.url("/api/v1/documents/pdf"))
        .bearer_auth(&s.token)
        .json(&json!({"document_ids": [id, note["id"]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 200);
    let both = both.bytes().await.unwrap();
    assert_eq!(
        tovor_labels::page_count(&both).unwrap(),
        tovor_labels::page_count(&pdf).unwrap() + 1
    );
    let (status, body) = s
        .call(Method::GET, "/api/v1/documents/999999/pdf", None)
        .await;
    assert_eq!(status, 404, "{body}");
    s.service.stop().await;
}

async fn a_profile_refuses_what_documents_cannot_use(db: Db) {
    let s = Session::start(db).await;
    let (status, profile) = s.call(Method::GET, "/api/v1/company/profile", None).await;
    assert_eq!(status, 200);
    assert_eq!(profile["time_zone"], "Europe/Ljubljana");
    assert_eq!(profile["language"], "sl");
    assert!(profile["updated_at"].is_null());
    for (body, field) in [
        (json!({"iban": "SI56191000000123439"}), "iban"),
        (json!({"vat_id": "SI12345678"}), "vat_id"),
        (json!({"time_zone": "Europe/Atlantis"}), "time_zone"),
        (json!({"language": "de"}), "language"),
        (json!({"country": "Slovenia"}), "country"),
        (json!({"colour": "blue"}), "colour"),
    ] {
        let (status, error) = s
            .call(Method::PUT, "/api/v1/company/profile", Some(body.clone()))
            .await;
        assert_eq!(status, 400, "{body}: {error}");
        assert_eq!(error["error"]["field"], field, "{error}");
    }
    let (status, profile) = s
        .call(
            Method::PUT,
            "/api/v1/company/profile",
            Some(json!({"time_zone": "America/New_York", "language": "en"})),
        )
        .await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["time_zone"], "America/New_York");
    // A logo must be the image it says it is.
    let put = |content_type: &'static str, body: Vec<u8>| {
        s.service
            .http
            .put(s.service.url("/api/v1/company/logo"))
            .bearer_auth(&s.token)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
    };
    assert_eq!(
        put("image/png", b"GIF89a".to_vec()).await.unwrap().status(),
        400
    );
    assert_eq!(
        put("image/gif", b"GIF89a".to_vec()).await.unwrap().status(),
        400
    );
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    assert_eq!(put("image/png", png.clone()).await.unwrap().status(), 204);
    let (status, content_type, logo) = s.bytes("/api/v1/company/logo").await;
    assert_eq!(
        (status, content_type.as_str(), logo),
        (200, "image/png", png)
    );
    let (_, profile) = s.call(Method::GET, "/api/v1/company/profile", None).await;
    assert_eq!(profile["has_logo"], true);
    s.service.stop().await;
}

/// Whether Python's aiosmtpd is there to be the SMTP server (`.ci/tools` installs it).
fn aiosmtpd_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        let required = std::env::var("TOVOR_REQUIRE_TOOLS")
            .is_ok_and(|value| !value.is_empty() && value != "0");
        assert!(
            !required,
            "aiosmtpd is not installed and TOVOR_REQUIRE_TOOLS is set"
        );
        eprintln!("skipped: python3 -m pip install aiosmtpd to run the e-mail test");
    }
    found
}

/// The tests' SMTP server (aiosmtpd) on `port`, keeping what it receives in `dir`;
/// it answers 451 to the first `tempfail` messages. Killed when dropped.
struct SmtpServer(std::process::Child);

impl SmtpServer {
    fn start(port: u16, dir: &std::path::Path, tempfail: u32) -> Self {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../host/mail/tests/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args([
                "--port",
                &port.to_string(),
                "--tempfail-first",
                &tempfail.to_string(),
            ])
            .arg("--out-dir")
            .arg(dir)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The server prints its port once it listens.
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        assert_eq!(line.trim(), port.to_string());
        Self(child)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The invoice e-mailed to the buyer with its PDF and UBL e-invoice: the mail server is
/// down at first and then answers 451 once, so the send is tried again until it goes,
/// and the document says so.
async fn a_sent_invoice_arrives_with_its_pdf_after_the_server_comes_back(db: Db) {
    if !aiosmtpd_available() {
        return;
    }
    let (s, invoice, _) = invoiced(db).await;
    let id = invoice["id"].as_i64().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (status, smtp) = s
        .call(
            Method::PUT,
            "/api/v1/company/smtp",
            Some(
                json!({"host": "127.0.0.1", "port": port, "security": "none",
                        "from_address": "racuni@trgovina.si", "from_name": "Trgovina Čebelica"}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{smtp}");
    let (status, send) = s
        .call(
            Method::POST,
            &format!("/api/v1/documents/{id}/send"),
            Some(json!({"einvoice": "ubl"})),
        )
        .await;
    assert_eq!(status, 202, "{send}");
    assert_eq!(send["to"], json!(["ziga@example.si"]));
    assert_eq!(send["state"], "queued");

    // Nothing listens yet: the attempt fails and the send waits for the next.
    let sends_path = format!("/api/v1/documents/{id}/sends");
    let waiting = s
        .service
        .eventually(std::time::Duration::from_secs(30), || async {
            let (_, sends) = s.call(Method::GET, &sends_path, None).await;
            let send = sends[0].clone();
            (send["attempts"].as_u64() >= Some(1) && send["last_error"].is_string()).then_some(send)
        })
        .await
        .expect("a failed attempt");
    assert_eq!(waiting["state"], "queued", "{waiting}");

    let dir = scratch(&format!("mail-{db:?}"));
    let _server = SmtpServer::start(port, &dir, 1);
    let sent = s
        .service
        .eventually(std::time::Duration::from_secs(60), || async {
            let (_, sends) = s.call(Method::GET, &sends_path, None).await;
            let send = sends[0].clone();
            (send["state"] != "queued").then_some(send)
        })
        .await
        .expect("the send to finish");
    assert_eq!(sent["state"], "sent", "{sent}");
    assert!(
        sent["attempts"].as_u64().unwrap() >= 3,
        "down, 451, delivered: {sent}"
    );
    assert!(sent["message_id"].is_string());

    let envelope: Value =
        serde_json::from_slice(&std::fs::read(dir.join("1.json")).unwrap()).unwrap();
    assert_eq!(envelope["rcpt_tos"], json!(["ziga@example.si"]));
    assert_eq!(envelope["mail_from"], "racuni@trgovina.si");
    let raw = std::fs::read(dir.join("1.eml")).unwrap();
    let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let number = invoice["number"].as_str().unwrap();
    assert_eq!(
        message.subject(),
        Some(format!("Račun {number} – Trgovina Čebelica d.o.o.").as_str())
    );
    assert!(
        message
            .body_text(0)
            .unwrap()
            .contains(&format!("Račun {number}"))
    );
    let attachments: Vec<(String, Vec<u8>)> = message
        .attachments()
        .map(|part| {
            (
                part.attachment_name().unwrap_or_default().to_owned(),
                part.contents().to_vec(),
            )
        })
        .collect();
    assert_eq!(
        attachments.len(),
        2,
        "{:?}",
        attachments.iter().map(|a| &a.0).collect::<Vec<_>>()
    );
    let (_, _, pdf) = s.bytes(&format!("/api/v1/documents/{id}/pdf")).await;
    assert_eq!(attachments[0].0, format!("invoice-{number}.pdf"));
    assert_eq!(attachments[0].1, pdf, "the PDF as the API serves it");
    assert_eq!(attachments[1].0, format!("invoice-{number}-ubl.xml"));
    assert!(String::from_utf8_lossy(&attachments[1].1).contains("<cbc:PayableAmount"));

    // A send to nobody, or in a format that does not exist, is refused at once.
    let (status, body) = s
        .call(
            Method::POST,
            &format!("/api/v1/documents/{id}/send"),
            Some(json!({"to": ["not an address"]})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = s
        .call(
            Method::POST,
            &format!("/api/v1/documents/{id}/send"),
            Some(json!({"einvoice": "pdf"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    s.service.stop().await;
}
