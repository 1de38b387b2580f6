//! Who may call a consortium node's peer routes, and how they are answered.
//!
//! A request is authenticated from its `Salvage-Raft-Auth` header before its
//! body is read ([`receive`]): it must be signed by an operator of the
//! consortium, for this node, fresh and never seen before. Raft's messages
//! must then come from the node they claim to (the leader or candidate id in
//! the message), a member of this node's Raft group ([`speaks_as`]). A `200`
//! answer is signed by this node's operator, bound to the request ([`Call::answer`]).

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use salvage_ledger::custody::Member;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Consortium;
use super::replication::auth::{ANSWER_HEADER, AUTH_HEADER, AuthError, Claim};
use super::replication::{NodeId, node_id};
use crate::server::error::ApiError;
use crate::throttle::Throttle;

/// The largest vote or cosignature request: a few hundred bytes, or a
/// checkpoint note with one signature per node.
pub(crate) const SMALL_BODY_LIMIT: usize = 64 * 1024;

/// An authenticated request from another node: who sent it, to which path, and its body.
pub(crate) struct Call {
    /// The sending operator's member id.
    pub sender: String,
    claim: Claim,
    path: String,
    body: Bytes,
}

/// Who a Raft message says sent it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Speaker {
    /// A candidate asking for a vote: must be a voter.
    Candidate(NodeId),
    /// A leader appending entries or sending a snapshot: must be a node of
    /// the group, or one this node has not heard of yet (a node that fell
    /// behind cannot know the nodes added since), never one it saw removed.
    Leader(NodeId),
    /// A node forwarding submissions or asking for a cosignature: must be a node of the group.
    Node,
}

/// Authenticates the request from its headers, then reads its body (at most
/// `limit` bytes) and checks it against the header.
pub(crate) async fn receive(consortium: &Consortium, request: Request, limit: usize) -> Result<Call, ApiError> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let header = parts.headers.get(AUTH_HEADER).and_then(|value| value.to_str().ok());
    let claim = Claim::parse(header).map_err(|e| unauthenticated(&path, &e))?;
    let members = operators(consortium).await?;
    claim
        .verify(&path, consortium.replica.signer.member(), &members, &consortium.seen, SystemTime::now())
        .map_err(|e| unauthenticated(&path, &e))?;
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large(limit));
    }
    let body = axum::body::to_bytes(body, limit).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|source| source.is::<http_body_util::LengthLimitError>()) {
            too_large(limit)
        } else {
            ApiError::bad_request("raft.body", format!("the request's body could not be read: {e}"))
        }
    })?;
    claim.check_body(&body).map_err(|e| unauthenticated(&path, &e))?;
    consortium.seen.note(&claim, Instant::now()).map_err(|e| unauthenticated(&path, &e))?;
    Ok(Call { sender: claim.sender.clone(), claim, path, body })
}

impl Call {
    /// The body, decoded as JSON.
    pub(crate) fn decode<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ApiError::bad_request("raft.malformed", format!("the message from {} does not decode: {e}", self.sender))
        })
    }

    /// `answer` as a `200` JSON answer, signed by this node's operator as the answer to this call.
    pub(crate) fn answer<T: Serialize>(&self, consortium: &Consortium, answer: &T) -> Result<Response, ApiError> {
        let body = serde_json::to_vec(answer).map_err(|e| ApiError::internal(format!("encoding an answer: {e}")))?;
        self.answer_bytes(consortium, body, "application/json")
    }

    /// `body` as a `200` answer of `content_type`, signed like [`Call::answer`].
    pub(crate) fn answer_bytes(
        &self,
        consortium: &Consortium,
        body: Vec<u8>,
        content_type: &'static str,
    ) -> Result<Response, ApiError> {
        let signature = consortium.replica.signer.sign_answer(&self.claim, &self.path, &body);
        let signature =
            HeaderValue::from_str(&signature).map_err(|e| ApiError::internal(format!("signing an answer: {e}")))?;
        let mut response = Body::from(body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(ANSWER_HEADER, signature);
        Ok(response)
    }

    /// Checks that the sender is the node the message names, and may say it.
    pub(crate) fn speaks_as(&self, consortium: &Consortium, speaker: Speaker) -> Result<(), ApiError> {
        let sender = node_id(&self.sender);
        let claimed = match speaker {
            Speaker::Candidate(id) | Speaker::Leader(id) => id,
            Speaker::Node => sender,
        };
        if claimed != sender {
            return Err(forbidden(format!(
                "the message names Raft node {claimed} as its sender, but is signed by {}, whose node is {sender}",
                self.sender
            )));
        }
        // Only the membership, an `Arc`: this runs for every heartbeat.
        let membership = Arc::clone(&consortium.replica.raft.metrics().borrow().membership_config);
        let membership = membership.membership();
        // A node that has not joined yet knows no group: its leader is whoever
        // the consortium's operators bring it in with.
        if membership.nodes().next().is_none() {
            return Ok(());
        }
        let allowed = match speaker {
            Speaker::Candidate(_) => membership.voter_ids().any(|id| id == sender),
            Speaker::Node => membership.get_node(&sender).is_some(),
            Speaker::Leader(_) => {
                membership.get_node(&sender).is_some() || !consortium.replica.requests.removed(&self.sender)
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(forbidden(format!("{}'s node is not a member of this node's Raft group", self.sender)))
        }
    }
}

/// The consortium's members, read from the ledger at most once a second.
pub(crate) async fn operators(consortium: &Consortium) -> Result<Arc<Vec<Member>>, ApiError> {
    consortium.replica.roster.members().await.map_err(ApiError::internal)
}

fn unauthenticated(path: &str, error: &AuthError) -> ApiError {
    // Anyone can send these: the log gets a bounded number of lines.
    static LOGGED: Throttle = Throttle::new(5);
    if let Some(suppressed) = LOGGED.admit() {
        tracing::warn!(%error, path, suppressed, "refused a Raft request");
    }
    ApiError::new(StatusCode::UNAUTHORIZED, "raft.unauthenticated", error.to_string())
}

fn forbidden(message: String) -> ApiError {
    static LOGGED: Throttle = Throttle::new(5);
    if let Some(suppressed) = LOGGED.admit() {
        tracing::warn!(%message, suppressed, "refused a Raft message from a node not entitled to send it");
    }
    ApiError::new(StatusCode::FORBIDDEN, "raft.forbidden", message)
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "raft.too_large",
        format!("a message to this route may take at most {limit} bytes"),
    )
}
