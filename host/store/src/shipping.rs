//! Carrier connections, shipments, their labels and tracking events.
//!
//! A shipment is recorded (state `requested`, leased to the caller) before its carrier
//! is called, with a reference made from the order number that no other shipment of
//! the company has. Whatever happens to the call afterwards, the row says what we know:
//! `created` with the carrier's ids, `failed` when the carrier refused it, or
//! `unknown_outcome` when the answer was lost and the carrier must be asked by
//! reference. A process that dies mid-call leaves the row leased; once the lease runs
//! out the shipping worker treats it as an unknown outcome, never as "not created".

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};
use tovor_domain::order::Address;
use tovor_domain::shipping::{
    CodRounding, OrderNumbers, OrderReference, PollPolicy, ShipmentPlan, ShipmentState,
    ShipmentStatus, StatusAt, current_status, reference_number, shipment_reference,
};
use tovor_domain::{CarrierId, CompanyId, OrderId, ShipmentId};

use crate::codec::{RowExt, time_text, to_json};
use crate::db::Store;
use crate::error::{StoreError, StoreResult};
use crate::orders::{Source, add_history};
use crate::scope::CompanyScope;
use crate::sql::placeholders;

/// When the shop is told a shipment's tracking number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TellShop {
    Off,
    /// As soon as the carrier created the shipment.
    #[default]
    Created,
    /// When the parcel is delivered.
    Delivered,
}

impl TellShop {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Created => "created",
            Self::Delivered => "delivered",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Off, Self::Created, Self::Delivered]
            .into_iter()
            .find(|value| value.as_str() == text)
    }
}

/// A carrier connection's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierSettings {
    pub name: String,
    pub plugin_id: String,
    /// The connector's non-secret settings.
    pub config: BTreeMap<String, String>,
    /// The connector's secret settings, sealed by the caller.
    pub sealed_secrets: Option<String>,
    /// Printed on every label as the sender.
    pub sender: Address,
    /// The label format asked for when none is given.
    pub label_format: Option<String>,
    /// Carrier service codes added to every shipment.
    pub services: Vec<String>,
    pub default_weight_grams: u32,
    pub tell_shop: TellShop,
    /// How cash on delivery taken from an order is rounded before it is sent.
    pub cod_rounding: CodRounding,
    /// Which order number shipment and payment references carry.
    pub order_reference: OrderReference,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carrier {
    pub id: CarrierId,
    /// The company it belongs to.
    pub company: tovor_domain::CompanyId,
    pub settings: CarrierSettings,
}

/// A shipment as the host keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Shipment {
    pub id: ShipmentId,
    pub order: OrderId,
    pub carrier: CarrierId,
    pub reference: String,
    /// The host refused to send it (nothing reached the carrier), so its reference
    /// was given back for the order's next shipment.
    pub reference_released: bool,
    pub state: ShipmentState,
    pub plan: ShipmentPlan,
    pub carrier_shipment_id: Option<String>,
    pub tracking_numbers: Vec<String>,
    pub status: ShipmentStatus,
    pub status_at: Option<OffsetDateTime>,
    /// Why the shipment failed or its outcome is unknown.
    pub error: Option<String>,
    /// The field the refusal names, in the host's naming (`shipping.postal_code`).
    pub error_field: Option<String>,
    pub create_attempts: u32,
    /// Look-ups by reference made after a lost answer.
    pub lookups: u32,
    pub next_step_at: Option<OffsetDateTime>,
    pub next_track_at: Option<OffsetDateTime>,
    pub last_tracked_at: Option<OffsetDateTime>,
    pub track_error: Option<String>,
    /// `none`, `due`, `sent` or `failed`.
    pub shop_notice: String,
    pub shop_notice_error: Option<String>,
    pub shop_notice_attempts: u32,
    pub has_label: bool,
    /// The hand-over that took it (running, done or interrupted), if one did.
    pub handover_id: Option<i64>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// One tracking event, as the carrier reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentEvent {
    pub tracking_number: String,
    pub at: OffsetDateTime,
    pub status: ShipmentStatus,
    pub raw_code: String,
    pub raw_text: String,
    pub location: Option<String>,
}

/// A label document exactly as the carrier returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLabel {
    pub content_type: String,
    pub data: Vec<u8>,
}

/// What the carrier answered for a created shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierShipment {
    pub shipment_id: String,
    pub tracking_numbers: Vec<String>,
    pub label: Option<StoredLabel>,
}

/// A shipment claimed by a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShipmentTask {
    pub company: CompanyId,
    pub shipment: ShipmentId,
    pub carrier: CarrierId,
    pub order: OrderId,
}

/// Narrows a shipment list.
#[derive(Debug, Clone, Default)]
pub struct ShipmentFilter {
    pub order: Option<OrderId>,
    pub state: Option<ShipmentState>,
    pub status: Option<ShipmentStatus>,
    pub limit: Option<u32>,
}

const CARRIER_COLUMNS: &str = "id, company_id, name, plugin_id, config, sealed_secrets, sender, label_format, \
     services, default_weight_grams, tell_shop, cod_rounding, order_reference";

pub(crate) const SHIPMENT_COLUMNS: &str = "s.id, s.order_id, s.carrier_id, s.reference, s.state, s.plan, \
     s.carrier_shipment_id, s.tracking_numbers, s.status, s.status_at, s.error, s.error_field, s.reference_released, s.create_attempts, \
     s.lookups, s.next_step_at, s.next_track_at, s.last_tracked_at, s.track_error, s.shop_notice, \
     s.shop_notice_error, s.shop_notice_attempts, s.handover_id, s.created_at, s.updated_at, \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM shipment_labels l WHERE l.shipment_id = s.id) AS labels";

fn carrier_of(row: &sqlx::any::AnyRow) -> StoreResult<Carrier> {
    Ok(Carrier {
        id: CarrierId(row.int("id")?),
        company: tovor_domain::CompanyId(row.int("company_id")?),
        settings: CarrierSettings {
            name: row.text("name")?,
            plugin_id: row.text("plugin_id")?,
            config: row.json("config")?,
            sealed_secrets: row.opt_text("sealed_secrets")?,
            sender: row.json("sender")?,
            label_format: row.opt_text("label_format")?,
            services: row.json("services")?,
            default_weight_grams: count(row, "default_weight_grams")?,
            tell_shop: TellShop::parse(&row.text("tell_shop")?)
                .ok_or_else(|| StoreError::corrupt("tell_shop", "unknown value"))?,
            cod_rounding: row.json("cod_rounding")?,
            order_reference: OrderReference::parse(&row.text("order_reference")?)
                .ok_or_else(|| StoreError::corrupt("order_reference", "unknown value"))?,
        },
    })
}

fn count(row: &sqlx::any::AnyRow, column: &str) -> StoreResult<u32> {
    u32::try_from(row.int(column)?).map_err(|error| StoreError::corrupt(column, error))
}

pub(crate) fn shipment_of(row: &sqlx::any::AnyRow) -> StoreResult<Shipment> {
    let state = row.text("state")?;
    let status = row.text("status")?;
    let plan: ShipmentPlan = row.json("plan")?;
    let reference_released = row.int("reference_released")? != 0;
    Ok(Shipment {
        id: ShipmentId(row.int("id")?),
        order: OrderId(row.int("order_id")?),
        carrier: CarrierId(row.int("carrier_id")?),
        // A given-back reference's column holds only a placeholder key.
        reference: if reference_released {
            plan.reference.clone()
        } else {
            row.text("reference")?
        },
        reference_released,
        state: ShipmentState::parse(&state).ok_or_else(|| StoreError::corrupt("state", &state))?,
        plan,
        carrier_shipment_id: row.opt_text("carrier_shipment_id")?,
        tracking_numbers: row.json("tracking_numbers")?,
        status: ShipmentStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt("status", &status))?,
        status_at: row.opt_time("status_at")?,
        error: row.opt_text("error")?,
        error_field: row.opt_text("error_field")?,
        create_attempts: count(row, "create_attempts")?,
        lookups: count(row, "lookups")?,
        next_step_at: row.opt_time("next_step_at")?,
        next_track_at: row.opt_time("next_track_at")?,
        last_tracked_at: row.opt_time("last_tracked_at")?,
        track_error: row.opt_text("track_error")?,
        shop_notice: row.text("shop_notice")?,
        shop_notice_error: row.opt_text("shop_notice_error")?,
        shop_notice_attempts: count(row, "shop_notice_attempts")?,
        has_label: row.int("labels")? > 0,
        handover_id: row.opt_int("handover_id")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

fn check_carrier(settings: &CarrierSettings) -> StoreResult<()> {
    if settings.name.trim().is_empty() {
        return Err(StoreError::Invalid(
            "a carrier connection needs a name".into(),
        ));
    }
    if settings.plugin_id.trim().is_empty() {
        return Err(StoreError::Invalid(
            "a carrier connection needs a plugin".into(),
        ));
    }
    if settings.default_weight_grams == 0 {
        return Err(StoreError::Invalid(
            "default_weight_grams must be more than 0".into(),
        ));
    }
    Ok(())
}

impl CompanyScope<'_> {
    pub async fn create_carrier(
        &self,
        settings: &CarrierSettings,
        at: OffsetDateTime,
    ) -> StoreResult<Carrier> {
        check_carrier(settings)?;
        let row = sqlx::query(
            "INSERT INTO carriers (company_id, name, plugin_id, config, sealed_secrets, sender, \
             label_format, services, default_weight_grams, tell_shop, created_at, cod_rounding, \
             order_reference) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             RETURNING id",
        )
        .bind(self.cid())
        .bind(settings.name.trim())
        .bind(&settings.plugin_id)
        .bind(to_json(&settings.config)?)
        .bind(settings.sealed_secrets.clone())
        .bind(to_json(&settings.sender)?)
        .bind(settings.label_format.clone())
        .bind(to_json(&settings.services)?)
        .bind(i64::from(settings.default_weight_grams))
        .bind(settings.tell_shop.as_str())
        .bind(time_text(at))
        .bind(to_json(&settings.cod_rounding)?)
        .bind(settings.order_reference.as_str())
        .fetch_one(self.store.writer())
        .await?;
        Ok(Carrier {
            id: CarrierId(row.int("id")?),
            company: tovor_domain::CompanyId(self.cid()),
            settings: settings.clone(),
        })
    }

    pub async fn update_carrier(
        &self,
        id: CarrierId,
        settings: &CarrierSettings,
    ) -> StoreResult<()> {
        check_carrier(settings)?;
        let updated = sqlx::query(
            "UPDATE carriers SET name = $3, config = $4, sealed_secrets = $5, sender = $6, \
             label_format = $7, services = $8, default_weight_grams = $9, tell_shop = $10, \
             cod_rounding = $11, order_reference = $12 WHERE company_id = $1 AND id = $2",
        )
        .bind(self.cid())
        .bind(id.0)
        .bind(settings.name.trim())
        .bind(to_json(&settings.config)?)
        .bind(settings.sealed_secrets.clone())
        .bind(to_json(&settings.sender)?)
        .bind(settings.label_format.clone())
        .bind(to_json(&settings.services)?)
        .bind(i64::from(settings.default_weight_grams))
        .bind(settings.tell_shop.as_str())
        .bind(to_json(&settings.cod_rounding)?)
        .bind(settings.order_reference.as_str())
        .execute(self.store.writer())
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::not_found("carrier", id));
        }
        Ok(())
    }

    pub async fn carrier(&self, id: CarrierId) -> StoreResult<Carrier> {
        let sql =
            format!("SELECT {CARRIER_COLUMNS} FROM carriers WHERE company_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.cid())
            .bind(id.0)
            .fetch_optional(self.store.reader())
            .await?
            .ok_or_else(|| StoreError::not_found("carrier", id))?;
        carrier_of(&row)
    }

    pub async fn carriers(&self) -> StoreResult<Vec<Carrier>> {
        let sql =
            format!("SELECT {CARRIER_COLUMNS} FROM carriers WHERE company_id = $1 ORDER BY id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.cid())
            .fetch_all(self.store.reader())
            .await?
            .iter()
            .map(carrier_of)
            .collect()
    }

    /// Shipments already made for an order that hold a reference (any state but
    /// those the host refused to send).
    pub async fn order_shipment_count(&self, order: OrderId) -> StoreResult<usize> {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM shipments WHERE company_id = $1 \
             AND order_id = $2 AND reference_released = 0",
        )
        .bind(self.cid())
        .bind(order.0)
        .fetch_one(self.store.reader())
        .await?;
        Ok(usize::try_from(row.int("n")?).unwrap_or(0))
    }

    /// Records a shipment before its carrier is called, leased to `owner` until
    /// `lease_until` (when the worker takes it over as an unknown outcome). Its
    /// reference is made here from the order number the carrier connection chose
    /// (`order_reference`) and the order's earlier shipments that hold a reference,
    /// so two shipments can never share one; the plan's reference and its
    /// cash-on-delivery payment reference are replaced by it. Unless `additional`, an order that already has a shipment not
    /// failed or cancelled gets none (`Conflict`): concurrent requests for one order
    /// collide on the reference, and the one retried then sees the other. The order
    /// counts as shipped from now on: the shop can no longer overwrite its content.
    pub async fn record_shipment(
        &self,
        order: OrderId,
        carrier: CarrierId,
        (plan, additional): (&ShipmentPlan, bool),
        owner: &str,
        lease_until: OffsetDateTime,
        at: OffsetDateTime,
    ) -> StoreResult<Shipment> {
        let mut attempt = 0;
        loop {
            match self
                .try_record_shipment(order, carrier, (plan, additional), owner, lease_until, at)
                .await
            {
                Err(error) if error.is_unique_violation() && attempt < 4 => attempt += 1,
                other => return other,
            }
        }
    }

    async fn try_record_shipment(
        &self,
        order: OrderId,
        carrier: CarrierId,
        (plan, additional): (&ShipmentPlan, bool),
        owner: &str,
        lease_until: OffsetDateTime,
        at: OffsetDateTime,
    ) -> StoreResult<Shipment> {
        let mut tx = self.store.begin().await?;
        let row = sqlx::query(
            "SELECT o.number, o.external_number, (SELECT CAST(COUNT(*) AS BIGINT) FROM shipments s \
             WHERE s.company_id = o.company_id AND s.order_id = o.id \
             AND s.reference_released = 0) AS earlier, \
             (SELECT MIN(s.id) FROM shipments s WHERE s.company_id = o.company_id \
             AND s.order_id = o.id AND s.state IN ('requested', 'created', 'unknown_outcome')) AS open, \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM orders other WHERE other.company_id = o.company_id \
             AND other.external_number = o.external_number AND other.id <> o.id) AS sharing, \
             (SELECT c.order_reference FROM carriers c WHERE c.company_id = o.company_id \
             AND c.id = $3) AS order_reference \
             FROM orders o WHERE o.company_id = $1 AND o.id = $2",
        )
        .bind(self.cid())
        .bind(order.0)
        .bind(carrier.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("order", order))?;
        let choice = row
            .opt_text("order_reference")?
            .ok_or_else(|| StoreError::not_found("carrier", carrier))?;
        let choice = OrderReference::parse(&choice)
            .ok_or_else(|| StoreError::corrupt("order_reference", &choice))?;
        if let Some(open) = row.opt_int("open")?
            && !additional
        {
            return Err(StoreError::Conflict(format!(
                "order {} already has shipment {open}; ask for an additional shipment to send another",
                row.text("number")?
            )));
        }
        let earlier = usize::try_from(row.int("earlier")?).unwrap_or(0);
        let (tovor_number, shop_number) = (row.text("number")?, row.text("external_number")?);
        let numbers = OrderNumbers {
            tovor: &tovor_number,
            shop: &shop_number,
            shop_number_shared: row.int("sharing")? > 0,
        };
        let base = reference_number(choice, numbers)
            .map_err(|error| StoreError::Invalid(error.to_string()))?;
        let mut plan = plan.clone();
        plan.reference = shipment_reference(base, earlier);
        if let Some(cod) = &mut plan.cash_on_delivery {
            cod.reference = base.to_owned();
        }
        let now = time_text(at);
        let id = sqlx::query(
            "INSERT INTO shipments (company_id, order_id, carrier_id, reference, state, plan, \
             create_attempts, next_step_at, lease_owner, lease_until, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'requested', $5, 1, $6, $7, $6, $8, $8) RETURNING id",
        )
        .bind(self.cid())
        .bind(order.0)
        .bind(carrier.0)
        .bind(&plan.reference)
        .bind(to_json(&plan)?)
        .bind(time_text(lease_until))
        .bind(owner)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .int("id")?;
        sqlx::query("UPDATE orders SET touched_shipment = 1 WHERE company_id = $1 AND id = $2")
            .bind(self.cid())
            .bind(order.0)
            .execute(&mut *tx)
            .await?;
        let detail = serde_json::json!({
            "shipment_id": id,
            "carrier_id": carrier.0,
            "reference": plan.reference,
        });
        add_history(
            &mut tx,
            self.cid(),
            order,
            Source("user"),
            "shipment_requested",
            &detail,
            at,
        )
        .await?;
        tx.commit().await?;
        self.shipment(ShipmentId(id)).await
    }

    pub async fn shipment(&self, id: ShipmentId) -> StoreResult<Shipment> {
        let sql = format!(
            "SELECT {SHIPMENT_COLUMNS} FROM shipments s WHERE s.company_id = $1 AND s.id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.cid())
            .bind(id.0)
            .fetch_optional(self.store.reader())
            .await?
            .ok_or_else(|| StoreError::not_found("shipment", id))?;
        shipment_of(&row)
    }

    /// Newest first.
    pub async fn shipments(&self, filter: &ShipmentFilter) -> StoreResult<Vec<Shipment>> {
        let sql = format!(
            "SELECT {SHIPMENT_COLUMNS} FROM shipments s WHERE s.company_id = $1 \
             AND ($2 IS NULL OR s.order_id = $2) AND ($3 IS NULL OR s.state = $3) \
             AND ($4 IS NULL OR s.status = $4) ORDER BY s.id DESC LIMIT $5"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.cid())
            .bind(filter.order.map(|order| order.0))
            .bind(filter.state.map(ShipmentState::as_str))
            .bind(filter.status.map(ShipmentStatus::as_str))
            .bind(i64::from(filter.limit.unwrap_or(100).min(1000)))
            .fetch_all(self.store.reader())
            .await?
            .iter()
            .map(shipment_of)
            .collect()
    }

    /// Oldest first.
    pub async fn shipment_events(&self, id: ShipmentId) -> StoreResult<Vec<ShipmentEvent>> {
        sqlx::query(
            "SELECT tracking_number, at, status, raw_code, raw_text, location FROM shipment_events \
             WHERE company_id = $1 AND shipment_id = $2 ORDER BY at, id",
        )
        .bind(self.cid())
        .bind(id.0)
        .fetch_all(self.store.reader())
        .await?
        .iter()
        .map(|row| {
            let status = row.text("status")?;
            Ok(ShipmentEvent {
                tracking_number: row.text("tracking_number")?,
                at: row.time("at")?,
                status: ShipmentStatus::parse(&status)
                    .ok_or_else(|| StoreError::corrupt("status", &status))?,
                raw_code: row.text("raw_code")?,
                raw_text: row.text("raw_text")?,
                location: row.opt_text("location")?,
            })
        })
        .collect()
    }

    pub async fn shipment_label(&self, id: ShipmentId) -> StoreResult<Option<StoredLabel>> {
        let row = sqlx::query(
            "SELECT content_type, data FROM shipment_labels WHERE company_id = $1 AND shipment_id = $2",
        )
        .bind(self.cid())
        .bind(id.0)
        .fetch_optional(self.store.reader())
        .await?;
        row.map(|row| {
            Ok(StoredLabel {
                content_type: row.text("content_type")?,
                data: sqlx::Row::try_get::<Vec<u8>, _>(&row, "data")?,
            })
        })
        .transpose()
    }

    /// The stored labels of `ids`, in one query per 500 (a merged print of many
    /// shipments reads them together); shipments without a stored label are absent.
    pub async fn shipment_labels(
        &self,
        ids: &[ShipmentId],
    ) -> StoreResult<BTreeMap<ShipmentId, StoredLabel>> {
        let mut labels = BTreeMap::new();
        for chunk in ids.chunks(crate::sql::ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT shipment_id, content_type, data FROM shipment_labels \
                 WHERE company_id = $1 AND shipment_id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(self.cid());
            for id in chunk {
                query = query.bind(id.0);
            }
            for row in query.fetch_all(self.store.reader()).await? {
                labels.insert(
                    ShipmentId(row.int("shipment_id")?),
                    StoredLabel {
                        content_type: row.text("content_type")?,
                        data: sqlx::Row::try_get::<Vec<u8>, _>(&row, "data")?,
                    },
                );
            }
        }
        Ok(labels)
    }

    /// Keeps the first label the carrier gave for the shipment (a later one does not
    /// replace it: some carriers issue a label once).
    pub async fn store_label(
        &self,
        id: ShipmentId,
        label: &StoredLabel,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut tx = self.store.begin().await?;
        insert_label(&mut tx, self.cid(), id, label, at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The carrier created the shipment. Applies only while its outcome is open
    /// (`requested` or `unknown_outcome`); returns whether it did.
    pub async fn shipment_created(
        &self,
        id: ShipmentId,
        created: &CarrierShipment,
        first_track_at: OffsetDateTime,
        tell_shop_now: bool,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.store.begin().await?;
        let updated = sqlx::query(
            "UPDATE shipments SET state = 'created', carrier_shipment_id = $3, tracking_numbers = $4, \
             error = NULL, next_step_at = NULL, lease_owner = NULL, lease_until = NULL, \
             next_track_at = $5, shop_notice = $6, shop_notice_at = $7, updated_at = $7 \
             WHERE company_id = $1 AND id = $2 AND state IN ('requested', 'unknown_outcome') \
             RETURNING order_id, reference",
        )
        .bind(self.cid())
        .bind(id.0)
        .bind(&created.shipment_id)
        .bind(to_json(&created.tracking_numbers)?)
        .bind(time_text(first_track_at))
        .bind(if tell_shop_now { "due" } else { "none" })
        .bind(time_text(at))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = updated else {
            return Ok(false);
        };
        if let Some(label) = &created.label {
            insert_label(&mut tx, self.cid(), id, label, at).await?;
        }
        let detail = serde_json::json!({
            "shipment_id": id.0,
            "reference": row.text("reference")?,
            "carrier_shipment_id": created.shipment_id,
            "tracking_numbers": created.tracking_numbers,
        });
        let order = OrderId(row.int("order_id")?);
        add_history(
            &mut tx,
            self.cid(),
            order,
            Source("carrier"),
            "shipment_created",
            &detail,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The create call's answer was lost: the parcel may exist. `next_step_at` is when
    /// to look it up by reference (`None`: the carrier cannot be asked; a person must
    /// resolve it).
    pub async fn shipment_outcome_unknown(
        &self,
        id: ShipmentId,
        error: &str,
        next_step_at: Option<OffsetDateTime>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        self.set_open_state(id, "unknown_outcome", error, next_step_at, at)
            .await
    }

    /// The carrier refused the shipment: nothing exists there. `field` is the one the
    /// refusal names, in the host's naming.
    pub async fn shipment_failed(
        &self,
        id: ShipmentId,
        error: &str,
        field: Option<&str>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE shipments SET state = 'failed', error = $3, error_field = $4, \
             next_step_at = NULL, lease_owner = NULL, lease_until = NULL, updated_at = $5 \
             WHERE company_id = $1 AND id = $2 AND state IN ('requested', 'unknown_outcome')",
        )
        .bind(self.cid())
        .bind(id.0)
        .bind(error)
        .bind(field)
        .bind(time_text(at))
        .execute(self.store.writer())
        .await?;
        Ok(())
    }

    /// The host refused to send the shipment (its egress policy, a plugin it could not
    /// run): it failed and nothing reached the carrier, so its reference is given back
    /// for the order's next shipment. Its `reference` column gets a key no order
    /// number makes; the plan keeps the reference it was planned with.
    pub async fn shipment_not_sent(
        &self,
        id: ShipmentId,
        error: &str,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE shipments SET state = 'failed', error = $3, error_field = NULL, \
             reference_released = 1, reference = $4, next_step_at = NULL, lease_owner = NULL, \
             lease_until = NULL, updated_at = $5 \
             WHERE company_id = $1 AND id = $2 AND state = 'requested'",
        )
        .bind(self.cid())
        .bind(id.0)
        .bind(error)
        .bind(format!("not sent: shipment {}", id.0))
        .bind(time_text(at))
        .execute(self.store.writer())
        .await?;
        Ok(())
    }

    async fn set_open_state(
        &self,
        id: ShipmentId,
        state: &str,
        error: &str,
        next_step_at: Option<OffsetDateTime>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE shipments SET state = $3, error = $4, next_step_at = $5, lease_owner = NULL, \
             lease_until = NULL, updated_at = $6 \
             WHERE company_id = $1 AND id = $2 AND state IN ('requested', 'unknown_outcome')",
        )
        .bind(self.cid())
        .bind(id.0)
        .bind(state)
        .bind(error)
        .bind(next_step_at.map(time_text))
        .bind(time_text(at))
        .execute(self.store.writer())
        .await?;
        Ok(())
    }

    /// A look-up by reference found nothing (yet).
    pub async fn shipment_lookup_missed(
        &self,
        id: ShipmentId,
        next_step_at: OffsetDateTime,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE shipments SET lookups = lookups + 1, next_step_at = $3, lease_owner = NULL, \
             lease_until = NULL, updated_at = $4 \
             WHERE company_id = $1 AND id = $2 AND state = 'unknown_outcome'",
        )
        .bind(self.cid())
        .bind(id.0)
        .bind(time_text(next_step_at))
        .bind(time_text(at))
        .execute(self.store.writer())
        .await?;
        Ok(())
    }

    /// Takes a shipment back to `requested`, leased to `owner`, for one more create
    /// call: only when it failed, or when it is known not to exist at the carrier (the
    /// look-ups found nothing, or a person checked). Returns false when the shipment
    /// is not in one of those states (someone else got there first), or gave its
    /// reference back (a new shipment is made instead).
    pub async fn retry_shipment(
        &self,
        id: ShipmentId,
        owner: &str,
        lease_until: OffsetDateTime,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let updated = sqlx::query(
            "UPDATE shipments SET state = 'requested', create_attempts = create_attempts + 1, \
             lookups = 0, next_step_at = $3, lease_owner = $4, lease_until = $3, updated_at = $5 \
             WHERE company_id = $1 AND id = $2 AND state IN ('failed', 'unknown_outcome') \
             AND reference_released = 0",
        )
        .bind(self.cid())
        .bind(id.0)
        .bind(time_text(lease_until))
        .bind(owner)
        .bind(time_text(at))
        .execute(self.store.writer())
        .await?;
        Ok(updated.rows_affected() > 0)
    }

    pub async fn shipment_cancelled(&self, id: ShipmentId, at: OffsetDateTime) -> StoreResult<()> {
        let mut tx = self.store.begin().await?;
        let row = sqlx::query(
            "UPDATE shipments SET state = 'cancelled', status = 'cancelled', status_at = $3, \
             next_step_at = NULL, next_track_at = NULL, lease_owner = NULL, lease_until = NULL, \
             shop_notice = CASE WHEN shop_notice = 'due' THEN 'none' ELSE shop_notice END, \
             updated_at = $3 WHERE company_id = $1 AND id = $2 RETURNING order_id",
        )
        .bind(self.cid())
        .bind(id.0)
        .bind(time_text(at))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("shipment", id))?;
        let order = OrderId(row.int("order_id")?);
        let detail = serde_json::json!({ "shipment_id": id.0 });
        add_history(
            &mut tx,
            self.cid(),
            order,
            Source("user"),
            "shipment_cancelled",
            &detail,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records tracking events (those already kept are skipped), sets the shipment's
    /// status from all its events and schedules its next look (none once final). When
    /// the parcel is delivered and the carrier connection tells shops then, the shop
    /// notice becomes due. Returns the status.
    pub async fn record_tracking(
        &self,
        id: ShipmentId,
        events: &[ShipmentEvent],
        policy: &PollPolicy,
        tell_shop_on_delivery: bool,
        at: OffsetDateTime,
    ) -> StoreResult<ShipmentStatus> {
        let mut tx = self.store.begin().await?;
        for event in events {
            sqlx::query(
                "INSERT INTO shipment_events (company_id, shipment_id, tracking_number, at, status, \
                 raw_code, raw_text, location, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (shipment_id, tracking_number, at, raw_code) DO NOTHING",
            )
            .bind(self.cid())
            .bind(id.0)
            .bind(&event.tracking_number)
            .bind(time_text(event.at))
            .bind(event.status.as_str())
            .bind(&event.raw_code)
            .bind(&event.raw_text)
            .bind(event.location.clone())
            .bind(time_text(at))
            .execute(&mut *tx)
            .await?;
        }
        let kept = sqlx::query(
            "SELECT at, status FROM shipment_events WHERE company_id = $1 AND shipment_id = $2 \
             ORDER BY at, id",
        )
        .bind(self.cid())
        .bind(id.0)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| {
            let status = row.text("status")?;
            Ok(StatusAt {
                at: row.time("at")?,
                status: ShipmentStatus::parse(&status)
                    .ok_or_else(|| StoreError::corrupt("status", &status))?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        let shipment = sqlx::query(
            "SELECT created_at, shop_notice FROM shipments WHERE company_id = $1 AND id = $2",
        )
        .bind(self.cid())
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("shipment", id))?;
        let current = current_status(&kept);
        let status = current.map_or(ShipmentStatus::Pending, |c| c.status);
        let next = policy.next_poll(status, shipment.time("created_at")?, at);
        let notice_due = tell_shop_on_delivery
            && status == ShipmentStatus::Delivered
            && shipment.text("shop_notice")? == "none";
        sqlx::query(
            "UPDATE shipments SET status = $3, status_at = $4, next_track_at = $5, last_tracked_at = $6, \
             track_failures = 0, track_error = NULL, lease_owner = NULL, lease_until = NULL, \
             shop_notice = CASE WHEN $7 = 1 THEN 'due' ELSE shop_notice END, \
             shop_notice_at = CASE WHEN $7 = 1 THEN $6 ELSE shop_notice_at END, updated_at = $6 \
             WHERE company_id = $1 AND id = $2",
        )
        .bind(self.cid())
        .bind(id.0)
        .bind(status.as_str())
        .bind(current.map(|c| time_text(c.at)))
        .bind(next.map(time_text))
        .bind(time_text(at))
        .bind(i64::from(notice_due))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(status)
    }

    /// Tracking failed this time: look again at `next_track_at`.
    pub async fn tracking_failed(
        &self,
        id: ShipmentId,
        error: &str,
        next_track_at: OffsetDateTime,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE shipments SET track_failures = track_failures + 1, track_error = $3, \
             next_track_at = $4, last_tracked_at = $5, lease_owner = NULL, lease_until = NULL \
             WHERE company_id = $1 AND id = $2",
        )
        .bind(self.cid())
        .bind(id.0)
        .bind(error)
        .bind(time_text(next_track_at))
        .bind(time_text(at))
        .execute(self.store.writer())
        .await?;
        Ok(())
    }

    /// The shop was told (`sent`), or will not be (`failed`, with the reason), or must
    /// be asked again at `retry_at`.
    pub async fn shop_notice_done(
        &self,
        id: ShipmentId,
        outcome: NoticeOutcome<'_>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let (state, error, next) = match outcome {
            NoticeOutcome::Sent => ("sent", None, at),
            NoticeOutcome::Failed(error) => ("failed", Some(error), at),
            NoticeOutcome::Retry { error, at: next } => ("due", Some(error), next),
        };
        sqlx::query(
            "UPDATE shipments SET shop_notice = $3, shop_notice_error = $4, shop_notice_at = $5, \
             shop_notice_attempts = shop_notice_attempts + 1, lease_owner = NULL, lease_until = NULL \
             WHERE company_id = $1 AND id = $2",
        )
        .bind(self.cid())
        .bind(id.0)
        .bind(state)
        .bind(error)
        .bind(time_text(next))
        .execute(self.store.writer())
        .await?;
        Ok(())
    }

    /// Tracks the shipment next at `next` (`None`: no more), without asking the carrier
    /// now: for carriers that track nothing themselves.
    pub async fn schedule_tracking(
        &self,
        id: ShipmentId,
        next: Option<OffsetDateTime>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE shipments SET next_track_at = $3, lease_owner = NULL, lease_until = NULL \
             WHERE company_id = $1 AND id = $2",
        )
        .bind(self.cid())
        .bind(id.0)
        .bind(next.map(time_text))
        .execute(self.store.writer())
        .await?;
        Ok(())
    }

    /// Makes the listed shipments due for tracking now ("track now").
    pub async fn track_now(&self, ids: &[ShipmentId], at: OffsetDateTime) -> StoreResult<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "UPDATE shipments SET next_track_at = $2 WHERE company_id = $1 AND state = 'created' \
             AND id IN ({})",
            placeholders(3, ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.cid())
            .bind(time_text(at));
        for id in ids {
            query = query.bind(id.0);
        }
        Ok(query.execute(self.store.writer()).await?.rows_affected())
    }
}

/// What came of telling the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeOutcome<'a> {
    Sent,
    Failed(&'a str),
    Retry { error: &'a str, at: OffsetDateTime },
}

async fn insert_label(
    conn: &mut sqlx::AnyConnection,
    company: i64,
    id: ShipmentId,
    label: &StoredLabel,
    at: OffsetDateTime,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO shipment_labels (company_id, shipment_id, content_type, data, received_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (shipment_id) DO NOTHING",
    )
    .bind(company)
    .bind(id.0)
    .bind(&label.content_type)
    .bind(label.data.clone())
    .bind(time_text(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Which kind of shipment work a worker claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShipmentWork {
    /// Shipments whose create call's outcome must be settled: a `requested` one whose
    /// lease ran out (its process died mid-call) or an `unknown_outcome` one due for a
    /// look-up.
    Settle,
    /// Created shipments due for tracking.
    Track,
    /// Created shipments whose shop is due to be told the tracking number.
    TellShop,
}

impl Store {
    /// Claims up to `limit` shipments due for `work`, for `owner` until `now + lease`.
    pub async fn claim_shipments(
        &self,
        work: ShipmentWork,
        owner: &str,
        limit: u32,
        lease: Duration,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<ShipmentTask>> {
        let due = match work {
            ShipmentWork::Settle => {
                "state IN ('requested', 'unknown_outcome') AND next_step_at IS NOT NULL \
                 AND next_step_at <= $3"
            }
            ShipmentWork::Track => {
                "state = 'created' AND next_track_at IS NOT NULL AND next_track_at <= $3"
            }
            ShipmentWork::TellShop => "shop_notice = 'due' AND shop_notice_at <= $3",
        };
        let sql = format!(
            "UPDATE shipments SET lease_owner = $1, lease_until = $2 \
             WHERE id IN (SELECT id FROM shipments WHERE {due} \
             AND (lease_until IS NULL OR lease_until < $3) ORDER BY id LIMIT $4{}) \
             RETURNING company_id, id, carrier_id, order_id",
            self.backend().skip_locked()
        );
        let mut tasks = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(time_text(now + lease))
            .bind(time_text(now))
            .bind(i64::from(limit))
            .fetch_all(self.writer())
            .await?
            .iter()
            .map(|row| {
                Ok(ShipmentTask {
                    company: CompanyId(row.int("company_id")?),
                    shipment: ShipmentId(row.int("id")?),
                    carrier: CarrierId(row.int("carrier_id")?),
                    order: OrderId(row.int("order_id")?),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        tasks.sort_by_key(|task| (task.company, task.carrier, task.shipment));
        Ok(tasks)
    }

    /// Gives a claimed shipment back untouched (shutdown, or work skipped).
    pub async fn release_shipment(&self, task: &ShipmentTask, owner: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE shipments SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2",
        )
        .bind(task.shipment.0)
        .bind(owner)
        .execute(self.writer())
        .await?;
        Ok(())
    }
}
