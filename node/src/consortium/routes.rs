//! `POST /v1/raft/{append,vote,snapshot,propose}` and `POST
//! /v1/checkpoint/cosign`: what the other consortium nodes send, each request
//! signed by its operator and authenticated before its body is read, each
//! answer signed (see [`super::callers`]). Only a consortium node has these
//! routes; a standalone node answers 404 without reading the body.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::post;
use openraft::raft::{AppendEntriesRequest, InstallSnapshotRequest, VoteRequest};

use super::callers::{SMALL_BODY_LIMIT, Speaker, receive};
use super::cosign::{self, COSIGN_PATH};
use super::proposals::{PROPOSE_PATH, propose_here};
use super::replication::network::{APPEND_PATH, SNAPSHOT_PATH, VOTE_PATH};
use super::replication::{Batch, NodeId, TypeConfig, log_store};
use super::{Consortium, attachments};
use crate::server::error::ApiError;

/// The largest Raft message a node takes: a few batches of submissions, or a
/// snapshot chunk, with room to spare.
pub(crate) const RAFT_BODY_LIMIT: usize = 64 * 1024 * 1024;

// Every entry a peer can send must fit a frame of the Raft log.
const _: () = assert!(RAFT_BODY_LIMIT <= log_store::MAX_ENTRY_BYTES);

/// The routes of a consortium node's peers.
pub(crate) fn router(consortium: Arc<Consortium>) -> Router {
    Router::new()
        .route(APPEND_PATH, post(append))
        .route(VOTE_PATH, post(vote))
        .route(SNAPSHOT_PATH, post(snapshot))
        .route(PROPOSE_PATH, post(propose))
        .route(COSIGN_PATH, post(cosign::cosign))
        .route(attachments::ATTACHMENT_PATH, post(attachments::hand_out))
        .with_state(consortium)
}

/// `POST /v1/raft/append`: from the leader.
pub async fn append(State(consortium): State<Arc<Consortium>>, request: Request) -> Result<Response, ApiError> {
    let call = receive(&consortium, request, RAFT_BODY_LIMIT).await?;
    let message: AppendEntriesRequest<TypeConfig> = call.decode()?;
    call.speaks_as(&consortium, Speaker::Leader(leader(&message.vote)))?;
    call.answer(&consortium, &consortium.replica.raft.append_entries(message).await)
}

/// `POST /v1/raft/vote`: from a candidate.
pub async fn vote(State(consortium): State<Arc<Consortium>>, request: Request) -> Result<Response, ApiError> {
    let call = receive(&consortium, request, SMALL_BODY_LIMIT).await?;
    let message: VoteRequest<NodeId> = call.decode()?;
    call.speaks_as(&consortium, Speaker::Candidate(leader(&message.vote)))?;
    call.answer(&consortium, &consortium.replica.raft.vote(message).await)
}

/// `POST /v1/raft/snapshot`: a chunk of the leader's snapshot.
pub async fn snapshot(State(consortium): State<Arc<Consortium>>, request: Request) -> Result<Response, ApiError> {
    let call = receive(&consortium, request, RAFT_BODY_LIMIT).await?;
    let message: InstallSnapshotRequest<TypeConfig> = call.decode()?;
    call.speaks_as(&consortium, Speaker::Leader(leader(&message.vote)))?;
    call.answer(&consortium, &consortium.replica.raft.install_snapshot(message).await)
}

/// `POST /v1/raft/propose`: another node's batch of submissions, for the leader to order.
pub async fn propose(State(consortium): State<Arc<Consortium>>, request: Request) -> Result<Response, ApiError> {
    let call = receive(&consortium, request, RAFT_BODY_LIMIT).await?;
    let batch: Batch = call.decode()?;
    call.speaks_as(&consortium, Speaker::Node)?;
    call.answer(&consortium, &propose_here(&consortium.replica.raft, batch).await?)
}

/// The node a vote names: the candidate asking for it, or the leader holding it.
fn leader(vote: &openraft::Vote<NodeId>) -> NodeId {
    vote.leader_id().node_id
}
