//! Documents as files: assembles what a document shows (the company's profile, the
//! buyer, the order's payment) from the store, and renders it as PDF or e-invoice.

use time::Duration;
use tovor_documents::{
    Language, Logo, Party, PaymentDetails, PaymentMeans, PrintKind, PrintLine, Printable,
    Reference, Seller, upn,
};
use tovor_domain::CompanyId;
use tovor_domain::DocumentId;
use tovor_domain::company::DocumentLanguage;
use tovor_domain::document::DocumentKind;
use tovor_domain::order::{Address, NormalizedOrder, PaymentStatus};
use tovor_store::documents::{Document, DocumentState};
use tovor_store::profiles::CompanyProfile;

use crate::error::ServiceError;
use crate::state::AppState;

/// UN/ECE Recommendation 20: "one" (a piece, a charge).
const UNIT_PIECE: &str = "C62";

/// Everything `document` shows, read from the store. `show_prices` matters for delivery
/// notes only: invoices and credit notes always show them.
pub async fn printable(
    state: &AppState,
    company: CompanyId,
    document: &Document,
    show_prices: bool,
) -> Result<Printable, ServiceError> {
    let scope = state.store.company(company);
    let profile = scope.profile().await?;
    let logo = scope.logo().await?;
    let order = scope.order(document.order).await?;
    let company_name = state
        .store
        .companies()
        .await?
        .into_iter()
        .find(|candidate| candidate.id == company)
        .map(|found| found.name)
        .unwrap_or_default();
    let methods = scope.payment_methods().await?;
    let method = order
        .payment_method
        .and_then(|id| methods.into_iter().find(|method| method.id == id));

    let referred = match (document.reverses, document.credits) {
        (Some(id), _) | (None, Some(id)) => Some(scope.document(id).await?),
        _ => None,
    };
    let issued_on = profile.time_zone.local_date(document.issued_at);
    let kind = match (document.state, document.draft.kind) {
        (DocumentState::Reversal, _) => PrintKind::Cancellation,
        (_, DocumentKind::Invoice) => PrintKind::Invoice,
        (_, DocumentKind::DeliveryNote) => PrintKind::DeliveryNote,
        (_, DocumentKind::CreditNote) => PrintKind::CreditNote,
    };
    let language = match profile.language {
        DocumentLanguage::Sl => Language::Sl,
        DocumentLanguage::En => Language::En,
    };
    let paid = order.payment_status == PaymentStatus::Paid;
    let means = match &method {
        Some(method) if method.cash_on_delivery => PaymentMeans::CashOnDelivery,
        _ if paid => PaymentMeans::Card,
        _ => PaymentMeans::CreditTransfer,
    };
    let is_invoice = kind == PrintKind::Invoice;
    let purpose = match language {
        Language::Sl => format!("Plačilo računa {}", document.number),
        Language::En => format!("Invoice {}", document.number),
    };
    let payment = PaymentDetails {
        method: method.map(|method| method.name).or_else(|| {
            order
                .content
                .payment_method
                .as_ref()
                .map(|method| method.title.clone())
        }),
        means,
        paid,
        due_on: is_invoice
            .then(|| issued_on.checked_add(Duration::days(i64::from(profile.payment_days))))
            .flatten(),
        // Model SI00 with the invoice number's parts, so the payment names the invoice.
        reference: is_invoice
            .then(|| upn::si00_reference(&document.number).ok())
            .flatten(),
        purpose,
    };
    let rounding_name = match language {
        Language::Sl => "Zaokrožitev",
        Language::En => "Rounding",
    };
    let lines: Vec<PrintLine> = document
        .draft
        .lines
        .iter()
        .map(|line| PrintLine {
            sku: line.sku.clone(),
            name: if line.is_rounding() {
                rounding_name.to_owned()
            } else {
                line.name.clone()
            },
            quantity: line.quantity,
            unit: UNIT_PIECE.to_owned(),
            unit_price: line.unit_price,
            discount: line.discount,
            vat_rate: line.vat_rate,
            net: line.net,
            vat: line.vat,
            gross: line.gross,
            is_rounding: line.is_rounding(),
        })
        .collect();
    // A credit note is stored with what it gives back as positive amounts; printed and
    // exported, like a cancellation, it states them as negative.
    let sign = if kind == PrintKind::CreditNote {
        rust_decimal::Decimal::NEGATIVE_ONE
    } else {
        rust_decimal::Decimal::ONE
    };
    let lines: Vec<PrintLine> = lines
        .into_iter()
        .map(|line: PrintLine| PrintLine {
            quantity: line.quantity * sign,
            discount: line.discount * sign,
            net: line.net * sign,
            vat: line.vat * sign,
            gross: line.gross * sign,
            ..line
        })
        .collect();
    let vat_recap = document
        .draft
        .vat_recap
        .iter()
        .map(|recap| tovor_domain::document::VatRecap {
            rate: recap.rate,
            base: recap.base * sign,
            vat: recap.vat * sign,
            gross: recap.gross * sign,
        })
        .collect();
    let totals = &document.draft.totals;
    let totals = tovor_domain::document::DocumentTotals {
        net: totals.net * sign,
        vat: totals.vat * sign,
        rounding: totals.rounding * sign,
        gross: totals.gross * sign,
    };
    let (buyer, ship_to) = buyer_and_ship_to(&order.content);
    Ok(Printable {
        kind,
        number: document.number.clone(),
        issued_on,
        delivered_on: None,
        language,
        currency: document.draft.currency.clone(),
        seller: seller(&profile, company_name, logo),
        buyer,
        ship_to,
        order_number: Some(order.external_number.clone()).filter(|number| !number.is_empty()),
        payment,
        refers_to: referred.map(|referred| Reference {
            issued_on: profile.time_zone.local_date(referred.issued_at),
            number: referred.number,
        }),
        lines,
        vat_recap,
        totals,
        show_prices: show_prices || document.draft.kind != DocumentKind::DeliveryNote,
        note: None,
    })
}

fn seller(
    profile: &CompanyProfile,
    company_name: String,
    logo: Option<tovor_store::profiles::Logo>,
) -> Seller {
    Seller {
        party: Party {
            name: profile.legal_name.clone().unwrap_or(company_name),
            address_lines: profile.street.iter().cloned().collect(),
            postal_code: profile.postal_code.clone().unwrap_or_default(),
            city: profile.city.clone().unwrap_or_default(),
            country: profile.country.clone().unwrap_or_else(|| "SI".into()),
            vat_id: profile.vat_id.clone(),
            registration_number: profile.registration_number.clone(),
            email: profile.email.clone(),
            phone: profile.phone.clone(),
        },
        iban: profile.iban.clone(),
        bic: profile.bic.clone(),
        logo: logo.and_then(|logo| match logo.content_type.as_str() {
            "image/png" => Some(Logo::Png(logo.data)),
            "image/jpeg" => Some(Logo::Jpeg(logo.data)),
            _ => None,
        }),
        footer: profile.footer.clone(),
    }
}

/// The buyer is the billing address (the shipping one when there is none), with the
/// customer's company and VAT number; the goods' address is shown apart when it
/// differs.
fn buyer_and_ship_to(order: &NormalizedOrder) -> (Party, Option<Party>) {
    let customer = order.customer.as_ref();
    let billing = order.billing.as_ref().or(order.shipping.as_ref());
    let mut buyer = billing.map(party).unwrap_or_default();
    if let Some(customer) = customer {
        if buyer.name.is_empty() {
            buyer.name = [
                customer.first_name.as_deref(),
                customer.last_name.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        }
        if let Some(company) = customer
            .company
            .as_ref()
            .filter(|company| !company.is_empty())
            && !buyer.name.contains(company.as_str())
        {
            buyer.name = format!("{company}, {}", buyer.name);
        }
        buyer.vat_id = buyer.vat_id.or_else(|| customer.vat_id.clone());
        buyer.email = buyer.email.or_else(|| customer.email.clone());
    }
    // Contact details do not make a second address: only where the goods go does.
    let place = |party: &Party| {
        (
            party.name.clone(),
            party.address_lines.clone(),
            party.postal_code.clone(),
            party.city.clone(),
            party.country.clone(),
        )
    };
    let ship_to = match (order.billing.as_ref(), order.shipping.as_ref()) {
        (Some(billing), Some(shipping)) if place(&party(billing)) != place(&party(shipping)) => {
            Some(party(shipping))
        }
        _ => None,
    };
    (buyer, ship_to)
}

fn party(address: &Address) -> Party {
    let street = match (&address.line1, &address.street, &address.house_number) {
        (Some(line1), _, _) if !line1.is_empty() => Some(line1.clone()),
        (_, Some(street), Some(number)) => Some(format!("{street} {number}")),
        (_, Some(street), None) => Some(street.clone()),
        _ => None,
    };
    let name = match (&address.company, &address.name) {
        (Some(company), Some(name)) if !company.is_empty() => format!("{company}, {name}"),
        (Some(company), None) => company.clone(),
        (_, Some(name)) => name.clone(),
        _ => String::new(),
    };
    Party {
        name,
        address_lines: street
            .into_iter()
            .chain(address.line2.clone().filter(|line| !line.is_empty()))
            .collect(),
        postal_code: address.postal_code.clone().unwrap_or_default(),
        city: address.city.clone().unwrap_or_default(),
        country: address
            .country
            .clone()
            .unwrap_or_default()
            .to_ascii_uppercase(),
        vat_id: None,
        registration_number: None,
        email: address.email.clone(),
        phone: address.phone.clone(),
    }
}

/// Which e-invoice format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EInvoiceFormat {
    /// e-SLOG 2.0, the Slovenian format.
    Eslog,
    /// UBL 2.1 following Peppol BIS Billing 3.0.
    Ubl,
}

/// The documents `ids` as one PDF, in the order given. Delivery notes show prices only
/// when `show_prices`.
pub async fn pdf(
    state: &AppState,
    company: CompanyId,
    ids: &[DocumentId],
    show_prices: bool,
) -> Result<Vec<u8>, ServiceError> {
    let scope = state.store.company(company);
    let mut printables = Vec::with_capacity(ids.len());
    for id in ids {
        let document = scope.document(*id).await?;
        printables.push(printable(state, company, &document, show_prices).await?);
    }
    // Rendering is CPU work of some milliseconds per document: off the async threads.
    tokio::task::spawn_blocking(move || tovor_documents::render_many(&printables))
        .await
        .map_err(|error| ServiceError::Unavailable(format!("rendering stopped: {error}")))?
        .map_err(|error| ServiceError::Invalid(format!("the document cannot be printed: {error}")))
}

/// An invoice or credit note as an e-invoice.
pub async fn einvoice(
    state: &AppState,
    company: CompanyId,
    id: DocumentId,
    format: EInvoiceFormat,
) -> Result<String, ServiceError> {
    let document = state.store.company(company).document(id).await?;
    let printable = printable(state, company, &document, true).await?;
    let xml = match format {
        EInvoiceFormat::Eslog => tovor_einvoice::eslog(&printable),
        EInvoiceFormat::Ubl => tovor_einvoice::ubl(&printable),
    };
    xml.map_err(|error| {
        ServiceError::Invalid(format!("no e-invoice for {}: {error}", document.number))
    })
}
