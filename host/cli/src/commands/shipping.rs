//! `tovor carriers ...` and `tovor shipments ...`: carrier connections, shipments for
//! orders, labels, tracking, cancellation and settling shipments of unknown outcome.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Map, Value, json};

use super::show;
use crate::client::{Answer, ApiError, ApiOptions, Client};
use crate::output::{Table, cell, items, out, outln, print_fields, print_json, text};
use crate::parse::{KeyValue, config_object};

#[derive(Debug, clap::Subcommand)]
pub enum CarriersCommand {
    /// Connect a carrier account: plugin, credentials and the sender on labels.
    Add(CarrierArgs),
    /// List the company's carrier connections.
    List,
    /// A carrier connection's settings (secrets are never shown).
    Show {
        /// The carrier connection's id.
        id: i64,
    },
    /// Change a carrier connection: what is not given stays (secrets included).
    Update(CarrierUpdateArgs),
}

#[derive(Debug, clap::Args)]
pub struct CarrierUpdateArgs {
    /// The carrier connection's id.
    pub id: i64,
    #[arg(long)]
    pub name: Option<String>,
    /// A config field to set (an empty value clears it); repeat for each.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<KeyValue>,
    /// A sender field to set (an empty value clears it); the others stay.
    #[arg(long = "sender", value_name = "KEY=VALUE", value_parser = sender_field)]
    pub sender: Vec<KeyValue>,
    #[command(flatten)]
    pub options: CarrierOptions,
}

/// The settings `carriers add` and `carriers update` share.
#[derive(Debug, Clone, clap::Args)]
pub struct CarrierOptions {
    /// The label format asked for by default (one the carrier offers, e.g. "A6 on A4").
    #[arg(long, value_name = "F")]
    pub label_format: Option<String>,
    /// A carrier service code added to every shipment; repeat for each (replaces the
    /// list on update).
    #[arg(long = "service", value_name = "S")]
    pub services: Vec<String>,
    /// Weight of a parcel when a shipment gives none (default 1000).
    #[arg(long, value_name = "N")]
    pub default_weight_grams: Option<u32>,
    /// When the shop is told the tracking number: off, created (default: as soon as the
    /// carrier created the shipment) or delivered.
    #[arg(long, value_name = "WHEN", value_parser = ["off", "created", "delivered"])]
    pub tell_shop: Option<String>,
    /// Round cash on delivery taken from orders in CURRENCY to multiples of STEP, as
    /// the carrier requires (CZK=1: whole crowns, HUF=5); repeat for each currency
    /// (replaces the list on update; `none` rounds nothing).
    #[arg(long = "cod-rounding", value_name = "CURRENCY=STEP", value_parser = cod_step)]
    pub cod_rounding: Vec<String>,
    /// The order number shipment and payment references carry: auto (default: the
    /// shop's when no other order of the company has it, else tovor's), shop or tovor.
    #[arg(long, value_name = "WHOSE", value_parser = ["auto", "shop", "tovor"])]
    pub order_reference: Option<String>,
}

/// A `--cod-rounding` value: `CURRENCY=STEP` or `none`.
fn cod_step(text: &str) -> Result<String, String> {
    if text == "none" {
        return Ok(text.to_owned());
    }
    match text.split_once('=') {
        Some((currency, step))
            if currency.trim().len() == 3 && step.trim().parse::<f64>().is_ok_and(|s| s > 0.0) =>
        {
            Ok(text.to_owned())
        }
        _ => Err(format!(
            "{text:?} is not CURRENCY=STEP (e.g. CZK=1, HUF=5) or none"
        )),
    }
}

impl CarrierOptions {
    /// Adds the options given to a request body.
    fn insert_into(&self, body: &mut Map<String, Value>) {
        if let Some(format) = &self.label_format {
            body.insert("label_format".into(), format.clone().into());
        }
        if !self.services.is_empty() {
            body.insert("services".into(), self.services.clone().into());
        }
        if let Some(grams) = self.default_weight_grams {
            body.insert("default_weight_grams".into(), grams.into());
        }
        if let Some(tell_shop) = &self.tell_shop {
            body.insert("tell_shop".into(), tell_shop.clone().into());
        }
        if !self.cod_rounding.is_empty() {
            let steps: Map<String, Value> = self
                .cod_rounding
                .iter()
                .filter_map(|entry| entry.split_once('='))
                .map(|(currency, step)| {
                    (
                        currency.trim().to_ascii_uppercase(),
                        step.trim().to_owned().into(),
                    )
                })
                .collect();
            body.insert("cod_rounding".into(), Value::Object(steps));
        }
        if let Some(whose) = &self.order_reference {
            body.insert("order_reference".into(), whose.clone().into());
        }
    }
}

/// `sender` with the `--sender` fields applied: an empty value removes the key, the
/// country is upper-cased.
fn apply_sender(mut sender: Map<String, Value>, fields: &[KeyValue]) -> Map<String, Value> {
    for field in fields {
        if field.value.is_empty() {
            sender.remove(&field.key);
        } else if field.key == "country" {
            sender.insert(field.key.clone(), field.value.to_ascii_uppercase().into());
        } else {
            sender.insert(field.key.clone(), field.value.clone().into());
        }
    }
    sender.retain(|_, value| !value.is_null());
    sender
}

/// The body of `PATCH /carriers/{id}`: the given changes, the sender merged into the
/// current one.
pub fn carrier_patch(args: &CarrierUpdateArgs, current_sender: &Value) -> Value {
    let mut body = Map::new();
    if let Some(name) = &args.name {
        body.insert("name".into(), name.clone().into());
    }
    if !args.config.is_empty() {
        body.insert("config".into(), Value::Object(config_object(&args.config)));
    }
    if !args.sender.is_empty() {
        let current = current_sender.as_object().cloned().unwrap_or_default();
        body.insert(
            "sender".into(),
            Value::Object(apply_sender(current, &args.sender)),
        );
    }
    args.options.insert_into(&mut body);
    Value::Object(body)
}

/// The address keys `--sender` takes.
const SENDER_KEYS: &[&str] = tovor_domain::order::Address::FIELDS;

/// What a sender needs for a carrier to print a label.
const SENDER_NEEDS: &[&str] = &["name", "street", "city", "postal_code", "country"];

#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "Example:\n  tovor carriers add --plugin gls --name \"GLS SI\" \\\n    \
                  --config username=... --config password=... --config client_number=... \\\n    \
                  --sender name=\"Acme d.o.o.\" --sender street=\"Slovenska cesta\" \
                  --sender house_number=12 \\\n    \
                  --sender city=Ljubljana --sender postal_code=1000 --sender country=SI"
)]
pub struct CarrierArgs {
    /// The carrier plugin's id (see `tovor plugins list --remote`), e.g. gls or packeta.
    #[arg(long)]
    pub plugin: String,
    /// A name for this connection, e.g. "GLS SI".
    #[arg(long)]
    pub name: String,
    /// A field the plugin's manifest declares (credentials, account numbers); repeat for
    /// each. Secret fields are sealed at rest and never shown again.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<KeyValue>,
    /// The sender printed on labels; repeat for each key: name, company, street,
    /// house_number, city, postal_code, country (ISO alpha-2, e.g. SI), phone, email
    /// (also line1, line2, region).
    #[arg(long = "sender", value_name = "KEY=VALUE", value_parser = sender_field)]
    pub sender: Vec<KeyValue>,
    #[command(flatten)]
    pub options: CarrierOptions,
}

fn sender_field(text: &str) -> Result<KeyValue, String> {
    let (key, value) = text.split_once('=').ok_or_else(|| {
        format!("{text:?}: expected KEY=VALUE, e.g. city=Ljubljana or country=SI")
    })?;
    let key = key.trim();
    if !SENDER_KEYS.contains(&key) {
        return Err(format!(
            "{key:?} is not a sender key: use {}",
            SENDER_KEYS.join(", ")
        ));
    }
    Ok(KeyValue {
        key: key.to_owned(),
        value: value.trim().to_owned(),
    })
}

/// The body of `POST /carriers`.
pub fn carrier_body(args: &CarrierArgs) -> Value {
    let mut body = Map::new();
    body.insert("plugin".into(), args.plugin.clone().into());
    body.insert("name".into(), args.name.clone().into());
    body.insert("config".into(), Value::Object(config_object(&args.config)));
    let sender = apply_sender(Map::new(), &args.sender);
    body.insert("sender".into(), Value::Object(sender));
    args.options.insert_into(&mut body);
    Value::Object(body)
}

pub async fn carriers(api: &ApiOptions, command: CarriersCommand) -> anyhow::Result<()> {
    let client = api.client()?;
    match command {
        CarriersCommand::Add(args) => {
            let carrier = client
                .post(&["carriers"], Some(&carrier_body(&args)))
                .await?;
            show(api, &carrier, |carrier| {
                outln!(
                    "carrier connection {} ({}) created: plugin {}",
                    cell(carrier, "id"),
                    cell(carrier, "name"),
                    cell(carrier, "plugin")
                );
                print_carrier(carrier);
                let missing = missing_sender(&carrier["sender"]);
                if !missing.is_empty() {
                    outln!(
                        "note: the sender has no {}; carriers need it on labels",
                        missing.join(", ")
                    );
                }
                outln!(
                    "ship with: tovor shipments create --carrier {} ORDER_ID...",
                    cell(carrier, "id")
                );
            })
        }
        CarriersCommand::List => {
            let list = client.get(&["carriers"], &[]).await?;
            show(api, &list, |list| {
                let mut table = Table::new(&[
                    "ID",
                    "NAME",
                    "PLUGIN",
                    "SENDER",
                    "WEIGHT (G)",
                    "TELL SHOP",
                    "SERVICES",
                ]);
                for carrier in items(list) {
                    table.row(vec![
                        cell(carrier, "id"),
                        cell(carrier, "name"),
                        cell(carrier, "plugin"),
                        sender_line(&carrier["sender"]),
                        cell(carrier, "default_weight_grams"),
                        cell(carrier, "tell_shop"),
                        cell(carrier, "services"),
                    ]);
                }
                table.print_or("no carrier connections; add one with `tovor carriers add`");
            })
        }
        CarriersCommand::Show { id } => {
            let carrier = client.get(&["carriers", &id.to_string()], &[]).await?;
            show(api, &carrier, print_carrier)
        }
        CarriersCommand::Update(args) => {
            let path = ["carriers", &args.id.to_string()];
            let current = client.get(&path, &[]).await?;
            let body = carrier_patch(&args, &current["sender"]);
            let carrier = client.patch(&path, &body).await?;
            show(api, &carrier, |carrier| {
                outln!("carrier connection {} updated", cell(carrier, "id"));
                print_carrier(carrier);
            })
        }
    }
}

fn missing_sender(sender: &Value) -> Vec<&'static str> {
    SENDER_NEEDS
        .iter()
        .copied()
        .filter(|key| cell(sender, key).trim().is_empty())
        .collect()
}

/// An address in one line: `Acme, Slovenska cesta 12, 1000 Ljubljana, SI`.
fn address_line(address: &Value) -> String {
    let street = [cell(address, "street"), cell(address, "house_number")]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let street = if street.is_empty() {
        cell(address, "line1")
    } else {
        street
    };
    let city = [cell(address, "postal_code"), cell(address, "city")]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    [
        cell(address, "name"),
        cell(address, "company"),
        street,
        cell(address, "line2"),
        city,
        cell(address, "country"),
    ]
    .into_iter()
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join(", ")
}

fn sender_line(sender: &Value) -> String {
    [cell(sender, "name"), cell(sender, "city")]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_carrier(carrier: &Value) {
    let config = carrier["config"]
        .as_object()
        .map(|config| {
            config
                .iter()
                .map(|(key, value)| format!("{key}={}", text(value)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let sender = &carrier["sender"];
    print_fields(&[
        ("id", cell(carrier, "id")),
        ("name", cell(carrier, "name")),
        ("plugin", cell(carrier, "plugin")),
        ("config", config),
        ("secrets set", cell(carrier, "secrets_set")),
        ("sender", address_line(sender)),
        (
            "sender contact",
            [cell(sender, "phone"), cell(sender, "email")]
                .into_iter()
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("label format", cell(carrier, "label_format")),
        ("services", cell(carrier, "services")),
        (
            "default weight",
            Some(cell(carrier, "default_weight_grams"))
                .filter(|grams| !grams.is_empty())
                .map(|grams| format!("{grams} g"))
                .unwrap_or_default(),
        ),
        ("tell shop", cell(carrier, "tell_shop")),
        (
            "cod rounding",
            carrier["cod_rounding"]
                .as_object()
                .map(|steps| {
                    steps
                        .iter()
                        .map(|(currency, step)| {
                            format!("{currency} to {}", step.as_str().unwrap_or_default())
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
        ),
        ("order reference", cell(carrier, "order_reference")),
    ]);
}

const STATES: [&str; 5] = [
    "requested",
    "created",
    "unknown_outcome",
    "failed",
    "cancelled",
];

const STATUSES: [&str; 12] = [
    "pending",
    "picked_up",
    "in_transit",
    "out_for_delivery",
    "ready_for_pickup",
    "delivered",
    "delivery_failed",
    "delivery_delayed",
    "on_hold",
    "return_to_sender",
    "cancelled",
    "unknown",
];

#[derive(Debug, clap::Subcommand)]
pub enum ShipmentsCommand {
    /// Ship orders with a carrier connection.
    ///
    /// Each order gets its own shipment, created at the carrier at once. A shipment
    /// whose answer from the carrier was lost is settled by tovor (state
    /// unknown_outcome); when it cannot be, `shipments resolve` settles it.
    Create(CreateArgs),
    /// Shipments, newest first.
    List {
        /// Only this order's shipments.
        #[arg(long, value_name = "ID")]
        order: Option<i64>,
        /// Only shipments in this state.
        #[arg(long, value_parser = STATES)]
        state: Option<String>,
        /// Only shipments whose parcel is in this tracking status.
        #[arg(long, value_parser = STATUSES)]
        status: Option<String>,
        /// At most this many (default 50).
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
    },
    /// A shipment with its tracking events.
    ///
    /// Shows its state, tracking status and numbers, cash on delivery, pickup point,
    /// errors, whether the shop was told the tracking number, and the tracking events.
    Show {
        /// The shipment's id.
        id: i64,
    },
    /// Download a shipment's label to a file (never to a terminal).
    Label {
        /// The shipment's id.
        id: i64,
        /// Where to write it (default label-ID.pdf); `-` writes to stdout when it is
        /// redirected.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Download many shipments' labels merged into one PDF, ready to print.
    ///
    /// The labels come in the order the shipments are given.
    #[command(visible_alias = "labels")]
    Print {
        /// The shipments' ids.
        #[arg(required = true, num_args = 1..)]
        ids: Vec<i64>,
        /// Where to write it (default labels.pdf); `-` writes to stdout when it is
        /// redirected.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The paper: `as-drawn`, one label per page for a label printer, or `a4-4up`,
        /// four labels on each A4 sheet for an office printer.
        #[arg(long, value_name = "SHEET", default_value = "as-drawn",
            value_parser = ["as-drawn", "a4-4up"])]
        sheet: String,
    },
    /// Ask the carrier where the parcel is now, and show its events.
    Track {
        /// The shipment's id.
        id: i64,
    },
    /// Cancel a shipment at the carrier.
    Cancel {
        /// The shipment's id.
        id: i64,
    },
    /// Set a shipment's tracking status by hand, for what the carrier does not tell.
    ///
    /// Kept as an event beside the carrier's; a final status (delivered, cancelled)
    /// stops tracking.
    Status {
        /// The shipment's id.
        id: i64,
        /// pending, picked_up, in_transit, out_for_delivery, ready_for_pickup, delivered,
        /// delivery_failed, delivery_delayed, on_hold, return_to_sender, cancelled or
        /// unknown.
        status: String,
        /// Why, or what was seen (kept as the event's text).
        #[arg(long)]
        note: Option<String>,
    },
    /// Hand a carrier connection's waiting shipments over for a day.
    ///
    /// Sends the carrier the day's list (Pošta Slovenije: the eOddaja submission) or
    /// fetches the manifest the courier signs (DPD), taking every created shipment not
    /// handed over yet, made on that day or before. A document the carrier gives is
    /// saved to a file.
    Handover {
        /// The carrier connection (see `tovor carriers list`).
        #[arg(long, value_name = "ID")]
        carrier: i64,
        /// The day, YYYY-MM-DD (default today).
        #[arg(long)]
        date: Option<String>,
        /// Where to write the carrier's document (default handover-ID.pdf); `-` writes
        /// to stdout when it is redirected.
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
    /// Settle a shipment whose outcome is unknown (the carrier's answer was lost).
    ///
    /// Check at the carrier (its web portal) whether the shipment exists, then give
    /// either --found with its id there, or --not-created to have tovor create it again.
    #[command(group(
        clap::ArgGroup::new("outcome")
            .required(true)
            .args(["found", "not_created"])
    ))]
    Resolve {
        /// The shipment's id.
        id: i64,
        /// It exists at the carrier under this id (see the carrier's web portal).
        #[arg(long, value_name = "CARRIER_SHIPMENT_ID")]
        found: Option<String>,
        /// Its tracking number (default: the carrier's shipment id); repeat for each
        /// parcel.
        #[arg(
            long = "tracking",
            value_name = "N",
            requires = "found",
            conflicts_with = "not_created"
        )]
        tracking: Vec<String>,
        /// It is not at the carrier: tovor creates it again.
        #[arg(long)]
        not_created: bool,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct CreateArgs {
    /// The carrier connection (see `tovor carriers list`).
    #[arg(long, value_name = "ID")]
    pub carrier: i64,
    /// The orders to ship (see `tovor orders list`); each gets its own shipment.
    #[arg(value_name = "ORDER_ID", required = true, num_args = 1..)]
    pub orders: Vec<i64>,
    /// Parcels per shipment (default 1).
    #[arg(long, value_name = "N")]
    pub parcels: Option<u32>,
    /// Weight of each parcel (default: the carrier connection's).
    #[arg(long, value_name = "G")]
    pub weight_grams: Option<u32>,
    /// Cash on delivery: auto (default: collect when the order's payment method is cash
    /// on delivery and it is unpaid), on or off.
    #[arg(long, value_name = "MODE", value_parser = ["auto", "on", "off"])]
    pub cod: Option<String>,
    /// The amount to collect on delivery, in the order's currency (e.g. 500): collected
    /// as given, never rounded.
    #[arg(long, value_name = "AMOUNT")]
    pub cod_amount: Option<String>,
    /// Deliver to this pickup point (the carrier's id) instead of the one the customer
    /// chose.
    #[arg(long, value_name = "ID", conflicts_with = "home_delivery")]
    pub pickup_point: Option<String>,
    /// Deliver to the address even though the customer chose a pickup point.
    #[arg(long)]
    pub home_delivery: bool,
    /// A carrier service code (default: the carrier connection's); repeat for each.
    #[arg(long = "service", value_name = "S")]
    pub services: Vec<String>,
    /// A note for the carrier, printed on the label where it has room.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Ship orders that already have a shipment again (a second parcel, a replacement);
    /// without it they are refused, so a repeated command sends no second parcel.
    #[arg(long)]
    pub additional: bool,
}

/// The body of `POST /orders/{id}/shipments` (one order) or `POST /shipments` (many,
/// with `order_ids`).
pub fn create_body(args: &CreateArgs) -> Value {
    let mut body = Map::new();
    body.insert("carrier_id".into(), args.carrier.into());
    if args.orders.len() > 1 {
        body.insert("order_ids".into(), args.orders.clone().into());
    }
    if let Some(parcels) = args.parcels {
        body.insert("parcel_count".into(), parcels.into());
    }
    if let Some(grams) = args.weight_grams {
        body.insert("weight_grams".into(), grams.into());
    }
    if let Some(cod) = &args.cod {
        body.insert("cash_on_delivery".into(), cod.clone().into());
    }
    if let Some(amount) = &args.cod_amount {
        body.insert("cod_amount".into(), amount.trim().into());
    }
    if let Some(point) = &args.pickup_point {
        body.insert("pickup_point".into(), point.clone().into());
    }
    if args.home_delivery {
        body.insert("home_delivery".into(), true.into());
    }
    if !args.services.is_empty() {
        body.insert("services".into(), args.services.clone().into());
    }
    if let Some(note) = &args.note {
        body.insert("note".into(), note.clone().into());
    }
    if args.additional {
        body.insert("additional".into(), true.into());
    }
    Value::Object(body)
}

/// The body of `POST /shipments/{id}/resolve`.
pub fn resolve_body(found: Option<&str>, tracking: &[String], not_created: bool) -> Value {
    match found {
        Some(id) if !not_created => {
            json!({"carrier_shipment_id": id, "tracking_numbers": tracking})
        }
        _ => json!({"not_created": true}),
    }
}

pub async fn shipments(api: &ApiOptions, command: ShipmentsCommand) -> anyhow::Result<()> {
    let client = api.client()?;
    match command {
        ShipmentsCommand::Create(args) => create(api, &client, &args).await,
        ShipmentsCommand::List {
            order,
            state,
            status,
            limit,
        } => {
            let mut query = Vec::new();
            if let Some(order) = order {
                query.push(("order_id", order.to_string()));
            }
            if let Some(state) = state {
                query.push(("state", state));
            }
            if let Some(status) = status {
                query.push(("status", status));
            }
            if let Some(limit) = limit {
                query.push(("limit", limit.to_string()));
            }
            let list = client.get(&["shipments"], &query).await?;
            show(api, &list, print_list)
        }
        ShipmentsCommand::Show { id } => {
            let shipment = client.get(&["shipments", &id.to_string()], &[]).await?;
            show(api, &shipment, print_shipment)
        }
        ShipmentsCommand::Label { id, output } => {
            let answer = client
                .get_bytes(&["shipments", &id.to_string(), "label"], &[])
                .await?;
            let path = output
                .unwrap_or_else(|| PathBuf::from(format!("label-{id}.{}", extension(&answer))));
            save(api, &answer, &path, &format!("label of shipment {id}"))
        }
        ShipmentsCommand::Print { ids, output, sheet } => {
            let answer = client
                .post_bytes(&["labels"], &json!({ "shipment_ids": ids, "sheet": sheet }))
                .await?;
            let path = output.unwrap_or_else(|| PathBuf::from("labels.pdf"));
            save(api, &answer, &path, &format!("{} label(s)", ids.len()))
        }
        ShipmentsCommand::Track { id } => {
            let shipment = client
                .post(&["shipments", &id.to_string(), "track"], None)
                .await?;
            show(api, &shipment, |shipment| {
                outln!(
                    "shipment {id}: {}{}",
                    status_line(shipment),
                    Some(cell(shipment, "tracking_numbers"))
                        .filter(|numbers| !numbers.is_empty())
                        .map(|numbers| format!(" (tracking {numbers})"))
                        .unwrap_or_default()
                );
                let error = cell(shipment, "track_error");
                if !error.is_empty() {
                    outln!("tracking failed: {error}");
                }
                outln!();
                print_events(shipment);
            })
        }
        ShipmentsCommand::Cancel { id } => {
            let shipment = client
                .post(&["shipments", &id.to_string(), "cancel"], None)
                .await?;
            show(api, &shipment, |shipment| {
                outln!(
                    "shipment {id} cancelled at the carrier (state {}, status {})",
                    cell(shipment, "state"),
                    cell(shipment, "status")
                );
            })
        }
        ShipmentsCommand::Status { id, status, note } => {
            let mut body = json!({ "status": status });
            if let Some(note) = note {
                body["note"] = json!(note);
            }
            let shipment = client
                .post(&["shipments", &id.to_string(), "status"], Some(&body))
                .await?;
            show(api, &shipment, |shipment| {
                outln!("shipment {id}: {}", status_line(shipment));
            })
        }
        ShipmentsCommand::Handover {
            carrier,
            date,
            output,
        } => {
            let body = date.map_or_else(|| json!({}), |date| json!({ "date": date }));
            let handover = client
                .post(
                    &["carriers", &carrier.to_string(), "handovers"],
                    Some(&body),
                )
                .await?;
            let id = handover["id"].as_i64().unwrap_or_default();
            show(api, &handover, |handover| {
                let reference = cell(handover, "reference");
                outln!(
                    "hand-over {id} for {}: {} shipment(s) {}{}",
                    cell(handover, "date"),
                    cell(handover, "shipment_count"),
                    cell(handover, "state"),
                    if reference.is_empty() {
                        String::new()
                    } else {
                        format!(" (carrier's reference {reference})")
                    }
                );
            })?;
            if handover["has_document"] != json!(true) {
                return Ok(());
            }
            let answer = client
                .get_bytes(&["handovers", &id.to_string(), "document"], &[])
                .await?;
            let path = output
                .unwrap_or_else(|| PathBuf::from(format!("handover-{id}.{}", extension(&answer))));
            save(api, &answer, &path, &format!("document of hand-over {id}"))
        }
        ShipmentsCommand::Resolve {
            id,
            found,
            tracking,
            not_created,
        } => {
            let body = resolve_body(found.as_deref(), &tracking, not_created);
            let shipment = client
                .post(&["shipments", &id.to_string(), "resolve"], Some(&body))
                .await?;
            show(api, &shipment, |shipment| {
                if found.is_some() {
                    outln!(
                        "shipment {id} settled as found at the carrier: {} ({}), tracking {}",
                        cell(shipment, "carrier_shipment_id"),
                        cell(shipment, "state"),
                        cell(shipment, "tracking_numbers")
                    );
                } else {
                    outln!(
                        "shipment {id} settled as not created at the carrier; now {}",
                        cell(shipment, "state")
                    );
                }
                let error = cell(shipment, "error");
                if !error.is_empty() {
                    outln!("error: {error}");
                }
            })
        }
    }
}

async fn create(api: &ApiOptions, client: &Client, args: &CreateArgs) -> anyhow::Result<()> {
    let body = create_body(args);
    if let [order] = args.orders[..] {
        let (status, shipment) = client
            .post_with_status(&["orders", &order.to_string(), "shipments"], Some(&body))
            .await
            .map_err(|error| match error.downcast_ref::<ApiError>() {
                Some(refused) if refused.status == 422 => {
                    anyhow::anyhow!("order {order} was not shipped: {refused}")
                }
                _ => error,
            })?;
        return show(api, &shipment, |shipment| print_created(status, shipment));
    }
    let results = client.post(&["shipments"], Some(&body)).await?;
    if api.json {
        print_json(&results)?;
    } else {
        print_batch(&results);
    }
    let failed = items(&results)
        .iter()
        .filter(|result| !result["error"].is_null())
        .count();
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} order(s) were not shipped",
        args.orders.len()
    );
    Ok(())
}

/// One shipment just asked for: `201` created, `202` outcome unknown and being settled.
fn print_created(status: u16, shipment: &Value) {
    let id = cell(shipment, "id");
    let order = cell(shipment, "order_id");
    if status == 201 || shipment["state"] == "created" {
        outln!(
            "shipment {id} created for order {order}: tracking {}",
            cell(shipment, "tracking_numbers")
        );
        outln!("{}", plan_line(shipment));
        outln!("label: tovor shipments label {id}");
        return;
    }
    outln!(
        "shipment {id} for order {order} is {}: the carrier's answer was lost and tovor is \
         settling it",
        cell(shipment, "state")
    );
    let error = cell(shipment, "error");
    if !error.is_empty() {
        outln!("{error}");
    }
    outln!(
        "follow it with `tovor shipments show {id}`; if it stays unknown, check at the carrier \
         and run `tovor shipments resolve {id} --found CARRIER_SHIPMENT_ID` or \
         `--not-created`"
    );
}

/// `2 parcel(s), 2000 g, COD 12.50 EUR, pickup point 123 (Name)`.
fn plan_line(shipment: &Value) -> String {
    let mut parts = vec![
        format!("{} parcel(s)", cell(shipment, "parcels")),
        format!("{} g", cell(shipment, "weight_grams")),
    ];
    let cod = cod_text(shipment);
    if !cod.is_empty() {
        parts.push(format!("COD {cod}"));
    }
    let point = pickup_point_text(shipment);
    if !point.is_empty() {
        parts.push(format!("pickup point {point}"));
    }
    parts.join(", ")
}

fn cod_text(shipment: &Value) -> String {
    let cod = &shipment["cash_on_delivery"];
    if cod.is_object() {
        let text = format!("{} {}", cell(cod, "amount"), cell(cod, "currency"));
        match cod["rounded_from"].as_str() {
            Some(from) => format!("{text} (rounded from {from})"),
            None => text,
        }
    } else {
        String::new()
    }
}

fn pickup_point_text(shipment: &Value) -> String {
    let point = &shipment["pickup_point"];
    if !point.is_object() {
        return String::new();
    }
    let mut line = cell(point, "id");
    let name = cell(point, "name");
    if !name.is_empty() {
        line.push_str(&format!(" ({name})"));
    }
    line
}

fn print_batch(results: &Value) {
    let mut table = Table::new(&["ORDER", "SHIPMENT", "STATE", "TRACKING", "ERROR"]);
    for result in items(results) {
        let shipment = &result["shipment"];
        if shipment.is_object() {
            table.row(vec![
                cell(result, "order_id"),
                cell(shipment, "id"),
                cell(shipment, "state"),
                cell(shipment, "tracking_numbers"),
                cell(shipment, "error"),
            ]);
        } else {
            table.row(vec![
                cell(result, "order_id"),
                String::new(),
                "not shipped".to_owned(),
                String::new(),
                error_text(&result["error"]),
            ]);
        }
    }
    table.print_or("no orders");
    let created: Vec<String> = items(results)
        .iter()
        .filter(|result| result["shipment"]["state"] == "created")
        .map(|result| cell(&result["shipment"], "id"))
        .collect();
    if !created.is_empty() {
        outln!(
            "print the labels: tovor shipments print {}",
            created.join(" ")
        );
    }
}

/// An `{"code", "message", "field"?}` error as `message (field f)`.
fn error_text(error: &Value) -> String {
    let message = cell(error, "message");
    let field = cell(error, "field");
    if field.is_empty() {
        message
    } else {
        format!("{message} (field {field})")
    }
}

/// The tracking status with when it was last seen: `in_transit since 2026-...`.
fn status_line(shipment: &Value) -> String {
    let status = cell(shipment, "status");
    let at = cell(shipment, "status_at");
    if at.is_empty() {
        status
    } else {
        format!("{status} since {at}")
    }
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max_chars).collect();
        short.push('…');
        short
    }
}

fn print_list(list: &Value) {
    let mut table = Table::new(&[
        "ID",
        "ORDER",
        "CARRIER",
        "REFERENCE",
        "STATE",
        "STATUS",
        "TRACKING",
        "CREATED",
        "ERROR",
    ]);
    for shipment in items(list) {
        let error = [cell(shipment, "error"), cell(shipment, "track_error")]
            .into_iter()
            .find(|error| !error.is_empty())
            .unwrap_or_default();
        table.row(vec![
            cell(shipment, "id"),
            cell(shipment, "order_id"),
            cell(shipment, "carrier_id"),
            cell(shipment, "reference"),
            cell(shipment, "state"),
            cell(shipment, "status"),
            cell(shipment, "tracking_numbers"),
            cell(shipment, "created_at"),
            // The whole message is in `shipments show`.
            shorten(&error, 60),
        ]);
    }
    table.print_or("no shipments");
}

fn print_shipment(shipment: &Value) {
    let id = cell(shipment, "id");
    let shop_notice = {
        let notice = cell(shipment, "shop_notice");
        let error = cell(shipment, "shop_notice_error");
        match (notice.as_str(), error.is_empty()) {
            ("" | "none", true) => String::new(),
            (_, true) => notice,
            (_, false) => format!("{notice}: {error}"),
        }
    };
    print_fields(&[
        ("id", id.clone()),
        ("order", cell(shipment, "order_id")),
        ("carrier", cell(shipment, "carrier_id")),
        ("reference", cell(shipment, "reference")),
        ("state", cell(shipment, "state")),
        ("status", status_line(shipment)),
        ("carrier shipment", cell(shipment, "carrier_shipment_id")),
        ("tracking", cell(shipment, "tracking_numbers")),
        (
            "parcels",
            format!(
                "{} ({} g)",
                cell(shipment, "parcels"),
                cell(shipment, "weight_grams")
            ),
        ),
        ("cash on delivery", cod_text(shipment)),
        ("pickup point", pickup_point_text(shipment)),
        ("recipient", address_line(&shipment["recipient"])),
        (
            "label",
            if shipment["has_label"] == true || !shipment["label_url"].is_null() {
                format!("tovor shipments label {id}")
            } else {
                String::new()
            },
        ),
        ("error", cell(shipment, "error")),
        ("shop told", shop_notice),
        ("next tracking", cell(shipment, "next_track_at")),
        ("tracking error", cell(shipment, "track_error")),
        ("created", cell(shipment, "created_at")),
    ]);
    if shipment["state"] == "unknown_outcome" {
        outln!(
            "the carrier's answer was lost: check at the carrier and run \
             `tovor shipments resolve {id} --found CARRIER_SHIPMENT_ID` or `--not-created`"
        );
    }
    outln!();
    print_events(shipment);
}

fn print_events(shipment: &Value) {
    let events = items(&shipment["events"]);
    // A tracking number column only when the parcels have more than one.
    let numbers: std::collections::BTreeSet<String> = events
        .iter()
        .map(|event| cell(event, "tracking_number"))
        .collect();
    let with_numbers = numbers.len() > 1;
    let mut header = vec!["AT", "STATUS", "CODE", "TEXT", "LOCATION"];
    if with_numbers {
        header.insert(1, "TRACKING");
    }
    let mut table = Table::new(&header);
    for event in events {
        let mut row = vec![
            cell(event, "at"),
            cell(event, "status"),
            cell(event, "raw_code"),
            cell(event, "raw_text"),
            cell(event, "location"),
        ];
        if with_numbers {
            row.insert(1, cell(event, "tracking_number"));
        }
        table.row(row);
    }
    table.print_or("no tracking events yet");
}

/// The file extension for a download's content type.
fn extension(answer: &Answer) -> &'static str {
    match answer.content_type.as_deref() {
        None | Some("application/pdf") => "pdf",
        Some("image/png") => "png",
        Some("image/gif") => "gif",
        Some("image/jpeg") => "jpg",
        Some("application/zpl" | "application/x-zpl" | "text/zpl" | "x-application/zpl") => "zpl",
        Some("application/epl" | "application/x-epl") => "epl",
        Some(_) => "bin",
    }
}

/// Writes a download to `path` (`-`: stdout, unless it is a terminal) and says where.
pub(crate) fn save(
    api: &ApiOptions,
    answer: &Answer,
    path: &Path,
    what: &str,
) -> anyhow::Result<()> {
    let content_type = answer.content_type.clone().unwrap_or_default();
    let size = answer.bytes.len();
    if path == Path::new("-") {
        let mut stdout = std::io::stdout().lock();
        anyhow::ensure!(
            !stdout.is_terminal(),
            "will not write the {what} ({content_type}) to a terminal: give -o FILE or \
             redirect stdout"
        );
        stdout
            .write_all(&answer.bytes)
            .and_then(|()| stdout.flush())
            .context("cannot write to stdout")?;
        eprintln!("{what}: {size} bytes ({content_type}) written to stdout");
        return Ok(());
    }
    std::fs::write(path, &answer.bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let summary = json!({
        "path": path.display().to_string(),
        "bytes": size,
        "content_type": content_type,
    });
    show(api, &summary, |_| {
        out!(
            "{what} written to {} ({size} bytes{})\n",
            path.display(),
            if content_type.is_empty() {
                String::new()
            } else {
                format!(", {content_type}")
            }
        );
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Carriers {
        #[command(subcommand)]
        command: CarriersCommand,
    }

    #[derive(Parser)]
    struct Shipments {
        #[command(subcommand)]
        command: ShipmentsCommand,
    }

    fn carriers(args: &[&str]) -> Result<CarriersCommand, clap::Error> {
        Carriers::try_parse_from(std::iter::once("carriers").chain(args.iter().copied()))
            .map(|parsed| parsed.command)
    }

    fn shipments(args: &[&str]) -> Result<ShipmentsCommand, clap::Error> {
        Shipments::try_parse_from(std::iter::once("shipments").chain(args.iter().copied()))
            .map(|parsed| parsed.command)
    }

    #[test]
    fn carriers_update_sends_only_the_changes_and_merges_the_sender() {
        let CarriersCommand::Update(args) = carriers(&[
            "update",
            "7",
            "--config",
            "password=new",
            "--sender",
            "phone=+38612345678",
            "--sender",
            "company=",
            "--tell-shop",
            "delivered",
        ])
        .unwrap() else {
            panic!("not update");
        };
        let current = serde_json::json!({"name": "Acme", "company": "Acme d.o.o.", "city": "Ljubljana", "email": null});
        let body = carrier_patch(&args, &current);
        assert_eq!(
            body,
            serde_json::json!({
                "config": {"password": "new"},
                "sender": {"name": "Acme", "city": "Ljubljana", "phone": "+38612345678"},
                "tell_shop": "delivered",
            })
        );
        assert!(carriers(&["update", "7", "--sender", "planet=Mars"]).is_err());
    }

    #[test]
    fn cod_amount_rounding_and_reference_choice_reach_the_api() {
        let CarriersCommand::Update(args) = carriers(&[
            "update",
            "7",
            "--cod-rounding",
            "czk=1",
            "--cod-rounding",
            "HUF=5",
            "--order-reference",
            "tovor",
        ])
        .unwrap() else {
            panic!("not update");
        };
        assert_eq!(
            carrier_patch(&args, &serde_json::json!({})),
            serde_json::json!({
                "cod_rounding": {"CZK": "1", "HUF": "5"},
                "order_reference": "tovor",
            })
        );
        let CarriersCommand::Update(args) =
            carriers(&["update", "7", "--cod-rounding", "none"]).unwrap()
        else {
            panic!("not update");
        };
        assert_eq!(
            carrier_patch(&args, &serde_json::json!({})),
            serde_json::json!({"cod_rounding": {}})
        );
        assert!(carriers(&["update", "7", "--cod-rounding", "CZK"]).is_err());
        assert!(carriers(&["update", "7", "--order-reference", "buyer"]).is_err());
        let ShipmentsCommand::Create(args) =
            shipments(&["create", "--carrier", "2", "9", "--cod-amount", "500"]).unwrap()
        else {
            panic!("not create");
        };
        assert_eq!(create_body(&args)["cod_amount"], "500");
    }

    #[test]
    fn carriers_add_builds_the_connection() {
        let CarriersCommand::Add(args) = carriers(&[
            "add",
            "--plugin",
            "gls",
            "--name",
            "GLS SI",
            "--config",
            "username=u",
            "--config",
            "password=p=w",
            "--sender",
            "name=Acme d.o.o.",
            "--sender",
            "street=Slovenska cesta",
            "--sender",
            "house_number=12",
            "--sender",
            "country=si",
            "--sender",
            "phone=",
            "--label-format",
            "A6",
            "--service",
            "FDS",
            "--service",
            "SM2",
            "--default-weight-grams",
            "500",
            "--tell-shop",
            "delivered",
        ])
        .unwrap() else {
            panic!("not add");
        };
        assert_eq!(
            carrier_body(&args),
            json!({
                "plugin": "gls",
                "name": "GLS SI",
                "config": {"username": "u", "password": "p=w"},
                "sender": {
                    "name": "Acme d.o.o.",
                    "street": "Slovenska cesta",
                    "house_number": "12",
                    "country": "SI",
                },
                "label_format": "A6",
                "services": ["FDS", "SM2"],
                "default_weight_grams": 500,
                "tell_shop": "delivered",
            })
        );
    }

    #[test]
    fn a_minimal_carrier_sends_an_empty_sender() {
        let CarriersCommand::Add(args) =
            carriers(&["add", "--plugin", "packeta", "--name", "P"]).unwrap()
        else {
            panic!("not add");
        };
        assert_eq!(
            carrier_body(&args),
            json!({"plugin": "packeta", "name": "P", "config": {}, "sender": {}})
        );
        assert_eq!(
            missing_sender(&carrier_body(&args)["sender"]),
            ["name", "street", "city", "postal_code", "country"]
        );
    }

    #[test]
    fn bad_carrier_settings_are_refused_before_asking_the_server() {
        for args in [
            &[
                "add", "--plugin", "gls", "--name", "G", "--sender", "town=X",
            ][..],
            &["add", "--plugin", "gls", "--name", "G", "--sender", "city"],
            &[
                "add",
                "--plugin",
                "gls",
                "--name",
                "G",
                "--tell-shop",
                "never",
            ],
            &[
                "add", "--plugin", "gls", "--name", "G", "--config", "novalue",
            ],
            &["add", "--name", "G"],
        ] {
            assert!(carriers(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn one_order_goes_to_its_own_route() {
        let ShipmentsCommand::Create(args) =
            shipments(&["create", "--carrier", "3", "17"]).unwrap()
        else {
            panic!("not create");
        };
        assert_eq!(create_body(&args), json!({"carrier_id": 3}));
    }

    #[test]
    fn many_orders_go_as_order_ids_with_every_choice() {
        let ShipmentsCommand::Create(args) = shipments(&[
            "create",
            "--carrier",
            "3",
            "17",
            "18",
            "--parcels",
            "2",
            "--weight-grams",
            "1500",
            "--cod",
            "off",
            "--pickup-point",
            "PP-9",
            "--service",
            "FDS",
            "--note",
            "fragile",
        ])
        .unwrap() else {
            panic!("not create");
        };
        assert_eq!(
            create_body(&args),
            json!({
                "carrier_id": 3,
                "order_ids": [17, 18],
                "parcel_count": 2,
                "weight_grams": 1500,
                "cash_on_delivery": "off",
                "pickup_point": "PP-9",
                "services": ["FDS"],
                "note": "fragile",
            })
        );
    }

    #[test]
    fn bad_shipment_choices_are_refused_before_asking_the_server() {
        for args in [
            &["create", "--carrier", "3"][..],
            &["create", "17"],
            &["create", "--carrier", "3", "17", "--cod", "maybe"],
            &[
                "create",
                "--carrier",
                "3",
                "17",
                "--pickup-point",
                "X",
                "--home-delivery",
            ],
            &["list", "--state", "lost"],
            &["list", "--status", "flying"],
            &["print"],
            &["resolve", "4"],
            &["resolve", "4", "--found", "X", "--not-created"],
            &["resolve", "4", "--not-created", "--tracking", "T"],
        ] {
            assert!(shipments(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn resolve_says_found_or_not_created() {
        let ShipmentsCommand::Resolve {
            found,
            tracking,
            not_created,
            ..
        } = shipments(&["resolve", "4", "--found", "C-1", "--tracking", "T1"]).unwrap()
        else {
            panic!("not resolve");
        };
        assert_eq!(
            resolve_body(found.as_deref(), &tracking, not_created),
            json!({"carrier_shipment_id": "C-1", "tracking_numbers": ["T1"]})
        );
        assert_eq!(resolve_body(None, &[], true), json!({"not_created": true}));
    }

    #[test]
    fn labels_is_print() {
        assert!(matches!(
            shipments(&["labels", "1", "2", "-o", "x.pdf"]).unwrap(),
            ShipmentsCommand::Print { ids, output: Some(_), sheet } if ids == [1, 2] && sheet == "as-drawn"
        ));
        assert!(matches!(
            shipments(&["print", "1", "--sheet", "a4-4up"]).unwrap(),
            ShipmentsCommand::Print { sheet, .. } if sheet == "a4-4up"
        ));
        assert!(shipments(&["print", "1", "--sheet", "letter"]).is_err());
    }

    #[test]
    fn downloads_are_named_by_their_content_type() {
        let answer = |content_type: Option<&str>| Answer {
            status: 200,
            content_type: content_type.map(str::to_owned),
            disposition: None,
            bytes: Vec::new(),
        };
        assert_eq!(extension(&answer(Some("application/pdf"))), "pdf");
        assert_eq!(extension(&answer(None)), "pdf");
        assert_eq!(extension(&answer(Some("image/png"))), "png");
        let named = |disposition: &str| Answer {
            disposition: Some(disposition.to_owned()),
            ..answer(None)
        };
        assert_eq!(
            named("inline; filename=\"invoice-2026-00001.pdf\"")
                .filename()
                .as_deref(),
            Some("invoice-2026-00001.pdf")
        );
        assert_eq!(
            named("inline; filename=\"../../etc/passwd\"")
                .filename()
                .as_deref(),
            Some("passwd")
        );
        assert_eq!(named("inline; filename=\"..\"").filename(), None);
        assert_eq!(extension(&answer(Some("application/octet-stream"))), "bin");
    }

    #[test]
    fn addresses_and_plans_in_one_line() {
        let shipment = json!({
            "parcels": 2,
            "weight_grams": 3000,
            "cash_on_delivery": {"amount": "12.50", "currency": "EUR"},
            "pickup_point": {"id": "PP-9", "name": "Kiosk", "carrier": "packeta"},
            "recipient": {"name": "Bo Buyer", "street": "Main", "house_number": "1a",
                          "postal_code": "1000", "city": "Ljubljana", "country": "SI"},
        });
        assert_eq!(
            plan_line(&shipment),
            "2 parcel(s), 3000 g, COD 12.50 EUR, pickup point PP-9 (Kiosk)"
        );
        assert_eq!(
            address_line(&shipment["recipient"]),
            "Bo Buyer, Main 1a, 1000 Ljubljana, SI"
        );
        assert_eq!(
            plan_line(&json!({"parcels": 1, "weight_grams": 1000, "cash_on_delivery": null})),
            "1 parcel(s), 1000 g"
        );
    }

    #[test]
    fn batch_errors_show_message_and_field() {
        assert_eq!(
            error_text(&json!({"code": "rule_refused", "message": "no address", "field": "x"})),
            "no address (field x)"
        );
        assert_eq!(error_text(&json!({"message": "gone"})), "gone");
    }
}
