//! Starting a node's Raft: its store, its state machine, its network, and the
//! consortium's first membership.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::{Config, SnapshotPolicy};
use salvage_ledger::store::Ledger;

use super::auth::RequestSigner;
use super::log_store::{LogStore, LogStoreError};
use super::membership::NodeRequests;
use super::network::Network;
use super::roster::Roster;
use super::state_machine::{LedgerMachine, MachineError};
use super::{ConsortiumNode, NodeId, Raft, membership, node_id};

/// A node's part in its consortium's Raft.
pub struct Replica {
    /// The running Raft instance.
    pub raft: Raft,
    /// This node's Raft id.
    pub id: NodeId,
    /// Signs the Raft traffic and forwarded submissions this node sends.
    pub signer: RequestSigner,
    /// The consortium's members, whose keys sign the other nodes' traffic.
    pub roster: Arc<Roster>,
    /// The last `node.add` or `node.remove` applied per operator.
    pub requests: NodeRequests,
}

/// Why a node's Raft could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplicationError {
    /// The Raft log store could not be opened.
    #[error("opening the Raft log in {path}: {source}")]
    Log {
        /// Its directory.
        path: PathBuf,
        /// Why.
        source: LogStoreError,
    },
    /// The state machine's bookkeeping could not be read or disagrees with the ledger.
    #[error(transparent)]
    Machine(#[from] MachineError),
    /// openraft refused its configuration or failed to start.
    #[error("starting Raft: {0}")]
    Raft(String),
    /// The consortium's nodes do not include this one.
    #[error("the consortium's nodes ({nodes}) do not include this node's operator {member}")]
    NotAMember {
        /// This node's operator.
        member: String,
        /// The nodes configured.
        nodes: String,
    },
}

/// The Raft timing and log settings of a Salvage consortium.
pub fn raft_config() -> Config {
    Config {
        cluster_name: "salvage".to_owned(),
        // A loaded node on a busy two-core machine must not be taken for dead,
        // yet a dead leader is replaced within about two seconds: a follower
        // votes only once its lease on the old leader (one election timeout)
        // has run out, so a new leader takes up to two timeouts.
        // openraft also gives each AppendEntries message one heartbeat
        // interval to be sent, fsynced and answered: see `max_payload_entries`.
        heartbeat_interval: 150,
        election_timeout_min: 500,
        election_timeout_max: 1000,
        install_snapshot_timeout: 10_000,
        // A batch holds up to 256 entries of about a kilobyte: two batches per
        // message keep it near half a megabyte, which a follower that is
        // catching up receives and fsyncs well within the heartbeat interval.
        max_payload_entries: 2,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(2_000),
        max_in_snapshot_log_to_keep: 1_000,
        ..Config::default()
    }
}

/// Starts Raft for the node of `signer`'s operator, over `ledger`, keeping
/// Raft's files in `raft_dir`. `nodes` are the consortium's nodes, this one
/// included; a node starting for the first time proposes them as the first
/// membership (every node does, with the same list, and Raft keeps one),
/// unless it `join`s a running consortium: then it waits to be brought in by
/// the leader, after the admins' `node.add` entry.
///
/// Accepted `node.add` and `node.remove` entries change the membership: the
/// leader carries them out (see [`super::membership`]).
pub async fn start(
    ledger: Arc<Ledger>,
    raft_dir: &Path,
    signer: RequestSigner,
    nodes: Vec<ConsortiumNode>,
    join: bool,
) -> Result<Replica, ReplicationError> {
    let id = node_id(signer.member());
    if !nodes.iter().any(|node| node.member == signer.member()) {
        let nodes = nodes.iter().map(|node| node.to_string()).collect::<Vec<_>>().join(", ");
        return Err(ReplicationError::NotAMember { member: signer.member().to_owned(), nodes });
    }
    let mut log = LogStore::open(&raft_dir.join("log"))
        .map_err(|source| ReplicationError::Log { path: raft_dir.join("log"), source })?;
    let (changes, requested) = tokio::sync::mpsc::unbounded_channel();
    // The state machine's bookkeeping stays in sled, in a directory of its own.
    let db = sled::Config::new()
        .path(raft_dir.join("machine"))
        .mode(sled::Mode::HighThroughput)
        .open()
        .map_err(MachineError::from)?;
    let requests = NodeRequests::open(&db).map_err(MachineError::from)?;
    let config = Arc::new(raft_config().validate().map_err(|e| ReplicationError::Raft(e.to_string()))?);
    let roster = Arc::new(Roster::new(Arc::clone(&ledger)));
    let machine = LedgerMachine::open(ledger, &db, &raft_dir.join("snapshots"), changes, requests.clone())?;
    // No purge of the log may reach the disk before the state machine's
    // position past it has: a crash in between left entries in neither.
    log.hold_purges_for(machine.purge_gate());
    let raft = Raft::new(id, config, Network::new(signer.clone(), Arc::clone(&roster)), log, machine)
        .await
        .map_err(|e| ReplicationError::Raft(e.to_string()))?;
    tokio::spawn(membership::carry_out(raft.clone(), id, requests.clone(), requested));
    let initialized = raft.is_initialized().await.map_err(|e| ReplicationError::Raft(e.to_string()))?;
    if !initialized && !join {
        let members: BTreeMap<NodeId, ConsortiumNode> =
            nodes.into_iter().map(|node| (node_id(&node.member), node)).collect();
        // Every node proposes the same first membership; whichever is elected
        // first makes it the consortium's, and the others' are replaced.
        if let Err(error) = raft.initialize(members).await {
            tracing::info!(%error, "the consortium's first membership was already proposed");
        }
    }
    Ok(Replica { raft, id, signer, roster, requests })
}
