//! UBL 2.1 Invoice and CreditNote following Peppol BIS Billing 3.0.
//!
//! Element order follows the OASIS UBL 2.1 schemas (`UBL-Invoice-2.1.xsd`,
//! `UBL-CreditNote-2.1.xsd`); which elements and codes follows the Peppol BIS Billing
//! 3.0 syntax binding and its rules (PEPPOL-EN16931-UBL.sch and CEN-EN16931-UBL.sch,
//! release 3.0.19, in github.com/OpenPEPPOL/peppol-bis-invoice-3).

use tovor_documents::Party;

use crate::EInvoiceError;
use crate::codes::{Endpoint, vat_endpoint};
use crate::semantic::{DocType, Line, Semantic, money, plain};
use crate::xml::Xml;

/// BT-24 specification identifier of Peppol BIS Billing 3.0 (rule PEPPOL-EN16931-R004).
pub const PEPPOL_CUSTOMIZATION_ID: &str =
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0";
/// BT-23 business process: Peppol's billing process 01 (rule PEPPOL-EN16931-R007).
pub const PEPPOL_PROFILE_ID: &str = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0";

const CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";

pub(crate) fn write(doc: &Semantic<'_>) -> Result<String, EInvoiceError> {
    let seller_endpoint =
        vat_endpoint(doc.seller_vat_id).ok_or_else(|| EInvoiceError::NoElectronicAddress {
            term: "BT-34 seller electronic address",
            reason: format!(
                "Peppol's electronic address schemes have none for the VAT identifier {}",
                doc.seller_vat_id
            ),
        })?;
    let buyer_endpoint = buyer_endpoint(doc)?;

    let (root, namespace, line_element, quantity_element) = match doc.doc_type {
        DocType::Invoice => (
            "Invoice",
            "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
            "cac:InvoiceLine",
            "cbc:InvoicedQuantity",
        ),
        DocType::CreditNote => (
            "CreditNote",
            "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
            "cac:CreditNoteLine",
            "cbc:CreditedQuantity",
        ),
    };
    let currency = doc.currency;
    let amount = |xml: &mut Xml, name: &str, value| {
        xml.leaf_with(name, &[("currencyID", currency)], &money(value))
    };

    let mut xml = Xml::new()?;
    xml.open(
        root,
        &[("xmlns", namespace), ("xmlns:cac", CAC), ("xmlns:cbc", CBC)],
    )?;
    xml.leaf("cbc:CustomizationID", PEPPOL_CUSTOMIZATION_ID)?;
    xml.leaf("cbc:ProfileID", PEPPOL_PROFILE_ID)?;
    xml.leaf("cbc:ID", doc.number)?;
    xml.leaf("cbc:IssueDate", &doc.issued_on.to_string())?;
    match doc.doc_type {
        DocType::Invoice => {
            if let Some(due_on) = doc.due_on {
                xml.leaf("cbc:DueDate", &due_on.to_string())?;
            }
            xml.leaf("cbc:InvoiceTypeCode", doc.doc_type.code())?;
        }
        DocType::CreditNote => xml.leaf("cbc:CreditNoteTypeCode", doc.doc_type.code())?,
    }
    if let Some(note) = doc.note {
        xml.leaf("cbc:Note", note)?;
    }
    xml.leaf("cbc:DocumentCurrencyCode", currency)?;
    // PEPPOL-EN16931-R003 wants a buyer reference (BT-10) or an order reference
    // (BT-13). The shop's order is the buyer's order, so its number is BT-13; without
    // one, Peppol's guide ("Buyer reference") allows the name of the person ordering.
    if doc.order_number.is_none() {
        xml.leaf("cbc:BuyerReference", doc.buyer.name.trim())?;
    }
    if let Some(order_number) = doc.order_number {
        xml.open("cac:OrderReference", &[])?;
        xml.leaf("cbc:ID", order_number)?;
        xml.close("cac:OrderReference")?;
    }
    if let Some(reference) = doc.preceding {
        xml.open("cac:BillingReference", &[])?;
        xml.open("cac:InvoiceDocumentReference", &[])?;
        xml.leaf("cbc:ID", reference.number.trim())?;
        xml.leaf("cbc:IssueDate", &reference.issued_on.to_string())?;
        xml.close("cac:InvoiceDocumentReference")?;
        xml.close("cac:BillingReference")?;
    }

    xml.open("cac:AccountingSupplierParty", &[])?;
    party(
        &mut xml,
        doc.seller,
        &seller_endpoint,
        Some(doc.seller_vat_id),
        doc.seller_legal_info,
    )?;
    xml.close("cac:AccountingSupplierParty")?;
    xml.open("cac:AccountingCustomerParty", &[])?;
    party(
        &mut xml,
        doc.buyer,
        &buyer_endpoint,
        doc.buyer_vat_id(),
        None,
    )?;
    xml.close("cac:AccountingCustomerParty")?;

    xml.open("cac:Delivery", &[])?;
    xml.leaf("cbc:ActualDeliveryDate", &doc.delivered_on.to_string())?;
    if let Some(deliver_to) = doc.deliver_to() {
        xml.open("cac:DeliveryLocation", &[])?;
        address(&mut xml, "cac:Address", deliver_to)?;
        xml.close("cac:DeliveryLocation")?;
        xml.open("cac:DeliveryParty", &[])?;
        xml.open("cac:PartyName", &[])?;
        xml.leaf("cbc:Name", deliver_to.name.trim())?;
        xml.close("cac:PartyName")?;
        xml.close("cac:DeliveryParty")?;
    }
    xml.close("cac:Delivery")?;

    if let Some(payment) = &doc.payment {
        xml.open("cac:PaymentMeans", &[])?;
        match payment.text {
            Some(text) => xml.leaf_with("cbc:PaymentMeansCode", &[("name", text)], payment.code)?,
            None => xml.leaf("cbc:PaymentMeansCode", payment.code)?,
        }
        if let (Some(remittance), Some(_)) = (doc.remittance, payment.iban) {
            xml.leaf("cbc:PaymentID", remittance)?;
        }
        if let Some(iban) = payment.iban {
            xml.open("cac:PayeeFinancialAccount", &[])?;
            xml.leaf("cbc:ID", iban)?;
            xml.leaf("cbc:Name", doc.seller.name.trim())?;
            if let Some(bic) = payment.bic {
                xml.open("cac:FinancialInstitutionBranch", &[])?;
                xml.leaf("cbc:ID", bic)?;
                xml.close("cac:FinancialInstitutionBranch")?;
            }
            xml.close("cac:PayeeFinancialAccount")?;
        }
        xml.close("cac:PaymentMeans")?;
    }
    if let Some(terms) = doc.payment_terms {
        xml.open("cac:PaymentTerms", &[])?;
        xml.leaf("cbc:Note", terms)?;
        xml.close("cac:PaymentTerms")?;
    }

    xml.open("cac:TaxTotal", &[])?;
    amount(&mut xml, "cbc:TaxAmount", doc.totals.tax)?;
    for group in &doc.breakdown {
        xml.open("cac:TaxSubtotal", &[])?;
        amount(&mut xml, "cbc:TaxableAmount", group.taxable)?;
        amount(&mut xml, "cbc:TaxAmount", group.tax)?;
        xml.open("cac:TaxCategory", &[])?;
        xml.leaf("cbc:ID", group.category.code())?;
        xml.leaf("cbc:Percent", &plain(group.rate))?;
        if let Some(code) = group.category.exemption_reason_code() {
            xml.leaf("cbc:TaxExemptionReasonCode", code)?;
        }
        if let Some(text) = group.category.exemption_reason_text(doc.slovenian) {
            xml.leaf("cbc:TaxExemptionReason", text)?;
        }
        tax_scheme(&mut xml)?;
        xml.close("cac:TaxCategory")?;
        xml.close("cac:TaxSubtotal")?;
    }
    xml.close("cac:TaxTotal")?;

    let totals = &doc.totals;
    xml.open("cac:LegalMonetaryTotal", &[])?;
    amount(&mut xml, "cbc:LineExtensionAmount", totals.line_net)?;
    amount(&mut xml, "cbc:TaxExclusiveAmount", totals.tax_exclusive)?;
    amount(&mut xml, "cbc:TaxInclusiveAmount", totals.tax_inclusive)?;
    if !totals.prepaid.is_zero() {
        amount(&mut xml, "cbc:PrepaidAmount", totals.prepaid)?;
    }
    if !totals.rounding.is_zero() {
        amount(&mut xml, "cbc:PayableRoundingAmount", totals.rounding)?;
    }
    amount(&mut xml, "cbc:PayableAmount", totals.payable)?;
    xml.close("cac:LegalMonetaryTotal")?;

    for line in &doc.lines {
        invoice_line(&mut xml, doc, line, line_element, quantity_element)?;
    }

    xml.close(root)?;
    xml.finish()
}

/// The buyer's electronic address (BT-49), which Peppol requires (PEPPOL-EN16931-R010).
///
/// Only a VAT identifier can be one here: the model has no Peppol participant
/// identifier, and an e-mail address (EAS `EM`) is in the CEN code list (BR-CL-25) but
/// not in Peppol's (PEPPOL-EN16931-CL008, release 3.0.19), so a buyer without a VAT
/// identifier, typically a consumer, cannot receive a Peppol invoice.
fn buyer_endpoint(doc: &Semantic<'_>) -> Result<Endpoint, EInvoiceError> {
    let vat_id = doc
        .buyer_vat_id()
        .ok_or_else(|| EInvoiceError::NoElectronicAddress {
            term: "BT-49 buyer electronic address",
            reason: "the buyer has no VAT identifier, and Peppol's electronic address \
                     schemes have no e-mail scheme"
                .to_owned(),
        })?;
    vat_endpoint(vat_id).ok_or_else(|| EInvoiceError::NoElectronicAddress {
        term: "BT-49 buyer electronic address",
        reason: format!(
            "Peppol's electronic address schemes have none for the VAT identifier {vat_id}"
        ),
    })
}

fn party(
    xml: &mut Xml,
    party: &Party,
    endpoint: &Endpoint,
    vat_id: Option<&str>,
    legal_info: Option<&str>,
) -> Result<(), EInvoiceError> {
    xml.open("cac:Party", &[])?;
    xml.leaf_with(
        "cbc:EndpointID",
        &[("schemeID", endpoint.scheme)],
        &endpoint.id,
    )?;
    address(xml, "cac:PostalAddress", party)?;
    if let Some(vat_id) = vat_id {
        xml.open("cac:PartyTaxScheme", &[])?;
        xml.leaf("cbc:CompanyID", vat_id)?;
        tax_scheme(xml)?;
        xml.close("cac:PartyTaxScheme")?;
    }
    xml.open("cac:PartyLegalEntity", &[])?;
    xml.leaf("cbc:RegistrationName", party.name.trim())?;
    if let Some(registration) = crate::semantic::non_empty(party.registration_number.as_deref()) {
        xml.leaf("cbc:CompanyID", registration)?;
    }
    if let Some(info) = legal_info {
        xml.leaf("cbc:CompanyLegalForm", info)?;
    }
    xml.close("cac:PartyLegalEntity")?;
    let email = crate::semantic::non_empty(party.email.as_deref());
    let phone = crate::semantic::non_empty(party.phone.as_deref());
    if email.is_some() || phone.is_some() {
        xml.open("cac:Contact", &[])?;
        if let Some(phone) = phone {
            xml.leaf("cbc:Telephone", phone)?;
        }
        if let Some(email) = email {
            xml.leaf("cbc:ElectronicMail", email)?;
        }
        xml.close("cac:Contact")?;
    }
    xml.close("cac:Party")
}

/// A postal address: the first line is the street (BT-35), the second the additional
/// street (BT-36), the rest the third address line (BT-162).
fn address(xml: &mut Xml, element: &str, party: &Party) -> Result<(), EInvoiceError> {
    let lines: Vec<&str> = party
        .address_lines
        .iter()
        .filter_map(|line| crate::semantic::non_empty(Some(line)))
        .collect();
    xml.open(element, &[])?;
    if let Some(street) = lines.first() {
        xml.leaf("cbc:StreetName", street)?;
    }
    if let Some(additional) = lines.get(1) {
        xml.leaf("cbc:AdditionalStreetName", additional)?;
    }
    if let Some(city) = crate::semantic::non_empty(Some(&party.city)) {
        xml.leaf("cbc:CityName", city)?;
    }
    if let Some(postal_code) = crate::semantic::non_empty(Some(&party.postal_code)) {
        xml.leaf("cbc:PostalZone", postal_code)?;
    }
    if lines.len() > 2 {
        xml.open("cac:AddressLine", &[])?;
        xml.leaf("cbc:Line", &lines[2..].join(", "))?;
        xml.close("cac:AddressLine")?;
    }
    xml.open("cac:Country", &[])?;
    xml.leaf("cbc:IdentificationCode", &party.country)?;
    xml.close("cac:Country")?;
    xml.close(element)
}

fn tax_scheme(xml: &mut Xml) -> Result<(), EInvoiceError> {
    xml.open("cac:TaxScheme", &[])?;
    xml.leaf("cbc:ID", "VAT")?;
    xml.close("cac:TaxScheme")
}

/// A line. The discount is a line allowance (BG-27) on the price before discount, so
/// the line satisfies PEPPOL-EN16931-R120 (net = quantity × price − allowances +
/// charges) with the model's own figures; a price discount (BT-147) would need a net
/// price per unit, which rarely comes out in whole cents.
fn invoice_line(
    xml: &mut Xml,
    doc: &Semantic<'_>,
    line: &Line<'_>,
    element: &str,
    quantity_element: &str,
) -> Result<(), EInvoiceError> {
    let currency = doc.currency;
    xml.open(element, &[])?;
    xml.leaf("cbc:ID", &line.id.to_string())?;
    xml.leaf_with(
        quantity_element,
        &[("unitCode", line.unit)],
        &plain(line.quantity),
    )?;
    xml.leaf_with(
        "cbc:LineExtensionAmount",
        &[("currencyID", currency)],
        &money(line.net),
    )?;
    let discount_text = if doc.slovenian { "Popust" } else { "Discount" };
    let surcharge_text = if doc.slovenian {
        "Doplačilo"
    } else {
        "Surcharge"
    };
    for (is_charge, value) in [(false, line.allowance), (true, line.charge)] {
        if value.is_zero() {
            continue;
        }
        xml.open("cac:AllowanceCharge", &[])?;
        xml.leaf(
            "cbc:ChargeIndicator",
            if is_charge { "true" } else { "false" },
        )?;
        if is_charge {
            xml.leaf("cbc:AllowanceChargeReason", surcharge_text)?;
        } else {
            // UNCL 5189 95: discount (in Peppol's subset, PEPPOL-EN16931-CL002).
            xml.leaf("cbc:AllowanceChargeReasonCode", "95")?;
            xml.leaf("cbc:AllowanceChargeReason", discount_text)?;
        }
        xml.leaf_with("cbc:Amount", &[("currencyID", currency)], &money(value))?;
        xml.close("cac:AllowanceCharge")?;
    }
    xml.open("cac:Item", &[])?;
    xml.leaf("cbc:Name", line.name)?;
    if let Some(sku) = line.sku {
        xml.open("cac:SellersItemIdentification", &[])?;
        xml.leaf("cbc:ID", sku)?;
        xml.close("cac:SellersItemIdentification")?;
    }
    xml.open("cac:ClassifiedTaxCategory", &[])?;
    xml.leaf("cbc:ID", line.category.code())?;
    xml.leaf("cbc:Percent", &plain(line.rate))?;
    tax_scheme(xml)?;
    xml.close("cac:ClassifiedTaxCategory")?;
    xml.close("cac:Item")?;
    xml.open("cac:Price", &[])?;
    xml.leaf_with(
        "cbc:PriceAmount",
        &[("currencyID", currency)],
        &plain(line.price),
    )?;
    xml.close("cac:Price")?;
    xml.close(element)
}
