//! Carrier connections and shipments: references unique per company, the shipment
//! recorded (and leased) before the carrier is called, settled after a crash, labels
//! kept as first received, tracking events kept once with the status they imply.
//! Each test runs on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;

use support::{NOW, TestDb, line, order, tenant};
use time::Duration;
use tovor_domain::order::Address;
use tovor_domain::shipping::{
    CashOnDelivery, CodRounding, OrderReference, PollPolicy, ShipmentPlan, ShipmentState,
    ShipmentStatus,
};
use tovor_domain::{CarrierId, OrderId};
use tovor_store::orders::Source;
use tovor_store::shipping::{
    CarrierSettings, CarrierShipment, Shipment, ShipmentEvent, ShipmentWork, StoredLabel, TellShop,
};
use tovor_store::shops::ShopSettings;
use tovor_store::{StoreError, StoreResult};

on_both!(
    references_come_from_the_order_number_and_never_repeat,
    a_created_shipment_keeps_its_first_label_and_outcome,
    a_shipment_whose_process_died_is_settled_after_its_lease,
    tracking_events_are_kept_once_and_set_the_status,
    another_companys_shipment_is_not_found,
    a_reference_never_sent_is_given_back_and_shop_numbers_are_used_when_unique,
);

fn carrier_settings(tell_shop: TellShop) -> CarrierSettings {
    CarrierSettings {
        name: "GLS Slovenia".into(),
        plugin_id: "gls".into(),
        config: [("country".to_owned(), "SI".to_owned())].into(),
        sealed_secrets: Some("sealed".into()),
        sender: Address {
            name: Some("Trgovina d.o.o.".into()),
            ..Address::default()
        },
        label_format: Some("A4_2x2".into()),
        services: vec!["SM2".into()],
        default_weight_grams: 1500,
        tell_shop,
        cod_rounding: CodRounding::default(),
        order_reference: OrderReference::Tovor,
    }
}

fn plan() -> ShipmentPlan {
    ShipmentPlan {
        reference: "ignored".into(),
        sender: Address::default(),
        recipient: Address::default(),
        parcels: vec![],
        cash_on_delivery: None,
        pickup_point: None,
        services: vec![],
        value: support::d("10"),
        currency: "EUR".into(),
        note: None,
    }
}

struct Setup {
    t: support::Tenant,
    order: OrderId,
    number: String,
    carrier: CarrierId,
}

async fn setup(db: &TestDb, name: &str, tell_shop: TellShop) -> Setup {
    let t = tenant(&db.store, name, |_| {}).await;
    let scope = t.scope(&db.store);
    let imported = scope
        .import_order(
            t.shop,
            &order("1", vec![line("MUG-1", "p1", "1", "12.20")], 0),
            Source("webhook"),
            NOW,
        )
        .await
        .unwrap();
    let carrier = scope
        .create_carrier(&carrier_settings(tell_shop), NOW)
        .await
        .unwrap();
    assert_eq!(scope.carrier(carrier.id).await.unwrap(), carrier);
    Setup {
        t,
        order: imported.order,
        number: imported.number,
        carrier: carrier.id,
    }
}

const LEASE: Duration = Duration::minutes(10);

impl Setup {
    /// The tenant's order's first shipment with its carrier, leased to `owner`.
    async fn record(&self, db: &TestDb, owner: &str) -> StoreResult<Shipment> {
        self.t
            .scope(&db.store)
            .record_shipment(
                self.order,
                self.carrier,
                (&plan(), false),
                owner,
                NOW + LEASE,
                NOW,
            )
            .await
    }
}

async fn references_come_from_the_order_number_and_never_repeat(db: TestDb) {
    let s = setup(&db, "A", TellShop::Created).await;
    let scope = s.t.scope(&db.store);
    let first = s.record(&db, "api").await.unwrap();
    assert_eq!(first.reference, s.number);
    assert_eq!(first.state, ShipmentState::Requested);
    assert_eq!(first.plan.reference, s.number);
    // Recording it marks the order as shipped and says so in its history.
    let order = scope.order(s.order).await.unwrap();
    assert!(order.touched.shipment_created);
    let history = scope.order_history(s.order).await.unwrap();
    assert!(
        history
            .iter()
            .any(|entry| entry.action == "shipment_requested")
    );

    // A second shipment must be asked for: a double click does not send two parcels.
    let again = s.record(&db, "api").await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");

    // Concurrent additional shipments of one order still get distinct references.
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = db.store.clone();
        let (company, order, carrier) = (s.t.company, s.order, s.carrier);
        tasks.push(tokio::spawn(async move {
            store
                .company(company)
                .record_shipment(order, carrier, (&plan(), true), "api", NOW + LEASE, NOW)
                .await
                .unwrap()
                .reference
        }));
    }
    let mut references = BTreeSet::new();
    for task in tasks {
        references.insert(task.await.unwrap());
    }
    references.insert(first.reference);
    let expected: BTreeSet<String> = std::iter::once(s.number.clone())
        .chain((2..=5).map(|n| format!("{}-{n}", s.number)))
        .collect();
    assert_eq!(references, expected);
    assert_eq!(scope.order_shipment_count(s.order).await.unwrap(), 5);

    // Concurrent first shipments of another order: exactly one is made.
    let other = setup(&db, "B", TellShop::Created).await;
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = db.store.clone();
        let (company, order, carrier) = (other.t.company, other.order, other.carrier);
        tasks.push(tokio::spawn(async move {
            store
                .company(company)
                .record_shipment(order, carrier, (&plan(), false), "api", NOW + LEASE, NOW)
                .await
        }));
    }
    let mut made = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => made += 1,
            Err(error) => assert!(matches!(error, StoreError::Conflict(_)), "{error:?}"),
        }
    }
    assert_eq!(made, 1);
}

async fn a_created_shipment_keeps_its_first_label_and_outcome(db: TestDb) {
    let s = setup(&db, "A", TellShop::Created).await;
    let scope = s.t.scope(&db.store);
    let shipment = s.record(&db, "api").await.unwrap();
    let created = CarrierShipment {
        shipment_id: "1001".into(),
        tracking_numbers: vec!["5000000001".into(), "5000000002".into()],
        label: Some(StoredLabel {
            content_type: "application/pdf".into(),
            data: b"%PDF-1.4 first".to_vec(),
        }),
    };
    assert!(
        scope
            .shipment_created(shipment.id, &created, NOW, true, NOW)
            .await
            .unwrap()
    );
    // A late second answer (a reconciliation racing the original call) changes nothing.
    let other = CarrierShipment {
        shipment_id: "2002".into(),
        tracking_numbers: vec!["9".into()],
        label: Some(StoredLabel {
            content_type: "application/pdf".into(),
            data: b"%PDF-1.4 second".to_vec(),
        }),
    };
    assert!(
        !scope
            .shipment_created(shipment.id, &other, NOW, true, NOW)
            .await
            .unwrap()
    );
    scope
        .store_label(
            shipment.id,
            other.label.as_ref().unwrap(),
            NOW + Duration::minutes(1),
        )
        .await
        .unwrap();
    let kept = scope.shipment(shipment.id).await.unwrap();
    assert_eq!(kept.state, ShipmentState::Created);
    assert_eq!(kept.carrier_shipment_id.as_deref(), Some("1001"));
    assert_eq!(kept.tracking_numbers, created.tracking_numbers);
    assert!(kept.has_label);
    assert_eq!(kept.shop_notice, "due");
    assert_eq!(kept.next_step_at, None);
    let label = scope.shipment_label(shipment.id).await.unwrap().unwrap();
    assert_eq!(label.data, b"%PDF-1.4 first");
    // Nothing more to settle; tracking and the shop notice are due.
    let settle = db
        .store
        .claim_shipments(ShipmentWork::Settle, "w", 10, LEASE, NOW + LEASE * 2)
        .await
        .unwrap();
    assert!(settle.is_empty());
    let track = db
        .store
        .claim_shipments(ShipmentWork::Track, "w", 10, LEASE, NOW)
        .await
        .unwrap();
    assert_eq!(track.len(), 1);
    let notice = db
        .store
        .claim_shipments(ShipmentWork::TellShop, "w2", 10, LEASE, NOW)
        .await
        .unwrap();
    // Held by the tracking claim until its lease runs out.
    assert!(notice.is_empty());
    db.store.release_shipment(&track[0], "w").await.unwrap();
    let notice = db
        .store
        .claim_shipments(ShipmentWork::TellShop, "w2", 10, LEASE, NOW)
        .await
        .unwrap();
    assert_eq!(notice.len(), 1);
    assert_eq!(notice[0].order, s.order);
}

async fn a_shipment_whose_process_died_is_settled_after_its_lease(db: TestDb) {
    let s = setup(&db, "A", TellShop::Created).await;
    let scope = s.t.scope(&db.store);
    let shipment = s.record(&db, "node-a").await.unwrap();
    // While the creating call may still be running, nobody else touches it.
    let early = db
        .store
        .claim_shipments(
            ShipmentWork::Settle,
            "node-b",
            10,
            LEASE,
            NOW + Duration::minutes(5),
        )
        .await
        .unwrap();
    assert!(early.is_empty());
    // Its process restarts: the shipment is due at once (not after the lease).
    db.store.release_leases("node-a").await.unwrap();
    let claimed = db
        .store
        .claim_shipments(
            ShipmentWork::Settle,
            "node-a",
            10,
            LEASE,
            time::OffsetDateTime::now_utc() + Duration::seconds(1),
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].shipment, shipment.id);

    // The worker could not find it yet: it looks again later, and only a failed or
    // settled shipment may be created again.
    scope
        .shipment_outcome_unknown(shipment.id, "timed out", Some(NOW + LEASE), NOW)
        .await
        .unwrap();
    scope
        .shipment_lookup_missed(shipment.id, NOW + LEASE * 2, NOW + LEASE)
        .await
        .unwrap();
    let waiting = scope.shipment(shipment.id).await.unwrap();
    assert_eq!(waiting.state, ShipmentState::UnknownOutcome);
    assert_eq!(waiting.lookups, 1);
    assert_eq!(waiting.error.as_deref(), Some("timed out"));
    assert!(
        scope
            .retry_shipment(shipment.id, "node-a", NOW + LEASE * 3, NOW + LEASE * 2)
            .await
            .unwrap()
    );
    // Requested again: a second retry is refused until this one has an outcome.
    assert!(
        !scope
            .retry_shipment(shipment.id, "node-b", NOW + LEASE * 3, NOW + LEASE * 2)
            .await
            .unwrap()
    );
    let again = scope.shipment(shipment.id).await.unwrap();
    assert_eq!(
        (again.state, again.create_attempts),
        (ShipmentState::Requested, 2)
    );
    scope
        .shipment_failed(
            shipment.id,
            "invalid-input: zip",
            Some("shipping.postal_code"),
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(
        scope.shipment(shipment.id).await.unwrap().state,
        ShipmentState::Failed
    );
}

fn event(number: &str, minute: i64, status: ShipmentStatus, code: &str) -> ShipmentEvent {
    ShipmentEvent {
        tracking_number: number.into(),
        at: NOW + Duration::minutes(minute),
        status,
        raw_code: code.into(),
        raw_text: format!("carrier text {code}"),
        location: Some("Ljubljana".into()),
    }
}

async fn tracking_events_are_kept_once_and_set_the_status(db: TestDb) {
    let s = setup(&db, "A", TellShop::Delivered).await;
    let scope = s.t.scope(&db.store);
    let shipment = s.record(&db, "api").await.unwrap();
    let created = CarrierShipment {
        shipment_id: "7".into(),
        tracking_numbers: vec!["Z1".into()],
        label: None,
    };
    scope
        .shipment_created(shipment.id, &created, NOW, false, NOW)
        .await
        .unwrap();
    let policy = PollPolicy::default();
    let first = [
        event("Z1", 1, ShipmentStatus::Pending, "1"),
        event("Z1", 60, ShipmentStatus::InTransit, "4"),
    ];
    let status = scope
        .record_tracking(shipment.id, &first, &policy, true, NOW + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(status, ShipmentStatus::InTransit);
    // The carrier answers with the whole history again, plus what is new.
    let second = [
        event("Z1", 1, ShipmentStatus::Pending, "1"),
        event("Z1", 60, ShipmentStatus::InTransit, "4"),
        event("Z1", 120, ShipmentStatus::Delivered, "7"),
    ];
    let status = scope
        .record_tracking(
            shipment.id,
            &second,
            &policy,
            true,
            NOW + Duration::hours(3),
        )
        .await
        .unwrap();
    assert_eq!(status, ShipmentStatus::Delivered);
    let events = scope.shipment_events(shipment.id).await.unwrap();
    assert_eq!(events, second.to_vec());
    let done = scope.shipment(shipment.id).await.unwrap();
    assert_eq!(done.status, ShipmentStatus::Delivered);
    assert_eq!(done.status_at, Some(NOW + Duration::minutes(120)));
    assert_eq!(
        done.next_track_at, None,
        "a delivered parcel is not tracked"
    );
    assert_eq!(done.shop_notice, "due", "the shop is told on delivery");
    assert!(!done.has_label);
}

async fn another_companys_shipment_is_not_found(db: TestDb) {
    let a = setup(&db, "A", TellShop::Off).await;
    let b = setup(&db, "B", TellShop::Off).await;
    let shipment = a.record(&db, "api").await.unwrap();
    let other = b.t.scope(&db.store);
    assert!(matches!(
        other.shipment(shipment.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        other.carrier(a.carrier).await,
        Err(StoreError::NotFound { .. })
    ));
    // B cannot ship A's order, nor with A's carrier.
    assert!(
        other
            .record_shipment(
                a.order,
                b.carrier,
                (&plan(), false),
                "api",
                NOW + LEASE,
                NOW
            )
            .await
            .is_err()
    );
    assert!(
        other
            .record_shipment(
                b.order,
                a.carrier,
                (&plan(), false),
                "api",
                NOW + LEASE,
                NOW
            )
            .await
            .is_err()
    );
    assert!(other.shipment_label(shipment.id).await.unwrap().is_none());
}

async fn a_reference_never_sent_is_given_back_and_shop_numbers_are_used_when_unique(db: TestDb) {
    let s = setup(&db, "A", TellShop::Created).await;
    let scope = s.t.scope(&db.store);
    let first = s.record(&db, "api").await.unwrap();
    assert_eq!(first.reference, s.number);
    scope
        .shipment_not_sent(first.id, "egress denied", NOW)
        .await
        .unwrap();
    let refused = scope.shipment(first.id).await.unwrap();
    assert_eq!(refused.state, ShipmentState::Failed);
    assert!(refused.reference_released);
    assert_eq!(
        refused.reference, s.number,
        "the planned reference is still shown"
    );
    // A shipment that gave its reference back is not created again under it.
    assert!(
        !scope
            .retry_shipment(first.id, "api", NOW + LEASE, NOW)
            .await
            .unwrap()
    );
    let next = s.record(&db, "api").await.unwrap();
    assert_eq!(next.reference, s.number);
    assert_eq!(scope.order_shipment_count(s.order).await.unwrap(), 1);

    // The shop's number ("#1") once the connection asks for it, also as the payment
    // reference; while another order of the company has it too, tovor's number.
    let mut settings = scope.carrier(s.carrier).await.unwrap().settings;
    settings.order_reference = OrderReference::Auto;
    scope.update_carrier(s.carrier, &settings).await.unwrap();
    let mut plan = plan();
    plan.cash_on_delivery = Some(CashOnDelivery {
        amount: "10".parse().unwrap(),
        currency: "EUR".into(),
        reference: "ignored".into(),
        rounded_from: None,
    });
    let by_shop = scope
        .record_shipment(s.order, s.carrier, (&plan, true), "api", NOW + LEASE, NOW)
        .await
        .unwrap();
    assert_eq!(by_shop.reference, "#1-2");
    assert_eq!(by_shop.plan.cash_on_delivery.unwrap().reference, "#1");
    let second_shop = scope
        .create_shop(
            &ShopSettings::new("Second shop", "woocommerce", s.t.warehouse),
            NOW,
        )
        .await
        .unwrap();
    scope
        .import_order(
            second_shop,
            &order("1", vec![line("MUG-1", "p1", "1", "12.20")], 0),
            Source("webhook"),
            NOW,
        )
        .await
        .unwrap();
    let shared = scope
        .record_shipment(s.order, s.carrier, (&plan, true), "api", NOW + LEASE, NOW)
        .await
        .unwrap();
    assert_eq!(shared.reference, format!("{}-3", s.number));
    settings.order_reference = OrderReference::Shop;
    scope.update_carrier(s.carrier, &settings).await.unwrap();
    let refused = scope
        .record_shipment(s.order, s.carrier, (&plan, true), "api", NOW + LEASE, NOW)
        .await;
    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "{refused:?}"
    );
}
