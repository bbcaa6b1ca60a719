//! Company isolation and API tokens: one company's records are invisible to another at
//! the storage level. Each test runs on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{NOW, TestDb, d, tenant, two_line_order};
use tovor_domain::document::DocumentKind;
use tovor_domain::mapping::HostStatus;
use tovor_store::StoreError;
use tovor_store::catalog::{ItemInput, ItemLink};
use tovor_store::orders::Source;
use tovor_store::shops::ShopSettings;
use tovor_store::stock::ManualMovement;

const USER: Source<'static> = Source("user");

on_both!(
    another_company_sees_and_touches_nothing,
    tokens_authenticate_their_company_only
);

fn is_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound { .. }))
}

async fn another_company_sees_and_touches_nothing(db: TestDb) {
    let a = tenant(&db.store, "Alpha", |_| {}).await;
    let b = tenant(&db.store, "Beta", |_| {}).await;
    let alpha = a.scope(&db.store);
    let beta = b.scope(&db.store);

    let imported = alpha
        .import_order(a.shop, &two_line_order("1001", 0), USER, NOW)
        .await
        .unwrap();
    let item = imported.items_created[0];
    let customer = imported.customer_created.unwrap();
    alpha
        .record_movement(
            item,
            a.warehouse,
            d("5"),
            ManualMovement::Receipt,
            None,
            NOW,
        )
        .await
        .unwrap();
    let invoice = alpha
        .issue_document(imported.order, DocumentKind::Invoice, None, USER, NOW)
        .await
        .unwrap();
    let method = alpha
        .create_payment_method("COD", "Cash on delivery", true)
        .await
        .unwrap();

    // Reads of Alpha's records through Beta's scope.
    assert!(is_not_found(beta.order(imported.order).await));
    assert!(is_not_found(beta.order_history(imported.order).await));
    assert!(is_not_found(beta.item(item).await));
    assert!(is_not_found(beta.customer(customer).await));
    assert!(is_not_found(beta.shop(a.shop).await));
    assert!(is_not_found(beta.document(invoice.id).await));
    assert!(is_not_found(beta.stock_level(item, a.warehouse).await));
    assert!(is_not_found(beta.payment_mappings(a.shop).await));
    assert!(is_not_found(beta.status_mappings(a.shop).await));
    assert_eq!(
        beta.order_by_external_id(a.shop, "1001").await.unwrap(),
        None
    );
    assert!(beta.orders(None, None, 100).await.unwrap().is_empty());
    assert!(
        beta.orders(Some(a.shop), None, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(beta.items(None, 100).await.unwrap().is_empty());
    assert!(beta.customers(None, 100).await.unwrap().is_empty());
    assert!(beta.item_links(item).await.unwrap().is_empty());
    assert!(beta.movements(item, a.warehouse).await.unwrap().is_empty());
    assert!(beta.stock_changes(0, 100).await.unwrap().is_empty());
    assert!(
        beta.order_documents(imported.order)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        beta.unmapped_payment_methods(None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(beta.payment_methods().await.unwrap(), []);
    assert_eq!(beta.shops().await.unwrap().len(), 1);
    assert_eq!(beta.warehouses().await.unwrap().len(), 1);
    assert!(
        beta.document_numbers(DocumentKind::Invoice, 2026)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        beta.on_hand_from_ledger(item, a.warehouse).await.unwrap(),
        d("0")
    );

    // Writes aimed at Alpha's records through Beta's scope.
    assert!(is_not_found(
        beta.import_order(a.shop, &two_line_order("2002", 0), USER, NOW)
            .await
    ));
    assert!(is_not_found(
        beta.issue_document(imported.order, DocumentKind::DeliveryNote, None, USER, NOW)
            .await
    ));
    assert!(is_not_found(
        beta.cancel_document(invoice.id, USER, NOW).await
    ));
    assert!(is_not_found(
        beta.set_order_status(imported.order, HostStatus::Cancelled, USER, NOW)
            .await
    ));
    assert!(is_not_found(
        beta.record_movement(
            item,
            b.warehouse,
            d("1"),
            ManualMovement::Receipt,
            None,
            NOW
        )
        .await
    ));
    assert!(is_not_found(
        beta.map_status(a.shop, "x", HostStatus::New).await
    ));
    assert!(is_not_found(
        beta.map_payment_method(a.shop, "cod", "", method).await
    ));
    assert!(is_not_found(
        beta.map_payment_method(b.shop, "cod", "", method).await
    ));
    assert!(is_not_found(
        beta.update_shop(a.shop, &ShopSettings::new("x", "y", b.warehouse))
            .await
    ));
    assert!(is_not_found(
        beta.create_shop(&ShopSettings::new("x", "y", a.warehouse), NOW)
            .await
    ));
    let stolen_link = ItemLink {
        shop: b.shop,
        item,
        product_id: "1".into(),
        variation_id: None,
        inventory_id: None,
    };
    assert!(is_not_found(beta.link_item(&stolen_link).await));
    let own = ItemInput {
        code: "OWN".into(),
        name: "Own item".into(),
        unit: "pcs".into(),
        vat_rate: d("22"),
        price: d("1"),
        barcode: None,
    };
    let own = beta.create_item(&own, NOW).await.unwrap();
    let onto_their_shop = ItemLink {
        shop: a.shop,
        item: own,
        ..stolen_link
    };
    assert!(is_not_found(beta.link_item(&onto_their_shop).await));

    // Alpha's records are as they were.
    let order = alpha.order(imported.order).await.unwrap();
    assert_eq!(order.status, HostStatus::Processing);
    assert_eq!(
        alpha.document(invoice.id).await.unwrap().state,
        invoice.state
    );
    assert_eq!(
        alpha.stock_level(item, a.warehouse).await.unwrap().on_hand,
        d("5")
    );
    assert!(
        alpha
            .item_links(item)
            .await
            .unwrap()
            .iter()
            .all(|link| link.shop == a.shop)
    );
}

async fn tokens_authenticate_their_company_only(db: TestDb) {
    let a = tenant(&db.store, "Alpha", |_| {}).await;
    let b = tenant(&db.store, "Beta", |_| {}).await;
    let token = db
        .store
        .create_api_token(a.company, "shop sync", NOW)
        .await
        .unwrap();
    assert!(token.secret.starts_with("tovor_"));
    assert_eq!(
        db.store.authenticate(&token.secret).await.unwrap(),
        Some(a.company)
    );
    assert_eq!(db.store.authenticate("tovor_0000").await.unwrap(), None);
    assert_eq!(db.store.authenticate("").await.unwrap(), None);

    let listed = db.store.api_tokens(a.company).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(token.secret.starts_with(&listed[0].prefix));
    assert!(
        listed[0].prefix.len() < token.secret.len() / 2,
        "only a prefix is listed"
    );
    assert!(db.store.api_tokens(b.company).await.unwrap().is_empty());

    assert!(is_not_found(
        db.store.revoke_api_token(b.company, token.id, NOW).await
    ));
    assert_eq!(
        db.store.authenticate(&token.secret).await.unwrap(),
        Some(a.company)
    );
    let revoked = db
        .store
        .revoke_api_token(a.company, token.id, NOW)
        .await
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(NOW));
    assert_eq!(db.store.authenticate(&token.secret).await.unwrap(), None);
    // Revoking again changes nothing and says when it was revoked.
    let again = db
        .store
        .revoke_api_token(a.company, token.id, NOW + time::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(again.revoked_at, Some(NOW));
    assert_eq!(
        db.store.api_tokens(a.company).await.unwrap()[0].revoked_at,
        Some(NOW)
    );
    assert!(db.store.find_company(a.company).await.unwrap().is_some());
    assert!(
        db.store
            .find_company(tovor_domain::CompanyId(999_999))
            .await
            .unwrap()
            .is_none()
    );
}
