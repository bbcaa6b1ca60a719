//! Shopify end to end: the real connector (Wasm) against the fake Shopify Admin REST API
//! of `tovor-fakes` (access-token auth, `status=any`, `Link` cursor pages, the leaky
//! bucket, signed `X-Shopify-*` deliveries), through the service's API, inbox, sync and
//! stock push, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tovor_fakes::shopify::{
    ACCESS_TOKEN, Delivery, FakeShopify, LOCATION_ID, OrderSpec, SHOP_DOMAIN, WEBHOOK_SECRET,
};
use tovor_tests::service::{Db, ShopSession, TestService};

tovor_tests::on_both_databases!(
    webhook_to_order_to_variant_stock,
    duplicate_stale_and_lost_deliveries,
    changes_before_and_after_the_invoice,
    wrong_signature_down_shop_and_throttling,
    a_realistic_shop_imports_to_the_cent,
    webhooks_are_registered_when_added_and_removed_when_disabled,
    refunds_become_credit_notes_and_only_restocked_goods_come_back,
);

/// A shop session on a fake Shopify.
struct Shopify {
    s: ShopSession,
    shopify: FakeShopify,
}

async fn setup(db: Db, settings: Value) -> Shopify {
    setup_with(FakeShopify::start().await.unwrap(), db, settings).await
}

async fn setup_with(shopify: FakeShopify, db: Db, settings: Value) -> Shopify {
    let config = json!({
        "shop_domain": SHOP_DOMAIN,
        "access_token": ACCESS_TOKEN,
        "webhook_secret": WEBHOOK_SECRET,
        "location_id": LOCATION_ID.to_string(),
        "api_base": shopify.api_base(),
    });
    let s = ShopSession::start(db, "shopify", config, settings).await;
    Shopify { s, shopify }
}

impl Shopify {
    async fn deliver(&self, delivery: &Delivery) -> u16 {
        self.shopify
            .deliver(&self.s.webhook_url, delivery)
            .await
            .unwrap()
    }

    async fn order(&self, id: u64, check: impl Fn(&Value) -> bool) -> Value {
        self.s.order_where(&id.to_string(), check).await
    }

    async fn wait_for_level(&self, inventory_item: u64, expected: i64) {
        let what = format!("inventory item {inventory_item} at {expected}");
        self.s
            .until(&what, || async {
                (self.shopify.inventory_level(inventory_item) == Some(expected)).then_some(())
            })
            .await;
    }
}

/// A T-shirt in three sizes and a single-variant mug, in the fake shop: the variant
/// ids and inventory item ids of (shirt sizes, mug).
fn catalog(shopify: &FakeShopify) -> (Vec<(u64, u64)>, (u64, u64)) {
    let (_, sizes) = shopify.add_product(
        "T-shirt",
        &[
            ("TEE-S", "S", "20.00", Some(5)),
            ("TEE-M", "M", "20.00", Some(5)),
            ("TEE-L", "L", "22.00", Some(5)),
        ],
    );
    let (_, mug) = shopify.add_product("Mug", &[("MUG-1", "Default Title", "9.90", Some(5))]);
    (sizes, mug[0])
}

async fn webhook_to_order_to_variant_stock(db: Db) {
    let w = setup(db, json!({"stock_mode": "on_hand"})).await;
    let (sizes, mug) = catalog(&w.shopify);
    let placed = w.shopify.create_order(
        &OrderSpec::new()
            .line(sizes[1].0, 2)
            .line(mug.0, 1)
            .customer("ana@example.test", "Ana", "Horvat")
            .discount_code("SAVE10", 10)
            .shipping("Standard", "4.90"),
    );
    let id = placed["id"].as_u64().unwrap();
    assert_eq!(
        w.deliver(&w.shopify.delivery("orders/create", id)).await,
        200
    );

    let order = w.order(id, |_| true).await;
    assert_eq!(
        order["total"].as_str().unwrap(),
        placed["total_price"].as_str().unwrap(),
        "the shop's total to the cent"
    );
    assert_eq!(
        order["tax_total"].as_str().unwrap(),
        placed["total_tax"].as_str().unwrap()
    );
    assert_eq!(order["external_number"], placed["name"]);
    assert_eq!(w.s.item_codes().await, ["MUG-1", "TEE-M"]);
    let customers = w.s.get("/api/v1/customers").await;
    assert_eq!(customers[0]["email"], "ana@example.test");

    w.s.receive(&order["warehouse_id"], &[("TEE-M", "10"), ("MUG-1", "7")])
        .await;
    w.wait_for_level(sizes[1].1, 10).await;
    w.wait_for_level(mug.1, 7).await;
    w.s.issue(&order, "delivery-notes").await;
    w.wait_for_level(sizes[1].1, 8).await;
    w.wait_for_level(mug.1, 6).await;
    assert_eq!(w.shopify.inventory_level(sizes[0].1), Some(5));
    assert_eq!(w.shopify.inventory_level(sizes[2].1), Some(5));

    // Linking the catalog learns the inventory items of products nobody ordered yet.
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

async fn duplicate_stale_and_lost_deliveries(db: Db) {
    let w = setup(db, json!({"update_existing": true})).await;
    let (_, mug) = catalog(&w.shopify);
    let placed = w
        .shopify
        .create_order(&OrderSpec::new().line(mug.0, 1).guest());
    let id = placed["id"].as_u64().unwrap();

    // Shopify retries the same event with a new webhook id: stored once.
    let created = w.shopify.delivery("orders/create", id);
    assert_eq!(w.deliver(&created).await, 200);
    assert_eq!(w.deliver(&w.shopify.redelivery(&created)).await, 200);
    w.order(id, |_| true).await;
    assert_eq!(w.s.deliveries().await.len(), 1, "one event, one delivery");

    // Cancelled in the shop; the cancellation arrives, then the stale create again.
    w.shopify.cancel_order(id);
    assert_eq!(
        w.deliver(&w.shopify.delivery("orders/cancelled", id)).await,
        200
    );
    w.order(id, |order| order["shop_status"] == "cancelled")
        .await;
    assert_eq!(
        w.deliver(
            &w.shopify
                .redelivery(&w.shopify.delivery("orders/create", id))
        )
        .await,
        200
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let order = w.order(id, |_| true).await;
    assert_eq!(
        order["shop_status"], "cancelled",
        "a stale payload changes nothing"
    );

    // An order whose webhook never came: "sync now" finds it.
    let lost = w.shopify.create_order(&OrderSpec::new().line(mug.0, 3));
    let lost_id = lost["id"].as_u64().unwrap();
    w.s.sync_now().await;
    let order = w.order(lost_id, |_| true).await;
    assert_eq!(
        order["total"].as_str().unwrap(),
        lost["total_price"].as_str().unwrap()
    );
    assert_eq!(w.s.order_count().await, 2);
    w.s.service.stop().await;
}

async fn changes_before_and_after_the_invoice(db: Db) {
    let w = setup(db, json!({"update_existing": true})).await;
    let (_, mug) = catalog(&w.shopify);
    let placed = w.shopify.create_order(&OrderSpec::new().line(mug.0, 1));
    let id = placed["id"].as_u64().unwrap();
    assert_eq!(
        w.deliver(&w.shopify.delivery("orders/create", id)).await,
        200
    );
    w.order(id, |_| true).await;

    // Before any document: a changed note (and status) overwrites the order.
    w.shopify.update_order(id, |order| {
        order["note"] = json!("Gift wrap, please");
    });
    assert_eq!(
        w.deliver(&w.shopify.delivery("orders/updated", id)).await,
        200
    );
    let order = w
        .order(id, |order| {
            order["content"]["customer_note"] == "Gift wrap, please"
        })
        .await;
    assert!(
        order["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["action"] == "overwritten"),
        "{}",
        order["history"]
    );

    // After the invoice: fulfilled in the shop with another note; only the status
    // follows, the difference is recorded.
    w.s.issue(&order, "invoices").await;
    w.shopify.update_order(id, |order| {
        order["fulfillment_status"] = json!("fulfilled");
        order["note"] = json!("Leave at the door");
    });
    assert_eq!(
        w.deliver(&w.shopify.delivery("orders/updated", id)).await,
        200
    );
    let after = w
        .order(id, |order| order["shop_status"] == "completed")
        .await;
    assert_eq!(after["content"]["customer_note"], "Gift wrap, please");
    let history = after["history"].as_array().unwrap();
    let update = history
        .iter()
        .find(|entry| entry["action"] == "status_updated")
        .unwrap_or_else(|| panic!("no status update in {history:#?}"));
    assert!(
        update["detail"].to_string().contains("customer_note"),
        "the kept difference is recorded: {update}"
    );
    w.s.service.stop().await;
}

async fn wrong_signature_down_shop_and_throttling(db: Db) {
    let w = setup(db, json!({})).await;
    // A forged delivery must be what the test sees refused, not the first sync.
    w.s.wait_for_first_sync().await;
    let (_, mug) = catalog(&w.shopify);
    let placed = w.shopify.create_order(&OrderSpec::new().line(mug.0, 2));
    let id = placed["id"].as_u64().unwrap();

    let mut forged = w.shopify.delivery("orders/create", id);
    for (name, value) in &mut forged.headers {
        if name.eq_ignore_ascii_case("x-shopify-hmac-sha256") {
            *value = "bm90IHRoZSBzaWduYXR1cmU=".into();
        }
    }
    assert_eq!(w.deliver(&forged).await, 401);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.s.order_count().await, 0);
    assert!(w.s.deliveries().await.is_empty(), "nothing stored");

    w.shopify.set_down(true);
    assert_eq!(
        w.deliver(&w.shopify.delivery("orders/create", id)).await,
        200
    );
    let waiting = w.s.wait_for_retrying_delivery().await;
    assert!(waiting["last_error"].as_str().is_some(), "{waiting}");
    w.shopify.set_down(false);
    w.order(id, |_| true).await;

    // 429 without Retry-After, then with it: waited out, nothing lost.
    for (n, retry_after) in [(1_u32, None), (2, Some("1.0"))] {
        let next = w.shopify.create_order(&OrderSpec::new().line(mug.0, n));
        let next_id = next["id"].as_u64().unwrap();
        w.shopify.throttle_next(2, retry_after);
        assert_eq!(
            w.deliver(&w.shopify.delivery("orders/create", next_id))
                .await,
            200
        );
        w.order(next_id, |_| true).await;
    }
    assert_eq!(w.s.order_count().await, 3);
    w.s.service.stop().await;
}

/// Every order of a realistic shop (variants, discount codes, several tax rates, taxes
/// included and not, a guest checkout, a refunded and a cancelled order, a foreign
/// presentment currency) arrives through the history import with the shop's totals.
async fn a_realistic_shop_imports_to_the_cent(db: Db) {
    let w = setup_with(FakeShopify::start_seeded().await.unwrap(), db, json!({})).await;
    w.s.import_all_history().await;
    let ids = w.shopify.order_ids();
    assert!(ids.len() >= 6, "the seeded shop has orders: {ids:?}");
    for id in ids {
        let placed = w.shopify.order(id).unwrap();
        let order = w.order(id, |_| true).await;
        // Units refunded with restock are no longer in the order (its lines carry
        // `current_quantity`): its total is the price less what they cost, and the
        // refund itself travels beside it.
        let included = placed["taxes_included"].as_bool().unwrap_or(false);
        let (mut restocked, mut restocked_tax) = (Decimal::ZERO, Decimal::ZERO);
        let refunded_lines =
            placed["refunds"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|refund| {
                    refund["refund_line_items"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                });
        for line in refunded_lines.filter(|line| line["restock_type"] != "no_restock") {
            let subtotal = decimal(&line["subtotal"]);
            let tax = decimal(&line["total_tax"]);
            restocked += if included { subtotal } else { subtotal + tax };
            restocked_tax += tax;
        }
        let total = decimal(&order["total"]);
        assert_eq!(
            total,
            decimal(&placed["total_price"]) - restocked,
            "order {id}"
        );
        let tax_total = decimal(&order["tax_total"]);
        assert_eq!(
            tax_total,
            decimal(&placed["total_tax"]) - restocked_tax,
            "order {id}"
        );
        assert_eq!(order["currency"], placed["currency"], "order {id}");
        assert_eq!(order["external_number"], placed["name"], "order {id}");
    }
    w.s.service.stop().await;
}

/// An amount Shopify sends as a string or a number (and the API answers as a string).
fn decimal(value: &Value) -> Decimal {
    let text = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    text.parse()
        .unwrap_or_else(|_| panic!("not an amount: {value}"))
}

/// "Add e-store" subscribes Shopify's order topics to the shop's webhook URL (Shopify
/// takes only https addresses, so the service stands behind one), a wrong token is
/// refused before anything is saved, and disabling the shop deletes exactly the
/// subscriptions tovor made while enabling it makes them again.
async fn webhooks_are_registered_when_added_and_removed_when_disabled(db: Db) {
    let shopify = FakeShopify::start().await.unwrap();
    let plugin = tovor_tests::connector("shopify").unwrap();
    let service = TestService::start_at_public_url(db, &[plugin], "https://tovor.example")
        .await
        .unwrap();
    let token = service.company("Acme").await.unwrap();
    let config = |access_token: &str| {
        json!({
            "shop_domain": SHOP_DOMAIN,
            "access_token": access_token,
            "webhook_secret": WEBHOOK_SECRET,
            "api_base": shopify.api_base(),
        })
    };
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
    let add = |access_token: &'static str| {
        json!({"plugin": "shopify", "name": "Demo", "config": config(access_token),
               "warehouse_id": warehouse["id"]})
    };
    let (status, refused) = service
        .call(
            reqwest::Method::POST,
            "/api/v1/shops",
            Some(&token),
            Some(add("shpat_wrong")),
        )
        .await
        .unwrap();
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        refused["error"]["field"], "config.access_token",
        "{refused}"
    );
    assert!(shopify.webhooks().is_empty());

    let (status, shop) = service
        .call(
            reqwest::Method::POST,
            "/api/v1/shops",
            Some(&token),
            Some(add(ACCESS_TOKEN)),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{shop}");
    let url = shop["webhook_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("https://tovor.example/hooks/"), "{url}");
    assert!(shop["connection"]["account"].is_string(), "{shop}");
    assert_eq!(shop["webhook_setup"]["state"], "registered", "{shop}");
    let subscribed = |shopify: &FakeShopify| -> Vec<String> {
        let mut topics: Vec<String> = shopify
            .webhooks()
            .iter()
            .filter(|hook| hook["address"] == url.as_str())
            .map(|hook| hook["topic"].as_str().unwrap().to_owned())
            .collect();
        topics.sort();
        topics
    };
    assert_eq!(
        subscribed(&shopify),
        ["orders/create", "orders/delete", "orders/updated"]
    );
    let ids: Vec<&str> = shop["webhook_setup"]["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hook| hook["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{shop}");

    let shop_path = format!("/api/v1/shops/{}", shop["id"]);
    let patch = |enabled: bool| {
        service.call(
            reqwest::Method::PATCH,
            &shop_path,
            Some(&token),
            Some(json!({"enabled": enabled})),
        )
    };
    let (status, disabled) = patch(false).await.unwrap();
    assert_eq!(status, 200, "{disabled}");
    assert!(subscribed(&shopify).is_empty(), "{:?}", shopify.webhooks());
    for id in &ids {
        assert_eq!(
            shopify.requests_to("DELETE", &format!("webhooks/{id}.json")),
            1,
            "{:?}",
            shopify.request_counts()
        );
    }
    let (status, enabled) = patch(true).await.unwrap();
    assert_eq!(status, 200, "{enabled}");
    assert_eq!(enabled["webhook_setup"]["state"], "registered");
    assert_eq!(subscribed(&shopify).len(), 3);
    service.stop().await;
}

/// On hand of `sku` in the company's warehouses, summed.
async fn on_hand(s: &ShopSession, sku: &str) -> Decimal {
    let levels = s.get(&format!("/api/v1/stock?sku={sku}")).await;
    levels
        .as_array()
        .unwrap()
        .iter()
        .map(|level| {
            level["on_hand"]
                .as_str()
                .unwrap()
                .parse::<Decimal>()
                .unwrap()
        })
        .sum()
}

/// A shop whose refunds become credit notes by themselves: a refund of one restocked
/// line credits that line and books the goods back; a refund without restock credits
/// its line and leaves stock alone. Each credit note refers to the invoice, in the
/// credit notes' own series, and a refund is never credited twice.
async fn refunds_become_credit_notes_and_only_restocked_goods_come_back(db: Db) {
    let w = setup(
        db,
        json!({"credit_notes": "auto", "stock_document": "invoice", "update_existing": true}),
    )
    .await;
    let (sizes, mug) = catalog(&w.shopify);
    let placed = w
        .shopify
        .create_order(&OrderSpec::new().line(mug.0, 2).line(sizes[1].0, 1));
    let id = placed["id"].as_u64().unwrap();
    let mug_line = placed["line_items"][0]["id"].as_u64().unwrap();
    let shirt_line = placed["line_items"][1]["id"].as_u64().unwrap();
    assert_eq!(
        w.deliver(&w.shopify.delivery("orders/create", id)).await,
        200
    );
    let order = w.order(id, |_| true).await;
    w.s.receive(&order["warehouse_id"], &[("MUG-1", "10"), ("TEE-M", "10")])
        .await;
    let invoice = w.s.issue(&order, "invoices").await;
    assert_eq!(on_hand(&w.s, "MUG-1").await, Decimal::from(8));
    assert_eq!(on_hand(&w.s, "TEE-M").await, Decimal::from(9));

    // One mug back, restocked in the shop.
    w.shopify
        .refund_lines(id, &[(mug_line, 1)], true, false, "Broken handle");
    assert_eq!(
        w.deliver(&w.shopify.delivery("orders/updated", id)).await,
        200
    );
    let order = w
        .order(id, |order| {
            order["documents"]
                .as_array()
                .unwrap()
                .iter()
                .any(|document| document["kind"] == "credit_note")
        })
        .await;
    let notes: Vec<&Value> = order["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|document| document["kind"] == "credit_note")
        .collect();
    assert_eq!(notes.len(), 1, "{:#}", order["documents"]);
    let note = notes[0];
    assert_eq!(note["credits"], invoice["id"]);
    assert!(note["refund_id"].is_string());
    assert!(
        note["number"].as_str().unwrap().ends_with("-00001"),
        "{note}"
    );
    assert_eq!(note["moves_stock"], true);
    let lines = note["draft"]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{note:#}");
    assert_eq!(lines[0]["sku"], "MUG-1");
    assert_eq!(lines[0]["quantity"], "1");
    let invoiced_mug = invoice["draft"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|line| line["sku"] == "MUG-1")
        .unwrap();
    let half: Decimal = invoiced_mug["gross"]
        .as_str()
        .unwrap()
        .parse::<Decimal>()
        .unwrap()
        / Decimal::from(2);
    assert_eq!(
        note["draft"]["totals"]["gross"]
            .as_str()
            .unwrap()
            .parse::<Decimal>()
            .unwrap(),
        half.round_dp(2)
    );
    w.s.until("the mug back in stock", || async {
        (on_hand(&w.s, "MUG-1").await == Decimal::from(9)).then_some(())
    })
    .await;

    // The shirt refunded but kept by the buyer: credited, stock untouched.
    w.shopify
        .refund_lines(id, &[(shirt_line, 1)], false, false, "Goodwill");
    assert_eq!(
        w.deliver(&w.shopify.delivery("orders/updated", id)).await,
        200
    );
    let order = w
        .order(id, |order| {
            order["documents"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|document| document["kind"] == "credit_note")
                .count()
                == 2
        })
        .await;
    let second = order["documents"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|document| document["kind"] == "credit_note")
        .unwrap();
    assert!(
        second["number"].as_str().unwrap().ends_with("-00002"),
        "{second}"
    );
    assert_eq!(second["moves_stock"], false);
    assert_eq!(second["draft"]["lines"][0]["sku"], "TEE-M");
    assert_eq!(on_hand(&w.s, "TEE-M").await, Decimal::from(9));
    assert_eq!(on_hand(&w.s, "MUG-1").await, Decimal::from(9));

    // The same delivery again credits nothing more; a hand-made credit of the mug
    // already given back is refused beyond what is left.
    assert_eq!(
        w.deliver(&w.shopify.delivery("orders/updated", id)).await,
        200
    );
    let (status, body) =
        w.s.post(
            &format!("/api/v1/documents/{}/credit-notes", invoice["id"]),
            json!({"lines": [{"position": 0, "quantity": "2"}]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only 1 left"),
        "{body}"
    );
    let (status, body) =
        w.s.post(
            &format!("/api/v1/documents/{}/credit-notes", invoice["id"]),
            json!({"refund_id": note["refund_id"]}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let order = w.order(id, |_| true).await;
    let count = order["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|document| document["kind"] == "credit_note")
        .count();
    assert_eq!(count, 2);
    w.s.service.stop().await;
}
