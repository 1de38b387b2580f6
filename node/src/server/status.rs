//! `GET /healthz`, `GET /v1/status` and the answer to unknown paths.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use serde::Serialize;

use super::{ApiError, Node};

/// What `GET /v1/status` reports.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Status {
    /// The ledger id (hex).
    pub ledger_id: String,
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
    /// Inconsistent checkpoints this node refused to sign since it started,
    /// the latest last: each one means someone presented a history that
    /// contradicts what this node holds or signed.
    pub alarms: Vec<String>,
}

#[utoipa::path(get, path = "/healthz", tag = "node", responses((status = 200, description = "The node and its ledger answer", body = String, content_type = "text/plain")))]
/// `GET /healthz`: the process is up and its ledger answers.
pub async fn healthz(State(node): State<Arc<Node>>) -> Result<&'static str, ApiError> {
    node.ledger(|ledger| Ok(ledger.size())).await?;
    Ok("ok\n")
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
    node.ledger(move |ledger| {
        let size = ledger.size();
        let root = ledger.root_at(size)?;
        Ok(Json(Status {
            ledger_id: ledger.ledger_id().to_string(),
            node: operator,
            role,
            leader,
            term,
            nodes,
            size,
            root: hex::encode(root),
            alarms,
        }))
    })
    .await
}

/// Any path the API does not serve.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no such resource: {}", uri.path()))
}
