//! What a node does only as one of a consortium's nodes: the wing that
//! [`crate::run`] attaches when peers are configured, and nothing else needs.
//!
//! A standalone node commits submissions itself and has none of this: no Raft,
//! no `/v1/raft/*` or `/v1/checkpoint/cosign` routes (they answer 404, the body
//! unread), no cosigning task. A consortium node has a [`Consortium`]:
//!
//! - [`replication`]: Raft (openraft) over the ledger: its log store, the
//!   ledger as its state machine, membership changes, the signed HTTP transport.
//! - `proposals`: submissions gathered into batches and proposed to Raft
//!   (a follower forwards them to the leader).
//! - `routes`: the routes the other nodes call, each request signed by their
//!   operator and checked by `callers`.
//! - `cosign`: asking the other nodes to cosign this node's checkpoint, and
//!   cosigning theirs after this node's witness admits them.
//!
//! The HTTP server knows the wing only through this file: it hands
//! submissions to `Consortium::submit`, shows [`Consortium::raft_status`] in
//! `GET /v1/status` and merges `Consortium::routes` into its router.

pub(crate) mod attachments;
mod callers;
pub(crate) mod cosign;
pub(crate) mod proposals;
pub mod replication;
pub(crate) mod routes;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use axum::Router;
use salvage_ledger::store::Ledger;
use serde_json::value::RawValue;
use tokio::task::JoinHandle;

use crate::server::checkpoints::Checkpoints;
use crate::server::commits::Outcomes;
use crate::server::error::ApiError;
use proposals::ProposalQueue;
use replication::auth::{RequestSigner, SeenNonces};
use replication::network::PeerConnections;
use replication::{ConsortiumNode, Replica, ReplicationError};

/// A node's part in its consortium: its Raft, its proposals, its cosigning.
pub struct Consortium {
    ledger: Arc<Ledger>,
    replica: Replica,
    proposals: ProposalQueue,
    checkpoints: Arc<Checkpoints>,
    // The requests from other nodes accepted lately, so none is accepted twice.
    seen: SeenNonces,
    // Set once, right after the wing is made: the task holds the wing itself.
    cosigning: OnceLock<JoinHandle<()>>,
    /// The attachment store, whose missing files this node fetches from the others.
    attachments: Arc<crate::attachments::Attachments>,
    fetching: OnceLock<JoinHandle<()>>,
}

/// How a consortium node reaches the others and joins them.
pub struct Peers {
    /// The consortium's nodes, this one included.
    pub nodes: Vec<ConsortiumNode>,
    /// Wait to be brought in by the leader (after the admins' `node.add`)
    /// rather than proposing `nodes` as the first membership.
    pub join: bool,
}

/// The state of this node's Raft, for `GET /v1/status`.
pub struct RaftStatus {
    /// `leader`, `follower`, `candidate`, `learner` or `shutdown`.
    pub role: &'static str,
    /// The member id of the operator whose node leads, if one is known.
    pub leader: Option<String>,
    /// The current term.
    pub term: u64,
    /// The member ids of the operators whose nodes vote, sorted.
    pub nodes: Vec<String>,
}

impl Consortium {
    /// Starts Raft over `ledger` (its files in `raft_dir`), the proposal queue
    /// and the cosigning rounds. Must be called within the tokio runtime that
    /// will serve the node.
    pub(crate) async fn start(
        ledger: Arc<Ledger>,
        checkpoints: Arc<Checkpoints>,
        raft_dir: &Path,
        peers: Peers,
        attachments: Arc<crate::attachments::Attachments>,
    ) -> Result<Arc<Consortium>, ReplicationError> {
        let operator = checkpoints.operator();
        let signer = RequestSigner::new(operator.member().as_str().to_owned(), operator.signing_key().clone());
        let replica = replication::start(Arc::clone(&ledger), raft_dir, signer, peers.nodes, peers.join).await?;
        tracing::info!(raft_id = replica.id, "replicating with the consortium's other nodes");
        let forwarding = PeerConnections::new(replica.signer.clone(), Arc::clone(&replica.roster));
        let proposals = ProposalQueue::start(replica.raft.clone(), forwarding);
        let consortium = Arc::new(Consortium {
            ledger,
            replica,
            proposals,
            checkpoints,
            seen: SeenNonces::default(),
            cosigning: OnceLock::new(),
            attachments,
            fetching: OnceLock::new(),
        });
        let _ = consortium.cosigning.set(tokio::spawn(cosign::rounds(Arc::clone(&consortium))));
        let _ = consortium.fetching.set(tokio::spawn(attachments::fetch_missing(Arc::clone(&consortium))));
        Ok(consortium)
    }

    /// The routes the other nodes call: Raft's messages, forwarded
    /// proposals and cosignature requests.
    pub(crate) fn routes(self: &Arc<Self>) -> Router {
        routes::router(Arc::clone(self))
    }

    /// Proposes `entries`, each its canonical JSON, and waits for their
    /// outcomes once a quorum committed them and this node applied them.
    pub(crate) async fn submit(&self, entries: Vec<Box<RawValue>>) -> Result<Outcomes, ApiError> {
        self.proposals.submit(entries).await
    }

    /// The nodes of this node's Raft group as it last learnt them, this one included.
    pub(crate) fn group_nodes(&self) -> Vec<ConsortiumNode> {
        self.replica
            .raft
            .metrics()
            .borrow()
            .membership_config
            .membership()
            .nodes()
            .map(|(_, node)| node.clone())
            .collect()
    }

    /// Fetches from the other nodes the files in `digests` this node lacks, so
    /// that a file uploaded to one node can be named in a submission to another;
    /// returns how many it now holds.
    pub(crate) async fn fetch_attachments(&self, digests: &[salvage_ledger::attachment::AttachmentDigest]) -> usize {
        let peers = PeerConnections::new(self.replica.signer.clone(), Arc::clone(&self.replica.roster));
        let mut fetched = 0;
        for digest in digests {
            fetched += usize::from(attachments::fetch(self, &peers, *digest).await);
        }
        fetched
    }

    /// This node's Raft role, the leader, the term and the voting nodes.
    pub fn raft_status(&self) -> RaftStatus {
        let metrics = self.replica.raft.metrics().borrow().clone();
        let role = match metrics.state {
            openraft::ServerState::Leader => "leader",
            openraft::ServerState::Follower => "follower",
            openraft::ServerState::Candidate => "candidate",
            openraft::ServerState::Learner => "learner",
            openraft::ServerState::Shutdown => "shutdown",
        };
        let membership = metrics.membership_config.membership();
        let leader = metrics.current_leader.and_then(|id| membership.get_node(&id).map(|node| node.member.clone()));
        let mut nodes: Vec<String> =
            membership.voter_ids().filter_map(|id| membership.get_node(&id).map(|node| node.member.clone())).collect();
        nodes.sort();
        RaftStatus { role, leader, term: metrics.current_term, nodes }
    }

    /// Whether this node's Raft still runs; if not, why it stopped.
    pub fn replication_running(&self) -> Result<(), String> {
        let metrics = self.replica.raft.metrics().borrow().clone();
        match (&metrics.running_state, metrics.state) {
            (Err(fatal), _) => Err(fatal.to_string()),
            (Ok(()), openraft::ServerState::Shutdown) => Err("Raft has shut down".to_owned()),
            (Ok(()), _) => Ok(()),
        }
    }

    /// Stops cosigning and Raft's tasks, so that nothing writes to the ledger
    /// or the Raft log after this.
    pub(crate) async fn stop(&self) {
        if let Some(rounds) = self.cosigning.get() {
            rounds.abort();
        }
        if let Some(fetching) = self.fetching.get() {
            fetching.abort();
        }
        if let Err(error) = self.replica.raft.shutdown().await {
            tracing::warn!(%error, "Raft did not stop cleanly");
        }
    }
}
