//! Storage: the durable record log (the truth) and the sled indexes derived from it.
//!
//! [`Ledger`] ties the custody state machine to storage. A submission is
//! verified (signatures, schema) outside any lock, then sequenced, checked
//! against the state and appended to the log under the core lock, and finally
//! made durable by a *group commit*: a submitter that finds no sync under way
//! fdatasyncs the log for every record appended so far, the others wait for
//! that sync to end and then look again, so many concurrent submissions share
//! one sync. Only then are receipts returned and the records made visible to
//! readers. Their sled index updates are written by a background thread
//! ([`indexer`]); reads that use the index wait for it to cover every visible
//! record.

mod index;
mod indexer;
pub mod log;
mod verifiers;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::chain::{self, LeafHash, Record, Seq};
use crate::checkpoint::Checkpoint;
use crate::custody::{Change, Context, ItemState, Member, NodeSetChange, State, VerifiedEntry};
use crate::entry::{EntryId, LedgerId, SignedEntry, Timestamp};
use crate::ident::Giai;
use crate::merkle::{Blake3Hasher, MerkleTree, ProofError};
use crate::refusal::{Refusal, RefusalCode};

pub use index::IndexError;
use index::{Index, IndexUpdate};
use indexer::Indexer;
pub use indexer::IndexerStopped;
use log::{LogError, LogOptions, LogPosition, LogReader, RecordLog, TailCut};
use verifiers::{Unverified, Verifiers};

/// Below this many entries a batch is verified on the calling thread; from it
/// on the work is shared between [`VERIFY_THREADS`] threads. Low, because a
/// batch's entries all wait for the last one verified: a node's group commits
/// of ten-odd entries were answered sooner split in two (docs/performance.md).
const PARALLEL_VERIFY_THRESHOLD: usize = 4;

/// How many threads verify a batch (the machines we target have two cores).
const VERIFY_THREADS: usize = 2;

/// The most entries a verifying thread takes at a time: small enough that
/// sequencing starts early and the threads finish together, large enough that
/// the core lock is taken once per many entries. A smaller batch is split
/// evenly between the threads.
const VERIFY_CHUNK: usize = 64;

/// The log position of a record appended in memory whose batch is not yet
/// written; `write_batch` replaces it with the real one.
const UNWRITTEN: LogPosition = LogPosition { segment: 1, offset: 8 };

/// How many stored records are verified together when a ledger is opened.
const REPLAY_CHUNK: usize = 1024;

/// What the ledger returns for an accepted entry, once it is durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The record's position.
    pub seq: Seq,
    /// The entry id.
    pub entry_id: EntryId,
    /// The record's leaf hash.
    pub leaf_hash: LeafHash,
}

/// The outcomes of [`Ledger::submit_pending`], held back until the accepted
/// records are durable: only [`Ledger::settle`] gives them out.
// INVARIANT: `last` is the highest seq among the accepted entries in `outcomes`
// (`None` if none was accepted); settling waits for it.
#[derive(Debug)]
#[must_use = "receipts promise durability: settle the outcomes before answering anyone"]
pub struct PendingOutcomes {
    outcomes: Vec<Result<Receipt, Refusal>>,
    last: Option<Seq>,
    node_changes: Vec<NodeSetChange>,
}

impl PendingOutcomes {
    /// How many entries were submitted (accepted or refused).
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    /// Whether no entry was submitted.
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// The changes of the consortium's node set that the accepted entries ask
    /// for (`node.add`, `node.remove`, re-submissions of them included), in
    /// order. They hold once the outcomes are settled.
    pub fn node_changes(&self) -> &[NodeSetChange] {
        &self.node_changes
    }
}

/// What opening a ledger found and repaired.
#[derive(Debug, Clone, Default)]
pub struct OpenReport {
    /// Records in the ledger.
    pub size: u64,
    /// A torn tail that was cut (its bytes are kept in the log's quarantine folder).
    pub tail_cut: Option<TailCut>,
    /// Whether the index was rebuilt from scratch.
    pub index_rebuilt: bool,
    /// How many records the index had to catch up on.
    pub index_caught_up: u64,
}

/// Why the ledger could not do what was asked (as opposed to refusing an entry).
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The record log failed or is damaged.
    #[error("record log: {0}")]
    Log(#[from] LogError),
    /// The sled index failed.
    #[error("index: {0}")]
    Index(#[from] IndexError),
    /// The background index writer failed or was stopped.
    #[error("index: {0}")]
    Indexer(#[from] IndexerStopped),
    /// A stored record does not verify: the ledger is not opened.
    #[error("record {seq} does not verify: {reason}")]
    Invalid {
        /// The record.
        seq: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The genesis given to create a ledger breaks a rule.
    #[error("genesis refused: {0}")]
    Genesis(Refusal),
    /// `create` was asked for a directory that already holds a ledger.
    #[error("{0} already holds a ledger")]
    Exists(PathBuf),
    /// Another process (or another `Ledger` in this one) has the directory open.
    #[error("{0} is in use by another process; stop it first (a ledger directory has one owner)")]
    Locked(PathBuf),
    /// The directory or its lock file could not be created or opened.
    #[error("cannot use ledger directory {path}: {source}")]
    Directory {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `open` was asked for a directory that holds no ledger.
    #[error("{0} holds no ledger (no genesis record)")]
    Missing(PathBuf),
    /// The directory holds another ledger than the genesis given.
    #[error("{dir} holds ledger {found}, not {expected}")]
    WrongLedger {
        /// The directory.
        dir: PathBuf,
        /// The ledger it holds.
        found: LedgerId,
        /// The ledger expected.
        expected: LedgerId,
    },
    /// A verification thread failed (a bug): the batch was not fully processed,
    /// but nothing unverified was recorded.
    #[error("a signature verification thread failed; the batch was not fully processed")]
    Verifier,
    /// A write or sync failed earlier; the process must reopen the ledger.
    #[error("the ledger stopped accepting writes after an I/O failure; reopen it to recover")]
    Poisoned,
    /// A proof was asked for sizes or positions the ledger does not have.
    #[error("proof: {0}")]
    Proof(#[from] ProofError),
    /// No record at that position.
    #[error("no record {0}")]
    NoRecord(u64),
    /// No item with that GIAI.
    #[error("no item {0} is registered")]
    NoItem(Giai),
}

/// A ledger on disk: the record log, the custody state, the Merkle tree and the indexes.
pub struct Ledger {
    dir: PathBuf,
    genesis: SignedEntry,
    ledger_id: LedgerId,
    core: Mutex<Core>,
    // Whether a submitter is fdatasyncing the log for the others (the group
    // commit's leader); `synced` is signalled each time a sync ends.
    syncing: Mutex<bool>,
    synced: Condvar,
    // INVARIANT: `durable` is the number of records known to be fsynced; it only
    // grows, readers never look past it, and every one of those records has
    // been handed to the indexer.
    durable: AtomicU64,
    poisoned: AtomicBool,
    reader: LogReader,
    index: Arc<Index>,
    indexer: Indexer,
    verifiers: Verifiers,
    // Held for the ledger's lifetime: the OS releases the lock when the process
    // dies. Declared last so that it is dropped last, after the index and the
    // threads that write to it.
    _lock: std::fs::File,
}

struct Core {
    state: State,
    log: RecordLog,
    tree: MerkleTree<Blake3Hasher>,
    // The seq of every recorded entry and a digest of its signatures, to tell an
    // idempotent re-submission from the same statement signed differently.
    entries: HashMap<EntryId, (Seq, [u8; 32])>,
    // INVARIANT: for every item of `state`, the seqs of the records that
    // touched it (its registration or split first), in order; nothing else.
    histories: HashMap<Giai, Vec<Seq>>,
    last_leaf: LeafHash,
    // The `accepted` time of the last record: replicated batches never go back before it.
    last_accepted: Timestamp,
    unindexed: Vec<IndexUpdate>,
}

impl Ledger {
    /// Creates a ledger in an empty (or absent) directory from a signed genesis.
    pub fn create(dir: &Path, genesis: SignedEntry) -> Result<Ledger, LedgerError> {
        let lock = lock_directory(dir)?;
        if !write_genesis_if_empty(dir, genesis)? {
            return Err(LedgerError::Exists(dir.to_owned()));
        }
        let (ledger, _) = Self::open_locked(dir, lock)?;
        Ok(ledger)
    }

    /// Opens the ledger in `dir`, creating it from `genesis` if the directory holds none.
    /// A directory holding another ledger is refused.
    ///
    /// A log without a single record (a crash while the ledger was being created)
    /// counts as none: the genesis is written into it.
    pub fn open_or_create(dir: &Path, genesis: SignedEntry) -> Result<(Ledger, OpenReport), LedgerError> {
        let expected = LedgerId(genesis.id().0);
        let lock = lock_directory(dir)?;
        write_genesis_if_empty(dir, genesis)?;
        let (ledger, report) = Self::open_locked(dir, lock)?;
        if ledger.ledger_id != expected {
            return Err(LedgerError::WrongLedger { dir: dir.to_owned(), found: ledger.ledger_id, expected });
        }
        Ok((ledger, report))
    }

    /// Opens an existing ledger, replaying and verifying every record.
    ///
    /// A torn tail (the unsynced end of the log after a crash) is cut and
    /// reported; any other damage, and any record that does not verify,
    /// refuses the open with the reason. The index catches up with the log, or
    /// is rebuilt if it disagrees with it.
    pub fn open(dir: &Path) -> Result<(Ledger, OpenReport), LedgerError> {
        if !dir.join("log").is_dir() {
            return Err(LedgerError::Missing(dir.to_owned()));
        }
        let lock = lock_directory(dir)?;
        Self::open_locked(dir, lock)
    }

    fn open_locked(dir: &Path, lock: std::fs::File) -> Result<(Ledger, OpenReport), LedgerError> {
        let verifiers = Verifiers::start(VERIFY_THREADS)
            .map_err(|source| LedgerError::Directory { path: dir.to_owned(), source })?;
        let (log, contents) = RecordLog::open(&dir.join("log"), LogOptions::default())?;
        let mut frames = contents.frames.into_iter();
        let Some((genesis_position, genesis_bytes)) = frames.next() else {
            return Err(LedgerError::Missing(dir.to_owned()));
        };
        let genesis_record = decode(0, &genesis_bytes)?;
        chain::check_link(0, LeafHash::ZERO, &genesis_record).map_err(|e| invalid(0, e))?;
        if genesis_record.accepted != genesis_record.entry.statement().time {
            return Err(invalid(
                0,
                format!(
                    "record 0 is accepted at {} but the genesis statement is of {}; record 0 is accepted at the genesis's own time",
                    genesis_record.accepted,
                    genesis_record.entry.statement().time
                ),
            ));
        }
        let state = State::from_genesis(&genesis_record.entry).map_err(|e| invalid(0, e))?;
        let ledger_id = state.consortium().ledger_id;
        let genesis_leaf = chain::leaf_hash_of(&genesis_bytes);

        let mut core = Core {
            state,
            log,
            tree: MerkleTree::new(),
            entries: HashMap::new(),
            histories: HashMap::new(),
            last_leaf: LeafHash::ZERO,
            last_accepted: genesis_record.accepted.clone(),
            unindexed: Vec::new(),
        };
        let mut updates = Vec::new();
        // The founders are already in the state; applying them again changes nothing
        // and puts them in the genesis record's index update.
        let founders = Change { members: core.state.members().cloned().collect(), items: Vec::new() };
        updates.push(core.record_appended(&genesis_record.entry, genesis_leaf, genesis_position, founders));
        // Signatures and schemas are checked a chunk at a time on both cores; the
        // rules, which depend on order, are then applied one record after another.
        let frames: Vec<(LogPosition, Vec<u8>)> = frames.collect();
        for chunk in frames.chunks(REPLAY_CHUNK) {
            let first = core.tree.len();
            let mut records = Vec::with_capacity(chunk.len());
            for (offset, (_, bytes)) in chunk.iter().enumerate() {
                records.push(decode(first + offset as u64, bytes)?);
            }
            let entries = records.iter().map(|record| record.entry.clone()).collect();
            for ((record, verified), (position, bytes)) in
                records.into_iter().zip(verify_in_order(&verifiers, entries)?).zip(chunk)
            {
                let seq = core.tree.len();
                chain::check_link(seq, core.last_leaf, &record).map_err(|e| invalid(seq, e))?;
                let entry_id = record.entry.id();
                if core.entries.contains_key(&entry_id) {
                    return Err(invalid(seq, format!("entry {entry_id} is recorded twice")));
                }
                let context = Context { seq: record.seq, accepted: record.accepted };
                let verified = verified.map_err(|e| invalid(seq, e))?;
                let change = core.state.check(&verified, &context).map_err(|e| invalid(seq, e))?;
                updates.push(core.record_appended(verified.entry(), chain::leaf_hash_of(bytes), *position, change));
                core.last_accepted = context.accepted;
            }
        }
        let size = core.tree.len();

        let index = Index::open(&dir.join("index"))?;
        let mut report = OpenReport { size, tail_cut: contents.tail_cut, ..OpenReport::default() };
        let (indexed, indexed_ledger) = index.size()?;
        let agrees = indexed_ledger.is_none_or(|id| id == ledger_id)
            && indexed <= size
            && (indexed == 0
                || Seq::new(indexed - 1)
                    .and_then(|seq| core.tree.leaf_hash(seq.get()).map(|leaf| (seq, leaf)))
                    .is_some_and(|(seq, leaf)| index.leaf_hash(seq).ok().flatten() == Some(LeafHash(leaf))));
        let from = if agrees {
            indexed
        } else {
            index.clear()?;
            report.index_rebuilt = true;
            0
        };
        let catch_up: Vec<IndexUpdate> = updates.into_iter().skip(from as usize).collect();
        report.index_caught_up = catch_up.len() as u64;
        let index = Arc::new(index);
        // The catch-up goes through the indexer like any commit, so opening does not
        // wait for it; the first read that needs the index does.
        let indexer = Indexer::start(Arc::clone(&index), ledger_id, from, indexer::LINGER)
            .map_err(|source| LedgerError::Directory { path: dir.join("index"), source })?;
        indexer.enqueue(catch_up)?;
        core.unindexed.clear();

        let reader = core.log.reader();
        let ledger = Ledger {
            dir: dir.to_owned(),
            _lock: lock,
            genesis: genesis_record_entry(&genesis_bytes)?,
            ledger_id,
            core: Mutex::new(core),
            syncing: Mutex::new(false),
            synced: Condvar::new(),
            durable: AtomicU64::new(size),
            poisoned: AtomicBool::new(false),
            reader,
            index,
            indexer,
            verifiers,
        };
        Ok((ledger, report))
    }

    /// Submits a batch of signed entries; returns, per entry, its receipt or the
    /// refusal. Returns only once every accepted record is durable.
    ///
    /// Entries are applied in the order given, so a later entry may depend on
    /// an earlier one in the same batch. Re-submitting an entry already in the
    /// ledger returns its existing receipt.
    pub fn submit(&self, entries: Vec<SignedEntry>) -> Result<Vec<Result<Receipt, Refusal>>, LedgerError> {
        let pending = self.submit_pending(entries)?;
        self.settle(pending)
    }

    /// The first half of [`Ledger::submit`]: checks and appends the entries but
    /// does not wait for their records to be durable. The outcomes can only be
    /// had from [`Ledger::settle`], which waits; so a caller can sequence the
    /// next batch while this one's `fdatasync` is under way elsewhere.
    pub fn submit_pending(&self, entries: Vec<SignedEntry>) -> Result<PendingOutcomes, LedgerError> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(LedgerError::Poisoned);
        }
        let mut order = Order::Local;
        self.verify_and_order(Unverified::Decoded(entries), &mut order)
    }

    /// Applies a batch whose order consensus fixed (replication): every node of
    /// a consortium calls this with the same batches in the same order and
    /// computes the same records. The batch holds each entry's canonical JSON,
    /// as Raft's log carries it; the entries are decoded on the verification
    /// threads, and bytes that are no signed entry are refused in place (with
    /// the strict parser's verdict) like any other refused entry. The entries
    /// are judged at `accepted`, or at the last record's time if that is later,
    /// so record times never go back.
    ///
    /// `start` is the ledger size at which the batch begins: the size this
    /// call returned for the previous batch. Where the ledger already holds
    /// records from `start` on (the node applied this batch before it crashed,
    /// and the caller's own bookkeeping of what it applied was not yet durable),
    /// the batch's entries are matched with those records instead of being
    /// judged again: the state has moved past them, and judging them again
    /// could differ from what every other node recorded. Returns the outcomes,
    /// to be settled like [`Ledger::submit_pending`]'s, and the size at which
    /// the next batch begins.
    pub fn apply_canonical(
        &self,
        entries: Arc<[Box<RawValue>]>,
        accepted: Timestamp,
        start: u64,
    ) -> Result<(PendingOutcomes, u64), LedgerError> {
        let range = 0..entries.len();
        let entries = Unverified::Canonical(entries, range);
        if self.poisoned.load(Ordering::Acquire) {
            return Err(LedgerError::Poisoned);
        }
        let recorded = self.lock_core()?.tree.len();
        if start > recorded {
            return Err(LedgerError::Invalid {
                seq: recorded,
                reason: format!("a replicated batch begins at {start} but the ledger holds only {recorded} records"),
            });
        }
        let mut order = Order::Replicated { accepted, next: start };
        let pending = self.verify_and_order(entries, &mut order)?;
        let next = match order {
            Order::Replicated { next, .. } => next,
            Order::Local => start,
        };
        Ok((pending, next))
    }

    /// The second half of [`Ledger::submit`]: waits until every record accepted
    /// by `pending` is durable (syncing the log if no other caller is), then
    /// gives its outcomes.
    pub fn settle(&self, pending: PendingOutcomes) -> Result<Vec<Result<Receipt, Refusal>>, LedgerError> {
        if let Some(seq) = pending.last {
            self.wait_durable(seq)?;
        }
        Ok(pending.outcomes)
    }

    /// Appends records formed by another node (replication, restore from a
    /// download), checking each exactly as [`Ledger::open`] does: position, chain
    /// link, signatures, schema and custody rules. Returns once they are durable,
    /// with the changes of the consortium's node set that the records ask for,
    /// in order. The first record that does not verify stops the call; those
    /// before it stay.
    pub fn append_records(&self, records: Vec<Record>) -> Result<Vec<NodeSetChange>, LedgerError> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(LedgerError::Poisoned);
        }
        let mut last = None;
        let mut failure = None;
        let mut node_changes = Vec::new();
        {
            let mut core = self.lock_core()?;
            let mut payloads = Vec::new();
            let mut pending = Vec::new();
            for record in records {
                let seq = core.tree.len();
                let admitted =
                    chain::check_link(seq, core.last_leaf, &record).map_err(|e| invalid(seq, e)).and_then(|()| {
                        if core.entries.contains_key(&record.entry.id()) {
                            return Err(invalid(seq, format!("entry {} is recorded twice", record.entry.id())));
                        }
                        let context = Context { seq: record.seq, accepted: record.accepted.clone() };
                        let verified = VerifiedEntry::verify(record.entry.clone()).map_err(|e| invalid(seq, e))?;
                        let change = core.state.check(&verified, &context).map_err(|e| invalid(seq, e))?;
                        Ok((change, NodeSetChange::asked_by(verified.body())))
                    });
                let change = match admitted {
                    Ok((change, asks)) => {
                        node_changes.extend(asks);
                        change
                    }
                    Err(error) => {
                        failure = Some(error);
                        break;
                    }
                };
                let bytes = record.canonical_bytes();
                pending.push(core.record_appended(&record.entry, chain::leaf_hash_of(&bytes), UNWRITTEN, change));
                core.last_accepted = record.accepted.clone();
                payloads.push(bytes);
                last = Some(record.seq);
            }
            self.write_batch(&mut core, &payloads, pending)?;
        }
        if let Some(seq) = last {
            self.wait_durable(seq)?;
        }
        failure.map_or(Ok(node_changes), Err)
    }

    /// The ledger id.
    pub fn ledger_id(&self) -> LedgerId {
        self.ledger_id
    }

    /// The signed genesis.
    pub fn genesis(&self) -> &SignedEntry {
        &self.genesis
    }

    /// The directory the ledger lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The number of durable records (the tree size that proofs and checkpoints use).
    pub fn size(&self) -> u64 {
        self.durable.load(Ordering::Acquire)
    }

    /// A durable record.
    pub fn record(&self, seq: u64) -> Result<Record, LedgerError> {
        if seq >= self.size() {
            return Err(LedgerError::NoRecord(seq));
        }
        decode(seq, &self.record_bytes(seq)?)
    }

    /// Up to `limit` durable records from `from`.
    pub fn records(&self, from: u64, limit: u64) -> Result<Vec<Record>, LedgerError> {
        let end = self.size().min(from.saturating_add(limit));
        (from..end).map(|seq| self.record(seq)).collect()
    }

    /// The canonical bytes of a durable record, exactly as stored.
    pub fn record_bytes(&self, seq: u64) -> Result<Vec<u8>, LedgerError> {
        if seq >= self.size() {
            return Err(LedgerError::NoRecord(seq));
        }
        let seq_typed = Seq::new(seq).ok_or(LedgerError::NoRecord(seq))?;
        self.indexer.wait_for(seq + 1)?;
        let (position, _) = self.index.record(seq_typed)?.ok_or(LedgerError::NoRecord(seq))?;
        Ok(self.reader.read_at(position)?)
    }

    /// The receipt of an entry already in the ledger.
    pub fn receipt(&self, entry_id: &EntryId) -> Result<Option<Receipt>, LedgerError> {
        // The ledger keeps every entry id in memory (to spot re-submissions), so
        // this needs no index; records appended but not yet durable are not shown.
        let size = self.size();
        let core = self.lock_core()?;
        let Some(&(seq, _)) = core.entries.get(entry_id) else { return Ok(None) };
        if seq.get() >= size {
            return Ok(None);
        }
        let leaf_hash = LeafHash(core.tree.leaf_hash(seq.get()).ok_or(LedgerError::NoRecord(seq.get()))?);
        Ok(Some(Receipt { seq, entry_id: *entry_id, leaf_hash }))
    }

    /// The current state of an item, as of the durable records.
    ///
    /// Items live in memory (see [`Ledger::history`]): a change whose record
    /// is appended but not yet durable is shown only once it is, so this may
    /// wait for the group commit under way.
    pub fn item(&self, giai: &Giai) -> Result<Option<ItemState>, LedgerError> {
        let item = self.lock_core()?.state.item(giai).cloned();
        // `updated` is the last record that touched the item: the custody
        // rules set it on every item a record changes.
        if let Some(item) = &item {
            self.wait_durable(item.updated)?;
        }
        Ok(item)
    }

    /// Every durable record that touched an item (including the split that created
    /// it from its parent), in order.
    ///
    /// Which records touched an item is kept in memory beside the custody
    /// state, not in the index: the index would need one sled write per record
    /// for it, and sled's writes, which copy the node they write into, cost a
    /// loaded consortium node about a seventh of its CPU time.
    pub fn history(&self, giai: &Giai) -> Result<Vec<Record>, LedgerError> {
        self.history_seqs(giai)?.into_iter().map(|seq| self.record(seq)).collect()
    }

    /// The seqs of every durable record that touched an item, waiting for the
    /// group commit under way if it holds the last of them.
    pub(crate) fn history_seqs(&self, giai: &Giai) -> Result<Vec<u64>, LedgerError> {
        let seqs = self.lock_core()?.histories.get(giai).cloned().unwrap_or_default();
        if let Some(&last) = seqs.last() {
            self.wait_durable(last)?;
        }
        Ok(seqs.into_iter().map(Seq::get).collect())
    }

    /// The seqs of every durable record that changed membership, the genesis included.
    pub(crate) fn membership_records(&self) -> Result<Vec<u64>, LedgerError> {
        let size = self.indexed()?;
        Ok(self.index.membership_records()?.into_iter().map(Seq::get).filter(|seq| *seq < size).collect())
    }

    /// Every member, by id.
    pub fn members(&self) -> Result<Vec<Member>, LedgerError> {
        self.indexed()?;
        Ok(self.index.members()?)
    }

    /// The Merkle root of the first `size` records.
    pub fn root_at(&self, size: u64) -> Result<[u8; 32], LedgerError> {
        self.check_size(size)?;
        Ok(self.lock_core()?.tree.root_at(size)?)
    }

    /// An inclusion proof of record `seq` in the tree of the first `size` records.
    pub fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<[u8; 32]>, LedgerError> {
        self.check_size(size)?;
        Ok(self.lock_core()?.tree.inclusion_proof(seq, size)?)
    }

    /// A consistency proof between the trees of the first `old` and `new` records.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<[u8; 32]>, LedgerError> {
        self.check_size(new)?;
        Ok(self.lock_core()?.tree.consistency_proof(old, new)?)
    }

    /// The unsigned checkpoint of the durable ledger: origin, size and root.
    pub fn checkpoint(&self) -> Result<Checkpoint, LedgerError> {
        let size = self.size();
        let root = self.root_at(size)?;
        Checkpoint::new(checkpoint_origin(&self.ledger_id), size, root)
            .map_err(|e| LedgerError::Invalid { seq: size, reason: e.to_string() })
    }

    /// The custody state digest (see [`State::digest`]), covering every appended record.
    pub fn state_digest(&self) -> Result<[u8; 32], LedgerError> {
        Ok(self.lock_core()?.state.digest())
    }

    /// A digest of every index tree: equal ledgers have equal index digests.
    pub fn index_digest(&self) -> Result<[u8; 32], LedgerError> {
        self.indexed()?;
        Ok(self.index.digest()?)
    }

    /// Flushes the index to disk. Not needed for safety (the log is the truth),
    /// but it spares the next open a catch-up.
    pub fn flush(&self) -> Result<(), LedgerError> {
        self.indexed()?;
        Ok(self.index.flush()?)
    }

    /// Appends the records of a batch to the log in one write and queues their
    /// index updates for the next group commit.
    fn write_batch(&self, core: &mut Core, payloads: &[Vec<u8>], pending: Vec<IndexUpdate>) -> Result<(), LedgerError> {
        if payloads.is_empty() {
            return Ok(());
        }
        let slices: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        let positions = match core.log.append_batch(&slices) {
            Ok(positions) => positions,
            Err(error) => {
                // The in-memory state is now ahead of the log: stop until reopened.
                self.poisoned.store(true, Ordering::Release);
                return Err(error.into());
            }
        };
        for (mut update, position) in pending.into_iter().zip(positions) {
            update.position = position;
            core.unindexed.push(update);
        }
        Ok(())
    }

    /// Verifies and sequences a batch: on this thread if it is small, on the
    /// verification threads if not.
    fn verify_and_order(&self, entries: Unverified, order: &mut Order) -> Result<PendingOutcomes, LedgerError> {
        let mut judged =
            PendingOutcomes { outcomes: Vec::with_capacity(entries.len()), last: None, node_changes: Vec::new() };
        judged.last = if entries.len() < PARALLEL_VERIFY_THRESHOLD {
            let verified = entries.verify();
            self.sequence(verified, &mut judged, order)?
        } else {
            self.verify_and_sequence(entries, &mut judged, order)?
        };
        Ok(judged)
    }

    /// Verifies a large batch on the verification threads, a chunk at a time,
    /// while this thread sequences the chunks already verified, in order. Verification
    /// needs no state, so it runs ahead; sequencing takes the core lock once per
    /// chunk, so readers and other submitters are never held up for a whole batch.
    fn verify_and_sequence(
        &self,
        entries: Unverified,
        judged: &mut PendingOutcomes,
        order: &mut Order,
    ) -> Result<Option<Seq>, LedgerError> {
        let chunk = VERIFY_CHUNK.min(entries.len().div_ceil(VERIFY_THREADS));
        let (chunks, verdicts) = self.verifiers.verify_chunks(entries, chunk).ok_or(LedgerError::Verifier)?;
        // Chunks arrive in any order; they are sequenced in the order given.
        let mut waiting = BTreeMap::new();
        let mut wait_for = None;
        for expected in 0..chunks {
            let chunk = loop {
                if let Some(chunk) = waiting.remove(&expected) {
                    break chunk;
                }
                let (number, chunk) = verdicts.recv().map_err(|_| LedgerError::Verifier)?;
                waiting.insert(number, chunk);
            };
            let chunk = chunk.ok_or(LedgerError::Verifier)?;
            wait_for = wait_for.max(self.sequence(chunk, judged, order)?);
        }
        Ok(wait_for)
    }

    /// Sequences verified entries: checks each against the state, appends the
    /// accepted ones to the log (not yet synced) and records an outcome for every
    /// entry (and the node set changes of those accepted) in `judged`. Returns
    /// the last seq the caller must wait for.
    fn sequence(
        &self,
        verified: Vec<Result<VerifiedEntry, Refusal>>,
        judged: &mut PendingOutcomes,
        order: &mut Order,
    ) -> Result<Option<Seq>, LedgerError> {
        let mut wait_for = None;
        let mut core = self.lock_core()?;
        let accepted = match order {
            Order::Local => Timestamp::now(),
            Order::Replicated { accepted, .. } if accepted.instant() < core.last_accepted.instant() => {
                core.last_accepted.clone()
            }
            Order::Replicated { accepted, .. } => accepted.clone(),
        };
        let mut payloads = Vec::new();
        let mut pending = Vec::new();
        let mut spent = Vec::with_capacity(verified.len());
        for entry in verified {
            let entry = match entry {
                Ok(entry) => entry,
                Err(refusal) => {
                    judged.outcomes.push(Err(refusal));
                    continue;
                }
            };
            let entry_id = entry.entry().id();
            // Asked for whenever the entry is accepted, as new or as recorded before.
            let asks = NodeSetChange::asked_by(entry.body());
            if let Order::Replicated { next, .. } = order
                && *next < core.tree.len()
            {
                // This batch was applied before a crash: its records are here already.
                let outcome = core.rematch(entry.entry(), next);
                if let Ok(receipt) = &outcome {
                    wait_for = wait_for.max(Some(receipt.seq));
                    judged.node_changes.extend(asks);
                }
                judged.outcomes.push(outcome);
                continue;
            }
            if let Some(&(seq, signed)) = core.entries.get(&entry_id) {
                if signed != signatures_digest(entry.entry()) {
                    judged.outcomes.push(Err(Refusal::new(
                        RefusalCode::EntryConflict,
                        format!("statement {entry_id} is already recorded at {seq} with other signatures"),
                    )));
                    continue;
                }
                let leaf_hash = LeafHash(core.tree.leaf_hash(seq.get()).unwrap_or_default());
                wait_for = wait_for.max(Some(seq));
                judged.node_changes.extend(asks);
                judged.outcomes.push(Ok(Receipt { seq, entry_id, leaf_hash }));
                continue;
            }
            let Some(seq) = Seq::new(core.tree.len()) else {
                judged.outcomes.push(Err(Refusal::new(RefusalCode::EntryMalformed, "the ledger is full")));
                continue;
            };
            let context = Context { seq, accepted: accepted.clone() };
            let change = match core.state.check(&entry, &context) {
                Ok(change) => change,
                Err(refusal) => {
                    judged.outcomes.push(Err(refusal));
                    continue;
                }
            };
            let record = Record { seq, prev: core.last_leaf, accepted: accepted.clone(), entry: entry.into_entry() };
            core.last_accepted = accepted.clone();
            let bytes = record.canonical_bytes();
            let leaf_hash = chain::leaf_hash_of(&bytes);
            let update = core.record_appended(&record.entry, leaf_hash, UNWRITTEN, change);
            pending.push(update);
            payloads.push(bytes);
            // Freeing a record's JSON tree is not free: do it after the lock.
            spent.push(record);
            wait_for = Some(seq);
            judged.node_changes.extend(asks);
            if let Order::Replicated { next, .. } = order {
                *next = core.tree.len();
            }
            judged.outcomes.push(Ok(Receipt { seq, entry_id, leaf_hash }));
        }
        self.write_batch(&mut core, &payloads, pending)?;
        drop(core);
        drop(spent);
        Ok(wait_for)
    }

    /// The number of durable records, once the index covers every one of them.
    fn indexed(&self) -> Result<u64, LedgerError> {
        let size = self.size();
        self.indexer.wait_for(size)?;
        Ok(size)
    }

    fn check_size(&self, size: u64) -> Result<(), LedgerError> {
        if size > self.size() {
            return Err(LedgerError::Proof(ProofError::SizeBeyondTree { size, len: self.size() }));
        }
        Ok(())
    }

    fn lock_core(&self) -> Result<MutexGuard<'_, Core>, LedgerError> {
        // A panic while holding the lock could leave state and log apart.
        self.core.lock().map_err(|_| {
            self.poisoned.store(true, Ordering::Release);
            LedgerError::Poisoned
        })
    }

    /// Group commit: returns once record `seq` is durable (its index update is
    /// then queued for the indexer).
    ///
    /// If no sync is under way, this submitter leads one for every record
    /// appended so far; otherwise it waits for the one under way to end, then
    /// looks again. Waiters are woken together, so those the sync covered return
    /// at once instead of queueing one by one behind the next sync.
    fn wait_durable(&self, seq: Seq) -> Result<(), LedgerError> {
        if self.durable.load(Ordering::Acquire) > seq.get() {
            return Ok(());
        }
        let mut syncing = self.syncing.lock().map_err(|_| LedgerError::Poisoned)?;
        loop {
            if self.durable.load(Ordering::Acquire) > seq.get() {
                // Another submitter's sync covered this record.
                return Ok(());
            }
            if self.poisoned.load(Ordering::Acquire) {
                return Err(LedgerError::Poisoned);
            }
            if !*syncing {
                break;
            }
            syncing = self.synced.wait(syncing).map_err(|_| LedgerError::Poisoned)?;
        }
        *syncing = true;
        drop(syncing);
        // Ends the leadership however the sync ends, a panic included, so that
        // the waiters look again (and find the record durable or the ledger poisoned).
        let _leading = Leading(self);
        self.sync_appended()
    }

    /// Fdatasyncs the log for every record appended so far, makes them visible
    /// and hands their index updates to the indexer. Only the group commit's
    /// leader calls it.
    fn sync_appended(&self) -> Result<(), LedgerError> {
        let (handle, upto, updates) = {
            let mut core = self.lock_core()?;
            (core.log.sync_handle(), core.tree.len(), std::mem::take(&mut core.unindexed))
        };
        let synced = handle.and_then(|handle| handle.sync());
        if let Err(error) = synced {
            self.poisoned.store(true, Ordering::Release);
            return Err(error.into());
        }
        self.durable.store(upto, Ordering::Release);
        if let Err(error) = self.indexer.enqueue(updates) {
            // The records are durable, but readers would wait for them in vain: stop
            // and let a reopen rebuild the index from the log.
            self.poisoned.store(true, Ordering::Release);
            return Err(error.into());
        }
        Ok(())
    }
}

/// The group commit's leadership, held while one submitter syncs for all;
/// dropping it lets the next one lead and wakes every waiter.
struct Leading<'a>(&'a Ledger);

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        let ledger = self.0;
        // A poisoned lock (a panic while it was held) already fails every waiter.
        if let Ok(mut syncing) = ledger.syncing.lock() {
            *syncing = false;
        }
        ledger.synced.notify_all();
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        // Finish the index before the directory lock is released with the other
        // fields, so the next owner finds it complete and nobody writes behind it.
        self.indexer.stop();
        // Not needed for safety (a reopen catches the index up from the log).
        let _ = self.index.flush();
    }
}

/// How a batch is being ordered: by this ledger alone, or by consensus.
enum Order {
    /// A local submission: judged now, appended at the end.
    Local,
    /// A batch ordered by consensus, judged at `accepted`; `next` is the
    /// position of the batch's next record (below the ledger's size while the
    /// batch is being matched with records it produced before a crash).
    Replicated { accepted: Timestamp, next: u64 },
}

impl Core {
    /// Matches an entry of a re-applied batch with the record at `next`: the
    /// same statement with the same signatures was recorded there when the
    /// batch was first applied, and `next` moves on. Anything else was not
    /// recorded then (refused, or an idempotent repeat) and is not judged again.
    fn rematch(&self, entry: &SignedEntry, next: &mut u64) -> Result<Receipt, Refusal> {
        let entry_id = entry.id();
        match self.entries.get(&entry_id) {
            Some(&(seq, signed)) if seq.get() == *next && signed == signatures_digest(entry) => {
                *next += 1;
                Ok(Receipt { seq, entry_id, leaf_hash: LeafHash(self.tree.leaf_hash(seq.get()).unwrap_or_default()) })
            }
            Some(&(seq, signed)) if seq.get() < *next && signed == signatures_digest(entry) => {
                Ok(Receipt { seq, entry_id, leaf_hash: LeafHash(self.tree.leaf_hash(seq.get()).unwrap_or_default()) })
            }
            _ => Err(Refusal::new(
                RefusalCode::EntryConflict,
                format!(
                    "statement {entry_id} was not recorded when this batch was first applied, before the node restarted"
                ),
            )),
        }
    }

    /// Applies a record's change to the state, books the record into the tree
    /// and the entry map, and returns its index update.
    fn record_appended(
        &mut self,
        entry: &SignedEntry,
        leaf_hash: LeafHash,
        position: LogPosition,
        change: Change,
    ) -> IndexUpdate {
        let members = change.members.clone();
        let seq = Seq::new(self.tree.len()).unwrap_or_default();
        for item in &change.items {
            match self.histories.get_mut(&item.giai) {
                Some(seqs) => seqs.push(seq),
                None => {
                    self.histories.insert(item.giai.clone(), vec![seq]);
                }
            }
        }
        self.state.apply(change);
        let mut merkle_nodes = self.tree.push(leaf_hash.0);
        merkle_nodes.retain(|(level, _, _)| *level >= index::MERKLE_MIN_LEVEL);
        self.entries.insert(entry.id(), (seq, signatures_digest(entry)));
        self.last_leaf = leaf_hash;
        IndexUpdate { seq, leaf_hash, position, members, merkle_nodes }
    }
}

/// The checkpoint origin line of a ledger: `salvage/<ledger id>`.
pub fn checkpoint_origin(ledger_id: &LedgerId) -> String {
    format!("salvage/{ledger_id}")
}

/// Verifies entries on the verification threads; the verdicts come back in order.
fn verify_in_order(
    verifiers: &Verifiers,
    entries: Vec<SignedEntry>,
) -> Result<Vec<Result<VerifiedEntry, Refusal>>, LedgerError> {
    let (chunks, verdicts) =
        verifiers.verify_chunks(Unverified::Decoded(entries), VERIFY_CHUNK).ok_or(LedgerError::Verifier)?;
    let mut ordered: Vec<Option<Vec<_>>> = (0..chunks).map(|_| None).collect();
    for _ in 0..chunks {
        let (number, chunk) = verdicts.recv().map_err(|_| LedgerError::Verifier)?;
        let slot = ordered.get_mut(number).ok_or(LedgerError::Verifier)?;
        *slot = Some(chunk.ok_or(LedgerError::Verifier)?);
    }
    Ok(ordered.into_iter().flatten().flatten().collect())
}

/// A digest of an entry's signatures, independent of their order.
fn signatures_digest(entry: &SignedEntry) -> [u8; 32] {
    let mut signatures: Vec<[u8; 96]> = entry
        .signatures()
        .iter()
        .map(|s| {
            let mut both = [0u8; 96];
            both[..32].copy_from_slice(s.key.as_bytes());
            both[32..].copy_from_slice(&s.sig.to_bytes());
            both
        })
        .collect();
    signatures.sort_unstable();
    *blake3::hash(&signatures.concat()).as_bytes()
}

/// Writes and syncs the genesis record if the log holds no record yet; returns
/// whether it did. The caller holds the directory lock.
fn write_genesis_if_empty(dir: &Path, genesis: SignedEntry) -> Result<bool, LedgerError> {
    State::from_genesis(&genesis).map_err(LedgerError::Genesis)?;
    let (mut log, contents) = RecordLog::open(&dir.join("log"), LogOptions::default())?;
    if !contents.frames.is_empty() {
        return Ok(false);
    }
    // Record 0 is accepted at the genesis statement's own time, so every node of
    // a consortium that starts from the same genesis holds the same record 0.
    let accepted = genesis.statement().time.clone();
    let record = Record { seq: Seq::GENESIS, prev: LeafHash::ZERO, accepted, entry: genesis };
    log.append(&record.canonical_bytes())?;
    log.sync()?;
    Ok(true)
}

/// Takes the exclusive lock of a ledger directory, creating the directory if needed.
fn lock_directory(dir: &Path) -> Result<std::fs::File, LedgerError> {
    let failed = |source| LedgerError::Directory { path: dir.to_owned(), source };
    std::fs::create_dir_all(dir).map_err(failed)?;
    let path = dir.join("lock");
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(failed)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(LedgerError::Locked(dir.to_owned())),
        Err(std::fs::TryLockError::Error(source)) => Err(LedgerError::Directory { path, source }),
    }
}

fn decode(seq: u64, bytes: &[u8]) -> Result<Record, LedgerError> {
    Record::from_json_bytes(bytes).map_err(|e| invalid(seq, e))
}

fn genesis_record_entry(bytes: &[u8]) -> Result<SignedEntry, LedgerError> {
    Ok(decode(0, bytes)?.entry)
}

fn invalid(seq: u64, reason: impl std::fmt::Display) -> LedgerError {
    LedgerError::Invalid { seq, reason: reason.to_string() }
}

#[cfg(test)]
mod tests;
