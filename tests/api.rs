//! The API's one error language, end to end over HTTP on SQLite and PostgreSQL: every
//! refused body, path and query answers the JSON error naming the field; a database
//! failure answers only a request id; every answer carries `x-request-id`; decimals and
//! config values come as numbers too; customers by id and orders by the shop's number.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use tovor_tests::service::{Db, TestService, quick_workers};

tovor_tests::on_both_databases!(
    malformed_requests_get_the_json_error_naming_the_field,
    control_characters_are_refused_before_the_database,
    a_database_failure_answers_only_the_request_id,
    decimals_and_config_values_may_be_json_numbers,
    customers_by_id_and_orders_by_the_shops_number,
    the_openapi_document_says_what_the_routes_take,
);

/// What one request answered: status, `x-request-id`, content type, JSON body.
struct Answer {
    status: u16,
    request_id: String,
    content_type: String,
    body: Value,
}

impl Answer {
    /// Asserts the JSON error: status, code and the field it blames.
    fn refused(&self, status: u16, code: &str, field: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.body);
        assert!(
            self.content_type.starts_with("application/json"),
            "{} answered {:?}",
            self.status,
            self.content_type
        );
        assert_eq!(self.body["error"]["code"], code, "{}", self.body);
        assert_eq!(
            self.body["error"]["field"].as_str(),
            field,
            "field of {}",
            self.body
        );
        assert_eq!(self.body["error"]["request_id"], self.request_id.as_str());
    }
}

async fn send(
    service: &TestService,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Option<Vec<u8>>,
) -> Answer {
    let mut request = service.http.request(method, service.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let request_id = header("x-request-id");
    let content_type = header("content-type");
    assert!(!request_id.is_empty(), "{status} without x-request-id");
    let bytes = response.bytes().await.unwrap();
    Answer {
        status,
        request_id,
        content_type,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

async fn json(
    service: &TestService,
    method: Method,
    path: &str,
    token: &str,
    body: &str,
) -> Answer {
    send(
        service,
        method,
        path,
        Some(token),
        Some("application/json"),
        Some(body.as_bytes().to_vec()),
    )
    .await
}

/// A warehouse "Main" and a custom-platform shop selling from it; returns the shop's id.
async fn custom_shop(service: &TestService, token: &str) -> i64 {
    let warehouse = json(
        service,
        Method::POST,
        "/api/v1/warehouses",
        token,
        r#"{"name": "Main"}"#,
    )
    .await;
    assert_eq!(warehouse.status, 201, "{}", warehouse.body);
    let shop = json(
        service,
        Method::POST,
        "/api/v1/shops",
        token,
        &json!({"name": "Custom", "warehouse_id": warehouse.body["id"]}).to_string(),
    )
    .await;
    assert_eq!(shop.status, 201, "{}", shop.body);
    shop.body["id"].as_i64().unwrap_or_default()
}

async fn get(service: &TestService, path: &str, token: &str) -> Answer {
    send(service, Method::GET, path, Some(token), None, None).await
}

async fn malformed_requests_get_the_json_error_naming_the_field(db: Db) {
    let service = TestService::start(db).await.unwrap();
    let token = service.company("Acme").await.unwrap();
    let receipts = "/api/v1/stock/receipts";

    json(
        &service,
        Method::POST,
        "/api/v1/warehouses",
        &token,
        r#"{"name": "#,
    )
    .await
    .refused(400, "malformed_json", None);
    // Wrong type, missing field, unknown enum value, unknown field: each names its path.
    json(
        &service,
        Method::POST,
        receipts,
        &token,
        r#"{"warehouse_id": 1, "lines": [{"sku": "A", "quantity": true}]}"#,
    )
    .await
    .refused(400, "bad_request", Some("lines[0].quantity"));
    json(
        &service,
        Method::POST,
        receipts,
        &token,
        r#"{"warehouse_id": 1, "lines": [{"sku": "A", "quantity": "1"}, {"quantity": "2"}]}"#,
    )
    .await
    .refused(400, "bad_request", Some("lines[1].sku"));
    json(&service, Method::POST, receipts, &token, r#"{"lines": []}"#)
        .await
        .refused(400, "bad_request", Some("warehouse_id"));
    json(
        &service,
        Method::POST,
        receipts,
        &token,
        r#"{"warehouse_id": 1, "kind": "gift", "lines": [{"sku": "A", "quantity": "1"}]}"#,
    )
    .await
    .refused(400, "bad_request", Some("kind"));
    json(
        &service,
        Method::POST,
        "/api/v1/shops",
        &token,
        r#"{"name": "S", "warehouse_id": 1, "stock_mod": "available"}"#,
    )
    .await
    .refused(400, "bad_request", Some("stock_mod"));

    // The custom platform's order: refused as an invalid order, naming the field.
    let shop = custom_shop(&service, &token).await;
    let orders = format!("/api/v1/shops/{shop}/orders");
    let mut order = normalized_order("1", "1042");
    order["lines"][0]["quantity"] = json!("three");
    json(&service, Method::POST, &orders, &token, &order.to_string())
        .await
        .refused(422, "invalid_order", Some("lines[0].quantity"));
    let mut order = normalized_order("1", "1042");
    order["status"] = json!("shipped");
    json(&service, Method::POST, &orders, &token, &order.to_string())
        .await
        .refused(422, "invalid_order", Some("status"));

    // Oversized bodies: 413 with the JSON error, on the API and on the webhook intake.
    let huge = format!(r#"{{"name": "{}"}}"#, "x".repeat(300 * 1024));
    json(&service, Method::POST, "/api/v1/warehouses", &token, &huge)
        .await
        .refused(413, "payload_too_large", None);
    send(
        &service,
        Method::POST,
        "/hooks/abc",
        None,
        Some("application/json"),
        Some(huge.into_bytes()),
    )
    .await
    .refused(413, "payload_too_large", None);

    // Content type: wrong or missing is 415.
    let body = br#"{"name": "Main"}"#.to_vec();
    send(
        &service,
        Method::POST,
        "/api/v1/warehouses",
        Some(&token),
        Some("text/plain"),
        Some(body.clone()),
    )
    .await
    .refused(415, "unsupported_media_type", None);
    send(
        &service,
        Method::POST,
        "/api/v1/warehouses",
        Some(&token),
        None,
        Some(body),
    )
    .await
    .refused(415, "unsupported_media_type", None);

    // Path and query parameters that do not parse.
    get(&service, "/api/v1/orders/abc", &token)
        .await
        .refused(400, "bad_request", Some("id"));
    get(&service, "/api/v1/shops/1/deliveries/x/retry", &token)
        .await
        .refused(405, "method_not_allowed", None);
    get(&service, "/api/v1/orders?limit=-1", &token)
        .await
        .refused(400, "bad_request", Some("limit"));
    get(&service, "/api/v1/orders?limit=501", &token)
        .await
        .refused(400, "bad_request", Some("limit"));
    get(&service, "/api/v1/orders?status=lost", &token)
        .await
        .refused(400, "bad_request", Some("status"));
    get(&service, "/api/v1/no-such-thing", &token)
        .await
        .refused(404, "not_found", None);
    send(
        &service,
        Method::GET,
        "/api/v1/warehouses",
        None,
        None,
        None,
    )
    .await
    .refused(401, "unauthorized", None);

    // Success carries the request id too, and a client's own id is kept.
    let ok = get(&service, "/api/v1/warehouses", &token).await;
    assert_eq!(ok.status, 200);
    let own = service
        .http
        .get(service.url("/healthz"))
        .header("x-request-id", "ci-run-7")
        .send()
        .await
        .unwrap();
    assert_eq!(own.headers()["x-request-id"], "ci-run-7");
    service.stop().await;
}

async fn control_characters_are_refused_before_the_database(db: Db) {
    let service = TestService::start(db).await.unwrap();
    let token = service.company("Acme").await.unwrap();
    // On PostgreSQL each of these was a 500 carrying the database's message.
    json(
        &service,
        Method::POST,
        "/api/v1/items",
        &token,
        r#"{"code": "MUG\u0000", "name": "Mug", "vat_rate": "22", "price": "1"}"#,
    )
    .await
    .refused(400, "invalid_text", Some("code"));
    json(
        &service,
        Method::POST,
        "/api/v1/stock/receipts",
        &token,
        r#"{"warehouse_id": 1, "lines": [{"sku": "A\u0000", "quantity": "1"}]}"#,
    )
    .await
    .refused(400, "invalid_text", Some("lines[0].sku"));
    let shop = custom_shop(&service, &token).await;
    let orders = format!("/api/v1/shops/{shop}/orders");
    let mut order = normalized_order("1", "1042");
    order["shipping"] = json!({"name": "Bo", "line1": "Main street 1\u{0}", "city": "Ljubljana"});
    json(&service, Method::POST, &orders, &token, &order.to_string())
        .await
        .refused(400, "invalid_text", Some("shipping.line1"));
    get(&service, "/api/v1/stock?sku=A%00", &token)
        .await
        .refused(400, "invalid_text", Some("sku"));
    json(
        &service,
        Method::PUT,
        &format!("/api/v1/shops/{shop}/payment-methods/cod%00"),
        &token,
        r#"{"payment_method_id": 1}"#,
    )
    .await
    .refused(400, "invalid_text", Some("code"));
    send(
        &service,
        Method::POST,
        "/hooks/key%00",
        None,
        Some("application/json"),
        Some(b"{}".to_vec()),
    )
    .await
    .refused(400, "invalid_text", Some("key"));
    // Tabs and line breaks are text; nothing above was stored.
    let item = json(
        &service,
        Method::POST,
        "/api/v1/items",
        &token,
        r#"{"code": "MUG", "name": "Mug\twith\nlines", "vat_rate": "22", "price": "1"}"#,
    )
    .await;
    assert_eq!(item.status, 201, "{}", item.body);
    let items = get(&service, "/api/v1/items", &token).await;
    assert_eq!(items.body.as_array().unwrap().len(), 1, "{}", items.body);
    service.stop().await;
}

/// Every log line the tests' service writes, to look for one request's lines.
fn captured_log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("info")
            .with_ansi(false)
            .with_writer(move || LogWriter(sink.clone()))
            .try_init();
        log
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn a_database_failure_answers_only_the_request_id(db: Db) {
    let log = captured_log();
    let service = TestService::start(db).await.unwrap();
    let token = service.company("Acme").await.unwrap();
    // Take the table away under the running service: its next read fails inside.
    let rename = "ALTER TABLE warehouses RENAME TO warehouses_gone";
    service.execute_sql(rename).await.unwrap();
    let failed = get(&service, "/api/v1/warehouses", &token).await;
    failed.refused(500, "internal", None);
    let message = failed.body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&failed.request_id), "{message}");
    for leaked in ["warehouses", "relation", "table", "sql", "database"] {
        assert!(
            !failed.body.to_string().to_lowercase().contains(leaked),
            "the answer shows {leaked:?}: {}",
            failed.body
        );
    }
    // The log has the database's message under the same request id.
    let text = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    let line = text
        .lines()
        .find(|line| line.contains(&failed.request_id) && line.contains("request failed"))
        .unwrap_or_else(|| panic!("no log line for {}:\n{text}", failed.request_id));
    assert!(
        line.contains("no such table") || line.contains("does not exist"),
        "the log line lacks the database's message: {line}"
    );
    service.stop().await;
}

async fn decimals_and_config_values_may_be_json_numbers(db: Db) {
    let plugins = [
        tovor_tests::example_shop().unwrap(),
        tovor_tests::connector("gls").unwrap(),
    ];
    let service = TestService::start_with_plugins(db, quick_workers("api-numbers"), &plugins)
        .await
        .unwrap();
    let token = service.company("Acme").await.unwrap();
    let warehouse = json(
        &service,
        Method::POST,
        "/api/v1/warehouses",
        &token,
        r#"{"name": "Main"}"#,
    )
    .await;
    let item = json(
        &service,
        Method::POST,
        "/api/v1/items",
        &token,
        r#"{"code": "MUG", "name": "Mug", "vat_rate": 22, "price": 4.99}"#,
    )
    .await;
    assert_eq!(item.status, 201, "{}", item.body);
    assert_eq!(
        (item.body["vat_rate"].clone(), item.body["price"].clone()),
        (json!("22"), json!("4.99"))
    );
    let received = json(
        &service,
        Method::POST,
        "/api/v1/stock/receipts",
        &token,
        &json!({"warehouse_id": warehouse.body["id"], "lines": [{"sku": "MUG", "quantity": 10}]})
            .to_string(),
    )
    .await;
    assert_eq!(received.status, 201, "{}", received.body);
    assert_eq!(received.body[0]["on_hand"], "10");

    // Integer config fields take numbers; a boolean is still no integer.
    let carrier = |client_number: Value| {
        json!({
            "plugin": "gls",
            "name": "GLS",
            "config": {"username": "u", "password": "p", "client_number": client_number,
                       "country": "SI", "request_timeout_ms": 5000},
            "sender": {"name": "Shop", "street": "Dunajska cesta", "house_number": "5",
                       "city": "Ljubljana", "postal_code": "1000", "country": "SI"},
        })
        .to_string()
    };
    let created = json(
        &service,
        Method::POST,
        "/api/v1/carriers",
        &token,
        &carrier(json!(12345)),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["config"]["client_number"], "12345");
    assert_eq!(created.body["config"]["request_timeout_ms"], "5000");
    json(
        &service,
        Method::POST,
        "/api/v1/carriers",
        &token,
        &carrier(json!(true)),
    )
    .await
    .refused(400, "bad_request", Some("config.client_number"));
    json(
        &service,
        Method::POST,
        "/api/v1/carriers",
        &token,
        &carrier(json!([1])),
    )
    .await
    .refused(400, "bad_request", Some("config.client_number"));
    service.stop().await;
}

fn normalized_order(id: &str, number: &str) -> Value {
    json!({
        "id": id,
        "number": number,
        "status": "processing",
        "payment_status": "paid",
        "currency": "EUR",
        "prices_include_tax": false,
        "created_at": "2026-11-28T09:00:00Z",
        "modified_at": "2026-11-28T09:00:00Z",
        "customer": {"email": format!("buyer{id}@example.com"), "first_name": "Bo", "last_name": "Buyer"},
        "lines": [{"sku": "TEA", "name": "Tea", "quantity": 3, "unit_price": 4,
                   "tax_rate": 9.5, "tax_amount": "1.14", "total": "12.00"}],
        "tax_total": 1.14,
        "total": "13.14"
    })
}

async fn customers_by_id_and_orders_by_the_shops_number(db: Db) {
    let service = TestService::start(db).await.unwrap();
    let token = service.company("Acme").await.unwrap();
    let shop = custom_shop(&service, &token).await;
    let orders = format!("/api/v1/shops/{shop}/orders");
    for (id, number) in [("501", "1042"), ("502", "1043")] {
        // Quantities, prices and rates as JSON numbers: the order is the same.
        let pushed = json(
            &service,
            Method::POST,
            &orders,
            &token,
            &normalized_order(id, number).to_string(),
        )
        .await;
        assert_eq!(pushed.status, 201, "{}", pushed.body);
    }
    let found = get(&service, "/api/v1/orders?shop_number=1042", &token).await;
    let list = found.body.as_array().unwrap();
    assert_eq!(list.len(), 1, "{}", found.body);
    assert_eq!(
        (
            list[0]["external_number"].clone(),
            list[0]["external_id"].clone()
        ),
        (json!("1042"), json!("501"))
    );
    let by_id = get(&service, "/api/v1/orders?shop_number=502", &token).await;
    assert_eq!(by_id.body[0]["external_number"], "1043", "{}", by_id.body);
    let none = get(&service, "/api/v1/orders?shop_number=9999", &token).await;
    assert_eq!(none.body, json!([]));

    let order = get(
        &service,
        &format!("/api/v1/orders/{}", list[0]["id"]),
        &token,
    )
    .await;
    assert_eq!(order.body["lines"][0]["quantity"], "3");
    let customer_id = order.body["customer_id"].as_i64().unwrap();
    let customer = get(
        &service,
        &format!("/api/v1/customers/{customer_id}"),
        &token,
    )
    .await;
    assert_eq!(customer.status, 200, "{}", customer.body);
    assert_eq!(customer.body["email"], "buyer501@example.com");
    get(&service, "/api/v1/customers/999999", &token)
        .await
        .refused(404, "not_found", None);
    // Another company does not see it.
    let other = service.company("Other").await.unwrap();
    get(
        &service,
        &format!("/api/v1/customers/{customer_id}"),
        &other,
    )
    .await
    .refused(404, "not_found", None);
    service.stop().await;
}

async fn the_openapi_document_says_what_the_routes_take(db: Db) {
    let service = TestService::start(db).await.unwrap();
    let token = service.company("Acme").await.unwrap();
    let document = send(
        &service,
        Method::GET,
        "/api/v1/openapi.json",
        None,
        None,
        None,
    )
    .await
    .body;

    // Listing filters are query parameters, left out rather than null, with their bounds
    // and fixed words.
    let parameters = &document["paths"]["/api/v1/orders"]["get"]["parameters"];
    let parameter = |name: &str| {
        parameters
            .as_array()
            .unwrap()
            .iter()
            .find(|parameter| parameter["name"] == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
            .clone()
    };
    let limit = parameter("limit");
    assert_eq!(limit["in"], "query");
    assert_eq!(limit["required"], json!(false), "{limit}");
    assert_eq!(limit["schema"]["type"], "integer");
    assert_eq!(limit["schema"]["minimum"], 1);
    assert_eq!(limit["schema"]["maximum"], 500);
    let statuses = parameter("status")["schema"]["enum"].clone();
    assert!(
        statuses.as_array().unwrap().contains(&json!("on_hold")),
        "{statuses}"
    );

    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["WarehouseInput"]["properties"]["name"]["minLength"],
        1
    );
    assert_eq!(
        schemas["WarehouseInput"]["additionalProperties"],
        json!(false)
    );
    assert_eq!(
        schemas["LabelBatch"]["properties"]["shipment_ids"]["minItems"],
        1
    );
    let tell_shop = &schemas["CarrierInput"]["properties"]["tell_shop"]["enum"];
    assert_eq!(tell_shop, &json!(["off", "created", "delivered", null]));
    // The order's own shipment route takes no order ids.
    let own = &document["paths"]["/api/v1/orders/{id}/shipments"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"]["$ref"];
    assert_eq!(own, "#/components/schemas/OrderShipmentOptions");
    assert!(schemas["OrderShipmentOptions"]["properties"]["order_ids"].is_null());
    // No text may carry a control character, which the document says.
    let pattern = schemas["ItemLinkInput"]["properties"]["product_id"]["pattern"]
        .as_str()
        .unwrap();
    assert!(pattern.contains("\\u0000-\\u0008"), "{pattern}");

    // An unknown field is refused (it was silently dropped before), naming it.
    json(
        &service,
        Method::POST,
        "/api/v1/warehouses",
        &token,
        r#"{"name": "Main", "adress": "Street 1"}"#,
    )
    .await
    .refused(400, "bad_request", Some("adress"));
    // A JSON null where the body is optional is the same as no body.
    let answer = json(
        &service,
        Method::POST,
        "/api/v1/orders/999999/invoices",
        &token,
        "null",
    )
    .await;
    answer.refused(404, "not_found", None);
}
