//! Contract versions side by side: the example connector built on contract 0.1 (a
//! frozen copy, `tests/plugins/example-shop-v01`) and on 0.2 (`plugins/example-shop`)
//! loaded into one service, each importing orders from its own fake Minishop through
//! the same flows (webhook, sync now, stock push), on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tovor_tests::minishop::{self, Minishop, WEBHOOK_SECRET};
use tovor_tests::service::{Db, TestService, quick_workers};

const WAIT: Duration = Duration::from_secs(30);

tovor_tests::on_both_databases!(both_contract_versions_import_orders_through_the_service);
tovor_tests::on_both_databases!(
    a_shop_is_checked_and_set_up_when_added_and_taken_down_when_disabled
);

async fn get(service: &TestService, path: &str, token: &str) -> Value {
    let (status, body) = service
        .call(Method::GET, path, Some(token), None)
        .await
        .unwrap();
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

async fn both_contract_versions_import_orders_through_the_service(db: Db) {
    let plugins = [
        tovor_tests::example_shop().unwrap(),
        tovor_tests::example_shop_v01().unwrap(),
        tovor_tests::example_shop_v020(),
    ];
    let service = TestService::start_with_plugins(db, quick_workers("contracts"), &plugins)
        .await
        .unwrap();
    let token = service.company("Acme").await.unwrap();

    // What each loaded plugin says about itself: the contract version comes from the
    // component, a 0.2 connector's capabilities from its exports.
    let listed = get(&service, "/api/v1/plugins", &token).await;
    assert_eq!(listed["failures"], json!([]), "{listed}");
    let plugin = |id: &str| {
        listed["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|plugin| plugin["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} not listed: {listed}"))
    };
    assert_eq!(plugin("example-shop")["contract"], "0.2.1");
    assert_eq!(plugin("example-shop-020")["contract"], "0.2.0");
    assert_eq!(plugin("example-shop-v01")["contract"], "0.1.0");
    for id in ["example-shop", "example-shop-020"] {
        let capabilities = plugin(id)["capabilities"].clone();
        for capability in ["orders", "webhooks", "inventory", "connection"] {
            assert!(
                capabilities
                    .as_array()
                    .unwrap()
                    .contains(&json!(capability)),
                "{id}: {capabilities}"
            );
        }
    }

    // The same flow through each contract: 0.2.1, 0.2.0 (a component built before 0.2.1,
    // served by the same bindings) and 0.1.
    let mut shops = Vec::new();
    for (index, plugin) in ["example-shop", "example-shop-020", "example-shop-v01"]
        .into_iter()
        .enumerate()
    {
        // A company each: the helper gives every shop a warehouse "Main".
        let token = service.company(&format!("Shop {index}")).await.unwrap();
        let fake = Minishop::start().await.unwrap();
        let (shop_id, webhook_url) = service
            .add_shop(
                &token,
                plugin,
                &format!("Minishop {plugin}"),
                fake.config(),
                json!({"stock_mode": "on_hand"}),
            )
            .await
            .unwrap();
        // One order arrives by webhook, another only through "sync now".
        let base = 1000 * (index as u64 + 1);
        let pushed = minishop::order(
            base + 1,
            "ana@example.com",
            &[("MUG-1", 2, "9.90")],
            "2026-11-28T11:00:00Z",
        );
        fake.put_order(pushed.clone());
        let status = service
            .deliver(
                &webhook_url,
                "order.created",
                &format!("d-{base}"),
                &pushed,
                WEBHOOK_SECRET,
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "{plugin}");
        fake.put_order(minishop::order(
            base + 2,
            "bor@example.com",
            &[("MUG-1", 1, "9.90")],
            "2026-11-28T12:00:00Z",
        ));
        let (status, _) = service
            .call(
                Method::POST,
                &format!("/api/v1/shops/{shop_id}/sync"),
                Some(&token),
                Some(json!({"since": "2026-11-01T00:00:00Z"})),
            )
            .await
            .unwrap();
        assert_eq!(status, 202, "{plugin}");
        shops.push((plugin, token, shop_id, base, fake));
    }

    for (plugin, token, shop_id, base, _) in &shops {
        let found = service
            .eventually(WAIT, || async {
                let orders = get(
                    &service,
                    &format!("/api/v1/orders?shop_id={shop_id}"),
                    token,
                )
                .await;
                let ids: Vec<String> = orders
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|order| order["external_id"].as_str().map(str::to_owned))
                    .collect();
                (ids.len() >= 2).then_some(ids)
            })
            .await
            .unwrap_or_else(|| panic!("{plugin}: orders did not arrive"));
        for id in [base + 1, base + 2] {
            assert!(found.contains(&id.to_string()), "{plugin}: {found:?}");
        }
        let view = get(&service, &format!("/api/v1/shops/{shop_id}"), token).await;
        assert!(view["sync"]["last_error"].is_null(), "{plugin}: {view}");
    }

    // Goods arrive: both shops hear the new figure, whatever contract their connector
    // speaks (0.1 as a whole number, 0.2 as a decimal). Each shop sells from its own
    // warehouse.
    for (plugin, token, shop_id, _, fake) in &shops {
        let view = get(&service, &format!("/api/v1/shops/{shop_id}"), token).await;
        let receipt = json!({
            "warehouse_id": view["warehouse_id"],
            "lines": [{"sku": "MUG-1", "quantity": "10"}],
        });
        let (status, body) = service
            .call(
                Method::POST,
                "/api/v1/stock/receipts",
                Some(token),
                Some(receipt),
            )
            .await
            .unwrap();
        assert_eq!(status, 201, "{plugin}: {body}");
        assert!(
            fake.wait_for_stock("MUG-1", 10, WAIT).await,
            "{plugin}: updates {:?}",
            fake.updates()
        );
    }
    service.stop().await;
}

tovor_tests::on_both_databases!(connector_state_is_kept_per_account_across_restarts);

/// A platform whose refresh tokens work once: each exchange answers a new access token
/// and the next refresh token, and forgets the one used.
struct RotatingTokens {
    current: std::sync::Mutex<String>,
    exchanges: std::sync::atomic::AtomicU32,
}

impl wiremock::Respond for RotatingTokens {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let mut current = self.current.lock().unwrap();
        if !body.contains(&format!("refresh_token={}", *current)) {
            return wiremock::ResponseTemplate::new(400)
                .set_body_json(json!({"error": "invalid_grant"}));
        }
        let n = self
            .exchanges
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        *current = format!("refresh-{n}");
        wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "access_token": format!("access-{n}"),
            "refresh_token": format!("refresh-{n}"),
            "token_type": "bearer",
            "expires_in": 3600,
        }))
    }
}

async fn connector_state_is_kept_per_account_across_restarts(db: Db) {
    use tovor_runtime::{CallContext, Runtime, RuntimeOptions};
    use tovor_server::Sealer;
    use tovor_server::connector_state::DbStateStore;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let platform = MockServer::start().await;
    let tokens = std::sync::Arc::new(RotatingTokens {
        current: std::sync::Mutex::new("given-at-connect".into()),
        exchanges: Default::default(),
    });
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ArcResponder(tokens.clone()))
        .mount(&platform)
        .await;
    Mock::given(method("GET"))
        .and(path("/orders"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&platform)
        .await;

    let database = tovor_tests::service::TestDatabase::new(db).await.unwrap();
    let store = tovor_store::Store::open(&database.url).await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    let acme = store.create_company("Acme", now).await.unwrap();
    let other = store.create_company("Other", now).await.unwrap();
    let plugin = tovor_tests::oauth_probe().unwrap();
    let config: std::collections::BTreeMap<String, String> = [
        ("api_base".to_owned(), platform.uri()),
        ("refresh_token".to_owned(), "given-at-connect".to_owned()),
    ]
    .into();
    let runtime = || async {
        let runtime = Runtime::new(RuntimeOptions {
            allow_private_egress: true,
            ..RuntimeOptions::default()
        })
        .unwrap();
        runtime.set_state_store(std::sync::Arc::new(DbStateStore {
            store: store.clone(),
            sealer: Sealer::from_key([7; 32]),
        }));
        runtime.load_plugin_dir(&plugin.dir).await.unwrap();
        runtime
    };
    let list = |runtime: &Runtime, company: tovor_domain::CompanyId, account: &str| {
        let context =
            CallContext::new(account, config.clone()).with_state(company.0.to_string(), account);
        let client = runtime.shop("oauth-probe", context).unwrap();
        async move { client.list_orders(now, None).await }
    };

    // Three runs, each on a fresh runtime as after a restart: every one refreshes with
    // the token the previous one was handed, which only kept state can know.
    for run in 1..=3 {
        let runtime = runtime().await;
        list(&runtime, acme, "shop-1")
            .await
            .unwrap_or_else(|error| panic!("run {run}: {error}"));
    }
    assert_eq!(
        tokens.exchanges.load(std::sync::atomic::Ordering::SeqCst),
        3
    );

    // Another account, and the same account name in another company, have no state: they
    // start from the configured token, which the platform no longer takes.
    let runtime = runtime().await;
    for (company, account) in [(acme, "shop-2"), (other, "shop-1")] {
        let refused = list(&runtime, company, account).await.unwrap_err();
        assert!(refused.to_string().contains("400"), "{refused}");
    }

    // Kept sealed: the database never holds the token in the clear.
    let kept = store
        .company(acme)
        .connector_state(
            tovor_store::connector_state::StateAccount {
                account: "shop-1",
                plugin_id: "oauth-probe",
            },
            "oauth.tokens",
        )
        .await
        .unwrap()
        .expect("the connector kept its tokens");
    assert!(kept.sealed);
    let opened = Sealer::from_key([7; 32]).open_bytes(&kept.value).unwrap();
    assert!(String::from_utf8(opened).unwrap().contains("refresh-3"));
    assert!(Sealer::from_key([8; 32]).open_bytes(&kept.value).is_err());
}

tovor_tests::on_both_databases!(concurrent_swaps_hand_out_every_number_once);

/// The `state.compare-and-swap` import as the service keeps it: of concurrent swaps on
/// one key exactly one wins each round, so counters handed out by read-and-swap never
/// repeat a number; sealed values compare by what they hold.
async fn concurrent_swaps_hand_out_every_number_once(db: Db) {
    use std::sync::Arc;
    use tovor_runtime::connector_state::{AccountState, StateScope};
    use tovor_server::Sealer;
    use tovor_server::connector_state::DbStateStore;

    let database = tovor_tests::service::TestDatabase::new(db).await.unwrap();
    let store = tovor_store::Store::open(&database.url).await.unwrap();
    let company = store
        .create_company("Acme", time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    let state = AccountState::new(
        Arc::new(DbStateStore {
            store: store.clone(),
            sealer: Sealer::from_key([7; 32]),
        }),
        StateScope {
            owner: company.0.to_string(),
            account: "carrier-1".into(),
            plugin: "posta-slovenije".into(),
        },
    );
    let take = |state: AccountState| async move {
        loop {
            let current = state.get("next").await.unwrap();
            let number: u64 = current.as_deref().map_or(0, |bytes| {
                std::str::from_utf8(bytes).unwrap().parse().unwrap()
            });
            let next = (number + 1).to_string().into_bytes();
            if state
                .compare_and_swap("next", current, next, false)
                .await
                .unwrap()
            {
                return number;
            }
        }
    };
    let tasks: Vec<_> = (0..20).map(|_| tokio::spawn(take(state.clone()))).collect();
    let mut taken = Vec::new();
    for task in tasks {
        taken.push(task.await.unwrap());
    }
    taken.sort_unstable();
    assert_eq!(taken, (0..20).collect::<Vec<u64>>());

    // Sealed: compared by the value, not by its (randomly nonced) ciphertext.
    assert!(
        state
            .compare_and_swap("token", None, b"one".to_vec(), true)
            .await
            .unwrap()
    );
    assert!(
        !state
            .compare_and_swap("token", Some(b"two".to_vec()), b"three".to_vec(), true)
            .await
            .unwrap()
    );
    assert!(
        state
            .compare_and_swap("token", Some(b"one".to_vec()), b"two".to_vec(), true)
            .await
            .unwrap()
    );
    assert_eq!(
        state.get("token").await.unwrap().as_deref(),
        Some(&b"two"[..])
    );
    // A first write loses to an existing value.
    assert!(
        !state
            .compare_and_swap("token", None, b"x".to_vec(), true)
            .await
            .unwrap()
    );
}

/// Shares one responder (and what it counts) with the test.
struct ArcResponder(std::sync::Arc<RotatingTokens>);

impl wiremock::Respond for ArcResponder {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        self.0.respond(request)
    }
}

/// The component says which contract it speaks; a manifest that says otherwise, or lists
/// capabilities a 0.2 component's exports already tell, is refused with both named.
#[tokio::test]
async fn a_manifest_contradicting_its_component_is_refused() {
    use tovor_runtime::{Runtime, RuntimeOptions};

    let built = tovor_tests::example_shop().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(RuntimeOptions::default()).unwrap();

    let wrong_version = tovor_tests::plugin_folder(dir.path(), "wrong-version", &built, |m| {
        tovor_tests::replace(m, "contract = \"0.2.1\"", "contract = \"0.1.0\"")
    })
    .unwrap();
    let error = runtime.load_plugin_dir(&wrong_version).await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("says contract 0.1.0") && message.contains("built against 0.2.1"),
        "{message}"
    );

    let listed = tovor_tests::plugin_folder(dir.path(), "listed", &built, |m| {
        tovor_tests::replace(
            m,
            "contract = \"0.2.1\"",
            "contract = \"0.2.1\"\ncapabilities = [\"webhooks\"]",
        )
    })
    .unwrap();
    let error = runtime.load_plugin_dir(&listed).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("capabilities are its component's exports"),
        "{error}"
    );

    // Without a contract line the component's own version is taken.
    let unstated = tovor_tests::plugin_folder(dir.path(), "unstated", &built, |m| {
        tovor_tests::replace(m, "contract = \"0.2.1\"\n", "")
    })
    .unwrap();
    let loaded = runtime.load_plugin_dir(&unstated).await.unwrap();
    assert_eq!(loaded.contract.to_string(), "0.2.1");
}

async fn call(
    service: &TestService,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    service.call(method, path, Some(token), body).await.unwrap()
}

/// "Add e-store" checks the credentials through a 0.2 connector's `connection` before
/// saving anything (a 422 naming the field to fix), sets the webhooks up (Minishop has no
/// API for it: the user is told what to paste), and disabling the shop takes its intake
/// down until it is enabled again. A 0.1 connector cannot check: the shop is saved, and
/// the user is told to paste the URL.
async fn a_shop_is_checked_and_set_up_when_added_and_taken_down_when_disabled(db: Db) {
    let plugins = [
        tovor_tests::example_shop().unwrap(),
        tovor_tests::example_shop_v01().unwrap(),
    ];
    let service = TestService::start_with_plugins(db, quick_workers("setup"), &plugins)
        .await
        .unwrap();
    let token = service.company("Acme").await.unwrap();
    let fake = Minishop::start().await.unwrap();
    let (status, warehouse) = call(
        &service,
        Method::POST,
        "/api/v1/warehouses",
        &token,
        Some(json!({"name": "Main"})),
    )
    .await;
    assert_eq!(status, 201, "{warehouse}");
    let shop_body = |plugin: &str, config: Value| {
        json!({"plugin": plugin, "name": "Minishop", "config": config,
               "warehouse_id": warehouse["id"]})
    };

    // A wrong token: refused with Minishop's reason and the field, nothing saved.
    let mut wrong = fake.config();
    wrong["api_token"] = json!("not-the-token");
    let (status, refused) = call(
        &service,
        Method::POST,
        "/api/v1/shops",
        &token,
        Some(shop_body("example-shop", wrong.clone())),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "connection_failed", "{refused}");
    assert_eq!(refused["error"]["field"], "config.api_token", "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("refused the API token"), "{message}");
    let (_, shops) = call(&service, Method::GET, "/api/v1/shops", &token, None).await;
    assert_eq!(shops, json!([]));

    // The right one: saved, with what the platform calls the account and the manual
    // webhook set-up that names the shop's own URL.
    let (status, shop) = call(
        &service,
        Method::POST,
        "/api/v1/shops",
        &token,
        Some(shop_body("example-shop", fake.config())),
    )
    .await;
    assert_eq!(status, 201, "{shop}");
    assert!(shop["connection"]["account"].is_string(), "{shop}");
    let webhook_url = shop["webhook_url"].as_str().unwrap().to_owned();
    assert_eq!(shop["enabled"], true);
    assert_eq!(shop["webhook_setup"]["state"], "manual", "{shop}");
    assert_eq!(shop["webhook_setup"]["url"], webhook_url.as_str());
    let instructions = shop["webhook_setup"]["message"].as_str().unwrap();
    assert!(instructions.contains(&webhook_url), "{instructions}");
    let shop_path = format!("/api/v1/shops/{}", shop["id"]);

    // Editing the config is checked the same way; a refused edit changes nothing.
    let (status, refused) = call(
        &service,
        Method::PATCH,
        &shop_path,
        &token,
        Some(json!({"config": {"api_token": "still-wrong"}})),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["field"], "config.api_token", "{refused}");

    // Disabled: the webhook URL answers as if there were no shop; enabled: it takes
    // deliveries again and the set-up is back.
    let order = minishop::order(
        7001,
        "ana@example.com",
        &[("MUG-1", 1, "9.90")],
        "2026-11-28T11:00:00Z",
    );
    fake.put_order(order.clone());
    let (status, disabled) = call(
        &service,
        Method::PATCH,
        &shop_path,
        &token,
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, 200, "{disabled}");
    assert_eq!(disabled["enabled"], false);
    assert_eq!(disabled["webhook_setup"], Value::Null, "{disabled}");
    let status = service
        .deliver(
            &webhook_url,
            "order.created",
            "d-off",
            &order,
            WEBHOOK_SECRET,
        )
        .await
        .unwrap();
    assert_eq!(status, 404, "a disabled shop takes no deliveries");
    let (status, enabled) = call(
        &service,
        Method::PATCH,
        &shop_path,
        &token,
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, 200, "{enabled}");
    assert_eq!(enabled["webhook_setup"]["state"], "manual", "{enabled}");
    let status = service
        .deliver(
            &webhook_url,
            "order.created",
            "d-on",
            &order,
            WEBHOOK_SECRET,
        )
        .await
        .unwrap();
    assert_eq!(status, 200);

    // Contract 0.1 has no connection check: a wrong token is saved as given (and fails
    // later, in the sync); the user is told to paste the URL.
    let (status, old) = call(
        &service,
        Method::POST,
        "/api/v1/shops",
        &token,
        Some(shop_body("example-shop-v01", wrong)),
    )
    .await;
    assert_eq!(status, 201, "{old}");
    assert!(old.get("connection").is_none(), "{old}");
    assert_eq!(old["webhook_setup"]["state"], "manual", "{old}");
    assert!(
        old["webhook_setup"]["message"]
            .as_str()
            .unwrap()
            .contains(old["webhook_url"].as_str().unwrap()),
        "{old}"
    );
}
