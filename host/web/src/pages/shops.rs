//! E-stores: the list with their sync health, "sync now", the payment-method mapping
//! and the webhook deliveries with their retry. Each action calls the API's handler.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use tovor_domain::access::Action;
use tovor_server::AppState;
use tovor_server::api::auth::Company;
use tovor_server::api::extract::{ApiJson, ApiPath, ApiQuery};
use tovor_server::api::shops::{self as api, DeliveryQuery, PaymentMappingInput, ShopView};
use tovor_store::sync::HistoryState;

use crate::error::WebResult;
use crate::i18n::Texts;
use crate::page::{Chrome, Formats, render};
use crate::pages::formats;
use crate::pages::orders::Choice;
use crate::session::{Button, Form, Workplace, redirect_with_flash};

pub struct ShopRow {
    pub href: String,
    pub name: String,
    pub plugin: String,
    pub enabled: bool,
    pub webhooks: String,
    pub last_run: String,
    pub next_run: String,
    pub error: Option<String>,
    pub history: String,
    pub payment_href: String,
    pub deliveries_href: String,
    pub sync_href: String,
}

fn webhook_state(t: &Texts, view: &ShopView) -> String {
    match &view.webhook_setup {
        Some(setup) if setup.state == "registered" => t.webhooks_registered.to_owned(),
        Some(setup) if setup.state == "manual" => t.webhooks_manual.to_owned(),
        Some(setup) => format!(
            "{}: {}",
            t.webhooks_failed,
            setup.message.clone().unwrap_or_default()
        ),
        None if view.webhooks => t.webhooks_manual.to_owned(),
        None => t.webhooks_none.to_owned(),
    }
}

fn history_text(t: &Texts, formats: &Formats, view: &ShopView) -> String {
    let Some(sync) = &view.sync else {
        return String::new();
    };
    let history = &sync.history;
    let from = history
        .from
        .map(|from| formats.time(from))
        .unwrap_or_default();
    match history.state {
        HistoryState::None => String::new(),
        HistoryState::Requested => format!("{} {from}", t.history_requested),
        HistoryState::Running => format!(
            "{} {from}: {} {}, {} {}",
            t.history_running, history.pages, t.pages, history.orders, t.orders_lower
        ),
        HistoryState::Done => format!(
            "{} {from}: {} {}",
            t.history_done, history.orders, t.orders_lower
        ),
        HistoryState::Failed => format!(
            "{} {from}: {}",
            t.history_failed,
            history.error.clone().unwrap_or_default()
        ),
    }
}

#[derive(Template)]
#[template(path = "shops.html")]
struct ShopsPage {
    page: Chrome,
    shops: Vec<ShopRow>,
    can_work: bool,
    can_configure: bool,
    new_href: String,
}

pub async fn list(State(state): State<Arc<AppState>>, workplace: Workplace) -> WebResult<Response> {
    let t = workplace.texts();
    let formats = formats(&state, &workplace).await?;
    let views = api::list_shops(State(state.clone()), Company(workplace.company))
        .await?
        .0;
    let shops = views
        .iter()
        .map(|view| {
            let sync = view.sync.as_ref();
            ShopRow {
                href: workplace.link(&format!("/shops/{}", view.id)),
                name: view.name.clone(),
                plugin: view
                    .plugin
                    .clone()
                    .unwrap_or_else(|| t.custom_platform.to_owned()),
                enabled: view.enabled,
                webhooks: webhook_state(t, view),
                last_run: sync
                    .and_then(|sync| sync.last_finished_at)
                    .map(|at| formats.time(at))
                    .unwrap_or_else(|| "—".to_owned()),
                next_run: sync
                    .map(|sync| formats.time(sync.next_run_at))
                    .unwrap_or_else(|| "—".to_owned()),
                error: sync.and_then(|sync| sync.last_error.clone()),
                history: history_text(t, &formats, view),
                payment_href: workplace.link(&format!("/shops/{}/payment-methods", view.id)),
                deliveries_href: workplace.link(&format!("/shops/{}/deliveries", view.id)),
                sync_href: workplace.link(&format!("/shops/{}/sync", view.id)),
            }
        })
        .collect();
    let page = ShopsPage {
        page: Chrome::company(&workplace, "shops", t.shops),
        shops,
        can_work: workplace.may(Action::DailyWork),
        can_configure: workplace.may(Action::Configure),
        new_href: workplace.link("/shops/new"),
    };
    Ok(render(&page))
}

pub async fn sync_now(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, shop)): Path<(i64, i64)>,
    Form(Button {}): Form<Button>,
) -> WebResult<Response> {
    workplace.require(Action::DailyWork)?;
    let (_, view) = api::sync_now(
        State(state.clone()),
        Company(workplace.company),
        ApiPath(shop),
        None,
    )
    .await?;
    let t = workplace.texts();
    Ok(redirect_with_flash(
        &state,
        &workplace.link("/shops"),
        &format!("{}: {}", view.0.name, t.sync_started),
    ))
}

pub struct MethodRow {
    pub code: String,
    pub title: String,
    pub orders_seen: String,
    pub choices: Vec<Choice>,
    pub mapped: bool,
    pub action: String,
}

#[derive(Template)]
#[template(path = "payment_methods.html")]
struct PaymentMethodsPage {
    page: Chrome,
    methods: Vec<MethodRow>,
    platform_error: Option<String>,
    can_work: bool,
    no_host_methods: bool,
}

pub async fn payment_methods(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, shop)): Path<(i64, i64)>,
) -> WebResult<Response> {
    let t = workplace.texts();
    let company = Company(workplace.company);
    let view = api::get_shop(State(state.clone()), company, ApiPath(shop))
        .await?
        .0;
    let methods = api::payment_methods(State(state.clone()), company, ApiPath(shop))
        .await?
        .0;
    let host_methods =
        tovor_server::api::catalog::list_payment_methods(State(state.clone()), company)
            .await?
            .0;
    let choices = |selected: Option<i64>| -> Vec<Choice> {
        host_methods
            .iter()
            .map(|method| Choice {
                value: method.id.to_string(),
                label: method.name.clone(),
                selected: Some(method.id) == selected,
            })
            .collect()
    };
    let action = |code: &str| {
        workplace.link(&format!(
            "/shops/{shop}/payment-methods/{}",
            form_path_segment(code)
        ))
    };
    // Unmapped first: they are what needs doing.
    let mut rows: Vec<MethodRow> = methods
        .unmapped
        .iter()
        .map(|method| MethodRow {
            code: method.code.clone(),
            title: method.title.clone(),
            orders_seen: method.orders_seen.to_string(),
            choices: choices(None),
            mapped: false,
            action: action(&method.code),
        })
        .collect();
    rows.extend(methods.mapped.iter().map(|method| MethodRow {
        code: method.code.clone(),
        title: method.title.clone(),
        orders_seen: String::new(),
        choices: choices(Some(method.payment_method_id)),
        mapped: true,
        action: action(&method.code),
    }));
    let page = PaymentMethodsPage {
        page: Chrome::company(
            &workplace,
            "shops",
            format!("{}: {}", view.name, t.payment_methods),
        ),
        methods: rows,
        platform_error: methods.platform_error,
        can_work: workplace.may(Action::DailyWork),
        no_host_methods: host_methods.is_empty(),
    };
    Ok(render(&page))
}

/// A shop's payment-method code as one path segment.
fn form_path_segment(code: &str) -> String {
    code.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct MappingForm {
    payment_method_id: i64,
}

pub async fn map_payment_method(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, shop, code)): Path<(i64, i64, String)>,
    Form(form): Form<MappingForm>,
) -> WebResult<Response> {
    workplace.require(Action::DailyWork)?;
    api::map_payment_method(
        State(state.clone()),
        Company(workplace.company),
        ApiPath((shop, code.clone())),
        ApiJson(PaymentMappingInput {
            payment_method_id: form.payment_method_id,
            title: String::new(),
        }),
    )
    .await?;
    let t = workplace.texts();
    Ok(redirect_with_flash(
        &state,
        &workplace.link(&format!("/shops/{shop}/payment-methods")),
        &format!("{code}: {}", t.mapping_saved),
    ))
}

pub struct DeliveryRow {
    pub received: String,
    pub topic: String,
    pub state: String,
    pub failed: bool,
    pub attempts: u32,
    pub error: Option<String>,
    pub body: Option<String>,
    pub order_href: Option<String>,
    pub retry_href: Option<String>,
}

#[derive(Template)]
#[template(path = "deliveries.html")]
struct DeliveriesPage {
    page: Chrome,
    deliveries: Vec<DeliveryRow>,
}

pub async fn deliveries(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, shop)): Path<(i64, i64)>,
) -> WebResult<Response> {
    let t = workplace.texts();
    let formats = formats(&state, &workplace).await?;
    let company = Company(workplace.company);
    let view = api::get_shop(State(state.clone()), company, ApiPath(shop))
        .await?
        .0;
    let list = api::deliveries(
        State(state.clone()),
        company,
        ApiPath(shop),
        ApiQuery(DeliveryQuery {
            state: None,
            limit: Some(200),
        }),
    )
    .await?
    .0;
    let can_work = workplace.may(Action::DailyWork);
    let deliveries = list
        .into_iter()
        .map(|delivery| {
            let failed = delivery.state == "failed" || delivery.state == "malformed";
            DeliveryRow {
                received: formats.time(delivery.received_at),
                topic: delivery.topic.unwrap_or_default(),
                state: delivery.state.clone(),
                failed,
                attempts: delivery.attempts,
                error: delivery.last_error,
                body: delivery.body,
                order_href: delivery
                    .order_id
                    .map(|order| workplace.link(&format!("/orders/{order}"))),
                retry_href: (delivery.state == "failed" && can_work).then(|| {
                    workplace.link(&format!("/shops/{shop}/deliveries/{}/retry", delivery.id))
                }),
            }
        })
        .collect();
    let page = DeliveriesPage {
        page: Chrome::company(
            &workplace,
            "shops",
            format!("{}: {}", view.name, t.deliveries),
        ),
        deliveries,
    };
    Ok(render(&page))
}

pub async fn retry_delivery(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, shop, delivery)): Path<(i64, i64, i64)>,
    Form(Button {}): Form<Button>,
) -> WebResult<Response> {
    workplace.require(Action::DailyWork)?;
    api::retry_delivery(
        State(state.clone()),
        Company(workplace.company),
        ApiPath((shop, delivery)),
    )
    .await?;
    let t = workplace.texts();
    Ok(redirect_with_flash(
        &state,
        &workplace.link(&format!("/shops/{shop}/deliveries")),
        t.retry_queued,
    ))
}
