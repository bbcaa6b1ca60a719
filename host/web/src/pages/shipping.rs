//! Shipping: carrier connections (a form from the carrier's manifest, like shops),
//! shipping chosen orders, one merged label PDF, a shipment's tracking timeline,
//! cancelling, and settling an unknown outcome. Each action is the API's handler.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tovor_domain::access::Action;
use tovor_domain::mapping::HostStatus;
use tovor_domain::order::Address;
use tovor_server::AppState;
use tovor_server::api::auth::Company;
use tovor_server::api::extract::{ApiJson, ApiPath, ApiQuery};
use tovor_server::api::shipping::{
    CarrierInput, CarrierPatch, CarrierView, LabelBatch, LabelSheet, ResolveInput, ShipmentOptions,
    ShipmentQuery, ShipmentView, cancel_shipment, create_carrier, create_shipments, get_carrier,
    get_label, get_shipment, list_carriers, list_shipments, print_labels, resolve_shipment,
    track_now, update_carrier,
};
use tovor_store::orders::OrderFilter;

use crate::error::WebResult;
use crate::i18n::Texts;
use crate::page::{Chrome, Formats, render};
use crate::pages::orders::Choice;
use crate::pages::shop_form::{FieldView, config_from_form, field_view};
use crate::pages::{choose_plugin, form_problem, formats, loaded_plugin, refused};
use crate::session::{Button, Form, Workplace, redirect_with_flash};

pub struct CarrierRow {
    pub name: String,
    pub plugin: String,
    pub href: String,
}

pub struct ReadyOrder {
    pub id: i64,
    pub number: String,
    pub buyer: String,
    pub status: &'static str,
    pub total: String,
}

pub struct ShipmentRow {
    pub id: i64,
    pub href: String,
    pub reference: String,
    pub order_href: String,
    pub state: String,
    pub status: String,
    pub tracking: String,
    pub cod: String,
    pub pickup: String,
    pub has_label: bool,
    pub attention: bool,
}

fn cod_text(formats: &Formats, shipment: &ShipmentView) -> String {
    shipment
        .cash_on_delivery
        .as_ref()
        .map(|cod| formats.money(cod.amount, &cod.currency))
        .unwrap_or_default()
}

fn pickup_text(shipment: &ShipmentView) -> String {
    shipment
        .pickup_point
        .as_ref()
        .map(|point| format!("{} {}", point.id, point.name.clone().unwrap_or_default()))
        .unwrap_or_default()
}

fn shipment_row(workplace: &Workplace, formats: &Formats, shipment: &ShipmentView) -> ShipmentRow {
    ShipmentRow {
        id: shipment.id,
        href: workplace.link(&format!("/shipping/{}", shipment.id)),
        reference: shipment.reference.clone(),
        order_href: workplace.link(&format!("/orders/{}", shipment.order_id)),
        state: shipment.state.replace('_', " "),
        status: shipment.status.replace('_', " "),
        tracking: shipment.tracking_numbers.join(", "),
        cod: cod_text(formats, shipment),
        pickup: pickup_text(shipment),
        has_label: shipment.has_label,
        attention: matches!(shipment.state.as_str(), "failed" | "unknown_outcome")
            || matches!(
                shipment.status.as_str(),
                "delivery_failed" | "on_hold" | "return_to_sender"
            ),
    }
}

#[derive(Template)]
#[template(path = "shipping.html")]
struct ShippingPage {
    page: Chrome,
    carriers: Vec<CarrierRow>,
    carrier_choices: Vec<Choice>,
    new_carrier_href: String,
    orders: Vec<ReadyOrder>,
    ship_href: String,
    shipments: Vec<ShipmentRow>,
    labels_href: String,
    can_work: bool,
    can_configure: bool,
}

pub async fn show(State(state): State<Arc<AppState>>, workplace: Workplace) -> WebResult<Response> {
    let t = workplace.texts();
    let formats = formats(&state, &workplace).await?;
    let company = Company(workplace.company);
    let carriers: Vec<CarrierView> = list_carriers(State(state.clone()), company).await?.0;
    let scope = state.store.company(workplace.company);
    // Orders waiting to be shipped: the open ones, newest first.
    let mut orders = Vec::new();
    for status in [HostStatus::Processing, HostStatus::New, HostStatus::OnHold] {
        let filter = OrderFilter {
            status: Some(status),
            ..OrderFilter::default()
        };
        orders.extend(scope.find_orders(&filter, None, 50).await?);
    }
    orders.sort_by_key(|order| std::cmp::Reverse(order.id));
    orders.truncate(50);
    let shipments = list_shipments(
        State(state.clone()),
        company,
        ApiQuery(ShipmentQuery {
            order_id: None,
            state: None,
            status: None,
            limit: Some(100),
        }),
    )
    .await?
    .0;
    let page = ShippingPage {
        page: Chrome::company(&workplace, "shipping", t.shipping),
        carrier_choices: carriers
            .iter()
            .map(|carrier| Choice {
                value: carrier.id.to_string(),
                label: carrier.name.clone(),
                selected: false,
            })
            .collect(),
        carriers: carriers
            .iter()
            .map(|carrier| CarrierRow {
                name: carrier.name.clone(),
                plugin: carrier.plugin.clone(),
                href: workplace.link(&format!("/carriers/{}", carrier.id)),
            })
            .collect(),
        new_carrier_href: workplace.link("/carriers/new"),
        orders: orders
            .into_iter()
            .map(|order| ReadyOrder {
                id: order.id.0,
                number: order.number,
                buyer: order.buyer.unwrap_or_default(),
                status: t.status(order.status),
                total: formats.money(order.total, &order.currency),
            })
            .collect(),
        ship_href: workplace.link("/shipping/shipments"),
        shipments: shipments
            .iter()
            .map(|shipment| shipment_row(&workplace, &formats, shipment))
            .collect(),
        labels_href: workplace.link("/shipping/labels"),
        can_work: workplace.may(Action::DailyWork),
        can_configure: workplace.may(Action::Configure),
    };
    Ok(render(&page))
}

/// The ids of the ticked checkboxes named `{prefix}{id}`.
fn ticked(fields: &BTreeMap<String, String>, prefix: &str) -> Vec<i64> {
    fields
        .keys()
        .filter_map(|key| key.strip_prefix(prefix)?.parse().ok())
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct ShipForm {
    carrier_id: i64,
    #[serde(default)]
    parcel_count: String,
    #[serde(default)]
    weight_grams: String,
    #[serde(default)]
    cash_on_delivery: String,
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

pub struct ShipResult {
    pub order: String,
    pub order_href: String,
    pub shipment: Option<ShipmentRow>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "shipped.html")]
struct ShippedPage {
    page: Chrome,
    results: Vec<ShipResult>,
    labels_href: String,
    back_href: String,
}

/// Ships the ticked orders with one carrier connection; the answer lists each order's
/// shipment (with its COD and pickup point) or why it was refused.
pub async fn ship(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Form(form): Form<ShipForm>,
) -> WebResult<Response> {
    workplace.require(Action::DailyWork)?;
    let t = workplace.texts();
    let back = workplace.link("/shipping");
    let order_ids = ticked(&form.rest, "order_");
    if order_ids.is_empty() {
        return Ok(redirect_with_flash(
            &state,
            &back,
            &format!("!{}", t.choose_orders),
        ));
    }
    let formats = formats(&state, &workplace).await?;
    let options = ShipmentOptions {
        carrier_id: form.carrier_id,
        order_ids: Some(order_ids),
        parcel_count: form.parcel_count.trim().parse().ok(),
        weight_grams: form.weight_grams.trim().parse().ok(),
        cash_on_delivery: Some(form.cash_on_delivery.clone()).filter(|choice| !choice.is_empty()),
        ..ShipmentOptions::default()
    };
    let results = match create_shipments(
        State(state.clone()),
        Company(workplace.company),
        ApiJson(options),
    )
    .await
    {
        Ok(results) => results.0,
        Err(error) => {
            return refused(&state, &back, error);
        }
    };
    let scope = state.store.company(workplace.company);
    let mut rows = Vec::with_capacity(results.len());
    for result in results {
        let order = scope
            .order(tovor_domain::OrderId(result.order_id))
            .await
            .map(|order| order.number)
            .unwrap_or_else(|_| result.order_id.to_string());
        rows.push(ShipResult {
            order,
            order_href: workplace.link(&format!("/orders/{}", result.order_id)),
            shipment: result
                .shipment
                .as_ref()
                .map(|shipment| shipment_row(&workplace, &formats, shipment)),
            error: result.error.map(|error| error.message),
        });
    }
    let page = ShippedPage {
        page: Chrome::company(&workplace, "shipping", t.shipments_created),
        results: rows,
        labels_href: workplace.link("/shipping/labels"),
        back_href: back,
    };
    Ok(render(&page))
}

#[derive(Debug, Deserialize)]
pub struct LabelsForm {
    #[serde(default)]
    sheet: String,
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

/// The ticked shipments' labels as one PDF.
pub async fn labels(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Form(form): Form<LabelsForm>,
) -> WebResult<Response> {
    let t = workplace.texts();
    let ids = ticked(&form.rest, "shipment_");
    if ids.is_empty() {
        return Ok(redirect_with_flash(
            &state,
            &workplace.link("/shipping"),
            &format!("!{}", t.choose_shipments),
        ));
    }
    let batch = LabelBatch {
        shipment_ids: ids,
        sheet: if form.sheet == "a4-4up" {
            LabelSheet::A4FourUp
        } else {
            LabelSheet::AsDrawn
        },
    };
    match print_labels(
        State(state.clone()),
        Company(workplace.company),
        ApiJson(batch),
    )
    .await
    {
        Ok(pdf) => Ok(pdf),
        Err(error) => refused(&state, &workplace.link("/shipping"), error),
    }
}

pub struct EventRow {
    pub at: String,
    pub status: String,
    pub text: String,
    pub location: String,
}

#[derive(Template)]
#[template(path = "shipment.html")]
struct ShipmentPage {
    page: Chrome,
    row: ShipmentRow,
    recipient: Vec<String>,
    error: Option<String>,
    events: Vec<EventRow>,
    label_href: Option<String>,
    track_href: Option<String>,
    cancel_href: Option<String>,
    resolve_href: Option<String>,
    shop_notice: String,
}

fn address_text(address: &Address) -> Vec<String> {
    [
        address.name.clone(),
        address.company.clone(),
        address.line1.clone().or_else(|| {
            address.street.as_ref().map(|street| {
                format!(
                    "{street} {}",
                    address.house_number.clone().unwrap_or_default()
                )
            })
        }),
        Some(format!(
            "{} {}",
            address.postal_code.clone().unwrap_or_default(),
            address.city.clone().unwrap_or_default()
        )),
        address.country.clone(),
        address.phone.clone(),
    ]
    .into_iter()
    .flatten()
    .filter(|line| !line.trim().is_empty())
    .collect()
}

pub async fn shipment(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, id)): Path<(i64, i64)>,
) -> WebResult<Response> {
    let t = workplace.texts();
    let formats = formats(&state, &workplace).await?;
    let mut view = get_shipment(
        State(state.clone()),
        Company(workplace.company),
        ApiPath(id),
    )
    .await?
    .0;
    let events = view.events.take().unwrap_or_default();
    let can_work = workplace.may(Action::DailyWork);
    let base = workplace.link(&format!("/shipping/{id}"));
    let open = matches!(view.state.as_str(), "created" | "requested");
    let page = ShipmentPage {
        page: Chrome::company(
            &workplace,
            "shipping",
            format!("{} {}", t.shipment, view.reference),
        ),
        row: shipment_row(&workplace, &formats, &view),
        recipient: address_text(&view.recipient),
        error: view.error.clone(),
        events: events
            .into_iter()
            .map(|event| EventRow {
                at: formats.time(event.at),
                status: event.status.replace('_', " "),
                text: event.raw_text,
                location: event.location.unwrap_or_default(),
            })
            .collect(),
        label_href: view.has_label.then(|| format!("{base}/label")),
        track_href: (can_work && view.state == "created").then(|| format!("{base}/track")),
        cancel_href: (can_work && open).then(|| format!("{base}/cancel")),
        resolve_href: (can_work && view.state == "unknown_outcome")
            .then(|| format!("{base}/resolve")),
        shop_notice: view.shop_notice.replace('_', " "),
    };
    Ok(render(&page))
}

pub async fn label(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, id)): Path<(i64, i64)>,
) -> WebResult<Response> {
    Ok(get_label(State(state), Company(workplace.company), ApiPath(id)).await?)
}

/// Runs one of a shipment's actions and comes back to its page with the outcome.
async fn shipment_action(
    state: &Arc<AppState>,
    workplace: &Workplace,
    id: i64,
    done: &str,
    outcome: Result<axum::Json<ShipmentView>, tovor_server::api::error::ApiError>,
) -> WebResult<Response> {
    let back = workplace.link(&format!("/shipping/{id}"));
    match outcome {
        Ok(_) => Ok(redirect_with_flash(state, &back, done)),
        Err(error) => refused(state, &back, error),
    }
}

pub async fn track(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, id)): Path<(i64, i64)>,
    Form(Button {}): Form<Button>,
) -> WebResult<Response> {
    workplace.require(Action::DailyWork)?;
    let outcome = track_now(
        State(state.clone()),
        Company(workplace.company),
        ApiPath(id),
    )
    .await;
    shipment_action(&state, &workplace, id, workplace.texts().tracked, outcome).await
}

pub async fn cancel(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, id)): Path<(i64, i64)>,
    Form(Button {}): Form<Button>,
) -> WebResult<Response> {
    workplace.require(Action::DailyWork)?;
    let outcome = cancel_shipment(
        State(state.clone()),
        Company(workplace.company),
        ApiPath(id),
    )
    .await;
    shipment_action(
        &state,
        &workplace,
        id,
        workplace.texts().shipment_cancelled,
        outcome,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    carrier_shipment_id: String,
    #[serde(default)]
    tracking_numbers: String,
    #[serde(default)]
    not_created: Option<String>,
}

pub async fn resolve(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, id)): Path<(i64, i64)>,
    Form(form): Form<ResolveForm>,
) -> WebResult<Response> {
    workplace.require(Action::DailyWork)?;
    let input = ResolveInput {
        carrier_shipment_id: Some(form.carrier_shipment_id.trim().to_owned())
            .filter(|id| !id.is_empty()),
        tracking_numbers: form
            .tracking_numbers
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|number| !number.is_empty())
            .map(str::to_owned)
            .collect(),
        not_created: form.not_created.is_some(),
    };
    let outcome = resolve_shipment(
        State(state.clone()),
        Company(workplace.company),
        ApiPath(id),
        ApiJson(input),
    )
    .await;
    shipment_action(&state, &workplace, id, workplace.texts().resolved, outcome).await
}

/// The sender printed on labels, as the carrier form edits it.
pub struct SenderView {
    pub fields: Vec<(&'static str, &'static str, String)>,
}

fn sender_view(t: &Texts, address: &Address) -> SenderView {
    let value = |field: &Option<String>| field.clone().unwrap_or_default();
    SenderView {
        fields: vec![
            ("sender_name", t.name, value(&address.name)),
            ("sender_company", t.company_name, value(&address.company)),
            ("sender_street", t.street, value(&address.street)),
            (
                "sender_house_number",
                t.house_number,
                value(&address.house_number),
            ),
            (
                "sender_postal_code",
                t.postal_code,
                value(&address.postal_code),
            ),
            ("sender_city", t.city, value(&address.city)),
            ("sender_country", t.country, value(&address.country)),
            ("sender_phone", t.phone, value(&address.phone)),
            ("sender_email", t.email, value(&address.email)),
        ],
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CarrierForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    default_weight_grams: String,
    #[serde(default)]
    tell_shop: String,
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

impl CarrierForm {
    fn sender(&self) -> Address {
        let field = |key: &str| {
            self.rest
                .get(key)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        Address {
            name: field("sender_name"),
            company: field("sender_company"),
            street: field("sender_street"),
            house_number: field("sender_house_number"),
            postal_code: field("sender_postal_code"),
            city: field("sender_city"),
            country: field("sender_country").map(|country| country.to_uppercase()),
            phone: field("sender_phone"),
            email: field("sender_email"),
            ..Address::default()
        }
    }
}

#[derive(Template)]
#[template(path = "carrier_form.html")]
struct CarrierFormPage {
    page: Chrome,
    action: String,
    plugin_name: String,
    name: String,
    fields: Vec<FieldView>,
    sender: SenderView,
    default_weight_grams: String,
    tell_shop: Vec<Choice>,
    problem: Option<String>,
    creating: bool,
    can_configure: bool,
}

fn carrier_plugin(state: &AppState, plugin: &str) -> WebResult<Arc<tovor_runtime::LoadedPlugin>> {
    loaded_plugin(state, plugin, tovor_manifest::Kind::Carrier)
}

#[allow(clippy::too_many_arguments)]
fn carrier_page(
    workplace: &Workplace,
    plugin: &tovor_runtime::LoadedPlugin,
    action: String,
    form: &CarrierForm,
    secrets_set: &[String],
    problem: Option<String>,
    creating: bool,
) -> CarrierFormPage {
    let t = workplace.texts();
    let tell_shop = [
        ("created", t.tell_shop_created),
        ("delivered", t.tell_shop_delivered),
        ("off", t.tell_shop_off),
    ]
    .iter()
    .map(|(value, label)| Choice {
        value: (*value).to_owned(),
        label: (*label).to_owned(),
        selected: form.tell_shop == *value,
    })
    .collect();
    CarrierFormPage {
        page: Chrome::company(
            workplace,
            "shipping",
            if creating {
                format!("{}: {}", t.add_carrier, plugin.manifest.plugin.name)
            } else {
                form.name.clone()
            },
        ),
        action,
        plugin_name: plugin.manifest.plugin.name.clone(),
        name: form.name.clone(),
        fields: plugin
            .manifest
            .config
            .iter()
            .map(|field| {
                field_view(
                    field,
                    form.rest
                        .get(&format!("cfg_{}", field.name))
                        .map(String::as_str),
                    secrets_set.contains(&field.name),
                )
            })
            .collect(),
        sender: sender_view(t, &form.sender()),
        default_weight_grams: form.default_weight_grams.clone(),
        tell_shop,
        problem,
        creating,
        can_configure: workplace.may(Action::Configure),
    }
}

#[derive(Debug, Deserialize)]
pub struct NewQuery {
    plugin: Option<String>,
}

pub async fn new_carrier(
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
            tovor_manifest::Kind::Carrier,
            "/carriers/new",
            t.add_carrier,
        ));
    };
    let plugin = carrier_plugin(&state, &plugin_id)?;
    let form = CarrierForm {
        name: plugin.manifest.plugin.name.clone(),
        default_weight_grams: "1000".to_owned(),
        tell_shop: "created".to_owned(),
        ..CarrierForm::default()
    };
    let page = carrier_page(
        &workplace,
        &plugin,
        workplace.link(&format!("/carriers/new?plugin={plugin_id}")),
        &form,
        &[],
        None,
        true,
    );
    Ok(render(&page))
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Query(query): Query<NewQuery>,
    Form(form): Form<CarrierForm>,
) -> WebResult<Response> {
    workplace.require(Action::Configure)?;
    let t = workplace.texts();
    let plugin_id = query.plugin.unwrap_or_default();
    let plugin = carrier_plugin(&state, &plugin_id)?;
    let input = CarrierInput {
        plugin: plugin_id.clone(),
        name: form.name.clone(),
        config: config_from_form(&form.rest, &plugin.manifest.config),
        sender: form.sender(),
        label_format: None,
        services: Vec::new(),
        default_weight_grams: form.default_weight_grams.trim().parse().ok(),
        tell_shop: Some(form.tell_shop.clone()).filter(|choice| !choice.is_empty()),
        cod_rounding: None,
        order_reference: None,
    };
    match create_carrier(
        State(state.clone()),
        Company(workplace.company),
        ApiJson(input),
    )
    .await
    {
        Ok((_, view)) => Ok(redirect_with_flash(
            &state,
            &workplace.link(&format!("/carriers/{}", view.0.id)),
            t.carrier_added,
        )),
        Err(error) => {
            let problem = form_problem(error)?;
            let page = carrier_page(
                &workplace,
                &plugin,
                workplace.link(&format!("/carriers/new?plugin={plugin_id}")),
                &form,
                &[],
                Some(problem),
                true,
            );
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

fn form_of(view: &CarrierView) -> CarrierForm {
    let mut rest: BTreeMap<String, String> = view
        .config
        .iter()
        .map(|(name, value)| (format!("cfg_{name}"), value.clone()))
        .collect();
    let sender = &view.sender;
    for (key, value) in [
        ("sender_name", &sender.name),
        ("sender_company", &sender.company),
        ("sender_street", &sender.street),
        ("sender_house_number", &sender.house_number),
        ("sender_postal_code", &sender.postal_code),
        ("sender_city", &sender.city),
        ("sender_country", &sender.country),
        ("sender_phone", &sender.phone),
        ("sender_email", &sender.email),
    ] {
        if let Some(value) = value {
            rest.insert(key.to_owned(), value.clone());
        }
    }
    CarrierForm {
        name: view.name.clone(),
        default_weight_grams: view.default_weight_grams.to_string(),
        tell_shop: view.tell_shop.clone(),
        rest,
    }
}

pub async fn carrier(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, id)): Path<(i64, i64)>,
) -> WebResult<Response> {
    let view = get_carrier(
        State(state.clone()),
        Company(workplace.company),
        ApiPath(id),
    )
    .await?
    .0;
    let plugin = carrier_plugin(&state, &view.plugin)?;
    let page = carrier_page(
        &workplace,
        &plugin,
        workplace.link(&format!("/carriers/{id}")),
        &form_of(&view),
        &view.secrets_set,
        None,
        false,
    );
    Ok(render(&page))
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    workplace: Workplace,
    Path((_, id)): Path<(i64, i64)>,
    Form(form): Form<CarrierForm>,
) -> WebResult<Response> {
    workplace.require(Action::Configure)?;
    let t = workplace.texts();
    let company = Company(workplace.company);
    let before = get_carrier(State(state.clone()), company, ApiPath(id))
        .await?
        .0;
    let plugin = carrier_plugin(&state, &before.plugin)?;
    let patch = CarrierPatch {
        name: Some(form.name.clone()),
        config: Some(config_from_form(&form.rest, &plugin.manifest.config)),
        sender: Some(form.sender()),
        default_weight_grams: form.default_weight_grams.trim().parse().ok(),
        tell_shop: Some(form.tell_shop.clone()).filter(|choice| !choice.is_empty()),
        ..CarrierPatch::default()
    };
    match update_carrier(State(state.clone()), company, ApiPath(id), ApiJson(patch)).await {
        Ok(_) => Ok(redirect_with_flash(
            &state,
            &workplace.link(&format!("/carriers/{id}")),
            t.saved,
        )),
        Err(error) => {
            let problem = form_problem(error)?;
            let page = carrier_page(
                &workplace,
                &plugin,
                workplace.link(&format!("/carriers/{id}")),
                &form,
                &before.secrets_set,
                Some(problem),
                false,
            );
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}
