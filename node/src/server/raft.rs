//! `POST /v1/raft/{append,vote,snapshot,propose}`: Raft traffic from the other
//! consortium nodes, each request signed by its operator (see
//! [`crate::replication::auth`]). A standalone node has no such routes' peer
//! and answers 404.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use salvage_ledger::custody::Member;
use serde::de::DeserializeOwned;

use super::proposals::propose_here;
use super::{ApiError, Node};
use crate::replication::auth::{self, AUTH_HEADER};
use crate::replication::{Batch, Raft};

/// How long the operators read from the ledger are trusted before being read
/// again: a revoked operator key is refused at most this long after its revocation.
const OPERATORS_TTL: Duration = Duration::from_secs(1);

/// The consortium's members as last read, for checking Raft requests quickly.
#[derive(Default)]
pub(crate) struct OperatorCache {
    members: std::sync::Mutex<Option<(Instant, Arc<Vec<Member>>)>>,
}

/// `POST /v1/raft/append`.
pub async fn append(
    State(node): State<Arc<Node>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (raft, _, request) = authenticated(&node, &uri, &headers, &body).await?;
    Ok(Json(raft.append_entries(request).await).into_response())
}

/// `POST /v1/raft/vote`.
pub async fn vote(
    State(node): State<Arc<Node>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (raft, _, request) = authenticated(&node, &uri, &headers, &body).await?;
    Ok(Json(raft.vote(request).await).into_response())
}

/// `POST /v1/raft/snapshot`.
pub async fn snapshot(
    State(node): State<Arc<Node>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (raft, _, request) = authenticated(&node, &uri, &headers, &body).await?;
    Ok(Json(raft.install_snapshot(request).await).into_response())
}

/// `POST /v1/raft/propose`: another node's batch of submissions, for the leader to order.
pub async fn propose(
    State(node): State<Arc<Node>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (raft, _, batch): (Raft, String, Batch) = authenticated(&node, &uri, &headers, &body).await?;
    Ok(Json(propose_here(&raft, batch).await?).into_response())
}

/// Checks the request's signature and decodes its body; returns this node's
/// Raft, the sending operator's member id and the message.
pub(crate) async fn authenticated<T: DeserializeOwned>(
    node: &Arc<Node>,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Raft, String, T), ApiError> {
    let Some(replica) = node.replica.as_ref() else {
        return Err(ApiError::not_found("this node runs alone and takes no Raft traffic"));
    };
    let members = operators(node).await?;
    let header = headers.get(AUTH_HEADER).and_then(|value| value.to_str().ok());
    let sender = auth::verify(header, uri.path(), body, &members, SystemTime::now()).map_err(|e| {
        tracing::warn!(error = %e, path = uri.path(), "refused a Raft request");
        ApiError::new(StatusCode::UNAUTHORIZED, "raft.unauthenticated", e.to_string())
    })?;
    let request = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("raft.malformed", format!("the Raft message from {sender} does not decode: {e}"))
    })?;
    Ok((replica.raft.clone(), sender, request))
}

/// The consortium's members, read from the ledger at most once a second.
pub(crate) async fn operators(node: &Arc<Node>) -> Result<Arc<Vec<Member>>, ApiError> {
    if let Ok(cached) = node.operators.members.lock()
        && let Some((read, members)) = cached.as_ref()
        && read.elapsed() < OPERATORS_TTL
    {
        return Ok(Arc::clone(members));
    }
    let members = Arc::new(node.ledger(|ledger| Ok(ledger.members()?)).await?);
    if let Ok(mut cached) = node.operators.members.lock() {
        *cached = Some((Instant::now(), Arc::clone(&members)));
    }
    Ok(members)
}
