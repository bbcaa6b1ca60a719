//! Warehouses, the item catalog with its shop links, and the customer catalog.

use rust_decimal::Decimal;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;
use tovor_domain::matching::{NewCustomer, NewItem, ShopLink, normalize_email, normalize_vat_id};
use tovor_domain::order::Address;
use tovor_domain::{CustomerId, ItemId, ShopId, WarehouseId};

use crate::codec::{RowExt, decimal_text, time_text, to_json};
use crate::error::{StoreError, StoreResult};
use crate::scope::CompanyScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warehouse {
    pub id: WarehouseId,
    pub code: String,
    pub name: String,
}

/// An item of the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: ItemId,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub vat_rate: Decimal,
    /// Net unit price.
    pub price: Decimal,
    pub barcode: Option<String>,
}

/// What a new item is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemInput {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub vat_rate: Decimal,
    pub price: Decimal,
    pub barcode: Option<String>,
}

/// An item's product, variation and inventory ids in one shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemLink {
    pub shop: ShopId,
    pub item: ItemId,
    pub product_id: String,
    pub variation_id: Option<String>,
    /// The platform's inventory record, where stock is set (Shopify's inventory item).
    pub inventory_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    pub company_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub vat_id: Option<String>,
    pub billing: Option<Address>,
    pub delivery: Option<Address>,
}

const ITEM_COLUMNS: &str = "id, code, name, unit, vat_rate, price, barcode";
const CUSTOMER_COLUMNS: &str =
    "id, name, company_name, email, phone, vat_id, billing_address, delivery_address";

fn item_of(row: &sqlx::any::AnyRow) -> StoreResult<Item> {
    Ok(Item {
        id: ItemId(row.int("id")?),
        code: row.text("code")?,
        name: row.text("name")?,
        unit: row.text("unit")?,
        vat_rate: row.decimal("vat_rate")?,
        price: row.decimal("price")?,
        barcode: row.opt_text("barcode")?,
    })
}

fn customer_of(row: &sqlx::any::AnyRow) -> StoreResult<Customer> {
    Ok(Customer {
        id: CustomerId(row.int("id")?),
        name: row.text("name")?,
        company_name: row.opt_text("company_name")?,
        email: row.opt_text("email")?,
        phone: row.opt_text("phone")?,
        vat_id: row.opt_text("vat_id")?,
        billing: row.opt_json("billing_address")?,
        delivery: row.opt_json("delivery_address")?,
    })
}

fn link_of(row: &sqlx::any::AnyRow) -> StoreResult<ItemLink> {
    let variation = row.text("variation_id")?;
    Ok(ItemLink {
        shop: ShopId(row.int("shop_id")?),
        item: ItemId(row.int("item_id")?),
        product_id: row.text("product_id")?,
        variation_id: (!variation.is_empty()).then_some(variation),
        inventory_id: row.opt_text("inventory_id")?,
    })
}

impl CompanyScope<'_> {
    pub async fn create_warehouse(&self, code: &str, name: &str) -> StoreResult<WarehouseId> {
        let mut tx = self.store.begin().await?;
        let id = sqlx::query(
            "INSERT INTO warehouses (company_id, code, name) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(self.cid())
        .bind(code.trim())
        .bind(name.trim())
        .fetch_one(&mut *tx)
        .await
        .map_err(|error| conflict(error, format!("warehouse {code:?} already exists")))?
        .try_get("id")?;
        tx.commit().await?;
        Ok(WarehouseId(id))
    }

    pub async fn warehouses(&self) -> StoreResult<Vec<Warehouse>> {
        sqlx::query("SELECT id, code, name FROM warehouses WHERE company_id = $1 ORDER BY id")
            .bind(self.cid())
            .fetch_all(self.store.reader())
            .await?
            .iter()
            .map(|row| {
                Ok(Warehouse {
                    id: WarehouseId(row.int("id")?),
                    code: row.text("code")?,
                    name: row.text("name")?,
                })
            })
            .collect()
    }

    pub async fn create_item(&self, input: &ItemInput, at: OffsetDateTime) -> StoreResult<ItemId> {
        let mut tx = self.store.begin().await?;
        let id = insert_item(&mut tx, self.cid(), input, at).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn item(&self, id: ItemId) -> StoreResult<Item> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE company_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.cid())
            .bind(id.0)
            .fetch_optional(self.store.reader())
            .await?
            .ok_or_else(|| StoreError::not_found("item", id))?;
        item_of(&row)
    }

    pub async fn item_by_code(&self, code: &str) -> StoreResult<Option<Item>> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE company_id = $1 AND code = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.cid())
            .bind(code)
            .fetch_optional(self.store.reader())
            .await?
            .as_ref()
            .map(item_of)
            .transpose()
    }

    /// Items in code order, `limit` at a time after `after_code`.
    pub async fn items(&self, after_code: Option<&str>, limit: u32) -> StoreResult<Vec<Item>> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE company_id = $1 AND code > $2 \
             ORDER BY code LIMIT $3"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.cid())
            .bind(after_code.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(self.store.reader())
            .await?
            .iter()
            .map(item_of)
            .collect()
    }

    /// Links `item` to a product (and variation) of `shop`, replacing the product's
    /// previous link in that shop.
    pub async fn link_item(&self, link: &ItemLink) -> StoreResult<()> {
        let mut tx = self.store.begin().await?;
        let found = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM items WHERE company_id = $1 AND id = $2) AS items, \
             (SELECT COUNT(*) FROM shops WHERE company_id = $1 AND id = $3) AS shops",
        )
        .bind(self.cid())
        .bind(link.item.0)
        .bind(link.shop.0)
        .fetch_one(&mut *tx)
        .await?;
        if found.int("items")? == 0 {
            return Err(StoreError::not_found("item", link.item));
        }
        if found.int("shops")? == 0 {
            return Err(StoreError::not_found("shop", link.shop));
        }
        upsert_item_link(&mut tx, self.cid(), link).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn item_links(&self, item: ItemId) -> StoreResult<Vec<ItemLink>> {
        sqlx::query(
            "SELECT shop_id, item_id, product_id, variation_id, inventory_id FROM item_links \
             WHERE company_id = $1 AND item_id = $2 ORDER BY shop_id, product_id, variation_id",
        )
        .bind(self.cid())
        .bind(item.0)
        .fetch_all(self.store.reader())
        .await?
        .iter()
        .map(link_of)
        .collect()
    }

    /// Every link of every item to a shop's product, in one query (for lists).
    pub async fn all_item_links(&self) -> StoreResult<Vec<ItemLink>> {
        sqlx::query(
            "SELECT shop_id, item_id, product_id, variation_id, inventory_id FROM item_links \
             WHERE company_id = $1 ORDER BY item_id, shop_id, product_id, variation_id",
        )
        .bind(self.cid())
        .fetch_all(self.store.reader())
        .await?
        .iter()
        .map(link_of)
        .collect()
    }

    pub async fn customer(&self, id: CustomerId) -> StoreResult<Customer> {
        let sql =
            format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE company_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.cid())
            .bind(id.0)
            .fetch_optional(self.store.reader())
            .await?
            .ok_or_else(|| StoreError::not_found("customer", id))?;
        customer_of(&row)
    }

    /// Customers in id order, `limit` at a time after `after`.
    pub async fn customers(
        &self,
        after: Option<CustomerId>,
        limit: u32,
    ) -> StoreResult<Vec<Customer>> {
        let sql = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE company_id = $1 AND id > $2 \
             ORDER BY id LIMIT $3"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.cid())
            .bind(after.map_or(0, |id| id.0))
            .bind(i64::from(limit))
            .fetch_all(self.store.reader())
            .await?
            .iter()
            .map(customer_of)
            .collect()
    }

    pub async fn create_customer(
        &self,
        customer: &NewCustomer,
        shop: Option<ShopId>,
        at: OffsetDateTime,
    ) -> StoreResult<CustomerId> {
        let mut tx = self.store.begin().await?;
        let id = insert_customer(&mut tx, self.cid(), customer, shop, at).await?;
        tx.commit().await?;
        Ok(id)
    }
}

/// Turns a unique-key refusal into a [`StoreError::Conflict`] with `message`.
pub(crate) fn conflict(error: sqlx::Error, message: String) -> StoreError {
    let error = StoreError::Database(error);
    if error.is_unique_violation() {
        StoreError::Conflict(message)
    } else {
        error
    }
}

pub(crate) async fn insert_item(
    conn: &mut AnyConnection,
    company: i64,
    input: &ItemInput,
    at: OffsetDateTime,
) -> StoreResult<ItemId> {
    let code = input.code.trim();
    if code.is_empty() {
        return Err(StoreError::Invalid("an item needs a code".into()));
    }
    let now = time_text(at);
    let id = sqlx::query(
        "INSERT INTO items (company_id, code, name, unit, vat_rate, price, barcode, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
    )
    .bind(company)
    .bind(code)
    .bind(input.name.trim())
    .bind(input.unit.trim())
    .bind(decimal_text(input.vat_rate))
    .bind(decimal_text(input.price))
    .bind(input.barcode.as_deref())
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|error| conflict(error, format!("an item with code {code:?} already exists")))?
    .try_get("id")?;
    Ok(ItemId(id))
}

/// Creates the item an order line asked for, with its link to the shop's product.
pub(crate) async fn insert_new_item(
    conn: &mut AnyConnection,
    company: i64,
    shop: ShopId,
    item: &NewItem,
    at: OffsetDateTime,
) -> StoreResult<ItemId> {
    let input = ItemInput {
        code: item.code.clone(),
        name: item.name.clone(),
        unit: item.unit.clone(),
        vat_rate: item.vat_rate,
        price: item.price,
        barcode: None,
    };
    let id = insert_item(conn, company, &input, at).await?;
    if let Some(link) = &item.link {
        upsert_item_link(conn, company, &link_to(shop, id, link)).await?;
    }
    Ok(id)
}

pub(crate) fn link_to(shop: ShopId, item: ItemId, link: &ShopLink) -> ItemLink {
    ItemLink {
        shop,
        item,
        product_id: link.product_id.clone(),
        variation_id: link.variation_id.clone(),
        inventory_id: None,
    }
}

pub(crate) async fn upsert_item_link(
    conn: &mut AnyConnection,
    company: i64,
    link: &ItemLink,
) -> StoreResult<()> {
    // The inventory id is kept when a link is re-made without one (an order line knows
    // the product and variation, not the inventory record).
    sqlx::query(
        "INSERT INTO item_links (company_id, shop_id, item_id, product_id, variation_id, inventory_id) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (company_id, shop_id, product_id, variation_id) DO UPDATE SET \
         item_id = excluded.item_id, \
         inventory_id = COALESCE(excluded.inventory_id, item_links.inventory_id)",
    )
    .bind(company)
    .bind(link.shop.0)
    .bind(link.item.0)
    .bind(link.product_id.trim())
    .bind(link.variation_id.as_deref().map(str::trim).unwrap_or(""))
    .bind(link.inventory_id.as_deref())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_customer(
    conn: &mut AnyConnection,
    company: i64,
    customer: &NewCustomer,
    shop: Option<ShopId>,
    at: OffsetDateTime,
) -> StoreResult<CustomerId> {
    let now = time_text(at);
    let billing = customer.billing.as_ref().map(to_json).transpose()?;
    let delivery = customer.delivery.as_ref().map(to_json).transpose()?;
    let id = sqlx::query(
        "INSERT INTO customers (company_id, name, company_name, email, email_key, phone, vat_id, \
         vat_id_key, billing_address, delivery_address, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
    )
    .bind(company)
    .bind(customer.name.as_str())
    .bind(customer.company.as_deref())
    .bind(customer.email.as_deref())
    .bind(customer.email.as_deref().and_then(normalize_email))
    .bind(customer.phone.as_deref())
    .bind(customer.vat_id.as_deref())
    .bind(customer.vat_id.as_deref().and_then(normalize_vat_id))
    .bind(billing)
    .bind(delivery)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?;
    let id = CustomerId(id);
    if let (Some(shop), Some(platform_id)) = (shop, customer.platform_id.as_deref()) {
        link_customer(conn, company, shop, platform_id, id).await?;
    }
    Ok(id)
}

pub(crate) async fn link_customer(
    conn: &mut AnyConnection,
    company: i64,
    shop: ShopId,
    platform_id: &str,
    customer: CustomerId,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO customer_links (company_id, shop_id, customer_id, platform_id) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (company_id, shop_id, platform_id) DO UPDATE SET customer_id = excluded.customer_id",
    )
    .bind(company)
    .bind(shop.0)
    .bind(customer.0)
    .bind(platform_id.trim())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
