//! What needs a person's attention in a company, counted in one query: the web
//! admin's dashboard.

use time::OffsetDateTime;

use crate::codec::{RowExt, time_text};
use crate::error::StoreResult;
use crate::scope::CompanyScope;

/// Counts for the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Overview {
    /// Orders placed since the start of the company's day.
    pub orders_today: i64,
    /// Webhook deliveries stored and not yet imported.
    pub deliveries_waiting: i64,
    /// Deliveries that failed for good, or could not be read: they wait for a person.
    pub deliveries_failed: i64,
    /// Shops whose last sync or history import failed, or with orders that could not
    /// be imported.
    pub shops_with_errors: i64,
    /// Items a shop refused to take a stock level for, or whose push keeps failing.
    pub pushes_failing: i64,
    /// Shipments whose creation failed or has an unknown outcome, that the shop could
    /// not be told about, or whose parcel is stuck (delivery failed, on hold,
    /// returning).
    pub shipments_attention: i64,
}

impl CompanyScope<'_> {
    /// The dashboard's counts; `day_start` is when the company's day began.
    pub async fn overview(&self, day_start: OffsetDateTime) -> StoreResult<Overview> {
        let row = sqlx::query(
            "SELECT \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM orders \
                WHERE company_id = $1 AND shop_created_at >= $2) AS orders_today, \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM webhook_inbox \
                WHERE company_id = $1 AND state = 'pending') AS deliveries_waiting, \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM webhook_inbox \
                WHERE company_id = $1 AND state IN ('failed', 'malformed')) AS deliveries_failed, \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM shops s WHERE s.company_id = $1 AND ( \
                EXISTS (SELECT 1 FROM shop_sync y WHERE y.shop_id = s.id \
                        AND (y.last_error IS NOT NULL OR y.history_error IS NOT NULL)) \
                OR EXISTS (SELECT 1 FROM sync_problems p WHERE p.shop_id = s.id \
                        AND p.dismissed_at IS NULL))) AS shops_with_errors, \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM stock_push_state \
                WHERE company_id = $1 AND outcome = 'refused') \
             + (SELECT CAST(COUNT(*) AS BIGINT) FROM stock_push_queue \
                WHERE company_id = $1 AND attempts > 2) AS pushes_failing, \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM shipments WHERE company_id = $1 AND ( \
                state IN ('failed', 'unknown_outcome') OR shop_notice = 'failed' \
                OR (state = 'created' AND status IN \
                    ('delivery_failed', 'on_hold', 'return_to_sender')))) AS shipments_attention",
        )
        .bind(self.cid())
        .bind(time_text(day_start))
        .fetch_one(self.store.reader())
        .await?;
        Ok(Overview {
            orders_today: row.int("orders_today")?,
            deliveries_waiting: row.int("deliveries_waiting")?,
            deliveries_failed: row.int("deliveries_failed")?,
            shops_with_errors: row.int("shops_with_errors")?,
            pushes_failing: row.int("pushes_failing")?,
            shipments_attention: row.int("shipments_attention")?,
        })
    }
}
