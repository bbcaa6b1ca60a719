//! Wix eCommerce orders (and their Order Transactions) as tovor orders: pure functions
//! over the JSON, with unit tests in `tests.rs`.
//!
//! # Amounts
//!
//! Wix writes amounts as `{"amount": "12.30", "formattedAmount": "€12.30"}` with the
//! amount a decimal string in the order's currency. A line's `price` is one unit in
//! the site's tax basis (`taxIncludedInPrices`), `totalDiscount` the discount on the
//! whole line in the same basis, and `taxDetails.totalTax` its tax; `taxDetails.taxRate`
//! is a fraction (`"0.22"`). The line's net total is therefore `quantity × price −
//! discount`, less the tax when prices include it. Shipping (`shippingInfo.cost`) and
//! additional fees follow the same rules. `priceSummary.total` is what the buyer pays
//! and is taken as the order's total as is; `priceSummary.tax` is the tax total.
//!
//! Field names of line items beyond `productName.original` and
//! `catalogReference.catalogItemId`, and those of Order Transactions, follow Wix's
//! order object reference; where the public docs leave a detail open (for example
//! whether `totalDiscount` shares the price's tax basis) the plausible reading is used.

use rust_decimal::Decimal;
use serde_json::Value;
use tovor_sdk::money::{self, parse_decimal};
use tovor_sdk::time::{self, OffsetDateTime};
use tovor_sdk::types::{
    Address, ChargeLine, ConnectorError, Customer, LineItem, Order, OrderStatus, PaymentStatus,
    Refund,
};

/// The variant id Wix gives the one variant of a product without options.
pub const DEFAULT_VARIANT: &str = "00000000-0000-0000-0000-000000000000";

/// A text field, trimmed; `None` when absent or blank.
pub fn text(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// `{"amount": "12.30"}` (or a bare amount) as a decimal; absent is zero.
pub fn amount(value: &Value, what: &str) -> Result<Decimal, ConnectorError> {
    let inner = match value {
        Value::Object(object) => object.get("amount").unwrap_or(&Value::Null),
        other => other,
    };
    match inner {
        Value::Null => Ok(Decimal::ZERO),
        Value::String(text) if text.trim().is_empty() => Ok(Decimal::ZERO),
        other => money::decimal_from_json(other).map_err(|error| error.context(what)),
    }
}

/// An optional amount: `None` when absent.
fn amount_opt(value: &Value, what: &str) -> Result<Option<Decimal>, ConnectorError> {
    let present = match value {
        Value::Object(object) => object.get("amount").is_some_and(|a| !a.is_null()),
        Value::Null => false,
        _ => true,
    };
    if present {
        amount(value, what).map(Some)
    } else {
        Ok(None)
    }
}

/// A Wix tax rate (a fraction, `"0.22"`) in percent (`"22"`).
pub fn percent(rate: &Value) -> Result<Option<Decimal>, ConnectorError> {
    match rate {
        Value::Null => Ok(None),
        Value::String(text) if text.trim().is_empty() => Ok(None),
        other => Ok(Some(
            (money::decimal_from_json(other)? * Decimal::ONE_HUNDRED).normalize(),
        )),
    }
}

fn datetime(value: &Value, field: &str) -> Result<Option<OffsetDateTime>, ConnectorError> {
    match value.as_str() {
        Some(text) if !text.trim().is_empty() => time::parse_rfc3339(text.trim())
            .map(Some)
            .map_err(|error| error.with_field(field)),
        _ => Ok(None),
    }
}

/// One order of `POST /ecom/v1/orders/search` or `GET /ecom/v1/orders/{id}`, with the
/// order's transactions (`GET /ecom/v1/payments/orders/{id}`'s `orderTransactions`)
/// when they were fetched.
pub fn map_order(order: &Value, transactions: Option<&Value>) -> Result<Order, ConnectorError> {
    let id = text(&order["id"])
        .ok_or_else(|| ConnectorError::invalid_field("id", "a Wix order without an id"))?;
    let context = |error: ConnectorError| error.context(format_args!("Wix order {id}"));
    map_order_inner(&id, order, transactions).map_err(context)
}

fn map_order_inner(
    id: &str,
    order: &Value,
    transactions: Option<&Value>,
) -> Result<Order, ConnectorError> {
    let number = text(&order["number"])
        .or_else(|| order["number"].as_i64().map(|n| n.to_string()))
        .unwrap_or_else(|| id.to_owned());
    let currency = text(&order["currency"]).unwrap_or_default();
    let included = order["taxIncludedInPrices"].as_bool().unwrap_or(false);
    let created = datetime(&order["createdDate"], "createdDate")?
        .or(datetime(&order["purchasedDate"], "purchasedDate")?)
        .ok_or_else(|| ConnectorError::invalid_field("createdDate", "missing"))?;
    let modified = datetime(&order["updatedDate"], "updatedDate")?.unwrap_or(created);

    let status_raw = text(&order["status"]).unwrap_or_default();
    let payment_raw = text(&order["paymentStatus"]).unwrap_or_default();
    let fulfillment_raw = text(&order["fulfillmentStatus"]).unwrap_or_default();

    let mut builder = Order::builder(id, number, currency)
        .status(
            order_status(&status_raw, &payment_raw, &fulfillment_raw),
            format!("{status_raw}/{payment_raw}/{fulfillment_raw}"),
        )
        .payment_status(payment_status(&payment_raw))
        .prices_include_tax(included)
        .created_at(created)
        .modified_at(modified)
        .customer(customer(order))
        .billing(address(&order["billingInfo"], &order["buyerInfo"]["email"]))
        .shipping_address(address(
            &order["shippingInfo"]["logistics"]["shippingDestination"],
            &Value::Null,
        ));
    if let Some(note) = text(&order["buyerNote"]) {
        builder = builder.customer_note(note);
    }
    for discount in order["appliedDiscounts"].as_array().into_iter().flatten() {
        if let Some(code) = text(&discount["coupon"]["code"]) {
            builder = builder.coupon(code);
        }
    }

    let mut lines = Vec::new();
    for (index, line) in order["lineItems"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        lines.push(map_line(line, included).map_err(|e| e.context(format_args!("line {index}")))?);
    }
    builder = builder.lines(lines.clone());

    if let Some(shipping) = map_shipping(&order["shippingInfo"], included)? {
        builder = builder.shipping_line(shipping);
    }
    for fee in order["additionalFees"].as_array().into_iter().flatten() {
        builder = builder.fee(map_fee(fee, included)?);
    }

    let summary = &order["priceSummary"];
    if let Some(total) = amount_opt(&summary["total"], "priceSummary.total")? {
        builder = builder.total(total);
    }
    if let Some(tax) = amount_opt(&summary["tax"], "priceSummary.tax")? {
        builder = builder.tax_total(tax);
    }

    if let Some(transactions) = transactions {
        if let Some((code, title)) = payment_method(transactions) {
            builder = builder.payment_method(code, title);
        }
        builder = builder.paid_at(paid_at(transactions)?);
        for refund in map_refunds(transactions, order, &lines)? {
            builder = builder.refund(refund);
        }
    }
    builder.build()
}

/// The line's net total, tax and rate, from its price, quantity, discount and tax.
fn map_line(line: &Value, included: bool) -> Result<LineItem, ConnectorError> {
    let name = text(&line["productName"]["original"])
        .or_else(|| text(&line["productName"]["translated"]))
        .unwrap_or_else(|| "Item".to_owned());
    let quantity = money::decimal_from_json(&line["quantity"])
        .map_err(|error| error.with_field("quantity"))?;
    let price = amount(&line["price"], "price")?;
    let discount = amount(&line["totalDiscount"], "totalDiscount")?;
    let tax = amount(&line["taxDetails"]["totalTax"], "taxDetails.totalTax")?;
    let rate = percent(&line["taxDetails"]["taxRate"])?;
    let gross = quantity * price - discount;
    let net = if included { gross - tax } else { gross };
    let reference = &line["catalogReference"];
    let variant =
        text(&reference["options"]["variantId"]).filter(|variant| variant != DEFAULT_VARIANT);
    let mut builder = LineItem::builder(name, quantity, price)
        .discount(discount)
        .tax_amount(tax)
        .tax_rate(rate)
        .total(net);
    if let Some(id) = text(&line["id"]) {
        builder = builder.platform_line_id(id);
    }
    if let Some(sku) = text(&line["physicalProperties"]["sku"]) {
        builder = builder.sku(sku);
    }
    if let Some(product) = text(&reference["catalogItemId"]) {
        builder = builder.product_id(product);
    }
    if let Some(variant) = variant {
        builder = builder.variation_id(variant);
    }
    Ok(builder.build())
}

/// The shipping charge, excluding tax, after its discount.
fn map_shipping(shipping: &Value, included: bool) -> Result<Option<ChargeLine>, ConnectorError> {
    let cost = &shipping["cost"];
    let Some(price) = amount_opt(&cost["price"], "shippingInfo.cost.price")? else {
        return Ok(None);
    };
    let discount = amount(&cost["discount"], "shippingInfo.cost.discount")?;
    let tax = amount(
        &cost["taxDetails"]["totalTax"],
        "shippingInfo.cost.taxDetails",
    )?;
    let gross = price - discount;
    if gross.is_zero() && tax.is_zero() && text(&shipping["title"]).is_none() {
        return Ok(None);
    }
    let net = if included { gross - tax } else { gross };
    let title = text(&shipping["title"]).unwrap_or_else(|| "Shipping".to_owned());
    let mut builder = ChargeLine::builder(title, net)
        .tax_amount(tax)
        .tax_rate(percent(&cost["taxDetails"]["taxRate"])?);
    if let Some(code) = text(&shipping["code"]) {
        builder = builder.code(code);
    }
    Ok(Some(builder.build()))
}

fn map_fee(fee: &Value, included: bool) -> Result<ChargeLine, ConnectorError> {
    let price = amount(&fee["price"], "additionalFees.price")?;
    let tax = amount(&fee["taxDetails"]["totalTax"], "additionalFees.taxDetails")?;
    let net = if included { price - tax } else { price };
    let title = text(&fee["name"]).unwrap_or_else(|| "Fee".to_owned());
    let mut builder = ChargeLine::builder(title, net)
        .tax_amount(tax)
        .tax_rate(percent(&fee["taxDetails"]["taxRate"])?);
    if let Some(code) = text(&fee["code"]) {
        builder = builder.code(code);
    }
    if let Some(id) = text(&fee["id"]) {
        builder = builder.platform_line_id(id);
    }
    Ok(builder.build())
}

/// The order's state from Wix's three: `status` (`APPROVED`, `CANCELED`), payment and
/// fulfilment.
pub fn order_status(status: &str, payment: &str, fulfillment: &str) -> OrderStatus {
    match (status, payment, fulfillment) {
        ("CANCELED", _, _) => OrderStatus::Cancelled,
        (_, "FULLY_REFUNDED", _) => OrderStatus::Refunded,
        (_, _, "FULFILLED") => OrderStatus::Completed,
        (_, "PAID" | "PARTIALLY_REFUNDED", _) => OrderStatus::Processing,
        (_, "NOT_PAID" | "PENDING" | "PARTIALLY_PAID" | "AUTHORIZED", _) => OrderStatus::Pending,
        (_, "DECLINED" | "CANCELED", _) => OrderStatus::Failed,
        ("APPROVED", _, _) => OrderStatus::Processing,
        ("INITIALIZED" | "PENDING", _, _) => OrderStatus::Pending,
        _ => OrderStatus::Other,
    }
}

pub fn payment_status(payment: &str) -> PaymentStatus {
    match payment {
        "NOT_PAID" | "PENDING" | "DECLINED" | "CANCELED" => PaymentStatus::Unpaid,
        "PAID" => PaymentStatus::Paid,
        "PARTIALLY_PAID" => PaymentStatus::PartiallyPaid,
        "PARTIALLY_REFUNDED" => PaymentStatus::PartiallyRefunded,
        "FULLY_REFUNDED" => PaymentStatus::Refunded,
        "AUTHORIZED" => PaymentStatus::Authorized,
        "VOIDED" => PaymentStatus::Voided,
        _ => PaymentStatus::Unknown,
    }
}

/// The buyer: `buyerInfo` for the ids and e-mail, the billing contact for names,
/// company and VAT id. Guests have neither `contactId` nor `memberId`.
fn customer(order: &Value) -> Option<Customer> {
    let buyer = &order["buyerInfo"];
    let contact = &order["billingInfo"]["contactDetails"];
    let fallback = &order["shippingInfo"]["logistics"]["shippingDestination"]["contactDetails"];
    let pick = |field: &str| text(&contact[field]).or_else(|| text(&fallback[field]));
    let customer = Customer {
        platform_id: text(&buyer["memberId"]).or_else(|| text(&buyer["contactId"])),
        email: text(&buyer["email"]),
        first_name: pick("firstName"),
        last_name: pick("lastName"),
        company: pick("company"),
        vat_id: text(&contact["vatId"]["id"]).or_else(|| text(&contact["vatId"])),
        phone: pick("phone"),
    };
    let empty = customer.email.is_none()
        && customer.platform_id.is_none()
        && customer.first_name.is_none()
        && customer.last_name.is_none();
    (!empty).then_some(customer)
}

/// `{address, contactDetails}` (billing info or shipping destination) as an address.
fn address(info: &Value, email: &Value) -> Option<Address> {
    let address = &info["address"];
    let contact = &info["contactDetails"];
    if address.is_null() && contact.is_null() {
        return None;
    }
    let name = [text(&contact["firstName"]), text(&contact["lastName"])]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let line1 = text(&address["addressLine1"]).or_else(|| text(&address["addressLine"]));
    let mut builder = Address::builder()
        .name(name)
        .company(text(&contact["company"]).unwrap_or_default())
        .line1(line1.clone().unwrap_or_default())
        .line2(text(&address["addressLine2"]).unwrap_or_default())
        .city(text(&address["city"]).unwrap_or_default())
        .postal_code(text(&address["postalCode"]).unwrap_or_default())
        .region(text(&address["subdivision"]).unwrap_or_default())
        .country(text(&address["country"]).unwrap_or_default())
        .phone(text(&contact["phone"]).unwrap_or_default())
        .email(text(email).unwrap_or_default());
    let street = &address["streetAddress"];
    if let Some(street_name) = text(&street["name"]) {
        builder = builder.street(street_name, text(&street["number"]).unwrap_or_default());
    }
    Some(builder.build())
}

/// The payments of `orderTransactions` that went through.
fn approved_payments(transactions: &Value) -> impl Iterator<Item = &Value> {
    transactions["payments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|payment| {
            let status = payment["regularPaymentDetails"]["status"]
                .as_str()
                .unwrap_or("APPROVED");
            !matches!(status, "DECLINED" | "CANCELED" | "VOIDED" | "FAILED")
        })
}

/// The first payment's method: `regularPaymentDetails.paymentMethod` (`"CreditCard"`,
/// `"PayPal"`, ...), an offline payment, or a gift card.
pub fn payment_method(transactions: &Value) -> Option<(String, String)> {
    let payment = approved_payments(transactions).next()?;
    let regular = &payment["regularPaymentDetails"];
    if !payment["giftcardPaymentDetails"].is_null() && regular.is_null() {
        return Some(("GiftCard".into(), "Gift card".into()));
    }
    let method = text(&regular["paymentMethod"]);
    let offline = regular["offlinePayment"].as_bool().unwrap_or(false);
    match (method, offline) {
        (Some(method), _) => {
            let title = match method.as_str() {
                "CreditCard" => "Credit card".to_owned(),
                "PayPal" => "PayPal".to_owned(),
                "Offline" | "offline" => "Offline payment".to_owned(),
                "InPerson" => "In person".to_owned(),
                other => other.to_owned(),
            };
            Some((method, title))
        }
        (None, true) => Some(("Offline".into(), "Offline payment".into())),
        (None, false) => None,
    }
}

fn paid_at(transactions: &Value) -> Result<Option<OffsetDateTime>, ConnectorError> {
    match approved_payments(transactions).next() {
        Some(payment) => datetime(&payment["createdDate"], "payments.createdDate"),
        None => Ok(None),
    }
}

/// The refunds of `orderTransactions`: amounts from their transactions (failed ones
/// left out), lines from `details.items`, shipping when `details.shippingIncluded`.
pub fn map_refunds(
    transactions: &Value,
    order: &Value,
    lines: &[LineItem],
) -> Result<Vec<Refund>, ConnectorError> {
    let mut refunds = Vec::new();
    for refund in transactions["refunds"].as_array().into_iter().flatten() {
        let mut total = Decimal::ZERO;
        let mut any = false;
        for transaction in refund["transactions"].as_array().into_iter().flatten() {
            let status = transaction["refundStatus"].as_str().unwrap_or("SUCCEEDED");
            if matches!(status, "FAILED" | "ABORTED") {
                continue;
            }
            any = true;
            total += amount(&transaction["amount"], "refunds.transactions.amount")?;
        }
        if !any {
            continue;
        }
        let details = &refund["details"];
        let mut builder = Refund::builder(total)
            .created_at(datetime(&refund["createdDate"], "refunds.createdDate")?);
        if let Some(id) = text(&refund["id"]) {
            builder = builder.platform_id(id);
        }
        if let Some(reason) = text(&details["reason"]) {
            builder = builder.reason(reason);
        }
        for item in details["items"].as_array().into_iter().flatten() {
            let line_id = text(&item["lineItemId"]);
            let quantity = money::decimal_from_json(&item["quantity"]).unwrap_or(Decimal::ONE);
            let line = lines
                .iter()
                .find(|line| line.platform_line_id.is_some() && line.platform_line_id == line_id);
            let (sku, share) = match line {
                Some(line) => (line.sku.clone(), gross_share(line, quantity)?),
                None => (None, Decimal::ZERO),
            };
            builder = builder.line(line_id, sku, quantity, share);
        }
        if details["shippingIncluded"].as_bool().unwrap_or(false) {
            let cost = &order["shippingInfo"]["cost"];
            let gross = amount(&cost["totalPriceAfterTax"], "shippingInfo.cost")?;
            let gross = if gross.is_zero() {
                let included = order["taxIncludedInPrices"].as_bool().unwrap_or(false);
                let price = amount(&cost["price"], "shippingInfo.cost.price")?
                    - amount(&cost["discount"], "shippingInfo.cost.discount")?;
                if included {
                    price
                } else {
                    price + amount(&cost["taxDetails"]["totalTax"], "shippingInfo.cost")?
                }
            } else {
                gross
            };
            builder = builder.shipping(gross);
        }
        refunds.push(builder.build());
    }
    Ok(refunds)
}

/// What `quantity` units of the line cost, tax included, to the cent.
fn gross_share(line: &LineItem, quantity: Decimal) -> Result<Decimal, ConnectorError> {
    let ordered = parse_decimal(&line.quantity)?;
    if ordered.is_zero() {
        return Ok(Decimal::ZERO);
    }
    let gross = parse_decimal(&line.total)? + parse_decimal(&line.tax_amount)?;
    Ok((gross * quantity / ordered).round_dp(2))
}
