//! The rules in the order the storage layer calls them for one pushed order.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rust_decimal::Decimal;
use tovor_domain::document::{DocumentKind, LineRef, draft_document};
use tovor_domain::import::{ImportDecision, ImportSettings, decide};
use tovor_domain::mapping::{
    HostStatus, PaymentMapping, PaymentResolution, StatusOverride, map_payment, map_status,
};
use tovor_domain::matching::{
    CustomerMatch, InMemoryCustomers, InMemoryItems, ItemMatch, match_customer, match_item,
};
use tovor_domain::order::{NormalizedOrder, content_hash, validate};
use tovor_domain::stock::{
    Movement, MovementKind, StockLevel, StockMode, movements_for_issue, shop_quantity,
};
use tovor_domain::{CustomerId, DocumentId, HostPaymentMethodId, ItemId, WarehouseId};

const PUSHED: &str = r#"{
    "id": "A-17", "number": "17", "status": "processing", "status_raw": "paid",
    "payment_status": "paid",
    "payment_method": {"code": "card", "title": "Credit card"},
    "currency": "EUR", "prices_include_tax": false,
    "created_at": "2026-05-04T08:00:00Z", "modified_at": "2026-05-04T08:05:00Z",
    "customer": {"email": "Mia@Example.com", "first_name": "Mia", "last_name": "Kos"},
    "billing": {"name": "Mia Kos", "street": "Trg", "house_number": "1", "city": "Koper",
                "postal_code": "6000", "country": "SI"},
    "lines": [
        {"platform_line_id": "1", "sku": "MUG", "name": "Mug", "product_id": "10",
         "quantity": "2", "unit_price": "8.20", "tax_rate": "22", "tax_amount": "3.61",
         "total": "16.40"},
        {"platform_line_id": "2", "sku": "NEW-1", "name": "Tea towel", "product_id": "11",
         "quantity": "1", "unit_price": "5", "tax_rate": "22", "tax_amount": "1.10",
         "total": "5.00"}
    ],
    "shipping_lines": [{"title": "Post", "amount": "3.28", "tax_rate": "22", "tax_amount": "0.72"}],
    "shipping_total": "3.28", "tax_total": "5.43", "total": "30.11"
}"#;

#[test]
fn a_pushed_order_from_import_to_stock() {
    let order: NormalizedOrder = serde_json::from_str(PUSHED).unwrap();
    assert_eq!(validate(&order), Ok(()));

    let hash = content_hash(&order);
    let settings = ImportSettings {
        update_existing: false,
    };
    assert_eq!(
        decide(None, &order, &hash, settings),
        ImportDecision::Create
    );

    let mut items = InMemoryItems::default();
    items.insert_code("MUG", ItemId(1));
    let mut matched = Vec::new();
    for line in &order.lines {
        match match_item(line, order.prices_include_tax, &items) {
            ItemMatch::Linked(item) | ItemMatch::BySku(item) => matched.push(item),
            ItemMatch::Create(new) => {
                assert_eq!((new.code.as_str(), new.unit.as_str()), ("NEW-1", "pcs"));
                items.insert_code(&new.code, ItemId(2));
                matched.push(ItemId(2));
            }
        }
    }
    assert_eq!(matched, [ItemId(1), ItemId(2)]);

    let mut customers = InMemoryCustomers::default();
    customers.insert_email("mia@example.com", CustomerId(5));
    assert_eq!(
        match_customer(&order, &customers),
        CustomerMatch::ByEmail(CustomerId(5))
    );

    let method = order.payment_method.as_ref().unwrap();
    let mappings = [PaymentMapping {
        code: String::new(),
        title: "credit card".into(),
        method: HostPaymentMethodId(3),
    }];
    assert_eq!(
        map_payment(method, &mappings),
        PaymentResolution::Mapped(HostPaymentMethodId(3))
    );
    let overrides = [StatusOverride {
        raw: "paid".into(),
        status: HostStatus::Processing,
    }];
    assert_eq!(
        map_status(order.status, &order.status_raw, &overrides),
        HostStatus::Processing
    );

    let note = draft_document(
        DocumentKind::DeliveryNote,
        &order,
        Some(&[(LineRef::Item(0), Decimal::ONE)]),
        &[],
    )
    .unwrap();
    let item_of = |line: LineRef| match line {
        LineRef::Item(n) => matched.get(n as usize).copied(),
        _ => None,
    };
    let moves = movements_for_issue(&note, DocumentId(40), WarehouseId(1), true, item_of).unwrap();
    let mut ledger = vec![Movement {
        item: ItemId(1),
        warehouse: WarehouseId(1),
        quantity: Decimal::from(10),
        kind: MovementKind::Receipt,
    }];
    ledger.extend(moves);
    let open = [tovor_domain::stock::OpenOrderLine {
        item: ItemId(1),
        ordered: Decimal::from(2),
        delivered: Decimal::ONE,
    }];
    let level = StockLevel::compute(&ledger, &open);
    assert_eq!(
        (level.on_hand, level.reserved, level.available),
        (Decimal::from(9), Decimal::ONE, Decimal::from(8))
    );
    assert_eq!(shop_quantity(&level, StockMode::Available), 8);

    let invoice = draft_document(DocumentKind::Invoice, &order, None, &[]).unwrap();
    assert_eq!(invoice.totals.gross, order.total);
}
