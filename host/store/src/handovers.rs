//! Hand-overs: the day's shipments handed to their carrier at once, electronically (a
//! submission) or on a manifest the courier signs. Every shipment is handed over once:
//! a hand-over claims the shipments it takes before the carrier is called, so two
//! hand-overs running at the same time never send a shipment twice.

use std::time::Duration;

use time::OffsetDateTime;
use tovor_domain::{CarrierId, ShipmentId};

use crate::codec::{RowExt, time_text};
use crate::error::{StoreError, StoreResult};
use crate::scope::CompanyScope;
use crate::shipping::{SHIPMENT_COLUMNS, Shipment, StoredLabel, shipment_of};

/// How long a hand-over may run before another one for the same carrier treats it as
/// interrupted (the process ended mid-way) and takes its shipments again.
pub const HANDOVER_LEASE: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoverState {
    /// Claimed its shipments; the carrier is being called.
    Running,
    /// The carrier took the shipments.
    Done,
    /// The carrier refused; the shipments are free for the next hand-over.
    Failed,
    /// Never finished (the process stopped): its shipments were taken by a later one.
    /// Whether the carrier received it is unknown.
    Interrupted,
}

impl HandoverState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Running, Self::Done, Self::Failed, Self::Interrupted]
            .into_iter()
            .find(|state| state.as_str() == text)
    }
}

/// A hand-over as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    pub id: i64,
    pub carrier: CarrierId,
    /// The sender's local date, `YYYY-MM-DD`.
    pub date: String,
    pub state: HandoverState,
    pub shipment_count: u32,
    pub reference: Option<String>,
    /// The content type of its document, when it has one.
    pub document_type: Option<String>,
    pub error: Option<String>,
    pub created_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

/// How a hand-over ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandoverOutcome<'a> {
    Done {
        reference: Option<&'a str>,
        document: Option<&'a StoredLabel>,
    },
    Failed(&'a str),
}

const HANDOVER_COLUMNS: &str = "id, carrier_id, handover_date, state, shipment_count, reference, \
     document_type, error, created_at, finished_at";

fn handover_of(row: &sqlx::any::AnyRow) -> StoreResult<Handover> {
    let state = row.text("state")?;
    Ok(Handover {
        id: row.int("id")?,
        carrier: CarrierId(row.int("carrier_id")?),
        date: row.text("handover_date")?,
        state: HandoverState::parse(&state).ok_or_else(|| StoreError::corrupt("state", &state))?,
        shipment_count: u32::try_from(row.int("shipment_count")?)
            .map_err(|error| StoreError::corrupt("shipment_count", error))?,
        reference: row.opt_text("reference")?,
        document_type: row.opt_text("document_type")?,
        error: row.opt_text("error")?,
        created_at: row.time("created_at")?,
        finished_at: row.opt_time("finished_at")?,
    })
}

impl CompanyScope<'_> {
    /// Starts a hand-over of the carrier's created shipments not handed over yet and
    /// created before `created_before`, claiming them. `None` when there are none.
    /// A running hand-over of the carrier younger than [`HANDOVER_LEASE`] makes it a
    /// conflict; an older one is marked interrupted and its shipments are taken again.
    pub async fn begin_handover(
        &self,
        carrier: CarrierId,
        date: &str,
        created_before: OffsetDateTime,
        at: OffsetDateTime,
    ) -> StoreResult<Option<(Handover, Vec<Shipment>)>> {
        let mut tx = self.store.begin().await?;
        let running = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, created_at FROM handovers WHERE company_id = $1 AND carrier_id = $2 \
             AND state = 'running'{}",
            self.store.backend().for_update()
        )))
        .bind(self.cid())
        .bind(carrier.0)
        .fetch_all(&mut *tx)
        .await?;
        for row in running {
            let id = row.int("id")?;
            if row.time("created_at")? + HANDOVER_LEASE > at {
                return Err(StoreError::Conflict(format!(
                    "hand-over {id} of this carrier is still running"
                )));
            }
            sqlx::query(
                "UPDATE handovers SET state = 'interrupted', finished_at = $3, \
                 error = 'interrupted: the host stopped before the carrier answered; \
                 its shipments went into a later hand-over' \
                 WHERE company_id = $1 AND id = $2",
            )
            .bind(self.cid())
            .bind(id)
            .bind(time_text(at))
            .execute(&mut *tx)
            .await?;
            release_shipments(&mut tx, self.cid(), id).await?;
        }
        let id = sqlx::query(
            "INSERT INTO handovers (company_id, carrier_id, handover_date, state, shipment_count, \
             created_at) VALUES ($1, $2, $3, 'running', 0, $4) RETURNING id",
        )
        .bind(self.cid())
        .bind(carrier.0)
        .bind(date)
        .bind(time_text(at))
        .fetch_one(&mut *tx)
        .await?
        .int("id")?;
        let claimed = sqlx::query(
            "UPDATE shipments SET handover_id = $3 WHERE company_id = $1 AND carrier_id = $2 \
             AND state = 'created' AND handover_id IS NULL AND created_at < $4",
        )
        .bind(self.cid())
        .bind(carrier.0)
        .bind(id)
        .bind(time_text(created_before))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            // Nothing to hand over: leave no trace.
            return Ok(None);
        }
        sqlx::query("UPDATE handovers SET shipment_count = $3 WHERE company_id = $1 AND id = $2")
            .bind(self.cid())
            .bind(id)
            .bind(i64::try_from(claimed).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        let shipments = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SHIPMENT_COLUMNS} FROM shipments s WHERE s.company_id = $1 \
             AND s.handover_id = $2 ORDER BY s.id"
        )))
        .bind(self.cid())
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(shipment_of)
        .collect::<StoreResult<Vec<_>>>()?;
        let handover = fetch_handover(&mut tx, self.cid(), id).await?;
        tx.commit().await?;
        Ok(Some((handover, shipments)))
    }

    /// Records how the hand-over ended. A failed one frees its shipments for the next.
    pub async fn finish_handover(
        &self,
        id: i64,
        outcome: HandoverOutcome<'_>,
        at: OffsetDateTime,
    ) -> StoreResult<Handover> {
        let mut tx = self.store.begin().await?;
        match outcome {
            HandoverOutcome::Done {
                reference,
                document,
            } => {
                sqlx::query(
                    "UPDATE handovers SET state = 'done', reference = $3, document_type = $4, \
                     document = $5, finished_at = $6 WHERE company_id = $1 AND id = $2",
                )
                .bind(self.cid())
                .bind(id)
                .bind(reference)
                .bind(document.map(|document| document.content_type.clone()))
                .bind(document.map(|document| document.data.clone()))
                .bind(time_text(at))
                .execute(&mut *tx)
                .await?;
            }
            HandoverOutcome::Failed(error) => {
                sqlx::query(
                    "UPDATE handovers SET state = 'failed', error = $3, finished_at = $4 \
                     WHERE company_id = $1 AND id = $2",
                )
                .bind(self.cid())
                .bind(id)
                .bind(error)
                .bind(time_text(at))
                .execute(&mut *tx)
                .await?;
                release_shipments(&mut tx, self.cid(), id).await?;
            }
        }
        let handover = fetch_handover(&mut tx, self.cid(), id).await?;
        tx.commit().await?;
        Ok(handover)
    }

    pub async fn handover(&self, id: i64) -> StoreResult<Handover> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {HANDOVER_COLUMNS} FROM handovers WHERE company_id = $1 AND id = $2"
        )))
        .bind(self.cid())
        .bind(id)
        .fetch_optional(self.store.reader())
        .await?
        .ok_or_else(|| StoreError::not_found("hand-over", id))
        .and_then(|row| handover_of(&row))
    }

    /// The carrier's hand-overs, newest first.
    pub async fn handovers(&self, carrier: CarrierId, limit: u32) -> StoreResult<Vec<Handover>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {HANDOVER_COLUMNS} FROM handovers WHERE company_id = $1 AND carrier_id = $2 \
             ORDER BY id DESC LIMIT $3"
        )))
        .bind(self.cid())
        .bind(carrier.0)
        .bind(i64::from(limit))
        .fetch_all(self.store.reader())
        .await?
        .iter()
        .map(handover_of)
        .collect()
    }

    /// The hand-over's document, when the carrier gave one.
    pub async fn handover_document(&self, id: i64) -> StoreResult<Option<StoredLabel>> {
        let row = sqlx::query(
            "SELECT document_type, document FROM handovers WHERE company_id = $1 AND id = $2",
        )
        .bind(self.cid())
        .bind(id)
        .fetch_optional(self.store.reader())
        .await?
        .ok_or_else(|| StoreError::not_found("hand-over", id))?;
        let Some(content_type) = row.opt_text("document_type")? else {
            return Ok(None);
        };
        Ok(Some(StoredLabel {
            content_type,
            data: sqlx::Row::try_get::<Vec<u8>, _>(&row, "document")?,
        }))
    }

    /// The ids of the shipments a hand-over took.
    pub async fn handover_shipments(&self, id: i64) -> StoreResult<Vec<ShipmentId>> {
        sqlx::query(
            "SELECT id FROM shipments WHERE company_id = $1 AND handover_id = $2 ORDER BY id",
        )
        .bind(self.cid())
        .bind(id)
        .fetch_all(self.store.reader())
        .await?
        .iter()
        .map(|row| Ok(ShipmentId(row.int("id")?)))
        .collect()
    }
}

async fn fetch_handover(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    company: i64,
    id: i64,
) -> StoreResult<Handover> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {HANDOVER_COLUMNS} FROM handovers WHERE company_id = $1 AND id = $2"
    )))
    .bind(company)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::not_found("hand-over", id))
    .and_then(|row| handover_of(&row))
}

/// Frees the shipments a hand-over took, for the next one.
async fn release_shipments(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    company: i64,
    id: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE shipments SET handover_id = NULL WHERE company_id = $1 AND handover_id = $2",
    )
    .bind(company)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
