//! Where everything goes: a document laid out on A4 pages as a list of drawing
//! operations per page. Laying out first and drawing after lets the footers say
//! "page 2 of 3" and keeps this part free of the PDF library.
//!
//! Coordinates are PDF points (1/72 inch) from the page's top-left corner; text is
//! placed by its baseline.

use std::sync::Arc;

use krilla::image::Image;
use rust_decimal::Decimal;

use super::PdfError;
use super::fonts::{Face, Fonts, wrap};
use crate::format;
use crate::model::{Logo, Party, PaymentMeans, PrintKind, PrintLine, Printable};
use crate::text::{Texts, texts, unit_name};
use crate::upn::{self, PaymentOrder, QrMatrix};

/// A4 in points.
pub(crate) const PAGE_WIDTH: f32 = 595.276;
pub(crate) const PAGE_HEIGHT: f32 = 841.89;
const MARGIN_X: f32 = 42.52; // 15 mm
const MARGIN_TOP: f32 = 36.0;
const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 26.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;
const RIGHT: f32 = MARGIN_X + CONTENT_WIDTH;
const MM: f32 = 72.0 / 25.4;

/// Gray levels (0 black, 255 white).
const BLACK: u8 = 0;
const LABEL: u8 = 95;
const RULE: u8 = 190;
const SHADE: u8 = 236;

/// One drawing operation.
pub(crate) enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        gray: u8,
        text: String,
    },
    Fill {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        gray: u8,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
        gray: u8,
    },
    Frame {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        line: f32,
        gray: u8,
    },
    Image {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        image: Image,
    },
    Qr {
        x: f32,
        y: f32,
        module: f32,
        matrix: Arc<QrMatrix>,
    },
}

/// A page: what to draw on it, in order.
pub(crate) type Page = Vec<Op>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

struct Column {
    title: &'static str,
    width: f32,
    align: Align,
}

/// The cells of one table row, as text.
type Row = Vec<String>;

/// Lays `doc` out on pages.
pub(crate) fn layout(doc: &Printable, fonts: &'static Fonts) -> Result<Vec<Page>, PdfError> {
    let logo = doc.seller.logo.as_ref().map(decode_logo).transpose()?;
    let payment = payment_code(doc)?;
    let mut layout = Layout::new(doc, fonts);
    layout.letterhead(logo);
    layout.parties_and_details();
    layout.note();
    layout.lines();
    if doc.show_prices {
        layout.summary();
    }
    if let Some(payment) = payment {
        layout.payment(&payment);
    }
    Ok(layout.finish())
}

fn decode_logo(logo: &Logo) -> Result<Image, PdfError> {
    match logo {
        Logo::Png(bytes) => {
            Image::from_png(bytes.clone().into(), true).map_err(|reason| PdfError::Logo {
                format: "PNG",
                reason,
            })
        }
        Logo::Jpeg(bytes) => {
            Image::from_jpeg(bytes.clone().into(), true).map_err(|reason| PdfError::Logo {
                format: "JPEG",
                reason,
            })
        }
    }
}

/// The UPN QR code and what is printed beside it.
struct PaymentCode {
    order: PaymentOrder,
    matrix: Arc<QrMatrix>,
    reference: Option<String>,
}

/// The payment code of an unpaid invoice payable by credit transfer to the seller's IBAN.
fn payment_code(doc: &Printable) -> Result<Option<PaymentCode>, PdfError> {
    let Some(iban) = doc
        .seller
        .iban
        .as_ref()
        .filter(|iban| !iban.trim().is_empty())
    else {
        return Ok(None);
    };
    let payable = doc.kind == PrintKind::Invoice
        && !doc.payment.paid
        && doc.payment.means == PaymentMeans::CreditTransfer
        && doc.totals.gross > Decimal::ZERO;
    if !payable {
        return Ok(None);
    }
    let t = texts(doc.language);
    let purpose = if doc.payment.purpose.trim().is_empty() {
        format!("{} {}", t.kind(doc.kind), doc.number)
    } else {
        doc.payment.purpose.clone()
    };
    let reference = doc
        .payment
        .reference
        .as_deref()
        .map(upn::check_reference)
        .transpose()?;
    let order = PaymentOrder {
        payer_name: upn::fit_text(&doc.buyer.name, 33),
        payer_street: upn::fit_text(
            doc.buyer.address_lines.first().map_or("", String::as_str),
            33,
        ),
        payer_city: upn::fit_text(&postal_city(&doc.buyer), 33),
        amount: doc.totals.gross,
        // ISO 20022 ExternalPurpose1Code GDSV: purchase or sale of goods and services.
        purpose_code: "GDSV".to_owned(),
        purpose: upn::fit_text(&purpose, 42),
        due_date: doc.payment.due_on,
        recipient_iban: iban.clone(),
        recipient_reference: reference.clone(),
        recipient_name: upn::fit_text(&doc.seller.party.name, 33),
        recipient_street: upn::fit_text(
            doc.seller
                .party
                .address_lines
                .first()
                .map_or("", String::as_str),
            33,
        ),
        recipient_city: upn::fit_text(&postal_city(&doc.seller.party), 33),
        ..PaymentOrder::default()
    };
    let content = upn::payload(&order)?;
    let matrix = Arc::new(upn::qr_matrix(&content)?);
    Ok(Some(PaymentCode {
        order,
        matrix,
        reference,
    }))
}

fn postal_city(party: &Party) -> String {
    format!("{} {}", party.postal_code.trim(), party.city.trim())
        .trim()
        .to_owned()
}

struct Layout<'a> {
    doc: &'a Printable,
    t: &'static Texts,
    fonts: &'static Fonts,
    pages: Vec<Page>,
    /// The top of the free space on the current page.
    y: f32,
    /// Where content must end, above the footer.
    bottom: f32,
    footer: Vec<String>,
}

impl<'a> Layout<'a> {
    fn new(doc: &'a Printable, fonts: &'static Fonts) -> Self {
        let footer = match doc.seller.footer.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => wrap(&fonts.regular, text, 7.0, CONTENT_WIDTH - 80.0),
            _ => Vec::new(),
        };
        let footer_height = footer.len().max(1) as f32 * 8.5;
        Self {
            doc,
            t: texts(doc.language),
            fonts,
            pages: vec![Vec::new()],
            y: MARGIN_TOP,
            bottom: FOOTER_BASELINE - footer_height - 8.0,
            footer,
        }
    }

    fn face(&self, bold: bool) -> &'static Face {
        self.fonts.face(bold)
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, gray: u8, text: impl Into<String>) {
        let text = text.into();
        if !text.is_empty() {
            self.push(Op::Text {
                x,
                y,
                size,
                bold,
                gray,
                text,
            });
        }
    }

    fn text_right(&mut self, right: f32, y: f32, size: f32, bold: bool, gray: u8, text: &str) {
        let x = right - self.face(bold).width(text, size);
        self.text(x, y, size, bold, gray, text);
    }

    fn rule(&mut self, y: f32, x1: f32, x2: f32, width: f32, gray: u8) {
        self.push(Op::Line {
            x1,
            y1: y,
            x2,
            y2: y,
            width,
            gray,
        });
    }

    fn title(&self) -> String {
        format!("{} {}", self.t.kind(self.doc.kind), self.doc.number)
    }

    /// Starts a page with a short header naming the document.
    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        let title = format!("{} ({})", self.title(), self.t.continued);
        self.text(MARGIN_X, MARGIN_TOP + 9.0, 9.0, true, BLACK, title);
        let seller = self.doc.seller.party.name.clone();
        self.text_right(RIGHT, MARGIN_TOP + 9.0, 8.0, false, LABEL, &seller);
        self.rule(MARGIN_TOP + 15.0, MARGIN_X, RIGHT, 0.5, RULE);
        self.y = MARGIN_TOP + 26.0;
    }

    /// Makes room for `height`, on a new page when the current one has not enough.
    fn ensure(&mut self, height: f32) -> bool {
        if self.y + height > self.bottom {
            self.new_page();
            true
        } else {
            false
        }
    }

    /// Logo (or the company's name) on the left, the company's data on the right.
    fn letterhead(&mut self, logo: Option<Image>) {
        let seller = &self.doc.seller;
        let party = &seller.party;
        let mut left = MARGIN_TOP;
        let has_logo = logo.is_some();
        if let Some(image) = logo {
            let (pixels_w, pixels_h) = image.size();
            let (max_w, max_h) = (60.0 * MM, 18.0 * MM);
            let scale = (max_w / pixels_w.max(1) as f32).min(max_h / pixels_h.max(1) as f32);
            let (width, height) = (pixels_w as f32 * scale, pixels_h as f32 * scale);
            self.push(Op::Image {
                x: MARGIN_X,
                y: MARGIN_TOP,
                width,
                height,
                image,
            });
            left += height;
        } else {
            let lines = wrap(self.face(true), &party.name, 14.0, CONTENT_WIDTH * 0.5);
            for line in lines {
                left += 16.0;
                self.text(MARGIN_X, left, 14.0, true, BLACK, line);
            }
            left += 4.0;
        }

        let t = self.t;
        let mut lines: Vec<(String, bool)> = Vec::new();
        if has_logo {
            lines.push((party.name.clone(), true));
        }
        lines.extend(
            address_lines(party, None)
                .into_iter()
                .map(|line| (line, false)),
        );
        if let Some(vat_id) = non_empty(&party.vat_id) {
            lines.push((format!("{}: {vat_id}", t.vat_id), false));
        }
        if let Some(number) = non_empty(&party.registration_number) {
            lines.push((format!("{}: {number}", t.registration_number), false));
        }
        if let Some(iban) = non_empty(&seller.iban) {
            lines.push((format!("{}: {}", t.iban, format::iban(iban)), false));
        }
        if let Some(bic) = non_empty(&seller.bic) {
            lines.push((format!("{}: {bic}", t.bic), false));
        }
        if let Some(email) = non_empty(&party.email) {
            lines.push((format!("{}: {email}", t.email), false));
        }
        if let Some(phone) = non_empty(&party.phone) {
            lines.push((format!("{}: {phone}", t.phone), false));
        }
        let mut right = MARGIN_TOP;
        for (line, bold) in lines {
            let size = if bold { 9.5 } else { 8.0 };
            for part in wrap(self.face(bold), &line, size, CONTENT_WIDTH * 0.45) {
                right += size + 2.5;
                self.text_right(
                    RIGHT,
                    right,
                    size,
                    bold,
                    if bold { BLACK } else { LABEL },
                    &part,
                );
            }
        }
        self.y = left.max(right) + 8.0;
        let y = self.y;
        self.rule(y, MARGIN_X, RIGHT, 0.6, RULE);
        self.y += 12.0;
    }

    /// The buyer (and where the goods go) on the left; the title and the document's
    /// dates and numbers on the right.
    fn parties_and_details(&mut self) {
        let doc = self.doc;
        let t = self.t;
        let top = self.y;
        let left_width = CONTENT_WIDTH * 0.5;
        let seller_country = doc.seller.party.country.as_str();

        let mut left = top;
        let blocks = std::iter::once((t.buyer, &doc.buyer))
            .chain(doc.ship_to.iter().map(|p| (t.ship_to, p)));
        for (index, (label, party)) in blocks.enumerate() {
            if index > 0 {
                left += 8.0;
            }
            left += 8.0;
            self.text(MARGIN_X, left, 7.5, false, LABEL, label);
            for line in wrap(self.face(true), &party.name, 10.0, left_width) {
                left += 12.5;
                self.text(MARGIN_X, left, 10.0, true, BLACK, line);
            }
            let mut lines = address_lines(party, Some(seller_country));
            if let Some(vat_id) = non_empty(&party.vat_id) {
                lines.push(format!("{}: {vat_id}", t.vat_id));
            }
            for line in lines {
                for part in wrap(self.face(false), &line, 8.5, left_width) {
                    left += 11.0;
                    self.text(MARGIN_X, left, 8.5, false, BLACK, part);
                }
            }
        }

        let column = 235.0;
        let x0 = RIGHT - column;
        let mut right = top;
        let title = self.title();
        let mut size: f32 = 15.0;
        while size > 9.0 && self.face(true).width(&title, size) > column {
            size -= 0.5;
        }
        right += size + 2.0;
        self.text(x0, right, size, true, BLACK, title);
        right += 6.0;
        for (label, value) in self.details() {
            let label_width = self.face(false).width(label, 8.0) + 8.0;
            let values = wrap(
                self.face(false),
                &value,
                8.5,
                (column - label_width).max(40.0),
            );
            right += 11.0;
            self.text(x0, right, 8.0, false, LABEL, label);
            for (index, part) in values.iter().enumerate() {
                if index > 0 {
                    right += 10.5;
                }
                self.text_right(RIGHT, right, 8.5, false, BLACK, part);
            }
        }
        self.y = left.max(right) + 14.0;
    }

    /// The label and value rows under the title.
    fn details(&self) -> Vec<(&'static str, String)> {
        let doc = self.doc;
        let t = self.t;
        let language = doc.language;
        let mut rows = vec![(t.issue_date, format::date(doc.issued_on, language))];
        let supplied = matches!(doc.kind, PrintKind::Invoice | PrintKind::DeliveryNote);
        if let Some(delivered) = doc.delivered_on.or(supplied.then_some(doc.issued_on)) {
            rows.push((t.delivery_date, format::date(delivered, language)));
        }
        let invoice = doc.kind == PrintKind::Invoice;
        if let Some(due) = doc.payment.due_on.filter(|_| invoice) {
            rows.push((t.due_date, format::date(due, language)));
        }
        if let Some(order) = non_empty(&doc.order_number) {
            rows.push((t.order_number, order.to_owned()));
        }
        if let Some(method) = non_empty(&doc.payment.method) {
            rows.push((t.payment_method, method.to_owned()));
        }
        if invoice && let Some(reference) = non_empty(&doc.payment.reference) {
            rows.push((t.payment_reference, format::reference(reference)));
        }
        if let Some(original) = &doc.refers_to {
            let date = format::date(original.issued_on, language);
            rows.push((
                t.refers_to,
                format!("{} {} {date}", original.number, t.refers_to_of),
            ));
        }
        rows
    }

    fn note(&mut self) {
        let Some(note) = non_empty(&self.doc.note) else {
            return;
        };
        let lines = wrap(self.face(false), note, 8.5, CONTENT_WIDTH);
        for line in lines {
            self.ensure(11.0);
            self.y += 11.0;
            let y = self.y;
            self.text(MARGIN_X, y, 8.5, false, BLACK, line);
        }
        self.y += 10.0;
    }

    fn columns(&self) -> Vec<Column> {
        let t = self.t;
        let column = |title, width, align| Column {
            title,
            width,
            align,
        };
        let mut columns = if self.doc.show_prices {
            vec![
                column(t.col_position, 18.0, Align::Right),
                column(t.col_sku, 54.0, Align::Left),
                column(t.col_name, 0.0, Align::Left),
                column(t.col_quantity, 42.0, Align::Right),
                column(t.col_unit, 28.0, Align::Left),
                column(t.col_unit_price, 50.0, Align::Right),
                column(t.col_discount, 42.0, Align::Right),
                column(t.col_vat_rate, 32.0, Align::Right),
                column(t.col_net, 56.0, Align::Right),
                column(t.col_gross, 56.0, Align::Right),
            ]
        } else {
            vec![
                column(t.col_position, 18.0, Align::Right),
                column(t.col_sku, 90.0, Align::Left),
                column(t.col_name, 0.0, Align::Left),
                column(t.col_quantity, 56.0, Align::Right),
                column(t.col_unit, 44.0, Align::Left),
            ]
        };
        let fixed: f32 = columns.iter().map(|c| c.width).sum();
        for column in &mut columns {
            if column.width == 0.0 {
                column.width = CONTENT_WIDTH - fixed;
            }
        }
        columns
    }

    fn row(&self, position: usize, line: &PrintLine) -> Row {
        let language = self.doc.language;
        let mut row = vec![
            position.to_string(),
            line.sku.clone().unwrap_or_default(),
            line.name.clone(),
            format::quantity(line.quantity, language),
            unit_name(&line.unit, language),
        ];
        if self.doc.show_prices {
            let discount = if line.discount.is_zero() {
                String::new()
            } else {
                format::amount(line.discount, language)
            };
            row.extend([
                format::price(line.unit_price, language),
                discount,
                format::percent(line.vat_rate, language),
                format::amount(line.net, language),
                format::amount(line.gross, language),
            ]);
        }
        row
    }

    /// The lines table, continued over as many pages as it needs with its header
    /// repeated. The rounding line is left out: the totals show it.
    fn lines(&mut self) {
        let columns = self.columns();
        let doc = self.doc;
        if doc.show_prices {
            self.ensure(40.0);
            let y = self.y + 7.0;
            let note = format!("{} {}", self.t.amounts_in, doc.currency);
            self.text_right(RIGHT, y, 7.0, false, LABEL, &note);
            self.y += 10.0;
        }
        self.table_header(&columns);
        let rows = doc
            .lines
            .iter()
            .filter(|line| !line.is_rounding)
            .enumerate();
        for (index, line) in rows {
            let row = self.row(index + 1, line);
            let cells = self.wrap_cells(&columns, &row, 8.0, false);
            let height = cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * 10.0 + 5.0;
            if self.ensure(height) {
                self.table_header(&columns);
            }
            self.draw_cells(&columns, &cells, 8.0, false, 10.0);
            self.y += height;
            let y = self.y;
            self.rule(y, MARGIN_X, RIGHT, 0.4, RULE);
        }
        self.y += 10.0;
    }

    fn wrap_cells(&self, columns: &[Column], row: &Row, size: f32, bold: bool) -> Vec<Vec<String>> {
        columns
            .iter()
            .zip(row)
            .map(|(column, text)| wrap(self.face(bold), text, size, column.width - 6.0))
            .collect()
    }

    fn draw_cells(
        &mut self,
        columns: &[Column],
        cells: &[Vec<String>],
        size: f32,
        bold: bool,
        leading: f32,
    ) {
        let mut x = MARGIN_X;
        let top = self.y;
        for (column, lines) in columns.iter().zip(cells) {
            for (index, line) in lines.iter().enumerate() {
                let y = top + 3.0 + size + index as f32 * leading;
                match column.align {
                    Align::Left => self.text(x + 3.0, y, size, bold, BLACK, line.clone()),
                    Align::Right => {
                        self.text_right(x + column.width - 3.0, y, size, bold, BLACK, line)
                    }
                }
            }
            x += column.width;
        }
    }

    fn table_header(&mut self, columns: &[Column]) {
        let titles: Row = columns.iter().map(|c| c.title.to_owned()).collect();
        let cells = self.wrap_cells(columns, &titles, 7.0, true);
        let height = cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * 8.5 + 6.0;
        self.ensure(height + 20.0);
        let y = self.y;
        self.push(Op::Fill {
            x: MARGIN_X,
            y,
            width: CONTENT_WIDTH,
            height,
            gray: SHADE,
        });
        self.draw_cells(columns, &cells, 7.0, true, 8.5);
        self.y += height;
    }

    /// The VAT recap per rate on the left, the totals on the right.
    fn summary(&mut self) {
        let doc = self.doc;
        let t = self.t;
        let language = doc.language;
        let currency = doc.currency.as_str();

        let recap_rows = doc.vat_recap.len() as f32;
        let recap_height = 14.0 + 15.0 + recap_rows * 12.0;
        let total_rows = if doc.totals.rounding.is_zero() {
            2.0
        } else {
            3.0
        };
        let paid = doc.kind == PrintKind::Invoice && doc.payment.paid;
        let totals_height = total_rows * 13.0 + 24.0 + if paid { 14.0 } else { 0.0 };
        self.ensure(recap_height.max(totals_height));
        let top = self.y;

        // The recap.
        let widths = [58.0, 72.0, 66.0, 72.0];
        let mut y = top + 9.0;
        self.text(MARGIN_X, y, 8.5, true, BLACK, t.vat_recap);
        y += 5.0;
        self.push(Op::Fill {
            x: MARGIN_X,
            y,
            width: widths.iter().sum(),
            height: 14.0,
            gray: SHADE,
        });
        let headers = [t.recap_rate, t.recap_base, t.recap_vat, t.recap_total];
        let mut x = MARGIN_X;
        for (header, width) in headers.iter().zip(widths) {
            self.text_right(x + width - 3.0, y + 10.0, 7.0, true, BLACK, header);
            x += width;
        }
        y += 14.0;
        for recap in &doc.vat_recap {
            let cells = [
                format::percent(recap.rate, language),
                format::amount(recap.base, language),
                format::amount(recap.vat, language),
                format::amount(recap.gross, language),
            ];
            let mut x = MARGIN_X;
            for (cell, width) in cells.iter().zip(widths) {
                self.text_right(x + width - 3.0, y + 9.5, 8.0, false, BLACK, cell);
                x += width;
            }
            y += 12.0;
            self.rule(
                y,
                MARGIN_X,
                MARGIN_X + widths.iter().sum::<f32>(),
                0.4,
                RULE,
            );
        }
        let recap_bottom = y;

        // The totals.
        let x0 = RIGHT - 215.0;
        let mut y = top;
        let mut rows = vec![(t.total_net, doc.totals.net), (t.total_vat, doc.totals.vat)];
        if !doc.totals.rounding.is_zero() {
            rows.push((t.rounding, doc.totals.rounding));
        }
        for (label, value) in rows {
            y += 13.0;
            self.text(x0, y, 8.5, false, BLACK, label);
            self.text_right(
                RIGHT,
                y,
                8.5,
                false,
                BLACK,
                &format::money(value, currency, language),
            );
        }
        y += 6.0;
        self.rule(y, x0, RIGHT, 0.8, BLACK);
        y += 15.0;
        let due = doc.kind == PrintKind::Invoice && !doc.payment.paid;
        let label = if due { t.total_due } else { t.total };
        self.text(x0, y, 11.0, true, BLACK, label);
        let gross = format::money(doc.totals.gross, currency, language);
        self.text_right(RIGHT, y, 11.0, true, BLACK, &gross);
        if paid {
            y += 14.0;
            self.text_right(RIGHT, y, 9.0, true, LABEL, t.paid);
        }
        self.y = recap_bottom.max(y) + 14.0;
    }

    /// The UPN QR code with the payment's data beside it, at the foot of the last page.
    fn payment(&mut self, payment: &PaymentCode) {
        let doc = self.doc;
        let t = self.t;
        let language = doc.language;
        let module = 42.0 * MM / payment.matrix.width() as f32;
        let quiet = 4.0 * module;
        let symbol = payment.matrix.width() as f32 * module + 2.0 * quiet;
        let height = symbol + 22.0;
        self.ensure(height + 8.0);
        let top = (self.y + 8.0).max(self.bottom - height);
        self.push(Op::Frame {
            x: MARGIN_X,
            y: top,
            width: CONTENT_WIDTH,
            height,
            line: 0.6,
            gray: RULE,
        });
        let qr_x = MARGIN_X + 6.0;
        let qr_y = top + 4.0;
        self.push(Op::Qr {
            x: qr_x + quiet,
            y: qr_y + quiet,
            module,
            matrix: payment.matrix.clone(),
        });
        let caption_width = self.face(true).width(t.upn_caption, 8.0);
        self.text(
            qr_x + (symbol - caption_width) / 2.0,
            qr_y + symbol + 10.0,
            8.0,
            true,
            BLACK,
            t.upn_caption,
        );

        let x = qr_x + symbol + 16.0;
        let mut y = top + 20.0;
        self.text(x, y, 10.0, true, BLACK, t.upn_heading);
        y += 6.0;
        let order = &payment.order;
        let mut rows = vec![
            (t.upn_recipient, order.recipient_name.clone()),
            (t.iban, format::iban(&order.recipient_iban)),
        ];
        if let Some(reference) = &payment.reference {
            rows.push((t.payment_reference, format::reference(reference)));
        }
        rows.push((
            t.upn_amount,
            format::money(order.amount, &doc.currency, language),
        ));
        if let Some(due) = order.due_date {
            rows.push((t.due_date, format::date(due, language)));
        }
        rows.push((t.upn_purpose, order.purpose.clone()));
        let label_width = rows
            .iter()
            .map(|(label, _)| self.face(false).width(label, 8.0))
            .fold(0.0, f32::max)
            + 10.0;
        let value_width = RIGHT - 8.0 - x - label_width;
        for (label, value) in rows {
            y += 12.0;
            self.text(x, y, 8.0, false, LABEL, label);
            for (index, line) in wrap(self.face(false), &value, 8.5, value_width)
                .into_iter()
                .enumerate()
            {
                if index > 0 {
                    y += 10.5;
                }
                self.text(x + label_width, y, 8.5, false, BLACK, line);
            }
        }
        y += 16.0;
        self.text(x, y, 7.5, false, LABEL, t.upn_hint);
        self.y = top + height + 8.0;
    }

    /// Adds the footer and the page number to every page.
    fn finish(mut self) -> Vec<Page> {
        let count = self.pages.len();
        let footer = std::mem::take(&mut self.footer);
        let page_word = self.t.page;
        let fonts = self.fonts;
        let top = FOOTER_BASELINE - footer.len().saturating_sub(1) as f32 * 8.5;
        for (index, page) in self.pages.iter_mut().enumerate() {
            page.push(Op::Line {
                x1: MARGIN_X,
                y1: top - 10.0,
                x2: RIGHT,
                y2: top - 10.0,
                width: 0.4,
                gray: RULE,
            });
            for (line_index, line) in footer.iter().enumerate() {
                let y = top + line_index as f32 * 8.5;
                page.push(Op::Text {
                    x: MARGIN_X,
                    y,
                    size: 7.0,
                    bold: false,
                    gray: LABEL,
                    text: line.clone(),
                });
            }
            let number = format!("{page_word} {}/{count}", index + 1);
            let x = RIGHT - fonts.regular.width(&number, 7.5);
            page.push(Op::Text {
                x,
                y: FOOTER_BASELINE,
                size: 7.5,
                bold: false,
                gray: LABEL,
                text: number,
            });
        }
        self.pages
    }
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// Street lines, then postal code and city, then the country when it is not `home`.
fn address_lines(party: &Party, home: Option<&str>) -> Vec<String> {
    let mut lines: Vec<String> = party
        .address_lines
        .iter()
        .map(|line| line.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    let city = postal_city(party);
    if !city.is_empty() {
        lines.push(city);
    }
    let country = party.country.trim();
    let foreign = match home {
        Some(home) => !country.eq_ignore_ascii_case(home),
        None => !country.eq_ignore_ascii_case("SI"),
    };
    if !country.is_empty() && foreign {
        lines.push(country.to_owned());
    }
    lines
}
