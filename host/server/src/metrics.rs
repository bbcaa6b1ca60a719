//! Prometheus metrics, rendered at `GET /metrics`.
//!
//! Names: `tovor_webhooks_total{outcome}`, `tovor_imports_total{decision,source}`,
//! `tovor_orders_skipped_total{reason,source}` (not imported because a rule says so),
//! `tovor_orders_refused_total{source}` (refused by the import rules; kept as the shop's
//! problems), `tovor_plugin_calls_total{plugin,operation,outcome}`,
//! `tovor_stock_pushes_total{outcome}`,
//! `tovor_invoices_issued_automatically_total`, and the gauges `tovor_inbox_pending` and
//! `tovor_stock_push_queued`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder once (several servers in one test process share
/// it) and returns its handle.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; then ours stays
            // unused and the page shows nothing, which is visible, not fatal.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

pub fn webhook(outcome: &'static str) {
    metrics::counter!("tovor_webhooks_total", "outcome" => outcome).increment(1);
}

pub fn webhooks(outcome: &'static str, count: u64) {
    metrics::counter!("tovor_webhooks_total", "outcome" => outcome).increment(count);
}

pub fn import(decision: &'static str, source: &'static str) {
    metrics::counter!("tovor_imports_total", "decision" => decision, "source" => source)
        .increment(1);
}

/// An order left alone because a rule says so (placed before import-from, deleted).
pub fn skipped(reason: &'static str, source: &'static str) {
    metrics::counter!("tovor_orders_skipped_total", "reason" => reason, "source" => source)
        .increment(1);
}

/// An order the import rules refused, newly or again recorded as a problem.
pub fn refused(source: &'static str) {
    metrics::counter!("tovor_orders_refused_total", "source" => source).increment(1);
}

pub fn plugin_call(plugin: &str, operation: &'static str, ok: bool) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!(
        "tovor_plugin_calls_total",
        "plugin" => plugin.to_owned(),
        "operation" => operation,
        "outcome" => outcome
    )
    .increment(1);
}

pub fn stock_pushes(outcome: &'static str, count: u64) {
    metrics::counter!("tovor_stock_pushes_total", "outcome" => outcome).increment(count);
}

pub fn auto_invoice() {
    metrics::counter!("tovor_invoices_issued_automatically_total").increment(1);
}

pub fn queue_depths(inbox_pending: i64, stock_push_queued: i64) {
    #[allow(clippy::cast_precision_loss)]
    {
        metrics::gauge!("tovor_inbox_pending").set(inbox_pending as f64);
        metrics::gauge!("tovor_stock_push_queued").set(stock_push_queued as f64);
    }
}
