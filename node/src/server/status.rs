//! `GET /healthz`, `GET /readyz`, `GET /v1/status` and the answer to unknown paths.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use serde::Serialize;

use super::doc_types::ErrorBody;
use super::{ApiError, Node};
use crate::throttle::Throttle;

/// What `GET /v1/status` reports.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Status {
    /// The ledger id (hex).
    pub ledger_id: String,
    /// The ledger's format, as its genesis set it: 2 withholds restricted
    /// values from signed statements (clients make their disclosures), 1
    /// signs them in the clear (docs/format.md §13).
    pub format: u8,
    /// The member id of the operator running this node.
    pub node: String,
    /// The node's role: `standalone` if it does not replicate with others;
    /// otherwise its Raft role, `leader`, `follower`, `candidate` or `learner`.
    pub role: &'static str,
    /// The member id of the operator whose node leads, if one is known (replicated nodes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leader: Option<String>,
    /// The current Raft term (replicated nodes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term: Option<u64>,
    /// The member ids of the operators whose nodes vote, as this node last
    /// learnt them (replicated nodes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<String>>,
    /// The number of durable records.
    pub size: u64,
    /// The Merkle root of those records (hex).
    pub root: String,
    /// The custody state digest after those records (hex, docs/format.md §14):
    /// nodes, and an audit of the same records, agree on it.
    pub state: String,
    /// Inconsistent checkpoints this node refused to sign since it started,
    /// the latest last: each one means someone presented a history that
    /// contradicts what this node holds or signed.
    pub alarms: Vec<String>,
    /// Attachments that records name but this node does not hold yet (a
    /// consortium node is fetching them from the others), and how many of
    /// the ledger's records the node has read for the attachments they name.
    pub attachments: AttachmentStatus,
}

/// The attachments part of `GET /v1/status`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttachmentStatus {
    /// Named by a record, not held by this node.
    pub missing: u64,
    /// The records read for the attachments they name.
    pub followed: u64,
}

#[utoipa::path(get, path = "/healthz", tag = "node", responses(
    (status = 200, description = "The node and its ledger answer", body = String, content_type = "text/plain"),
    (status = 503, description = "The ledger does not answer, or this consortium node's replication has stopped for good (its operator must read its log)", body = ErrorBody),
))]
/// `GET /healthz`: the process is up, its ledger answers, and on a consortium
/// node its Raft still runs (a node whose Raft stopped serves stale reads for
/// ever: restarting it is what a supervisor should do).
pub async fn healthz(State(node): State<Arc<Node>>) -> Result<&'static str, ApiError> {
    node.ledger(|ledger| Ok(ledger.serving()?)).await?;
    if let Some(consortium) = node.consortium()
        && let Err(stopped) = consortium.replication_running()
    {
        return Err(replication_stopped(&stopped));
    }
    Ok("ok\n")
}

#[utoipa::path(get, path = "/readyz", tag = "node", responses(
    (status = 200, description = "The node takes submissions: its ledger answers and, on a consortium node, its Raft runs and knows a leader", body = String, content_type = "text/plain"),
    (status = 503, description = "Not now: no leader is known yet, or replication has stopped", body = ErrorBody),
))]
/// `GET /readyz`: whether a submission sent now can be committed.
pub async fn readyz(State(node): State<Arc<Node>>) -> Result<&'static str, ApiError> {
    node.ledger(|ledger| Ok(ledger.size())).await?;
    if let Some(consortium) = node.consortium() {
        consortium.replication_running().map_err(|stopped| replication_stopped(&stopped))?;
        if consortium.raft_status().leader.is_none() {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "node.not_ready",
                "this node knows no leader of the consortium yet; try again in a moment",
            ));
        }
    }
    Ok("ready\n")
}

/// The answer of a node whose Raft stopped: the reason goes to the log (once
/// in a while: probes ask every few seconds), not to whoever asks.
fn replication_stopped(reason: &str) -> ApiError {
    static LOGGED: Throttle = Throttle::new(1);
    if let Some(suppressed) = LOGGED.admit() {
        tracing::error!(reason, suppressed, "replication has stopped; restart the node");
    }
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "node.replication_stopped",
        "this node's replication has stopped; its operator must read its log and restart it",
    )
}

#[utoipa::path(get, path = "/v1/status", tag = "node", responses((status = 200, description = "The ledger id, node, role, size and root", body = Status)))]
/// `GET /v1/status`.
pub async fn status(State(node): State<Arc<Node>>) -> Result<Json<Status>, ApiError> {
    let operator = node.checkpoints.operator().member().to_string();
    let (role, leader, term, nodes) = match node.consortium() {
        None => ("standalone", None, None, None),
        Some(consortium) => {
            let raft = consortium.raft_status();
            (raft.role, raft.leader, Some(raft.term), Some(raft.nodes))
        }
    };
    let alarms = node.checkpoints.witness().alarms();
    let attachments = Arc::clone(&node.attachments);
    node.ledger(move |ledger| {
        let missing = attachments.store().missing_count().map_err(|e| ApiError::internal(e.to_string()))?;
        let (size, state) = ledger.durable_state()?;
        let root = ledger.root_at(size)?;
        Ok(Json(Status {
            ledger_id: ledger.ledger_id().to_string(),
            format: ledger.format().into(),
            node: operator,
            role,
            leader,
            term,
            nodes,
            size,
            root: hex::encode(root),
            state: hex::encode(state),
            alarms,
            attachments: AttachmentStatus { missing, followed: attachments.followed_size() },
        }))
    })
    .await
}

/// Any path the API does not serve.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no such resource: {}", uri.path()))
}
