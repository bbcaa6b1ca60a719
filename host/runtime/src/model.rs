//! The host's own types for what connectors say and are asked.
//!
//! Every contract version's generated bindings stay inside this crate: the adapters in
//! `crate::adapt` turn them into these types and back, so a new contract version changes
//! nothing outside the runtime. Values are exact and typed (decimals, times); what is a
//! platform's business (a stock key) is opaque text.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use rust_decimal::Decimal;
use time::OffsetDateTime;
pub use tovor_domain::order::{Address, NormalizedOrder, OrderStatus, PaymentStatus, PickupPoint};
pub use tovor_domain::shipping::ShipmentStatus;

/// What kind of failure a connector call met; the host decides from it whether to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The platform refused the credentials.
    Auth,
    /// The credentials lack a permission or scope the call needs.
    Permission,
    NotFound,
    RateLimited,
    /// Input was refused; the error's `field` names it when known.
    InvalidInput,
    /// The thing is in a state that forbids the call (already shipped).
    Conflict,
    /// A webhook's signature did not match.
    BadSignature,
    /// Temporary trouble: retry later.
    Transient,
    /// The platform or the connector cannot do this.
    Unsupported,
    Other,
}

impl ErrorKind {
    /// The kind's name as the contract spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::Permission => "permission",
            ErrorKind::NotFound => "not-found",
            ErrorKind::RateLimited => "rate-limited",
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::Conflict => "conflict",
            ErrorKind::BadSignature => "bad-signature",
            ErrorKind::Transient => "transient",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Other => "other",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure a connector reported, with what the platform said next to the kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorError {
    pub kind: ErrorKind,
    pub message: String,
    /// The input field at fault, when the connector named one.
    pub field: Option<String>,
    /// The platform's HTTP status, when the failure came from an HTTP answer.
    pub http_status: Option<u16>,
    /// The platform's own error code.
    pub platform_code: Option<String>,
    /// How long the platform asked us to wait.
    pub retry_after: Option<Duration>,
}

impl ConnectorError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            field: None,
            http_status: None,
            platform_code: None,
            retry_after: None,
        }
    }

    /// The same error blaming `field`.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The same error with the wait the platform asked for.
    pub fn with_retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    pub fn is(&self, kind: ErrorKind) -> bool {
        self.kind == kind
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        if let Some(field) = &self.field {
            write!(f, " (field {field})")?;
        }
        if let Some(status) = self.http_status {
            write!(f, " [HTTP {status}")?;
            if let Some(code) = &self.platform_code {
                write!(f, ", {code}")?;
            }
            f.write_str("]")?;
        } else if let Some(code) = &self.platform_code {
            write!(f, " [{code}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConnectorError {}

/// What a connector can do, learned from its component (contract 0.2) or its manifest
/// (contract 0.1, whose components export one interface for everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    Orders,
    Webhooks,
    Inventory,
    Catalog,
    Fulfillment,
    StatusChanges,
    Refunds,
    PaymentMethods,
    Connection,
    Shipments,
    Labels,
    Tracking,
    Cancellation,
    Lookup,
    PickupPoints,
    Services,
    /// Since contract 0.2.1.
    Handover,
}

impl Capability {
    pub const ALL: [Capability; 17] = [
        Capability::Orders,
        Capability::Webhooks,
        Capability::Inventory,
        Capability::Catalog,
        Capability::Fulfillment,
        Capability::StatusChanges,
        Capability::Refunds,
        Capability::PaymentMethods,
        Capability::Connection,
        Capability::Shipments,
        Capability::Labels,
        Capability::Tracking,
        Capability::Cancellation,
        Capability::Lookup,
        Capability::PickupPoints,
        Capability::Services,
        Capability::Handover,
    ];

    /// The name of the contract interface that carries it (`orders`, `pickup-points`).
    pub fn interface(self) -> &'static str {
        match self {
            Capability::Orders => "orders",
            Capability::Webhooks => "webhooks",
            Capability::Inventory => "inventory",
            Capability::Catalog => "catalog",
            Capability::Fulfillment => "fulfillment",
            Capability::StatusChanges => "status-changes",
            Capability::Refunds => "refunds",
            Capability::PaymentMethods => "payment-methods",
            Capability::Connection => "connection",
            Capability::Shipments => "shipments",
            Capability::Labels => "labels",
            Capability::Tracking => "tracking",
            Capability::Cancellation => "cancellation",
            Capability::Lookup => "lookup",
            Capability::PickupPoints => "pickup-points",
            Capability::Services => "services",
            Capability::Handover => "handover",
        }
    }

    pub fn from_interface(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|capability| capability.interface() == name)
    }

    /// Whether a connector of `kind` may export it.
    pub fn belongs_to(self, kind: tovor_manifest::Kind) -> bool {
        use Capability::*;
        match kind {
            tovor_manifest::Kind::Shop => matches!(
                self,
                Orders
                    | Webhooks
                    | Inventory
                    | Catalog
                    | Fulfillment
                    | StatusChanges
                    | Refunds
                    | PaymentMethods
                    | Connection
            ),
            tovor_manifest::Kind::Carrier => matches!(
                self,
                Shipments
                    | Labels
                    | Tracking
                    | Cancellation
                    | Lookup
                    | PickupPoints
                    | Services
                    | Handover
                    | Connection
            ),
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.interface())
    }
}

/// The capabilities of one connector.
pub type Capabilities = BTreeSet<Capability>;

/// One order of a page, converted; a connector's order that breaks the contract (a
/// decimal that is not one) stays an error the caller records, with its id.
#[derive(Debug, Clone)]
pub struct PageOrder {
    pub id: String,
    /// When the platform last changed it, as the connector said (for problem records).
    pub modified_at: String,
    pub order: Result<NormalizedOrder, ConvertError>,
}

#[derive(Debug, Clone)]
pub struct OrderPage {
    pub orders: Vec<PageOrder>,
    pub next_cursor: Option<String>,
}

/// A connector handed over a value that is not what the contract promises.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the connector's order has a bad {field}: {message}")]
pub struct ConvertError {
    pub field: String,
    pub message: String,
}

/// An incoming webhook delivery, exactly as received.
#[derive(Debug, Clone, Default)]
pub struct WebhookRequest {
    pub method: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    /// The query string without `?`.
    pub query: String,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct OrderHint {
    pub id: String,
    pub order: Option<Result<Box<NormalizedOrder>, ConvertError>>,
}

/// What a verified delivery means.
#[derive(Debug, Clone)]
pub enum WebhookEvent {
    /// A handshake; the body to answer with, if any.
    Ping(Option<String>),
    OrderChanged(OrderHint),
    OrderDeleted(String),
    /// A delivery the host has no use for; the reason is logged.
    Ignored(String),
}

#[derive(Debug, Clone)]
pub struct VerifiedWebhook {
    pub delivery_id: Option<String>,
    pub topic: Option<String>,
    pub event: WebhookEvent,
}

/// Where one item's stock lives on a platform, as the item link keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StockTarget {
    pub sku: Option<String>,
    pub product_id: String,
    pub variant_id: Option<String>,
    /// The platform's stock key (opaque to the host), when the catalog gave one.
    pub stock_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockLevel {
    pub target: StockTarget,
    pub quantity: Decimal,
}

/// One sellable product or variant of a platform's catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogEntry {
    pub product_id: String,
    pub variant_id: Option<String>,
    pub stock_key: Option<String>,
    pub sku: Option<String>,
    pub name: String,
    pub price: Option<Decimal>,
    pub stock: Option<Decimal>,
    pub manages_stock: bool,
}

#[derive(Debug, Clone)]
pub struct CatalogPage {
    pub entries: Vec<CatalogEntry>,
    pub next_cursor: Option<String>,
}

/// What was shipped, for the shop.
#[derive(Debug, Clone)]
pub struct Fulfillment {
    /// Platform line id and quantity; empty means every line not yet shipped.
    pub lines: Vec<(String, Decimal)>,
    pub carrier: String,
    /// Tracking number and URL per parcel.
    pub parcels: Vec<(String, Option<String>)>,
    pub notify_customer: bool,
}

/// What a carrier connector offers, as far as the shipping rules care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierInfo {
    /// The carrier's name as customers know it.
    pub carrier: String,
    /// The carrier's own label format names, the preferred first.
    pub label_formats: Vec<String>,
    pub cod_currencies: Vec<String>,
    /// Whether shipments may go to a pickup point: what a 0.1 connector declares; always
    /// for 0.2 connectors, which refuse a point they cannot deliver to per shipment.
    pub pickup_points: bool,
    /// The most shipments one create call takes.
    pub max_batch: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parcel {
    pub weight_grams: u32,
    pub length_mm: Option<u32>,
    pub width_mm: Option<u32>,
    pub height_mm: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashOnDelivery {
    pub amount: Decimal,
    pub currency: String,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentRequest {
    pub reference: String,
    pub sender: Address,
    pub recipient: Address,
    pub parcels: Vec<Parcel>,
    pub cash_on_delivery: Option<CashOnDelivery>,
    pub pickup_point: Option<PickupPoint>,
    pub services: Vec<String>,
    pub value: Option<Decimal>,
    pub currency: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub content_type: String,
    pub data: Vec<u8>,
}

/// A created shipment handed over to its carrier (contract 0.2.1 `handover`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoverShipment {
    /// The carrier's id, as `create-shipments` returned it.
    pub shipment_id: String,
    pub tracking_numbers: Vec<String>,
    /// The shipment as it was requested.
    pub request: ShipmentRequest,
    pub created_at: OffsetDateTime,
}

/// What the carrier gave back for a hand-over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoverReceipt {
    /// The carrier's id for the hand-over (a submission id), when it gives one.
    pub reference: Option<String>,
    /// A document to print or keep (a manifest), when the carrier makes one.
    pub document: Option<Label>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedShipment {
    pub reference: String,
    pub shipment_id: String,
    pub tracking_numbers: Vec<String>,
    pub label: Option<Label>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingEvent {
    pub at: OffsetDateTime,
    pub status: tovor_domain::shipping::ShipmentStatus,
    pub raw_code: String,
    pub raw_text: String,
    pub location: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingResult {
    pub tracking_number: String,
    pub events: Vec<TrackingEvent>,
}

/// A webhook subscription a connector made on the platform; the host keeps it and hands
/// it back when the shop is removed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegisteredWebhook {
    /// The platform's id of the subscription.
    pub id: String,
    pub topic: String,
}

/// How the platform comes to deliver orders to the shop's webhook URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookSetup {
    /// The connector subscribed these through the platform's API.
    Registered(Vec<RegisteredWebhook>),
    /// The platform has no API for it: what the user does by hand.
    Manual(String),
}

/// A successful connection check.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectionInfo {
    /// The account as the platform names it (the shop's name or domain).
    pub account: Option<String>,
    /// What works but needs attention.
    pub warnings: Vec<String>,
}

/// An order state the host can set on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusChange {
    Cancelled,
    Completed,
    Paid,
}

/// A pickup point search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickupQuery {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub postal_code: Option<String>,
    /// A town, a street, a point's name.
    pub text: Option<String>,
    /// At most this many answers.
    pub limit: u32,
}

/// A carrier's pickup point (parcel locker, post office, partner shop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickupLocation {
    pub id: String,
    pub name: String,
    /// `"locker"`, `"post-office"`, `"shop"`, as the carrier has it.
    pub kind: Option<String>,
    pub address: Address,
    /// Decimal degrees, WGS 84.
    pub latitude: Option<String>,
    pub longitude: Option<String>,
    pub opening_hours: Option<String>,
}

/// A service a carrier offers (what a shipment request's `services` take).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierService {
    pub code: String,
    pub name: String,
    pub description: Option<String>,
}
