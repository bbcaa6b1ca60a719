//! Wix end to end: the real connector (Wasm) against the fake Wix of `tovor-fakes`
//! (API key and site header, cursor-paged order search, Order Transactions, RS256 JWT
//! deliveries, Catalog V1 and V3 inventory with revisions), through the service's API,
//! inbox, sync and stock push, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tovor_fakes::wix::{API_KEY, Catalog, Delivery, FakeWix, OrderSpec, SITE_ID, Sellable};
use tovor_tests::service::{Db, ShopSession, TestService};

tovor_tests::on_both_databases!(
    the_shop_is_added_with_manual_webhook_setup,
    webhook_to_order_to_variant_stock_on_catalog_v1,
    stock_on_catalog_v3_survives_a_revision_conflict,
    duplicate_stale_and_lost_deliveries,
    forged_expired_and_replayed_tokens_then_outage_and_throttling,
    a_realistic_site_imports_to_the_cent,
);

struct Wix {
    s: ShopSession,
    wix: FakeWix,
}

fn config(wix: &FakeWix, api_key: &str) -> Value {
    json!({
        "api_key": api_key,
        "site_id": SITE_ID,
        "webhook_public_key": wix.public_key_pem(),
        "api_base": wix.api_base(),
    })
}

async fn setup(wix: FakeWix, db: Db, settings: Value) -> Wix {
    let s = ShopSession::start(db, "wix", config(&wix, API_KEY), settings).await;
    Wix { s, wix }
}

impl Wix {
    async fn deliver(&self, delivery: &Delivery) -> u16 {
        self.wix
            .deliver(&self.s.webhook_url, delivery)
            .await
            .unwrap()
    }

    async fn order(&self, id: &str, check: impl Fn(&Value) -> bool) -> Value {
        self.s.order_where(id, check).await
    }

    async fn wait_for_stock(&self, item: &Sellable, expected: i64) {
        let what = format!("{} at {expected}", item.sku);
        self.s
            .until(&what, || async {
                (self.wix.stock(item) == Some(expected)).then_some(())
            })
            .await;
    }
}

/// A T-shirt in three sizes (22 % VAT) and a mug without options (9.5 %).
fn catalog(wix: &FakeWix) -> (Vec<Sellable>, Sellable) {
    let shirts = wix.add_product(
        "T-shirt",
        "22",
        &[
            ("TEE-S", "S", "20.00", 5),
            ("TEE-M", "M", "20.00", 5),
            ("TEE-L", "L", "22.00", 5),
        ],
    );
    let mug = wix.add_product("Mug", "9.5", &[("MUG-1", "", "9.90", 5)]);
    (shirts, mug[0].clone())
}

fn decimal(value: &Value) -> Decimal {
    match value {
        Value::String(text) => text.parse().unwrap(),
        other => other.to_string().parse().unwrap(),
    }
}

fn id_of(order: &Value) -> String {
    order["id"].as_str().unwrap().to_owned()
}

/// Wix has no API to subscribe webhooks (they are added in the app dashboard), so
/// adding the shop answers "manual" with the events and the URL to enter; a wrong API
/// key is refused before anything is saved, naming the field.
async fn the_shop_is_added_with_manual_webhook_setup(db: Db) {
    let wix = FakeWix::start(Catalog::V1).await.unwrap();
    let plugin = tovor_tests::connector("wix").unwrap();
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
        json!({"plugin": "wix", "name": "Wix", "config": config(&wix, key),
               "warehouse_id": warehouse["id"]})
    };
    let (status, refused) = service
        .call(
            reqwest::Method::POST,
            "/api/v1/shops",
            Some(&token),
            Some(add("IST.wrong")),
        )
        .await
        .unwrap();
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["field"], "config.api_key", "{refused}");

    let (status, shop) = service
        .call(
            reqwest::Method::POST,
            "/api/v1/shops",
            Some(&token),
            Some(add(API_KEY)),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{shop}");
    let url = shop["webhook_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("https://tovor.example/hooks/"), "{url}");
    let setup = &shop["webhook_setup"];
    assert_eq!(setup["state"], "manual", "{shop}");
    assert!(setup["webhooks"].as_array().unwrap().is_empty(), "{shop}");
    let message = setup["message"].as_str().unwrap();
    for needed in [
        "wix.ecom.v1.order_created",
        "wix.ecom.v1.order_updated",
        "wix.ecom.v1.order_canceled",
        "wix.ecom.v1.order_approved",
        url.as_str(),
    ] {
        assert!(message.contains(needed), "{needed} missing from {message}");
    }
    // Only reads and the catalog version: nothing was "registered" on the fake.
    assert!(
        wix.requests()
            .iter()
            .all(|r| r.starts_with("POST /ecom/v1/orders/search")
                || r.starts_with("GET /stores/v3/provision/version")
                || r.starts_with("GET /ecom/v1/")),
        "{:?}",
        wix.requests()
    );
    service.stop().await;
}

async fn webhook_to_order_to_variant_stock_on_catalog_v1(db: Db) {
    let w = setup(
        FakeWix::start(Catalog::V1).await.unwrap(),
        db,
        json!({"stock_mode": "on_hand"}),
    )
    .await;
    let (shirts, mug) = catalog(&w.wix);
    let placed = w.wix.create_order(
        &OrderSpec::new()
            .line(&shirts[1], 2)
            .line(&mug, 1)
            .customer("ana@example.test", "Ana", "Novak")
            .company("Novak d.o.o.", "SI12345678")
            .coupon("SAVE10", 10)
            .shipping("Pošta Slovenije", "4.90"),
    );
    let id = id_of(&placed);
    assert_eq!(
        w.deliver(&w.wix.delivery("wix.ecom.v1.order_created", &id))
            .await,
        200
    );

    let order = w.order(&id, |_| true).await;
    assert_eq!(
        decimal(&order["total"]),
        decimal(&placed["priceSummary"]["total"]["amount"]),
        "the shop's total to the cent"
    );
    assert_eq!(
        decimal(&order["tax_total"]),
        decimal(&placed["priceSummary"]["tax"]["amount"])
    );
    assert_eq!(order["external_number"], placed["number"]);
    assert_eq!(w.s.item_codes().await, ["MUG-1", "TEE-M"]);
    let customers = w.s.get("/api/v1/customers").await;
    assert_eq!(customers[0]["email"], "ana@example.test", "{customers}");

    w.s.receive(&order["warehouse_id"], &[("TEE-M", "10"), ("MUG-1", "7")])
        .await;
    w.wait_for_stock(&shirts[1], 10).await;
    w.wait_for_stock(&mug, 7).await;
    let version_asked = w.wix.requests_to("GET", "/stores/v3/provision/version");
    let scans = w.wix.requests_to("POST", "/stores/v2/inventoryItems/query");
    w.s.issue(&order, "delivery-notes").await;
    w.wait_for_stock(&shirts[1], 8).await;
    w.wait_for_stock(&mug, 6).await;
    assert_eq!(w.wix.stock(&shirts[0]), Some(5), "other sizes untouched");
    assert_eq!(w.wix.stock(&shirts[2]), Some(5));
    let updates = w.wix.stock_updates();
    assert!(updates.iter().all(|u| u["catalog"] == "V1"), "{updates:?}");
    assert!(
        updates
            .iter()
            .any(|u| u["variant"] == shirts[1].variant.as_str()
                && u["product"] == shirts[1].product.as_str()),
        "{updates:?}"
    );
    assert_eq!(
        w.wix.requests_to("GET", "/stores/v3/provision/version"),
        version_asked,
        "the catalog version is kept in connector state"
    );
    assert_eq!(
        w.wix.requests_to("POST", "/stores/v2/inventoryItems/query"),
        scans,
        "what a stock key names is kept in connector state"
    );

    // Linking the catalog learns the stock keys of variants nobody ordered yet.
    let (status, report) =
        w.s.post(
            &format!("/api/v1/shops/{}/products/link", w.s.shop_id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["products"], 4, "{report}");
    assert_eq!(
        report["unmatched"], 2,
        "TEE-S and TEE-L are no items: {report}"
    );
    w.s.service.stop().await;
}

async fn stock_on_catalog_v3_survives_a_revision_conflict(db: Db) {
    let w = setup(
        FakeWix::start(Catalog::V3).await.unwrap(),
        db,
        json!({"stock_mode": "on_hand"}),
    )
    .await;
    let (shirts, mug) = catalog(&w.wix);
    let placed = w.wix.create_order(
        &OrderSpec::new()
            .tax_included(false)
            .line(&shirts[2], 1)
            .line(&mug, 3),
    );
    let id = id_of(&placed);
    assert_eq!(
        w.deliver(&w.wix.delivery("wix.ecom.v1.order_created", &id))
            .await,
        200
    );
    let order = w.order(&id, |_| true).await;
    assert_eq!(
        decimal(&order["total"]),
        decimal(&placed["priceSummary"]["total"]["amount"])
    );

    w.s.receive(&order["warehouse_id"], &[("TEE-L", "9"), ("MUG-1", "4")])
        .await;
    w.wait_for_stock(&shirts[2], 9).await;
    w.wait_for_stock(&mug, 4).await;

    // Someone edits the items in the dashboard: the revisions the connector would read
    // are current, so make the fake move them on between its query and its update.
    let before = w.wix.conflicts();
    w.wix.bump_revision_on_next_update(true);
    w.s.issue(&order, "delivery-notes").await;
    w.wait_for_stock(&shirts[2], 8).await;
    w.wait_for_stock(&mug, 1).await;
    assert!(
        w.wix.conflicts() > before,
        "a stale revision was refused and retried"
    );
    assert_eq!(w.wix.stock(&shirts[0]), Some(5));
    assert!(w.wix.stock_updates().iter().all(|u| u["catalog"] == "V3"));
    w.s.service.stop().await;
}

async fn duplicate_stale_and_lost_deliveries(db: Db) {
    let w = setup(
        FakeWix::start(Catalog::V1).await.unwrap(),
        db,
        json!({"update_existing": true}),
    )
    .await;
    let (_, mug) = catalog(&w.wix);
    let placed = w.wix.create_order(&OrderSpec::new().guest().line(&mug, 1));
    let id = id_of(&placed);

    // Wix retries the same event: stored once.
    let created = w.wix.delivery("wix.ecom.v1.order_created", &id);
    assert_eq!(w.deliver(&created).await, 200);
    assert_eq!(w.deliver(&created).await, 200);
    w.order(&id, |_| true).await;
    assert_eq!(w.s.deliveries().await.len(), 1, "one event, one delivery");

    // Cancelled on Wix; the cancellation arrives, then the stale creation again.
    w.wix.cancel_order(&id);
    assert_eq!(
        w.deliver(&w.wix.delivery("wix.ecom.v1.order_canceled", &id))
            .await,
        200
    );
    w.order(&id, |order| order["shop_status"] == "cancelled")
        .await;
    assert_eq!(w.deliver(&created).await, 200);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let order = w.order(&id, |_| true).await;
    assert_eq!(
        order["shop_status"], "cancelled",
        "a stale delivery changes nothing"
    );

    // Another app's event is acknowledged and ignored.
    let mut other = w
        .wix
        .claims("wix.ecom.v1.order_created", &id, OffsetDateTime::now_utc());
    let mut envelope: Value = serde_json::from_str(other["data"].as_str().unwrap()).unwrap();
    envelope["eventType"] = json!("wix.contacts.v4.contact_created");
    other["data"] = json!(envelope.to_string());
    let ignored = w
        .wix
        .delivery_with(&json!({"alg": "RS256", "typ": "JWT"}), &other);
    assert_eq!(w.deliver(&ignored).await, 200);

    // An order whose webhook never came: "sync now" finds it.
    let lost = w.wix.create_order(&OrderSpec::new().line(&mug, 3));
    let lost_id = id_of(&lost);
    w.s.sync_now().await;
    let order = w.order(&lost_id, |_| true).await;
    assert_eq!(
        decimal(&order["total"]),
        decimal(&lost["priceSummary"]["total"]["amount"])
    );
    assert_eq!(w.s.order_count().await, 2);
    w.s.service.stop().await;
}

async fn forged_expired_and_replayed_tokens_then_outage_and_throttling(db: Db) {
    let w = setup(FakeWix::start(Catalog::V1).await.unwrap(), db, json!({})).await;
    w.s.wait_for_first_sync().await;
    let (_, mug) = catalog(&w.wix);
    let placed = w.wix.create_order(&OrderSpec::new().line(&mug, 2));
    let id = id_of(&placed);

    // Signed with another key.
    let forged = w
        .wix
        .forged_delivery("wix.ecom.v1.order_created", &id)
        .unwrap();
    assert_eq!(w.deliver(&forged).await, 401);
    // Expired: issued two hours ago, so `exp` passed an hour ago.
    let expired = w.wix.delivery_issued_at(
        "wix.ecom.v1.order_created",
        &id,
        OffsetDateTime::now_utc() - time::Duration::hours(2),
    );
    assert_eq!(w.deliver(&expired).await, 401);
    // A captured token replayed with its claims edited (a fresh `exp`) no longer
    // matches its signature.
    let genuine = w.wix.delivery("wix.ecom.v1.order_created", &id);
    let token = String::from_utf8(genuine.body.clone()).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let old = w.wix.delivery_issued_at(
        "wix.ecom.v1.order_created",
        &id,
        OffsetDateTime::now_utc() - time::Duration::hours(3),
    );
    let old_token = String::from_utf8(old.body.clone()).unwrap();
    let old_parts: Vec<&str> = old_token.split('.').collect();
    let spliced = Delivery {
        headers: genuine.headers.clone(),
        body: format!("{}.{}.{}", parts[0], parts[1], old_parts[2]).into_bytes(),
    };
    assert_eq!(w.deliver(&spliced).await, 401);
    // "alg": "none" with no signature.
    let none = Delivery {
        headers: genuine.headers.clone(),
        body: format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1]).into_bytes(),
    };
    assert_eq!(w.deliver(&none).await, 401);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.s.order_count().await, 0);
    assert!(w.s.deliveries().await.is_empty(), "nothing stored");

    // Wix is down when the genuine delivery arrives: accepted, retried, imported.
    w.wix.set_down(true);
    assert_eq!(w.deliver(&genuine).await, 200);
    let waiting = w.s.wait_for_retrying_delivery().await;
    assert!(waiting["last_error"].as_str().is_some(), "{waiting}");
    w.wix.set_down(false);
    w.order(&id, |_| true).await;

    // 429 without Retry-After, then with it: waited out, nothing lost.
    for (n, retry_after) in [(1_u32, None), (2, Some("1"))] {
        let next = w.wix.create_order(&OrderSpec::new().line(&mug, n));
        let next_id = id_of(&next);
        w.wix.throttle_next(2, retry_after);
        assert_eq!(
            w.deliver(&w.wix.delivery("wix.ecom.v1.order_approved", &next_id))
                .await,
            200
        );
        w.order(&next_id, |_| true).await;
    }
    assert_eq!(w.s.order_count().await, 3);
    w.s.service.stop().await;
}

/// Every order of a realistic site (variants, a coupon, 22 % and 9.5 % VAT, prices with
/// and without tax, a company buyer with a VAT id, a guest, USD, a cancelled and a
/// refunded order) arrives through the history import with Wix's totals; the
/// INITIALIZED checkout does not.
async fn a_realistic_site_imports_to_the_cent(db: Db) {
    let w = setup(
        FakeWix::start_seeded(Catalog::V3).await.unwrap(),
        db,
        json!({}),
    )
    .await;
    w.s.import_all_history().await;
    let ids = w.wix.order_ids();
    assert_eq!(ids.len(), 5, "{ids:?}");
    for id in &ids {
        let placed = w.wix.order(id).unwrap();
        let order = w.order(id, |_| true).await;
        assert_eq!(
            decimal(&order["total"]),
            decimal(&placed["priceSummary"]["total"]["amount"]),
            "order {id}"
        );
        assert_eq!(
            decimal(&order["tax_total"]),
            decimal(&placed["priceSummary"]["tax"]["amount"]),
            "order {id}"
        );
        assert_eq!(order["currency"], placed["currency"], "order {id}");
        assert_eq!(order["external_number"], placed["number"], "order {id}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        w.s.order_count().await,
        5,
        "the INITIALIZED checkout is not imported"
    );
    w.s.service.stop().await;
}
