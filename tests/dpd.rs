//! DPD end to end: orders from the fake WooCommerce, shipped with the real DPD connector
//! (Wasm) against the fake DPD EasyShip of `tovor-fakes`, through the service's API and
//! its shipping worker, on SQLite and PostgreSQL.
//!
//! An order paid by a method mapped to cash on delivery → a DPD Home COD parcel with the
//! order's amount and number → a label printed once and then served from the store →
//! the day's hand-over with DPD's manifest → tracking to delivered; a cancel after
//! printing; a timed-out import that waits for a person and is never repeated; and the
//! EasyShip credentials, which travel in every URL, in no log line, API answer or stored
//! error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};
use tovor_fakes::dpd::{self, FakeDpd, PASSWORD, TRACKING_SECRET, USERNAME};
use tovor_fakes::woocommerce::{
    AddressSpec, CONSUMER_KEY, CONSUMER_SECRET, FakeWoo, OrderSpec, WEBHOOK_SECRET,
};
use tovor_tests::service::{Db, ShopSession, quick_workers};

tovor_tests::on_both_databases!(
    dpd_cash_on_delivery_order_to_handover_and_delivered_parcel,
    dpd_timeout_waits_for_a_person_and_never_repeats,
    dpd_credentials_stay_out_of_logs_answers_and_stored_errors,
);

/// Every log line of this test binary, at TRACE, captured from the start of the first
/// test (the service runs in-process, so its lines land here).
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = SharedWriter(buffer.clone());
        // Everything at TRACE but the Wasm compiler's internals (its IR dumps say
        // nothing about requests and would drown the rest).
        let filter = tracing_subscriber::EnvFilter::new(
            "trace,cranelift_codegen=info,cranelift_frontend=info,cranelift_entity=info,\
             cranelift_bforest=info,regalloc2=info,wasmtime_cranelift=info,\
             wasmtime_environ=info,wasmparser=info",
        );
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("this test binary installs the only log subscriber");
        buffer
    })
    .clone()
}

#[derive(Clone)]
struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Dpd {
    s: ShopSession,
    woo: FakeWoo,
    dpd: FakeDpd,
    carrier: i64,
}

/// A company selling through WooCommerce whose "cod" payment method is mapped to a
/// cash-on-delivery method, with a DPD (EasyShip Slovenia) carrier connection.
async fn setup(db: Db) -> Dpd {
    captured_logs();
    let woo = FakeWoo::start().await.unwrap();
    let fake = FakeDpd::start().await.unwrap();
    let mut workers = quick_workers(&format!("dpd-{}", std::process::id()));
    workers.track_every = Duration::from_millis(300);
    workers.settle_delay = Duration::from_millis(300);
    workers.create_lease = Duration::from_secs(60);
    let config = json!({
        "url": woo.url(),
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
    });
    let s = ShopSession::start_with(db, "woocommerce", config, json!({}), &["dpd"], workers).await;
    let (status, method) = s
        .post(
            "/api/v1/payment-methods",
            json!({"code": "COD", "name": "Cash on delivery", "cash_on_delivery": true}),
        )
        .await;
    assert_eq!(status, 201, "{method}");
    let (status, body) = s
        .service
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/shops/{}/payment-methods/cod", s.shop_id),
            Some(&s.token),
            Some(json!({"payment_method_id": method["id"]})),
        )
        .await
        .unwrap();
    assert!(status == 200 || status == 204, "mapping: {status} {body}");
    let carrier = add_carrier(&s, &fake, "DPD Slovenija", PASSWORD).await;
    Dpd {
        s,
        woo,
        dpd: fake,
        carrier,
    }
}

/// A DPD carrier connection with the fake's login and `password`.
async fn add_carrier(s: &ShopSession, fake: &FakeDpd, name: &str, password: &str) -> i64 {
    let (status, carrier) = s
        .post(
            "/api/v1/carriers",
            json!({
                "plugin": "dpd",
                "name": name,
                "config": {
                    "username": USERNAME,
                    "password": password,
                    "country": "SI",
                    "tracking_secret": TRACKING_SECRET,
                    "api_base": fake.api_base(),
                    "request_timeout_ms": "1000",
                },
                "sender": {
                    "name": "Trgovina d.o.o.",
                    "street": "Dunajska cesta 5",
                    "city": "Ljubljana",
                    "postal_code": "1000",
                    "country": "SI",
                    "phone": "01 234 56 78",
                    "email": "info@trgovina.test",
                },
                "tell_shop": "off",
            }),
        )
        .await;
    assert_eq!(status, 201, "{carrier}");
    let secrets: Vec<&str> = carrier["secrets_set"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for secret in ["username", "password", "tracking_secret"] {
        assert!(secrets.contains(&secret), "{carrier}");
    }
    carrier["id"].as_i64().unwrap()
}

impl Dpd {
    /// Places `spec` in the shop, delivers its webhook and returns the imported order.
    async fn order(&self, spec: OrderSpec) -> (u64, Value) {
        let placed = self.woo.create_order(&spec);
        let woo_id = placed["id"].as_u64().unwrap();
        let status = self
            .woo
            .deliver(
                &self.s.webhook_url,
                &self.woo.delivery("order.created", woo_id),
            )
            .await
            .unwrap();
        assert_eq!(status, 200);
        (
            woo_id,
            self.s.order_where(&woo_id.to_string(), |_| true).await,
        )
    }

    /// Two mugs ordered cash on delivery by Ana, unpaid.
    async fn cod_order(&self, street: &str, city: &str, zip: &str) -> Value {
        let mug = self.woo.add_simple_product(
            &format!("MUG-{}", self.woo.order_ids().len()),
            "Mug",
            "12.40",
            Some(50),
        );
        let ana = AddressSpec {
            phone: "040 111 222".into(),
            ..AddressSpec::new("Ana", "Novak", street, zip, city, "SI")
        };
        self.order(
            OrderSpec::new()
                .guest(ana)
                .line(mug, None, 2)
                .shipping("DPD", "4.10")
                .payment("cod", "Cash on delivery")
                .paid(false),
        )
        .await
        .1
    }

    async fn ship(&self, order: &Value, body: Value) -> (u16, Value) {
        self.s
            .post(&format!("/api/v1/orders/{}/shipments", order["id"]), body)
            .await
    }

    async fn shipment(&self, id: &Value) -> Value {
        self.s.get(&format!("/api/v1/shipments/{id}")).await
    }

    async fn shipment_where(
        &self,
        id: &Value,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        self.s
            .until(what, || async {
                let shipment = self.shipment(id).await;
                check(&shipment).then_some(shipment)
            })
            .await
    }

    /// `GET path` answered with raw bytes: (status, content type, body).
    async fn download(&self, path: &str) -> (u16, String, Vec<u8>) {
        let token = &self.s.token;
        let get = reqwest::Method::GET;
        self.s
            .service
            .download(get, path, token, None)
            .await
            .unwrap()
    }

    /// The shipment's label, checked to be a PDF; returns its page count.
    async fn label_pages(&self, id: &Value) -> usize {
        let (status, content_type, pdf) = self
            .download(&format!("/api/v1/shipments/{id}/label"))
            .await;
        assert_eq!(status, 200, "label: {}", String::from_utf8_lossy(&pdf));
        assert_eq!(content_type, "application/pdf");
        tovor_labels::page_count(&pdf).unwrap()
    }
}

fn events_with(shipment: &Value, raw_code: &str) -> Vec<Value> {
    shipment["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["raw_code"] == raw_code)
        .cloned()
        .collect()
}

async fn dpd_cash_on_delivery_order_to_handover_and_delivered_parcel(db: Db) {
    let t = setup(db).await;
    let order = t.cod_order("Slovenska cesta 12a", "Maribor", "2000").await;

    let (status, shipment) = t
        .ship(
            &order,
            json!({"carrier_id": t.carrier, "parcel_count": 2, "weight_grams": 1200}),
        )
        .await;
    assert_eq!(status, 201, "{shipment}");
    assert_eq!(shipment["state"], "created");
    assert_eq!(shipment["cash_on_delivery"]["amount"], order["total"]);
    assert_eq!(shipment["cash_on_delivery"]["currency"], "EUR");
    let numbers: Vec<String> = shipment["tracking_numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(numbers.len(), 2, "one parcel number per parcel");
    assert_eq!(shipment["carrier_shipment_id"], numbers.join(","));

    // What EasyShip received: one import, everything in the query, a Home COD parcel.
    let imports = t.dpd.requests_to("parcel_import");
    assert_eq!(imports.len(), 1);
    let sent = &imports[0];
    assert_eq!(sent.body_len, 0);
    assert_eq!(sent.param("parcel_type"), Some("D-COD-B2C"));
    let total: f64 = order["total"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        sent.param("cod_amount"),
        Some(format!("{total:.2}").as_str())
    );
    assert_eq!(
        sent.param("cod_purpose"),
        shipment["cash_on_delivery"]["reference"].as_str()
    );
    assert_eq!(
        sent.param("cod_purpose"),
        order["external_number"].as_str(),
        "the order number is the COD reference"
    );
    assert_eq!(sent.param("order_number"), shipment["reference"].as_str());
    assert_eq!(sent.param("num_of_parcel"), Some("2"));
    assert_eq!(sent.param("parcel_cod_type"), Some("firstonly"));
    assert_eq!(sent.param("weight"), Some("2.400"));
    assert_eq!(sent.param("street"), Some("Slovenska cesta"));
    assert_eq!(sent.param("rPropNum"), Some("12a"));
    assert_eq!(sent.param("pcode"), Some("2000"));
    assert_eq!(sent.param("phone"), Some("+38640111222"));
    assert_eq!(sent.param("predict"), Some("1"));
    assert_eq!(sent.param("sender_name"), Some("Trgovina d.o.o."));

    // The label, one page per parcel, printed once at DPD and then served from the store.
    assert_eq!(t.label_pages(&shipment["id"]).await, 2);
    assert_eq!(t.label_pages(&shipment["id"]).await, 2);
    assert_eq!(
        t.dpd.requests_to("parcel_print").len(),
        1,
        "DPD prints a label once; the second came from the store"
    );
    assert!(
        t.shipment(&shipment["id"]).await["has_label"]
            .as_bool()
            .unwrap()
    );

    // A second order, shipped and printed, then cancelled: deleting a printed parcel
    // is refused, so DPD cancels it.
    let second = t.cod_order("Trg 1", "Izola", "6310").await;
    let (status, other) = t.ship(&second, json!({"carrier_id": t.carrier})).await;
    assert_eq!(status, 201, "{other}");
    assert_eq!(t.label_pages(&other["id"]).await, 1);
    let (status, cancelled) =
        t.s.post(
            &format!("/api/v1/shipments/{}/cancel", other["id"]),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["state"], "cancelled");
    let other_number = other["tracking_numbers"][0].as_str().unwrap();
    let parcel = t.dpd.parcel(other_number).unwrap();
    assert!(parcel.cancelled && !parcel.deleted, "{parcel:?}");
    assert_eq!(t.dpd.requests_to("parcel_delete").len(), 1);
    assert_eq!(t.dpd.requests_to("parcel_cancel").len(), 1);

    // The day's hand-over: DPD's manifest of today, without the cancelled parcel.
    let today = dpd::today();
    let (status, handover) =
        t.s.post(
            &format!("/api/v1/carriers/{}/handovers", t.carrier),
            json!({"date": today}),
        )
        .await;
    assert_eq!(status, 201, "{handover}");
    assert_eq!(handover["carrier_id"], t.carrier);
    assert_eq!(handover["date"], today);
    assert_eq!(handover["state"], "done");
    assert_eq!(handover["reference"], Value::Null);
    assert_eq!(handover["shipment_ids"], json!([shipment["id"]]));
    assert_eq!(handover["has_document"], true);
    let manifest = t.dpd.requests_to("parcel_manifest_print");
    assert_eq!(manifest.len(), 1);
    assert_eq!(manifest[0].param("type"), Some("manifest"));
    assert_eq!(manifest[0].param("date"), Some(today.as_str()));
    let (status, content_type, pdf) = t
        .download(&format!("/api/v1/handovers/{}/document", handover["id"]))
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(content_type, "application/pdf");
    assert_eq!(tovor_labels::page_count(&pdf).unwrap(), 2);
    let text = String::from_utf8_lossy(&pdf);
    assert!(numbers.iter().all(|n| text.contains(n.as_str())));
    assert!(!text.contains(other_number));

    // Tracking: printed (pending) for both parcels, once each however often polled.
    let printed = t
        .shipment_where(&shipment["id"], "printed seen for both parcels", |s| {
            events_with(s, "printed").len() == 2
        })
        .await;
    assert!(
        events_with(&printed, "printed")
            .iter()
            .all(|event| event["status"] == "pending" && event["raw_text"] == "printed")
    );
    let polls_before = t.dpd.requests_to("parcel_status").len();
    t.s.until("a few more polls", || async {
        (t.dpd.requests_to("parcel_status").len() >= polls_before + 4).then_some(())
    })
    .await;
    let polled = t.shipment(&shipment["id"]).await;
    assert_eq!(events_with(&polled, "printed").len(), 2, "{polled}");
    assert_eq!(
        t.dpd.requests_to("parcel_status")[0].param("secret"),
        Some(TRACKING_SECRET)
    );

    for number in &numbers {
        assert!(t.dpd.set_status(number, "Delivered"));
    }
    let delivered = t
        .shipment_where(&shipment["id"], "delivered", |s| s["status"] == "delivered")
        .await;
    let events = events_with(&delivered, "delivered");
    assert!(!events.is_empty());
    assert!(events.iter().all(|event| event["raw_text"] == "Delivered"));
    assert_eq!(
        delivered["next_track_at"],
        Value::Null,
        "delivered parcels are not polled"
    );
}

async fn dpd_timeout_waits_for_a_person_and_never_repeats(db: Db) {
    let t = setup(db).await;
    let order = t.cod_order("Slovenska cesta 12a", "Maribor", "2000").await;
    // DPD creates the parcel but answers after the connector gave up.
    t.dpd.set_slow(Duration::from_secs(3));
    let (status, shipment) = t.ship(&order, json!({"carrier_id": t.carrier})).await;
    assert_eq!(status, 202, "{shipment}");
    assert_eq!(shipment["state"], "unknown_outcome");
    let error = shipment["error"].as_str().unwrap();
    assert!(
        error.contains("cannot be asked")
            && error.contains(shipment["reference"].as_str().unwrap()),
        "{error}"
    );
    t.dpd.set_slow(Duration::ZERO);

    // EasyShip cannot be asked by order number: nothing is repeated while a person checks.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let waiting = t.shipment(&shipment["id"]).await;
    assert_eq!(waiting["state"], "unknown_outcome");
    assert_eq!(
        t.dpd.requests_to("parcel_import").len(),
        1,
        "parcel_import called once"
    );
    let parcels = t.dpd.parcels();
    assert_eq!(parcels.len(), 1, "exactly one parcel");

    // The person finds it in EasyShip by the order number and enters its parcel number.
    let parcel = &parcels[0];
    assert_eq!(parcel.param("order_number"), shipment["reference"].as_str());
    let (status, resolved) = t
        .s
        .post(
            &format!("/api/v1/shipments/{}/resolve", shipment["id"]),
            json!({"carrier_shipment_id": parcel.pl_number, "tracking_numbers": [parcel.pl_number]}),
        )
        .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["state"], "created");
    assert_eq!(t.label_pages(&shipment["id"]).await, 1);
    assert_eq!(t.dpd.parcels().len(), 1);
    assert_eq!(t.dpd.requests_to("parcel_import").len(), 1);
    let (status, body) =
        t.s.post(
            &format!("/api/v1/shipments/{}/resolve", shipment["id"]),
            json!({"not_created": true}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

async fn dpd_credentials_stay_out_of_logs_answers_and_stored_errors(db: Db) {
    let t = setup(db).await;
    let logs = captured_logs();
    let mut answers: Vec<String> = Vec::new();
    // A connection whose password DPD refuses (the fake names the user in its refusal).
    let wrong_password = "Napacno-Geslo-77";
    let refused_carrier = add_carrier(&t.s, &t.dpd, "DPD wrong password", wrong_password).await;

    // A parcel made, labelled, tracked and cancelled.
    let order = t.cod_order("Slovenska cesta 12a", "Maribor", "2000").await;
    let (status, shipment) = t.ship(&order, json!({"carrier_id": t.carrier})).await;
    assert_eq!(status, 201, "{shipment}");
    answers.push(shipment.to_string());
    assert_eq!(t.label_pages(&shipment["id"]).await, 1);
    let (status, tracked) =
        t.s.post(
            &format!("/api/v1/shipments/{}/track", shipment["id"]),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{tracked}");
    answers.push(tracked.to_string());
    let (status, cancelled) =
        t.s.post(
            &format!("/api/v1/shipments/{}/cancel", shipment["id"]),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    answers.push(cancelled.to_string());

    // A parcel DPD refuses (a Croatian postal code for Slovenia), and one whose login
    // it refuses: both keep DPD's words as their error.
    let bad_zip = t.cod_order("Ilica 1", "Zagreb", "10000").await;
    let (status, refused) = t.ship(&bad_zip, json!({"carrier_id": t.carrier})).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("pcode"),
        "{refused}"
    );
    answers.push(refused.to_string());
    let other = t.cod_order("Trg 1", "Izola", "6310").await;
    let (status, unauthorized) = t.ship(&other, json!({"carrier_id": refused_carrier})).await;
    assert_eq!(status, 422, "{unauthorized}");
    answers.push(unauthorized.to_string());
    let (status, day) =
        t.s.post(
            &format!("/api/v1/carriers/{refused_carrier}/handovers"),
            json!({"date": dpd::today()}),
        )
        .await;
    answers.push(format!("{status} {day}"));

    // Everything the API shows about it.
    for path in [
        format!("/api/v1/carriers/{}", t.carrier),
        format!("/api/v1/carriers/{refused_carrier}"),
        "/api/v1/carriers".to_owned(),
        "/api/v1/shipments?limit=500".to_owned(),
        format!("/api/v1/shipments/{}", shipment["id"]),
        format!("/api/v1/orders/{}", order["id"]),
        format!("/api/v1/orders/{}", other["id"]),
    ] {
        answers.push(t.s.get(&path).await.to_string());
    }
    let stored = t.s.get("/api/v1/shipments?state=failed").await;
    let errors: Vec<String> = stored
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|shipment| shipment["error"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(errors.len(), 2, "{stored}");
    assert!(
        errors
            .iter()
            .any(|error| error.contains("refused the credentials")),
        "{errors:?}"
    );
    answers.extend(errors);

    // The URLs carried the credentials: the fake saw them.
    let import = &t.dpd.requests_to("parcel_import")[0];
    assert_eq!(import.param("username"), Some(USERNAME));
    assert_eq!(import.param("password"), Some(PASSWORD));

    let secrets = [USERNAME, PASSWORD, TRACKING_SECRET, wrong_password];
    for answer in &answers {
        for secret in secrets {
            assert!(
                !answer.contains(secret),
                "{secret:?} in an API answer: {answer}"
            );
        }
    }
    let captured = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        captured
            .lines()
            .any(|line| line.contains("parcel/parcel_import")),
        "the outbound requests are in the log, so the check below means something"
    );
    for line in captured.lines() {
        for secret in secrets {
            assert!(!line.contains(secret), "{secret:?} in a log line: {line}");
        }
    }
}
