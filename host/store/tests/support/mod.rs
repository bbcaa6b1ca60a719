//! Test databases and fixtures for the store's tests and benchmark.
//!
//! Every test gets its own database: a SQLite file in a temporary folder, or a fresh
//! schema in the PostgreSQL at `TOVOR_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped afterwards. So tests run in
//! parallel, and the same test runs on both.
#![allow(dead_code)]

use rust_decimal::Decimal;
use time::OffsetDateTime;
use time::macros::datetime;
use tovor_domain::order::{
    Address, ChargeLine, Customer, LineItem, NormalizedOrder, OrderStatus, PaymentMethod,
    PaymentStatus,
};
use tovor_domain::{CompanyId, OrderId, ShopId, WarehouseId};
use tovor_store::shops::ShopSettings;
use tovor_store::{CompanyScope, Store, StoreOptions};

pub struct TestDb {
    pub store: Store,
    /// The URL the store was opened with.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { url: String, schema: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { url, schema } = &self.cleanup {
            let (url, schema) = (url.clone(), schema.clone());
            // Drop is synchronous and may run inside the test's runtime: use a thread
            // with its own runtime and connection.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(async move {
                        use sqlx::Connection;
                        if let Ok(mut conn) = sqlx::PgConnection::connect(&url).await {
                            let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                                .execute(&mut conn)
                                .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

pub use tovor_testdb::postgres_url;

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tovor.db").display());
    let store = Store::open(&url).await.unwrap();
    TestDb {
        store,
        url,
        cleanup: Cleanup::Sqlite(dir),
    }
}

pub async fn postgres() -> TestDb {
    use sqlx::Connection;
    let url = postgres_url();
    let schema = format!("tovor_test_{}", hex_id());
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .unwrap_or_else(|error| {
            panic!(
                "PostgreSQL at {url} is needed for the PostgreSQL half of the tests \
             (set TOVOR_TEST_POSTGRES_URL): {error}"
            )
        });
    let sql = format!("CREATE SCHEMA \"{schema}\"");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{separator}options=-c%20search_path%3D{schema}");
    let store = Store::open_with(
        &scoped,
        StoreOptions {
            max_connections: 6,
            ..StoreOptions::default()
        },
    )
    .await
    .unwrap();
    TestDb {
        store,
        url: scoped,
        cleanup: Cleanup::Postgres { url, schema },
    }
}

fn hex_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{:x}_{:x}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs a test body once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::support::sqlite().await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if !tovor_testdb::postgres_ready() {
                        return;
                    }
                    super::$name($crate::support::postgres().await).await;
                }
            }
        )*
    };
}

pub const NOW: OffsetDateTime = datetime!(2026-11-28 12:00 UTC);

pub fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// A company with a warehouse and one shop of the given settings.
pub struct Tenant {
    pub company: CompanyId,
    pub warehouse: WarehouseId,
    pub shop: ShopId,
}

pub async fn tenant(store: &Store, name: &str, tweak: impl FnOnce(&mut ShopSettings)) -> Tenant {
    let company = store.create_company(name, NOW).await.unwrap();
    let scope = store.company(company);
    let warehouse = scope
        .create_warehouse("MAIN", "Main warehouse")
        .await
        .unwrap();
    let mut settings = ShopSettings::new(&format!("{name} shop"), "woocommerce", warehouse);
    tweak(&mut settings);
    let shop = scope.create_shop(&settings, NOW).await.unwrap();
    Tenant {
        company,
        warehouse,
        shop,
    }
}

impl Tenant {
    pub fn scope<'s>(&self, store: &'s Store) -> CompanyScope<'s> {
        store.company(self.company)
    }
}

/// The actions of an order's history, oldest first.
pub async fn history_actions(scope: &CompanyScope<'_>, order: OrderId) -> Vec<String> {
    scope
        .order_history(order)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.action)
        .collect()
}

/// A line of `quantity` × `gross_unit` (VAT included) at 22 %.
pub fn line(sku: &str, product: &str, quantity: &str, gross_unit: &str) -> LineItem {
    let quantity = d(quantity);
    let gross = (quantity * d(gross_unit)).round_dp(2);
    let tax = (gross * d("22") / d("122")).round_dp(2);
    LineItem {
        platform_line_id: Some(format!("L-{sku}")),
        sku: Some(sku.to_owned()),
        name: format!("Product {sku}"),
        product_id: Some(product.to_owned()),
        variation_id: None,
        quantity,
        ordered_quantity: None,
        unit_price: d(gross_unit),
        discount: Decimal::ZERO,
        tax_rate: Some(d("22")),
        tax_amount: tax,
        // Line totals are net, whatever the prices include.
        total: gross - tax,
    }
}

/// An order with VAT-inclusive prices whose totals add up.
pub fn order(id: &str, lines: Vec<LineItem>, modified_minute: i64) -> NormalizedOrder {
    let shipping = ChargeLine {
        platform_line_id: Some("S1".into()),
        code: Some("flat_rate".into()),
        title: "Flat rate".into(),
        amount: d("4.10"),
        tax_rate: Some(d("22")),
        tax_amount: d("0.90"),
    };
    let goods: Decimal = lines.iter().map(|line| line.total).sum();
    let tax: Decimal =
        lines.iter().map(|line| line.tax_amount).sum::<Decimal>() + shipping.tax_amount;
    let created = datetime!(2026-11-20 10:00 UTC);
    NormalizedOrder {
        id: id.to_owned(),
        number: format!("#{id}"),
        status: OrderStatus::Processing,
        status_raw: "processing".into(),
        payment_status: PaymentStatus::Paid,
        payment_method: Some(PaymentMethod {
            code: "bacs".into(),
            title: "Direct bank transfer".into(),
        }),
        currency: "EUR".into(),
        prices_include_tax: true,
        created_at: created,
        modified_at: created + time::Duration::minutes(modified_minute),
        paid_at: None,
        customer: Some(Customer {
            platform_id: Some(format!("C-{id}")),
            email: Some(format!("buyer-{id}@example.com")),
            first_name: Some("Ana".into()),
            last_name: Some("Novak".into()),
            company: None,
            vat_id: None,
            phone: Some("+38640111222".into()),
        }),
        billing: Some(Address {
            name: Some("Ana Novak".into()),
            street: Some("Slovenska cesta".into()),
            house_number: Some("12a".into()),
            city: Some("Ljubljana".into()),
            postal_code: Some("1000".into()),
            country: Some("SI".into()),
            email: Some(format!("buyer-{id}@example.com")),
            ..Address::default()
        }),
        shipping: None,
        lines,
        shipping_lines: vec![shipping.clone()],
        fees: Vec::new(),
        coupons: Vec::new(),
        discount_total: Decimal::ZERO,
        shipping_total: shipping.amount,
        tax_total: tax,
        total: goods + shipping.amount + tax,
        refunds: Vec::new(),
        customer_note: None,
        pickup_point: None,
    }
}

/// The usual two-line order.
pub fn two_line_order(id: &str, modified_minute: i64) -> NormalizedOrder {
    order(
        id,
        vec![
            line("MUG-1", "101", "2", "12.20"),
            line("TEE-2", "102", "1", "24.40"),
        ],
        modified_minute,
    )
}
