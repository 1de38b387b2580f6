//! The ledger as Raft's state machine.
//!
//! Applying a committed batch is [`Ledger::apply_canonical`]: every node judges
//! every entry itself (signatures, schema, custody rules) at the time the
//! leader fixed, so all nodes compute the same records. Raft's own
//! bookkeeping, the last applied log id, the membership and the ledger position
//! where the next batch begins, is kept in the `machine` tree of a small sled
//! database beside the Raft log (`DATA/raft/machine`). It is written after the
//! batch's records are durable and made durable by sled within half a second,
//! so it can only lag the ledger; when it does (a crash), Raft applies the
//! batches after it again and the ledger matches them with the records they
//! produced. The Raft log keeps those batches until it is durable: every purge
//! waits for that (`purge_gate`).
//!
//! A snapshot is the ledger's own records: a file of records `0..size`, one
//! canonical JSON record per line, with the disclosures of those that withhold
//! values (`snapshot_file`). A node installing one checks the records it
//! already holds byte for byte and verifies every new one (chain link,
//! signatures, schema, custody) before appending it.
//!
//! Building a snapshot, which Raft asks for every few thousand batches so it
//! can drop the log before it, only notes its size and log id: the ledger is
//! append-only, so records `0..size` never change, and copying the whole ledger
//! each time cost a loaded node 5 % of its CPU time, growing with the ledger.
//! The file is written when a snapshot is first sent to a node that lags
//! behind the log, and kept for the next such node.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use openraft::storage::{RaftStateMachine, Snapshot, SnapshotMeta};
use openraft::{AnyError, EntryPayload, LogId, RaftSnapshotBuilder, StorageError, StorageIOError, StoredMembership};
use salvage_ledger::chain::Record;
use salvage_ledger::disclosure::Disclosure;
use salvage_ledger::store::{Ledger, LedgerError};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncSeekExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use super::membership::{NodeChange, NodeRequests};
use super::purge_gate::{self, AppliedSaved, PurgeGate};
use super::snapshot_file::{self, SnapshotLine};
use super::{BatchOutcome, ConsortiumNode, NodeId, TypeConfig};

/// How many records of a snapshot are verified and appended together.
const SNAPSHOT_CHUNK: usize = 1024;

/// The ledger seen by Raft: applies committed batches and makes and installs snapshots.
pub struct LedgerMachine {
    ledger: Arc<Ledger>,
    bookkeeping: sled::Tree,
    snapshots: PathBuf,
    // INVARIANT: `applied.next` is the ledger position where the batch after
    // `applied.log_id` begins; it never exceeds the ledger's size.
    applied: Applied,
    // Told every applied position saved, for the log's purges to wait on.
    saved: AppliedSaved,
    gate: PurgeGate,
    current: CurrentSnapshot,
    receiving: Option<PathBuf>,
    // Accepted `node.add` and `node.remove` entries, for the leader to carry out.
    changes: mpsc::UnboundedSender<NodeChange>,
    // The last of those per operator, for whichever node leads later.
    requests: NodeRequests,
    applier: Applier,
    // The fault-injection switch [`STOP_APPLYING`] is set.
    stop_applying: bool,
}

/// For the tests: set to `1`, a node's state machine fails to apply the first
/// batch of entries it is given, as one whose disk failed would, so that its
/// Raft stops for good and the node must say so.
pub const STOP_APPLYING: &str = "SALVAGE_FAULT_STOP_APPLYING";

/// One long-lived thread that applies batches to the ledger, which is
/// synchronous and syncs its log.
///
/// A thread of tokio's blocking pool would do, but the pool hands each apply to
/// whichever of its threads is idle and lets idle ones exit, so every entry's
/// JSON was parsed into a cold allocator heap, on freshly zeroed pages (page
/// zeroing was a tenth of a loaded machine's CPU time, this among its
/// causes). One thread keeps its heap, and its pages, warm.
struct Applier {
    jobs: std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

impl Applier {
    fn start() -> io::Result<Applier> {
        let (jobs, received) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
        // The thread ends when the state machine, and with it the sender, is dropped.
        std::thread::Builder::new().name("salvage-apply".to_owned()).spawn(move || {
            while let Ok(job) = received.recv() {
                job();
            }
        })?;
        Ok(Applier { jobs })
    }

    /// Runs `job` on the apply thread and waits for its result.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, StorageError<NodeId>> {
        let (answer, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                // The requester may have stopped waiting (shutdown); the work is done either way.
                let _ = answer.send(job());
            }))
            .map_err(|_| write_error(&"the apply thread has stopped"))?;
        result.await.map_err(|_| write_error(&"the apply thread stopped before finishing a batch"))
    }
}

/// The latest snapshot, built here or received; shared with the builders.
type CurrentSnapshot = Arc<Mutex<Option<LatestSnapshot>>>;

/// The latest snapshot: what it covers and where its records are written.
#[derive(Clone)]
struct LatestSnapshot {
    meta: SnapshotMeta<NodeId, ConsortiumNode>,
    // The records `0..size` of the ledger.
    size: u64,
    path: PathBuf,
    // INVARIANT: once true, `path` holds exactly records `0..size`, synced.
    written: bool,
}

/// Why the state machine could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MachineError {
    /// The Raft store could not be read.
    #[error("reading the Raft store's bookkeeping: {0}")]
    Store(#[from] sled::Error),
    /// The bookkeeping record is not what this version writes.
    #[error("the Raft store's bookkeeping is damaged: {0}")]
    Damaged(String),
    /// Raft counts records as applied that the ledger does not hold.
    #[error(
        "Raft has applied batches up to ledger position {applied}, but the ledger holds only {size} records; \
         the ledger directory was replaced or damaged: restore it, or start this node with an empty data directory to copy the ledger from the others"
    )]
    LedgerBehind {
        /// Where Raft's bookkeeping says the next batch begins.
        applied: u64,
        /// The ledger's size.
        size: u64,
    },
    /// The apply thread could not be started.
    #[error("starting the thread that applies batches to the ledger: {0}")]
    Thread(io::Error),
    /// The snapshot directory could not be created.
    #[error("creating the snapshot directory {path}: {source}")]
    Snapshots {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// What Raft has applied, as kept in the `machine` tree.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Applied {
    log_id: Option<LogId<NodeId>>,
    membership: StoredMembership<NodeId, ConsortiumNode>,
    next: u64,
}

const APPLIED_KEY: &[u8] = b"applied";

impl LedgerMachine {
    /// The state machine of `ledger`, keeping its bookkeeping in `db` (a sled
    /// database of its own) and snapshots in `snapshots`; the membership changes
    /// that applied entries ask for go to `changes` and are kept in `requests`.
    pub fn open(
        ledger: Arc<Ledger>,
        db: &sled::Db,
        snapshots: &Path,
        changes: mpsc::UnboundedSender<NodeChange>,
        requests: NodeRequests,
    ) -> Result<LedgerMachine, MachineError> {
        std::fs::create_dir_all(snapshots)
            .map_err(|source| MachineError::Snapshots { path: snapshots.to_owned(), source })?;
        let bookkeeping = db.open_tree("machine")?;
        let applied = match bookkeeping.get(APPLIED_KEY)? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| MachineError::Damaged(e.to_string()))?,
            // Nothing applied yet: the first batch begins after the genesis.
            None => Applied { next: 1, ..Applied::default() },
        };
        if applied.next > ledger.size() {
            return Err(MachineError::LedgerBehind { applied: applied.next, size: ledger.size() });
        }
        remove_snapshot_files(snapshots);
        let applier = Applier::start().map_err(MachineError::Thread)?;
        // Read back from disk, so durable.
        let (saved, gate) = purge_gate::gate(bookkeeping.clone(), applied.log_id);
        Ok(LedgerMachine {
            ledger,
            bookkeeping,
            snapshots: snapshots.to_owned(),
            applied,
            saved,
            gate,
            current: CurrentSnapshot::default(),
            receiving: None,
            changes,
            requests,
            applier,
            stop_applying: std::env::var(STOP_APPLYING).is_ok_and(|value| value == "1"),
        })
    }

    /// What the Raft log's purges must wait for: give it to the log store
    /// ([`super::log_store::LogStore::hold_purges_for`]).
    pub fn purge_gate(&self) -> PurgeGate {
        self.gate.clone()
    }

    fn save_applied(&self) -> Result<(), StorageError<NodeId>> {
        let bytes = serde_json::to_vec(&self.applied).map_err(|e| write_error(&e))?;
        self.bookkeeping.insert(APPLIED_KEY, bytes).map_err(|e| write_error(&e))?;
        // Lets the log drop the entries up to it, once the gate has flushed it.
        self.saved.saved(self.applied.log_id);
        Ok(())
    }
}

impl RaftStateMachine<TypeConfig> for LedgerMachine {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<NodeId>>, StoredMembership<NodeId, ConsortiumNode>), StorageError<NodeId>> {
        Ok((self.applied.log_id, self.applied.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<BatchOutcome>, StorageError<NodeId>>
    where
        I: IntoIterator<Item = openraft::Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let entries: Vec<_> = entries.into_iter().collect();
        if self.stop_applying
            && let Some(entry) = entries.iter().find(|entry| matches!(entry.payload, EntryPayload::Normal(_)))
        {
            tracing::warn!("{STOP_APPLYING}=1: failing to apply a batch (fault injection for tests)");
            return Err(apply_error(entry.log_id, &"fault injection: the batch was not applied"));
        }
        let ledger = Arc::clone(&self.ledger);
        let mut applied = self.applied.clone();
        let (applied, outcomes, changes) = self
            .applier
            .run(move || {
                let mut pending = Vec::with_capacity(entries.len());
                for entry in entries {
                    match entry.payload {
                        EntryPayload::Normal(batch) => {
                            // Decoded on the ledger's verification threads; bytes that
                            // are no signed entry are refused in place there.
                            let (outcomes, next) = ledger
                                .apply_canonical(batch.entries, batch.accepted, applied.next)
                                .map_err(|e| apply_error(entry.log_id, &e))?;
                            applied.next = next;
                            let asked = outcomes.node_changes().iter().filter_map(NodeChange::asked_by).collect();
                            pending.push((entry.log_id, Some(outcomes), asked));
                        }
                        EntryPayload::Membership(membership) => {
                            applied.membership = StoredMembership::new(Some(entry.log_id), membership);
                            pending.push((entry.log_id, None, Vec::new()));
                        }
                        EntryPayload::Blank => pending.push((entry.log_id, None, Vec::new())),
                    }
                    applied.log_id = Some(entry.log_id);
                }
                // One sync makes every batch's records durable; the first settle leads it.
                let mut outcomes = Vec::with_capacity(pending.len());
                let mut changes = Vec::new();
                for (log_id, batch, asked) in pending {
                    let settled = match batch {
                        Some(batch) => ledger.settle(batch).map_err(|e| apply_error(log_id, &e))?,
                        None => Vec::new(),
                    };
                    // The ledger reports only the changes of entries it accepted.
                    changes.extend(asked);
                    outcomes.push(BatchOutcome { outcomes: settled.into_iter().map(Into::into).collect() });
                }
                Ok::<_, StorageError<NodeId>>((applied, outcomes, changes))
            })
            .await??;
        // Kept before the applied position, so a crash cannot keep the one
        // without the other (sled persists its writes in order).
        for change in &changes {
            self.requests.record(change).map_err(|e| write_error(&e))?;
        }
        self.applied = applied;
        self.save_applied()?;
        for change in changes {
            // Nobody listens once the node is shutting down; nothing is lost
            // that the admins could not submit again.
            let _ = self.changes.send(change);
        }
        Ok(outcomes)
    }

    async fn get_snapshot_builder(&mut self) -> SnapshotBuilder {
        SnapshotBuilder {
            applied: self.applied.clone(),
            snapshots: self.snapshots.clone(),
            current: Arc::clone(&self.current),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<tokio::fs::File>, StorageError<NodeId>> {
        let path = self.snapshots.join("receiving.records");
        let file = tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await
            .map_err(|e| StorageIOError::write_snapshot(None, &e))?;
        self.receiving = Some(path);
        Ok(Box::new(file))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, ConsortiumNode>,
        mut snapshot: Box<tokio::fs::File>,
    ) -> Result<(), StorageError<NodeId>> {
        let read_error = |e: &dyn std::fmt::Display| {
            StorageIOError::read_snapshot(Some(meta.signature()), AnyError::error(e.to_string()))
        };
        // The leader's snapshot says how many records it holds; a snapshot
        // that holds fewer or more is not the one described.
        let named = records_named(meta).ok_or_else(|| read_error(&"the snapshot's id names no record count"))?;
        snapshot.flush().await.map_err(|e| read_error(&e))?;
        snapshot.rewind().await.map_err(|e| read_error(&e))?;
        let mut lines = BufReader::new(snapshot).lines();
        let mut seq = 0u64;
        let held_before = self.ledger.size();
        let mut chunk = Vec::with_capacity(SNAPSHOT_CHUNK);
        while let Some(line) = lines.next_line().await.map_err(|e| read_error(&e))? {
            let SnapshotLine { record, bytes, disclosures } = snapshot_file::read_line(line.as_bytes())
                .map_err(|e| read_error(&format!("snapshot record {seq}: {e}")))?;
            if record.seq.get() != seq {
                return Err(read_error(&format!("snapshot line {seq} holds record {}", record.seq.get())).into());
            }
            if seq >= named {
                return Err(
                    read_error(&format!("the snapshot holds more than the {named} records its id names")).into()
                );
            }
            if seq < self.ledger.size() {
                // Records this node holds must be the very same bytes.
                let ledger = Arc::clone(&self.ledger);
                let held = tokio::task::spawn_blocking(move || ledger.record_bytes(seq))
                    .await
                    .map_err(|e| read_error(&e))?
                    .map_err(|e| read_error(&e))?;
                if held != bytes {
                    return Err(read_error(&format!(
                        "the snapshot's record {seq} differs from this node's: the histories have diverged"
                    ))
                    .into());
                }
            } else {
                chunk.push((record, disclosures));
                if chunk.len() == SNAPSHOT_CHUNK {
                    self.append_verified(std::mem::take(&mut chunk)).await?;
                }
            }
            seq += 1;
        }
        self.append_verified(chunk).await?;
        if seq != named {
            return Err(read_error(&format!("the snapshot holds {seq} records, not the {named} its id names")).into());
        }
        tracing::info!(
            records = seq,
            verified_and_appended = seq.saturating_sub(held_before),
            last_log_id = %meta.last_log_id.map(|id| id.to_string()).unwrap_or_default(),
            "installed a snapshot from the leader"
        );
        // `seq` records were in the snapshot; the ledger may hold more, from
        // batches after it, which Raft will apply again (and the ledger match).
        //
        // Only now, with the records durable, is the snapshot's position
        // saved: the log store's purge up to it, which openraft issued as it
        // handed us the snapshot, has been waiting for this (`purge_gate`).
        // Before, a crash here left the log purged past an applied position
        // that had not reached the disk, and openraft's core panicked on the
        // restart (last purged log id past the snapshot's).
        self.applied = Applied { log_id: meta.last_log_id, membership: meta.last_membership.clone(), next: seq };
        self.save_applied()?;
        // Durable before Raft is told, so that the leader never counts this
        // node as holding a snapshot that a crash took back.
        self.bookkeeping.flush_async().await.map_err(|e| write_error(&e))?;
        // The file only serves nodes that lag behind later, and only until
        // this node stops: a restarted node builds its snapshot afresh, so a
        // crash before or during the rename loses nothing.
        let kept = self.snapshots.join(format!("{}.records", meta.snapshot_id));
        if let Some(receiving) = self.receiving.take() {
            tokio::fs::rename(&receiving, &kept)
                .await
                .map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), &e))?;
            keep_only(&self.current, LatestSnapshot { meta: meta.clone(), size: seq, path: kept, written: true }).await;
        }
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError<NodeId>> {
        let Some(latest) = self.current.lock().map_err(|_| write_error(&"a snapshot builder panicked"))?.clone() else {
            return Ok(None);
        };
        let meta = latest.meta.clone();
        if !latest.written {
            let (ledger, size, target) = (Arc::clone(&self.ledger), latest.size, latest.path.clone());
            tokio::task::spawn_blocking(move || write_records(&ledger, size, &target))
                .await
                .map_err(|e| write_error(&e))?
                .map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), AnyError::error(e)))?;
            if let Ok(mut current) = self.current.lock()
                && let Some(now) = current.as_mut()
                && now.path == latest.path
            {
                now.written = true;
            }
        }
        let file = tokio::fs::File::open(&latest.path)
            .await
            .map_err(|e| StorageIOError::read_snapshot(Some(meta.signature()), &e))?;
        Ok(Some(Snapshot { meta, snapshot: Box::new(file) }))
    }
}

impl LedgerMachine {
    /// Verifies and appends records received in a snapshot, then keeps the
    /// node requests among them: a node that learns the ledger from a snapshot
    /// never applies these entries, yet may lead later.
    async fn append_verified(&mut self, records: Vec<(Record, Vec<Disclosure>)>) -> Result<(), StorageError<NodeId>> {
        if records.is_empty() {
            return Ok(());
        }
        let ledger = Arc::clone(&self.ledger);
        let requested = tokio::task::spawn_blocking(move || ledger.append_records(records))
            .await
            .map_err(|e| write_error(&e))?
            .map_err(|e| {
                StorageIOError::write_snapshot(None, AnyError::error(format!("a snapshot record does not verify: {e}")))
            })?;
        for change in requested.iter().filter_map(NodeChange::asked_by) {
            self.requests.record(&change).map_err(|e| write_error(&e))?;
        }
        Ok(())
    }
}

/// Removes the snapshot files a node that stopped left behind: a restarted
/// node notes its snapshot afresh (openraft builds one at start-up when its
/// log is purged), so no file is any snapshot's any more.
fn remove_snapshot_files(snapshots: &Path) {
    let Ok(files) = std::fs::read_dir(snapshots) else { return };
    for path in files.filter_map(|file| file.ok().map(|file| file.path())) {
        if path.extension().is_some_and(|ext| ext == "records")
            && let Err(error) = std::fs::remove_file(&path)
        {
            tracing::warn!(%error, path = %path.display(), "a stale snapshot file could not be removed");
        }
    }
}

/// Makes `latest` the current snapshot and removes the file of the one before.
async fn keep_only(current: &CurrentSnapshot, latest: LatestSnapshot) {
    let path = latest.path.clone();
    let old = match current.lock() {
        Ok(mut current) => current.replace(latest),
        Err(_) => None,
    };
    if let Some(old) = old
        && old.path != path
    {
        // Never written, or already replaced: nothing to remove is no error.
        let _ = tokio::fs::remove_file(old.path).await;
    }
}

/// Notes a snapshot of the records applied when it was made.
pub struct SnapshotBuilder {
    applied: Applied,
    snapshots: PathBuf,
    current: CurrentSnapshot,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError<NodeId>> {
        let last =
            self.applied.log_id.map(|id| format!("{}-{}", id.leader_id, id.index)).unwrap_or_else(|| "none".to_owned());
        let meta = SnapshotMeta {
            last_log_id: self.applied.log_id,
            last_membership: self.applied.membership.clone(),
            snapshot_id: format!("{last}-{}", self.applied.next),
        };
        let path = self.snapshots.join(format!("{}.records", meta.snapshot_id));
        keep_only(&self.current, LatestSnapshot { meta: meta.clone(), size: self.applied.next, path, written: false })
            .await;
        // openraft takes only the description of a snapshot it asked to be
        // built (to know which log entries it may drop); the records are written
        // when the snapshot is first sent (`get_current_snapshot`). The file
        // handed back here is an empty placeholder.
        let placeholder = self.snapshots.join("unwritten.records");
        let file = tokio::fs::File::create(&placeholder)
            .await
            .map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), &e))?;
        Ok(Snapshot { meta, snapshot: Box::new(file) })
    }
}

/// The number of records a snapshot holds, as its id (`<log id>-<records>`) names it.
fn records_named(meta: &SnapshotMeta<NodeId, ConsortiumNode>) -> Option<u64> {
    meta.snapshot_id.rsplit_once('-').and_then(|(_, records)| records.parse().ok())
}

/// Writes records `0..size` to `path`, one per line, and syncs the file.
fn write_records(ledger: &Ledger, size: u64, path: &Path) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("creating {}: {e}", path.display()))?;
    let mut out = io::BufWriter::new(file);
    for seq in 0..size {
        let bytes = ledger.record_bytes(seq).map_err(|e: LedgerError| e.to_string())?;
        let disclosures = ledger.disclosures(seq).map_err(|e: LedgerError| e.to_string())?;
        snapshot_file::write_line(&mut out, &bytes, disclosures.as_deref())
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    let file = out.into_inner().map_err(|e| format!("writing {}: {e}", path.display()))?;
    file.sync_all().map_err(|e| format!("syncing {}: {e}", path.display()))
}

fn write_error(e: &dyn std::fmt::Display) -> StorageError<NodeId> {
    StorageIOError::write_state_machine(AnyError::error(e.to_string())).into()
}

fn apply_error(log_id: LogId<NodeId>, e: &dyn std::fmt::Display) -> StorageError<NodeId> {
    StorageIOError::apply(log_id, AnyError::error(e.to_string())).into()
}
