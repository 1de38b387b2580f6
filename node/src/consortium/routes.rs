//! `POST /v1/raft/{append,vote,snapshot,propose}` and `POST
//! /v1/checkpoint/cosign`: what the other consortium nodes send, each request
//! signed by its operator (see [`super::replication::auth`]). Only a consortium
//! node has these routes; a standalone node answers 404 without reading the body.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use super::Consortium;
use super::callers::authenticated;
use super::cosign::{self, COSIGN_PATH};
use super::proposals::{PROPOSE_PATH, propose_here};
use super::replication::{Batch, Raft, log_store};
use crate::server::error::ApiError;

/// The largest Raft message a node takes: a few batches of submissions, or a
/// snapshot chunk, with room to spare.
pub(crate) const RAFT_BODY_LIMIT: usize = 64 * 1024 * 1024;

// Every entry a peer can send must fit a frame of the Raft log.
const _: () = assert!(RAFT_BODY_LIMIT <= log_store::MAX_ENTRY_BYTES);

/// The routes of a consortium node's peers.
pub(crate) fn router(consortium: Arc<Consortium>) -> Router {
    Router::new()
        .route("/v1/raft/append", post(append).layer(DefaultBodyLimit::max(RAFT_BODY_LIMIT)))
        .route("/v1/raft/vote", post(vote))
        .route("/v1/raft/snapshot", post(snapshot).layer(DefaultBodyLimit::max(RAFT_BODY_LIMIT)))
        .route(PROPOSE_PATH, post(propose).layer(DefaultBodyLimit::max(RAFT_BODY_LIMIT)))
        .route(COSIGN_PATH, post(cosign::cosign))
        .with_state(consortium)
}

/// `POST /v1/raft/append`.
pub async fn append(
    State(consortium): State<Arc<Consortium>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (raft, _, request) = authenticated(&consortium, &uri, &headers, &body).await?;
    Ok(Json(raft.append_entries(request).await).into_response())
}

/// `POST /v1/raft/vote`.
pub async fn vote(
    State(consortium): State<Arc<Consortium>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (raft, _, request) = authenticated(&consortium, &uri, &headers, &body).await?;
    Ok(Json(raft.vote(request).await).into_response())
}

/// `POST /v1/raft/snapshot`.
pub async fn snapshot(
    State(consortium): State<Arc<Consortium>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (raft, _, request) = authenticated(&consortium, &uri, &headers, &body).await?;
    Ok(Json(raft.install_snapshot(request).await).into_response())
}

/// `POST /v1/raft/propose`: another node's batch of submissions, for the leader to order.
pub async fn propose(
    State(consortium): State<Arc<Consortium>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (raft, _, batch): (Raft, String, Batch) = authenticated(&consortium, &uri, &headers, &body).await?;
    Ok(Json(propose_here(&raft, batch).await?).into_response())
}
