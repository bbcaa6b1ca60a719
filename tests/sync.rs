//! Syncs never pass an order over, and every order left out says why: a transient
//! failure (here a database trigger refusing one order's insert) fails the run and the
//! order comes with a later one; an order the import rules refuse is one of the shop's
//! problems until it imports or is dismissed; a delivery a rule leaves alone carries
//! its reason. The real example and WooCommerce connectors (Wasm) against fake shops on
//! 127.0.0.1, on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::Method;
use serde_json::{Value, json};
use tovor_fakes::woocommerce::{CONSUMER_KEY, CONSUMER_SECRET, FakeWoo, OrderSpec, WEBHOOK_SECRET};
use tovor_tests::minishop::{self, Minishop};
use tovor_tests::service::{Db, ShopSession, TestService, WAIT};

tovor_tests::on_both_databases!(
    a_transient_failure_fails_the_run_and_a_later_run_imports_the_order,
    a_transient_failure_keeps_the_history_import_on_its_page,
    a_refused_order_is_a_problem_until_it_imports_or_is_dismissed,
    skipped_deliveries_say_why,
);

/// A service with a company ("Acme") and a Minishop shop.
struct Setup {
    service: TestService,
    shop: Minishop,
    token: String,
    shop_id: i64,
}

async fn setup(db: Db, settings: Value) -> Setup {
    let service = TestService::start(db).await.unwrap();
    let shop = Minishop::start().await.unwrap();
    let token = service.company("Acme").await.unwrap();
    let (shop_id, _) = service
        .minishop_shop(&token, &shop, settings)
        .await
        .unwrap();
    let setup = Setup {
        service,
        shop,
        token,
        shop_id,
    };
    // The sync every new shop gets is out of the way before the test's own.
    setup
        .until("the first sync", |view| {
            view["sync"]["last_finished_at"].is_string()
        })
        .await;
    setup
}

impl Setup {
    async fn get(&self, path: &str) -> Value {
        let (status, body) = self
            .service
            .call(Method::GET, path, Some(&self.token), None)
            .await
            .unwrap();
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.service
            .call(Method::POST, path, Some(&self.token), Some(body))
            .await
            .unwrap()
    }

    async fn view(&self) -> Value {
        self.get(&format!("/api/v1/shops/{}", self.shop_id)).await
    }

    /// Waits until the shop's view satisfies `check`; returns it.
    async fn until(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let found = self
            .service
            .eventually(WAIT, || async {
                let view = self.view().await;
                check(&view).then_some(view)
            })
            .await;
        match found {
            Some(view) => view,
            None => panic!("waited {WAIT:?} for {what}; shop: {:#}", self.view().await),
        }
    }

    async fn sync_now(&self, body: Value) {
        let (status, answer) = self
            .post(&format!("/api/v1/shops/{}/sync", self.shop_id), body)
            .await;
        assert_eq!(status, 202, "sync: {answer}");
    }

    /// Sync now, and wait until that run has finished without error.
    async fn sync_and_wait(&self, body: Value) -> Value {
        let before = self.view().await["sync"]["last_finished_at"].clone();
        self.sync_now(body).await;
        self.until("a sync run after the request", |view| {
            view["sync"]["last_finished_at"] != before && view["sync"]["last_error"].is_null()
        })
        .await
    }

    async fn external_ids(&self) -> Vec<String> {
        let orders = self.get("/api/v1/orders?limit=500").await;
        let mut ids: Vec<String> = orders
            .as_array()
            .unwrap()
            .iter()
            .map(|order| order["external_id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    }

    async fn wait_for_external_ids(&self, expected: &[&str]) {
        let found = self
            .service
            .eventually(WAIT, || async {
                let ids = self.external_ids().await;
                (ids == expected).then_some(())
            })
            .await;
        assert!(
            found.is_some(),
            "expected orders {expected:?}, have {:?}; shop: {:#}",
            self.external_ids().await,
            self.view().await["sync"]
        );
    }

    async fn problems(&self, query: &str) -> Vec<Value> {
        self.get(&format!("/api/v1/shops/{}/problems{query}", self.shop_id))
            .await
            .as_array()
            .cloned()
            .unwrap()
    }

    async fn problem(&self, order: &str, query: &str) -> Option<Value> {
        self.problems(query)
            .await
            .into_iter()
            .find(|problem| problem["order_id"] == order)
    }

    async fn metrics(&self) -> String {
        self.service
            .http
            .get(self.service.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// Makes the database refuse to insert the order with platform id `external_id`, the
/// way a full disk, a lock timeout or a lost connection would refuse it.
async fn break_insert_of(service: &TestService, db: Db, external_id: &str) {
    let sql = match db {
        Db::Sqlite => format!(
            "CREATE TRIGGER refuse_one_order BEFORE INSERT ON orders \
             WHEN NEW.external_id = '{external_id}' \
             BEGIN SELECT RAISE(ABORT, 'injected failure for this order'); END;"
        ),
        Db::Postgres => format!(
            "CREATE FUNCTION refuse_one_order() RETURNS trigger AS $$ BEGIN \
             IF NEW.external_id = '{external_id}' THEN \
             RAISE EXCEPTION 'injected failure for this order'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse_one_order BEFORE INSERT ON orders \
             FOR EACH ROW EXECUTE FUNCTION refuse_one_order();"
        ),
    };
    service.execute_sql(&sql).await.unwrap();
}

async fn repair_inserts(service: &TestService, db: Db) {
    let sql = match db {
        Db::Sqlite => "DROP TRIGGER refuse_one_order;",
        Db::Postgres => {
            "DROP TRIGGER refuse_one_order ON orders; DROP FUNCTION refuse_one_order();"
        }
    };
    service.execute_sql(sql).await.unwrap();
}

/// A Minishop order placed and last changed at `at`.
fn order_at(id: u64, sku: &str, at: &str) -> Value {
    minishop::order(id, &format!("c{id}@example.com"), &[(sku, 1, "5.00")], at)
}

async fn a_transient_failure_fails_the_run_and_a_later_run_imports_the_order(db: Db) {
    let s = setup(db, json!({})).await;
    for id in 1..=3 {
        s.shop
            .put_order(order_at(id, "SYNC-1", "2026-03-01T10:00:00Z"));
    }
    break_insert_of(&s.service, db, "2").await;

    // The run asks from a time long before its own cursor: passing the page would
    // leave order 2 behind for good, since later runs ask only from their cursor.
    s.sync_now(json!({"since": "2026-02-01T00:00:00Z"})).await;
    let failing = s
        .until("the run to fail", |view| {
            view["sync"]["failures"].as_u64() >= Some(1)
        })
        .await;
    let error = failing["sync"]["last_error"].as_str().unwrap();
    assert!(error.contains("injected failure"), "{failing:#}");
    assert!(
        !s.external_ids().await.contains(&"2".to_owned()),
        "order 2 cannot be in while its insert fails"
    );
    // Trouble that may pass is not the order's problem.
    assert_eq!(s.problems("").await, Vec::<Value>::new());

    // The database recovers; a later run (retried with backoff) brings the order.
    repair_inserts(&s.service, db).await;
    s.wait_for_external_ids(&["1", "2", "3"]).await;
    let view = s
        .until("the sync to succeed again", |view| {
            view["sync"]["failures"] == 0 && view["sync"]["last_error"].is_null()
        })
        .await;
    assert!(view["sync"]["cursor"].is_string(), "{view:#}");
    s.service.stop().await;
}

async fn a_transient_failure_keeps_the_history_import_on_its_page(db: Db) {
    let s = setup(db, json!({})).await;
    // Two pages of 50; order 60 is on the second.
    for id in 1..=80 {
        s.shop
            .put_order(order_at(id, "HIST-1", "2025-05-01T10:00:00Z"));
    }
    break_insert_of(&s.service, db, "60").await;
    let (status, body) = s
        .post(
            &format!("/api/v1/shops/{}/import-history", s.shop_id),
            json!({"from": "2025-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let stuck = s
        .until("the second page to fail", |view| {
            view["sync"]["history"]["failures"].as_u64() >= Some(1)
        })
        .await;
    let history = &stuck["sync"]["history"];
    assert_eq!(history["state"], "running", "{history:#}");
    assert_eq!(
        history["pages"], 1,
        "the failing page is not passed: {history:#}"
    );
    assert!(
        history["error"]
            .as_str()
            .unwrap()
            .contains("injected failure"),
        "{history:#}"
    );

    repair_inserts(&s.service, db).await;
    let done = s
        .until("the history import to finish", |view| {
            view["sync"]["history"]["state"] == "done"
        })
        .await;
    assert_eq!(done["sync"]["history"]["pages"], 2, "{done:#}");
    assert!(done["sync"]["history"]["error"].is_null(), "{done:#}");
    assert_eq!(s.external_ids().await.len(), 80);
    s.service.stop().await;
}

async fn a_refused_order_is_a_problem_until_it_imports_or_is_dismissed(db: Db) {
    let s = setup(db, json!({})).await;
    let mut bad = order_at(11, "PROB-1", "2026-03-01T10:00:00Z");
    bad["currency"] = json!("EURO");
    let mut also_bad = order_at(12, "PROB-1", "2026-03-01T10:00:00Z");
    also_bad["currency"] = json!("EURO");
    s.shop
        .put_order(order_at(10, "PROB-1", "2026-03-01T10:00:00Z"));
    s.shop.put_order(bad.clone());
    s.shop.put_order(also_bad.clone());

    // The refused orders hold nothing back: the run succeeds with the good one.
    s.sync_and_wait(json!({"since": "2026-02-01T00:00:00Z"}))
        .await;
    assert_eq!(s.external_ids().await, ["10"]);
    let problems = s.problems("").await;
    assert_eq!(problems.len(), 2, "{problems:#?}");
    let first = &problems[0];
    assert_eq!(first["order_id"], "11");
    assert_eq!(first["attempts"], 1);
    assert_eq!(first["source"], "sync");
    assert!(
        first["reason"].as_str().unwrap().contains("currency"),
        "{first:#}"
    );
    assert!(first["first_seen_at"].is_string() && first["last_seen_at"].is_string());

    // Later runs ask only from their cursor, yet try the problems again.
    s.sync_and_wait(json!({})).await;
    s.sync_and_wait(json!({})).await;
    let eleven = s.problem("11", "").await.unwrap();
    assert!(eleven["attempts"].as_i64().unwrap() >= 3, "{eleven:#}");
    assert!(
        eleven["last_seen_at"] != eleven["first_seen_at"],
        "{eleven:#}"
    );

    // 12 is dismissed: no longer listed or tried.
    let path = format!("/api/v1/shops/{}/problems/12/dismiss", s.shop_id);
    let (status, body) = s.post(&path, json!({})).await;
    assert_eq!(status, 204, "{body}");
    let dismissed_attempts = s.problem("12", "?dismissed=true").await.unwrap()["attempts"].clone();
    assert!(s.problem("12", "").await.is_none());

    // 11 is fixed in the shop: the next run imports it and its problem is gone.
    bad["currency"] = json!("EUR");
    bad["updated_at"] = json!("2026-03-02T10:00:00Z");
    s.shop.put_order(bad);
    s.sync_and_wait(json!({})).await;
    assert_eq!(s.external_ids().await, ["10", "11"]);
    assert!(s.problem("11", "?dismissed=true").await.is_none());
    let twelve = s.problem("12", "?dismissed=true").await.unwrap();
    assert_eq!(twelve["attempts"], dismissed_attempts, "{twelve:#}");
    assert!(twelve["dismissed_at"].is_string());

    // Seen again unchanged (a listing from before it), it stays dismissed ...
    s.sync_and_wait(json!({"since": "2026-02-01T00:00:00Z"}))
        .await;
    let twelve = s.problem("12", "?dismissed=true").await.unwrap();
    assert_eq!(twelve["attempts"], dismissed_attempts, "{twelve:#}");
    assert!(s.problem("12", "").await.is_none());
    // ... until it changes in the shop: then it is a problem again.
    also_bad["updated_at"] = json!("2026-03-03T10:00:00Z");
    s.shop.put_order(also_bad);
    s.sync_and_wait(json!({"since": "2026-02-01T00:00:00Z"}))
        .await;
    let twelve = s.problem("12", "").await.expect("open again");
    assert!(twelve["dismissed_at"].is_null());

    let unknown = format!("/api/v1/shops/{}/problems/999/dismiss", s.shop_id);
    assert_eq!(s.post(&unknown, json!({})).await.0, 404);
    let metrics = s.metrics().await;
    assert!(
        metrics.contains("tovor_orders_refused_total{source=\"sync\"}"),
        "{metrics}"
    );
    s.service.stop().await;
}

async fn skipped_deliveries_say_why(db: Db) {
    let woo = FakeWoo::start().await.unwrap();
    let config = json!({
        "url": woo.url(),
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
    });
    let s = ShopSession::start(
        db,
        "woocommerce",
        config,
        // Every order placed now is from before it.
        json!({"import_from": "2099-01-01T00:00:00Z"}),
    )
    .await;
    let mug = woo.add_simple_product("MUG-1", "Mug", "9.90", Some(5));
    let old = woo.create_order(&OrderSpec::new().line(mug, None, 1))["id"]
        .as_u64()
        .unwrap();
    let status = woo
        .deliver(&s.webhook_url, &woo.delivery("order.created", old))
        .await
        .unwrap();
    assert_eq!(status, 200);
    // A deletion of an order tovor never imported.
    let status = woo
        .deliver(&s.webhook_url, &woo.delivery("order.deleted", 4242))
        .await
        .unwrap();
    assert_eq!(status, 200);

    let deliveries = s
        .until("both deliveries processed", || async {
            let list = s.deliveries().await;
            (list.len() == 2 && list.iter().all(|delivery| delivery["state"] == "done"))
                .then_some(list)
        })
        .await;
    // Newest first.
    assert_eq!(deliveries[0]["skipped"], "deleted", "{deliveries:#?}");
    assert_eq!(
        deliveries[1]["skipped"], "before_import_from",
        "{deliveries:#?}"
    );
    assert!(
        deliveries
            .iter()
            .all(|delivery| delivery["order_id"].is_null())
    );
    assert_eq!(s.order_count().await, 0);

    let metrics = s
        .service
        .http
        .get(s.service.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for reason in ["before_import_from", "deleted"] {
        let line = format!("tovor_orders_skipped_total{{reason=\"{reason}\",source=\"webhook\"}}");
        assert!(metrics.contains(&line), "{line} in {metrics}");
    }
    s.service.stop().await;
}
