//! A node that crashes while it installs a snapshot from the leader starts
//! again: its log and its state machine, reopened, agree with openraft's
//! start-up invariants (last purged log id <= the snapshot's and the applied
//! one), whose breach panicked Raft's core (`purge_gate`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{InstallSnapshotError, RPCError, RaftError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use openraft::storage::{RaftLogStorage, RaftLogStorageExt, RaftStateMachine};
use openraft::{CommittedLeaderId, Entry, EntryPayload, LogId, RaftSnapshotBuilder};
use salvage_ledger::entry::Timestamp;
use salvage_ledger::store::Ledger;
use salvage_ledger::testkit::Fixture;

use super::log_store::LogStore;
use super::membership::NodeRequests;
use super::state_machine::LedgerMachine;
use super::{Batch, ConsortiumNode, NodeId, Raft, TypeConfig, raft_config};

fn log_id(term: u64, index: u64) -> LogId<NodeId> {
    LogId::new(CommittedLeaderId::new(term, 7), index)
}

/// A node's Raft storage in `dir`, as `replication::start` opens it.
struct Stores {
    log: LogStore,
    machine: LedgerMachine,
}

fn open(dir: &Path, fixture: &Fixture) -> Stores {
    let ledger_dir = dir.join("ledger");
    let ledger = if ledger_dir.exists() {
        Ledger::open(&ledger_dir).unwrap().0
    } else {
        Ledger::create(&ledger_dir, fixture.genesis.clone()).unwrap()
    };
    let mut log = LogStore::open(&dir.join("raft/log")).unwrap();
    let db = sled::Config::new().path(dir.join("raft/machine")).open().unwrap();
    let requests = NodeRequests::open(&db).unwrap();
    let (changes, _) = tokio::sync::mpsc::unbounded_channel();
    let machine = LedgerMachine::open(Arc::new(ledger), &db, &dir.join("raft/snapshots"), changes, requests).unwrap();
    log.hold_purges_for(machine.purge_gate());
    Stores { log, machine }
}

/// Starts Raft on the stores, as a node does, and checks that its core runs.
async fn start_raft(stores: Stores) {
    let config = Arc::new(raft_config().validate().unwrap());
    let raft = Raft::new(1, config, NoNetwork, stores.log, stores.machine).await.unwrap();
    // The core panicked on its first step when its state broke an invariant:
    // every request then fails.
    raft.is_initialized().await.expect("Raft's core runs on the reopened stores");
    raft.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_while_a_snapshot_is_installed_leaves_the_log_whole_until_the_snapshot_is_durable() {
    let fixture = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let Stores { mut log, mut machine } = open(dir.path(), &fixture);
    let blank = |index| Entry { log_id: log_id(1, index), payload: EntryPayload::Blank };
    log.blocking_append((0..=3).map(blank)).await.unwrap();
    // A node that lags: it has applied the first two entries.
    machine.apply((0..=1).map(blank)).await.unwrap();
    // openraft purges the log up to a snapshot as it hands the snapshot to the
    // state machine; the node crashes before the state machine has installed it.
    let purged = tokio::time::timeout(Duration::from_millis(300), log.purge(log_id(2, 1999))).await;
    assert!(purged.is_err(), "the purge waits for the state machine to hold the snapshot");
    drop((log, machine));

    let mut reopened = open(dir.path(), &fixture);
    let state = reopened.log.get_log_state().await.unwrap();
    assert_eq!((state.last_purged_log_id, state.last_log_id), (None, Some(log_id(1, 3))), "nothing was purged");
    assert_eq!(reopened.machine.applied_state().await.unwrap().0, Some(log_id(1, 1)));
    start_raft(reopened).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purge_up_to_a_snapshot_goes_through_once_it_is_installed_and_a_restart_starts_from_it() {
    let fixture = Fixture::new();
    let dir = tempfile::tempdir().unwrap();

    // The leader's snapshot: a ledger of two records, after one batch.
    let leader = tempfile::tempdir().unwrap();
    let Stores { log: _leader_log, machine: mut leader_machine } = open(leader.path(), &fixture);
    let entry = fixture.register("baltic-demolition", "4750001RAW-1", "door", 30.0);
    let batch =
        Batch { accepted: Timestamp::now(), entries: [Batch::entry_json(&entry).unwrap()].into_iter().collect() };
    let last = log_id(2, 1999);
    leader_machine.apply([Entry { log_id: last, payload: EntryPayload::Normal(batch) }]).await.unwrap();
    leader_machine.get_snapshot_builder().await.build_snapshot().await.unwrap();
    let mut sent = leader_machine.get_current_snapshot().await.unwrap().unwrap();
    assert_eq!(sent.meta.last_log_id, Some(last));

    let Stores { mut log, mut machine } = open(dir.path(), &fixture);
    log.blocking_append((0..=3).map(|index| Entry { log_id: log_id(1, index), payload: EntryPayload::Blank }))
        .await
        .unwrap();
    let mut received = machine.begin_receiving_snapshot().await.unwrap();
    tokio::io::copy(&mut sent.snapshot, &mut received).await.unwrap();
    // As openraft does: the purge is issued along with the install, not after it.
    let purge = tokio::spawn(async move {
        log.purge(last).await.unwrap();
        log
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!purge.is_finished(), "the purge waits for the install");
    machine.install_snapshot(&sent.meta, received).await.unwrap();
    let mut log = tokio::time::timeout(Duration::from_secs(10), purge).await.unwrap().unwrap();
    assert_eq!(log.get_log_state().await.unwrap().last_purged_log_id, Some(last));
    drop((log, machine));

    let mut reopened = open(dir.path(), &fixture);
    assert_eq!(reopened.log.get_log_state().await.unwrap().last_purged_log_id, Some(last));
    assert_eq!(reopened.machine.applied_state().await.unwrap().0, Some(last), "the snapshot's position is durable");
    start_raft(reopened).await;
}

/// No other node is reachable: the tests start a single node's Raft only.
struct NoNetwork;

impl RaftNetworkFactory<TypeConfig> for NoNetwork {
    type Network = NoNetwork;

    async fn new_client(&mut self, _target: NodeId, _node: &ConsortiumNode) -> NoNetwork {
        NoNetwork
    }
}

fn unreachable<E: std::error::Error>() -> RPCError<NodeId, ConsortiumNode, E> {
    RPCError::Unreachable(Unreachable::new(&std::io::Error::other("no network in this test")))
}

impl RaftNetwork<TypeConfig> for NoNetwork {
    async fn append_entries(
        &mut self,
        _rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, ConsortiumNode, RaftError<NodeId>>> {
        Err(unreachable())
    }

    async fn install_snapshot(
        &mut self,
        _rpc: InstallSnapshotRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, ConsortiumNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        Err(unreachable())
    }

    async fn vote(
        &mut self,
        _rpc: VoteRequest<NodeId>,
        _option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, ConsortiumNode, RaftError<NodeId>>> {
        Err(unreachable())
    }
}
