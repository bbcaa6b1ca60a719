//! Shipping end to end: orders from the fake WooCommerce, shipped with the real GLS and
//! Packeta connectors (Wasm) against the fake carriers of `tovor-fakes`, through the
//! service's API and its shipping worker, on SQLite and PostgreSQL.
//!
//! Each carrier: an order paid by a method mapped to cash on delivery → shipment with
//! the order's amount to collect → a valid PDF label with one page per parcel →
//! tracking events move it to delivered → the shop is told the tracking number. And a
//! create call that times out leaves exactly one parcel at the carrier.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::{Value, json};
use tovor_fakes::gls::{self, FakeGls};
use tovor_fakes::packeta::{self, FakePacketa};
use tovor_fakes::woocommerce::{
    AddressSpec, CONSUMER_KEY, CONSUMER_SECRET, FakeWoo, OrderSpec, WEBHOOK_SECRET,
};
use tovor_tests::service::{Db, ShopSession, quick_workers};

tovor_tests::on_both_databases!(
    gls_cash_on_delivery_order_to_delivered_parcel,
    packeta_pickup_point_parcel_to_delivered,
    gls_timeout_on_create_leaves_exactly_one_parcel,
    packeta_timeout_waits_for_a_person_and_never_repeats,
    refusals_are_clear_and_create_nothing_at_the_carrier,
    a_create_cut_short_by_a_crash_is_settled_and_made_once,
    a_create_the_egress_policy_blocks_is_not_sent_and_frees_its_reference,
    carrier_refusals_name_the_field_as_the_host_does,
    czech_cash_on_delivery_with_halere_is_given_or_rounded,
    references_carry_the_shop_order_number_when_unique,
    a_status_is_set_by_hand_and_a_carrier_without_hand_over_says_so,
);

struct Shipping {
    s: ShopSession,
    woo: FakeWoo,
    gls: FakeGls,
    packeta: FakePacketa,
    gls_carrier: i64,
    packeta_carrier: i64,
}

/// A company selling through WooCommerce whose "cod" payment method is mapped to a
/// cash-on-delivery method, with a GLS and a Packeta carrier connection.
async fn setup(db: Db, tell_shop: &str) -> Shipping {
    let woo = FakeWoo::start().await.unwrap();
    let gls = FakeGls::start().await.unwrap();
    let packeta = FakePacketa::start().await.unwrap();
    let mut workers = quick_workers(&format!("ship-{}", std::process::id()));
    workers.track_every = Duration::from_millis(300);
    workers.settle_delay = Duration::from_millis(300);
    workers.create_lease = Duration::from_secs(60);
    let config = json!({
        "url": woo.url(),
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
    });
    let s = ShopSession::start_with(
        db,
        "woocommerce",
        config,
        json!({}),
        &["gls", "packeta"],
        workers,
    )
    .await;
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
    let sender = json!({
        "name": "Trgovina d.o.o.",
        "street": "Dunajska cesta 5",
        "city": "Ljubljana",
        "postal_code": "1000",
        "country": "SI",
        "phone": "01 234 56 78",
        "email": "info@trgovina.test",
    });
    let (status, gls_carrier) = s
        .post(
            "/api/v1/carriers",
            json!({
                "plugin": "gls",
                "name": "GLS Slovenija",
                "config": {
                    "username": gls::USERNAME,
                    "password": gls::PASSWORD,
                    "client_number": gls::CLIENT_NUMBER.to_string(),
                    "country": "SI",
                    "api_base": gls.api_base(),
                    "request_timeout_ms": "1000",
                },
                "sender": sender,
                "tell_shop": tell_shop,
            }),
        )
        .await;
    assert_eq!(status, 201, "{gls_carrier}");
    assert_eq!(gls_carrier["secrets_set"], json!(["password"]));
    let (status, packeta_carrier) = s
        .post(
            "/api/v1/carriers",
            json!({
                "plugin": "packeta",
                "name": "Packeta",
                "config": {
                    "api_password": packeta::API_PASSWORD,
                    "eshop": "trgovina.si",
                    "api_base": packeta.api_base(),
                    "request_timeout_ms": "1000",
                },
                "sender": sender,
                "label_format": "A6 on A6",
                "tell_shop": tell_shop,
            }),
        )
        .await;
    assert_eq!(status, 201, "{packeta_carrier}");
    Shipping {
        s,
        woo,
        gls,
        packeta,
        gls_carrier: gls_carrier["id"].as_i64().unwrap(),
        packeta_carrier: packeta_carrier["id"].as_i64().unwrap(),
    }
}

impl Shipping {
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

    /// A mug ordered cash on delivery by Ana from Ljubljana, unpaid.
    async fn cod_order(&self, address: AddressSpec) -> (u64, Value) {
        let mug = self.woo.add_simple_product(
            &format!("MUG-{}", self.woo.order_ids().len()),
            "Mug",
            "12.40",
            Some(50),
        );
        self.order(
            OrderSpec::new()
                .guest(address)
                .line(mug, None, 2)
                .shipping("GLS", "4.10")
                .payment("cod", "Cash on delivery")
                .paid(false),
        )
        .await
    }

    /// A mug at `price` CZK (tax included) bought by Jana from Prague: unpaid, cash on
    /// delivery, when `cod`; else paid by card.
    async fn czech_order(&self, sku: &str, price: &str, cod: bool) -> (u64, Value) {
        let mug = self.woo.add_simple_product(sku, "Hrnek", price, Some(20));
        let jana = AddressSpec {
            phone: "603 123 456".into(),
            ..AddressSpec::new("Jana", "Nováková", "Vodičkova 12", "11000", "Praha", "CZ")
        };
        let spec = OrderSpec::new()
            .guest(jana)
            .line(mug, None, 1)
            .currency("CZK")
            .prices_include_tax(true);
        let spec = if cod {
            spec.payment("cod", "Dobírka").paid(false)
        } else {
            spec.payment("card", "Card").paid(true)
        };
        self.order(spec).await
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

    /// `method path` answered with raw bytes: (status, content type, body).
    async fn download(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, String, Vec<u8>) {
        let token = &self.s.token;
        self.s
            .service
            .download(method, path, token, body)
            .await
            .unwrap()
    }

    /// The shipment's label, checked to be a PDF; returns its page count.
    async fn label_pages(&self, id: &Value) -> usize {
        let (status, content_type, pdf) = self
            .download(
                reqwest::Method::GET,
                &format!("/api/v1/shipments/{id}/label"),
                None,
            )
            .await;
        assert_eq!(status, 200, "label: {}", String::from_utf8_lossy(&pdf));
        assert_eq!(content_type, "application/pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        tovor_labels::page_count(&pdf).unwrap()
    }
}

fn statuses(shipment: &Value) -> Vec<String> {
    shipment["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["status"].as_str().unwrap().to_owned())
        .collect()
}

fn ljubljana(street: &str, phone: &str) -> AddressSpec {
    AddressSpec {
        phone: phone.into(),
        ..AddressSpec::new("Ana", "Novak", street, "1000", "Ljubljana", "SI")
    }
}

async fn gls_cash_on_delivery_order_to_delivered_parcel(db: Db) {
    let t = setup(db, "created").await;
    let (woo_id, order) = t
        .cod_order(ljubljana("Slovenska cesta 12a", "040 111 222"))
        .await;

    let (status, shipment) = t
        .ship(
            &order,
            json!({"carrier_id": t.gls_carrier, "parcel_count": 2, "weight_grams": 1200}),
        )
        .await;
    assert_eq!(status, 201, "{shipment}");
    assert_eq!(shipment["state"], "created");
    assert_eq!(shipment["reference"], order["external_number"]);
    assert_eq!(shipment["cash_on_delivery"]["amount"], order["total"]);
    assert_eq!(shipment["cash_on_delivery"]["currency"], "EUR");
    assert_eq!(shipment["parcels"], 2);
    let numbers = shipment["tracking_numbers"].as_array().unwrap().clone();
    assert_eq!(numbers.len(), 2, "one tracking number per parcel");

    // What GLS received: street and house number apart, the phone in E.164, the
    // amount to collect, our reference.
    let parcels = t.gls.parcels();
    assert_eq!(parcels.len(), 2, "two pieces of one parcel");
    let sent = &parcels[0].parcel;
    assert_eq!(sent["ClientReference"], order["external_number"]);
    assert_eq!(sent["DeliveryAddress"]["Street"], "Slovenska cesta");
    assert_eq!(sent["DeliveryAddress"]["HouseNumber"], "12");
    assert_eq!(sent["DeliveryAddress"]["HouseNumberInfo"], "a");
    assert_eq!(sent["DeliveryAddress"]["ContactPhone"], "+38640111222");
    assert_eq!(
        sent["CODAmount"].as_f64().unwrap().to_string(),
        order["total"]
            .as_str()
            .unwrap()
            .trim_end_matches('0')
            .trim_end_matches('.')
    );

    // The label GLS returned with the parcel: a valid PDF, one page per parcel.
    assert_eq!(t.label_pages(&shipment["id"]).await, 2);

    // The shop is told the tracking number (a customer note) and the order completed.
    t.shipment_where(&shipment["id"], "the shop told", |s| {
        s["shop_notice"] == "sent"
    })
    .await;
    let first_number = numbers[0].as_str().unwrap();
    let notes = t.woo.notes(woo_id);
    assert!(
        notes.iter().any(|note| note["note"]
            .as_str()
            .unwrap_or_default()
            .contains(first_number)),
        "notes: {notes:?}"
    );
    assert_eq!(t.woo.order(woo_id).unwrap()["status"], "completed");

    // GLS scans it, drives it out, delivers it: the poller follows.
    let parcel_number: i64 = first_number.parse().unwrap();
    for code in ["1", "2", "4"] {
        assert!(t.gls.advance(parcel_number, code));
    }
    t.shipment_where(&shipment["id"], "out for delivery", |s| {
        s["status"] == "out_for_delivery"
    })
    .await;
    assert!(t.gls.advance(parcel_number, "5"));
    let delivered = t
        .shipment_where(&shipment["id"], "delivered", |s| s["status"] == "delivered")
        .await;
    let seen = statuses(&delivered);
    let order_of = |status: &str| seen.iter().position(|s| s == status).unwrap();
    assert!(order_of("picked_up") < order_of("in_transit"));
    assert!(order_of("in_transit") < order_of("out_for_delivery"));
    assert!(order_of("out_for_delivery") < order_of("delivered"));
    let last = delivered["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["status"], "delivered");
    assert!(!last["raw_code"].as_str().unwrap().is_empty());
    assert!(!last["raw_text"].as_str().unwrap().is_empty());
    assert_eq!(
        delivered["next_track_at"],
        Value::Null,
        "delivered parcels are not polled"
    );

    // Two more orders shipped in one batch, then all labels printed as one PDF.
    let (_, second) = t.cod_order(ljubljana("Trg 1", "+386 41 222 333")).await;
    let (_, third) = t
        .cod_order(ljubljana("Cesta 24. junija 5", "041222333"))
        .await;
    let (status, batch) =
        t.s.post(
            "/api/v1/shipments",
            json!({"carrier_id": t.gls_carrier, "order_ids": [second["id"], third["id"]]}),
        )
        .await;
    assert_eq!(status, 200, "{batch}");
    let batch = batch.as_array().unwrap();
    assert!(
        batch
            .iter()
            .all(|result| result["shipment"]["state"] == "created"),
        "{batch:?}"
    );
    let trg = t
        .gls
        .parcels()
        .into_iter()
        .find(|parcel| parcel.client_reference == second["external_number"].as_str().unwrap())
        .unwrap();
    assert_eq!(trg.parcel["DeliveryAddress"]["Street"], "Trg");
    assert_eq!(trg.parcel["DeliveryAddress"]["HouseNumber"], "1");
    let ids = json!([
        shipment["id"],
        batch[0]["shipment"]["id"],
        batch[1]["shipment"]["id"]
    ]);
    let (status, content_type, pdf) = t
        .download(
            reqwest::Method::POST,
            "/api/v1/labels",
            Some(json!({"shipment_ids": ids})),
        )
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(content_type, "application/pdf");
    assert_eq!(
        tovor_labels::page_count(&pdf).unwrap(),
        4,
        "2 + 1 + 1 parcels"
    );

    // A shipment cancelled before GLS handled it is deleted at GLS.
    let third_shipment = &batch[1]["shipment"];
    let (status, cancelled) =
        t.s.post(
            &format!("/api/v1/shipments/{}/cancel", third_shipment["id"]),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(cancelled["status"], "cancelled");
    assert!(
        t.gls
            .parcels()
            .iter()
            .filter(|parcel| parcel.client_reference == third["external_number"].as_str().unwrap())
            .all(|parcel| parcel.deleted)
    );
    let history = t.s.get(&format!("/api/v1/orders/{}", order["id"])).await["history"].clone();
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["action"].as_str())
        .collect();
    assert!(actions.contains(&"shipment_requested") && actions.contains(&"shipment_created"));
}

async fn packeta_pickup_point_parcel_to_delivered(db: Db) {
    let t = setup(db, "delivered").await;
    t.packeta.add_pickup_point("4321", "CZ");
    let (woo_id, order) = t.czech_order("HRNEK", "500", true).await;
    assert_eq!(order["total"], "500.00");

    let (status, shipment) = t
        .ship(
            &order,
            json!({"carrier_id": t.packeta_carrier, "pickup_point": "4321"}),
        )
        .await;
    assert_eq!(status, 201, "{shipment}");
    assert_eq!(shipment["pickup_point"]["id"], "4321");
    assert_eq!(shipment["cash_on_delivery"]["currency"], "CZK");
    let packets = t.packeta.packets();
    assert_eq!(packets.len(), 1);
    let packet = &packets[0];
    assert_eq!(packet.number, order["external_number"].as_str().unwrap());
    assert_eq!(packet.attribute("addressId"), Some("4321"));
    assert_eq!(packet.attribute("cod"), Some("500"));
    assert_eq!(packet.attribute("currency"), Some("CZK"));
    assert_eq!(packet.attribute("phone"), Some("+420603123456"));
    assert_eq!(shipment["tracking_numbers"], json!([packet.barcode]));

    // Packeta gives labels on request: fetched after creation and kept.
    assert_eq!(t.label_pages(&shipment["id"]).await, 1);
    assert!(
        t.shipment(&shipment["id"]).await["has_label"]
            .as_bool()
            .unwrap()
    );
    assert_eq!(
        t.shipment(&shipment["id"]).await["shop_notice"],
        "none",
        "told on delivery only"
    );

    // "Track now" asks at once; the poller does the rest.
    assert!(t.packeta.advance(&packet.id, 2));
    let (status, tracked) =
        t.s.post(
            &format!("/api/v1/shipments/{}/track", shipment["id"]),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{tracked}");
    assert_eq!(tracked["status"], "in_transit");
    let raw: Vec<&str> = tracked["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["raw_code"].as_str().unwrap())
        .collect();
    assert!(raw.contains(&"2"), "raw codes kept: {raw:?}");
    assert!(t.packeta.advance(&packet.id, 5));
    t.shipment_where(&shipment["id"], "ready for pickup", |s| {
        s["status"] == "ready_for_pickup"
    })
    .await;
    assert!(t.packeta.advance(&packet.id, 7));
    t.shipment_where(&shipment["id"], "delivered and told", |s| {
        s["status"] == "delivered" && s["shop_notice"] == "sent"
    })
    .await;
    let notes = t.woo.notes(woo_id);
    assert!(
        notes.iter().any(|note| note["note"]
            .as_str()
            .unwrap_or_default()
            .contains(&packet.barcode)),
        "notes: {notes:?}"
    );
}

async fn gls_timeout_on_create_leaves_exactly_one_parcel(db: Db) {
    let t = setup(db, "off").await;
    let (_, order) = t
        .cod_order(ljubljana("Slovenska cesta 12a", "040111222"))
        .await;
    // GLS creates the parcel but answers after the connector gave up.
    t.gls.set_slow(Duration::from_secs(3));
    let (status, shipment) = t.ship(&order, json!({"carrier_id": t.gls_carrier})).await;
    assert_eq!(status, 202, "{shipment}");
    assert_eq!(shipment["state"], "unknown_outcome");
    t.gls.set_slow(Duration::ZERO);

    // The worker finds it by reference instead of creating it again.
    let settled = t
        .shipment_where(&shipment["id"], "settled", |s| s["state"] == "created")
        .await;
    let parcels = t.gls.parcels();
    assert_eq!(parcels.len(), 1, "exactly one parcel: {parcels:?}");
    assert_eq!(
        settled["tracking_numbers"],
        json!([parcels[0].parcel_number.unwrap().to_string()])
    );
    assert_eq!(t.label_pages(&shipment["id"]).await, 1);
    let lookups = t
        .gls
        .requests()
        .iter()
        .filter(|path| path.ends_with("GetParcelList"))
        .count();
    assert!(lookups >= 1);
    // Nothing more happens later.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(t.gls.parcels().len(), 1);
    let prints = t
        .gls
        .requests()
        .iter()
        .filter(|path| path.ends_with("PrintLabels"))
        .count();
    assert_eq!(prints, 1, "PrintLabels called once");
}

async fn packeta_timeout_waits_for_a_person_and_never_repeats(db: Db) {
    let t = setup(db, "off").await;
    let (_, order) = t.czech_order("HRNEK", "500", false).await;
    t.packeta.set_slow(Duration::from_secs(3));
    let (status, shipment) = t
        .ship(
            &order,
            json!({"carrier_id": t.packeta_carrier, "pickup_point": packeta::POINT_CZ}),
        )
        .await;
    assert_eq!(status, 202, "{shipment}");
    assert_eq!(shipment["state"], "unknown_outcome");
    let error = shipment["error"].as_str().unwrap();
    assert!(
        error.contains("cannot be asked")
            && error.contains(order["external_number"].as_str().unwrap()),
        "{error}"
    );
    t.packeta.set_slow(Duration::ZERO);

    // Packeta cannot be asked by our number: nothing is repeated while a person checks.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let waiting = t.shipment(&shipment["id"]).await;
    assert_eq!(waiting["state"], "unknown_outcome");
    let packets = t.packeta.packets();
    assert_eq!(packets.len(), 1, "exactly one packet");
    let creates = t
        .packeta
        .requests()
        .iter()
        .filter(|request| request.contains("createPacket"))
        .count();
    assert_eq!(creates, 1, "createPacket called once");

    // The person finds it in the client section and enters its id.
    let packet = &packets[0];
    let (status, resolved) =
        t.s.post(
            &format!("/api/v1/shipments/{}/resolve", shipment["id"]),
            json!({"carrier_shipment_id": packet.id, "tracking_numbers": [packet.barcode]}),
        )
        .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["state"], "created");
    assert_eq!(t.label_pages(&shipment["id"]).await, 1);
    assert_eq!(t.packeta.packets().len(), 1);
    // A created shipment is not created again.
    let (status, body) =
        t.s.post(
            &format!("/api/v1/shipments/{}/resolve", shipment["id"]),
            json!({"not_created": true}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

async fn refusals_are_clear_and_create_nothing_at_the_carrier(db: Db) {
    let t = setup(db, "created").await;

    // Cash on delivery in a currency GLS does not collect: refused before any call.
    let mug = t.woo.add_simple_product("MUG-PLN", "Mug", "40", Some(10));
    let (_, zloty) = t
        .order(
            OrderSpec::new()
                .guest(AddressSpec::new(
                    "Jan",
                    "Kowalski",
                    "Marszałkowska 1",
                    "00-001",
                    "Warszawa",
                    "PL",
                ))
                .line(mug, None, 1)
                .currency("PLN")
                .payment("cod", "Cash on delivery")
                .paid(false),
        )
        .await;
    let (status, body) = t.ship(&zloty, json!({"carrier_id": t.gls_carrier})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "rule_refused");
    assert_eq!(body["error"]["field"], "cash_on_delivery");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("PLN"),
        "{body}"
    );

    // A street line without a house number is refused, not guessed.
    let (_, no_number) = t.cod_order(ljubljana("Slovenska cesta", "040111222")).await;
    let (status, body) = t
        .ship(&no_number, json!({"carrier_id": t.gls_carrier}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "shipping.house_number");
    assert!(t.gls.parcels().is_empty());
    // In a batch, the refused order does not hold back the others.
    let (_, fine) = t.cod_order(ljubljana("Trg 1", "040111222")).await;
    let (status, results) =
        t.s.post(
            "/api/v1/shipments",
            json!({"carrier_id": t.gls_carrier, "order_ids": [no_number["id"], fine["id"]]}),
        )
        .await;
    assert_eq!(status, 200, "{results}");
    assert_eq!(
        results[0]["error"]["field"], "shipping.house_number",
        "{results}"
    );
    assert_eq!(results[0]["shipment"], Value::Null);
    assert_eq!(results[1]["shipment"]["state"], "created", "{results}");
    assert_eq!(t.gls.parcels().len(), 1);
    // Shipping that order again must be asked for: a double click sends no second parcel.
    let (status, body) = t.ship(&fine, json!({"carrier_id": t.gls_carrier})).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("additional"),
        "{body}"
    );
    assert_eq!(t.gls.parcels().len(), 1);
    let (status, second) = t
        .ship(
            &fine,
            json!({"carrier_id": t.gls_carrier, "additional": true}),
        )
        .await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(
        second["reference"],
        format!("{}-2", fine["external_number"].as_str().unwrap())
    );
    assert_eq!(t.gls.parcels().len(), 2);

    // Packeta collects whole crowns only: the connector refuses 499.50 CZK.
    let (_, crowns) = t.czech_order("HRNEK-2", "499.50", true).await;
    let (status, body) = t
        .ship(
            &crowns,
            json!({"carrier_id": t.packeta_carrier, "pickup_point": packeta::POINT_CZ}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "carrier_refused");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("cash_on_delivery.amount") && message.contains("whole number of crowns"),
        "{body}"
    );
    // An unknown pickup point: Packeta's HTTP-200 fault names the field.
    let (status, body) = t
        .ship(
            &crowns,
            json!({"carrier_id": t.packeta_carrier, "pickup_point": "999999", "cash_on_delivery": "off"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("addressId"),
        "{body}"
    );
    assert!(t.packeta.packets().is_empty());
    let failed = t.s.get("/api/v1/shipments?state=failed").await;
    assert_eq!(
        failed.as_array().unwrap().len(),
        2,
        "refused shipments are kept: {failed}"
    );
    // A refused shipment has no label.
    let (status, _, _) = t
        .download(
            reqwest::Method::GET,
            &format!("/api/v1/shipments/{}/label", failed[0]["id"]),
            None,
        )
        .await;
    assert_eq!(status, 400);

    // A shop connector is not a carrier.
    let (status, body) =
        t.s.post(
            "/api/v1/carriers",
            json!({"plugin": "woocommerce", "name": "x", "sender": {}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a carrier"),
        "{body}"
    );

    // A connection's settings change; a secret left out is kept, a bad value refused.
    let path = format!("/api/v1/carriers/{}", t.gls_carrier);
    let patch = |body: Value| {
        t.s.service
            .call(reqwest::Method::PATCH, &path, Some(&t.s.token), Some(body))
    };
    let (status, changed) = patch(json!({
        "name": "GLS SI",
        "config": {"printer_type": "A4_4x1"},
        "tell_shop": "delivered",
    }))
    .await
    .unwrap();
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["name"], "GLS SI");
    assert_eq!(changed["config"]["printer_type"], "A4_4x1");
    assert_eq!(changed["secrets_set"], json!(["password"]));
    assert_eq!(changed["tell_shop"], "delivered");
    let (status, body) = patch(json!({"tell_shop": "sometimes"})).await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "tell_shop");
}

async fn a_create_cut_short_by_a_crash_is_settled_and_made_once(db: Db) {
    let t = setup(db, "off").await;
    let (_, order) = t
        .cod_order(ljubljana("Slovenska cesta 12a", "040111222"))
        .await;
    // A process recorded the shipment, then died before (or while) calling GLS: the row
    // is `requested` under a lease that has run out.
    let (company, order_id) = company_and_order(&t, &order).await;
    let scope = t.s.service.store.company(company);
    let stored = scope.order(order_id).await.unwrap();
    let facts = tovor_domain::shipping::CarrierFacts {
        name: "GLS".into(),
        plugin_id: "gls".into(),
        cash_on_delivery: true,
        cod_currencies: vec!["EUR".into()],
        pickup_points: true,
    };
    let sender = tovor_domain::order::Address {
        name: Some("Trgovina d.o.o.".into()),
        street: Some("Dunajska cesta 5".into()),
        city: Some("Ljubljana".into()),
        postal_code: Some("1000".into()),
        country: Some("SI".into()),
        ..Default::default()
    };
    let plan = tovor_domain::shipping::plan_shipment(&tovor_domain::shipping::ShipmentInput {
        order_number: &stored.number,
        order: &stored.content,
        earlier_shipments: 0,
        payment_is_cash_on_delivery: true,
        sender: &sender,
        carrier: &facts,
        default_weight_grams: 1000,
        default_services: &[],
        cod_rounding: &Default::default(),
        choices: &Default::default(),
    })
    .unwrap();
    let now = time::OffsetDateTime::now_utc();
    let recorded = scope
        .record_shipment(
            order_id,
            tovor_domain::CarrierId(t.gls_carrier),
            (&plan, false),
            "a-process-that-died",
            now - time::Duration::seconds(1),
            now - time::Duration::minutes(1),
        )
        .await
        .unwrap();

    // The worker takes it over as an unknown outcome, asks GLS by reference until it is
    // sure nothing exists, then creates it: once.
    let id = json!(recorded.id.0);
    let created = t
        .shipment_where(&id, "created after the crash", |s| s["state"] == "created")
        .await;
    let parcels = t.gls.parcels();
    assert_eq!(parcels.len(), 1, "{parcels:?}");
    assert_eq!(
        parcels[0].client_reference,
        order["external_number"].as_str().unwrap()
    );
    assert_eq!(
        created["tracking_numbers"],
        json!([parcels[0].parcel_number.unwrap().to_string()])
    );
    let lookups = t
        .gls
        .requests()
        .iter()
        .filter(|path| path.ends_with("GetParcelList"))
        .count();
    assert!(lookups >= 3, "looked up {lookups} times before creating");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(t.gls.parcels().len(), 1);
}

/// The company of the session's token and the order's id, as the store knows them.
async fn company_and_order(
    t: &Shipping,
    order: &Value,
) -> (tovor_domain::CompanyId, tovor_domain::OrderId) {
    let company =
        t.s.service
            .store
            .authenticate(&t.s.token)
            .await
            .unwrap()
            .expect("the session's token is valid");
    (
        company,
        tovor_domain::OrderId(order["id"].as_i64().unwrap()),
    )
}

async fn a_create_the_egress_policy_blocks_is_not_sent_and_frees_its_reference(db: Db) {
    let t = setup(db, "off").await;
    // A connection whose API address the host never lets a plugin reach (the cloud
    // metadata address): the plugin's request is refused before it leaves the host.
    let (status, blocked) =
        t.s.post(
            "/api/v1/carriers",
            json!({
                "plugin": "gls",
                "name": "GLS blocked",
                "config": {
                    "username": gls::USERNAME,
                    "password": gls::PASSWORD,
                    "client_number": gls::CLIENT_NUMBER.to_string(),
                    "country": "SI",
                    "api_base": "http://169.254.169.254/api",
                },
                "sender": {"name": "Trgovina d.o.o.", "street": "Dunajska cesta 5",
                           "city": "Ljubljana", "postal_code": "1000", "country": "SI"},
            }),
        )
        .await;
    assert_eq!(status, 201, "{blocked}");
    let (_, order) = t
        .cod_order(ljubljana("Slovenska cesta 12a", "040111222"))
        .await;
    let (status, body) = t.ship(&order, json!({"carrier_id": blocked["id"]})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "not_sent", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("egress"),
        "{body}"
    );
    let shipments =
        t.s.get(&format!("/api/v1/shipments?order_id={}", order["id"]))
            .await;
    assert_eq!(shipments.as_array().unwrap().len(), 1, "{shipments}");
    assert_eq!(shipments[0]["state"], "failed", "{shipments}");
    assert_eq!(shipments[0]["not_sent"], true);
    // Nothing waits for a look-up: the worker has nothing to settle.
    assert_eq!(shipments[0]["next_track_at"], Value::Null);
    // It cannot be created again under the reference it gave back.
    let (status, body) =
        t.s.post(
            &format!("/api/v1/shipments/{}/resolve", shipments[0]["id"]),
            json!({"not_created": true}),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    // The order is not shipped yet: the next shipment needs no `additional` and takes
    // the plain order reference.
    let (status, shipment) = t.ship(&order, json!({"carrier_id": t.gls_carrier})).await;
    assert_eq!(status, 201, "{shipment}");
    assert_eq!(shipment["reference"], order["external_number"]);
    let parcels = t.gls.parcels();
    assert_eq!(parcels.len(), 1);
    assert_eq!(
        parcels[0].client_reference,
        order["external_number"].as_str().unwrap()
    );
}

async fn carrier_refusals_name_the_field_as_the_host_does(db: Db) {
    let t = setup(db, "off").await;
    // GLS error 13 names the ZipCode only inside its text.
    let bad_zip = AddressSpec {
        phone: "040111222".into(),
        ..AddressSpec::new(
            "Ana",
            "Novak",
            "Slovenska cesta 12",
            "99",
            "Ljubljana",
            "SI",
        )
    };
    let (_, order) = t.cod_order(bad_zip).await;
    let (status, body) = t.ship(&order, json!({"carrier_id": t.gls_carrier})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "carrier_refused");
    assert_eq!(body["error"]["field"], "shipping.postal_code", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ZipCode"),
        "{body}"
    );
    let failed = t.shipment(&body_shipment_id(&t, &order).await).await;
    assert_eq!(failed["error_field"], "shipping.postal_code", "{failed}");

    // Packeta's fault on `email`, answered with HTTP 200.
    t.packeta.add_pickup_point("4321", "CZ");
    let mug = t.woo.add_simple_product("HRNEK-E", "Hrnek", "500", Some(5));
    let jana = AddressSpec {
        phone: "603 123 456".into(),
        email: "jana@nowhere".into(),
        ..AddressSpec::new("Jana", "Nováková", "Vodičkova 12", "11000", "Praha", "CZ")
    };
    let (_, order) = t
        .order(
            OrderSpec::new()
                .guest(jana)
                .line(mug, None, 1)
                .currency("CZK")
                .payment("card", "Card")
                .paid(true),
        )
        .await;
    let (status, body) = t
        .ship(
            &order,
            json!({"carrier_id": t.packeta_carrier, "pickup_point": "4321"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "carrier_refused");
    assert_eq!(body["error"]["field"], "shipping.email", "{body}");
    assert!(t.packeta.packets().is_empty());
}

/// The id of the order's newest shipment.
async fn body_shipment_id(t: &Shipping, order: &Value) -> Value {
    let shipments =
        t.s.get(&format!("/api/v1/shipments?order_id={}", order["id"]))
            .await;
    shipments[0]["id"].clone()
}

async fn czech_cash_on_delivery_with_halere_is_given_or_rounded(db: Db) {
    let t = setup(db, "off").await;
    t.packeta.add_pickup_point("4321", "CZ");
    // 499.50 CZK cannot be collected: Packeta takes whole crowns. The user gives the
    // amount.
    let (_, order) = t.czech_order("HRNEK-H1", "499.50", true).await;
    assert_eq!(order["total"], "499.50");
    let (status, shipment) = t
        .ship(
            &order,
            json!({"carrier_id": t.packeta_carrier, "pickup_point": "4321", "cod_amount": "499"}),
        )
        .await;
    assert_eq!(status, 201, "{shipment}");
    assert_eq!(shipment["cash_on_delivery"]["amount"], "499");
    assert_eq!(shipment["cash_on_delivery"]["rounded_from"], Value::Null);
    let packets = t.packeta.packets();
    assert_eq!(packets[0].attribute("cod"), Some("499"));

    // Or the connection rounds CZK to whole crowns, as Packeta requires.
    let (status, carrier) =
        t.s.service
            .call(
                reqwest::Method::PATCH,
                &format!("/api/v1/carriers/{}", t.packeta_carrier),
                Some(&t.s.token),
                Some(json!({"cod_rounding": {"CZK": "1", "HUF": "5"}})),
            )
            .await
            .unwrap();
    assert_eq!(status, 200, "{carrier}");
    assert_eq!(carrier["cod_rounding"], json!({"CZK": "1", "HUF": "5"}));
    let (_, order) = t.czech_order("HRNEK-H2", "499.50", true).await;
    let (status, shipment) = t
        .ship(
            &order,
            json!({"carrier_id": t.packeta_carrier, "pickup_point": "4321"}),
        )
        .await;
    assert_eq!(status, 201, "{shipment}");
    assert_eq!(shipment["cash_on_delivery"]["amount"], "500");
    assert_eq!(shipment["cash_on_delivery"]["rounded_from"], "499.50");
    let recorded = t.shipment(&shipment["id"]).await;
    assert_eq!(recorded["cash_on_delivery"]["amount"], "500");
    let packets = t.packeta.packets();
    assert_eq!(packets.len(), 2);
    assert_eq!(packets[1].attribute("cod"), Some("500"));

    // A bad step is refused, naming the field.
    let (status, body) =
        t.s.service
            .call(
                reqwest::Method::PATCH,
                &format!("/api/v1/carriers/{}", t.packeta_carrier),
                Some(&t.s.token),
                Some(json!({"cod_rounding": {"CZK": "0"}})),
            )
            .await
            .unwrap();
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "cod_rounding");
}

async fn references_carry_the_shop_order_number_when_unique(db: Db) {
    let t = setup(db, "off").await;
    let (_, order) = t
        .cod_order(ljubljana("Slovenska cesta 12a", "040111222"))
        .await;
    assert_ne!(order["number"], order["external_number"]);
    // The default: the shop's number, the one the buyer saw, also as the payment
    // reference.
    let (status, shipment) = t.ship(&order, json!({"carrier_id": t.gls_carrier})).await;
    assert_eq!(status, 201, "{shipment}");
    assert_eq!(shipment["reference"], order["external_number"]);
    assert_eq!(
        shipment["cash_on_delivery"]["reference"],
        order["external_number"]
    );
    let parcels = t.gls.parcels();
    assert_eq!(
        parcels[0].client_reference,
        order["external_number"].as_str().unwrap()
    );

    // Another shop of the company has an order with the same number: it no longer
    // tells the orders apart, so tovor's number is used.
    let (_, second) = t.cod_order(ljubljana("Trg 1", "040111222")).await;
    let shop = t.s.get(&format!("/api/v1/shops/{}", t.s.shop_id)).await;
    let (status, custom) =
        t.s.post(
            "/api/v1/shops",
            json!({"name": "Own shop", "warehouse_id": shop["warehouse_id"]}),
        )
        .await;
    assert_eq!(status, 201, "{custom}");
    let (status, twin) =
        t.s.post(
            &format!("/api/v1/shops/{}/orders", custom["id"]),
            json!({
                "id": "twin-1",
                "number": second["external_number"],
                "status": "processing",
                "payment_status": "paid",
                "currency": "EUR",
                "prices_include_tax": false,
                "created_at": "2026-11-28T09:00:00Z",
                "modified_at": "2026-11-28T09:00:00Z",
                "customer": {"email": "bo@example.com", "first_name": "Bo", "last_name": "Buyer"},
                "lines": [{"sku": "TEA", "name": "Tea", "quantity": "1", "unit_price": "4.00",
                           "tax_rate": "9.5", "tax_amount": "0.38", "total": "4.00"}],
                "tax_total": "0.38",
                "total": "4.38"
            }),
        )
        .await;
    assert!(status == 200 || status == 201, "{twin}");
    let (status, shipment) = t.ship(&second, json!({"carrier_id": t.gls_carrier})).await;
    assert_eq!(status, 201, "{shipment}");
    assert_eq!(shipment["reference"], second["number"]);

    // A connection set to tovor's numbers uses them.
    let (status, carrier) =
        t.s.service
            .call(
                reqwest::Method::PATCH,
                &format!("/api/v1/carriers/{}", t.gls_carrier),
                Some(&t.s.token),
                Some(json!({"order_reference": "tovor"})),
            )
            .await
            .unwrap();
    assert_eq!(status, 200, "{carrier}");
    assert_eq!(carrier["order_reference"], "tovor");
    let (status, shipment) = t
        .ship(
            &order,
            json!({"carrier_id": t.gls_carrier, "additional": true}),
        )
        .await;
    assert_eq!(status, 201, "{shipment}");
    assert_eq!(
        shipment["reference"],
        format!("{}-2", order["number"].as_str().unwrap())
    );
}

/// A person sets a status the carrier does not tell: kept as a `manual` event with the
/// note, a final one stops tracking; a bad status names the field. A carrier without a
/// hand-over (GLS) refuses the day's list clearly, and so does one with nothing waiting.
async fn a_status_is_set_by_hand_and_a_carrier_without_hand_over_says_so(db: Db) {
    let t = setup(db, "off").await;
    let (_, order) = t
        .cod_order(ljubljana("Slovenska cesta 12a", "040 111 222"))
        .await;
    let (status, shipment) = t.ship(&order, json!({"carrier_id": t.gls_carrier})).await;
    assert_eq!(status, 201, "{shipment}");
    let id = shipment["id"].as_i64().unwrap();

    let (status, refused) =
        t.s.post(
            &format!("/api/v1/shipments/{id}/status"),
            json!({"status": "teleported"}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"]["field"], "status", "{refused}");

    let (status, set) =
        t.s.post(
            &format!("/api/v1/shipments/{id}/status"),
            json!({"status": "delivered", "note": "Signed for by the neighbour"}),
        )
        .await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["status"], "delivered");
    assert!(
        set["next_track_at"].is_null(),
        "a delivered parcel is not tracked: {set}"
    );
    let manual = set["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|event| event["raw_code"] == "manual")
        .unwrap_or_else(|| panic!("no manual event: {set}"));
    assert_eq!(manual["raw_text"], "Signed for by the neighbour");
    assert_eq!(manual["status"], "delivered");

    let (status, refused) =
        t.s.post(
            &format!("/api/v1/carriers/{}/handovers", t.gls_carrier),
            json!({}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("has no hand-over"),
        "{refused}"
    );
    let (status, refused) =
        t.s.post(
            &format!("/api/v1/carriers/{}/handovers", t.gls_carrier),
            json!({"date": "3.12.2026"}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"]["field"], "date", "{refused}");
    let listed =
        t.s.get(&format!("/api/v1/carriers/{}/handovers", t.gls_carrier))
            .await;
    assert_eq!(listed, json!([]));
}
