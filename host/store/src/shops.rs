//! Shops (e-stores), the host's payment methods, and each shop's payment-method and
//! status mappings.

use std::collections::BTreeMap;

use rand::RngCore;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;
use tovor_domain::company::CompanyTimeZone;
use tovor_domain::document::DocumentKind;
use tovor_domain::invoicing::{AutoInvoice, CreditNotePolicy};
use tovor_domain::mapping::{HostStatus, PaymentMapping, StatusOverride};
use tovor_domain::stock::StockMode;
use tovor_domain::{HostPaymentMethodId, ShopId, WarehouseId};

use crate::catalog::conflict;
use crate::codec::{RowExt, flag, parse_time, time_text, to_json};
use crate::error::{StoreError, StoreResult};
use crate::scope::CompanyScope;

/// A shop's settings as far as the commerce core uses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopSettings {
    pub name: String,
    /// The connector plugin's id (`woocommerce`, `shopify`, ...).
    pub plugin_id: String,
    /// Where the shop's orders take their goods from.
    pub warehouse: WarehouseId,
    /// Whether a re-imported order may change an imported one (docs/architecture.md, "The import rules").
    pub update_existing: bool,
    /// Which document moves stock: a delivery note, or the invoice where no delivery
    /// notes are used.
    pub stock_document: DocumentKind,
    /// What the shop is told: on hand or available.
    pub stock_mode: StockMode,
    /// The connector's non-secret settings (the fields its manifest declares).
    pub config: BTreeMap<String, String>,
    /// The connector's secret settings, sealed by the caller; the store keeps them as
    /// given and never reads them.
    pub sealed_secrets: Option<String>,
    /// Minutes between syncs of a shop that sends no webhooks.
    pub poll_minutes: u32,
    /// Orders placed before this are not imported.
    pub import_from: Option<OffsetDateTime>,
    pub auto_invoice: AutoInvoice,
    /// Whether the shop's refunds become credit notes by themselves.
    pub credit_notes: CreditNotePolicy,
    /// A disabled shop is neither synced nor pushed to, and its webhooks are refused.
    pub enabled: bool,
}

impl ShopSettings {
    /// Defaults for a new shop of `plugin_id` selling from `warehouse`.
    pub fn new(name: &str, plugin_id: &str, warehouse: WarehouseId) -> Self {
        Self {
            name: name.to_owned(),
            plugin_id: plugin_id.to_owned(),
            warehouse,
            update_existing: false,
            stock_document: DocumentKind::DeliveryNote,
            stock_mode: StockMode::Available,
            config: BTreeMap::new(),
            sealed_secrets: None,
            poll_minutes: DEFAULT_POLL_MINUTES,
            import_from: None,
            auto_invoice: AutoInvoice::Off,
            credit_notes: CreditNotePolicy::Offer,
            enabled: true,
        }
    }

    /// A custom-platform shop has no connector: orders arrive through the API.
    pub fn is_custom(&self) -> bool {
        self.plugin_id.is_empty()
    }
}

/// How often a shop without webhooks is asked for changed orders, by default.
pub const DEFAULT_POLL_MINUTES: u32 = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shop {
    pub id: ShopId,
    /// The company it belongs to.
    pub company: tovor_domain::CompanyId,
    pub settings: ShopSettings,
    /// The unguessable part of the shop's webhook URL (`/hooks/{key}`).
    pub webhook_key: String,
    /// How the platform was set up to deliver to the webhook URL, once the host did it.
    pub webhook_setup: Option<WebhookSetupRecord>,
}

/// What the host did to have the platform deliver webhooks, kept so it can be undone.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WebhookSetupRecord {
    /// `registered` (through the platform's API), `manual` (the user adds the URL by
    /// hand) or `failed` (registration was tried and failed: `message` says why).
    pub state: String,
    /// The webhook URL it was set up for.
    pub url: String,
    /// The platform's subscriptions, for `registered`.
    #[serde(default)]
    pub webhooks: Vec<RegisteredWebhookRecord>,
    /// Instructions for `manual`, the error for `failed`.
    #[serde(default)]
    pub message: Option<String>,
}

impl WebhookSetupRecord {
    /// Whether the platform is known to deliver to tovor: subscriptions registered through
    /// its API. A hand-made setup may or may not exist (tovor cannot see it), and a failed
    /// registration delivers nothing.
    pub fn delivers(&self) -> bool {
        self.state == "registered" && !self.webhooks.is_empty()
    }
}

/// One platform subscription: its id there and its topic.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegisteredWebhookRecord {
    pub id: String,
    pub topic: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentMethod {
    pub id: HostPaymentMethodId,
    pub code: String,
    pub name: String,
    /// Shipments of orders paid this way collect the amount (cash on delivery).
    pub cash_on_delivery: bool,
}

/// A raw payment method seen on a shop's orders that has no mapping yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmappedPaymentMethod {
    pub shop: ShopId,
    pub code: String,
    pub title: String,
    /// Imported orders that carry it and have no host payment method.
    pub orders_seen: i64,
    pub first_seen_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
}

fn stock_document_text(kind: DocumentKind) -> &'static str {
    kind.as_str()
}

fn parse_stock_document(text: &str) -> StoreResult<DocumentKind> {
    match text {
        "invoice" => Ok(DocumentKind::Invoice),
        "delivery_note" => Ok(DocumentKind::DeliveryNote),
        other => Err(StoreError::corrupt("stock_document", format!("{other:?}"))),
    }
}

fn stock_mode_text(mode: StockMode) -> &'static str {
    match mode {
        StockMode::OnHand => "on_hand",
        StockMode::Available => "available",
    }
}

fn parse_stock_mode(text: &str) -> StoreResult<StockMode> {
    match text {
        "on_hand" => Ok(StockMode::OnHand),
        "available" => Ok(StockMode::Available),
        other => Err(StoreError::corrupt("stock_mode", format!("{other:?}"))),
    }
}

pub(crate) fn parse_status(column: &str, text: &str) -> StoreResult<HostStatus> {
    text.parse()
        .map_err(|error| StoreError::corrupt(column, error))
}

const SHOP_COLUMNS: &str = "id, company_id, name, plugin_id, warehouse_id, update_existing, stock_document, \
     stock_mode, config, sealed_secrets, webhook_key, poll_minutes, import_from, auto_invoice, \
     enabled, webhook_setup, credit_notes";

fn shop_of(row: &sqlx::any::AnyRow) -> StoreResult<Shop> {
    Ok(Shop {
        id: ShopId(row.int("id")?),
        company: tovor_domain::CompanyId(row.int("company_id")?),
        settings: ShopSettings {
            name: row.text("name")?,
            plugin_id: row.text("plugin_id")?,
            warehouse: WarehouseId(row.int("warehouse_id")?),
            update_existing: row.flag("update_existing")?,
            stock_document: parse_stock_document(&row.text("stock_document")?)?,
            stock_mode: parse_stock_mode(&row.text("stock_mode")?)?,
            config: row.json("config")?,
            sealed_secrets: row.opt_text("sealed_secrets")?,
            poll_minutes: u32::try_from(row.int("poll_minutes")?)
                .map_err(|error| StoreError::corrupt("poll_minutes", error))?,
            import_from: row
                .opt_text("import_from")?
                .map(|text| parse_time("import_from", &text))
                .transpose()?,
            auto_invoice: row
                .text("auto_invoice")?
                .parse()
                .map_err(|error| StoreError::corrupt("auto_invoice", error))?,
            credit_notes: row
                .text("credit_notes")?
                .parse()
                .map_err(|error| StoreError::corrupt("credit_notes", error))?,
            enabled: row.flag("enabled")?,
        },
        webhook_key: row.opt_text("webhook_key")?.unwrap_or_default(),
        webhook_setup: row
            .opt_text("webhook_setup")?
            .map(|text| {
                serde_json::from_str(&text)
                    .map_err(|error| StoreError::corrupt("webhook_setup", error))
            })
            .transpose()?,
    })
}

fn check_settings(settings: &ShopSettings) -> StoreResult<()> {
    if settings.name.trim().is_empty() {
        return Err(StoreError::Invalid("a shop needs a name".into()));
    }
    if settings.poll_minutes == 0 {
        return Err(StoreError::Invalid(
            "poll_minutes must be at least 1".into(),
        ));
    }
    Ok(())
}

/// 256 random bits, hex: the webhook URL is the shop's only credential for intake
/// routing, so it must not be guessable or enumerable.
fn new_webhook_key() -> String {
    let mut random = [0_u8; 32];
    rand::rng().fill_bytes(&mut random);
    hex::encode(random)
}

pub(crate) async fn load_shop(
    conn: &mut AnyConnection,
    company: i64,
    shop: ShopId,
) -> StoreResult<Shop> {
    let sql = format!("SELECT {SHOP_COLUMNS} FROM shops WHERE company_id = $1 AND id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(company)
        .bind(shop.0)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("shop", shop))?;
    shop_of(&row)
}

pub(crate) async fn load_payment_mappings(
    conn: &mut AnyConnection,
    company: i64,
    shop: ShopId,
) -> StoreResult<Vec<PaymentMapping>> {
    sqlx::query(
        "SELECT raw_code, raw_title, payment_method_id FROM payment_mappings \
         WHERE company_id = $1 AND shop_id = $2 ORDER BY id",
    )
    .bind(company)
    .bind(shop.0)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(PaymentMapping {
            code: row.text("raw_code")?,
            title: row.text("raw_title")?,
            method: HostPaymentMethodId(row.int("payment_method_id")?),
        })
    })
    .collect()
}

pub(crate) async fn load_status_overrides(
    conn: &mut AnyConnection,
    company: i64,
    shop: ShopId,
) -> StoreResult<Vec<StatusOverride>> {
    sqlx::query(
        "SELECT raw_status, host_status FROM status_mappings \
         WHERE company_id = $1 AND shop_id = $2 ORDER BY id",
    )
    .bind(company)
    .bind(shop.0)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(StatusOverride {
            raw: row.text("raw_status")?,
            status: parse_status("host_status", &row.text("host_status")?)?,
        })
    })
    .collect()
}

/// What importing an order into a shop needs to know of the shop and its company.
#[derive(Debug, Clone)]
pub(crate) struct ImportContext {
    pub shop: ShopId,
    pub warehouse: WarehouseId,
    pub update_existing: bool,
    pub payments: Vec<PaymentMapping>,
    pub statuses: Vec<StatusOverride>,
    pub time_zone: CompanyTimeZone,
    /// The payment methods (code, title) already listed as unmapped: an order with one
    /// of them need not list it again.
    pub unmapped: std::collections::HashSet<(String, String)>,
}

/// Reads the [`ImportContext`] in one statement (the shop, its payment and status
/// mappings in their order, the company's time zone, the unmapped payment methods): an import reads it before its
/// transaction, so these reads neither hold the write lock nor cost a round trip each.
pub(crate) async fn load_import_context<'c, E>(
    executor: E,
    company: i64,
    shop: ShopId,
) -> StoreResult<ImportContext>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT CAST(0 AS BIGINT) AS part, id AS ord, CAST(NULL AS TEXT) AS a, CAST(NULL AS TEXT) AS b, \
         warehouse_id AS n, update_existing AS m \
         FROM shops WHERE company_id = $1 AND id = $2 \
         UNION ALL SELECT 1, id, raw_code, raw_title, payment_method_id, NULL \
         FROM payment_mappings WHERE company_id = $1 AND shop_id = $2 \
         UNION ALL SELECT 2, id, raw_status, host_status, NULL, NULL \
         FROM status_mappings WHERE company_id = $1 AND shop_id = $2 \
         UNION ALL SELECT 3, 0, time_zone, NULL, NULL, NULL \
         FROM company_profiles WHERE company_id = $1 \
         UNION ALL SELECT 4, id, raw_code, raw_title, NULL, NULL \
         FROM unmapped_payment_methods WHERE company_id = $1 AND shop_id = $2 \
         ORDER BY part, ord",
    )
    .bind(company)
    .bind(shop.0)
    .fetch_all(executor)
    .await?;
    let mut context = None;
    let mut payments = Vec::new();
    let mut statuses = Vec::new();
    let mut time_zone = CompanyTimeZone::default();
    let mut unmapped = std::collections::HashSet::new();
    for row in &rows {
        match row.int("part")? {
            0 => {
                context = Some((WarehouseId(row.int("n")?), row.flag("m")?));
            }
            1 => payments.push(PaymentMapping {
                code: row.text("a")?,
                title: row.text("b")?,
                method: HostPaymentMethodId(row.int("n")?),
            }),
            2 => statuses.push(StatusOverride {
                raw: row.text("a")?,
                status: parse_status("host_status", &row.text("b")?)?,
            }),
            3 => {
                time_zone = CompanyTimeZone::parse(&row.text("a")?)
                    .map_err(|error| StoreError::corrupt("company_profiles.time_zone", error))?;
            }
            _ => {
                unmapped.insert((row.text("a")?, row.text("b")?));
            }
        }
    }
    let (warehouse, update_existing) =
        context.ok_or_else(|| StoreError::not_found("shop", shop))?;
    Ok(ImportContext {
        shop,
        warehouse,
        update_existing,
        payments,
        statuses,
        time_zone,
        unmapped,
    })
}

/// Records that an order came with a payment method that has no mapping.
pub(crate) async fn record_unmapped_payment(
    conn: &mut AnyConnection,
    company: i64,
    shop: ShopId,
    code: &str,
    title: &str,
    at: OffsetDateTime,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO unmapped_payment_methods (company_id, shop_id, raw_code, raw_title, first_seen_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (company_id, shop_id, raw_code, raw_title) DO NOTHING",
    )
    .bind(company)
    .bind(shop.0)
    .bind(code)
    .bind(title)
    .bind(time_text(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl crate::Store {
    /// Every shop's webhook key: the intake keeps them in memory, so a delivery to a key
    /// no shop has is refused without a query.
    pub async fn webhook_keys(&self) -> StoreResult<std::collections::HashSet<String>> {
        let rows = sqlx::query(
            "SELECT webhook_key FROM shops WHERE webhook_key IS NOT NULL AND enabled = 1",
        )
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|row| row.text("webhook_key")).collect()
    }

    /// The enabled shop a webhook URL belongs to (it knows its company): the intake's
    /// routing.
    pub async fn shop_by_webhook_key(&self, key: &str) -> StoreResult<Option<Shop>> {
        let sql =
            format!("SELECT {SHOP_COLUMNS} FROM shops WHERE webhook_key = $1 AND enabled = 1");
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(self.reader())
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(shop_of(&row)?))
    }
}

impl CompanyScope<'_> {
    pub async fn create_shop(
        &self,
        settings: &ShopSettings,
        at: OffsetDateTime,
    ) -> StoreResult<ShopId> {
        check_settings(settings)?;
        let mut tx = self.store.begin().await?;
        let id = sqlx::query(
            "INSERT INTO shops (company_id, name, plugin_id, warehouse_id, update_existing, \
             stock_document, stock_mode, config, sealed_secrets, poll_minutes, import_from, \
             auto_invoice, webhook_key, created_at, enabled, credit_notes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             RETURNING id",
        )
        .bind(self.cid())
        .bind(settings.name.trim())
        .bind(settings.plugin_id.trim())
        .bind(settings.warehouse.0)
        .bind(flag(settings.update_existing))
        .bind(stock_document_text(settings.stock_document))
        .bind(stock_mode_text(settings.stock_mode))
        .bind(to_json(&settings.config)?)
        .bind(settings.sealed_secrets.clone())
        .bind(i64::from(settings.poll_minutes))
        .bind(settings.import_from.map(time_text))
        .bind(settings.auto_invoice.to_string())
        .bind(new_webhook_key())
        .bind(time_text(at))
        .bind(flag(settings.enabled))
        .bind(settings.credit_notes.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(|error| foreign(error, "warehouse", settings.warehouse))?
        .try_get("id")?;
        // Every shop with a connector gets a sync job, due at once: the first sync
        // imports what changed since `import_from`.
        if !settings.is_custom() {
            sqlx::query(
                "INSERT INTO shop_sync (company_id, shop_id, next_run_at, sync_cursor) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(self.cid())
            .bind(id)
            .bind(time_text(at))
            .bind(time_text(settings.import_from.unwrap_or(at)))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(ShopId(id))
    }

    pub async fn update_shop(&self, shop: ShopId, settings: &ShopSettings) -> StoreResult<()> {
        check_settings(settings)?;
        let mut tx = self.store.begin().await?;
        let done = sqlx::query(
            "UPDATE shops SET name = $3, plugin_id = $4, warehouse_id = $5, update_existing = $6, \
             stock_document = $7, stock_mode = $8, config = $9, sealed_secrets = $10, \
             poll_minutes = $11, import_from = $12, auto_invoice = $13, enabled = $14, \
             credit_notes = $15 WHERE company_id = $1 AND id = $2",
        )
        .bind(self.cid())
        .bind(shop.0)
        .bind(settings.name.trim())
        .bind(settings.plugin_id.trim())
        .bind(settings.warehouse.0)
        .bind(flag(settings.update_existing))
        .bind(stock_document_text(settings.stock_document))
        .bind(stock_mode_text(settings.stock_mode))
        .bind(to_json(&settings.config)?)
        .bind(settings.sealed_secrets.clone())
        .bind(i64::from(settings.poll_minutes))
        .bind(settings.import_from.map(time_text))
        .bind(settings.auto_invoice.to_string())
        .bind(flag(settings.enabled))
        .bind(settings.credit_notes.as_str())
        .execute(&mut *tx)
        .await
        .map_err(|error| foreign(error, "warehouse", settings.warehouse))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("shop", shop));
        }
        if !settings.is_custom() {
            let now = OffsetDateTime::now_utc();
            sqlx::query(
                "INSERT INTO shop_sync (company_id, shop_id, next_run_at, sync_cursor) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (shop_id) DO NOTHING",
            )
            .bind(self.cid())
            .bind(shop.0)
            .bind(time_text(now))
            .bind(time_text(settings.import_from.unwrap_or(now)))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records how the shop's webhooks were set up (`None`: nothing is set up).
    pub async fn set_webhook_setup(
        &self,
        shop: ShopId,
        setup: Option<&WebhookSetupRecord>,
    ) -> StoreResult<()> {
        let done =
            sqlx::query("UPDATE shops SET webhook_setup = $3 WHERE company_id = $1 AND id = $2")
                .bind(self.cid())
                .bind(shop.0)
                .bind(setup.map(to_json).transpose()?)
                .execute(self.store.writer())
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("shop", shop));
        }
        Ok(())
    }

    pub async fn shop(&self, shop: ShopId) -> StoreResult<Shop> {
        let mut conn = self.store.reader().acquire().await?;
        load_shop(&mut conn, self.cid(), shop).await
    }

    pub async fn shops(&self) -> StoreResult<Vec<Shop>> {
        let sql = format!("SELECT {SHOP_COLUMNS} FROM shops WHERE company_id = $1 ORDER BY id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.cid())
            .fetch_all(self.store.reader())
            .await?
            .iter()
            .map(shop_of)
            .collect()
    }

    pub async fn create_payment_method(
        &self,
        code: &str,
        name: &str,
        cash_on_delivery: bool,
    ) -> StoreResult<HostPaymentMethodId> {
        let mut tx = self.store.begin().await?;
        let id = sqlx::query(
            "INSERT INTO payment_methods (company_id, code, name, cash_on_delivery) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(self.cid())
        .bind(code.trim())
        .bind(name.trim())
        .bind(flag(cash_on_delivery))
        .fetch_one(&mut *tx)
        .await
        .map_err(|error| conflict(error, format!("payment method {code:?} already exists")))?
        .try_get("id")?;
        tx.commit().await?;
        Ok(HostPaymentMethodId(id))
    }

    pub async fn payment_methods(&self) -> StoreResult<Vec<PaymentMethod>> {
        sqlx::query(
            "SELECT id, code, name, cash_on_delivery FROM payment_methods \
             WHERE company_id = $1 ORDER BY id",
        )
        .bind(self.cid())
        .fetch_all(self.store.reader())
        .await?
        .iter()
        .map(|row| {
            Ok(PaymentMethod {
                id: HostPaymentMethodId(row.int("id")?),
                code: row.text("code")?,
                name: row.text("name")?,
                cash_on_delivery: row.flag("cash_on_delivery")?,
            })
        })
        .collect()
    }

    /// Maps a shop's raw payment method (code, and title where codes are not enough) to
    /// one of the host's. Orders already imported keep what they had; the method leaves
    /// the unmapped list.
    pub async fn map_payment_method(
        &self,
        shop: ShopId,
        code: &str,
        title: &str,
        method: HostPaymentMethodId,
    ) -> StoreResult<()> {
        let mut tx = self.store.begin().await?;
        load_shop(&mut tx, self.cid(), shop).await?;
        sqlx::query(
            "INSERT INTO payment_mappings (company_id, shop_id, raw_code, raw_title, payment_method_id) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (company_id, shop_id, raw_code, raw_title) \
             DO UPDATE SET payment_method_id = excluded.payment_method_id",
        )
        .bind(self.cid())
        .bind(shop.0)
        .bind(code.trim())
        .bind(title.trim())
        .bind(method.0)
        .execute(&mut *tx)
        .await
        .map_err(|error| foreign(error, "payment method", method))?;
        let mappings = load_payment_mappings(&mut tx, self.cid(), shop).await?;
        let unmapped = self.unmapped_in(&mut tx, Some(shop)).await?;
        for entry in unmapped {
            let raw = tovor_domain::order::PaymentMethod {
                code: entry.code.clone(),
                title: entry.title.clone(),
            };
            if matches!(
                tovor_domain::mapping::map_payment(&raw, &mappings),
                tovor_domain::mapping::PaymentResolution::Mapped(_)
            ) {
                sqlx::query(
                    "DELETE FROM unmapped_payment_methods WHERE company_id = $1 AND shop_id = $2 \
                     AND raw_code = $3 AND raw_title = $4",
                )
                .bind(self.cid())
                .bind(shop.0)
                .bind(&entry.code)
                .bind(&entry.title)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn payment_mappings(&self, shop: ShopId) -> StoreResult<Vec<PaymentMapping>> {
        let mut conn = self.store.reader().acquire().await?;
        load_shop(&mut conn, self.cid(), shop).await?;
        load_payment_mappings(&mut conn, self.cid(), shop).await
    }

    /// Payment methods orders arrived with that no mapping covers, per shop or for all.
    pub async fn unmapped_payment_methods(
        &self,
        shop: Option<ShopId>,
    ) -> StoreResult<Vec<UnmappedPaymentMethod>> {
        let mut conn = self.store.reader().acquire().await?;
        self.unmapped_in(&mut conn, shop).await
    }

    async fn unmapped_in(
        &self,
        conn: &mut AnyConnection,
        shop: Option<ShopId>,
    ) -> StoreResult<Vec<UnmappedPaymentMethod>> {
        sqlx::query(
            "SELECT u.shop_id, u.raw_code, u.raw_title, u.first_seen_at, \
             (SELECT COUNT(*) FROM orders o WHERE o.company_id = u.company_id AND o.shop_id = u.shop_id \
              AND o.payment_method_code = u.raw_code AND o.payment_method_title = u.raw_title \
              AND o.payment_method_id IS NULL) AS orders_seen, \
             (SELECT MAX(o.created_at) FROM orders o WHERE o.company_id = u.company_id \
              AND o.shop_id = u.shop_id AND o.payment_method_code = u.raw_code \
              AND o.payment_method_title = u.raw_title) AS last_seen_at \
             FROM unmapped_payment_methods u WHERE u.company_id = $1 AND ($2 = 0 OR u.shop_id = $2) \
             ORDER BY u.shop_id, u.raw_code, u.raw_title",
        )
        .bind(self.cid())
        .bind(shop.map_or(0, |shop| shop.0))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            Ok(UnmappedPaymentMethod {
                shop: ShopId(row.int("shop_id")?),
                code: row.text("raw_code")?,
                title: row.text("raw_title")?,
                orders_seen: row.int("orders_seen")?,
                first_seen_at: row.time("first_seen_at")?,
                last_seen_at: row
                    .opt_time("last_seen_at")?
                    .unwrap_or(row.time("first_seen_at")?),
            })
        })
        .collect()
    }

    /// Maps a shop's raw order status to a host status (overriding the default that
    /// follows the connector's normalized status).
    pub async fn map_status(&self, shop: ShopId, raw: &str, status: HostStatus) -> StoreResult<()> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(StoreError::Invalid("the shop's status is empty".into()));
        }
        let mut tx = self.store.begin().await?;
        load_shop(&mut tx, self.cid(), shop).await?;
        sqlx::query(
            "INSERT INTO status_mappings (company_id, shop_id, raw_status, host_status) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (company_id, shop_id, raw_status) \
             DO UPDATE SET host_status = excluded.host_status",
        )
        .bind(self.cid())
        .bind(shop.0)
        .bind(raw)
        .bind(status.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn status_mappings(&self, shop: ShopId) -> StoreResult<Vec<StatusOverride>> {
        let mut conn = self.store.reader().acquire().await?;
        load_shop(&mut conn, self.cid(), shop).await?;
        load_status_overrides(&mut conn, self.cid(), shop).await
    }
}

/// A refused foreign key means the referenced record is not this company's.
pub(crate) fn foreign(error: sqlx::Error, what: &'static str, id: impl ToString) -> StoreError {
    let is_foreign_key = error
        .as_database_error()
        .is_some_and(|db| db.is_foreign_key_violation());
    if is_foreign_key {
        StoreError::not_found(what, id)
    } else {
        StoreError::Database(error)
    }
}
