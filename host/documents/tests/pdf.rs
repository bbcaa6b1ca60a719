//! Rendered PDFs read back the way a person or a bank would: the text with
//! `pdftotext -layout`, the UPN QR code with `pdftoppm` and `zbarimg`, the pages with
//! lopdf. The command-line tools come from poppler-utils and zbar-tools; without them
//! those checks are skipped, unless `TOVOR_REQUIRE_TOOLS=1`, which makes that a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};

use rust_decimal::{Decimal, RoundingStrategy};
use time::macros::date;
use tovor_documents::model::{
    Logo, Party, PaymentDetails, PaymentMeans, PrintKind, PrintLine, Printable, Seller,
};
use tovor_documents::upn::{self, PaymentOrder};
use tovor_documents::{Language, PdfError, render_many, render_pdf};
use tovor_domain::document::{DocumentTotals, VatRecap};

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn round(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A line whose amounts add up: net = quantity × price − discount, VAT on the net.
fn line(
    sku: &str,
    name: &str,
    quantity: &str,
    unit: &str,
    price: &str,
    discount: &str,
    rate: &str,
) -> PrintLine {
    let (quantity, price, discount, rate) = (dec(quantity), dec(price), dec(discount), dec(rate));
    let net = round(quantity * price - discount);
    let vat = round(net * rate / Decimal::ONE_HUNDRED);
    PrintLine {
        sku: (!sku.is_empty()).then(|| sku.to_owned()),
        name: name.to_owned(),
        quantity,
        unit: unit.to_owned(),
        unit_price: price,
        discount,
        vat_rate: rate,
        net,
        vat,
        gross: net + vat,
        is_rounding: false,
    }
}

fn rounding_line(amount: &str) -> PrintLine {
    PrintLine {
        sku: None,
        name: "Zaokrožitev".to_owned(),
        quantity: Decimal::ONE,
        unit: "C62".to_owned(),
        unit_price: dec(amount),
        discount: Decimal::ZERO,
        vat_rate: Decimal::ZERO,
        net: dec(amount),
        vat: Decimal::ZERO,
        gross: dec(amount),
        is_rounding: true,
    }
}

/// The recap and totals of `lines`, as the domain drafts them.
fn recap_and_totals(lines: &[PrintLine]) -> (Vec<VatRecap>, DocumentTotals) {
    let mut rates: Vec<Decimal> = lines
        .iter()
        .filter(|l| !l.is_rounding)
        .map(|l| l.vat_rate)
        .collect();
    rates.sort();
    rates.dedup();
    let recap: Vec<VatRecap> = rates
        .into_iter()
        .map(|rate| {
            let at_rate = lines
                .iter()
                .filter(|l| !l.is_rounding && l.vat_rate == rate);
            let (base, vat) = at_rate.fold((Decimal::ZERO, Decimal::ZERO), |(b, v), l| {
                (b + l.net, v + l.vat)
            });
            VatRecap {
                rate,
                base,
                vat,
                gross: base + vat,
            }
        })
        .collect();
    let net = recap.iter().map(|r| r.base).sum::<Decimal>();
    let vat = recap.iter().map(|r| r.vat).sum::<Decimal>();
    let rounding = lines
        .iter()
        .filter(|l| l.is_rounding)
        .map(|l| l.gross)
        .sum::<Decimal>();
    (
        recap,
        DocumentTotals {
            net,
            vat,
            rounding,
            gross: net + vat + rounding,
        },
    )
}

fn seller() -> Seller {
    Seller {
        party: Party {
            name: "Čebelarstvo Žužek d.o.o.".to_owned(),
            address_lines: vec!["Šmartinska cesta 152".to_owned()],
            postal_code: "1000".to_owned(),
            city: "Ljubljana".to_owned(),
            country: "SI".to_owned(),
            vat_id: Some("SI12345678".to_owned()),
            registration_number: Some("1234567000".to_owned()),
            email: Some("info@zuzek.si".to_owned()),
            phone: Some("+386 1 234 56 78".to_owned()),
        },
        iban: Some("SI56191000000123438".to_owned()),
        bic: Some("DBSISI2X".to_owned()),
        logo: None,
        footer: Some(
            "Družba je vpisana pri Okrožnem sodišču v Ljubljani, vložna številka 1/12345/00. \
             Osnovni kapital družbe je v celoti vplačan."
                .to_owned(),
        ),
    }
}

fn buyer() -> Party {
    Party {
        name: "Ana Šćepanović".to_owned(),
        address_lines: vec!["Ulica Đure Đakovića 7".to_owned()],
        postal_code: "2000".to_owned(),
        city: "Maribor".to_owned(),
        country: "SI".to_owned(),
        vat_id: Some("SI87654321".to_owned()),
        ..Party::default()
    }
}

/// The multi-rate invoice: 9.5 % and 22 % lines, a discount, shipping and a rounding line.
fn invoice(language: Language) -> Printable {
    let lines = vec![
        line(
            "MED-450",
            "Gozdni med – kostanjev, 450 g",
            "4",
            "C62",
            "7.50",
            "0",
            "9.5",
        ),
        line(
            "PRO-30",
            "Propolisove kapljice z žajbljem",
            "2",
            "H87",
            "12.30",
            "2.46",
            "22",
        ),
        line(
            "VOS-1",
            "Čebelji vosek v ploščah",
            "1.5",
            "KGM",
            "10.00",
            "0",
            "22",
        ),
        line(
            "",
            "Poštnina – Pošta Slovenije",
            "1",
            "C62",
            "4.10",
            "0",
            "22",
        ),
        rounding_line("0.01"),
    ];
    let (vat_recap, totals) = recap_and_totals(&lines);
    Printable {
        kind: PrintKind::Invoice,
        number: "2026-00042".to_owned(),
        issued_on: date!(2026 - 12 - 03),
        delivered_on: Some(date!(2026 - 12 - 02)),
        language,
        currency: "EUR".to_owned(),
        seller: seller(),
        buyer: buyer(),
        ship_to: Some(Party {
            name: "Ana Šćepanović (služba)".to_owned(),
            address_lines: vec!["Tržaška cesta 21".to_owned()],
            postal_code: "1000".to_owned(),
            city: "Ljubljana".to_owned(),
            country: "SI".to_owned(),
            ..Party::default()
        }),
        order_number: Some("#1042".to_owned()),
        payment: PaymentDetails {
            method: Some("Bančno nakazilo".to_owned()),
            means: PaymentMeans::CreditTransfer,
            paid: false,
            due_on: Some(date!(2026 - 12 - 17)),
            reference: Some("SI00 2026-42".to_owned()),
            purpose: "Plačilo računa 2026-00042".to_owned(),
        },
        refers_to: None,
        lines,
        vat_recap,
        totals,
        show_prices: true,
        note: Some("Hvala za nakup! Med hranite na suhem in temnem mestu.".to_owned()),
    }
}

/// The UPN QR content the invoice should carry, built from the public API the way the
/// standard asks: payer = buyer, recipient = seller, purpose code GDSV.
fn expected_payload(doc: &Printable) -> String {
    let order = PaymentOrder {
        payer_name: doc.buyer.name.clone(),
        payer_street: doc.buyer.address_lines[0].clone(),
        payer_city: format!("{} {}", doc.buyer.postal_code, doc.buyer.city),
        amount: doc.totals.gross,
        purpose_code: "GDSV".to_owned(),
        purpose: doc.payment.purpose.clone(),
        due_date: doc.payment.due_on,
        recipient_iban: doc.seller.iban.clone().unwrap(),
        recipient_reference: doc.payment.reference.clone(),
        recipient_name: doc.seller.party.name.clone(),
        recipient_street: doc.seller.party.address_lines[0].clone(),
        recipient_city: format!("{} {}", doc.seller.party.postal_code, doc.seller.party.city),
        ..PaymentOrder::default()
    };
    upn::payload(&order).unwrap()
}

fn long_invoice(count: usize) -> Printable {
    let mut doc = invoice(Language::Sl);
    doc.number = "2026-00050".to_owned();
    doc.payment.purpose = "Plačilo računa 2026-00050".to_owned();
    doc.lines = (1..=count)
        .map(|n| {
            line(
                &format!("ART-{n:03}"),
                &format!("Izdelek številka {n}"),
                "1",
                "C62",
                "2.00",
                "0",
                "22",
            )
        })
        .collect();
    let (vat_recap, totals) = recap_and_totals(&doc.lines);
    doc.vat_recap = vat_recap;
    doc.totals = totals;
    doc.note = None;
    doc
}

fn delivery_note() -> Printable {
    let mut doc = invoice(Language::Sl);
    doc.kind = PrintKind::DeliveryNote;
    doc.number = "2026-00017".to_owned();
    doc.show_prices = false;
    doc.lines.retain(|line| !line.is_rounding);
    doc.lines[2].quantity = dec("2");
    doc
}

/// Whether a command-line tool can be run; see the module's comment.
fn tool(name: &str) -> bool {
    let found = Command::new(name)
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    let required = std::env::var("TOVOR_REQUIRE_TOOLS").is_ok_and(|v| !v.is_empty() && v != "0");
    assert!(
        found || !required,
        "{name} is not installed and TOVOR_REQUIRE_TOOLS is set"
    );
    if !found {
        eprintln!("skipped: {name} is not installed (poppler-utils, zbar-tools)");
    }
    found
}

fn write_pdf(dir: &Path, name: &str, pdf: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, pdf).unwrap();
    path
}

/// `pdftotext -layout` of the whole file, pages separated by form feeds.
fn pdf_text(path: &Path) -> String {
    let output = Command::new("pdftotext")
        .arg("-layout")
        .arg(path)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn page_count(pdf: &[u8]) -> usize {
    lopdf::Document::load_mem(pdf).unwrap().get_pages().len()
}

/// The UPN QR code of the PDF's last page, read with zbarimg from a 200 dpi rendering.
///
/// The symbol says (ECI 4) that its bytes are ISO 8859-2; zbar converts them to UTF-8
/// for its output. Should a zbar without ECI support print the raw bytes instead, they
/// are read as ISO 8859-2 here, so the comparison is of text, not of one tool's bytes.
fn read_qr(dir: &Path, pdf: &Path, pages: usize) -> String {
    let prefix = dir.join("page");
    let status = Command::new("pdftoppm")
        .args([
            "-r",
            "200",
            "-png",
            "-singlefile",
            "-f",
            &pages.to_string(),
            "-l",
            &pages.to_string(),
        ])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(status.success());
    let output = Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(dir.join("page.png"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "zbarimg found no code: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut bytes = output.stdout;
    // zbarimg ends each symbol's data with a newline of its own.
    assert_eq!(bytes.pop(), Some(b'\n'));
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => encoding_rs::ISO_8859_2
            .decode_without_bom_handling(error.as_bytes())
            .0
            .into_owned(),
    }
}

#[test]
fn slovenian_invoice_reads_back_with_amounts_and_payment_code() {
    let doc = invoice(Language::Sl);
    let pdf = render_pdf(&doc).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(page_count(&pdf), 1);
    if !tool("pdftotext") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write_pdf(dir.path(), "racun.pdf", &pdf);
    let text = pdf_text(&path);
    for expected in [
        "Račun 2026-00042",
        "Čebelarstvo Žužek d.o.o.",
        "ID za DDV: SI12345678",
        "Matična številka: 1234567000",
        "IBAN: SI56 1910 0000 0123 438",
        "BIC: DBSISI2X",
        "Kupec",
        "Ana Šćepanović",
        "Ulica Đure Đakovića 7",
        "2000 Maribor",
        "ID za DDV: SI87654321",
        "Naslov za dostavo",
        "Tržaška cesta 21",
        "Datum izdaje",
        "3. 12. 2026",
        "Datum opravljene storitve/dobave",
        "2. 12. 2026",
        "Rok plačila",
        "17. 12. 2026",
        "Številka naročila",
        "#1042",
        "Bančno nakazilo",
        "Hvala za nakup! Med hranite na suhem in temnem mestu.",
        "Zneski so v EUR",
        // The lines, with č š ž and their amounts.
        "Gozdni med – kostanjev, 450 g",
        "Propolisove kapljice z žajbljem",
        "Čebelji vosek v ploščah",
        "Poštnina – Pošta Slovenije",
        "MED-450",
        "kos",
        "kg",
        "1,5",
        "7,50",
        "30,00",
        "12,30",
        "2,46",
        "22,14",
        "27,01",
        "15,00",
        "4,10",
        // The recap: 9,5 % on 30,00 and 22 % on 41,24.
        "Rekapitulacija DDV",
        "9,5 %",
        "22 %",
        "2,85",
        "32,85",
        "41,24",
        "9,07",
        "50,31",
        // The totals, to the cent.
        "Skupaj brez DDV",
        "71,24 €",
        "11,92 €",
        "Zaokrožitev",
        "0,01 €",
        "Za plačilo",
        "83,17 €",
        "Sklic",
        "SI00 2026-42",
        "UPN QR",
        "Stran 1/1",
        "Družba je vpisana pri Okrožnem sodišču v Ljubljani",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    // The rounding line is in the totals, not among the lines.
    assert_eq!(text.matches("Zaokrožitev").count(), 1);

    if !tool("pdftoppm") || !tool("zbarimg") {
        return;
    }
    let decoded = read_qr(dir.path(), &path, 1);
    let expected = expected_payload(&doc);
    assert_eq!(decoded, expected);
    assert!(decoded.contains("\n00000008317\n"));
    assert!(decoded.contains("\nSI002026-42\n"));
    assert!(decoded.contains("\nAna Šćepanović\n"));
}

#[test]
fn english_invoice_reads_back() {
    let doc = invoice(Language::En);
    let pdf = render_pdf(&doc).unwrap();
    if !tool("pdftotext") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write_pdf(dir.path(), "invoice.pdf", &pdf);
    let text = pdf_text(&path);
    for expected in [
        "Invoice 2026-00042",
        "VAT ID: SI12345678",
        "Registration number: 1234567000",
        "Buyer",
        "Ship to",
        "Issue date",
        "3 December 2026",
        "Date of supply",
        "2 December 2026",
        "Due date",
        "17 December 2026",
        "Amounts in EUR",
        "pcs",
        "1.5",
        "22.14",
        "VAT summary",
        "9.5%",
        "22%",
        "41.24",
        "Total excluding VAT",
        "€71.24",
        "€11.92",
        "Rounding",
        "€0.01",
        "Total due",
        "€83.17",
        "UPN QR",
        "Page 1/1",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(!text.contains("Račun"));

    if !tool("pdftoppm") || !tool("zbarimg") {
        return;
    }
    assert_eq!(read_qr(dir.path(), &path, 1), expected_payload(&doc));
}

#[test]
fn long_invoice_continues_over_pages_with_the_header_repeated() {
    let doc = long_invoice(80);
    let pdf = render_pdf(&doc).unwrap();
    let pages = page_count(&pdf);
    assert!(pages >= 2, "80 lines on {pages} page(s)");
    if !tool("pdftotext") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write_pdf(dir.path(), "dolg.pdf", &pdf);
    let text = pdf_text(&path);
    let page_texts: Vec<&str> = text
        .split('\u{c}')
        .filter(|page| !page.trim().is_empty())
        .collect();
    assert_eq!(page_texts.len(), pages);
    let mut next_line = 1;
    for (index, page) in page_texts.iter().enumerate() {
        assert!(
            page.contains(&format!("Stran {}/{pages}", index + 1)),
            "page {}:\n{page}",
            index + 1
        );
        // Every page with lines on it starts them with the table's header.
        if page.contains("Izdelek številka") {
            assert!(
                page.contains("Šifra") && page.contains("Naziv") && page.contains("Količina"),
                "{page}"
            );
        }
        if index > 0 {
            assert!(page.contains("Račun 2026-00050 (nadaljevanje)"), "{page}");
        }
        // The lines run on in order from page to page.
        while let Some(at) = page
            .find(&format!("Izdelek številka {next_line}\n"))
            .or_else(|| page.find(&format!("Izdelek številka {next_line} ")))
        {
            assert!(at > 0);
            next_line += 1;
        }
    }
    assert_eq!(
        next_line,
        81,
        "lines found in order up to {}",
        next_line - 1
    );
    assert!(
        text.contains("160,00 €") && text.contains("195,20 €"),
        "{text}"
    );

    if !tool("pdftoppm") || !tool("zbarimg") {
        return;
    }
    assert_eq!(read_qr(dir.path(), &path, pages), expected_payload(&doc));
}

#[test]
fn long_texts_wrap_inside_their_cells() {
    let mut doc = invoice(Language::En);
    let long_name = "Propolisove kapljice z žajbljem in ameriškim slamnikom, brez alkohola, \
                     30 ml, v stekleni steklenički s kapalko";
    doc.lines[1].name = long_name.to_owned();
    doc.lines[0].sku = Some("MED-KOSTANJ-450G-2026-SERIJA-A".to_owned());
    doc.buyer.name =
        "Zelo dolgo ime podjetja za preizkus prelamljanja vrstic d.o.o., podružnica Koper"
            .to_owned();
    doc.payment.method =
        Some("Bank transfer to our account at the bank named in the letterhead".to_owned());
    let pdf = render_pdf(&doc).unwrap();
    assert_eq!(page_count(&pdf), 1);
    if !tool("pdftotext") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = pdf_text(&write_pdf(dir.path(), "long.pdf", &pdf));
    for word in long_name
        .split_whitespace()
        .chain(doc.buyer.name.split_whitespace())
    {
        assert!(text.contains(word), "{word:?} missing from:\n{text}");
    }
    // The wrapped line keeps its amounts.
    for expected in ["22.14", "27.01", "€83.17", "podružnica Koper"] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn delivery_note_without_prices_shows_no_amounts() {
    let doc = delivery_note();
    let pdf = render_pdf(&doc).unwrap();
    assert_eq!(page_count(&pdf), 1);
    if !tool("pdftotext") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = pdf_text(&write_pdf(dir.path(), "dobavnica.pdf", &pdf));
    for expected in [
        "Dobavnica 2026-00017",
        "Gozdni med – kostanjev, 450 g",
        "Čebelji vosek v ploščah",
        "Količina",
        "Bančno nakazilo",
        "Stran 1/1",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    for absent in [
        "€",
        "EUR",
        "Cena",
        "Popust",
        "Vrednost",
        "Rekapitulacija",
        "Za plačilo",
        "Skupaj",
        "UPN QR",
        "Rok plačila",
        "Sklic",
        "7,50",
        "30,00",
    ] {
        assert!(
            !text.contains(absent),
            "{absent:?} on a delivery note without prices:\n{text}"
        );
    }
    assert!(
        !text
            .chars()
            .collect::<Vec<_>>()
            .windows(4)
            .any(|w| w[0].is_ascii_digit()
                && w[1] == ','
                && w[2].is_ascii_digit()
                && w[3].is_ascii_digit()),
        "an amount on a delivery note without prices:\n{text}"
    );
}

#[test]
fn credit_note_and_cancellation_name_the_corrected_document_and_carry_no_payment_code() {
    let mut credit = invoice(Language::Sl);
    credit.kind = PrintKind::CreditNote;
    credit.number = "D-2026-0003".to_owned();
    credit.delivered_on = None;
    credit.payment.due_on = None;
    credit.refers_to = Some(tovor_documents::Reference {
        number: "2026-00042".to_owned(),
        issued_on: date!(2026 - 12 - 03),
    });
    let mut cancellation = credit.clone();
    cancellation.kind = PrintKind::Cancellation;
    cancellation.language = Language::En;
    for line in &mut cancellation.lines {
        line.quantity = -line.quantity;
        line.net = -line.net;
        line.vat = -line.vat;
        line.gross = -line.gross;
    }
    let (recap, totals) = recap_and_totals(&cancellation.lines);
    cancellation.vat_recap = recap;
    cancellation.totals = totals;
    if !tool("pdftotext") {
        render_pdf(&credit).unwrap();
        render_pdf(&cancellation).unwrap();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = pdf_text(&write_pdf(
        dir.path(),
        "dobropis.pdf",
        &render_pdf(&credit).unwrap(),
    ));
    for expected in [
        "Dobropis D-2026-0003",
        "Nanaša se na",
        "2026-00042 z dne 3. 12. 2026",
        "Skupaj",
        "83,17 €",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(
        !text.contains("UPN QR") && !text.contains("Za plačilo") && !text.contains("Rok plačila")
    );
    let text = pdf_text(&write_pdf(
        dir.path(),
        "storno.pdf",
        &render_pdf(&cancellation).unwrap(),
    ));
    for expected in [
        "Cancellation D-2026-0003",
        "Refers to",
        "2026-00042 of 3 December 2026",
        "-4",
        "-€83.17",
        "-30.00",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(!text.contains("UPN QR"));
}

#[test]
fn payment_code_only_on_unpaid_credit_transfer_invoices() {
    let with_code = |doc: &Printable| {
        let pdf = render_pdf(doc).unwrap();
        // The caption is drawn only with the code; lopdf finds it in the text.
        let document = lopdf::Document::load_mem(&pdf).unwrap();
        let pages: Vec<u32> = document.get_pages().keys().copied().collect();
        document.extract_text(&pages).unwrap().contains("UPN QR")
    };
    let unpaid = invoice(Language::Sl);
    assert!(with_code(&unpaid));
    let mut paid = unpaid.clone();
    paid.payment.paid = true;
    assert!(!with_code(&paid));
    let mut cash = unpaid.clone();
    cash.payment.means = PaymentMeans::CashOnDelivery;
    assert!(!with_code(&cash));
    let mut no_iban = unpaid.clone();
    no_iban.seller.iban = None;
    assert!(!with_code(&no_iban));
    let mut nothing_due = unpaid.clone();
    nothing_due.totals.gross = Decimal::ZERO;
    assert!(!with_code(&nothing_due));
    let mut bad_iban = unpaid.clone();
    bad_iban.seller.iban = Some("SI56191000000123439".to_owned());
    assert!(matches!(render_pdf(&bad_iban), Err(PdfError::Upn(_))));
}

#[test]
fn logos_in_png_and_jpeg() {
    let mut doc = invoice(Language::Sl);
    doc.seller.logo = Some(Logo::Png(include_bytes!("fixtures/logo.png").to_vec()));
    let png = render_pdf(&doc).unwrap();
    doc.seller.logo = Some(Logo::Jpeg(include_bytes!("fixtures/logo.jpg").to_vec()));
    let jpeg = render_pdf(&doc).unwrap();
    for pdf in [&png, &jpeg] {
        let document = lopdf::Document::load_mem(pdf).unwrap();
        let images = document.objects.values().filter(|object| {
            object.as_stream().is_ok_and(|stream| {
                stream
                    .dict
                    .get(b"Subtype")
                    .and_then(|s| s.as_name())
                    .is_ok_and(|name| name == b"Image")
            })
        });
        assert!(images.count() >= 1);
    }
    doc.seller.logo = Some(Logo::Png(b"not a png".to_vec()));
    assert!(matches!(
        render_pdf(&doc),
        Err(PdfError::Logo { format: "PNG", .. })
    ));
    doc.seller.logo = Some(Logo::Jpeg(b"not a jpeg".to_vec()));
    assert!(matches!(
        render_pdf(&doc),
        Err(PdfError::Logo { format: "JPEG", .. })
    ));
}

#[test]
fn many_documents_print_as_one_pdf() {
    let docs = vec![invoice(Language::Sl), long_invoice(80), delivery_note()];
    let separately: usize = docs
        .iter()
        .map(|doc| page_count(&render_pdf(doc).unwrap()))
        .sum();
    let together = render_many(&docs).unwrap();
    assert_eq!(page_count(&together), separately);
    assert!(separately >= 4);
    assert!(matches!(render_many(&[]), Err(PdfError::NoDocuments)));
    if !tool("pdftotext") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = pdf_text(&write_pdf(dir.path(), "vse.pdf", &together));
    let first = text.find("Račun 2026-00042").unwrap();
    let second = text.find("Račun 2026-00050").unwrap();
    let third = text.find("Dobavnica 2026-00017").unwrap();
    assert!(first < second && second < third);
    // Each document numbers its own pages.
    assert_eq!(text.matches("Stran 1/").count(), 3);
}

#[test]
fn rendering_is_deterministic() {
    let doc = invoice(Language::Sl);
    assert_eq!(render_pdf(&doc).unwrap(), render_pdf(&doc).unwrap());
}

/// How long one invoice takes: `cargo test --release -p tovor-documents --test pdf --
/// --ignored --nocapture render_time`.
#[test]
#[ignore = "a measurement, not a check"]
fn render_time() {
    let doc = invoice(Language::Sl);
    let long = long_invoice(80);
    render_pdf(&doc).unwrap();
    for (name, doc) in [
        ("invoice (1 page, UPN QR)", &doc),
        ("invoice of 80 lines", &long),
    ] {
        let runs = 50;
        let start = std::time::Instant::now();
        for _ in 0..runs {
            std::hint::black_box(render_pdf(doc).unwrap());
        }
        let each = start.elapsed() / runs;
        let size = render_pdf(doc).unwrap().len();
        println!("{name}: {each:?} per render, {size} bytes");
    }
}
