//! Submissions on a replicated node: proposed to Raft in batches.
//!
//! Requests' entries are gathered into one [`Batch`] while the batches before
//! are being replicated, up to [`MAX_BATCH`] entries and [`MAX_BATCH_BYTES`]
//! bytes (a batch holds at least one entry, whatever its size), and proposed with
//! `client_write`; the answer comes once the batch is committed by a quorum
//! and applied (and durable) on this node. A node that is not the leader
//! sends the batch to the leader's `/v1/raft/propose`, signed as Raft traffic
//! is, then waits until it has applied the batch itself, so that a client
//! reading from the node it wrote to sees its own entries.

use std::sync::Arc;
use std::time::Duration;

use hyper::StatusCode;
use openraft::error::{ClientWriteError, RaftError};
use salvage_ledger::entry::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::replication::network::PeerConnections;
use super::replication::{Batch, BatchOutcome, ConsortiumNode, Raft};
use crate::server::commits::Outcomes;
use crate::server::error::ApiError;
use crate::server::request_id;
use crate::throttle::Throttle;

/// The most entries proposed in one batch (and in one request's part).
pub(crate) const MAX_BATCH: usize = 256;

/// The most bytes of entries proposed in one batch, unless one entry alone is
/// larger. openraft sends `max_payload_entries` (2) batches per AppendEntries
/// and expects each to be sent, fsynced and answered within one heartbeat
/// interval (150 ms): a count alone would let a few large entries make one
/// message of hundreds of megabytes, time out, and depose the leader.
pub(crate) const MAX_BATCH_BYTES: usize = 512 * 1024;

/// How many batches may be in Raft at once.
const IN_FLIGHT: usize = 2;

/// How long a node waits to apply a batch the leader committed for it.
const APPLY_WAIT: Duration = Duration::from_secs(10);

/// How long a node waits for the leader to answer a forwarded batch: a leader
/// that hangs (stopped, or cut off without a reset) must not hold the
/// submitters for ever. They submit again; entries already recorded get their
/// original receipts.
const FORWARD_WAIT: Duration = Duration::from_secs(10);

/// The path where the leader takes batches from the other nodes.
pub(crate) const PROPOSE_PATH: &str = "/v1/raft/propose";

/// The queue of submissions to propose.
pub(crate) struct ProposalQueue {
    queue: mpsc::UnboundedSender<Proposal>,
}

/// What the leader answers to a proposed batch.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Proposed {
    /// The Raft log index of the batch.
    pub log_index: u64,
    /// Each entry's outcome.
    pub outcome: BatchOutcome,
}

struct Proposal {
    entries: Vec<Box<RawValue>>,
    answer: oneshot::Sender<Result<Outcomes, ApiError>>,
}

impl ProposalQueue {
    /// Starts proposing to `raft`, forwarding batches to the leader over `forwarding`.
    pub fn start(raft: Raft, forwarding: PeerConnections) -> ProposalQueue {
        let (queue, proposals) = mpsc::unbounded_channel();
        let forwarding = Arc::new(forwarding);
        tokio::spawn(propose_loop(raft, forwarding, proposals));
        ProposalQueue { queue }
    }

    /// Proposes `entries`, each its canonical JSON, and waits for their
    /// outcomes. The bytes are proposed as they are: every node decodes and
    /// judges them when it applies the batch, and refuses there, in its place,
    /// whatever is no signed entry. A request of more than [`MAX_BATCH`]
    /// entries (or [`MAX_BATCH_BYTES`]) is proposed as several batches, one after the other, so that no
    /// Raft message outgrows what a follower takes within one heartbeat; its
    /// entries keep their order.
    pub async fn submit(&self, mut entries: Vec<Box<RawValue>>) -> Result<Outcomes, ApiError> {
        let mut outcomes = Outcomes::with_capacity(entries.len());
        while !entries.is_empty() {
            let rest = entries.split_off(part_len(&entries));
            let (answer, outcome) = oneshot::channel();
            self.queue
                .send(Proposal { entries, answer })
                .map_err(|_| ApiError::internal("the node is shutting down and takes no more submissions"))?;
            outcomes
                .extend(outcome.await.map_err(|_| ApiError::internal("the proposing task stopped before answering"))??);
            entries = rest;
        }
        Ok(outcomes)
    }
}

/// How many of `entries` go into the next part of a request: at most
/// [`MAX_BATCH`] entries and [`MAX_BATCH_BYTES`] bytes, and at least one.
fn part_len(entries: &[Box<RawValue>]) -> usize {
    let mut bytes = 0;
    let fitting = entries
        .iter()
        .take(MAX_BATCH)
        .take_while(|entry| {
            bytes += entry.get().len() + 1;
            bytes <= MAX_BATCH_BYTES
        })
        .count();
    fitting.max(1).min(entries.len())
}

/// The bytes `entries` take in a batch's JSON.
fn json_len(entries: &[Box<RawValue>]) -> usize {
    entries.iter().map(|entry| entry.get().len() + 1).sum()
}

/// Proposes `batch` on this node's Raft: it must be the leader. Used by the
/// leader's `/v1/raft/propose`. The leader fixes the batch's time with its own
/// clock, whatever the forwarding node's said.
pub(crate) async fn propose_here(raft: &Raft, mut batch: Batch) -> Result<Proposed, ApiError> {
    batch.accepted = Timestamp::now();
    match raft.client_write(batch).await {
        Ok(written) => Ok(Proposed { log_index: written.log_id.index, outcome: written.data }),
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_))) => {
            Err(unavailable("this node is no longer the leader; submit again"))
        }
        Err(error) => Err(unavailable_because(NOT_COMMITTED, &error)),
    }
}

async fn propose_loop(raft: Raft, forwarding: Arc<PeerConnections>, mut proposals: mpsc::UnboundedReceiver<Proposal>) {
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    // A proposal that would have overfilled the last batch starts the next one.
    let mut held: Option<Proposal> = None;
    loop {
        let first = match held.take() {
            Some(proposal) => proposal,
            None => match proposals.recv().await {
                Some(proposal) => proposal,
                None => return,
            },
        };
        let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await else {
            return;
        };
        // Everything that queued while the batches before were in Raft goes together.
        let mut count = first.entries.len();
        let mut bytes = json_len(&first.entries);
        let mut gathered = vec![first];
        while count < MAX_BATCH && bytes < MAX_BATCH_BYTES {
            match proposals.try_recv() {
                Ok(next)
                    if count + next.entries.len() > MAX_BATCH || bytes + json_len(&next.entries) > MAX_BATCH_BYTES =>
                {
                    held = Some(next);
                    break;
                }
                Ok(next) => {
                    count += next.entries.len();
                    bytes += json_len(&next.entries);
                    gathered.push(next);
                }
                Err(_) => break,
            }
        }
        let (raft, forwarding) = (raft.clone(), Arc::clone(&forwarding));
        tokio::spawn(async move {
            let mut sizes = Vec::with_capacity(gathered.len());
            let mut entries = Vec::with_capacity(count);
            let mut answers = Vec::with_capacity(gathered.len());
            for proposal in gathered {
                sizes.push(proposal.entries.len());
                entries.extend(proposal.entries);
                answers.push(proposal.answer);
            }
            let result =
                propose(&raft, &forwarding, Batch { accepted: Timestamp::now(), entries: entries.into() }).await;
            drop(permit);
            match result {
                Ok(outcome) => {
                    let mut outcomes = outcome.outcomes.into_iter().map(Into::into);
                    for (answer, size) in answers.into_iter().zip(sizes) {
                        let _ = answer.send(Ok(outcomes.by_ref().take(size).collect()));
                    }
                }
                Err(error) => {
                    for answer in answers {
                        let _ = answer.send(Err(error.clone()));
                    }
                }
            }
        });
    }
}

/// Proposes a batch here if this node leads, or at the leader if not.
async fn propose(raft: &Raft, forwarding: &PeerConnections, batch: Batch) -> Result<BatchOutcome, ApiError> {
    let leader = match raft.client_write(batch.clone()).await {
        Ok(written) => return Ok(written.data),
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(forward))) => forward.leader_node,
        Err(error) => return Err(unavailable_because(NOT_COMMITTED, &error)),
    };
    let Some(leader) = leader else {
        return Err(unavailable("the consortium's nodes have not elected a leader yet; submit again in a moment"));
    };
    let proposed = forward(&leader, forwarding, &batch).await?;
    // Answer only once this node holds the records too.
    raft.wait(Some(APPLY_WAIT)).applied_index_at_least(Some(proposed.log_index), "a forwarded batch").await.map_err(
        |e| {
            let message = "the consortium committed the entries but this node has not applied them yet; \
                read them back in a moment, or submit again (an entry is recorded once)";
            unavailable_because(message, &e)
        },
    )?;
    Ok(proposed.outcome)
}

/// Sends a batch to the leader's `/v1/raft/propose`.
async fn forward(leader: &ConsortiumNode, forwarding: &PeerConnections, batch: &Batch) -> Result<Proposed, ApiError> {
    let failed = |e: &dyn std::fmt::Display| {
        let message = "the consortium's leader could not take the entries; submit again in a moment";
        unavailable_because(message, &format!("forwarding to the leader {leader}: {e}"))
    };
    let mut body = Vec::with_capacity(batch.json_len_hint());
    serde_json::to_writer(&mut body, batch).map_err(|e| failed(&e))?;
    let posted = forwarding.post(leader, PROPOSE_PATH, body);
    let (status, answer) = tokio::time::timeout(FORWARD_WAIT, posted)
        .await
        .map_err(|_| failed(&format!("no answer within {} s; submit again", FORWARD_WAIT.as_secs())))?
        .map_err(|e| failed(&e))?;
    if status != StatusCode::OK {
        return Err(failed(&format!(
            "it answered {status}: {}",
            String::from_utf8_lossy(&answer[..answer.len().min(300)])
        )));
    }
    serde_json::from_slice(&answer).map_err(|e| failed(&e))
}

/// The answer when the consortium did not commit a batch.
const NOT_COMMITTED: &str = "the consortium did not commit the entries; submit again in a moment";

fn unavailable(message: &str) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "node.unavailable", message)
}

/// A 503 whose cause goes to the log, not to the client, who may be anyone:
/// it names the other nodes, their addresses and Raft's insides.
fn unavailable_because(message: &str, cause: &dyn std::fmt::Display) -> ApiError {
    static LOGGED: Throttle = Throttle::new(5);
    if let Some(suppressed) = LOGGED.admit() {
        let request = request_id::current().unwrap_or_default();
        tracing::warn!(request, %cause, suppressed, "a submission was answered 503");
    }
    unavailable(message)
}
