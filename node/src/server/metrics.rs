//! `GET /metrics`: what an operator graphs and alerts on, in the Prometheus
//! (OpenMetrics) text format.
//!
//! - `salvage_entries_accepted_total`: entries accepted (re-submissions included);
//! - `salvage_entries_refused_total{code}`: entries refused, by refusal code;
//! - `salvage_commit_seconds`: how long a submission took from its body being
//!   parsed to its records being durable (histogram);
//! - `salvage_ledger_size`: durable records, read at scrape time.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::{ApiError, Node};

/// The node's metrics and their registry.
pub(crate) struct Metrics {
    registry: Registry,
    accepted: Counter,
    refused: Family<RefusalLabel, Counter>,
    commit_seconds: Histogram,
    size: Gauge,
    alarms: Gauge,
    attachments_missing: Gauge,
}

/// The label of a refusal count: its stable code.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabel {
    code: String,
}

impl Metrics {
    pub fn new() -> Metrics {
        let accepted = Counter::default();
        let refused = Family::<RefusalLabel, Counter>::default();
        // From half a millisecond (one fdatasync) to about 8 s, doubling.
        let commit_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 15));
        let size = Gauge::default();
        let mut registry = Registry::with_prefix("salvage");
        registry.register("entries_accepted", "Entries accepted (re-submissions included)", accepted.clone());
        registry.register("entries_refused", "Entries refused, by refusal code", refused.clone());
        registry.register("commit_seconds", "Time from a parsed submission to durable records", commit_seconds.clone());
        registry.register("ledger_size", "Durable records in the ledger", size.clone());
        let alarms = Gauge::default();
        registry.register(
            "checkpoint_alarms",
            "Inconsistent checkpoints this node refused to sign since it started",
            alarms.clone(),
        );
        let attachments_missing = Gauge::default();
        registry.register(
            "attachments_missing",
            "Attachments that records name but this node does not hold yet",
            attachments_missing.clone(),
        );
        Metrics { registry, accepted, refused, commit_seconds, size, alarms, attachments_missing }
    }

    /// Counts one accepted entry.
    pub fn accepted(&self) {
        self.accepted.inc();
    }

    /// Counts one refused entry.
    pub fn refused(&self, code: &str) {
        self.refused.get_or_create(&RefusalLabel { code: code.to_owned() }).inc();
    }

    /// Records how long a submission took to become durable.
    pub fn committed(&self, seconds: f64) {
        self.commit_seconds.observe(seconds);
    }
}

#[utoipa::path(get, path = "/metrics", tag = "node", responses((status = 200, description = "OpenMetrics text", body = String, content_type = "application/openmetrics-text")))]
/// `GET /metrics`.
pub async fn metrics(State(node): State<Arc<Node>>) -> Result<Response, ApiError> {
    let size = node.ledger(|ledger| Ok(ledger.size())).await?;
    let attachments = std::sync::Arc::clone(&node.attachments);
    let missing = tokio::task::spawn_blocking(move || attachments.store().missing_count())
        .await
        .map_err(|e| ApiError::internal(format!("a metrics task failed: {e}")))?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    node.metrics.attachments_missing.set(i64::try_from(missing).unwrap_or(i64::MAX));
    node.metrics.size.set(i64::try_from(size).unwrap_or(i64::MAX));
    node.metrics.alarms.set(i64::try_from(node.checkpoints.witness().alarm_count()).unwrap_or(i64::MAX));
    let mut text = String::new();
    encode(&mut text, &node.metrics.registry)
        .map_err(|e| ApiError::internal(format!("cannot encode the metrics: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response())
}
