//! One way in for every order, whatever brought it (webhook, sync, history import, the
//! custom-platform API): the import rules of the store, then automatic invoicing.

use time::OffsetDateTime;
use tovor_domain::CompanyId;
use tovor_domain::document::DocumentKind;
use tovor_domain::import::ImportDecision;
use tovor_domain::invoicing::{AutoInvoice, InvoiceFacts, invoice_due};
use tovor_domain::order::NormalizedOrder;
use tovor_store::documents::DocumentState;
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
    /// Placed before the shop's import-from date: left alone.
    BeforeImportFrom,
}

impl Ingested {
    pub fn order(&self) -> Option<tovor_domain::OrderId> {
        match self {
            Self::Imported(outcome) => Some(outcome.order),
            Self::BeforeImportFrom => None,
        }
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

/// Imports `order` for `shop`, then invoices it if the shop's policy says so. Orders
/// placed before the shop's import-from date are left alone, except by an import of
/// history, which the user asked for from a date of their choosing.
pub async fn ingest(
    state: &AppState,
    company: CompanyId,
    shop: &Shop,
    order: &NormalizedOrder,
    source: &'static str,
) -> Result<Ingested, ServiceError> {
    if source != HISTORY
        && shop
            .settings
            .import_from
            .is_some_and(|from| order.created_at < from)
    {
        return Ok(Ingested::BeforeImportFrom);
    }
    let scope = state.store.company(company);
    let now = OffsetDateTime::now_utc();
    let outcome = scope
        .import_order(shop.id, order, Source(source), now)
        .await;
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
    }
    Ok(Ingested::Imported(outcome))
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
