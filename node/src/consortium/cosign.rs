//! Cosigned checkpoints on a replicated node.
//!
//! Each node signs the checkpoint of its own ledger and asks the consortium's
//! other nodes to cosign it (C2SP `cosignature/v1`) at `POST
//! /v1/checkpoint/cosign`, a request signed by its operator like Raft traffic.
//! A node cosigns only what its [`Witness`](crate::witness::Witness) admits: a
//! checkpoint of its own history, consistent with the last one it signed. The
//! answers are gathered into the checkpoint the node serves, so a buyer's page
//! and an auditor's bundle show how many of the consortium's nodes vouch for it.
//!
//! [`rounds`] asks every third of a second, only while the checkpoint of the
//! current size lacks a node's cosignature; a node that is behind (it does not
//! hold that many records yet) is asked again in the next round.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use salvage_ledger::checkpoint::{NoteVerifier, SignedCheckpoint};
use salvage_ledger::custody::Member;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use super::Consortium;
use super::callers::{SMALL_BODY_LIMIT, Speaker, operators, receive};
use super::replication::network::PeerConnections;
use crate::server::blocking::on_ledger;
use crate::server::error::ApiError;
use crate::witness::Declined;

/// Where a node takes cosignature requests.
pub(crate) const COSIGN_PATH: &str = "/v1/checkpoint/cosign";

/// How often a node looks for missing cosignatures.
const ROUND: Duration = Duration::from_millis(330);

/// How long a node waits for one cosignature.
const ASK_TIMEOUT: Duration = Duration::from_secs(1);

/// A cosignature request, and its answer: a checkpoint note.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CosignMessage {
    /// The signed note: in a request, signed by the asking node's operator; in
    /// the answer, the same note with the answering node's cosignature added.
    pub note: String,
}

/// `POST /v1/checkpoint/cosign`: another node's checkpoint, to cosign if it is
/// consistent with this node's ledger and what it signed before.
pub async fn cosign(State(consortium): State<Arc<Consortium>>, request: Request) -> Result<Response, ApiError> {
    let call = receive(&consortium, request, SMALL_BODY_LIMIT).await?;
    let request: CosignMessage = call.decode()?;
    call.speaks_as(&consortium, Speaker::Node)?;
    let sender = call.sender.clone();
    let mut note = SignedCheckpoint::parse(&request.note).map_err(|e| {
        ApiError::bad_request("checkpoint.malformed", format!("the checkpoint from {sender} does not parse: {e}"))
    })?;
    let members = operators(&consortium).await?;
    if !note.verify(&verifiers_of(&members, &sender)).signers().contains(&sender) {
        return Err(ApiError::bad_request(
            "checkpoint.unsigned",
            format!("the checkpoint is not signed by {sender}, who asks for the cosignature"),
        ));
    }
    let (checkpoints, checkpoint, from) =
        (Arc::clone(&consortium.checkpoints), note.checkpoint.clone(), sender.clone());
    on_ledger(&consortium.ledger, move |ledger| {
        checkpoints.witness().admit(ledger, &checkpoint, &from).map_err(refused)
    })
    .await?;
    let signer = consortium.checkpoints.note_signer();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or_default();
    note.add_cosignature(&signer, now).map_err(|e| ApiError::internal(format!("cannot cosign: {e}")))?;
    call.answer(&consortium, &CosignMessage { note: note.to_note() })
}

/// Asks for missing cosignatures until the node stops.
pub(crate) async fn rounds(consortium: Arc<Consortium>) {
    let peers = PeerConnections::new(consortium.replica.signer.clone(), Arc::clone(&consortium.replica.roster));
    loop {
        tokio::time::sleep(ROUND).await;
        if let Err(error) = round(&consortium, &peers).await {
            tracing::debug!(?error, "no cosignatures gathered in this round");
        }
    }
}

/// Asks each node whose cosignature the current checkpoint lacks, and keeps
/// the checkpoint with every cosignature that came back and verifies.
async fn round(consortium: &Consortium, peers: &PeerConnections) -> Result<(), ApiError> {
    let nodes = consortium.group_nodes();
    let current = consortium.checkpoints.current().await?;
    let operator = consortium.checkpoints.operator().member().as_str();
    let have: BTreeSet<&str> = current.signatures.iter().map(|signature| signature.name.as_str()).collect();
    let missing: Vec<_> =
        nodes.into_iter().filter(|peer| peer.member != operator && !have.contains(peer.member.as_str())).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let body = serde_json::to_vec(&CosignMessage { note: current.to_note() })
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let mut asks = JoinSet::new();
    for peer in missing {
        let (body, peers) = (body.clone(), peers.clone());
        asks.spawn(async move {
            let answer = tokio::time::timeout(ASK_TIMEOUT, peers.post(&peer, COSIGN_PATH, body)).await;
            (peer, answer)
        });
    }
    let members = operators(consortium).await?;
    let mut cosigned = (*current).clone();
    while let Some(Ok((peer, answer))) = asks.join_next().await {
        let answer = match answer {
            Ok(Ok((status, answer))) if status == StatusCode::OK => answer,
            Ok(Ok((status, answer))) => {
                tracing::debug!(peer = %peer, %status, answer = %String::from_utf8_lossy(&answer[..answer.len().min(300)]), "no cosignature");
                continue;
            }
            Ok(Err(error)) => {
                tracing::debug!(peer = %peer, %error, "no cosignature");
                continue;
            }
            Err(_) => continue,
        };
        let Ok(message) = serde_json::from_slice::<CosignMessage>(&answer) else { continue };
        let Ok(returned) = SignedCheckpoint::parse(&message.note) else { continue };
        if returned.checkpoint != cosigned.checkpoint {
            continue;
        }
        // Only the peer's own cosignature is taken, and only if it verifies.
        let verifiers = verifiers_of(&members, &peer.member);
        for signature in returned
            .signatures
            .into_iter()
            .filter(|signature| signature.name == peer.member && signature.timestamp.is_some())
        {
            let alone =
                SignedCheckpoint { checkpoint: cosigned.checkpoint.clone(), signatures: vec![signature.clone()] };
            if alone.verify(&verifiers).signers() == [peer.member.clone()] {
                cosigned.signatures.push(signature);
            }
        }
    }
    consortium.checkpoints.keep(Arc::new(cosigned));
    Ok(())
}

/// The checkpoint verifiers (signatures and cosignatures) of operator `member`.
fn verifiers_of(members: &[Member], member: &str) -> Vec<NoteVerifier> {
    members.iter().filter(|m| m.id.as_str() == member).flat_map(Member::checkpoint_verifiers).collect()
}

/// The answer to a checkpoint the witness would not sign.
fn refused(declined: Declined) -> ApiError {
    let code = match &declined {
        Declined::OtherLog { .. } => "checkpoint.other_log",
        Declined::Ahead { .. } => "checkpoint.ahead",
        Declined::Older { .. } => "checkpoint.older",
        Declined::Inconsistent(_) => "checkpoint.inconsistent",
        _ => return ApiError::internal(declined.to_string()),
    };
    ApiError::new(StatusCode::CONFLICT, code, declined.to_string())
}
