//! The hand-over list ("oddajni popis"): the day's items as sent to eOddaja, on A4,
//! for the sender to keep or to give the post office with the parcels.

use tovor_sdk::money::Decimal;
use tovor_sdk::types::ConnectorError;

use crate::label::A4;
use crate::pdf::{Fonts, MM, Page, Weight};
use crate::row::{self, Shipment};
use crate::s10::S10;

const MARGIN: f32 = 15.0 * MM;
const ROW: f32 = 15.0;

/// Column starts (from the left margin) and headings.
const COLUMNS: [(f32, &str); 7] = [
    (0.0, "#"),
    (20.0, "Številka"),
    (100.0, "Naslovnik"),
    (240.0, "Kraj"),
    (345.0, "Masa (g)"),
    (395.0, "Odkupnina"),
    (455.0, "Storitve"),
];

/// The list of `items` handed over on `date` (`YYYY-MM-DD`) as submission `guid`.
pub fn handover_list(
    date: &str,
    guid: &str,
    items: &[(S10, Shipment)],
) -> Result<Vec<u8>, ConnectorError> {
    let fonts = Fonts::load()?;
    let (width, height) = A4;
    let right = width - MARGIN;
    let column_width = |index: usize| {
        COLUMNS.get(index + 1).map_or(right - MARGIN, |(x, _)| *x) - COLUMNS[index].0 - 4.0
    };
    let mut pages: Vec<Page> = Vec::new();
    let mut page = Page::new(width, height);
    let start_page = |page: &mut Page, number: usize| -> f32 {
        let mut y = height - MARGIN - 14.0;
        page.text(
            MARGIN,
            y,
            14.0,
            Weight::Bold,
            "Oddajni popis – Pošta Slovenije, eOddaja",
        );
        y -= 18.0;
        page.text(
            MARGIN,
            y,
            9.0,
            Weight::Regular,
            &format!(
                "Datum oddaje: {}   Oddaja (GUID): {guid}   Stran {number}",
                slovenian(date)
            ),
        );
        if let Some((_, first)) = items.first() {
            let sender = &first.sender;
            let parts: Vec<String> = [&sender.company, &sender.name, &sender.street]
                .into_iter()
                .flatten()
                .cloned()
                .chain(
                    [sender.postal_code.as_deref(), sender.city.as_deref()]
                        .into_iter()
                        .flatten()
                        .map(str::to_owned)
                        .reduce(|a, b| format!("{a} {b}")),
                )
                .collect();
            y -= 13.0;
            page.text(
                MARGIN,
                y,
                9.0,
                Weight::Regular,
                &fonts.fit(
                    Weight::Regular,
                    &format!("Pošiljatelj: {}", parts.join(", ")),
                    9.0,
                    right - MARGIN,
                ),
            );
        }
        y -= 20.0;
        for (x, heading) in COLUMNS {
            page.text(MARGIN + x, y, 8.0, Weight::Bold, heading);
        }
        y -= 5.0;
        page.line((MARGIN, y), (right, y), 0.8);
        y
    };
    let mut y = start_page(&mut page, 1);
    let mut total = Decimal::ZERO;
    for (index, (number, shipment)) in items.iter().enumerate() {
        if y - ROW < MARGIN + 30.0 {
            pages.push(std::mem::replace(&mut page, Page::new(width, height)));
            y = start_page(&mut page, pages.len() + 1);
        }
        y -= ROW;
        let recipient = &shipment.recipient;
        let cod = shipment.cod.as_ref().map(|cod| {
            total += cod.amount;
            row::decimal_comma(cod.amount)
        });
        let cells = [
            (index + 1).to_string(),
            number.to_string(),
            recipient
                .name
                .clone()
                .or_else(|| recipient.company.clone())
                .unwrap_or_default(),
            format!(
                "{} {}",
                recipient.postal_code.as_deref().unwrap_or(""),
                recipient.city.as_deref().unwrap_or("")
            ),
            shipment.weight_grams.to_string(),
            cod.unwrap_or_default(),
            shipment.services.join(","),
        ];
        for (column, cell) in cells.iter().enumerate() {
            page.text(
                MARGIN + COLUMNS[column].0,
                y,
                8.0,
                Weight::Regular,
                &fonts.fit(Weight::Regular, cell, 8.0, column_width(column)),
            );
        }
        page.line((MARGIN, y - 4.0), (right, y - 4.0), 0.3);
    }
    y -= ROW + 6.0;
    page.text(
        MARGIN,
        y,
        9.0,
        Weight::Bold,
        &format!(
            "Pošiljk: {}   Odkupnina skupaj: {} EUR",
            items.len(),
            row::decimal_comma(total)
        ),
    );
    pages.push(page);
    crate::pdf::write(&fonts, &pages, &format!("Oddajni popis {date}"))
}

/// `2026-12-03` as `03.12.2026`.
fn slovenian(date: &str) -> String {
    let parts: Vec<&str> = date.split('-').collect();
    match parts.as_slice() {
        [year, month, day] => format!("{day}.{month}.{year}"),
        _ => date.to_owned(),
    }
}
