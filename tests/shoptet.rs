//! Shoptet end to end: the real connector (Wasm) against the fake Shoptet REST API of
//! `tovor-fakes` (private and addon tokens, `paginator` pages, registered and signed
//! notifications, stock movements, the leaky bucket and maintenance), through the
//! service's API, inbox, sync and stock push, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tovor_fakes::shoptet::{
    Delivery, FakeShoptet, OAUTH_TOKEN, OrderSpec, PRIVATE_TOKEN, STOCK_ID,
};
use tovor_tests::service::{Db, ShopSession, TestService};

tovor_tests::on_both_databases!(
    the_shop_is_added_and_its_webhooks_registered,
    a_signed_notification_imports_the_order_and_stock_follows_the_variant,
    duplicates_stale_mass_and_missed_notifications,
    wrong_expired_and_replayed_signatures_outages_and_throttling,
    a_realistic_eshop_imports_to_the_cent,
    an_addon_renews_its_expired_access_token,
);

/// A shop session on a fake Shoptet.
struct Shoptet {
    s: ShopSession,
    shop: FakeShoptet,
}

fn private_config(shop: &FakeShoptet) -> Value {
    json!({
        "private_api_token": PRIVATE_TOKEN,
        "api_base": shop.api_base(),
        "status_map": "7=refunded",
        "stock_field": "realStock",
    })
}

async fn setup(db: Db, settings: Value) -> Shoptet {
    setup_with(FakeShoptet::start().await.unwrap(), db, settings).await
}

async fn setup_with(shop: FakeShoptet, db: Db, settings: Value) -> Shoptet {
    let s = ShopSession::start(db, "shoptet", private_config(&shop), settings).await;
    Shoptet { s, shop }
}

impl Shoptet {
    async fn deliver(&self, delivery: &Delivery) -> u16 {
        self.shop
            .deliver(&self.s.webhook_url, delivery)
            .await
            .unwrap()
    }

    async fn order(&self, code: &str, check: impl Fn(&Value) -> bool) -> Value {
        self.s.order_where(code, check).await
    }

    async fn wait_for_real_stock(&self, code: &str, expected: i64) {
        let what = format!("realStock of {code} at {expected}");
        self.s
            .until(&what, || async {
                (self.shop.product(code)?.real_stock == Decimal::from(expected)).then_some(())
            })
            .await;
    }
}

fn code_of(order: &Value) -> String {
    order["code"].as_str().unwrap().to_owned()
}

fn decimal(value: &Value) -> Decimal {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not an amount: {value}"))
        .parse()
        .unwrap()
}

/// "Add e-store": a wrong token is refused (422 naming the field) before anything is
/// saved or registered; the right one registers the order events with a fresh
/// signature key; disabling the shop deletes exactly those registrations, enabling
/// registers them again (and renews the key).
async fn the_shop_is_added_and_its_webhooks_registered(db: Db) {
    let shop = FakeShoptet::start().await.unwrap();
    let plugin = tovor_tests::connector("shoptet").unwrap();
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
    let add = |config: Value| {
        json!({"plugin": "shoptet", "name": "Hrnky", "config": config,
               "warehouse_id": warehouse["id"]})
    };
    let mut wrong = private_config(&shop);
    wrong["private_api_token"] = json!("222651-p-wrong");
    let (status, refused) = service
        .call(
            reqwest::Method::POST,
            "/api/v1/shops",
            Some(&token),
            Some(add(wrong)),
        )
        .await
        .unwrap();
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        refused["error"]["field"], "config.private_api_token",
        "{refused}"
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("private API token"),
        "{refused}"
    );
    let wrong_addon = json!({"oauth_access_token": "not-the-token",
                             "eshop_url": shop.api_base(), "api_base": shop.api_base()});
    let (status, refused) = service
        .call(
            reqwest::Method::POST,
            "/api/v1/shops",
            Some(&token),
            Some(add(wrong_addon)),
        )
        .await
        .unwrap();
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        refused["error"]["field"], "config.oauth_access_token",
        "{refused}"
    );
    assert!(shop.webhooks().is_empty());
    assert_eq!(shop.keys_issued(), 0);

    let (status, added) = service
        .call(
            reqwest::Method::POST,
            "/api/v1/shops",
            Some(&token),
            Some(add(private_config(&shop))),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{added}");
    assert_eq!(
        added["connection"]["account"],
        "Hrnky a káva (".to_owned() + &shop.api_base() + "/)"
    );
    assert_eq!(added["webhook_setup"]["state"], "registered", "{added}");
    let url = added["webhook_url"].as_str().unwrap().to_owned();
    let events = |shop: &FakeShoptet| -> Vec<String> {
        let mut events: Vec<String> = shop
            .webhooks()
            .iter()
            .filter(|hook| hook["url"] == url.as_str())
            .map(|hook| hook["event"].as_str().unwrap().to_owned())
            .collect();
        events.sort();
        events
    };
    assert_eq!(
        events(&shop),
        [
            "order:create",
            "order:delete",
            "order:massCreate",
            "order:massUpdate",
            "order:paid",
            "order:update"
        ]
    );
    assert_eq!(shop.keys_issued(), 1, "the signature key is asked for once");
    let ids: Vec<String> = added["webhook_setup"]["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hook| hook["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 6, "{added}");

    let shop_path = format!("/api/v1/shops/{}", added["id"]);
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
    assert!(shop.webhooks().is_empty(), "{:?}", shop.webhooks());
    for id in &ids {
        assert_eq!(
            shop.requests_to("DELETE", &format!("/api/webhooks/{id}")),
            1
        );
    }
    let (status, enabled) = patch(true).await.unwrap();
    assert_eq!(status, 200, "{enabled}");
    assert_eq!(enabled["webhook_setup"]["state"], "registered");
    assert_eq!(events(&shop).len(), 6);
    assert_eq!(shop.keys_issued(), 2);
    // Registering again for the same address adds nothing.
    let (status, again) = service
        .call(
            reqwest::Method::POST,
            &format!("{shop_path}/webhooks"),
            Some(&token),
            None,
        )
        .await
        .unwrap();
    assert!(status < 300, "{status} {again}");
    assert_eq!(shop.webhooks().len(), 6);
    service.stop().await;
}

async fn a_signed_notification_imports_the_order_and_stock_follows_the_variant(db: Db) {
    let w = setup(db, json!({"stock_mode": "on_hand"})).await;
    let placed = w.shop.create_order(
        &OrderSpec::new()
            .customer("jan.novak@example.cz", "Jan Novák")
            .line("40/ZEL", "2")
            .line("KAVA-250", "1")
            .payment("Dobírka", "39")
            .remark("Prosím zvonit dvakrát"),
    );
    let code = code_of(&placed);
    assert_eq!(
        w.deliver(&w.shop.delivery("order:create", &code)).await,
        200
    );
    let order = w.order(&code, |_| true).await;
    assert_eq!(
        decimal(&order["total"]),
        decimal(&placed["price"]["withVat"]),
        "the shop's total to the haléř"
    );
    assert_eq!(
        decimal(&order["tax_total"]),
        decimal(&placed["price"]["vat"])
    );
    assert_eq!(order["currency"], "CZK");
    assert_eq!(order["external_number"], code.as_str());
    assert_eq!(order["content"]["customer_note"], "Prosím zvonit dvakrát");
    assert_eq!(w.s.item_codes().await, ["40/ZEL", "KAVA-250"]);
    let customers = w.s.get("/api/v1/customers").await;
    assert_eq!(customers[0]["email"], "jan.novak@example.cz", "{customers}");

    w.s.receive(
        &order["warehouse_id"],
        &[("40/ZEL", "10"), ("KAVA-250", "7")],
    )
    .await;
    w.wait_for_real_stock("40/ZEL", 10).await;
    w.wait_for_real_stock("KAVA-250", 7).await;
    w.s.issue(&order, "delivery-notes").await;
    w.wait_for_real_stock("40/ZEL", 8).await;
    w.wait_for_real_stock("KAVA-250", 6).await;
    // The other colour of the mug is untouched.
    assert_eq!(
        w.shop.product("40/MOD").unwrap().real_stock,
        Decimal::from(8)
    );
    let movements = w.shop.movements();
    assert!(
        movements
            .iter()
            .all(|row| row.get("realStock").is_some() && row.get("quantity").is_none()),
        "{movements:?}"
    );
    assert!(
        w.shop
            .requests_to("PATCH", &format!("/api/stocks/{STOCK_ID}/movements"))
            >= 2
    );
    w.s.service.stop().await;
}

async fn duplicates_stale_mass_and_missed_notifications(db: Db) {
    let w = setup(db, json!({"update_existing": true})).await;
    let placed = w.shop.create_order(
        &OrderSpec::new()
            .guest("host@example.cz")
            .line("40/MOD", "1"),
    );
    let code = code_of(&placed);

    // Shoptet retries a notification with the very same body: stored once.
    let created = w.shop.delivery("order:create", &code);
    assert_eq!(w.deliver(&created).await, 200);
    assert_eq!(w.deliver(&created).await, 200);
    w.order(&code, |_| true).await;
    assert_eq!(w.s.deliveries().await.len(), 1, "one event, one delivery");

    // Cancelled in the admin: the update arrives, then the stale create again.
    w.shop.update_order(&code, |order| {
        order["status"] = json!({"id": -4, "name": "Stornována"});
    });
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        w.deliver(&w.shop.delivery("order:update", &code)).await,
        200
    );
    w.order(&code, |order| order["shop_status"] == "cancelled")
        .await;
    assert_eq!(w.deliver(&created).await, 200);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let order = w.order(&code, |_| true).await;
    assert_eq!(
        order["shop_status"], "cancelled",
        "a stale delivery changes nothing"
    );

    // A mass event: every code it names is imported.
    let a = code_of(&w.shop.create_order(&OrderSpec::new().line("KAVA-250", "2")));
    let b = code_of(
        &w.shop
            .create_order(&OrderSpec::new().currency("EUR").line("KNIHA-01", "1")),
    );
    let c = code_of(&w.shop.create_order(&OrderSpec::new().line("40/ZEL", "1")));
    assert_eq!(
        w.deliver(&w.shop.mass_delivery("order:massCreate", &[&a, &b, &c]))
            .await,
        200
    );
    w.order(&a, |_| true).await;
    // The other two come with the next listing (a delivery answers one order).
    w.s.sync_now().await;
    w.order(&b, |order| order["currency"] == "EUR").await;
    w.order(&c, |_| true).await;

    // An order whose notification never came: "sync now" finds it.
    let lost = w.shop.create_order(&OrderSpec::new().line("40/ZEL", "3"));
    let lost_code = code_of(&lost);
    w.s.sync_now().await;
    let order = w.order(&lost_code, |_| true).await;
    assert_eq!(decimal(&order["total"]), decimal(&lost["price"]["withVat"]));
    assert_eq!(w.s.order_count().await, 5);

    // Deleted in the admin.
    assert!(w.shop.delete_order(&lost_code));
    assert_eq!(
        w.deliver(&w.shop.delivery("order:delete", &lost_code))
            .await,
        200
    );
    w.s.service.stop().await;
}

async fn wrong_expired_and_replayed_signatures_outages_and_throttling(db: Db) {
    let w = setup(db, json!({})).await;
    // A forged delivery must be what the test sees refused, not the first sync.
    w.s.wait_for_first_sync().await;
    let placed = w.shop.create_order(&OrderSpec::new().line("40/ZEL", "2"));
    let code = code_of(&placed);

    let mut forged = w.shop.delivery("order:create", &code);
    for (name, value) in &mut forged.headers {
        if name.eq_ignore_ascii_case("shoptet-webhook-signature") {
            *value = "0000000000000000000000000000000000000000".into();
        }
    }
    assert_eq!(w.deliver(&forged).await, 401);
    let mut unsigned = w.shop.delivery("order:create", &code);
    unsigned
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("shoptet-webhook-signature"));
    assert_eq!(w.deliver(&unsigned).await, 401);

    // Signed with a key that was renewed since (registering again renews it): refused.
    let signed_with_old_key = w.shop.delivery("order:create", &code);
    let (status, body) =
        w.s.post(
            &format!("/api/v1/shops/{}/webhooks", w.s.shop_id),
            json!({}),
        )
        .await;
    assert!(status < 300, "{status} {body}");
    assert_eq!(w.shop.keys_issued(), 2);
    assert_eq!(w.deliver(&signed_with_old_key).await, 401);
    // Signed with the current key, but created two days ago: a captured notification
    // replayed long after Shoptet stopped retrying it.
    let replayed = w.shop.delivery_created_at(
        "order:create",
        &code,
        time::OffsetDateTime::now_utc() - time::Duration::days(2),
    );
    assert_eq!(w.deliver(&replayed).await, 401);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.s.order_count().await, 0);
    assert!(w.s.deliveries().await.is_empty(), "nothing stored");

    // Maintenance: the delivery is kept and retried until Shoptet is back.
    w.shop.set_down(true);
    let created = w.shop.delivery("order:create", &code);
    assert_eq!(w.deliver(&created).await, 200);
    let waiting = w.s.wait_for_retrying_delivery().await;
    assert!(waiting["last_error"].as_str().is_some(), "{waiting}");
    w.shop.set_down(false);
    w.order(&code, |_| true).await;
    // A replay of the same notification: accepted, nothing new.
    assert_eq!(w.deliver(&created).await, 200);

    // The leaky bucket is full: 429 with Retry-After as an HTTP date, waited out.
    let next = w.shop.create_order(&OrderSpec::new().line("KAVA-250", "1"));
    let next_code = code_of(&next);
    w.shop.throttle_next(2);
    assert_eq!(
        w.deliver(&w.shop.delivery("order:create", &next_code))
            .await,
        200
    );
    w.order(&next_code, |_| true).await;
    assert_eq!(w.s.order_count().await, 2);
    assert_eq!(
        w.s.deliveries().await.len(),
        2,
        "the replay is not a new delivery"
    );
    w.s.service.stop().await;
}

/// Every order of a realistic e-shop (CZK and EUR, 21 % and 12 %, a coupon, cash on
/// delivery, a guest to a pickup point, a cancelled and a refunded order, coffee by
/// weight) arrives through the history import with the shop's totals.
async fn a_realistic_eshop_imports_to_the_cent(db: Db) {
    let w = setup_with(FakeShoptet::start_seeded().await.unwrap(), db, json!({})).await;
    w.s.import_all_history().await;
    let codes = w.shop.order_codes();
    assert!(codes.len() >= 6, "{codes:?}");
    let mut statuses = Vec::new();
    for code in codes {
        let placed = w.shop.order(&code).unwrap();
        let order = w.order(&code, |_| true).await;
        assert_eq!(
            decimal(&order["total"]),
            decimal(&placed["price"]["withVat"]),
            "order {code}"
        );
        assert_eq!(
            decimal(&order["tax_total"]),
            decimal(&placed["price"]["vat"]),
            "order {code}"
        );
        assert_eq!(
            order["currency"], placed["price"]["currencyCode"],
            "order {code}"
        );
        statuses.push(order["shop_status"].as_str().unwrap().to_owned());
    }
    for expected in [
        "cancelled",
        "refunded",
        "completed",
        "pending",
        "processing",
    ] {
        assert!(
            statuses.iter().any(|s| s == expected),
            "{expected}: {statuses:?}"
        );
    }
    w.s.service.stop().await;
}

/// An addon's API access token expires: the connector asks the e-shop's OAuth server
/// for a new one once and carries on.
async fn an_addon_renews_its_expired_access_token(db: Db) {
    let shop = FakeShoptet::start().await.unwrap();
    let config = json!({
        "oauth_access_token": OAUTH_TOKEN,
        "eshop_url": shop.api_base(),
        "api_base": shop.api_base(),
    });
    let s = ShopSession::start(db, "shoptet", config, json!({})).await;
    let w = Shoptet { s, shop };
    assert!(w.shop.tokens_issued() >= 1);
    assert_eq!(w.shop.webhooks().len(), 6);
    let code = code_of(&w.shop.create_order(&OrderSpec::new().line("40/ZEL", "1")));
    assert_eq!(
        w.deliver(&w.shop.delivery("order:create", &code)).await,
        200
    );
    w.order(&code, |_| true).await;
    let issued = w.shop.tokens_issued();

    w.shop.expire_tokens();
    let next = code_of(&w.shop.create_order(&OrderSpec::new().line("40/MOD", "1")));
    assert_eq!(w.deliver(&w.shop.delivery("order:paid", &next)).await, 200);
    w.order(&next, |_| true).await;
    // Renewed, once per call that met the expired token (a sync may run meanwhile).
    let renewed = w.shop.tokens_issued() - issued;
    assert!((1..=2).contains(&renewed), "{renewed} new tokens");
    w.s.service.stop().await;
}
