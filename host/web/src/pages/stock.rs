//! Items and stock: levels per warehouse, the goods-received form, and per shop the
//! items it sells that are not linked, with linking by SKU.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use rust_decimal::Decimal;
use serde::Deserialize;
use tovor_domain::access::Action;
use tovor_server::AppState;
use tovor_server::api::auth::Company;
use tovor_server::api::catalog::{
    ReceiptInput, ReceiptKind, ReceiptLine, StockQuery, list_warehouses, receive_stock, stock,
};
use tovor_server::api::extract::{ApiJson, ApiPath, ApiQuery};
use tovor_server::api::shops::{PushStateQuery, link_products, list_shops, push_states};

use crate::error::{WebError, WebResult};
use crate::page::{Chrome, render};
use crate::pages::orders::Choice;
use crate::pages::{formats, refused};
use crate::session::{Button, Form, Workplace, redirect_with_flash};

pub struct StockRow {
    pub sku: String,
    /// The shops' products it is linked to: "Shop: 123/45".
    pub links: String,
    pub warehouse: String,
    pub on_hand: String,
    pub reserved: String,
    pub available: String,
    pub short: bool,
}

pub struct UnlinkedShop {
    pub shop: String,
    pub skus: Vec<String>,
    pub refused: Vec<(String, String)>,
    pub link_href: String,
}

#[derive(Template)]
#[template(path = "stock.html")]
struct StockPage {
    page: Chrome,
    rows: Vec<StockRow>,
    warehouses: Vec<Choice>,
    receipt_href: String,
    can_work: bool,
    shops: Vec<UnlinkedShop>,
}

pub async fn show(State(state): State<Arc<AppState>>, workplace: Workplace) -> WebResult<Response> {
    let t = workplace.texts();
    let formats = formats(&state, &workplace).await?;
    let company = Company(workplace.company);
    let warehouses = list_warehouses(State(state.clone()), company).await?.0;
    let levels = stock(
        State(state.clone()),
        company,
        ApiQuery(StockQuery {
            warehouse_id: None,
            item_id: None,
            sku: None,
        }),
    )
    .await?
    .0;
    let warehouse_name = |id: i64| {
        warehouses
            .iter()
            .find(|warehouse| warehouse.id == id)
            .map_or_else(|| id.to_string(), |warehouse| warehouse.name.clone())
    };
    let shop_views = list_shops(State(state.clone()), company).await?.0;
    let links = state
        .store
        .company(workplace.company)
        .all_item_links()
        .await?;
    let links_of = |item: i64| {
        links
            .iter()
            .filter(|link| link.item.0 == item)
            .map(|link| {
                let shop = shop_views
                    .iter()
                    .find(|shop| shop.id == link.shop.0)
                    .map_or_else(|| link.shop.to_string(), |shop| shop.name.clone());
                match &link.variation_id {
                    Some(variation) => format!("{shop}: {}/{variation}", link.product_id),
                    None => format!("{shop}: {}", link.product_id),
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rows = levels
        .into_iter()
        .filter(|level| {
            !(level.on_hand.is_zero() && level.reserved.is_zero()) || warehouses.len() == 1
        })
        .map(|level| StockRow {
            warehouse: warehouse_name(level.warehouse_id),
            on_hand: formats.quantity(level.on_hand),
            reserved: formats.quantity(level.reserved),
            available: formats.quantity(level.available),
            short: level.available < Decimal::ZERO,
            links: links_of(level.item_id),
            sku: level.sku,
        })
        .collect();
    let mut shops = Vec::new();
    for shop in shop_views {
        let states = push_states(
            State(state.clone()),
            company,
            ApiPath(shop.id),
            ApiQuery(PushStateQuery { outcome: None }),
        )
        .await?
        .0;
        let skus: Vec<String> = states
            .iter()
            .filter(|push| push.outcome == "unlinked")
            .map(|push| push.item_code.clone())
            .collect();
        let refused: Vec<(String, String)> = states
            .iter()
            .filter(|push| push.outcome == "refused")
            .map(|push| {
                (
                    push.item_code.clone(),
                    push.error.clone().unwrap_or_default(),
                )
            })
            .collect();
        if !skus.is_empty() || !refused.is_empty() {
            shops.push(UnlinkedShop {
                shop: shop.name.clone(),
                skus,
                refused,
                link_href: workplace.link(&format!("/stock/shops/{}/link", shop.id)),
            });
        }
    }
    let page = StockPage {
        page: Chrome::company(&workplace, "stock", t.stock),
        rows,
        warehouses: warehouses
            .iter()
            .map(|warehouse| Choice {
                value: warehouse.id.to_string(),
                label: warehouse.name.clone(),
                selected: false,
            })
            .collect(),
        receipt_href: workplace.link("/stock/receipts"),
        can_work: workplace.may(Action::DailyWork),
        shops,
    };
    Ok(render(&page))
}

#[derive(Debug, Deserialize)]
pub struct ReceiptForm {
    warehouse_id: i64,
    sku: String,
    quantity: String,
    #[serde(default)]
    note: String,
    /// `receipt` or `adjustment`.
    #[serde(default)]
    kind: String,
}

pub async fn receive(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Form(form): Form<ReceiptForm>,
) -> WebResult<Response> {
    workplace.require(Action::DailyWork)?;
    let t = workplace.texts();
    let back = workplace.link("/stock");
    let quantity: Decimal = form
        .quantity
        .trim()
        .replace(',', ".")
        .parse()
        .map_err(|_| WebError::bad_request(format!("{}: {}", t.quantity, form.quantity)))?;
    let input = ReceiptInput {
        warehouse_id: form.warehouse_id,
        lines: vec![ReceiptLine {
            sku: form.sku.trim().to_owned(),
            quantity,
        }],
        note: (!form.note.trim().is_empty()).then(|| form.note.trim().to_owned()),
        kind: if form.kind == "adjustment" {
            ReceiptKind::Adjustment
        } else {
            ReceiptKind::Receipt
        },
    };
    match receive_stock(
        State(state.clone()),
        Company(workplace.company),
        ApiJson(input),
    )
    .await
    {
        Ok((_, levels)) => {
            let level = levels.0.first();
            let message = level.map_or_else(String::new, |level| {
                format!(
                    "{} {}: {} {}",
                    t.received_stock,
                    level.sku,
                    t.on_hand_now,
                    level.on_hand.normalize()
                )
            });
            Ok(redirect_with_flash(&state, &back, &message))
        }
        Err(error) => refused(&state, &back, error),
    }
}

pub async fn link(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, shop)): Path<(i64, i64)>,
    Form(Button {}): Form<Button>,
) -> WebResult<Response> {
    workplace.require(Action::DailyWork)?;
    let t = workplace.texts();
    let back = workplace.link("/stock");
    match link_products(
        State(state.clone()),
        Company(workplace.company),
        ApiPath(shop),
    )
    .await
    {
        Ok(report) => Ok(redirect_with_flash(
            &state,
            &back,
            &format!(
                "{}: {} {}, {} {}",
                t.linked_by_sku, report.0.linked, t.linked, report.0.unmatched, t.unmatched
            ),
        )),
        Err(error) => refused(&state, &back, error),
    }
}
