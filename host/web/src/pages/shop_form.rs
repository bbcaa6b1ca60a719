//! "Add e-store" and a shop's own page: a form generated from the chosen connector's
//! manifest (secret fields are password inputs, never shown again), the connection
//! check's answer, how webhooks were set up, and the shop's sync settings; "import
//! history from a date", disable and enable. Saving goes through the API's handlers.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::{Date, Time};
use tovor_domain::access::Action;
use tovor_manifest::{ConfigField, FieldType};
use tovor_server::AppState;
use tovor_server::api::auth::Company;
use tovor_server::api::catalog::list_warehouses;
use tovor_server::api::extract::{ApiJson, ApiPath};
use tovor_server::api::shops::{
    HistoryRequest, ShopInput, ShopPatch, ShopView, create_shop, get_shop, import_history,
    update_shop,
};

use crate::error::{WebError, WebResult};
use crate::i18n::Texts;
use crate::page::{Chrome, Formats, render};
use crate::pages::orders::Choice;
use crate::pages::{choose_plugin, form_problem, formats, loaded_plugin, refused};
use crate::session::{Form, Workplace, redirect_with_flash};

/// One input of the generated form.
pub struct FieldView {
    /// The form key: `cfg_<name>` for connector fields.
    pub key: String,
    pub label: String,
    pub help: String,
    /// `text`, `url`, `number`, `password`, `checkbox` or `select`.
    pub input: &'static str,
    pub value: String,
    pub checked: bool,
    pub required: bool,
    pub options: Vec<Choice>,
    /// A secret that is set: left empty, it is kept.
    pub secret_set: bool,
}

pub(crate) fn field_view(field: &ConfigField, value: Option<&str>, secret_set: bool) -> FieldView {
    let value = value
        .map(str::to_owned)
        .or_else(|| field.default.clone())
        .unwrap_or_default();
    let input = match (field.secret, &field.field_type) {
        (true, _) => "password",
        (false, FieldType::Url) => "url",
        (false, FieldType::Integer) => "number",
        (false, FieldType::Boolean) => "checkbox",
        (false, FieldType::Select) => "select",
        (false, FieldType::String) => "text",
    };
    FieldView {
        key: format!("cfg_{}", field.name),
        label: field.label.clone(),
        help: field.help.clone().unwrap_or_default(),
        input,
        checked: value == "true",
        required: field.required && field.default.is_none() && !secret_set,
        options: field
            .options
            .iter()
            .map(|option| Choice {
                value: option.clone(),
                label: option.clone(),
                selected: *option == value,
            })
            .collect(),
        // A secret's value never goes back to the browser.
        value: if field.secret { String::new() } else { value },
        secret_set,
    }
}

/// The shop's own settings, as the form shows them.
pub struct Settings {
    pub name: String,
    pub warehouses: Vec<Choice>,
    pub update_existing: bool,
    pub poll_minutes: String,
    pub import_from: String,
    pub auto_invoice: Vec<Choice>,
    pub credit_notes: Vec<Choice>,
    pub stock_mode: Vec<Choice>,
    pub stock_document: Vec<Choice>,
}

fn choices(options: &[(&str, &str)], selected: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|(value, label)| Choice {
            value: (*value).to_owned(),
            label: (*label).to_owned(),
            selected: *value == selected,
        })
        .collect()
}

fn settings_view(t: &Texts, warehouses: &[(i64, String)], form: &ShopFormValues) -> Settings {
    Settings {
        name: form.name.clone(),
        warehouses: warehouses
            .iter()
            .map(|(id, name)| Choice {
                value: id.to_string(),
                label: name.clone(),
                selected: form.warehouse_id == Some(*id),
            })
            .collect(),
        update_existing: form.update_existing,
        poll_minutes: form.poll_minutes.clone(),
        import_from: form.import_from.clone(),
        auto_invoice: choices(
            &[
                ("off", t.auto_invoice_off),
                ("paid", t.auto_invoice_paid),
                ("status:processing", t.auto_invoice_processing),
                ("status:completed", t.auto_invoice_completed),
            ],
            &form.auto_invoice,
        ),
        credit_notes: choices(
            &[
                ("offer", t.credit_notes_offer),
                ("auto", t.credit_notes_auto),
            ],
            &form.credit_notes,
        ),
        stock_mode: choices(
            &[
                ("available", t.stock_mode_available),
                ("on_hand", t.stock_mode_on_hand),
            ],
            &form.stock_mode,
        ),
        stock_document: choices(
            &[("delivery_note", t.delivery_note), ("invoice", t.invoice)],
            &form.stock_document,
        ),
    }
}

/// What the form holds, whether from a shop or from a post that failed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ShopFormValues {
    #[serde(default)]
    name: String,
    warehouse_id: Option<i64>,
    #[serde(default)]
    update_existing: bool,
    #[serde(default)]
    poll_minutes: String,
    #[serde(default)]
    import_from: String,
    #[serde(default)]
    auto_invoice: String,
    #[serde(default)]
    credit_notes: String,
    #[serde(default)]
    stock_mode: String,
    #[serde(default)]
    stock_document: String,
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

impl ShopFormValues {
    fn config_value(&self, name: &str) -> Option<&str> {
        self.rest.get(&format!("cfg_{name}")).map(String::as_str)
    }

    fn config(&self, fields: &[ConfigField]) -> BTreeMap<String, String> {
        config_from_form(&self.rest, fields)
    }

    fn from_view(view: &ShopView) -> Self {
        Self {
            name: view.name.clone(),
            warehouse_id: Some(view.warehouse_id),
            update_existing: view.update_existing,
            poll_minutes: view.poll_minutes.to_string(),
            import_from: view
                .import_from
                .map(|at| at.date().to_string())
                .unwrap_or_default(),
            auto_invoice: view.auto_invoice.clone(),
            credit_notes: view.credit_notes.clone(),
            stock_mode: view.stock_mode.clone(),
            stock_document: view.stock_document.clone(),
            rest: view
                .config
                .iter()
                .map(|(name, value)| (format!("cfg_{name}"), value.clone()))
                .collect(),
        }
    }
}

/// A connector's fields as a form posted them (`cfg_<name>`). A checkbox that is not
/// ticked is not posted at all: it is `false`. Secrets left empty are left out, so a
/// stored one is kept.
pub(crate) fn config_from_form(
    posted: &BTreeMap<String, String>,
    fields: &[ConfigField],
) -> BTreeMap<String, String> {
    fields
        .iter()
        .filter_map(|field| {
            let value = posted
                .get(&format!("cfg_{}", field.name))
                .map(|value| value.trim());
            match (&field.field_type, value) {
                (FieldType::Boolean, value) => Some((
                    field.name.clone(),
                    value
                        .is_some_and(|value| value == "true" || value == "on")
                        .to_string(),
                )),
                (_, Some("")) if field.secret => None,
                (_, Some(value)) => Some((field.name.clone(), value.to_owned())),
                (_, None) => None,
            }
        })
        .collect()
}

fn parse_day(formats: &Formats, text: &str) -> WebResult<Option<time::OffsetDateTime>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = Date::parse(text, format)
        .map_err(|_| WebError::bad_request(format!("{text}: YYYY-MM-DD")))?;
    let noon = day.with_time(time::macros::time!(12:00)).assume_utc();
    let offset = formats.zone().local(noon).offset();
    Ok(Some(day.with_time(Time::MIDNIGHT).assume_offset(offset)))
}

/// How webhooks reach the shop, as its page shows it.
pub struct WebhookView {
    pub registered: bool,
    pub url: Option<String>,
    pub message: Option<String>,
    pub failed: bool,
    pub polled_every: String,
}

#[derive(Template)]
#[template(path = "shop_form.html")]
struct ShopFormPage {
    page: Chrome,
    plugin_name: String,
    action: String,
    fields: Vec<FieldView>,
    settings: Settings,
    creating: bool,
    problem: Option<String>,
    webhook: Option<WebhookView>,
    connection: Option<String>,
    history_href: Option<String>,
    toggle_href: Option<String>,
    enabled: bool,
    can_configure: bool,
}

#[derive(Debug, Deserialize)]
pub struct NewQuery {
    plugin: Option<String>,
}

async fn warehouse_list(state: &Arc<AppState>, company: Company) -> WebResult<Vec<(i64, String)>> {
    Ok(list_warehouses(State(state.clone()), company)
        .await?
        .0
        .into_iter()
        .map(|warehouse| (warehouse.id, warehouse.name))
        .collect())
}

fn shop_plugin(state: &AppState, plugin: &str) -> WebResult<Arc<tovor_runtime::LoadedPlugin>> {
    loaded_plugin(state, plugin, tovor_manifest::Kind::Shop)
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    workplace: &Workplace,
    plugin: &tovor_runtime::LoadedPlugin,
    warehouses: &[(i64, String)],
    values: &ShopFormValues,
    secrets_set: &[String],
    action: String,
    problem: Option<String>,
    view: Option<&ShopView>,
    formats: &Formats,
) -> ShopFormPage {
    let t = workplace.texts();
    let fields = plugin
        .manifest
        .config
        .iter()
        .map(|field| {
            field_view(
                field,
                values.config_value(&field.name),
                secrets_set.contains(&field.name),
            )
        })
        .collect();
    let title = match view {
        Some(view) => view.name.clone(),
        None => format!("{}: {}", t.add_shop, plugin.manifest.plugin.name),
    };
    let webhook = view.map(|view| {
        let setup = view.webhook_setup.as_ref();
        WebhookView {
            registered: setup.is_some_and(|setup| setup.state == "registered"),
            failed: setup.is_some_and(|setup| setup.state == "failed"),
            url: view.webhook_url.clone(),
            message: setup.and_then(|setup| setup.message.clone()),
            polled_every: if view.webhooks {
                t.polled_daily.to_owned()
            } else {
                format!("{} {} min", t.polled_every, view.poll_minutes)
            },
        }
    });
    let connection = view
        .and_then(|view| view.connection.as_ref())
        .map(|connection| {
            let mut text = format!(
                "{}{}",
                t.connection_ok,
                connection
                    .account
                    .as_ref()
                    .map(|account| format!(": {account}"))
                    .unwrap_or_default()
            );
            for warning in &connection.warnings {
                text.push_str(&format!(" ({warning})"));
            }
            text
        });
    let _ = formats;
    ShopFormPage {
        page: Chrome::company(workplace, "shops", title),
        plugin_name: plugin.manifest.plugin.name.clone(),
        action,
        fields,
        settings: settings_view(t, warehouses, values),
        creating: view.is_none(),
        problem,
        webhook,
        connection,
        history_href: view.map(|view| workplace.link(&format!("/shops/{}/history", view.id))),
        toggle_href: view.map(|view| workplace.link(&format!("/shops/{}/enabled", view.id))),
        enabled: view.is_none_or(|view| view.enabled),
        can_configure: workplace.may(Action::Configure),
    }
}

/// "Add e-store": first the connector, then its form.
pub async fn new(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Query(query): Query<NewQuery>,
) -> WebResult<Response> {
    workplace.require(Action::Configure)?;
    let t = workplace.texts();
    let Some(plugin_id) = query.plugin.filter(|plugin| !plugin.is_empty()) else {
        return Ok(choose_plugin(
            &state,
            &workplace,
            tovor_manifest::Kind::Shop,
            "/shops/new",
            t.add_shop,
        ));
    };
    let plugin = shop_plugin(&state, &plugin_id)?;
    let warehouses = warehouse_list(&state, Company(workplace.company)).await?;
    let values = ShopFormValues {
        warehouse_id: warehouses.first().map(|(id, _)| *id),
        poll_minutes: "20".to_owned(),
        auto_invoice: "off".to_owned(),
        credit_notes: "offer".to_owned(),
        stock_mode: "available".to_owned(),
        stock_document: "delivery_note".to_owned(),
        ..ShopFormValues::default()
    };
    let formats = formats(&state, &workplace).await?;
    let page = form_page(
        &workplace,
        &plugin,
        &warehouses,
        &values,
        &[],
        workplace.link(&format!("/shops/new?plugin={plugin_id}")),
        None,
        None,
        &formats,
    );
    Ok(render(&page))
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Query(query): Query<NewQuery>,
    Form(values): Form<ShopFormValues>,
) -> WebResult<Response> {
    workplace.require(Action::Configure)?;
    let t = workplace.texts();
    let plugin_id = query.plugin.unwrap_or_default();
    let plugin = shop_plugin(&state, &plugin_id)?;
    let company = Company(workplace.company);
    let formats = formats(&state, &workplace).await?;
    let input = ShopInput {
        plugin: Some(plugin_id.clone()),
        name: values.name.clone(),
        config: values.config(&plugin.manifest.config),
        warehouse_id: values.warehouse_id.unwrap_or_default(),
        update_existing: values.update_existing,
        poll_minutes: values.poll_minutes.trim().parse().ok(),
        import_from: parse_day(&formats, &values.import_from)?,
        auto_invoice: Some(values.auto_invoice.clone()),
        credit_notes: Some(values.credit_notes.clone()),
        stock_mode: Some(values.stock_mode.clone()),
        stock_document: Some(values.stock_document.clone()),
    };
    match create_shop(State(state.clone()), company, ApiJson(input)).await {
        Ok((_, view)) => {
            let view = view.0;
            let page = form_page(
                &workplace,
                &plugin,
                &warehouse_list(&state, company).await?,
                &ShopFormValues::from_view(&view),
                &view.secrets_set,
                workplace.link(&format!("/shops/{}", view.id)),
                None,
                Some(&view),
                &formats,
            );
            let _ = t;
            // The new shop's page, with the connection check and the webhooks, at its
            // own address (a reload does not post the form again).
            Ok((
                StatusCode::CREATED,
                [(
                    axum::http::header::LOCATION,
                    workplace.link(&format!("/shops/{}", view.id)),
                )],
                render(&page),
            )
                .into_response())
        }
        Err(error) => {
            let problem = form_problem(error)?;
            let warehouses = warehouse_list(&state, company).await?;
            let page = form_page(
                &workplace,
                &plugin,
                &warehouses,
                &values,
                &[],
                workplace.link(&format!("/shops/new?plugin={plugin_id}")),
                Some(problem),
                None,
                &formats,
            );
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, shop)): Path<(i64, i64)>,
) -> WebResult<Response> {
    let company = Company(workplace.company);
    let view = get_shop(State(state.clone()), company, ApiPath(shop))
        .await?
        .0;
    let Some(plugin_id) = view.plugin.clone() else {
        return Ok(Redirect::to(&workplace.link("/shops")).into_response());
    };
    let plugin = shop_plugin(&state, &plugin_id)?;
    let formats = formats(&state, &workplace).await?;
    let page = form_page(
        &workplace,
        &plugin,
        &warehouse_list(&state, company).await?,
        &ShopFormValues::from_view(&view),
        &view.secrets_set,
        workplace.link(&format!("/shops/{shop}")),
        None,
        Some(&view),
        &formats,
    );
    Ok(render(&page))
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, shop)): Path<(i64, i64)>,
    Form(values): Form<ShopFormValues>,
) -> WebResult<Response> {
    workplace.require(Action::Configure)?;
    let t = workplace.texts();
    let company = Company(workplace.company);
    let before = get_shop(State(state.clone()), company, ApiPath(shop))
        .await?
        .0;
    let plugin = shop_plugin(&state, before.plugin.as_deref().unwrap_or_default())?;
    let formats = formats(&state, &workplace).await?;
    let config = values.config(&plugin.manifest.config);
    let config_changed = config.iter().any(|(name, value)| {
        before.config.get(name) != Some(value) || before.secrets_set.contains(name)
    });
    let patch = ShopPatch {
        name: Some(values.name.clone()),
        config: config_changed.then_some(config),
        warehouse_id: values.warehouse_id,
        update_existing: Some(values.update_existing),
        poll_minutes: values.poll_minutes.trim().parse().ok(),
        import_from: parse_day(&formats, &values.import_from)?,
        auto_invoice: Some(values.auto_invoice.clone()),
        credit_notes: Some(values.credit_notes.clone()),
        stock_mode: Some(values.stock_mode.clone()),
        stock_document: Some(values.stock_document.clone()),
        enabled: None,
    };
    match update_shop(State(state.clone()), company, ApiPath(shop), ApiJson(patch)).await {
        Ok(view) => {
            let view = view.0;
            let page = form_page(
                &workplace,
                &plugin,
                &warehouse_list(&state, company).await?,
                &ShopFormValues::from_view(&view),
                &view.secrets_set,
                workplace.link(&format!("/shops/{shop}")),
                None,
                Some(&view),
                &formats,
            );
            let mut page = page;
            page.page.notice = Some(t.saved.to_owned());
            Ok(render(&page))
        }
        Err(error) => {
            let problem = form_problem(error)?;
            let page = form_page(
                &workplace,
                &plugin,
                &warehouse_list(&state, company).await?,
                &values,
                &before.secrets_set,
                workplace.link(&format!("/shops/{shop}")),
                Some(problem),
                Some(&before),
                &formats,
            );
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct EnabledForm {
    enabled: String,
}

/// Disables a shop (no sync, no pushes, webhooks refused and unregistered) or enables it
/// again.
pub async fn set_enabled(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, shop)): Path<(i64, i64)>,
    Form(form): Form<EnabledForm>,
) -> WebResult<Response> {
    workplace.require(Action::Configure)?;
    let t = workplace.texts();
    let enabled = form.enabled == "true";
    let patch = ShopPatch {
        enabled: Some(enabled),
        ..ShopPatch::default()
    };
    let back = workplace.link(&format!("/shops/{shop}"));
    match update_shop(
        State(state.clone()),
        Company(workplace.company),
        ApiPath(shop),
        ApiJson(patch),
    )
    .await
    {
        Ok(_) => Ok(redirect_with_flash(
            &state,
            &back,
            if enabled {
                t.shop_enabled
            } else {
                t.shop_disabled
            },
        )),
        Err(error) => refused(&state, &back, error),
    }
}

#[derive(Debug, Deserialize)]
pub struct HistoryForm {
    from: String,
}

pub async fn history(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, shop)): Path<(i64, i64)>,
    Form(form): Form<HistoryForm>,
) -> WebResult<Response> {
    workplace.require(Action::DailyWork)?;
    let t = workplace.texts();
    let formats = formats(&state, &workplace).await?;
    let back = workplace.link(&format!("/shops/{shop}"));
    let Some(from) = parse_day(&formats, &form.from)? else {
        return Ok(redirect_with_flash(
            &state,
            &back,
            &format!("!{}", t.history_needs_date),
        ));
    };
    let _started = import_history(
        State(state.clone()),
        Company(workplace.company),
        ApiPath(shop),
        ApiJson(HistoryRequest { from }),
    )
    .await?;
    Ok(redirect_with_flash(
        &state,
        &workplace.link("/shops"),
        t.history_started,
    ))
}
