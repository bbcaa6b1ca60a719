//! Warehouses, items, customers, host payment methods, and the company's stock.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tovor_domain::stock::StockLevel;
use tovor_domain::{CustomerId, ItemId, ShopId, WarehouseId};
use tovor_store::StoreError;
use tovor_store::catalog::{Customer, Item, ItemInput, ItemLink};
use tovor_store::stock::ManualMovement;
use utoipa::{IntoParams, ToSchema};

use super::auth::Company;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, limit, non_blank};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehouseInput {
    #[schema(schema_with = super::schema::name)]
    pub name: String,
    /// Short code; derived from the name when omitted.
    #[schema(schema_with = super::schema::name_or_null)]
    pub code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarehouseView {
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// Creates a warehouse.
#[utoipa::path(post, path = "/api/v1/warehouses", tag = "catalog", request_body = WarehouseInput,
    responses((status = 201, body = WarehouseView), (status = 409, body = ErrorBody)))]
pub async fn create_warehouse(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiJson(input): ApiJson<WarehouseInput>,
) -> ApiResult<(StatusCode, Json<WarehouseView>)> {
    let name = non_blank("name", &input.name)?;
    let code = match &input.code {
        Some(code) => non_blank("code", code)?.to_owned(),
        None => {
            let derived = name
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(12)
                .collect::<String>()
                .to_ascii_uppercase();
            // A name with no letters or digits of ASCII still makes a warehouse.
            if derived.is_empty() {
                "WH".to_owned()
            } else {
                derived
            }
        }
    };
    let id = state
        .store
        .company(company.0)
        .create_warehouse(&code, name)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(WarehouseView {
            id: id.0,
            code,
            name: name.to_owned(),
        }),
    ))
}

/// The company's warehouses.
#[utoipa::path(get, path = "/api/v1/warehouses", tag = "catalog",
    responses((status = 200, body = Vec<WarehouseView>)))]
pub async fn list_warehouses(
    State(state): State<Arc<AppState>>,
    company: Company,
) -> ApiResult<Json<Vec<WarehouseView>>> {
    let warehouses = state.store.company(company.0).warehouses().await?;
    Ok(Json(
        warehouses
            .into_iter()
            .map(|warehouse| WarehouseView {
                id: warehouse.id.0,
                code: warehouse.code,
                name: warehouse.name,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInputBody {
    /// The item's code; the SKU shops know it by.
    #[schema(schema_with = super::schema::name)]
    pub code: String,
    #[schema(schema_with = super::schema::name)]
    pub name: String,
    #[serde(default = "default_unit")]
    #[schema(schema_with = super::schema::name)]
    pub unit: String,
    #[serde(deserialize_with = "tovor_domain::decimal::number_or_string")]
    #[schema(value_type = super::extract::DecimalInput)]
    pub vat_rate: Decimal,
    /// Net unit price.
    #[serde(deserialize_with = "tovor_domain::decimal::number_or_string")]
    #[schema(value_type = super::extract::DecimalInput)]
    pub price: Decimal,
    pub barcode: Option<String>,
}

fn default_unit() -> String {
    "pcs".into()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub unit: String,
    #[schema(value_type = String)]
    pub vat_rate: Decimal,
    #[schema(value_type = String)]
    pub price: Decimal,
    pub barcode: Option<String>,
}

fn item_view(item: Item) -> ItemView {
    ItemView {
        id: item.id.0,
        code: item.code,
        name: item.name,
        unit: item.unit,
        vat_rate: item.vat_rate,
        price: item.price,
        barcode: item.barcode,
    }
}

/// Creates an item.
#[utoipa::path(post, path = "/api/v1/items", tag = "catalog", request_body = ItemInputBody,
    responses((status = 201, body = ItemView), (status = 409, body = ErrorBody)))]
pub async fn create_item(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiJson(input): ApiJson<ItemInputBody>,
) -> ApiResult<(StatusCode, Json<ItemView>)> {
    let scope = state.store.company(company.0);
    let code = non_blank("code", &input.code)?.to_owned();
    let name = non_blank("name", &input.name)?.to_owned();
    let unit = non_blank("unit", &input.unit)?.to_owned();
    let id = scope
        .create_item(
            &ItemInput {
                code,
                name,
                unit,
                vat_rate: input.vat_rate,
                price: input.price,
                barcode: input.barcode,
            },
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(item_view(scope.item(id).await?))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Continue after this item code.
    pub after: Option<String>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerPage {
    /// Continue after this customer id.
    pub after: Option<i64>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// The item catalog, by code.
#[utoipa::path(get, path = "/api/v1/items", tag = "catalog", params(Page),
    responses((status = 200, body = Vec<ItemView>)))]
pub async fn list_items(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Json<Vec<ItemView>>> {
    let items = state
        .store
        .company(company.0)
        .items(page.after.as_deref(), limit(page.limit, 100, 1000)?)
        .await?;
    Ok(Json(items.into_iter().map(item_view).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemLinkInput {
    pub shop_id: i64,
    /// The platform's product id.
    pub product_id: String,
    pub variation_id: Option<String>,
    /// The platform's inventory record (Shopify inventory item id).
    pub inventory_id: Option<String>,
}

/// Links an item to a shop's product (or variation): its stock is then pushed there.
#[utoipa::path(post, path = "/api/v1/items/{id}/links", tag = "catalog",
    params(("id" = i64, Path)), request_body = ItemLinkInput,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn link_item(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ItemLinkInput>,
) -> ApiResult<StatusCode> {
    let scope = state.store.company(company.0);
    scope
        .link_item(&ItemLink {
            shop: ShopId(input.shop_id),
            item: ItemId(id),
            product_id: input.product_id,
            variation_id: input.variation_id,
            inventory_id: input.inventory_id,
        })
        .await
        .map_err(|error| match error {
            // The item is the path; a shop that is not there is the body's fault.
            StoreError::NotFound { what: "shop", .. } => ApiError {
                field: Some("shop_id".to_owned()),
                ..ApiError::from(error)
            },
            other => ApiError::from(other),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerView {
    pub id: i64,
    pub name: String,
    pub company_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub vat_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub billing: Option<tovor_domain::order::Address>,
    #[schema(value_type = Option<Object>)]
    pub delivery: Option<tovor_domain::order::Address>,
}

fn customer_view(customer: Customer) -> CustomerView {
    CustomerView {
        id: customer.id.0,
        name: customer.name,
        company_name: customer.company_name,
        email: customer.email,
        phone: customer.phone,
        vat_id: customer.vat_id,
        billing: customer.billing,
        delivery: customer.delivery,
    }
}

/// The customer catalog.
#[utoipa::path(get, path = "/api/v1/customers", tag = "catalog", params(CustomerPage),
    responses((status = 200, body = Vec<CustomerView>)))]
pub async fn list_customers(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiQuery(page): ApiQuery<CustomerPage>,
) -> ApiResult<Json<Vec<CustomerView>>> {
    let after = page.after.map(CustomerId);
    let customers = state
        .store
        .company(company.0)
        .customers(after, limit(page.limit, 100, 1000)?)
        .await?;
    Ok(Json(customers.into_iter().map(customer_view).collect()))
}

/// A customer.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "catalog", params(("id" = i64, Path)),
    responses((status = 200, body = CustomerView), (status = 404, body = ErrorBody)))]
pub async fn get_customer(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CustomerView>> {
    let customer = state
        .store
        .company(company.0)
        .customer(CustomerId(id))
        .await?;
    Ok(Json(customer_view(customer)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodInput {
    #[schema(schema_with = super::schema::name)]
    pub code: String,
    #[schema(schema_with = super::schema::name)]
    pub name: String,
    /// Shipments of orders paid this way collect the amount.
    #[serde(default)]
    pub cash_on_delivery: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentMethodView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub cash_on_delivery: bool,
}

/// Creates a host payment method (shops' methods are mapped to these).
#[utoipa::path(post, path = "/api/v1/payment-methods", tag = "catalog",
    request_body = PaymentMethodInput,
    responses((status = 201, body = PaymentMethodView), (status = 409, body = ErrorBody)))]
pub async fn create_payment_method(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiJson(input): ApiJson<PaymentMethodInput>,
) -> ApiResult<(StatusCode, Json<PaymentMethodView>)> {
    let code = non_blank("code", &input.code)?;
    let name = non_blank("name", &input.name)?;
    let id = state
        .store
        .company(company.0)
        .create_payment_method(code, name, input.cash_on_delivery)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(PaymentMethodView {
            id: id.0,
            code: code.to_owned(),
            name: name.to_owned(),
            cash_on_delivery: input.cash_on_delivery,
        }),
    ))
}

/// The host's payment methods.
#[utoipa::path(get, path = "/api/v1/payment-methods", tag = "catalog",
    responses((status = 200, body = Vec<PaymentMethodView>)))]
pub async fn list_payment_methods(
    State(state): State<Arc<AppState>>,
    company: Company,
) -> ApiResult<Json<Vec<PaymentMethodView>>> {
    let methods = state.store.company(company.0).payment_methods().await?;
    Ok(Json(
        methods
            .into_iter()
            .map(|method| PaymentMethodView {
                id: method.id.0,
                code: method.code,
                name: method.name,
                cash_on_delivery: method.cash_on_delivery,
            })
            .collect(),
    ))
}

impl StockView {
    fn of(item: &Item, warehouse: WarehouseId, level: StockLevel) -> Self {
        Self {
            item_id: item.id.0,
            sku: item.code.clone(),
            warehouse_id: warehouse.0,
            on_hand: level.on_hand,
            reserved: level.reserved,
            available: level.available,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StockQuery {
    pub warehouse_id: Option<i64>,
    pub item_id: Option<i64>,
    pub sku: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockView {
    pub item_id: i64,
    pub sku: String,
    pub warehouse_id: i64,
    #[schema(value_type = String)]
    pub on_hand: Decimal,
    #[schema(value_type = String)]
    pub reserved: Decimal,
    #[schema(value_type = String)]
    pub available: Decimal,
}

/// On hand, reserved and available per item and warehouse. Narrow with `item_id` or
/// `sku` and `warehouse_id`; without an item, every item (up to 1000) is listed.
#[utoipa::path(get, path = "/api/v1/stock", tag = "stock", params(StockQuery),
    responses((status = 200, body = Vec<StockView>), (status = 404, body = ErrorBody)))]
pub async fn stock(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiQuery(query): ApiQuery<StockQuery>,
) -> ApiResult<Json<Vec<StockView>>> {
    let scope = state.store.company(company.0);
    let items: Vec<Item> = match (query.item_id, query.sku.as_deref()) {
        (Some(id), _) => vec![scope.item(ItemId(id)).await?],
        (None, Some(sku)) => vec![
            scope
                .item_by_code(sku)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no item {sku:?}")))?,
        ],
        (None, None) => scope.items(None, 1000).await?,
    };
    let warehouses: Vec<WarehouseId> = match query.warehouse_id {
        Some(id) => vec![WarehouseId(id)],
        None => scope
            .warehouses()
            .await?
            .into_iter()
            .map(|w| w.id)
            .collect(),
    };
    let mut levels = Vec::with_capacity(items.len() * warehouses.len());
    for item in &items {
        for warehouse in &warehouses {
            let level: StockLevel = scope.stock_level(item.id, *warehouse).await?;
            levels.push(StockView::of(item, *warehouse, level));
        }
    }
    Ok(Json(levels))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptInput {
    pub warehouse_id: i64,
    #[schema(min_items = 1)]
    pub lines: Vec<ReceiptLine>,
    pub note: Option<String>,
    /// `receipt` (default) or `adjustment` (a count correction, either sign).
    #[serde(default)]
    pub kind: ReceiptKind,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    #[default]
    Receipt,
    Adjustment,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLine {
    #[schema(schema_with = super::schema::name)]
    pub sku: String,
    #[serde(deserialize_with = "tovor_domain::decimal::number_or_string")]
    #[schema(value_type = super::extract::DecimalInput)]
    pub quantity: Decimal,
}

/// Goods received (or counted): stock goes up, and the shops hear of it.
#[utoipa::path(post, path = "/api/v1/stock/receipts", tag = "stock", request_body = ReceiptInput,
    responses((status = 201, body = Vec<StockView>), (status = 404, body = ErrorBody)))]
pub async fn receive_stock(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiJson(input): ApiJson<ReceiptInput>,
) -> ApiResult<(StatusCode, Json<Vec<StockView>>)> {
    let kind = match input.kind {
        ReceiptKind::Receipt => ManualMovement::Receipt,
        ReceiptKind::Adjustment => ManualMovement::Adjustment,
    };
    if input.lines.is_empty() {
        return Err(ApiError::field("lines", "at least one line"));
    }
    let scope = state.store.company(company.0);
    let mut lines = Vec::with_capacity(input.lines.len());
    for (index, line) in input.lines.iter().enumerate() {
        let item = scope
            .item_by_code(&line.sku)
            .await?
            .ok_or_else(|| ApiError {
                field: Some(format!("lines[{index}].sku")),
                ..ApiError::not_found(format!("no item {:?}", line.sku))
            })?;
        lines.push((item, line.quantity));
    }
    let warehouse = WarehouseId(input.warehouse_id);
    // A line of 0 moves nothing: it is answered with its stock like the others.
    let movements: Vec<(ItemId, Decimal)> = lines
        .iter()
        .filter(|(_, quantity)| !quantity.is_zero())
        .map(|(item, quantity)| (item.id, *quantity))
        .collect();
    if !movements.is_empty() {
        scope
            .record_movements(
                warehouse,
                &movements,
                kind,
                input.note.as_deref(),
                OffsetDateTime::now_utc(),
            )
            .await?;
    }
    state.wake.push.notify_one();
    let mut levels = Vec::with_capacity(lines.len());
    for (item, _) in lines {
        let level = scope.stock_level(item.id, warehouse).await?;
        levels.push(StockView::of(&item, warehouse, level));
    }
    Ok((StatusCode::CREATED, Json(levels)))
}
