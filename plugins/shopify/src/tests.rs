//! Native unit tests. They cover everything but the HTTP round trips, which
//! `tests/harness.rs` runs against the fake Shopify of `tovor-fakes`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use tovor_sdk::http::Response;
use tovor_sdk::money::Decimal;
use tovor_sdk::shop::{
    OrderHint, Parcel, Shipment, ShippedLine, WebhookEvent, WebhookRequest, Webhooks,
};
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{ErrorKind, Order, OrderStatus, PaymentStatus, Timestamp};
use tovor_sdk::{Config, signature};

use super::*;
use crate::api::{DEFAULT_RETRY_MS, check};
use crate::fulfillment::{
    ExistingFulfillment, FulfilledLine, FulfillmentOrder, FulfillmentOrderLine, Plan,
    PlannedFulfillment, fulfillment_body, plan,
};
use crate::mapping::{
    error_messages, map_products, map_status, page_info_of, parse_call_limit, scope_in_message,
    split_street, status_raw,
};
use crate::stock::StockKey;

const EXCLUDED: &str = include_str!("../fixtures/order-taxes-excluded.json");
const INCLUDED_USD: &str = include_str!("../fixtures/order-taxes-included-usd-refunded.json");
const SECRET: &str = "shpss_unit_test_secret";

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn utc(at: Timestamp) -> String {
    tovor_sdk::time::format_utc(OffsetDateTime::try_from(at).unwrap())
}

/// A local copy of the identities the host checks (host/domain/src/order/validate.rs),
/// so a mapping that would be refused fails here first. Quantities may be 0: a line the
/// shop removed entirely stays with nothing left.
fn assert_adds_up(order: &Order) {
    let cent = d("0.01");
    let mut parts = 0usize;
    let mut tax_sum = Decimal::ZERO;
    let mut net_sum = Decimal::ZERO;
    let mut discount_sum = Decimal::ZERO;
    for (index, line) in order.lines.iter().enumerate() {
        let (q, unit, discount, tax, total) = (
            d(&line.quantity),
            d(&line.unit_price),
            d(&line.discount),
            d(&line.tax_amount),
            d(&line.total),
        );
        assert!(q >= Decimal::ZERO, "lines[{index}] quantity");
        let basis = if order.prices_include_tax {
            total + tax
        } else {
            total
        };
        assert!(
            (q * unit - discount - basis).abs() <= cent,
            "lines[{index}]: {q} × {unit} − {discount} vs {basis}"
        );
        if let Some(rate) = &line.tax_rate {
            let expected = total * d(rate) / Decimal::ONE_HUNDRED;
            assert!(
                (tax - expected).abs() <= cent,
                "lines[{index}] tax {tax} vs {expected}"
            );
        }
        parts += 1;
        tax_sum += tax;
        net_sum += total;
        discount_sum += discount;
    }
    let mut shipping_sum = Decimal::ZERO;
    for (index, charge) in order.shipping_lines.iter().chain(&order.fees).enumerate() {
        let (amount, tax) = (d(&charge.amount), d(&charge.tax_amount));
        if let Some(rate) = &charge.tax_rate {
            let expected = amount * d(rate) / Decimal::ONE_HUNDRED;
            assert!(
                (tax - expected).abs() <= cent,
                "charge {index} tax {tax} vs {expected}"
            );
        }
        parts += 1;
        tax_sum += tax;
        net_sum += amount;
    }
    for charge in &order.shipping_lines {
        shipping_sum += d(&charge.amount);
    }
    let tolerance = cent * Decimal::from(parts.max(1) as u64);
    assert!(
        (d(&order.shipping_total) - shipping_sum).abs()
            <= cent * Decimal::from(order.shipping_lines.len().max(1) as u64),
        "shipping_total {} vs {shipping_sum}",
        order.shipping_total
    );
    assert!(
        (d(&order.tax_total) - tax_sum).abs() <= tolerance,
        "tax_total {} vs {tax_sum}",
        order.tax_total
    );
    if !order.prices_include_tax {
        assert!((d(&order.discount_total) - discount_sum).abs() <= tolerance);
    }
    let expected_total = net_sum + d(&order.tax_total);
    assert!(
        (d(&order.total) - expected_total).abs() <= tolerance,
        "total {} vs {expected_total}",
        order.total
    );
}

#[test]
fn maps_an_order_with_taxes_excluded() {
    let order = map_order_json(EXCLUDED.as_bytes()).unwrap();
    assert_eq!(order.id, "5726128734520");
    assert_eq!(order.number, "#1001");
    assert_eq!(order.status, OrderStatus::Processing);
    assert_eq!(order.status_raw, "paid/unfulfilled");
    assert_eq!(order.payment_status, PaymentStatus::Paid);
    let payment = order.payment_method.as_ref().unwrap();
    assert_eq!(
        (payment.code.as_str(), payment.title.as_str()),
        ("shopify_payments", "shopify_payments")
    );
    assert_eq!(order.currency, "EUR");
    assert!(!order.prices_include_tax);
    assert_eq!(utc(order.created_at), "2025-03-02T09:15:00Z", "to UTC");
    assert_eq!(utc(order.modified_at), "2025-03-02T09:16:02Z");
    assert_eq!(
        order.paid_at.map(utc).as_deref(),
        Some("2025-03-02T09:15:00Z")
    );
    assert_eq!(order.coupons, ["WELCOME10"]);
    assert_eq!(order.customer_note.as_deref(), Some("Please ring twice"));

    let customer = order.customer.as_ref().unwrap();
    assert_eq!(customer.platform_id.as_deref(), Some("7311942107192"));
    assert_eq!(customer.email.as_deref(), Some("ana.novak@example.com"));
    assert_eq!(customer.first_name.as_deref(), Some("Ana"));
    assert_eq!(customer.last_name.as_deref(), Some("Novak"));
    assert_eq!(customer.phone.as_deref(), Some("+38640123456"));

    let billing = order.billing.as_ref().unwrap();
    assert_eq!(billing.street.as_deref(), Some("Slovenska cesta"));
    assert_eq!(billing.house_number.as_deref(), Some("12a"));
    assert_eq!(billing.line1.as_deref(), Some("Slovenska cesta 12a"));
    assert_eq!(billing.country.as_deref(), Some("SI"));
    assert_eq!(billing.name.as_deref(), Some("Ana Novak"));
    assert_eq!(billing.email.as_deref(), Some("ana.novak@example.com"));
    let shipping = order.shipping.as_ref().unwrap();
    assert_eq!(shipping.street.as_deref(), Some("Trg republike"));
    assert_eq!(shipping.house_number.as_deref(), Some("3"));

    let shirt = &order.lines[0];
    assert_eq!(shirt.name, "Organic T-Shirt - M");
    assert_eq!(shirt.sku.as_deref(), Some("TSHIRT-M"));
    assert_eq!(shirt.product_id.as_deref(), Some("9043362840632"));
    assert_eq!(shirt.variation_id.as_deref(), Some("48122346455096"));
    assert_eq!(shirt.platform_line_id.as_deref(), Some("13994715365432"));
    assert_eq!(
        (
            shirt.quantity.as_str(),
            shirt.unit_price.as_str(),
            shirt.discount.as_str()
        ),
        ("2", "19.90", "3.98")
    );
    assert_eq!(shirt.ordered_quantity, None, "not edited");
    assert_eq!(
        (shirt.tax_rate.as_deref(), shirt.tax_amount.as_str()),
        (Some("22"), "7.88")
    );
    assert_eq!(shirt.total, "35.82");
    let book = &order.lines[1];
    assert_eq!(
        book.name, "Cookbook: Slovenian Classics",
        "no variant title"
    );
    assert_eq!(book.tax_rate.as_deref(), Some("9.5"));
    assert_eq!(book.total, "21.60");

    let standard = &order.shipping_lines[0];
    assert_eq!(
        (standard.title.as_str(), standard.amount.as_str()),
        ("Standard", "4.90")
    );
    assert_eq!(
        (standard.tax_rate.as_deref(), standard.tax_amount.as_str()),
        (Some("22"), "1.08")
    );
    assert_eq!(order.shipping_total, "4.90");
    assert_eq!(order.discount_total, "6.38");
    assert_eq!(order.tax_total, "11.01");
    assert_eq!(order.total, "73.33");
    assert!(order.refunds.is_empty());
    assert_adds_up(&order);
}

#[test]
fn maps_a_refunded_guest_order_with_taxes_included_in_another_currency() {
    let order = map_order_json(INCLUDED_USD.as_bytes()).unwrap();
    assert_eq!(
        order.currency, "EUR",
        "the shop currency, not the presentment one"
    );
    assert!(order.prices_include_tax);
    assert_eq!(order.status, OrderStatus::Processing);
    assert_eq!(order.status_raw, "partially_refunded/partial");
    assert_eq!(order.payment_status, PaymentStatus::PartiallyRefunded);
    assert_eq!(utc(order.created_at), "2025-03-03T20:40:12Z");

    let customer = order.customer.as_ref().unwrap();
    assert_eq!(customer.platform_id, None, "guest checkout");
    assert_eq!(customer.email.as_deref(), Some("guest.buyer@example.net"));
    assert_eq!(
        customer.first_name.as_deref(),
        Some("Ivan"),
        "from the billing address"
    );
    let billing = order.billing.as_ref().unwrap();
    assert_eq!(
        (billing.street.as_deref(), billing.house_number.as_deref()),
        (Some("Ilica"), Some("1"))
    );
    assert_eq!(billing.country.as_deref(), Some("HR"));

    // One of three mugs went back: two are left to deliver, their tax is two thirds.
    let mugs = &order.lines[0];
    assert_eq!(mugs.quantity, "2", "current_quantity");
    assert_eq!(mugs.ordered_quantity.as_deref(), Some("3"));
    assert_eq!(mugs.unit_price, "9.90", "shop money, gross");
    assert_eq!(
        (mugs.tax_amount.as_str(), mugs.total.as_str()),
        ("3.96", "15.84")
    );
    assert_eq!(mugs.tax_rate.as_deref(), Some("25"));
    let book = &order.lines[1];
    assert_eq!(
        (book.tax_amount.as_str(), book.total.as_str()),
        ("1.14", "22.86")
    );
    assert_eq!(book.ordered_quantity, None);
    assert_eq!(book.tax_rate.as_deref(), Some("5"));
    let express = &order.shipping_lines[0];
    assert_eq!(
        (express.amount.as_str(), express.tax_amount.as_str()),
        ("6.00", "1.50"),
        "net"
    );
    assert_eq!(order.shipping_total, "6.00");
    // Shopify's current figures, which agree with the lines.
    assert_eq!(order.tax_total, "6.60");
    assert_eq!(order.total, "51.30");

    assert_eq!(order.refunds.len(), 1);
    let refund = &order.refunds[0];
    assert_eq!(refund.platform_id.as_deref(), Some("1018736263224"));
    assert_eq!(
        refund.amount, "9.90",
        "shop money from the lines, not 10.69 USD"
    );
    assert_eq!(refund.reason.as_deref(), Some("Arrived broken"));
    assert_eq!(
        refund.created_at.map(utc).as_deref(),
        Some("2025-03-05T08:02:40Z")
    );
    assert!(refund.restock, "restock_type return");
    assert_eq!(refund.shipping, "0");
    assert_eq!(refund.lines.len(), 1);
    assert_eq!(
        refund.lines[0].platform_line_id.as_deref(),
        Some("13994815365432")
    );
    assert_eq!(
        (
            refund.lines[0].quantity.as_str(),
            refund.lines[0].amount.as_str()
        ),
        ("1", "9.90")
    );
    assert_adds_up(&order);
}

#[test]
fn refunds_in_shop_currency_use_the_transactions_and_shipping_is_counted() {
    let mut json: serde_json::Value = serde_json::from_str(INCLUDED_USD).unwrap();
    json["refunds"][0]["transactions"][0]["currency"] = "EUR".into();
    json["refunds"][0]["transactions"][0]["amount"] = "9.95".into();
    let order = map_order_json(json.to_string().as_bytes()).unwrap();
    assert_eq!(order.refunds[0].amount, "9.95");

    // No transaction in the shop currency: lines plus shipping, in both of Shopify's
    // forms (before 2024-10 as an order adjustment, since as refund shipping lines).
    let mut json: serde_json::Value = serde_json::from_str(INCLUDED_USD).unwrap();
    json["refunds"][0]["order_adjustments"] = serde_json::json!([
        {"kind": "shipping_refund", "amount": "-4.50", "tax_amount": "-0.50"},
        {"kind": "refund_discrepancy", "amount": "-1.00", "tax_amount": "0.00"}
    ]);
    json["refunds"][0]["refund_shipping_lines"] = serde_json::json!([{
        "subtotal_amount_set": {"shop_money": {"amount": "0.80", "currency_code": "EUR"}},
        "tax_amount_set": {"shop_money": {"amount": "0.20", "currency_code": "EUR"}}
    }]);
    json["refunds"][0]["refund_line_items"][0]["restock_type"] = "no_restock".into();
    let order = map_order_json(json.to_string().as_bytes()).unwrap();
    let refund = &order.refunds[0];
    assert_eq!(refund.shipping, "6.00");
    assert_eq!(refund.amount, "15.90");
    assert!(!refund.restock);
}

#[test]
fn edited_orders_deliver_the_current_quantity() {
    // The shirt line: 2 ordered, 1 removed in an order edit.
    let mut json: serde_json::Value = serde_json::from_str(EXCLUDED).unwrap();
    json["line_items"][0]["current_quantity"] = 1.into();
    // What Shopify's current figures say after the edit: the shirt's discount and tax
    // are halved (1.99 and 3.94), its net 17.91.
    json["current_total_price"] = "51.48".into();
    json["current_total_price_set"] = serde_json::Value::Null;
    json["current_total_tax"] = "7.07".into();
    json["current_total_tax_set"] = serde_json::Value::Null;
    json["current_total_discounts"] = "4.39".into();
    json["current_total_discounts_set"] = serde_json::Value::Null;
    let order = map_order_json(json.to_string().as_bytes()).unwrap();
    let shirt = &order.lines[0];
    assert_eq!(shirt.quantity, "1");
    assert_eq!(shirt.ordered_quantity.as_deref(), Some("2"));
    assert_eq!(
        (
            shirt.discount.as_str(),
            shirt.tax_amount.as_str(),
            shirt.total.as_str()
        ),
        ("1.99", "3.94", "17.91")
    );
    assert_eq!(
        (
            order.total.as_str(),
            order.tax_total.as_str(),
            order.discount_total.as_str()
        ),
        ("51.48", "7.07", "4.39")
    );
    assert_adds_up(&order);

    // Removed entirely: the line stays, with nothing to deliver and nothing charged.
    json["line_items"][0]["current_quantity"] = 0.into();
    json["current_total_price"] = "29.63".into();
    json["current_total_tax"] = "3.13".into();
    json["current_total_discounts"] = "2.40".into();
    let order = map_order_json(json.to_string().as_bytes()).unwrap();
    let shirt = &order.lines[0];
    assert_eq!(
        (d(&shirt.quantity), shirt.ordered_quantity.as_deref()),
        (Decimal::ZERO, Some("2"))
    );
    assert_eq!(
        (d(&shirt.total), d(&shirt.tax_amount), d(&shirt.discount)),
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO)
    );
    assert_eq!(order.total, "29.63");
    assert_adds_up(&order);
}

#[test]
fn refunded_shipping_stays_in_the_total_which_is_before_refunds() {
    // Shopify's current total takes off the refunded shipping; the contract's total does
    // not (the refund says it), so the lines' sum is used.
    let mut json: serde_json::Value = serde_json::from_str(EXCLUDED).unwrap();
    json["current_total_price"] = "67.35".into();
    json["current_total_price_set"] = serde_json::Value::Null;
    json["current_total_tax"] = "9.93".into();
    json["current_total_tax_set"] = serde_json::Value::Null;
    json["refunds"] = serde_json::json!([{
        "id": 1, "created_at": "2025-03-04T10:00:00+01:00", "note": "late",
        "refund_line_items": [],
        "refund_shipping_lines": [{
            "subtotal_amount_set": {"shop_money": {"amount": "4.90"}},
            "tax_amount_set": {"shop_money": {"amount": "1.08"}}
        }],
        "transactions": [{"kind": "refund", "status": "success", "amount": "5.98", "currency": "EUR"}]
    }]);
    let order = map_order_json(json.to_string().as_bytes()).unwrap();
    assert_eq!(
        (order.total.as_str(), order.tax_total.as_str()),
        ("73.33", "11.01")
    );
    assert_eq!(order.refunds[0].shipping, "5.98");
    assert_eq!(order.refunds[0].amount, "5.98");
    assert!(!order.refunds[0].restock, "no lines, nothing restocked");
    assert_adds_up(&order);
}

#[test]
fn identities_hold_for_awkward_amounts_both_ways() {
    // Prices that round badly, several tax lines, a shipping discount.
    for included in [false, true] {
        let mut json: serde_json::Value = serde_json::from_str(EXCLUDED).unwrap();
        json["taxes_included"] = included.into();
        let line = &mut json["line_items"][0];
        line["quantity"] = 7.into();
        line["current_quantity"] = 7.into();
        line["price"] = "3.33".into();
        line["price_set"] = serde_json::Value::Null;
        line["discount_allocations"][0]["amount"] = "2.33".into();
        line["discount_allocations"][0]["amount_set"] = serde_json::Value::Null;
        let base = d("3.33") * d("7") - d("2.33");
        let (state, county) = if included {
            (base * d("0.06") / d("1.07"), base * d("0.01") / d("1.07"))
        } else {
            (base * d("0.06"), base * d("0.01"))
        };
        let (state, county) = (state.round_dp(2), county.round_dp(2));
        line["tax_lines"] = serde_json::json!([
            {"title": "State", "rate": 0.06, "price": state.to_string()},
            {"title": "County", "rate": 0.01, "price": county.to_string()},
        ]);
        let shipping = &mut json["shipping_lines"][0];
        shipping["discount_allocations"] = serde_json::json!([{"amount": "1.00"}]);
        shipping["discounted_price"] = "3.90".into();
        shipping["discounted_price_set"] = serde_json::Value::Null;
        let order_base = base + d("21.60");
        let shipping_gross = d("3.90");
        let tax = state + county + d("2.05") + d("0.86");
        shipping["tax_lines"][0]["price"] = "0.86".into();
        shipping["tax_lines"][0]["price_set"] = serde_json::Value::Null;
        let total = order_base + shipping_gross + if included { Decimal::ZERO } else { tax };
        for key in [
            "total_price_set",
            "total_tax_set",
            "current_total_price",
            "current_total_price_set",
            "current_total_tax",
            "current_total_tax_set",
        ] {
            json[key] = serde_json::Value::Null;
        }
        json["total_tax"] = tax.to_string().into();
        json["total_price"] = total.to_string().into();
        let order = map_order_json(json.to_string().as_bytes()).unwrap();
        assert_eq!(order.lines[0].tax_rate.as_deref(), Some("7"), "6 % + 1 %");
        assert_eq!(
            order.shipping_lines[0].amount,
            if included { "3.04" } else { "3.90" }
        );
        assert_adds_up(&order);
    }
}

#[test]
fn statuses() {
    assert_eq!(
        map_status(true, true, "paid", "fulfilled"),
        OrderStatus::Cancelled
    );
    assert_eq!(
        map_status(false, false, "refunded", "fulfilled"),
        OrderStatus::Refunded
    );
    assert_eq!(
        map_status(false, false, "paid", "fulfilled"),
        OrderStatus::Completed
    );
    assert_eq!(
        map_status(false, true, "paid", ""),
        OrderStatus::Completed,
        "closed"
    );
    assert_eq!(
        map_status(false, false, "pending", ""),
        OrderStatus::Pending
    );
    assert_eq!(
        map_status(false, false, "authorized", ""),
        OrderStatus::Processing
    );
    assert_eq!(
        map_status(false, false, "partially_refunded", "partial"),
        OrderStatus::Processing
    );
    assert_eq!(map_status(false, false, "voided", ""), OrderStatus::OnHold);
    assert_eq!(status_raw(false, "paid", ""), "paid/unfulfilled");
    assert_eq!(status_raw(false, "paid", "fulfilled"), "paid/fulfilled");
    assert_eq!(status_raw(true, "voided", ""), "cancelled");
    for (raw, status) in [
        ("pending", PaymentStatus::Unpaid),
        ("authorized", PaymentStatus::Authorized),
        ("partially_paid", PaymentStatus::PartiallyPaid),
        ("paid", PaymentStatus::Paid),
        ("partially_refunded", PaymentStatus::PartiallyRefunded),
        ("refunded", PaymentStatus::Refunded),
        ("voided", PaymentStatus::Voided),
        ("expired", PaymentStatus::Unknown),
    ] {
        assert_eq!(mapping::map_payment_status(raw), status, "{raw}");
    }
}

#[test]
fn cancelled_orders() {
    let mut json: serde_json::Value = serde_json::from_str(EXCLUDED).unwrap();
    json["cancelled_at"] = "2025-03-02T11:00:00+01:00".into();
    json["financial_status"] = "voided".into();
    let order = map_order_json(json.to_string().as_bytes()).unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(order.status_raw, "cancelled");
    assert_eq!(order.payment_status, PaymentStatus::Voided);
    assert_eq!(order.paid_at, None);
}

#[test]
fn bad_orders_are_errors() {
    assert_eq!(map_order_json(b"[]").unwrap_err().kind, ErrorKind::Other);
    assert_eq!(
        map_order_json(b"{\"name\":\"#1\"}").unwrap_err().kind,
        ErrorKind::Other
    );
    assert!(
        map_order_json(b"{\"id\":1,\"created_at\":\"2025-01-01T00:00:00Z\"}").is_err(),
        "no currency"
    );
}

#[test]
fn splits_streets() {
    let split = |line: &str| {
        let (street, number) = split_street(line);
        (street.unwrap_or_default(), number.unwrap_or_default())
    };
    assert_eq!(
        split("Slovenska cesta 12a"),
        ("Slovenska cesta".into(), "12a".into())
    );
    assert_eq!(split("Ilica 1"), ("Ilica".into(), "1".into()));
    assert_eq!(
        split("221B Baker Street"),
        ("Baker Street".into(), "221B".into())
    );
    assert_eq!(
        split("Trg republike"),
        ("Trg republike".into(), String::new())
    );
    assert_eq!(split("  Dunajska 5  "), ("Dunajska".into(), "5".into()));
}

#[test]
fn shopify_error_bodies() {
    assert_eq!(
        error_messages(br#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#),
        Some((None, "[API] Invalid API key or access token (unrecognized login or wrong password)".into()))
    );
    assert_eq!(
        error_messages(
            br#"{"errors":["Inventory item does not have inventory tracking enabled"]}"#
        ),
        Some((
            None,
            "Inventory item does not have inventory tracking enabled".into()
        ))
    );
    assert_eq!(
        error_messages(br#"{"errors":{"updated_at_min":"updated_at_min cannot be passed when page_info is present."}}"#),
        Some((Some("updated_at_min".into()), "updated_at_min cannot be passed when page_info is present.".into()))
    );
    assert_eq!(
        error_messages(br#"{"errors":{"address":["for this topic has already been taken"]}}"#),
        Some((
            Some("address".into()),
            "address: for this topic has already been taken".into()
        ))
    );
    assert_eq!(error_messages(b"<html>"), None);
    assert_eq!(
        scope_in_message("[API] This action requires merchant approval for write_orders scope.")
            .as_deref(),
        Some("write_orders")
    );
    assert_eq!(scope_in_message("Not Found"), None);
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
    Response {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.as_bytes().to_vec(),
        url: "https://demo.myshopify.com/admin/api/2025-07/orders.json".into(),
    }
}

#[test]
fn statuses_become_connector_errors() {
    let error = check(response(401, &[], r#"{"errors":"[API] Invalid API key"}"#)).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(error.message.contains("Invalid API key"), "{error:?}");
    assert_eq!(
        (error.field.as_deref(), error.http_status),
        (Some("access_token"), Some(401))
    );
    let error = check(response(
        403,
        &[],
        r#"{"errors":"[API] This action requires merchant approval for write_inventory scope."}"#,
    ))
    .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Permission);
    assert_eq!(error.platform_code.as_deref(), Some("write_inventory"));
    assert!(
        error
            .message
            .contains("grant the app the write_inventory scope")
    );
    assert_eq!(
        check(response(404, &[], r#"{"errors":"Not Found"}"#))
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    let limited = check(response(
        429,
        &[("Retry-After", "2.0")],
        r#"{"errors":"Exceeded 2 calls per second"}"#,
    ))
    .unwrap_err();
    assert_eq!(
        (limited.kind, limited.retry_after_ms),
        (ErrorKind::RateLimited, Some(2000))
    );
    let limited = check(response(429, &[], "")).unwrap_err();
    assert_eq!(limited.retry_after_ms, Some(DEFAULT_RETRY_MS));
    let error = check(response(
        422,
        &[],
        r#"{"errors":["Inventory item does not have inventory tracking enabled"]}"#,
    ))
    .unwrap_err();
    assert_eq!((error.kind, error.field), (ErrorKind::InvalidInput, None));
    assert!(error.message.contains("tracking"));
    let error = check(response(
        400,
        &[],
        r#"{"errors":{"page_info":"Invalid value."}}"#,
    ))
    .unwrap_err();
    assert_eq!(error.field.as_deref(), Some("page_info"));
    assert_eq!(
        check(response(503, &[], "down")).unwrap_err().kind,
        ErrorKind::Transient
    );
    assert!(check(response(201, &[], "{}")).is_ok());
}

#[test]
fn call_limit_and_drain() {
    assert_eq!(parse_call_limit("32/40"), Some((32, 40)));
    assert_eq!(parse_call_limit(" 1 / 400 "), Some((1, 400)));
    assert_eq!(parse_call_limit("x/40"), None);
    assert_eq!(parse_call_limit("1/0"), None);
    assert_eq!(mapping::drain_ms(39, 40), 9500, "19 over half at 2/s");
    assert_eq!(mapping::drain_ms(5, 40), 1000, "never less than a second");
}

#[test]
fn cursors_are_page_infos() {
    assert_eq!(page_info_of("abc123").as_deref(), Some("abc123"));
    assert_eq!(
        page_info_of("https://demo.myshopify.com/admin/api/2025-07/orders.json?limit=250&page_info=eyJsYXN0X2lkIjo0fQ").as_deref(),
        Some("eyJsYXN0X2lkIjo0fQ")
    );
    assert_eq!(page_info_of("https://x/orders.json?limit=250"), None);
    assert_eq!(page_info_of("  "), None);
    assert_eq!(
        mapping::normalize_domain(" https://Demo.myshopify.com/ "),
        "demo.myshopify.com"
    );
}

#[test]
fn products_keep_their_variants_keyed_by_inventory_item() {
    let list: mapping::ProductList = serde_json::from_value(serde_json::json!({"products": [
        {"id": 1, "title": "Organic T-Shirt", "variants": [
            {"id": 11, "product_id": 1, "title": "S", "sku": "TSHIRT-S", "price": "19.90",
             "barcode": "3830012345678",
             "inventory_item_id": 111, "inventory_quantity": 25, "inventory_management": "shopify"},
            {"id": 12, "product_id": 1, "title": "M", "sku": "", "price": "19.90",
             "inventory_item_id": null, "inventory_quantity": 0, "inventory_management": null}]},
        {"id": 2, "title": "Mug", "variants": [
            {"id": 21, "product_id": 2, "title": "Default Title", "sku": "MUG-1", "price": "9.90",
             "inventory_item_id": 211, "inventory_quantity": 100, "inventory_management": "shopify"}]}
    ]}))
    .unwrap();
    let products = map_products(list);
    assert_eq!(products.len(), 2);
    assert_eq!(products[0].id, "1");
    assert_eq!(products[0].name, "Organic T-Shirt");
    let small = &products[0].variants[0];
    assert_eq!(small.stock_key, "gid://shopify/InventoryItem/111");
    assert_eq!(small.variant_id.as_deref(), Some("11"));
    assert_eq!(small.sku.as_deref(), Some("TSHIRT-S"));
    assert_eq!(small.barcode.as_deref(), Some("3830012345678"));
    assert_eq!(small.name.as_deref(), Some("S"));
    assert_eq!(
        (small.stock.as_deref(), small.manages_stock),
        (Some("25"), true)
    );
    let medium = &products[0].variants[1];
    assert_eq!(
        medium.stock_key, "gid://shopify/ProductVariant/12",
        "no inventory item: the variant"
    );
    assert_eq!(medium.sku, None);
    assert_eq!(
        (medium.stock.as_deref(), medium.manages_stock),
        (None, false)
    );
    let mug = &products[1].variants[0];
    assert_eq!(
        mug.name, None,
        "a product's only variant has no name of its own"
    );
    assert_eq!(mug.price.as_deref(), Some("9.90"));
}

#[test]
fn stock_keys_round_trip_and_refuse_garbage() {
    for (text, key) in [
        (
            "gid://shopify/InventoryItem/808950810",
            StockKey::InventoryItem(808_950_810),
        ),
        (
            "gid://shopify/ProductVariant/49148385",
            StockKey::Variant(49_148_385),
        ),
        (
            "gid://shopify/Product/632910392",
            StockKey::Product(632_910_392),
        ),
        ("48122346455096", StockKey::Number(48_122_346_455_096)),
    ] {
        assert_eq!(StockKey::parse(text).unwrap(), key, "{text}");
        assert_eq!(key.to_string(), text);
    }
    assert_eq!(
        StockKey::parse(" 42 ").unwrap(),
        StockKey::Number(42),
        "blanks around"
    );
    for bad in [
        "",
        "0",
        "-5",
        "SKU-1",
        "gid://shopify/Order/5",
        "gid://shopify/InventoryItem/x",
        "gid://shopify/InventoryItem",
    ] {
        let error = StockKey::parse(bad).unwrap_err();
        assert_eq!(
            (error.kind, error.field.as_deref()),
            (ErrorKind::InvalidInput, Some("key")),
            "{bad:?}"
        );
    }
}

fn fulfillment_order(id: u64, location: u64, lines: &[(u64, u64, u64)]) -> FulfillmentOrder {
    FulfillmentOrder {
        id,
        status: "open".into(),
        assigned_location_id: Some(location),
        supported_actions: Some(vec!["create_fulfillment".into()]),
        line_items: lines
            .iter()
            .map(|&(id, line_item_id, open)| FulfillmentOrderLine {
                id,
                line_item_id,
                fulfillable_quantity: open,
            })
            .collect(),
    }
}

fn shipment(lines: &[(&str, &str)], parcels: &[&str]) -> Shipment {
    Shipment {
        lines: lines
            .iter()
            .map(|(id, quantity)| ShippedLine {
                platform_line_id: (*id).into(),
                quantity: (*quantity).into(),
            })
            .collect(),
        carrier: "GLS".into(),
        parcels: parcels
            .iter()
            .map(|number| Parcel {
                tracking_number: (*number).into(),
                tracking_url: Some(format!("https://gls-group.eu/track/{number}")),
            })
            .collect(),
        notify_customer: true,
    }
}

#[test]
fn one_parcel_ships_every_open_unit() {
    let open = [fulfillment_order(1, 9, &[(11, 101, 2), (12, 102, 1)])];
    let plan = plan(&shipment(&[], &["P1"]), &open, &[]).unwrap();
    assert_eq!(
        plan,
        Plan {
            fulfillments: vec![PlannedFulfillment {
                parcel: Some(0),
                items: vec![(1, vec![(11, 2), (12, 1)])],
            }],
            ..Plan::default()
        }
    );
    let body = fulfillment_body(&plan.fulfillments[0], &shipment(&[], &["P1"]));
    assert_eq!(
        body,
        serde_json::json!({"fulfillment": {
            "line_items_by_fulfillment_order": [{
                "fulfillment_order_id": 1,
                "fulfillment_order_line_items": [{"id": 11, "quantity": 2}, {"id": 12, "quantity": 1}],
            }],
            "tracking_info": {"number": "P1", "url": "https://gls-group.eu/track/P1", "company": "GLS"},
            "notify_customer": true,
        }})
    );
}

#[test]
fn several_parcels_share_the_named_lines() {
    let open = [fulfillment_order(1, 9, &[(11, 101, 3), (12, 102, 1)])];
    // Two of three shirts and the mug, in two parcels: two units each.
    let shipped = shipment(&[("101", "2"), ("102", "1.00")], &["P1", "P2"]);
    let plan = plan(&shipped, &open, &[]).unwrap();
    assert_eq!(
        plan.fulfillments,
        vec![
            PlannedFulfillment {
                parcel: Some(0),
                items: vec![(1, vec![(11, 2)])],
            },
            PlannedFulfillment {
                parcel: Some(1),
                items: vec![(1, vec![(12, 1)])],
            },
        ]
    );
    assert!(plan.capped.is_empty() && plan.unattached.is_empty());

    // A retry after the first parcel was recorded: only the second is made, with the
    // units the first did not carry.
    let done = ExistingFulfillment {
        status: Some("success".into()),
        tracking_number: Some("P1".into()),
        tracking_numbers: vec!["P1".into()],
        line_items: vec![FulfilledLine {
            id: 101,
            quantity: 2,
        }],
    };
    let open_after = [fulfillment_order(1, 9, &[(11, 101, 1), (12, 102, 1)])];
    let retry = plan_for(&shipped, &open_after, std::slice::from_ref(&done));
    assert_eq!(
        retry.fulfillments,
        vec![PlannedFulfillment {
            parcel: Some(1),
            items: vec![(1, vec![(12, 1)])],
        }]
    );
    // Both recorded: nothing to do.
    let both = ExistingFulfillment {
        tracking_number: Some("P2".into()),
        tracking_numbers: vec!["P2".into()],
        line_items: vec![FulfilledLine {
            id: 102,
            quantity: 1,
        }],
        ..done
    };
    let closed = [FulfillmentOrder {
        status: "closed".into(),
        ..fulfillment_order(1, 9, &[(11, 101, 1), (12, 102, 0)])
    }];
    let retry = plan_for(&shipped, &closed, &[both]);
    assert!(retry.fulfillments.is_empty());
}

fn plan_for(
    shipped: &Shipment,
    open: &[FulfillmentOrder],
    existing: &[ExistingFulfillment],
) -> Plan {
    plan(shipped, open, existing).unwrap()
}

#[test]
fn parcels_and_locations_are_split_and_oddities_reported() {
    // Units from two locations in one parcel: one fulfillment per location.
    let open = [
        fulfillment_order(1, 9, &[(11, 101, 1)]),
        fulfillment_order(2, 8, &[(21, 102, 1)]),
    ];
    let decided = plan_for(&shipment(&[], &["P1"]), &open, &[]);
    assert_eq!(decided.fulfillments.len(), 2);
    assert!(decided.fulfillments.iter().all(|f| f.parcel == Some(0)));
    // More parcels than units: the surplus numbers are reported.
    let one = [fulfillment_order(1, 9, &[(11, 101, 1)])];
    let decided = plan_for(&shipment(&[], &["P1", "P2", "P2"]), &one, &[]);
    assert_eq!(decided.fulfillments.len(), 1);
    assert_eq!(
        decided.unattached,
        ["P2"],
        "a number given twice is one parcel"
    );
    // Asked for more than is open: capped.
    let decided = plan_for(&shipment(&[("101", "3")], &[]), &one, &[]);
    assert_eq!(decided.capped, [(101, 3, 1)]);
    assert_eq!(decided.fulfillments[0].parcel, None);
    let body = fulfillment_body(&decided.fulfillments[0], &shipment(&[], &[]));
    assert_eq!(
        body["fulfillment"]["tracking_info"],
        serde_json::json!({"company": "GLS"})
    );
    // Not a line of the order, or not whole units: invalid input naming the field.
    let error = plan(&shipment(&[("999", "1")], &[]), &one, &[]).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("lines[0].platform-line-id"));
    let error = plan(&shipment(&[("101", "0.5")], &[]), &one, &[]).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("lines[0].quantity"));
    // Nothing open (shipped or cancelled): nothing to do.
    let closed = [FulfillmentOrder {
        status: "closed".into(),
        ..fulfillment_order(1, 9, &[(11, 101, 0)])
    }];
    assert!(
        plan_for(&shipment(&[], &["P9"]), &closed, &[])
            .fulfillments
            .is_empty()
    );
}

fn webhook(topic: &str, body: &str, secret: &str, extra: &[(&str, &str)]) -> WebhookRequest {
    let mut headers = vec![
        ("x-shopify-topic".to_owned(), topic.to_owned()),
        (
            "x-shopify-hmac-sha256".to_owned(),
            signature::hmac_sha256_base64(secret, body),
        ),
        (
            "x-shopify-shop-domain".to_owned(),
            "demo.myshopify.com".to_owned(),
        ),
        (
            "x-shopify-webhook-id".to_owned(),
            "0d6c7f1a-3e2b-4c55-9a10-5b7e2f8c1d42".to_owned(),
        ),
    ];
    headers.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    WebhookRequest {
        method: "POST".into(),
        headers,
        query: String::new(),
        body: body.as_bytes().to_vec(),
    }
}

fn config() -> Config {
    Config::from_iter([
        ("shop_domain", "demo.myshopify.com"),
        ("access_token", "shpat_x"),
        ("webhook_secret", SECRET),
    ])
}

#[test]
fn webhooks_verify_and_parse() {
    let event_id = ("x-shopify-event-id", "7a1e9b30-52c4-4f0e-8d6b-c3f1a2e4b905");
    let verified = Shopify::verify_webhook(
        &config(),
        webhook("orders/updated", EXCLUDED, SECRET, &[event_id]),
    )
    .unwrap();
    assert_eq!(
        verified.delivery_id.as_deref(),
        Some(event_id.1),
        "the event id"
    );
    assert_eq!(verified.topic.as_deref(), Some("orders/updated"));
    match verified.event {
        WebhookEvent::OrderChanged(hint) => {
            assert_eq!(hint.id, "5726128734520");
            assert_eq!(hint.order.unwrap().total, "73.33");
        }
        other => panic!("{other:?}"),
    }
    // Without an Event-Id the Webhook-Id identifies the delivery.
    let verified =
        Shopify::verify_webhook(&config(), webhook("orders/create", EXCLUDED, SECRET, &[]))
            .unwrap();
    assert_eq!(
        verified.delivery_id.as_deref(),
        Some("0d6c7f1a-3e2b-4c55-9a10-5b7e2f8c1d42")
    );

    let deleted = Shopify::verify_webhook(
        &config(),
        webhook("orders/delete", r#"{"id":5726128734520}"#, SECRET, &[]),
    )
    .unwrap();
    assert_eq!(
        deleted.event,
        WebhookEvent::OrderDeleted("5726128734520".into())
    );
    let edited = Shopify::verify_webhook(
        &config(),
        webhook(
            "orders/edited",
            r#"{"order_edit":{"id":1,"order_id":42,"line_items":{"additions":[],"removals":[]}}}"#,
            SECRET,
            &[],
        ),
    )
    .unwrap();
    assert_eq!(
        edited.event,
        WebhookEvent::OrderChanged(OrderHint::id("42"))
    );
    let partial = Shopify::verify_webhook(
        &config(),
        webhook("orders/paid", r##"{"id":7,"name":"#9"}"##, SECRET, &[]),
    )
    .unwrap();
    assert_eq!(
        partial.event,
        WebhookEvent::OrderChanged(OrderHint::id("7")),
        "fetch it"
    );
    let other = Shopify::verify_webhook(
        &config(),
        webhook("products/update", r#"{"id":1}"#, SECRET, &[]),
    )
    .unwrap();
    assert!(matches!(other.event, WebhookEvent::Ignored(_)));
}

#[test]
fn webhooks_with_bad_signatures_are_refused() {
    let refused = |request| {
        Shopify::verify_webhook(&config(), request)
            .unwrap_err()
            .kind
    };
    let forged = webhook("orders/create", EXCLUDED, "another secret", &[]);
    assert_eq!(refused(forged), ErrorKind::BadSignature);
    let mut unsigned = webhook("orders/create", EXCLUDED, SECRET, &[]);
    unsigned
        .headers
        .retain(|(k, _)| k != "x-shopify-hmac-sha256");
    assert_eq!(refused(unsigned), ErrorKind::BadSignature);
    let mut tampered = webhook("orders/create", EXCLUDED, SECRET, &[]);
    tampered.body[20] ^= 1;
    assert_eq!(refused(tampered), ErrorKind::BadSignature);
    let mut elsewhere = webhook("orders/create", EXCLUDED, SECRET, &[]);
    for (key, value) in &mut elsewhere.headers {
        if key == "x-shopify-shop-domain" {
            *value = "other.myshopify.com".into();
        }
    }
    assert_eq!(refused(elsewhere), ErrorKind::BadSignature);
}

#[test]
fn the_manifest_speaks_contract_0_2_and_lists_no_capabilities() {
    let manifest = include_str!("../plugin.toml");
    assert!(manifest.contains("contract = \"0.2.1\""));
    assert!(
        !manifest.contains("capabilities"),
        "the component's exports say them"
    );
    assert!(Shopify::max_batch() >= 20 && Shopify::max_batch() <= 40);
    assert_eq!(
        Shopify::supported_changes(),
        [
            StatusChange::Cancelled,
            StatusChange::Completed,
            StatusChange::Paid
        ]
    );
}
