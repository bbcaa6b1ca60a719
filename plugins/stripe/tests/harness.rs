//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking to the fake Stripe of
//! `tovor-fakes` on 127.0.0.1.
//!
//! Run with `cargo test --workspace --features tovor/demo --test harness -- stripe_`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use serde_json::Value;
use tovor_fakes::stripe::{
    Delivery, FakeStripe, InvoiceSpec, MANUAL_WEBHOOK_SECRET, SECRET_KEY, SessionSpec,
};
use tovor_harness::connector_error;
use tovor_harness::model::{
    ConvertError, NormalizedOrder as Order, OrderStatus, PaymentStatus, WebhookEvent,
    WebhookRequest, WebhookSetup,
};
use tovor_harness::{Decimal, ErrorKind, datetime};
use tovor_harness::{ShopClient, TestHost};

/// The webhook address the host would register (Stripe takes https addresses).
const HOOK_URL: &str = "https://tovor.example/hooks/stripe/9d1e7a";

fn settings(stripe: &FakeStripe, manual_secret: bool) -> BTreeMap<String, String> {
    let mut config = BTreeMap::from([
        ("secret_key".to_owned(), SECRET_KEY.to_owned()),
        ("api_base".to_owned(), stripe.api_base()),
    ]);
    if manual_secret {
        config.insert("webhook_secret".into(), MANUAL_WEBHOOK_SECRET.into());
    }
    config
}

/// A test host with this connector loaded, with connector state kept by the runtime.
async fn connector(settings: BTreeMap<String, String>) -> anyhow::Result<(TestHost, ShopClient)> {
    TestHost::with_shop_crate(env!("CARGO_MANIFEST_DIR"), settings).await
}

fn request(delivery: &Delivery) -> WebhookRequest {
    WebhookRequest {
        method: "POST".into(),
        headers: delivery
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect(),
        query: String::new(),
        body: delivery.body.clone(),
    }
}

/// Stripe's minor units as a decimal, for the fake's figures.
fn minor(value: &Value, exponent: u32) -> Decimal {
    Decimal::new(value.as_i64().unwrap(), exponent)
}

async fn all_orders(client: &ShopClient) -> anyhow::Result<Vec<Order>> {
    let mut cursor: Option<String> = None;
    let mut orders = Vec::new();
    loop {
        let page = client
            .list_orders(datetime!(2020-01-01 0:00 UTC), cursor.as_deref())
            .await?;
        for listed in page.orders {
            let order = listed
                .order
                .map_err(|e: ConvertError| anyhow::anyhow!("{e}"))?;
            assert_eq!(order.id, listed.id);
            orders.push(order);
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(orders),
        }
    }
}

#[tokio::test]
async fn stripe_lists_paid_invoices_and_completed_sessions_to_the_cent() -> anyhow::Result<()> {
    let stripe = FakeStripe::start_seeded().await?;
    let (_host, client) = connector(settings(&stripe, true)).await?;
    let orders = all_orders(&client).await?;
    // Four paid invoices (the voided one is no sale) and two sessions.
    assert_eq!(
        orders.len(),
        6,
        "{:?}",
        orders.iter().map(|o| &o.id).collect::<Vec<_>>()
    );
    for order in &orders {
        tovor_harness::assert_importable(order);
        let (total, exponent) = if order.id.starts_with("in_") {
            let invoice = stripe.invoice(&order.id).unwrap();
            assert_eq!(invoice["status"], "paid");
            assert_eq!(order.number, invoice["number"].as_str().unwrap());
            (
                invoice["total"].clone(),
                if order.currency == "JPY" { 0 } else { 2 },
            )
        } else {
            let session = stripe.session(&order.id).unwrap();
            (session["amount_total"].clone(), 2)
        };
        assert_eq!(
            order.total,
            minor(&total, exponent),
            "{} to the cent",
            order.id
        );
    }
    let currencies: Vec<&str> = orders.iter().map(|o| o.currency.as_str()).collect();
    for currency in ["EUR", "CHF", "JPY", "USD"] {
        assert!(currencies.contains(&currency), "{currencies:?}");
    }
    let jpy = orders.iter().find(|o| o.currency == "JPY").unwrap();
    assert_eq!(jpy.total, Decimal::from(4950));
    assert_eq!(jpy.lines[0].unit_price, Decimal::from(1500));
    // Twelve lines: ten in the invoice, the rest paged through `/lines`.
    let chf = orders.iter().find(|o| o.currency == "CHF").unwrap();
    assert_eq!(chf.lines.len(), 12);
    assert_eq!(
        stripe.requests_to("GET", &format!("/v1/invoices/{}/lines", chf.id)),
        1
    );
    let eur = orders
        .iter()
        .find(|o| o.coupons.iter().any(|c| c == "SPRING10"))
        .unwrap();
    let customer = eur.customer.as_ref().unwrap();
    assert_eq!(customer.vat_id.as_deref(), Some("SI12345678"));
    assert_eq!(
        eur.lines
            .iter()
            .filter_map(|l| l.tax_rate)
            .collect::<Vec<_>>(),
        [Decimal::from(22), Decimal::new(95, 1)]
    );
    assert_eq!(eur.payment_method.as_ref().unwrap().code, "card");
    let refunded = orders
        .iter()
        .find(|o| o.status == OrderStatus::Refunded)
        .unwrap();
    assert_eq!(refunded.payment_status, PaymentStatus::Refunded);
    assert_eq!(refunded.payment_method.as_ref().unwrap().code, "sepa_debit");
    assert_eq!(refunded.refunds[0].amount, refunded.total);
    let guest = orders
        .iter()
        .find(|o| {
            o.id.starts_with("cs_") && o.customer.as_ref().is_some_and(|c| c.platform_id.is_none())
        })
        .unwrap();
    assert!(guest.prices_include_tax);
    assert_eq!(guest.shipping_lines.len(), 1);
    let partial = orders.iter().find(|o| o.number == "WEB-1042").unwrap();
    assert_eq!(partial.payment_status, PaymentStatus::PartiallyRefunded);
    assert_eq!(partial.refunds[0].amount, Decimal::new(500, 2));

    // Every request pinned the API version, listed by `created`, and paid invoices only.
    assert!(stripe.versions().iter().all(|v| v == "2025-03-31.basil"));
    let requests = stripe.requests();
    let list = requests
        .iter()
        .find(|r| r.starts_with("GET /v1/invoices?"))
        .unwrap();
    assert!(
        list.contains("status=paid") && list.contains("created%5Bgte%5D="),
        "{list}"
    );

    let missing = connector_error(client.get_order("in_1QxNoSuchInvoice").await.unwrap_err());
    assert_eq!(missing.kind, ErrorKind::NotFound);
    let nonsense = connector_error(client.get_order("../v1/account").await.unwrap_err());
    assert_eq!(nonsense.kind, ErrorKind::NotFound);
    Ok(())
}

#[tokio::test]
async fn stripe_verifies_signed_events_and_refuses_bad_ones() -> anyhow::Result<()> {
    let stripe = FakeStripe::start().await?;
    let rate = stripe.create_tax_rate("DDV", "22", false, "SI");
    let ana = stripe.create_customer(
        "Ana Novak",
        "ana@example.test",
        ("Slovenska cesta 12a", "Ljubljana", "1000", "SI"),
        Some(("eu_vat", "SI12345678")),
    );
    let (invoice, paid) =
        stripe.paid_invoice(&InvoiceSpec::new(&ana, "eur").item("T-shirt", 2000, 1, Some(&rate)));
    let (_host, client) = connector(settings(&stripe, true)).await?;

    let delivery = stripe.delivery(HOOK_URL, &paid);
    let verified = client.verify_webhook(&request(&delivery)).await?;
    assert_eq!(verified.delivery_id.as_deref(), Some(paid.as_str()));
    assert_eq!(verified.topic.as_deref(), Some("invoice.paid"));
    assert!(matches!(&verified.event, WebhookEvent::OrderChanged(hint) if hint.id == invoice));

    // A refund of the charge names the invoice it paid.
    let refunded = stripe.refund(&invoice, Some(500));
    let verified = client
        .verify_webhook(&request(&stripe.delivery(HOOK_URL, &refunded)))
        .await?;
    assert!(
        matches!(&verified.event, WebhookEvent::OrderChanged(hint) if hint.id == invoice),
        "{:?}",
        verified.event
    );
    let order = client.get_order(&invoice).await?;
    assert_eq!(order.payment_status, PaymentStatus::PartiallyRefunded);
    assert_eq!(order.refunds[0].amount, Decimal::new(500, 2));
    // And a session's refund the session.
    let (session, completed) = stripe.complete_session(
        &SessionSpec::new("eur")
            .customer(&ana)
            .item("Mug", 1290, 1, Some(&rate)),
    );
    let verified = client
        .verify_webhook(&request(&stripe.delivery(HOOK_URL, &completed)))
        .await?;
    assert!(matches!(&verified.event, WebhookEvent::OrderChanged(hint) if hint.id == session));
    let refunded = stripe.refund(&session, None);
    let verified = client
        .verify_webhook(&request(&stripe.delivery(HOOK_URL, &refunded)))
        .await?;
    assert!(matches!(&verified.event, WebhookEvent::OrderChanged(hint) if hint.id == session));
    let order = client.get_order(&session).await?;
    assert_eq!(order.status, OrderStatus::Refunded);
    assert_eq!(
        order.customer.unwrap().vat_id.as_deref(),
        Some("SI12345678"),
        "from the customer's tax ids"
    );

    // Wrong secret, tampered body, too old, no header: refused.
    let wrong = delivery.with_signature(
        "t=1740906960,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
    );
    let mut tampered = request(&delivery);
    tampered.body = String::from_utf8(tampered.body)
        .unwrap()
        .replace("invoice.paid", "invoice.voided")
        .into_bytes();
    let old = stripe.delivery_at(
        HOOK_URL,
        &paid,
        time::OffsetDateTime::now_utc().unix_timestamp() - 301,
    );
    let mut unsigned = request(&delivery);
    unsigned
        .headers
        .retain(|(name, _)| name != "stripe-signature");
    for bad in [request(&wrong), tampered, request(&old), unsigned] {
        let error = connector_error(client.verify_webhook(&bad).await.unwrap_err());
        assert_eq!(error.kind, ErrorKind::BadSignature, "{error:?}");
    }
    // Other events are acknowledged and ignored; a voided invoice is a cancelled order.
    let finalized =
        stripe.create_invoice(&InvoiceSpec::new(&ana, "eur").item("Cap", 1200, 1, None));
    let event = stripe.finalize_invoice(&finalized);
    let verified = client
        .verify_webhook(&request(&stripe.delivery(HOOK_URL, &event)))
        .await?;
    assert!(
        matches!(&verified.event, WebhookEvent::Ignored(_)),
        "{:?}",
        verified.event
    );
    let voided = stripe.void_invoice(&finalized);
    let verified = client
        .verify_webhook(&request(&stripe.delivery(HOOK_URL, &voided)))
        .await?;
    assert!(matches!(&verified.event, WebhookEvent::OrderChanged(hint) if hint.id == finalized));
    let order = client.get_order(&finalized).await?;
    assert_eq!(order.status, OrderStatus::Cancelled);
    Ok(())
}

#[tokio::test]
async fn stripe_registers_an_endpoint_keeps_its_secret_and_unregisters() -> anyhow::Result<()> {
    let stripe = FakeStripe::start().await?;
    let (_host, client) = connector(settings(&stripe, false)).await?;
    let WebhookSetup::Registered(first) = client.register_webhooks(HOOK_URL).await? else {
        panic!("Stripe has an API for webhook endpoints");
    };
    assert_eq!(first.len(), 1);
    let endpoints = stripe.endpoints();
    assert_eq!(endpoints.len(), 1);
    assert_eq!(endpoints[0]["url"], HOOK_URL);
    assert_eq!(endpoints[0]["api_version"], "2025-03-31.basil");
    assert_eq!(endpoints[0]["id"], first[0].id.as_str());
    let events: Vec<&str> = endpoints[0]["enabled_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    for event in [
        "invoice.paid",
        "invoice.voided",
        "checkout.session.completed",
        "charge.refunded",
    ] {
        assert!(events.contains(&event), "{events:?}");
    }

    // Deliveries signed with the secret Stripe returned at creation verify.
    let ana = stripe.create_customer(
        "Ana Novak",
        "ana@example.test",
        ("Slovenska cesta 12a", "Ljubljana", "1000", "SI"),
        None,
    );
    let (invoice, paid) =
        stripe.paid_invoice(&InvoiceSpec::new(&ana, "eur").item("T-shirt", 2000, 1, None));
    let verified = client
        .verify_webhook(&request(&stripe.delivery(HOOK_URL, &paid)))
        .await?;
    assert!(matches!(&verified.event, WebhookEvent::OrderChanged(hint) if hint.id == invoice));
    // The Dashboard secret is not this endpoint's.
    let manual = stripe.delivery("https://elsewhere.example/hook", &paid);
    let error = connector_error(client.verify_webhook(&request(&manual)).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::BadSignature);

    // While the secret is rolled, deliveries carry two v1 signatures; the old one we
    // know still matches.
    stripe.roll_secret(HOOK_URL);
    let rolled = stripe.delivery(HOOK_URL, &paid);
    let header = rolled.header("Stripe-Signature").unwrap().to_owned();
    assert_eq!(header.matches("v1=").count(), 2, "{header}");
    client.verify_webhook(&request(&rolled)).await?;

    // Registering again keeps the endpoint: no second one, no new secret needed.
    let WebhookSetup::Registered(second) = client.register_webhooks(HOOK_URL).await? else {
        panic!("registered");
    };
    assert_eq!(second, first);
    assert_eq!(stripe.endpoints().len(), 1);
    assert_eq!(stripe.requests_to("POST", "/v1/webhook_endpoints"), 1);

    client.unregister_webhooks(HOOK_URL, &first).await?;
    assert!(stripe.endpoints().is_empty());
    // Already gone: fine.
    client.unregister_webhooks(HOOK_URL, &first).await?;

    // With a pasted secret the merchant manages the endpoint.
    let (_host, manual) = connector(settings(&stripe, true)).await?;
    let setup = manual.register_webhooks(HOOK_URL).await?;
    assert!(
        matches!(setup, WebhookSetup::Manual(ref text) if text.contains("invoice.paid")),
        "{setup:?}"
    );
    assert!(stripe.endpoints().is_empty());
    Ok(())
}

#[tokio::test]
async fn stripe_checks_the_key_and_reports_throttling_and_outages() -> anyhow::Result<()> {
    let stripe = FakeStripe::start_seeded().await?;
    let (_host, client) = connector(settings(&stripe, true)).await?;
    let info = client.check_connection().await?;
    assert_eq!(info.account.as_deref(), Some("Tovor Demo"));
    assert!(
        info.warnings.iter().any(|w| w.contains("test mode")),
        "{:?}",
        info.warnings
    );

    let mut wrong = settings(&stripe, true);
    wrong.insert(
        "secret_key".into(),
        "sk_test_51QxWrongKey000000000000009876".into(),
    );
    let (_host2, bad) = connector(wrong).await?;
    let error = connector_error(bad.check_connection().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Auth);
    assert_eq!(error.field.as_deref(), Some("secret_key"));
    assert!(
        error
            .message
            .contains("Invalid API Key provided: sk_test_****9876"),
        "{}",
        error.message
    );

    stripe.throttle_next(1, None);
    let error = connector_error(
        client
            .get_order(&stripe.invoice_ids()[0])
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::RateLimited, "{error:?}");
    assert!(error.retry_after.is_some());
    stripe.set_down(true);
    let error = connector_error(
        client
            .get_order(&stripe.invoice_ids()[0])
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::Transient, "{error:?}");
    stripe.set_down(false);
    let order = client.get_order(&stripe.invoice_ids()[0]).await?;
    assert_eq!(order.currency, "EUR");
    Ok(())
}
