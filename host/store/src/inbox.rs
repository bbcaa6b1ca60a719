//! The webhook inbox: verified deliveries stored before they are answered, then
//! processed by whichever process claims them.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use time::{Duration, OffsetDateTime};
use tovor_domain::{CompanyId, OrderId, ShopId};

use crate::codec::{RowExt, parse_time, time_text};
use crate::db::Store;
use crate::error::{StoreError, StoreResult};
use crate::scope::CompanyScope;
use crate::sql::{ROWS_PER_STATEMENT, for_connection, value_rows};

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting to be processed (or to be retried).
    Pending,
    /// Processed.
    Done,
    /// Failed too often; kept with its error for inspection and retry by hand.
    Failed,
    /// Signed correctly but unreadable; kept with its raw body.
    Malformed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Malformed => "malformed",
        }
    }

    fn parse(text: &str) -> StoreResult<Self> {
        match text {
            "pending" => Ok(Self::Pending),
            "done" => Ok(Self::Done),
            "failed" => Ok(Self::Failed),
            "malformed" => Ok(Self::Malformed),
            other => Err(StoreError::corrupt("state", format!("{other:?}"))),
        }
    }
}

/// A verified delivery to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    pub company: CompanyId,
    pub shop: ShopId,
    /// The platform's delivery id: a second delivery with the same id is dropped.
    pub delivery_id: Option<String>,
    pub topic: Option<String>,
    /// The parsed event, as the service serialized it.
    pub event: String,
    /// The raw body, kept only for deliveries that could not be parsed.
    pub body: Option<Vec<u8>>,
    pub state: DeliveryState,
    pub error: Option<String>,
}

/// A delivery as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub company: CompanyId,
    pub shop: ShopId,
    pub received_at: OffsetDateTime,
    pub delivery_id: Option<String>,
    pub topic: Option<String>,
    pub event: String,
    pub body: Option<Vec<u8>>,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub order: Option<OrderId>,
    /// Why a processed delivery imported nothing, when a rule said so
    /// (`before_import_from`, `deleted`).
    pub skip_reason: Option<String>,
}

const DELIVERY_COLUMNS: &str = "id, company_id, shop_id, received_at, delivery_id, topic, event, \
     body, state, attempts, last_error, order_id, skip_reason";

fn delivery_of(row: &sqlx::any::AnyRow) -> StoreResult<Delivery> {
    Ok(Delivery {
        id: row.int("id")?,
        company: CompanyId(row.int("company_id")?),
        shop: ShopId(row.int("shop_id")?),
        received_at: row.time("received_at")?,
        delivery_id: row.opt_text("delivery_id")?,
        topic: row.opt_text("topic")?,
        event: row.text("event")?,
        body: row.try_get::<Option<Vec<u8>>, _>("body")?,
        state: DeliveryState::parse(&row.text("state")?)?,
        attempts: u32::try_from(row.int("attempts")?).unwrap_or(u32::MAX),
        last_error: row.opt_text("last_error")?,
        order: row.opt_int("order_id")?.map(OrderId),
        skip_reason: row.opt_text("skip_reason")?,
    })
}

impl Store {
    /// Stores deliveries in one transaction (the intake's group commit). A delivery whose
    /// platform id was stored before is dropped. Returns how many rows were new.
    pub async fn store_deliveries(
        &self,
        deliveries: &[NewDelivery],
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        let now = time_text(at);
        let mut tx = self.begin().await?;
        let mut inserted = 0;
        for chunk in deliveries.chunks(ROWS_PER_STATEMENT / 2) {
            let sql = format!(
                "INSERT INTO webhook_inbox (company_id, shop_id, delivery_id, topic, event, body, \
                 state, last_error, received_at, next_attempt_at) VALUES {} \
                 ON CONFLICT (shop_id, delivery_id) DO NOTHING",
                value_rows(chunk.len(), 10)
            );
            let sql = for_connection(&tx, sql);
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for delivery in chunk {
                query = query
                    .bind(delivery.company.0)
                    .bind(delivery.shop.0)
                    .bind(delivery.delivery_id.clone())
                    .bind(delivery.topic.clone())
                    .bind(delivery.event.clone())
                    .bind(delivery.body.clone())
                    .bind(delivery.state.as_str())
                    .bind(delivery.error.clone())
                    .bind(now.clone())
                    .bind(now.clone());
            }
            inserted += query.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// Claims up to `limit` due deliveries for `owner` until `now + lease`; oldest first.
    pub async fn claim_deliveries(
        &self,
        owner: &str,
        limit: u32,
        lease: Duration,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Delivery>> {
        let sql = format!(
            "UPDATE webhook_inbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM webhook_inbox WHERE state = 'pending' \
             AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
             ORDER BY next_attempt_at, id LIMIT $4{}) RETURNING {DELIVERY_COLUMNS}",
            self.backend().skip_locked()
        );
        let mut claimed: Vec<Delivery> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(time_text(now + lease))
            .bind(time_text(now))
            .bind(i64::from(limit))
            .fetch_all(self.writer())
            .await?
            .iter()
            .map(delivery_of)
            .collect::<StoreResult<_>>()?;
        claimed.sort_by_key(|delivery| delivery.id);
        Ok(claimed)
    }

    /// Marks a claimed delivery processed: it is about `order`, or imported nothing
    /// for the rule named by `skip_reason`.
    pub async fn finish_delivery(
        &self,
        id: i64,
        owner: &str,
        order: Option<OrderId>,
        skip_reason: Option<&str>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE webhook_inbox SET state = 'done', processed_at = $3, order_id = $4, \
             skip_reason = $5, lease_owner = NULL, lease_until = NULL, last_error = NULL \
             WHERE id = $1 AND lease_owner = $2",
        )
        .bind(id)
        .bind(owner)
        .bind(time_text(at))
        .bind(order.map(|order| order.0))
        .bind(skip_reason)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Records a failed attempt: retried at `retry_at`, or kept as failed when `None`.
    pub async fn fail_delivery(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> StoreResult<()> {
        let (state, next) = match retry_at {
            Some(at) => (DeliveryState::Pending, Some(time_text(at))),
            None => (DeliveryState::Failed, None),
        };
        sqlx::query(
            "UPDATE webhook_inbox SET state = $3, last_error = $4, \
             next_attempt_at = COALESCE($5, next_attempt_at), lease_owner = NULL, lease_until = NULL \
             WHERE id = $1 AND lease_owner = $2",
        )
        .bind(id)
        .bind(owner)
        .bind(state.as_str())
        .bind(error)
        .bind(next)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Deliveries waiting to be processed, across all companies (a metric).
    pub async fn pending_deliveries(&self) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM webhook_inbox WHERE state = 'pending'",
        )
        .fetch_one(self.reader())
        .await?;
        row.int("n")
    }

    /// Forgets processed deliveries received before `before`.
    pub async fn purge_deliveries(&self, before: OffsetDateTime) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM webhook_inbox WHERE state = 'done' AND received_at < $1")
                .bind(time_text(before))
                .execute(self.writer())
                .await?
                .rows_affected(),
        )
    }
}

impl CompanyScope<'_> {
    /// A shop's deliveries, newest first, optionally in one state.
    pub async fn deliveries(
        &self,
        shop: ShopId,
        state: Option<DeliveryState>,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_inbox WHERE company_id = $1 AND shop_id = $2 \
             AND ($3 IS NULL OR state = $3) ORDER BY id DESC LIMIT $4"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.cid())
            .bind(shop.0)
            .bind(state.map(DeliveryState::as_str))
            .bind(i64::from(limit))
            .fetch_all(self.store.reader())
            .await?
            .iter()
            .map(delivery_of)
            .collect()
    }

    /// Puts a failed delivery back in line.
    pub async fn retry_delivery(&self, id: i64, at: OffsetDateTime) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE webhook_inbox SET state = 'pending', attempts = 0, next_attempt_at = $3 \
             WHERE company_id = $1 AND id = $2 AND state = 'failed'",
        )
        .bind(self.cid())
        .bind(id)
        .bind(time_text(at))
        .execute(self.store.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("failed delivery", id));
        }
        Ok(())
    }
}

pub(crate) fn parse_opt_time(
    column: &str,
    text: Option<String>,
) -> StoreResult<Option<OffsetDateTime>> {
    text.map(|text| parse_time(column, &text)).transpose()
}

impl Store {
    /// Frees every lease `owner` holds (inbox deliveries, stock pushes, sync jobs,
    /// document e-mails): a
    /// process that restarts under its old name takes its unfinished work back at once
    /// instead of waiting for the leases to run out.
    pub async fn release_leases(&self, owner: &str) -> StoreResult<u64> {
        let mut released = 0;
        for table in [
            "webhook_inbox",
            "stock_push_queue",
            "shop_sync",
            "document_sends",
        ] {
            let sql = format!(
                "UPDATE {table} SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1"
            );
            released += sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(owner)
                .execute(self.writer())
                .await?
                .rows_affected();
        }
        // A shipment still `requested` under this node's lease was being created when
        // the node stopped: its outcome is unknown and is settled at once.
        released += sqlx::query(
            "UPDATE shipments SET lease_owner = NULL, lease_until = NULL, \
             next_step_at = CASE WHEN state = 'requested' THEN $2 ELSE next_step_at END \
             WHERE lease_owner = $1",
        )
        .bind(owner)
        .bind(crate::codec::time_text(time::OffsetDateTime::now_utc()))
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(released)
    }
}
