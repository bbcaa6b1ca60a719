use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;
use crate::order::{PickupPoint, Refund};
use crate::test_support::{at, d, order};

fn gls() -> CarrierFacts {
    CarrierFacts {
        name: "GLS".into(),
        plugin_id: "gls".into(),
        cash_on_delivery: true,
        cod_currencies: vec!["EUR".into(), "HUF".into(), "CZK".into()],
        pickup_points: true,
    }
}

fn sender() -> Address {
    Address {
        name: Some("Trgovina d.o.o.".into()),
        street: Some("Dunajska cesta 5".into()),
        city: Some("Ljubljana".into()),
        postal_code: Some("1000".into()),
        country: Some("SI".into()),
        phone: Some("01 234 56 78".into()),
        ..Address::default()
    }
}

fn plan_with(
    order: &NormalizedOrder,
    carrier: &CarrierFacts,
    cod_method: bool,
    choices: &ShipmentChoices,
) -> Result<ShipmentPlan, Vec<FieldProblem>> {
    plan_shipment(&ShipmentInput {
        order_number: "2026-00042",
        order,
        earlier_shipments: 0,
        payment_is_cash_on_delivery: cod_method,
        sender: &sender(),
        carrier,
        default_weight_grams: 1000,
        default_services: &["SM2".to_owned()],
        cod_rounding: &CodRounding::default(),
        choices,
    })
}

fn cod_order() -> NormalizedOrder {
    let mut order = order();
    order.payment_status = PaymentStatus::Unpaid;
    order
}

fn fields(problems: &[FieldProblem]) -> Vec<&str> {
    problems.iter().map(|p| p.field.as_str()).collect()
}

#[test]
fn slovenian_street_lines_split_into_street_and_house_number() {
    let cases = [
        ("Slovenska cesta 12a", Some(("Slovenska cesta", "12a"))),
        ("Trg 1", Some(("Trg", "1"))),
        ("Cesta 24. junija 5", Some(("Cesta 24. junija", "5"))),
        ("Ulica talcev 5 b", Some(("Ulica talcev", "5b"))),
        ("Vojkova 12/c", Some(("Vojkova", "12/c"))),
        ("Ilica 242-14", Some(("Ilica", "242-14"))),
        ("Prešernova ulica 3,", Some(("Prešernova ulica", "3"))),
        ("  Trg   Republike   3  ", Some(("Trg Republike", "3"))),
        ("Slovenska cesta", None),
        ("12", None),
        ("", None),
        ("Cesta 12 bis dolga pripona", None),
    ];
    for (line, expected) in cases {
        let got = split_street(line);
        let expected = expected.map(|(s, n)| (s.to_owned(), n.to_owned()));
        assert_eq!(got, expected, "{line:?}");
    }
}

#[test]
fn phone_numbers_become_e164() {
    let si = Some("SI");
    assert_eq!(normalize_phone("040 111 222", si).unwrap(), "+38640111222");
    assert_eq!(
        normalize_phone("+386 40 111-222", si).unwrap(),
        "+38640111222"
    );
    assert_eq!(
        normalize_phone("00386 (40) 111 222", None).unwrap(),
        "+38640111222"
    );
    assert_eq!(normalize_phone("01/234 56 78", si).unwrap(), "+38612345678");
    assert_eq!(
        normalize_phone("091 234 5678", Some("hr")).unwrap(),
        "+385912345678"
    );
    assert_eq!(
        normalize_phone("06 30 123 4567", Some("HU")).unwrap(),
        "+36301234567"
    );
    assert_eq!(
        normalize_phone("06 1234 5678", Some("IT")).unwrap(),
        "+390612345678"
    );
    assert_eq!(
        normalize_phone("040 111 222", None),
        Err(PhoneError::NoCountry("040 111 222".into()))
    );
    assert!(matches!(
        normalize_phone("call me", si),
        Err(PhoneError::NotANumber(_))
    ));
    assert!(matches!(
        normalize_phone("12", si),
        Err(PhoneError::Length(_))
    ));
}

#[test]
fn a_paid_order_ships_without_cash_on_delivery() {
    let plan = plan_with(&order(), &gls(), true, &ShipmentChoices::default()).unwrap();
    assert_eq!(plan.cash_on_delivery, None);
    assert_eq!(plan.reference, "2026-00042");
    assert_eq!(plan.parcels.len(), 1);
    assert_eq!(plan.parcels[0].weight_grams, 1000);
    assert_eq!(plan.services, vec!["SM2".to_owned()]);
    assert_eq!(plan.value, d("43.26"));
    assert_eq!(plan.recipient.house_number.as_deref(), Some("12a"));
    assert_eq!(plan.sender.street.as_deref(), Some("Dunajska cesta"));
    assert_eq!(plan.sender.house_number.as_deref(), Some("5"));
    assert_eq!(plan.sender.phone.as_deref(), Some("+38612345678"));
}

#[test]
fn an_unpaid_order_with_a_cash_on_delivery_method_collects_its_open_amount() {
    let mut order = cod_order();
    order.refunds.push(Refund {
        platform_id: None,
        amount: d("3.26"),
        reason: None,
        created_at: None,
        lines: Vec::new(),
        shipping: Decimal::ZERO,
        restock: false,
    });
    let plan = plan_with(&order, &gls(), true, &ShipmentChoices::default()).unwrap();
    assert_eq!(
        plan.cash_on_delivery,
        Some(CashOnDelivery {
            amount: d("40.00"),
            currency: "EUR".into(),
            reference: "2026-00042".into(),
            rounded_from: None,
        })
    );
    // Not mapped to cash on delivery: nothing collected unless asked.
    let plan = plan_with(&order, &gls(), false, &ShipmentChoices::default()).unwrap();
    assert_eq!(plan.cash_on_delivery, None);
    let on = ShipmentChoices {
        cash_on_delivery: CodChoice::On,
        ..ShipmentChoices::default()
    };
    assert!(
        plan_with(&order, &gls(), false, &on)
            .unwrap()
            .cash_on_delivery
            .is_some()
    );
    let off = ShipmentChoices {
        cash_on_delivery: CodChoice::Off,
        ..ShipmentChoices::default()
    };
    assert_eq!(
        plan_with(&order, &gls(), true, &off)
            .unwrap()
            .cash_on_delivery,
        None
    );
}

#[test]
fn cash_on_delivery_is_refused_where_the_carrier_or_currency_does_not_allow_it() {
    let mut order = cod_order();
    order.currency = "PLN".into();
    let problems = plan_with(&order, &gls(), true, &ShipmentChoices::default()).unwrap_err();
    assert_eq!(fields(&problems), ["cash_on_delivery"]);
    assert!(
        problems[0]
            .message
            .contains("only in EUR, HUF, CZK, not in PLN")
    );

    let no_cod = CarrierFacts {
        cash_on_delivery: false,
        ..gls()
    };
    let problems = plan_with(&cod_order(), &no_cod, true, &ShipmentChoices::default()).unwrap_err();
    assert_eq!(problems[0].message, "GLS does not collect cash on delivery");
}

#[test]
fn the_pickup_point_chosen_at_checkout_is_used_when_it_is_the_carriers() {
    let mut order = order();
    order.pickup_point = Some(PickupPoint {
        carrier: Some("Packeta".into()),
        id: "4321".into(),
        name: Some("Z-BOX Ljubljana".into()),
    });
    let packeta = CarrierFacts {
        name: "Packeta".into(),
        plugin_id: "packeta".into(),
        ..gls()
    };
    let plan = plan_with(&order, &packeta, false, &ShipmentChoices::default()).unwrap();
    assert_eq!(
        plan.pickup_point.as_ref().map(|p| p.id.as_str()),
        Some("4321")
    );
    // Another carrier's point is not sent to GLS: GLS delivers to the address.
    let plan = plan_with(&order, &gls(), false, &ShipmentChoices::default()).unwrap();
    assert_eq!(plan.pickup_point, None);
    // The user may override or decline it.
    let home = ShipmentChoices {
        home_delivery: true,
        ..ShipmentChoices::default()
    };
    assert_eq!(
        plan_with(&order, &packeta, false, &home)
            .unwrap()
            .pickup_point,
        None
    );
    let other = ShipmentChoices {
        pickup_point: Some("999".into()),
        ..ShipmentChoices::default()
    };
    assert_eq!(
        plan_with(&order, &packeta, false, &other)
            .unwrap()
            .pickup_point
            .unwrap()
            .id,
        "999"
    );
}

#[test]
fn a_pickup_point_needs_no_street_but_a_home_delivery_does() {
    let mut order = order();
    if let Some(shipping) = order.shipping.as_mut() {
        shipping.street = None;
        shipping.house_number = None;
        shipping.line1 = None;
    }
    let problems = plan_with(&order, &gls(), false, &ShipmentChoices::default()).unwrap_err();
    assert_eq!(fields(&problems), ["shipping.street"]);
    let to_point = ShipmentChoices {
        pickup_point: Some("2001-SI".into()),
        ..ShipmentChoices::default()
    };
    assert!(plan_with(&order, &gls(), false, &to_point).is_ok());
}

#[test]
fn an_address_line_without_a_house_number_is_refused_not_guessed() {
    let mut order = order();
    if let Some(shipping) = order.shipping.as_mut() {
        shipping.street = None;
        shipping.house_number = None;
        shipping.line1 = Some("Slovenska cesta".into());
    }
    let problems = plan_with(&order, &gls(), false, &ShipmentChoices::default()).unwrap_err();
    assert_eq!(fields(&problems), ["shipping.house_number"]);
    assert!(problems[0].message.contains("\"Slovenska cesta\""));
}

#[test]
fn a_shop_line_is_split_and_the_phone_normalized_for_the_carrier() {
    let mut order = order();
    if let Some(shipping) = order.shipping.as_mut() {
        shipping.street = None;
        shipping.house_number = None;
        shipping.line1 = Some("Trg 1".into());
        shipping.phone = Some("041 222 333".into());
    }
    let plan = plan_with(&order, &gls(), false, &ShipmentChoices::default()).unwrap();
    assert_eq!(plan.recipient.street.as_deref(), Some("Trg"));
    assert_eq!(plan.recipient.house_number.as_deref(), Some("1"));
    assert_eq!(plan.recipient.line1.as_deref(), Some("Trg 1"));
    assert_eq!(plan.recipient.phone.as_deref(), Some("+38641222333"));
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut order = order();
    order.shipping = None;
    order.billing = None;
    let choices = ShipmentChoices {
        parcels: vec![Parcel {
            weight_grams: 0,
            length_mm: None,
            width_mm: None,
            height_mm: None,
        }],
        ..ShipmentChoices::default()
    };
    let problems = plan_with(&order, &gls(), false, &choices).unwrap_err();
    assert_eq!(fields(&problems), ["shipping", "parcels[0].weight_grams"]);
    let too_many = ShipmentChoices {
        parcel_count: Some(1000),
        ..ShipmentChoices::default()
    };
    let problems = plan_with(&self::order(), &gls(), false, &too_many).unwrap_err();
    assert_eq!(fields(&problems), ["parcels"]);
}

#[test]
fn later_shipments_of_an_order_get_their_own_reference() {
    assert_eq!(shipment_reference("2026-00042", 0), "2026-00042");
    assert_eq!(shipment_reference("2026-00042", 1), "2026-00042-2");
    assert_eq!(shipment_reference("2026-00042", 9), "2026-00042-10");
}

#[test]
fn the_latest_known_event_gives_the_status() {
    use ShipmentStatus::*;
    let event = |seconds, status| StatusAt {
        at: at(seconds),
        status,
    };
    assert_eq!(current_status(&[]), None);
    let events = [event(0, Pending), event(10, PickedUp), event(20, InTransit)];
    assert_eq!(current_status(&events).unwrap().status, InTransit);
    // Listed out of order, and two parcels of one shipment.
    let events = [
        event(30, Delivered),
        event(10, PickedUp),
        event(20, InTransit),
    ];
    assert_eq!(current_status(&events).unwrap().status, Delivered);
    // Same instant: the one listed last wins.
    let events = [event(10, OutForDelivery), event(10, Delivered)];
    assert_eq!(current_status(&events).unwrap().status, Delivered);
    // A code the connector does not know does not hide what came before.
    let events = [event(10, Delivered), event(20, Unknown)];
    assert_eq!(current_status(&events).unwrap().status, Delivered);
    assert_eq!(
        current_status(&[event(5, Unknown)]).unwrap().status,
        Unknown
    );
    // Past `pending`, nothing more is known: handed over to a carrier without tracking.
    let events = [event(10, Pending), event(20, Unknown)];
    assert_eq!(current_status(&events).unwrap().status, Unknown);
    let events = [event(10, Pending), event(20, Unknown), event(30, InTransit)];
    assert_eq!(current_status(&events).unwrap().status, InTransit);
}

#[test]
fn final_shipments_are_not_polled_and_old_ones_are_given_up() {
    let policy = PollPolicy::default();
    let created = at(0);
    let now = at(3600);
    assert_eq!(
        policy.next_poll(ShipmentStatus::Delivered, created, now),
        None
    );
    assert_eq!(
        policy.next_poll(ShipmentStatus::Cancelled, created, now),
        None
    );
    assert_eq!(
        policy.next_poll(ShipmentStatus::InTransit, created, now),
        Some(now + policy.every)
    );
    assert_eq!(
        policy.next_poll(ShipmentStatus::Pending, created, now),
        Some(now + policy.every * 4)
    );
    let much_later = created + policy.give_up_after + time::Duration::SECOND;
    assert_eq!(
        policy.next_poll(ShipmentStatus::InTransit, created, much_later),
        None
    );
}

#[test]
fn statuses_and_states_round_trip_through_their_names() {
    for status in ShipmentStatus::ALL {
        assert_eq!(ShipmentStatus::parse(status.as_str()), Some(status));
        let json = serde_json_name(&status);
        assert_eq!(json, status.as_str());
    }
    for state in [
        ShipmentState::Requested,
        ShipmentState::Created,
        ShipmentState::UnknownOutcome,
        ShipmentState::Failed,
        ShipmentState::Cancelled,
    ] {
        assert_eq!(ShipmentState::parse(state.as_str()), Some(state));
    }
}

fn serde_json_name(status: &ShipmentStatus) -> String {
    serde_json::to_value(status)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

proptest! {
    #[test]
    fn a_split_line_puts_the_number_back_at_its_end(
        street in "[A-Za-zčšž][A-Za-zčšž. ]{0,20}[A-Za-zčšž.]",
        number in 1u32..9999,
        suffix in "(|[a-d]|/[a-c1-9])",
    ) {
        let line = format!("{street} {number}{suffix}");
        let (got_street, got_number) = split_street(&line).unwrap();
        prop_assert_eq!(got_number, format!("{number}{suffix}"));
        prop_assert_eq!(got_street, street.split_whitespace().collect::<Vec<_>>().join(" "));
    }

    #[test]
    fn normalized_phones_are_plus_and_digits(digits in "[1-9][0-9]{7,10}") {
        let e164 = normalize_phone(&format!("0{digits}"), Some("SI")).unwrap();
        prop_assert!(e164.starts_with("+386"));
        prop_assert!(e164[1..].bytes().all(|b| b.is_ascii_digit()));
        prop_assert_eq!(normalize_phone(&e164, None).unwrap(), e164.clone());
    }

    #[test]
    fn cash_on_delivery_never_exceeds_the_order_total(
        cents in 1i64..10_000_000,
        refunded in 0i64..10_000_000,
    ) {
        let mut order = cod_order();
        order.total = Decimal::new(cents, 2);
        order.refunds = vec![Refund { platform_id: None, amount: Decimal::new(refunded, 2), reason: None, created_at: None, lines: Vec::new(), shipping: Decimal::ZERO, restock: false }];
        match plan_with(&order, &gls(), true, &ShipmentChoices::default()) {
            Ok(plan) => {
                let cod = plan.cash_on_delivery.unwrap();
                prop_assert!(cod.amount > Decimal::ZERO && cod.amount <= order.total);
            }
            Err(problems) => prop_assert!(refunded >= cents && fields(&problems) == ["cash_on_delivery"]),
        }
    }
}

fn rounding(steps: &[(&str, &str)]) -> CodRounding {
    CodRounding::new(
        steps
            .iter()
            .map(|(currency, step)| ((*currency).to_owned(), d(step)))
            .collect(),
    )
    .unwrap()
}

#[test]
fn cash_on_delivery_rounds_to_the_connections_step_per_currency() {
    let steps = rounding(&[("huf", "5"), ("CZK", "1")]);
    for (amount, rounded) in [
        ("1993", "1995"),
        ("1992", "1990"),
        ("1992.50", "1995"),
        ("1997.49", "1995"),
        ("2000", "2000"),
        ("12.40", "10"),
    ] {
        assert_eq!(steps.round(d(amount), "HUF"), d(rounded), "{amount} HUF");
    }
    assert_eq!(steps.round(d("499.50"), "CZK"), d("500"));
    assert_eq!(steps.round(d("499.49"), "czk"), d("499"));
    // A currency without a step is sent as it is.
    assert_eq!(steps.round(d("24.99"), "EUR"), d("24.99"));
    for bad in [
        ("HUF", "0"),
        ("HUF", "-5"),
        ("HUF", "0.001"),
        ("FORINT", "5"),
    ] {
        assert!(
            CodRounding::new([(bad.0.to_owned(), d(bad.1))].into()).is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn a_rounded_amount_to_collect_keeps_what_it_was_rounded_from() {
    let mut order = cod_order();
    order.currency = "HUF".into();
    order.total = d("12993");
    let steps = rounding(&[("HUF", "5")]);
    let input = ShipmentInput {
        order_number: "2026-00042",
        order: &order,
        earlier_shipments: 0,
        payment_is_cash_on_delivery: true,
        sender: &sender(),
        carrier: &gls(),
        default_weight_grams: 1000,
        default_services: &[],
        cod_rounding: &steps,
        choices: &ShipmentChoices::default(),
    };
    let cod = plan_shipment(&input).unwrap().cash_on_delivery.unwrap();
    assert_eq!(
        (cod.amount, cod.rounded_from),
        (d("12995"), Some(d("12993")))
    );
    // An amount the user gives is collected exactly, whatever the order says.
    let choices = ShipmentChoices {
        cod_amount: Some(d("12990")),
        ..ShipmentChoices::default()
    };
    let mut paid = order.clone();
    paid.payment_status = PaymentStatus::Paid;
    let cod = plan_shipment(&ShipmentInput {
        choices: &choices,
        order: &paid,
        payment_is_cash_on_delivery: false,
        ..input
    })
    .unwrap()
    .cash_on_delivery
    .unwrap();
    assert_eq!((cod.amount, cod.rounded_from), (d("12990"), None));
}

#[test]
fn a_given_amount_to_collect_is_checked() {
    let order = cod_order();
    for (choices, field) in [
        (
            ShipmentChoices {
                cod_amount: Some(d("0")),
                ..ShipmentChoices::default()
            },
            "cod_amount",
        ),
        (
            ShipmentChoices {
                cod_amount: Some(d("10.005")),
                ..ShipmentChoices::default()
            },
            "cod_amount",
        ),
        (
            ShipmentChoices {
                cod_amount: Some(d("10")),
                cash_on_delivery: CodChoice::Off,
                ..ShipmentChoices::default()
            },
            "cod_amount",
        ),
    ] {
        let problems = plan_with(&order, &gls(), true, &choices).unwrap_err();
        assert_eq!(fields(&problems), [field], "{choices:?}");
    }
}

#[test]
fn references_carry_the_shop_number_when_it_is_unique_within_the_company() {
    let numbers = |shop, shared| OrderNumbers {
        tovor: "2026-00042",
        shop,
        shop_number_shared: shared,
    };
    let auto = OrderReference::Auto;
    assert_eq!(reference_number(auto, numbers("1001", false)), Ok("1001"));
    assert_eq!(
        reference_number(auto, numbers("1001", true)),
        Ok("2026-00042")
    );
    assert_eq!(
        reference_number(auto, numbers(" ", false)),
        Ok("2026-00042")
    );
    let shop = OrderReference::Shop;
    assert_eq!(reference_number(shop, numbers("1001", false)), Ok("1001"));
    assert_eq!(
        reference_number(shop, numbers("1001", true)),
        Err(ReferenceError::ShopNumberShared("1001".into()))
    );
    assert_eq!(
        reference_number(OrderReference::Tovor, numbers("1001", false)),
        Ok("2026-00042")
    );
}
