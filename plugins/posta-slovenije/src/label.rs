//! The labels this connector draws, since Pošta Slovenije has no label service for
//! eOddaja customers: A6 (105 × 148 mm) pages, or four A6 labels on an A4 sheet.
//!
//! A label shows the S10 number as a Code 128 barcode (bars of 1.2 pt = 0.42 mm, five
//! dots of a 300 dpi printer, with quiet zones of ten bars) and as text under it, the
//! item type, sender and recipient, mass, the additional services, cash on delivery
//! with its reference, and our reference.

use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::ConnectorError;

use crate::countries;
use crate::pdf::{Fonts, MM, Page, Weight};
use crate::row::{self, Party, Shipment};
use crate::s10::S10;

/// A6 portrait, in points.
pub const A6: (f32, f32) = (105.0 * MM, 148.0 * MM);
/// A4 portrait, in points.
pub const A4: (f32, f32) = (210.0 * MM, 297.0 * MM);

/// Width of the narrowest bar.
const MODULE: f32 = 1.2;
/// Blank space left and right of the bars, in modules (Code 128 asks for ten).
const QUIET_MODULES: f32 = 10.0;
const BAR_HEIGHT: f32 = 52.0;
const MARGIN: f32 = 9.0;

/// How labels are laid out on paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One label per A6 page.
    A6,
    /// Four A6 labels per A4 sheet, left to right, top to bottom.
    A4FourUp,
}

impl Layout {
    /// The carrier names of the layouts (`labels.label-formats`).
    pub const A6_NAME: &'static str = "A6";
    pub const A4_NAME: &'static str = "A6 on A4";

    pub fn name(self) -> &'static str {
        match self {
            Layout::A6 => Self::A6_NAME,
            Layout::A4FourUp => Self::A4_NAME,
        }
    }

    /// The layout named `name` (case-insensitive; `4xA6` and `A4` also name the sheet).
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim();
        if name.eq_ignore_ascii_case(Self::A6_NAME) {
            Some(Layout::A6)
        } else if [Self::A4_NAME, "A4", "4xA6", "A4_2x2"]
            .iter()
            .any(|known| name.eq_ignore_ascii_case(known))
        {
            Some(Layout::A4FourUp)
        } else {
            None
        }
    }
}

/// What one label shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelData {
    pub number: S10,
    pub shipment: Shipment,
    /// The item type's name, when known.
    pub item_type_name: Option<String>,
    /// The day the label is made, as printed (`03.12.2026`).
    pub date: String,
}

/// The labels on pages of `layout`, as one PDF.
pub fn render(labels: &[LabelData], layout: Layout) -> Result<Vec<u8>, ConnectorError> {
    if labels.is_empty() {
        return Err(ConnectorError::invalid_input("no label to draw"));
    }
    let fonts = Fonts::load()?;
    let singles: Vec<Page> = labels
        .iter()
        .map(|label| draw(&fonts, label))
        .collect::<Result<_, _>>()?;
    let pages = match layout {
        Layout::A6 => singles,
        Layout::A4FourUp => singles
            .chunks(4)
            .map(|four| {
                let mut sheet = Page::new(A4.0, A4.1);
                for (index, label) in four.iter().enumerate() {
                    let column = (index % 2) as f32;
                    let row = (index / 2) as f32;
                    sheet.place(label, column * A6.0, A4.1 - (row + 1.0) * A6.1);
                }
                sheet
            })
            .collect(),
    };
    let title = match labels {
        [one] => format!("Pošta Slovenije {}", one.number),
        many => format!("Pošta Slovenije, {} labels", many.len()),
    };
    crate::pdf::write(&fonts, &pages, &title)
}

/// The bars of `number` in Code 128 (character set B throughout), as module flags.
pub fn barcode_modules(number: &S10) -> Result<Vec<u8>, ConnectorError> {
    barcoders::sym::code128::Code128::new(format!("\u{0181}{number}"))
        .map(|code| code.encode())
        .map_err(|error| {
            ConnectorError::other(format!("cannot encode {number} as Code 128: {error}"))
        })
}

/// One A6 label.
fn draw(fonts: &Fonts, label: &LabelData) -> Result<Page, ConnectorError> {
    let (width, height) = A6;
    let mut page = Page::new(width, height);
    let left = MARGIN;
    let right = width - MARGIN;
    let inner = right - left;
    let shipment = &label.shipment;

    // Frame.
    let (bottom, top) = (MARGIN, height - MARGIN);
    page.line((left, bottom), (right, bottom), 0.8);
    page.line((left, top), (right, top), 0.8);
    page.line((left, bottom), (left, top), 0.8);
    page.line((right, bottom), (right, top), 0.8);

    // Header: the carrier, the item type in a black box.
    let mut y = top - 17.0;
    page.text(left + 6.0, y, 10.0, Weight::Bold, "POŠTA SLOVENIJE");
    let item = match &label.item_type_name {
        Some(name) => format!("{} {name}", shipment.item_type),
        None => format!("Vrsta {}", shipment.item_type),
    };
    let item = fonts.fit(Weight::Bold, &item, 11.0, inner / 2.0);
    let box_width = fonts.width(Weight::Bold, &item, 11.0) + 12.0;
    page.fill(right - box_width, top - 24.0, box_width, 24.0);
    page.gray_text(right - box_width + 6.0, y, 11.0, Weight::Bold, 1.0, &item);
    y = top - 24.0;
    page.line((left, y), (right, y), 0.8);

    // The number: bars, and the text under them.
    let modules = barcode_modules(&label.number)?;
    let bars_width = modules.len() as f32 * MODULE;
    if bars_width + 2.0 * QUIET_MODULES * MODULE > inner {
        return Err(ConnectorError::other(
            "the barcode does not fit the label's width",
        ));
    }
    let bars_left = left + (inner - bars_width) / 2.0;
    let bars_bottom = y - 8.0 - BAR_HEIGHT;
    let mut index = 0;
    while index < modules.len() {
        if modules[index] == 1 {
            let start = index;
            while index < modules.len() && modules[index] == 1 {
                index += 1;
            }
            page.fill(
                bars_left + start as f32 * MODULE,
                bars_bottom,
                (index - start) as f32 * MODULE,
                BAR_HEIGHT,
            );
        } else {
            index += 1;
        }
    }
    let spaced = label.number.spaced();
    let text_width = fonts.width(Weight::Bold, &spaced, 13.0);
    y = bars_bottom - 15.0;
    page.text(
        left + (inner - text_width) / 2.0,
        y,
        13.0,
        Weight::Bold,
        &spaced,
    );
    y -= 7.0;
    page.line((left, y), (right, y), 0.8);

    // Mass, date, services on the left; cash on delivery boxed on the right.
    let info_top = y;
    let column = left + 6.0;
    y -= 13.0;
    page.text(
        column,
        y,
        9.0,
        Weight::Regular,
        &format!("Masa: {}", kilograms(shipment.weight_grams)),
    );
    y -= 12.0;
    page.text(
        column,
        y,
        9.0,
        Weight::Regular,
        &format!("Datum: {}", label.date),
    );
    y -= 12.0;
    let services = if shipment.services.is_empty() {
        "Storitve: –".to_owned()
    } else {
        format!("Storitve: {}", shipment.services.join(", "))
    };
    page.text(
        column,
        y,
        9.0,
        Weight::Regular,
        &fonts.fit(Weight::Regular, &services, 9.0, inner / 2.0 - 8.0),
    );
    if let Some(value) = shipment.value {
        y -= 12.0;
        page.text(
            column,
            y,
            9.0,
            Weight::Regular,
            &format!("Vrednost: {} EUR", row::decimal_comma(value)),
        );
    }
    let middle = left + inner / 2.0;
    if let Some(cod) = &shipment.cod {
        let box_left = middle + 4.0;
        let box_top = info_top - 5.0;
        let box_bottom = box_top - 44.0;
        page.line((box_left, box_top), (right - 5.0, box_top), 1.6);
        page.line((box_left, box_bottom), (right - 5.0, box_bottom), 1.6);
        page.line((box_left, box_bottom), (box_left, box_top), 1.6);
        page.line((right - 5.0, box_bottom), (right - 5.0, box_top), 1.6);
        page.text(
            box_left + 5.0,
            box_top - 11.0,
            8.0,
            Weight::Bold,
            "ODKUPNINA",
        );
        page.text(
            box_left + 5.0,
            box_top - 26.0,
            13.0,
            Weight::Bold,
            &format!("{} {}", row::decimal_comma(cod.amount), cod.currency),
        );
        if let Some(reference) = &cod.reference {
            let reference = fonts.fit(
                Weight::Regular,
                &format!("Sklic: {reference}"),
                8.0,
                right - 5.0 - box_left - 10.0,
            );
            page.text(
                box_left + 5.0,
                box_top - 38.0,
                8.0,
                Weight::Regular,
                &reference,
            );
        }
        y = y.min(box_bottom);
    }
    y -= 7.0;
    page.line((left, y), (right, y), 0.8);

    // Sender, small.
    y -= 10.0;
    page.text(column, y, 7.0, Weight::Bold, "Pošiljatelj");
    for line in party_lines(&shipment.sender, "SI") {
        y -= 9.5;
        page.text(
            column,
            y,
            8.0,
            Weight::Regular,
            &fonts.fit(Weight::Regular, &line, 8.0, inner - 12.0),
        );
    }
    y -= 6.0;
    page.line((left, y), (right, y), 0.8);

    // Recipient, large.
    y -= 11.0;
    page.text(column, y, 7.0, Weight::Bold, "Naslovnik");
    let recipient = &shipment.recipient;
    let text_width = inner - 12.0;
    let mut lines: Vec<(f32, Weight, String)> = Vec::new();
    if let Some(name) = &recipient.name {
        lines.push((13.0, Weight::Bold, name.clone()));
    }
    if let Some(company) = &recipient.company {
        let size = if recipient.name.is_some() { 11.0 } else { 13.0 };
        let weight = if recipient.name.is_some() {
            Weight::Regular
        } else {
            Weight::Bold
        };
        lines.push((size, weight, company.clone()));
    }
    if let Some(street) = &recipient.street {
        for line in fonts.wrap(Weight::Regular, street, 11.0, text_width, 2) {
            lines.push((11.0, Weight::Regular, line));
        }
    }
    if let Some(line2) = &recipient.line2 {
        lines.push((11.0, Weight::Regular, line2.clone()));
    }
    let town = format!(
        "{} {}",
        recipient.postal_code.as_deref().unwrap_or(""),
        recipient.city.as_deref().unwrap_or("")
    );
    lines.push((13.0, Weight::Bold, town.trim().to_owned()));
    if recipient.country != "SI" {
        let country = countries::name(&recipient.country)
            .map(str::to_uppercase)
            .unwrap_or_else(|| recipient.country.clone());
        lines.push((11.0, Weight::Bold, country));
    }
    if let Some(phone) = &recipient.phone {
        lines.push((9.0, Weight::Regular, format!("Tel. {phone}")));
    }
    for (size, weight, text) in lines {
        y -= size + 3.5;
        page.text(
            column,
            y,
            size,
            weight,
            &fonts.fit(weight, &text, size, text_width),
        );
    }

    // Footer: our reference and the note.
    let footer = bottom + 7.0;
    page.line((left, footer + 11.0), (right, footer + 11.0), 0.5);
    let mut reference = format!("Ref. {}", shipment.reference);
    if let Some(note) = &shipment.note {
        reference.push_str(&format!(" · {note}"));
    }
    page.text(
        column,
        footer,
        7.0,
        Weight::Regular,
        &fonts.fit(Weight::Regular, &reference, 7.0, text_width),
    );
    Ok(page)
}

/// A party's address lines for the label (the country only when it is not `home`).
fn party_lines(party: &Party, home: &str) -> Vec<String> {
    let mut lines = Vec::new();
    lines.extend(party.company.clone());
    lines.extend(party.name.clone());
    lines.extend(party.street.clone());
    lines.extend(party.line2.clone());
    let town = format!(
        "{} {}",
        party.postal_code.as_deref().unwrap_or(""),
        party.city.as_deref().unwrap_or("")
    );
    if !town.trim().is_empty() {
        lines.push(town.trim().to_owned());
    }
    if party.country != home {
        lines.push(
            countries::name(&party.country)
                .map(str::to_uppercase)
                .unwrap_or_else(|| party.country.clone()),
        );
    }
    if let Some(phone) = &party.phone {
        lines.push(format!("Tel. {phone}"));
    }
    lines
}

/// Grams as kilograms with a decimal comma: `1,2 kg`, `0,35 kg`.
fn kilograms(grams: u64) -> String {
    let whole = grams / 1000;
    let fraction = format!("{:03}", grams % 1000);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{whole} kg")
    } else {
        format!("{whole},{fraction} kg")
    }
}

/// The date in Slovenia (CET, CEST from the last Sunday of March to the last Sunday of
/// October) as printed: `03.12.2026`.
pub fn slovenian_date(at: OffsetDateTime) -> String {
    let utc = at.to_offset(::time::UtcOffset::UTC);
    let year = utc.year();
    let summer_starts = last_sunday_one_utc(year, ::time::Month::March);
    let summer_ends = last_sunday_one_utc(year, ::time::Month::October);
    let hours = match (summer_starts, summer_ends) {
        (Some(starts), Some(ends)) if utc >= starts && utc < ends => 2,
        _ => 1,
    };
    let local = utc + ::time::Duration::hours(hours);
    format!(
        "{:02}.{:02}.{}",
        local.day(),
        u8::from(local.month()),
        local.year()
    )
}

/// 01:00 UTC on the last Sunday of `month`, when EU summer time starts or ends.
fn last_sunday_one_utc(year: i32, month: ::time::Month) -> Option<OffsetDateTime> {
    let last_day = ::time::util::days_in_month(month, year);
    let date = ::time::Date::from_calendar_date(year, month, last_day).ok()?;
    let back = date.weekday().number_days_from_sunday();
    let sunday = date - ::time::Duration::days(i64::from(back));
    Some(sunday.with_hms(1, 0, 0).ok()?.assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::time::macros::datetime;

    #[test]
    fn dates_in_slovenia() {
        assert_eq!(
            slovenian_date(datetime!(2026-12-03 23:30 UTC)),
            "04.12.2026"
        );
        assert_eq!(
            slovenian_date(datetime!(2026-07-01 21:59 UTC)),
            "01.07.2026"
        );
        assert_eq!(
            slovenian_date(datetime!(2026-07-01 22:00 UTC)),
            "02.07.2026"
        );
        // 2026: summer time from 29 March to 25 October.
        assert_eq!(
            slovenian_date(datetime!(2026-03-29 00:30 UTC)),
            "29.03.2026"
        );
        assert_eq!(
            slovenian_date(datetime!(2026-10-24 22:30 UTC)),
            "25.10.2026"
        );
        assert_eq!(
            slovenian_date(datetime!(2026-10-25 22:30 UTC)),
            "25.10.2026"
        );
    }

    #[test]
    fn masses() {
        assert_eq!(kilograms(1200), "1,2 kg");
        assert_eq!(kilograms(350), "0,35 kg");
        assert_eq!(kilograms(2000), "2 kg");
    }

    #[test]
    fn layouts_by_name() {
        assert_eq!(Layout::from_name("a6"), Some(Layout::A6));
        assert_eq!(Layout::from_name("A6 on A4"), Some(Layout::A4FourUp));
        assert_eq!(Layout::from_name("4xA6"), Some(Layout::A4FourUp));
        assert_eq!(Layout::from_name("A5"), None);
    }

    #[test]
    fn the_barcode_is_code_128_set_b() {
        let number = S10::parse("RA123456785SI").unwrap();
        let modules = barcode_modules(&number).unwrap();
        // Start, 13 characters, check, each 11 modules; the stop 13.
        assert_eq!(modules.len(), 11 * 15 + 13);
        // Start code B: 11010010000.
        assert_eq!(&modules[..11], &[1, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0]);
        assert!((modules.len() as f32 + 2.0 * QUIET_MODULES) * MODULE < A6.0 - 2.0 * MARGIN);
    }
}
