//! One way in for every order, whatever brought it (webhook, sync, history import, the
//! custom-platform API): the import rules of the store, then automatic invoicing.

use time::OffsetDateTime;
use tovor_domain::CompanyId;
use tovor_domain::document::DocumentKind;
use tovor_domain::import::ImportDecision;
use tovor_domain::invoicing::{AutoInvoice, CreditNotePolicy, InvoiceFacts, invoice_due};
use tovor_domain::order::NormalizedOrder;
use tovor_runtime::CallError;
use tovor_runtime::ErrorKind;
use tovor_store::StoreError;
use tovor_store::documents::{CreditOf, Document, DocumentState};
use tovor_store::orders::{ImportOutcome, Source};
use tovor_store::shops::Shop;

use crate::error::ServiceError;
use crate::metrics;
use crate::state::AppState;

/// The source of orders brought by an import of history.
pub const HISTORY: &str = "history";

/// What happened to one incoming order.
#[derive(Debug)]
pub enum Ingested {
    Imported(ImportOutcome),
    /// Left alone because a rule says so.
    Skipped(SkipReason),
}

impl Ingested {
    pub fn order(&self) -> Option<tovor_domain::OrderId> {
        match self {
            Self::Imported(outcome) => Some(outcome.order),
            Self::Skipped(_) => None,
        }
    }

    /// Why nothing was imported, when a rule left the order alone.
    pub fn skip_reason(&self) -> Option<SkipReason> {
        match self {
            Self::Imported(_) => None,
            Self::Skipped(reason) => Some(*reason),
        }
    }
}

/// Why an order was deliberately not imported (nothing went wrong).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Placed before the shop's import-from date.
    BeforeImportFrom,
    /// The platform deleted an order that was never imported: nothing to cancel.
    Deleted,
}

impl SkipReason {
    /// As the delivery list and the metrics name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BeforeImportFrom => "before_import_from",
            Self::Deleted => "deleted",
        }
    }
}

/// Whether a rule keeps an order placed at `created_at` out: orders placed before the
/// shop's import-from date are left alone, except by an import of history, which the
/// user asked for from a date of their choosing.
pub fn skip_reason(
    import_from: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    source: &str,
) -> Option<SkipReason> {
    (source != HISTORY && import_from.is_some_and(|from| created_at < from))
        .then_some(SkipReason::BeforeImportFrom)
}

/// What a failed import means for the sync run that met it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFailure {
    /// The database, the platform or the plugin had trouble that may pass: the run
    /// fails and keeps its cursor, so the order is asked for again.
    Transient,
    /// The order itself is refused (invalid data): it becomes one of the shop's
    /// problems, tried again by later runs, and the rest of the shop goes on.
    Refused,
}

/// Sorts an import's error. Only errors about the order's own data are refusals;
/// everything else (including failures nobody foresaw) fails the run, because a
/// failed run is retried and visible while a wrongly passed order is lost.
pub fn classify(error: &ServiceError) -> ImportFailure {
    if error.is_retryable() {
        return ImportFailure::Transient;
    }
    let refused = match error {
        ServiceError::Convert(_) | ServiceError::Invalid(_) => true,
        ServiceError::Store(error) => {
            matches!(error, StoreError::InvalidOrder(_) | StoreError::Invalid(_))
        }
        // The connector ran and said the order is bad, is gone, or broke it.
        ServiceError::Call(error) => {
            matches!(
                error,
                CallError::Trap { .. } | CallError::OutOfMemory { .. } | CallError::BadOrder { .. }
            ) || error.connector_error().is_some_and(|error| {
                matches!(
                    error.kind,
                    ErrorKind::NotFound | ErrorKind::InvalidInput | ErrorKind::Other
                )
            })
        }
        _ => false,
    };
    if refused {
        ImportFailure::Refused
    } else {
        ImportFailure::Transient
    }
}

/// What the import did, as metrics and the API name it.
pub fn decision_label(decision: &ImportDecision) -> &'static str {
    match decision {
        ImportDecision::Create => "created",
        ImportDecision::Unchanged(_) => "unchanged",
        ImportDecision::Overwrite => "overwritten",
        ImportDecision::StatusOnly { .. } => "status_only",
    }
}

/// Imports `order` for `shop`, then invoices it if the shop's policy says so, unless a
/// rule keeps it out ([`skip_reason`]); a skip is counted by its reason.
pub async fn ingest(
    state: &AppState,
    company: CompanyId,
    shop: &Shop,
    order: &NormalizedOrder,
    source: &'static str,
) -> Result<Ingested, ServiceError> {
    if let Some(reason) = skip(shop, order, source) {
        return Ok(Ingested::Skipped(reason));
    }
    let outcome = state
        .store
        .company(company)
        .import_order(shop.id, order, Source(source), OffsetDateTime::now_utc())
        .await;
    after_import(state, company, shop, outcome, source).await
}

/// [`ingest`] for a page of orders of one shop (a sync's or an import of history's),
/// imported in as few transactions as the store can: one result per order, in their
/// order.
pub async fn ingest_page(
    state: &AppState,
    company: CompanyId,
    shop: &Shop,
    orders: &[&NormalizedOrder],
    source: &'static str,
) -> Vec<Result<Ingested, ServiceError>> {
    let mut results: Vec<Option<Result<Ingested, ServiceError>>> = Vec::with_capacity(orders.len());
    let mut imported = Vec::with_capacity(orders.len());
    for &order in orders {
        let skipped = skip(shop, order, source);
        if skipped.is_none() {
            imported.push(order);
        }
        results.push(skipped.map(|reason| Ok(Ingested::Skipped(reason))));
    }
    let outcomes = state
        .store
        .company(company)
        .import_orders(
            shop.id,
            &imported,
            Source(source),
            OffsetDateTime::now_utc(),
        )
        .await;
    let mut outcomes = outcomes.into_iter();
    for result in results.iter_mut().filter(|result| result.is_none()) {
        let outcome = outcomes.next().unwrap_or_else(|| {
            Err(StoreError::Invalid(
                "the store returned fewer results than orders".into(),
            ))
        });
        *result = Some(after_import(state, company, shop, outcome, source).await);
    }
    results.into_iter().flatten().collect()
}

/// Why a rule keeps `order` out, counted by its reason.
fn skip(shop: &Shop, order: &NormalizedOrder, source: &'static str) -> Option<SkipReason> {
    let reason = skip_reason(shop.settings.import_from, order.created_at, source)?;
    metrics::skipped(reason.as_str(), source);
    Some(reason)
}

/// Counts an import's outcome and, when it changed the order, wakes the stock pusher
/// and applies the shop's invoicing and credit policies.
async fn after_import(
    state: &AppState,
    company: CompanyId,
    shop: &Shop,
    outcome: Result<ImportOutcome, StoreError>,
    source: &'static str,
) -> Result<Ingested, ServiceError> {
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            metrics::import("failed", source);
            return Err(error.into());
        }
    };
    metrics::import(decision_label(&outcome.decision), source);
    if !matches!(outcome.decision, ImportDecision::Unchanged(_)) {
        // Reservations changed: the shops selling from this warehouse hear of it.
        state.wake.push.notify_one();
        auto_invoice(state, company, shop, &outcome).await;
        auto_credit(state, company, shop, &outcome).await;
    }
    Ok(Ingested::Imported(outcome))
}

/// Credits the refunds the shop reported that no credit note covers yet, when the
/// shop's policy says so: each against the newest issued invoice of the order that
/// can take it. A refund that cannot be credited (nothing invoiced, an amount without
/// lines) is logged and stays on the order for a person.
async fn auto_credit(state: &AppState, company: CompanyId, shop: &Shop, outcome: &ImportOutcome) {
    if shop.settings.credit_notes != CreditNotePolicy::Auto {
        return;
    }
    let scope = state.store.company(company);
    let result: Result<(), ServiceError> = async {
        let order = scope.order(outcome.order).await?;
        let documents = scope.order_documents(outcome.order).await?;
        let mut invoices: Vec<&Document> = documents
            .iter()
            .filter(|document| {
                document.draft.kind == DocumentKind::Invoice
                    && document.state == DocumentState::Issued
            })
            .collect();
        invoices.reverse();
        for refund in &order.content.refunds {
            let Some(refund_id) = refund.platform_id.as_deref() else {
                continue;
            };
            let credited = documents
                .iter()
                .any(|document| document.refund_id.as_deref() == Some(refund_id));
            if credited {
                continue;
            }
            let mut last_error = None;
            for invoice in &invoices {
                match scope
                    .issue_credit_note(
                        invoice.id,
                        CreditOf::Refund(refund_id),
                        false,
                        Source("auto_credit"),
                        OffsetDateTime::now_utc(),
                    )
                    .await
                {
                    Ok(note) => {
                        if note.moves_stock {
                            state.wake.push.notify_one();
                        }
                        tracing::info!(order = %order.number, refund = refund_id,
                            credit_note = %note.number, "credited automatically");
                        last_error = None;
                        break;
                    }
                    Err(error) => last_error = Some(error),
                }
            }
            if let Some(error) = last_error {
                tracing::warn!(order = %order.number, refund = refund_id, %error,
                    "refund not credited automatically: credit it by hand");
            }
        }
        Ok(())
    }
    .await;
    if let Err(error) = result {
        tracing::error!(order = %outcome.number, %error, "automatic credit note failed");
    }
}

/// Issues the invoice the shop's policy calls for. A failure is logged, not returned:
/// the import itself succeeded and the invoice can be issued by hand.
async fn auto_invoice(state: &AppState, company: CompanyId, shop: &Shop, outcome: &ImportOutcome) {
    if shop.settings.auto_invoice == AutoInvoice::Off {
        return;
    }
    let scope = state.store.company(company);
    let result: Result<(), ServiceError> = async {
        let order = scope.order(outcome.order).await?;
        let documents = scope.order_documents(outcome.order).await?;
        let has_invoice = documents.iter().any(|document| {
            document.draft.kind == DocumentKind::Invoice && document.state == DocumentState::Issued
        });
        let facts = InvoiceFacts {
            status: order.status,
            payment_status: order.payment_status,
            has_invoice,
        };
        if invoice_due(shop.settings.auto_invoice, facts) {
            let invoice = scope
                .issue_document(
                    outcome.order,
                    DocumentKind::Invoice,
                    None,
                    Source("auto_invoice"),
                    OffsetDateTime::now_utc(),
                )
                .await?;
            metrics::auto_invoice();
            tracing::info!(order = %order.number, invoice = %invoice.number, "invoiced automatically");
        }
        Ok(())
    }
    .await;
    if let Err(error) = result {
        tracing::error!(order = %outcome.number, %error, "automatic invoice failed");
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use time::macros::datetime;
    use tovor_domain::order::FieldProblem;

    use super::*;
    use tovor_runtime::ConnectorError;
    use tovor_runtime::model::ConvertError;

    #[test]
    fn orders_before_import_from_are_skipped_except_by_history() {
        let from = Some(datetime!(2026-01-01 0:00 UTC));
        let before = datetime!(2025-12-31 23:59 UTC);
        let after = datetime!(2026-01-01 0:00 UTC);
        assert_eq!(
            skip_reason(from, before, "webhook"),
            Some(SkipReason::BeforeImportFrom)
        );
        assert_eq!(
            skip_reason(from, before, "sync"),
            Some(SkipReason::BeforeImportFrom)
        );
        assert_eq!(skip_reason(from, before, HISTORY), None);
        assert_eq!(skip_reason(from, after, "webhook"), None);
        assert_eq!(skip_reason(None, before, "sync"), None);
        assert_eq!(SkipReason::BeforeImportFrom.as_str(), "before_import_from");
    }

    #[test]
    fn bad_order_data_is_a_refusal() {
        let convert = ServiceError::Convert(ConvertError {
            field: "created_at".into(),
            message: "not a time".into(),
        });
        assert_eq!(classify(&convert), ImportFailure::Refused);
        let invalid = ServiceError::Store(StoreError::InvalidOrder(vec![FieldProblem {
            field: "total".into(),
            message: "does not add up".into(),
        }]));
        assert_eq!(classify(&invalid), ImportFailure::Refused);
        let gone = ServiceError::Call(CallError::Connector {
            plugin: "p".into(),
            error: ConnectorError::new(ErrorKind::NotFound, "order 7"),
        });
        assert_eq!(classify(&gone), ImportFailure::Refused);
    }

    #[test]
    fn trouble_that_may_pass_fails_the_run() {
        let database = ServiceError::Store(StoreError::Database(sqlx::Error::PoolTimedOut));
        assert_eq!(classify(&database), ImportFailure::Transient);
        let timeout = ServiceError::Call(CallError::Timeout {
            plugin: "p".into(),
            limit: Duration::from_secs(10),
        });
        assert_eq!(classify(&timeout), ImportFailure::Transient);
        let busy = ServiceError::Call(CallError::Connector {
            plugin: "p".into(),
            error: ConnectorError::new(ErrorKind::Transient, "503"),
        });
        assert_eq!(classify(&busy), ImportFailure::Transient);
        // Not foreseen as the order's fault: the run fails rather than pass the order.
        let corrupt = ServiceError::Store(StoreError::Conflict("raced".into()));
        assert_eq!(classify(&corrupt), ImportFailure::Transient);
    }
}
