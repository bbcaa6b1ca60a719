//! Carrier connections, shipments for orders, labels, tracking and cancellation.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tovor_domain::order::{Address, PickupPoint};
use tovor_domain::shipping::{
    CodChoice, CodRounding, OrderReference, Parcel, ShipmentChoices, ShipmentState, ShipmentStatus,
};
use tovor_domain::{CarrierId, OrderId, ShipmentId};
use tovor_runtime::Kind;
use tovor_store::shipping::{
    Carrier, CarrierSettings, Shipment, ShipmentEvent, ShipmentFilter, TellShop,
};
use utoipa::{IntoParams, ToSchema};

use super::auth::Company;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, limit, non_blank};
use super::shops::{checked_config, opened_secrets, patched_config};
use crate::shipping::{self, Resolution, ShipError};
use crate::state::AppState;

/// A carrier connection: a carrier plugin with the account's credentials and the
/// sender printed on labels.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CarrierInput {
    #[schema(schema_with = super::schema::name)]
    pub plugin: String,
    #[schema(schema_with = super::schema::name)]
    pub name: String,
    /// The fields the plugin's manifest declares; secret ones are sealed at rest.
    #[serde(default, deserialize_with = "super::extract::config_values")]
    #[schema(value_type = Object)]
    pub config: BTreeMap<String, String>,
    /// Sender address: name, company, street, house_number, city, postal_code,
    /// country (ISO alpha-2), phone, email.
    #[schema(value_type = Object)]
    pub sender: Address,
    /// Label format asked for by default (one the carrier offers, e.g. `A6 on A4`).
    pub label_format: Option<String>,
    /// Carrier service codes added to every shipment.
    #[serde(default)]
    pub services: Vec<String>,
    /// Weight of a parcel when a shipment gives none (default 1000 g).
    pub default_weight_grams: Option<u32>,
    /// When the shop is told the tracking number: `off`, `created` (default) or
    /// `delivered`.
    #[schema(schema_with = super::schema::tell_shop_or_null)]
    pub tell_shop: Option<String>,
    /// The step cash on delivery taken from an order is rounded to, per currency, as
    /// the carrier requires (`{"CZK": "1", "HUF": "5"}`); others are sent as they are.
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub cod_rounding: Option<BTreeMap<String, Decimal>>,
    /// Which order number shipment and payment references carry: `auto` (default:
    /// the shop's when no other order of the company has it, else tovor's), `shop`
    /// or `tovor`.
    #[schema(schema_with = super::schema::order_reference_or_null)]
    pub order_reference: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CarrierView {
    pub id: i64,
    pub name: String,
    pub plugin: String,
    pub config: BTreeMap<String, String>,
    /// Names of the secret fields that are set (their values are never shown).
    pub secrets_set: Vec<String>,
    #[schema(value_type = Object)]
    pub sender: Address,
    pub label_format: Option<String>,
    pub services: Vec<String>,
    pub default_weight_grams: u32,
    pub tell_shop: String,
    #[schema(value_type = BTreeMap<String, String>)]
    pub cod_rounding: BTreeMap<String, Decimal>,
    pub order_reference: String,
}

fn carrier_view(state: &AppState, carrier: Carrier) -> ApiResult<CarrierView> {
    let secrets = opened_secrets(state, carrier.settings.sealed_secrets.as_deref())?;
    let settings = carrier.settings;
    Ok(CarrierView {
        id: carrier.id.0,
        name: settings.name,
        plugin: settings.plugin_id,
        config: settings.config,
        secrets_set: secrets.into_keys().collect(),
        sender: settings.sender,
        label_format: settings.label_format,
        services: settings.services,
        default_weight_grams: settings.default_weight_grams,
        tell_shop: settings.tell_shop.as_str().to_owned(),
        cod_rounding: settings.cod_rounding.0,
        order_reference: settings.order_reference.as_str().to_owned(),
    })
}

/// Changes to a carrier connection; what is left out stays. Config keys given replace
/// those values (an empty value clears a field); secrets left out are kept.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CarrierPatch {
    #[schema(schema_with = super::schema::name_or_null)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::extract::optional_config_values")]
    #[schema(value_type = Option<Object>)]
    pub config: Option<BTreeMap<String, String>>,
    #[schema(value_type = Option<Object>)]
    pub sender: Option<Address>,
    pub label_format: Option<String>,
    pub services: Option<Vec<String>>,
    pub default_weight_grams: Option<u32>,
    #[schema(schema_with = super::schema::tell_shop_or_null)]
    pub tell_shop: Option<String>,
    /// Replaces the rounding steps (`{}` rounds nothing).
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub cod_rounding: Option<BTreeMap<String, Decimal>>,
    #[schema(schema_with = super::schema::order_reference_or_null)]
    pub order_reference: Option<String>,
}

fn parse_tell_shop(text: &str) -> ApiResult<TellShop> {
    TellShop::parse(text)
        .ok_or_else(|| ApiError::field("tell_shop", "must be off, created or delivered"))
}

fn parse_cod_rounding(steps: BTreeMap<String, Decimal>) -> ApiResult<CodRounding> {
    CodRounding::new(steps).map_err(|error| ApiError::field("cod_rounding", error.to_string()))
}

fn parse_order_reference(text: &str) -> ApiResult<OrderReference> {
    OrderReference::parse(text)
        .ok_or_else(|| ApiError::field("order_reference", "must be auto, shop or tovor"))
}

#[utoipa::path(post, path = "/api/v1/carriers", tag = "shipping", request_body = CarrierInput,
    responses((status = 201, body = CarrierView), (status = 400, body = ErrorBody)))]
pub async fn create_carrier(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiJson(input): ApiJson<CarrierInput>,
) -> ApiResult<(StatusCode, Json<CarrierView>)> {
    let (config, sealed_secrets) =
        checked_config(&state, &input.plugin, Kind::Carrier, &input.config)?;
    let tell_shop = match input.tell_shop.as_deref() {
        None => TellShop::default(),
        Some(text) => parse_tell_shop(text)?,
    };
    let cod_rounding = parse_cod_rounding(input.cod_rounding.unwrap_or_default())?;
    let order_reference = match input.order_reference.as_deref() {
        None => OrderReference::default(),
        Some(text) => parse_order_reference(text)?,
    };
    let settings = CarrierSettings {
        name: input.name,
        plugin_id: input.plugin,
        config,
        sealed_secrets,
        sender: input.sender,
        label_format: input.label_format,
        services: input.services,
        default_weight_grams: input.default_weight_grams.unwrap_or(1000),
        tell_shop,
        cod_rounding,
        order_reference,
    };
    let carrier = state
        .store
        .company(company.0)
        .create_carrier(&settings, OffsetDateTime::now_utc())
        .await?;
    Ok((StatusCode::CREATED, Json(carrier_view(&state, carrier)?)))
}

#[utoipa::path(get, path = "/api/v1/carriers", tag = "shipping",
    responses((status = 200, body = Vec<CarrierView>)))]
pub async fn list_carriers(
    State(state): State<Arc<AppState>>,
    company: Company,
) -> ApiResult<Json<Vec<CarrierView>>> {
    let carriers = state.store.company(company.0).carriers().await?;
    let views = carriers
        .into_iter()
        .map(|carrier| carrier_view(&state, carrier))
        .collect::<ApiResult<_>>()?;
    Ok(Json(views))
}

#[utoipa::path(get, path = "/api/v1/carriers/{id}", tag = "shipping", params(("id" = i64, Path)),
    responses((status = 200, body = CarrierView), (status = 404, body = ErrorBody)))]
pub async fn get_carrier(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CarrierView>> {
    let carrier = state
        .store
        .company(company.0)
        .carrier(CarrierId(id))
        .await?;
    Ok(Json(carrier_view(&state, carrier)?))
}

#[utoipa::path(patch, path = "/api/v1/carriers/{id}", tag = "shipping", params(("id" = i64, Path)),
    request_body = CarrierPatch,
    responses((status = 200, body = CarrierView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_carrier(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<CarrierPatch>,
) -> ApiResult<Json<CarrierView>> {
    let scope = state.store.company(company.0);
    let carrier = scope.carrier(CarrierId(id)).await?;
    let mut settings = carrier.settings.clone();
    if let Some(changes) = &patch.config {
        let (config, sealed) = patched_config(
            &state,
            &settings.plugin_id,
            Kind::Carrier,
            (&settings.config, settings.sealed_secrets.as_deref()),
            changes,
        )?;
        settings.config = config;
        settings.sealed_secrets = sealed;
    }
    if let Some(name) = patch.name {
        settings.name = name;
    }
    if let Some(sender) = patch.sender {
        settings.sender = sender;
    }
    if let Some(format) = patch.label_format {
        settings.label_format = (!format.is_empty()).then_some(format);
    }
    if let Some(services) = patch.services {
        settings.services = services;
    }
    if let Some(grams) = patch.default_weight_grams {
        settings.default_weight_grams = grams;
    }
    if let Some(text) = &patch.tell_shop {
        settings.tell_shop = parse_tell_shop(text)?;
    }
    if let Some(steps) = patch.cod_rounding {
        settings.cod_rounding = parse_cod_rounding(steps)?;
    }
    if let Some(text) = &patch.order_reference {
        settings.order_reference = parse_order_reference(text)?;
    }
    scope.update_carrier(CarrierId(id), &settings).await?;
    let carrier = scope.carrier(CarrierId(id)).await?;
    Ok(Json(carrier_view(&state, carrier)?))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParcelInput {
    pub weight_grams: u32,
    pub length_mm: Option<u32>,
    pub width_mm: Option<u32>,
    pub height_mm: Option<u32>,
}

/// Which carrier connection and how to ship; everything else has a default.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentOptions {
    pub carrier_id: i64,
    /// The orders to ship (`POST /api/v1/shipments` only; the order-level route ships
    /// its own order).
    #[schema(min_items = 1, max_items = 500)]
    pub order_ids: Option<Vec<i64>>,
    /// Explicit parcels; when left out, `parcel_count` parcels of `weight_grams`.
    pub parcels: Option<Vec<ParcelInput>>,
    /// Parcels of the shipment (default 1).
    pub parcel_count: Option<u32>,
    /// Weight of each parcel (default: the carrier connection's).
    pub weight_grams: Option<u32>,
    /// `auto` (default: collect when the order's payment method maps to cash on
    /// delivery and it is unpaid), `on` or `off`.
    #[schema(schema_with = super::schema::cash_on_delivery_or_null)]
    pub cash_on_delivery: Option<String>,
    /// The amount to collect on delivery (`"500"`), in the order's currency: collected
    /// exactly as given, whatever the order's payment method, never rounded.
    #[serde(
        default,
        deserialize_with = "tovor_domain::decimal::optional_number_or_string"
    )]
    #[schema(value_type = Option<super::extract::DecimalInput>)]
    pub cod_amount: Option<Decimal>,
    /// A pickup point id replacing the one the customer chose.
    pub pickup_point: Option<String>,
    /// Deliver to the address even though the customer chose a pickup point.
    #[serde(default)]
    pub home_delivery: bool,
    /// Carrier service codes (default: the carrier connection's).
    pub services: Option<Vec<String>>,
    pub note: Option<String>,
    /// Ship an order that already has a shipment again (a second parcel, a
    /// replacement); without it, such an order is refused with 409.
    #[serde(default)]
    pub additional: bool,
}

impl ShipmentOptions {
    fn choices(&self) -> ApiResult<ShipmentChoices> {
        let cash_on_delivery = match self.cash_on_delivery.as_deref() {
            None | Some("auto") => CodChoice::Auto,
            Some("on") => CodChoice::On,
            Some("off") => CodChoice::Off,
            Some(_) => {
                return Err(ApiError::field(
                    "cash_on_delivery",
                    "must be auto, on or off",
                ));
            }
        };
        Ok(ShipmentChoices {
            parcels: self
                .parcels
                .iter()
                .flatten()
                .map(|parcel| Parcel {
                    weight_grams: parcel.weight_grams,
                    length_mm: parcel.length_mm,
                    width_mm: parcel.width_mm,
                    height_mm: parcel.height_mm,
                })
                .collect(),
            parcel_count: self.parcel_count,
            weight_grams: self.weight_grams,
            cash_on_delivery,
            cod_amount: self.cod_amount,
            pickup_point: self.pickup_point.clone(),
            home_delivery: self.home_delivery,
            services: self.services.clone(),
            note: self.note.clone(),
            additional: self.additional,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CashOnDeliveryView {
    /// What the carrier collects.
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub currency: String,
    /// Payment reference (variable symbol).
    pub reference: String,
    /// The order's amount before the carrier connection's rounding, when it rounded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub rounded_from: Option<Decimal>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub tracking_number: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// The normalized status.
    pub status: String,
    /// The carrier's own code and text.
    pub raw_code: String,
    pub raw_text: String,
    pub location: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentView {
    pub id: i64,
    pub order_id: i64,
    pub carrier_id: i64,
    /// Built from the order number; the carrier keeps it.
    pub reference: String,
    /// `requested`, `created`, `unknown_outcome`, `failed` or `cancelled`.
    pub state: String,
    /// Where the parcel is: `pending`, `picked_up`, `in_transit`, `out_for_delivery`,
    /// `ready_for_pickup`, `delivered`, `delivery_failed`, `delivery_delayed`,
    /// `on_hold`, `return_to_sender`, `cancelled` or `unknown`.
    pub status: String,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub status_at: Option<OffsetDateTime>,
    pub carrier_shipment_id: Option<String>,
    pub tracking_numbers: Vec<String>,
    /// Why it failed, or why its outcome is unknown and what to do.
    pub error: Option<String>,
    /// The field a refusal names, in the same naming as the shipping rules'
    /// (`shipping.postal_code`, `cash_on_delivery.amount`).
    pub error_field: Option<String>,
    /// The host refused to send it (nothing reached the carrier): its reference was
    /// given back and the order's next shipment takes it.
    pub not_sent: bool,
    pub parcels: usize,
    pub weight_grams: u64,
    pub cash_on_delivery: Option<CashOnDeliveryView>,
    #[schema(value_type = Option<Object>)]
    pub pickup_point: Option<PickupPoint>,
    #[schema(value_type = Object)]
    pub recipient: Address,
    /// Where the label is served (present once the carrier created the shipment).
    pub label_url: Option<String>,
    pub has_label: bool,
    /// The hand-over that took it to the carrier (`/api/v1/handovers/{id}`), if one did.
    pub handover_id: Option<i64>,
    /// Telling the shop the tracking number: `none`, `due`, `sent` or `failed`.
    pub shop_notice: String,
    pub shop_notice_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_track_at: Option<OffsetDateTime>,
    pub track_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Oldest first; on the single-shipment answers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventView>>,
}

fn shipment_view(shipment: Shipment, events: Option<Vec<ShipmentEvent>>) -> ShipmentView {
    let created = shipment.state == ShipmentState::Created;
    ShipmentView {
        id: shipment.id.0,
        order_id: shipment.order.0,
        carrier_id: shipment.carrier.0,
        reference: shipment.reference,
        state: shipment.state.as_str().to_owned(),
        status: shipment.status.as_str().to_owned(),
        status_at: shipment.status_at,
        carrier_shipment_id: shipment.carrier_shipment_id,
        tracking_numbers: shipment.tracking_numbers,
        error: shipment.error,
        error_field: shipment.error_field,
        not_sent: shipment.reference_released,
        parcels: shipment.plan.parcels.len(),
        weight_grams: shipment
            .plan
            .parcels
            .iter()
            .map(|parcel| u64::from(parcel.weight_grams))
            .sum(),
        cash_on_delivery: shipment
            .plan
            .cash_on_delivery
            .map(|cod| CashOnDeliveryView {
                amount: cod.amount,
                currency: cod.currency,
                reference: cod.reference,
                rounded_from: cod.rounded_from,
            }),
        pickup_point: shipment.plan.pickup_point,
        recipient: shipment.plan.recipient,
        label_url: (created || shipment.has_label)
            .then(|| format!("/api/v1/shipments/{}/label", shipment.id)),
        has_label: shipment.has_label,
        handover_id: shipment.handover_id,
        shop_notice: shipment.shop_notice,
        shop_notice_error: shipment.shop_notice_error,
        next_track_at: shipment.next_track_at,
        track_error: shipment.track_error,
        created_at: shipment.created_at,
        events: events.map(|events| {
            events
                .into_iter()
                .map(|event| EventView {
                    tracking_number: event.tracking_number,
                    at: event.at,
                    status: event.status.as_str().to_owned(),
                    raw_code: event.raw_code,
                    raw_text: event.raw_text,
                    location: event.location,
                })
                .collect()
        }),
    }
}

pub(super) async fn detail(
    state: &AppState,
    company: Company,
    id: ShipmentId,
) -> ApiResult<ShipmentView> {
    let scope = state.store.company(company.0);
    let shipment = scope.shipment(id).await?;
    let events = scope.shipment_events(id).await?;
    Ok(shipment_view(shipment, Some(events)))
}

/// The carrier connection a request names; one that does not exist (or is another
/// company's) is the request's fault.
async fn carrier_named(state: &AppState, company: Company, id: i64) -> ApiResult<Carrier> {
    match state.store.company(company.0).carrier(CarrierId(id)).await {
        Ok(carrier) => Ok(carrier),
        Err(tovor_store::StoreError::NotFound { .. }) => Err(ApiError {
            field: Some("carrier_id".to_owned()),
            ..ApiError::not_found(format!("no carrier connection {id}"))
        }),
        Err(error) => Err(error.into()),
    }
}

impl From<ShipError> for ApiError {
    fn from(error: ShipError) -> Self {
        match error {
            ShipError::Refused(problems) => Self {
                field: problems.first().map(|problem| problem.field.clone()),
                ..Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "rule_refused",
                    ShipError::Refused(problems).to_string(),
                )
            },
            ShipError::Service(error) => error.into(),
        }
    }
}

/// The answer for one created shipment: 201 once the carrier created it, 202 while
/// its outcome is being settled, 422 when the carrier refused it or the host did not
/// send it.
fn created_answer(shipment: Shipment) -> Response {
    match shipment.state {
        ShipmentState::Failed if shipment.reference_released => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_sent",
            format!(
                "shipment {} was not sent to the carrier: {}",
                shipment.id,
                shipment.error.as_deref().unwrap_or("no reason given")
            ),
        )
        .into_response(),
        ShipmentState::Failed => ApiError {
            field: shipment.error_field.clone(),
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "carrier_refused",
                format!(
                    "shipment {} was refused by the carrier: {}",
                    shipment.id,
                    shipment.error.as_deref().unwrap_or("no reason given")
                ),
            )
        }
        .into_response(),
        ShipmentState::Created => {
            (StatusCode::CREATED, Json(shipment_view(shipment, None))).into_response()
        }
        _ => (StatusCode::ACCEPTED, Json(shipment_view(shipment, None))).into_response(),
    }
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/shipments", tag = "shipping",
    params(("id" = i64, Path)), request_body = ShipmentOptions,
    responses((status = 201, description = "created by the carrier", body = ShipmentView),
        (status = 202, description = "the carrier's answer was lost; being settled", body = ShipmentView),
        (status = 409, description = "the order already has a shipment (ask for an additional one)", body = ErrorBody),
        (status = 422, description = "refused by the shipping rules (`rule_refused`) or the carrier (`carrier_refused`), or not sent by the host (`not_sent`, e.g. its egress policy)", body = ErrorBody)))]
pub async fn create_shipment(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ShipmentOptions>,
) -> ApiResult<Response> {
    if input.order_ids.is_some() {
        return Err(ApiError::field(
            "order_ids",
            "this route ships its own order; use POST /api/v1/shipments for many",
        ));
    }
    let choices = input.choices()?;
    let carrier = carrier_named(&state, company, input.carrier_id).await?;
    let mut results =
        shipping::ship_orders(&state, company.0, &carrier, &[(OrderId(id), choices)]).await?;
    match results.pop() {
        Some(Ok(shipment)) => Ok(created_answer(shipment)),
        Some(Err(error)) => Err(error.into()),
        None => Err(ApiError::internal("no result for the order")),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    pub order_id: i64,
    pub shipment: Option<ShipmentView>,
    #[schema(value_type = Option<Object>)]
    pub error: Option<super::error::ErrorDetail>,
}

#[utoipa::path(post, path = "/api/v1/shipments", tag = "shipping", request_body = ShipmentOptions,
    responses((status = 200, description = "one result per order, in order", body = Vec<BatchResult>)))]
pub async fn create_shipments(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiJson(input): ApiJson<ShipmentOptions>,
) -> ApiResult<Json<Vec<BatchResult>>> {
    let order_ids = input.order_ids.clone().unwrap_or_default();
    if order_ids.is_empty() || order_ids.len() > 500 {
        return Err(ApiError::field("order_ids", "give 1 to 500 orders"));
    }
    let choices = input.choices()?;
    let carrier = carrier_named(&state, company, input.carrier_id).await?;
    let orders: Vec<_> = order_ids
        .iter()
        .map(|id| (OrderId(*id), choices.clone()))
        .collect();
    let results = shipping::ship_orders(&state, company.0, &carrier, &orders).await?;
    let answers = order_ids
        .iter()
        .zip(results)
        .map(|(order_id, result)| match result {
            Ok(shipment) => BatchResult {
                order_id: *order_id,
                shipment: Some(shipment_view(shipment, None)),
                error: None,
            },
            Err(error) => {
                let error = ApiError::from(error);
                BatchResult {
                    order_id: *order_id,
                    shipment: None,
                    error: Some(error.detail()),
                }
            }
        })
        .collect();
    Ok(Json(answers))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShipmentQuery {
    pub order_id: Option<i64>,
    /// `requested`, `created`, `unknown_outcome`, `failed`, `cancelled`.
    #[param(schema_with = super::schema::shipment_state)]
    pub state: Option<String>,
    /// A normalized tracking status (`in_transit`, `delivered`, ...).
    #[param(schema_with = super::schema::shipment_status)]
    pub status: Option<String>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/shipments", tag = "shipping", params(ShipmentQuery),
    responses((status = 200, body = Vec<ShipmentView>)))]
pub async fn list_shipments(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiQuery(query): ApiQuery<ShipmentQuery>,
) -> ApiResult<Json<Vec<ShipmentView>>> {
    let filter = ShipmentFilter {
        order: query.order_id.map(OrderId),
        state: query
            .state
            .as_deref()
            .map(|text| {
                ShipmentState::parse(text).ok_or_else(|| ApiError::field("state", "unknown state"))
            })
            .transpose()?,
        status: query
            .status
            .as_deref()
            .map(|text| {
                ShipmentStatus::parse(text)
                    .ok_or_else(|| ApiError::field("status", "unknown status"))
            })
            .transpose()?,
        limit: Some(limit(query.limit, 100, 1000)?),
    };
    let shipments = state.store.company(company.0).shipments(&filter).await?;
    Ok(Json(
        shipments
            .into_iter()
            .map(|shipment| shipment_view(shipment, None))
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/shipments/{id}", tag = "shipping", params(("id" = i64, Path)),
    responses((status = 200, body = ShipmentView), (status = 404, body = ErrorBody)))]
pub async fn get_shipment(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ShipmentView>> {
    Ok(Json(detail(&state, company, ShipmentId(id)).await?))
}

pub(super) fn document(content_type: String, data: Vec<u8>, name: &str) -> Response {
    let extension = if content_type == "application/pdf" {
        "pdf"
    } else {
        "bin"
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}.{extension}\""),
            ),
        ],
        data,
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/shipments/{id}/label", tag = "shipping",
    params(("id" = i64, Path)),
    responses((status = 200, description = "the label as the carrier gave it", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, body = ErrorBody)))]
pub async fn get_label(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let label = shipping::label(&state, company.0, ShipmentId(id)).await?;
    Ok(document(
        label.content_type,
        label.data,
        &format!("label-{id}"),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelBatch {
    /// The shipments whose labels to print, in print order.
    #[schema(min_items = 1, max_items = 2000)]
    pub shipment_ids: Vec<i64>,
    /// The paper: `as-drawn` (default) gives each label its own page, as the carrier
    /// drew it, for a label printer; `a4-4up` puts four labels on each A4 sheet, in
    /// reading order, for an office printer and A4 label stock cut in quarters.
    #[serde(default)]
    pub sheet: LabelSheet,
}

/// How printed labels are laid out on paper.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LabelSheet {
    #[default]
    AsDrawn,
    #[serde(rename = "a4-4up")]
    A4FourUp,
}

impl From<LabelSheet> for tovor_labels::Sheet {
    fn from(sheet: LabelSheet) -> Self {
        match sheet {
            LabelSheet::AsDrawn => Self::AsDrawn,
            LabelSheet::A4FourUp => Self::A4FourUp,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/labels", tag = "shipping", request_body = LabelBatch,
    responses((status = 200, description = "every label in one PDF, in the order given, on the sheet asked for", content_type = "application/pdf", body = Vec<u8>),
        (status = 400, body = ErrorBody)))]
pub async fn print_labels(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiJson(batch): ApiJson<LabelBatch>,
) -> ApiResult<Response> {
    if batch.shipment_ids.is_empty() || batch.shipment_ids.len() > 2000 {
        return Err(ApiError::field("shipment_ids", "give 1 to 2000 shipments"));
    }
    let ids: Vec<_> = batch
        .shipment_ids
        .iter()
        .map(|id| ShipmentId(*id))
        .collect();
    let pdf = shipping::merged_labels(&state, company.0, &ids, batch.sheet.into()).await?;
    Ok(document("application/pdf".into(), pdf, "labels"))
}

#[utoipa::path(post, path = "/api/v1/shipments/{id}/track", tag = "shipping",
    params(("id" = i64, Path)),
    responses((status = 200, description = "asked the carrier now", body = ShipmentView), (status = 404, body = ErrorBody)))]
pub async fn track_now(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ShipmentView>> {
    let scope = state.store.company(company.0);
    let shipment = scope.shipment(ShipmentId(id)).await?;
    if shipment.state != ShipmentState::Created {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "shipment {id} is {}: only created shipments are tracked",
                shipment.state.as_str()
            ),
        ));
    }
    shipping::track(&state, company.0, &[shipment]).await?;
    Ok(Json(detail(&state, company, ShipmentId(id)).await?))
}

#[utoipa::path(post, path = "/api/v1/shipments/{id}/cancel", tag = "shipping",
    params(("id" = i64, Path)),
    responses((status = 200, body = ShipmentView), (status = 400, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn cancel_shipment(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ShipmentView>> {
    shipping::cancel(&state, company.0, ShipmentId(id)).await?;
    Ok(Json(detail(&state, company, ShipmentId(id)).await?))
}

/// How a person settled a shipment of unknown outcome: either found at the carrier
/// (its id and tracking numbers), or checked and not there (`not_created`: it is
/// created again).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveInput {
    pub carrier_shipment_id: Option<String>,
    #[serde(default)]
    pub tracking_numbers: Vec<String>,
    #[serde(default)]
    pub not_created: bool,
}

#[utoipa::path(post, path = "/api/v1/shipments/{id}/resolve", tag = "shipping",
    params(("id" = i64, Path)), request_body = ResolveInput,
    responses((status = 200, body = ShipmentView), (status = 400, body = ErrorBody)))]
pub async fn resolve_shipment(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ResolveInput>,
) -> ApiResult<Json<ShipmentView>> {
    let resolution = match (input.carrier_shipment_id, input.not_created) {
        (Some(shipment_id), false) => {
            let shipment_id = non_blank("carrier_shipment_id", &shipment_id)?.to_owned();
            let tracking_numbers = if input.tracking_numbers.is_empty() {
                vec![shipment_id.clone()]
            } else {
                input.tracking_numbers
            };
            Resolution::Found {
                shipment_id,
                tracking_numbers,
            }
        }
        (None, true) => Resolution::NotCreated,
        _ => {
            return Err(ApiError::bad_request(
                "give either carrier_shipment_id (found at the carrier) or not_created: true",
            ));
        }
    };
    shipping::resolve(&state, company.0, ShipmentId(id), resolution).await?;
    Ok(Json(detail(&state, company, ShipmentId(id)).await?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn shipment_options_refuse_unknown_fields() {
        let ok: ShipmentOptions = serde_json::from_str(
            r#"{"carrier_id": 1, "parcel_count": 2, "cash_on_delivery": "on"}"#,
        )
        .unwrap();
        assert_eq!((ok.carrier_id, ok.parcel_count), (1, Some(2)));
        assert_eq!(ok.choices().unwrap().cash_on_delivery, CodChoice::On);
        let typo =
            serde_json::from_str::<ShipmentOptions>(r#"{"carrier_id": 1, "parcel_cont": 2}"#);
        assert!(typo.unwrap_err().to_string().contains("parcel_cont"));
        let wrong: ShipmentOptions =
            serde_json::from_str(r#"{"carrier_id": 1, "cash_on_delivery": "maybe"}"#).unwrap();
        assert_eq!(
            wrong.choices().unwrap_err().field.as_deref(),
            Some("cash_on_delivery")
        );
    }
}
