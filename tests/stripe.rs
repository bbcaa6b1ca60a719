//! Stripe end to end: the real connector (Wasm) against the fake Stripe API of
//! `tovor-fakes` (Bearer key, basil shapes, `starting_after` pages, signed
//! `Stripe-Signature` deliveries, registered webhook endpoints), through the service's
//! API, inbox and sync, on SQLite and PostgreSQL.
//!
//! Stripe keeps no stock: instead of a stock push, the tests check that the service
//! never writes anything to Stripe but the webhook endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tovor_fakes::stripe::{
    FakeStripe, InvoiceSpec, MANUAL_WEBHOOK_SECRET, SECRET_KEY, SessionSpec,
};
use tovor_tests::service::{Db, ShopSession, TestService};

tovor_tests::on_both_databases!(
    stripe_shop_is_added_and_its_endpoint_registered,
    stripe_events_become_orders_refunds_and_cancellations,
    stripe_duplicates_out_of_order_and_bad_signatures,
    stripe_sync_now_and_outages_lose_nothing,
    stripe_a_realistic_account_imports_to_the_cent,
);

/// A shop session on a fake Stripe, with the endpoint set up by hand (the service is
/// on http, which Stripe does not deliver to).
struct Stripe {
    s: ShopSession,
    stripe: FakeStripe,
    rate: String,
    customer: String,
}

async fn setup(db: Db, stripe: FakeStripe, settings: Value) -> Stripe {
    let config = json!({
        "secret_key": SECRET_KEY,
        "webhook_secret": MANUAL_WEBHOOK_SECRET,
        "api_base": stripe.api_base(),
    });
    let rate = stripe.create_tax_rate("DDV", "22", false, "SI");
    let customer = stripe.create_customer(
        "Ana Novak",
        "ana@example.test",
        ("Slovenska cesta 12a", "Ljubljana", "1000", "SI"),
        Some(("eu_vat", "SI12345678")),
    );
    let s = ShopSession::start(db, "stripe", config, settings).await;
    Stripe {
        s,
        stripe,
        rate,
        customer,
    }
}

impl Stripe {
    async fn deliver(&self, event: &str) -> u16 {
        let delivery = self.stripe.delivery(&self.s.webhook_url, event);
        self.stripe
            .deliver(&self.s.webhook_url, &delivery)
            .await
            .unwrap()
    }

    fn invoice(&self, unit: i64, quantity: i64) -> InvoiceSpec {
        InvoiceSpec::new(&self.customer, "eur").item(
            "Organic T-shirt",
            unit,
            quantity,
            Some(&self.rate),
        )
    }

    /// Stripe never got anything but reads (no stock, no fulfilment).
    fn assert_only_reads(&self) {
        let writes: Vec<String> = self
            .stripe
            .requests()
            .into_iter()
            .filter(|r| !r.starts_with("GET "))
            .collect();
        assert!(writes.is_empty(), "the service wrote to Stripe: {writes:?}");
    }
}

fn cents(value: &Value) -> Decimal {
    Decimal::new(value.as_i64().unwrap(), 2)
}

fn amount(value: &Value) -> Decimal {
    value.as_str().unwrap().parse().unwrap()
}

/// "Add e-store" checks the key (a wrong one is refused, naming `secret_key`), creates
/// the webhook endpoint (Stripe takes https addresses, so the service stands behind
/// one) and verifies deliveries with the secret Stripe returned; disabling the shop
/// deletes the endpoint.
async fn stripe_shop_is_added_and_its_endpoint_registered(db: Db) {
    let stripe = FakeStripe::start().await.unwrap();
    let plugin = tovor_tests::connector("stripe").unwrap();
    let service = TestService::start_at_public_url(db, &[plugin], "https://tovor.example")
        .await
        .unwrap();
    let token = service.company("Acme").await.unwrap();
    let (status, warehouse) = service
        .call(
            reqwest::Method::POST,
            "/api/v1/warehouses",
            Some(&token),
            Some(json!({"name": "Main"})),
        )
        .await
        .unwrap();
    assert_eq!(status, 201);
    let add = |key: &str| {
        json!({"plugin": "stripe", "name": "Stripe", "warehouse_id": warehouse["id"],
               "config": {"secret_key": key, "api_base": stripe.api_base()}})
    };
    let (status, refused) = service
        .call(
            reqwest::Method::POST,
            "/api/v1/shops",
            Some(&token),
            Some(add("sk_test_51QxWrong0000000000004321")),
        )
        .await
        .unwrap();
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["field"], "config.secret_key", "{refused}");
    assert!(
        refused.to_string().contains("sk_test_****4321"),
        "{refused}"
    );
    assert!(stripe.endpoints().is_empty());

    let (status, shop) = service
        .call(
            reqwest::Method::POST,
            "/api/v1/shops",
            Some(&token),
            Some(add(SECRET_KEY)),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{shop}");
    assert_eq!(shop["connection"]["account"], "Tovor Demo", "{shop}");
    assert_eq!(shop["webhook_setup"]["state"], "registered", "{shop}");
    let url = shop["webhook_url"].as_str().unwrap().to_owned();
    let endpoints = stripe.endpoints();
    assert_eq!(endpoints.len(), 1, "{endpoints:?}");
    assert_eq!(endpoints[0]["url"], url.as_str());
    assert_eq!(
        shop["webhook_setup"]["webhooks"][0]["id"],
        endpoints[0]["id"]
    );

    // A delivery signed with the endpoint's secret imports the invoice.
    let rate = stripe.create_tax_rate("DDV", "22", false, "SI");
    let customer = stripe.create_customer(
        "Ana Novak",
        "ana@example.test",
        ("Slovenska cesta 12a", "Ljubljana", "1000", "SI"),
        None,
    );
    let (invoice, paid) =
        stripe.paid_invoice(&InvoiceSpec::new(&customer, "eur").item("Mug", 1290, 2, Some(&rate)));
    let local = service.url(url.strip_prefix("https://tovor.example").unwrap());
    let delivery = stripe.delivery(&url, &paid);
    assert_eq!(stripe.deliver(&local, &delivery).await.unwrap(), 200);
    let found = service
        .eventually(Duration::from_secs(20), || async {
            let (_, list) = service
                .call(reqwest::Method::GET, "/api/v1/orders", Some(&token), None)
                .await
                .ok()?;
            list.as_array()?
                .iter()
                .find(|o| o["external_id"] == invoice.as_str())
                .cloned()
        })
        .await;
    assert!(found.is_some(), "the invoice became an order");
    // The Dashboard secret is not this endpoint's: refused.
    let manual = stripe.delivery("https://elsewhere.example/hook", &paid);
    assert_eq!(stripe.deliver(&local, &manual).await.unwrap(), 401);

    let path = format!("/api/v1/shops/{}", shop["id"]);
    let (status, disabled) = service
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(&token),
            Some(json!({"enabled": false})),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{disabled}");
    assert!(stripe.endpoints().is_empty(), "{:?}", stripe.endpoints());
    assert_eq!(
        stripe.requests_to(
            "DELETE",
            &format!(
                "/v1/webhook_endpoints/{}",
                endpoints[0]["id"].as_str().unwrap()
            )
        ),
        1
    );
    service.stop().await;
}

/// A paid invoice and a completed Checkout Session become orders with their lines and
/// customer, to the cent; a refund of the charge shows on its order, and a voided
/// invoice is a cancelled order.
async fn stripe_events_become_orders_refunds_and_cancellations(db: Db) {
    let w = setup(
        db,
        FakeStripe::start().await.unwrap(),
        json!({"update_existing": true}),
    )
    .await;
    let (invoice, paid) = w.stripe.paid_invoice(
        &w.invoice(2000, 2)
            .item("Cookbook", 1500, 1, Some(&w.rate))
            .paid_with("sepa_debit"),
    );
    assert_eq!(w.deliver(&paid).await, 200);
    let order = w.s.order_where(&invoice, |_| true).await;
    let placed = w.stripe.invoice(&invoice).unwrap();
    assert_eq!(
        amount(&order["total"]),
        cents(&placed["total"]),
        "the invoice's total to the cent: {order}"
    );
    assert_eq!(order["external_number"], placed["number"]);
    assert_eq!(order["content"]["lines"].as_array().unwrap().len(), 2);
    assert_eq!(
        order["content"]["customer"]["vat_id"], "SI12345678",
        "{order}"
    );
    assert_eq!(order["content"]["payment_method"]["code"], "sepa_debit");
    let customers = w.s.get("/api/v1/customers").await;
    assert!(
        customers.to_string().contains("ana@example.test"),
        "{customers}"
    );

    // Checkout.
    let (session, completed) = w.stripe.complete_session(
        &SessionSpec::new("eur")
            .guest(
                "Eva Kos",
                "eva@example.test",
                "Prešernova ulica 5",
                "Maribor",
                "2000",
                "SI",
            )
            .item("Ceramic mug", 1290, 3, Some(&w.rate))
            .shipping("Pošta Slovenije", 490, Some(&w.rate)),
    );
    assert_eq!(w.deliver(&completed).await, 200);
    let order = w.s.order_where(&session, |_| true).await;
    let placed = w.stripe.session(&session).unwrap();
    assert_eq!(amount(&order["total"]), cents(&placed["amount_total"]));
    assert_eq!(order["content"]["customer"]["email"], "eva@example.test");

    // A refund of the invoice's charge.
    let refunded = w.stripe.refund(&invoice, Some(1000));
    assert_eq!(w.deliver(&refunded).await, 200);
    let order =
        w.s.order_where(&invoice, |order| {
            order["content"]["refunds"]
                .as_array()
                .is_some_and(|r| !r.is_empty())
        })
        .await;
    assert_eq!(
        amount(&order["content"]["refunds"][0]["amount"]),
        Decimal::new(1000, 2),
        "{order}"
    );

    // A voided invoice.
    let open = w.stripe.create_invoice(&w.invoice(9900, 1));
    w.stripe.finalize_invoice(&open);
    let voided = w.stripe.void_invoice(&open);
    assert_eq!(w.deliver(&voided).await, 200);
    w.s.order_where(&open, |order| order["shop_status"] == "cancelled")
        .await;
    w.assert_only_reads();
    w.s.service.stop().await;
}

/// Stripe may send an event twice and in any order; forged, expired and replayed
/// deliveries are refused with 401 and leave nothing behind.
async fn stripe_duplicates_out_of_order_and_bad_signatures(db: Db) {
    let w = setup(
        db,
        FakeStripe::start().await.unwrap(),
        json!({"update_existing": true}),
    )
    .await;
    w.s.wait_for_first_sync().await;
    let (invoice, paid) = w.stripe.paid_invoice(&w.invoice(2500, 1));

    // Forged, expired, replayed onto another body, unsigned: 401, nothing stored.
    let good = w.stripe.delivery(&w.s.webhook_url, &paid);
    let forged = good.with_signature(
        "t=1740906960,v1=0000000000000000000000000000000000000000000000000000000000000000",
    );
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let expired = w.stripe.delivery_at(&w.s.webhook_url, &paid, now - 301);
    let (_, other) = w.stripe.paid_invoice(&w.invoice(99_900, 1));
    let replayed = w
        .stripe
        .delivery(&w.s.webhook_url, &other)
        .with_signature(good.header("Stripe-Signature").unwrap());
    let mut unsigned = good.clone();
    unsigned
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("Stripe-Signature"));
    for bad in [&forged, &expired, &replayed, &unsigned] {
        assert_eq!(w.stripe.deliver(&w.s.webhook_url, bad).await.unwrap(), 401);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.s.order_count().await, 0);
    assert!(w.s.deliveries().await.is_empty(), "nothing stored");

    // The refund's event comes first, then invoice.paid, twice: one order, with the
    // refund, from two deliveries.
    let refunded = w.stripe.refund(&invoice, Some(500));
    assert_eq!(w.deliver(&refunded).await, 200);
    let order =
        w.s.order_where(&invoice, |order| {
            order["content"]["refunds"]
                .as_array()
                .is_some_and(|r| r.len() == 1)
        })
        .await;
    assert_eq!(amount(&order["total"]), Decimal::new(2500 + 550, 2));
    assert_eq!(w.deliver(&paid).await, 200);
    assert_eq!(w.deliver(&paid).await, 200);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let order = w.s.order_where(&invoice, |_| true).await;
    assert_eq!(
        order["content"]["refunds"].as_array().unwrap().len(),
        1,
        "{order}"
    );
    assert_eq!(w.s.order_count().await, 1);
    assert_eq!(w.s.deliveries().await.len(), 2, "one delivery per event");
    w.s.service.stop().await;
}

/// "Sync now" finds a paid invoice whose webhook never came; an outage and 429s are
/// retried and nothing is lost.
async fn stripe_sync_now_and_outages_lose_nothing(db: Db) {
    let w = setup(db, FakeStripe::start().await.unwrap(), json!({})).await;
    w.s.wait_for_first_sync().await;
    let (lost, _) = w.stripe.paid_invoice(&w.invoice(4200, 1));
    w.s.sync_now().await;
    let order = w.s.order_where(&lost, |_| true).await;
    assert_eq!(
        amount(&order["total"]),
        cents(&w.stripe.invoice(&lost).unwrap()["total"])
    );

    w.stripe.set_down(true);
    let (down, paid) = w.stripe.paid_invoice(&w.invoice(1000, 3));
    assert_eq!(w.deliver(&paid).await, 200);
    let waiting = w.s.wait_for_retrying_delivery().await;
    assert!(waiting["last_error"].as_str().is_some(), "{waiting}");
    w.stripe.set_down(false);
    w.s.order_where(&down, |_| true).await;

    for (n, retry_after) in [(1_i64, None), (2, Some("1"))] {
        let (id, paid) = w.stripe.paid_invoice(&w.invoice(700, n));
        w.stripe.throttle_next(2, retry_after);
        assert_eq!(w.deliver(&paid).await, 200);
        w.s.order_where(&id, |_| true).await;
    }
    assert_eq!(w.s.order_count().await, 4);
    w.assert_only_reads();
    w.s.service.stop().await;
}

/// Every paid invoice and completed session of a realistic account (two VAT rates, a
/// coupon, CHF with more lines than an invoice embeds, JPY, a guest checkout with
/// VAT-inclusive prices and shipping, a voided, a refunded and a partly refunded one)
/// arrives through the history import with Stripe's totals.
async fn stripe_a_realistic_account_imports_to_the_cent(db: Db) {
    let w = setup(db, FakeStripe::start_seeded().await.unwrap(), json!({})).await;
    w.s.import_all_history().await;
    let mut imported = 0;
    for id in w.stripe.invoice_ids() {
        let placed = w.stripe.invoice(&id).unwrap();
        if placed["status"] != "paid" {
            continue;
        }
        let order = w.s.order_where(&id, |_| true).await;
        let exponent = if placed["currency"] == "jpy" { 0 } else { 2 };
        assert_eq!(
            amount(&order["total"]),
            Decimal::new(placed["total"].as_i64().unwrap(), exponent),
            "invoice {id}"
        );
        assert_eq!(
            order["currency"],
            placed["currency"].as_str().unwrap().to_uppercase()
        );
        assert_eq!(order["external_number"], placed["number"]);
        imported += 1;
    }
    for id in w.stripe.session_ids() {
        let placed = w.stripe.session(&id).unwrap();
        let order = w.s.order_where(&id, |_| true).await;
        assert_eq!(
            amount(&order["total"]),
            cents(&placed["amount_total"]),
            "session {id}"
        );
        imported += 1;
    }
    assert_eq!(imported, 6);
    w.assert_only_reads();
    w.s.service.stop().await;
}
