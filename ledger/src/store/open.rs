//! Opening a ledger: creating it from a genesis, locking its directory, and recovery.
//!
//! Opening does not replay history. The index holds the custody state after its first `size`
//! records, with the leaf hash of record `size - 1`; when the log holds that record with that leaf
//! hash, the ledger starts from the index and verifies only the records written after it (a
//! crash leaves the index a little behind the log). An index that is missing, damaged, of another
//! ledger or ahead of the log is rebuilt by replaying and verifying every record, reporting its
//! progress. Re-verifying the whole history is the audit's job.

use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Condvar, Mutex};

use super::core::{Core, Tip};
use super::error::{LedgerError, decode, invalid};
use super::index::{Covered, Index, StateSummary, guarded};
use super::indexer::{self, Indexer};
use super::log::{LogOptions, LogPosition, LogReader, RecordLog, TailCut};
use super::private::{FrameMatcher, PrivateStore};
use super::verifiers::{Unverified, Verifiers};
use super::{Ledger, VERIFY_CHUNK, VERIFY_THREADS};
use crate::chain::{self, LeafHash, Record, Seq};
use crate::custody::{Change, Context, LedgerFormat, State, VerifiedEntry};
use crate::disclosure::Disclosure;
use crate::entry::{LedgerId, SignedEntry};
use crate::merkle::Frontier;
use crate::refusal::Refusal;

/// What opening a ledger found and repaired.
#[derive(Debug, Clone, Default)]
pub struct OpenReport {
    /// Records in the ledger.
    pub size: u64,
    /// A torn tail that was cut (its bytes are kept in the log's quarantine folder).
    pub tail_cut: Option<TailCut>,
    /// Why the index was rebuilt from the log, if it was.
    pub index_rebuilt: Option<String>,
    /// How many records were verified and replayed: those after the index, or all of them
    /// when it was rebuilt.
    pub replayed: u64,
    /// Records that withhold values whose disclosures the private store does
    /// not hold (format 2), among those replayed: they were judged publicly, and
    /// their values cannot be read from this node.
    pub disclosures_missing: u64,
}

/// How to open a ledger: what it may keep in memory, and who hears of a long rebuild.
#[derive(Clone)]
pub struct OpenOptions {
    /// Items kept in memory after they were read back from the index, beyond those the
    /// records not yet indexed changed.
    pub cached_items: NonZeroUsize,
    /// The index database's own cache of pages, in bytes.
    pub index_cache_bytes: usize,
    /// Called now and then while records are replayed, with how many have been.
    pub progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            cached_items: NonZeroUsize::new(100_000).unwrap_or(NonZeroUsize::MIN),
            index_cache_bytes: 64 << 20,
            progress: None,
        }
    }
}

impl std::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenOptions")
            .field("cached_items", &self.cached_items)
            .field("index_cache_bytes", &self.index_cache_bytes)
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// Creates a ledger in an empty (or absent) directory from a signed genesis.
    pub fn create(dir: &Path, genesis: SignedEntry) -> Result<Ledger, LedgerError> {
        let lock = lock_directory(dir)?;
        if !write_genesis_if_empty(dir, genesis)? {
            return Err(LedgerError::Exists(dir.to_owned()));
        }
        let (ledger, _) = Self::open_locked(dir, lock, &OpenOptions::default())?;
        Ok(ledger)
    }

    /// Opens the ledger in `dir`, creating it from `genesis` if the directory holds none.
    /// A directory holding another ledger is refused.
    ///
    /// A log without a single record (a crash while the ledger was being created)
    /// counts as none: the genesis is written into it.
    pub fn open_or_create(dir: &Path, genesis: SignedEntry) -> Result<(Ledger, OpenReport), LedgerError> {
        Self::open_or_create_with(dir, genesis, &OpenOptions::default())
    }

    /// [`Ledger::open_or_create`] with options.
    pub fn open_or_create_with(
        dir: &Path,
        genesis: SignedEntry,
        options: &OpenOptions,
    ) -> Result<(Ledger, OpenReport), LedgerError> {
        let expected = LedgerId(genesis.id().0);
        let lock = lock_directory(dir)?;
        write_genesis_if_empty(dir, genesis)?;
        let (ledger, report) = Self::open_locked(dir, lock, options)?;
        if ledger.ledger_id != expected {
            return Err(LedgerError::WrongLedger { dir: dir.to_owned(), found: ledger.ledger_id, expected });
        }
        Ok((ledger, report))
    }

    /// Opens an existing ledger.
    ///
    /// A torn tail (the unsynced end of the log after a crash) is cut and reported. The records
    /// the index does not cover are verified and replayed, or every record when the index must
    /// be rebuilt; any damage met, and any record that does not verify, refuses the open with
    /// the reason.
    pub fn open(dir: &Path) -> Result<(Ledger, OpenReport), LedgerError> {
        Self::open_with(dir, &OpenOptions::default())
    }

    /// [`Ledger::open`] with options.
    pub fn open_with(dir: &Path, options: &OpenOptions) -> Result<(Ledger, OpenReport), LedgerError> {
        if !dir.join("log").is_dir() {
            return Err(LedgerError::Missing(dir.to_owned()));
        }
        let lock = lock_directory(dir)?;
        Self::open_locked(dir, lock, options)
    }

    /// The open itself, once the caller holds the directory lock.
    fn open_locked(
        dir: &Path,
        lock: std::fs::File,
        options: &OpenOptions,
    ) -> Result<(Ledger, OpenReport), LedgerError> {
        let verifiers = Verifiers::start(VERIFY_THREADS)
            .map_err(|source| LedgerError::Directory { path: dir.to_owned(), source })?;
        let (log, tail) = RecordLog::open_tail(&dir.join("log"), LogOptions::default())?;
        let Some(genesis_position) = tail.first else {
            return Err(LedgerError::Missing(dir.to_owned()));
        };
        let reader = log.reader();
        let genesis_bytes = reader.read_at(genesis_position)?;
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
        let founded = State::from_genesis(&genesis_record.entry).map_err(|e| invalid(0, e))?;
        let ledger_id = founded.consortium().ledger_id;
        let format = founded.consortium().format;
        let private = PrivateStore::open(dir)?;
        let private_reader = private.reader();
        // The sled index of earlier versions is derived data this version does not read.
        let _ = std::fs::remove_dir_all(dir.join("index"));
        let (mut index, replaced) = Index::open_or_replace(dir, options.index_cache_bytes)?;
        let mut report = OpenReport { tail_cut: tail.tail_cut.clone(), ..OpenReport::default() };

        // The index judged its records with the disclosures the private store held then.
        let was_replaced = replaced.is_some();
        let resume = match replaced {
            Some(reason) => Err(reason),
            None => guarded(|| resume_point(&index, &reader, ledger_id, tail.end))?
                .and_then(|point| private_still_there(&index, &private_reader).map(|()| point)),
        };
        if resume.is_err() && !was_replaced {
            // Rebuilt into a new file: whatever is wrong with the old one goes with it.
            drop(index);
            index = Index::replace(dir, options.index_cache_bytes)?;
        }
        let index = Arc::new(index);
        let (mut core, after, private_after) = match resume {
            Ok((covered, summary, position)) => {
                let state = State::restore(
                    founded.consortium().clone(),
                    index.members()?,
                    summary.lattice.clone(),
                    summary.item_count,
                );
                let tree = Frontier::from_peaks(covered.size, summary.frontier.clone())
                    .map_err(|e| invalid(covered.size, format!("the index's Merkle frontier: {e}")))?;
                let tip = Tip { tree, last_leaf: summary.last_leaf, last_accepted: summary.last_accepted.clone() };
                let core = Core::new(state, tip, (log, private, Arc::clone(&index)), options.cached_items);
                (core, position, index.last_disclosures()?.map(|(_, position)| position))
            }
            Err(reason) => {
                report.index_rebuilt = Some(reason);
                let tip = Tip {
                    tree: Frontier::new(),
                    last_leaf: LeafHash::ZERO,
                    last_accepted: genesis_record.accepted.clone(),
                };
                let mut core = Core::new(founded, tip, (log, private, Arc::clone(&index)), options.cached_items);
                // The founders are already in the state; applying them again changes nothing
                // and puts them in the genesis record's index update.
                let founders = Change { members: core.state.members().cloned().collect(), items: Vec::new() };
                let genesis_leaf = chain::leaf_hash_of(&genesis_bytes);
                let update = core.record_appended(&genesis_record.entry, genesis_leaf, genesis_position, founders);
                core.unindexed.push(update);
                (core, genesis_position, None)
            }
        };
        let indexed_from = core.tree.len() - core.unindexed.len() as u64;
        let indexer = Indexer::start(Arc::clone(&index), ledger_id, indexed_from, indexer::LINGER)
            .map_err(|source| LedgerError::Directory { path: dir.join(super::index::INDEX_FILE), source })?;

        let frames = FrameMatcher::new(core.private.stored_frames(private_after));
        let replay = Replay { verifiers: &verifiers, format, indexer: &indexer, progress: options.progress.as_deref() };
        let (replayed, disclosures_missing) = replay.run(&mut core, &reader, after, tail.end, frames)?;
        report.replayed = replayed + u64::from(report.index_rebuilt.is_some());
        report.disclosures_missing = disclosures_missing;
        let size = core.tree.len();
        report.size = size;
        let digest = (core.state.digest(), core.tree.root());

        let ledger = Ledger {
            dir: dir.to_owned(),
            _lock: lock,
            genesis: genesis_record.entry,
            ledger_id,
            format,
            core: Mutex::new(core),
            syncing: Mutex::new(false),
            synced: Condvar::new(),
            durable: AtomicU64::new(size),
            durable_digest: Mutex::new((size, digest.0, digest.1)),
            poisoned: AtomicBool::new(false),
            reader,
            private_reader,
            index,
            indexer,
            verifiers,
        };
        Ok((ledger, report))
    }
}

/// Where opening can take up from the index: what it covers, the state after it, and the log
/// position of its last record; or why it cannot, and the index must be rebuilt.
fn resume_point(
    index: &Index,
    reader: &LogReader,
    ledger_id: LedgerId,
    end: LogPosition,
) -> Result<Result<(Covered, StateSummary, LogPosition), String>, LedgerError> {
    let covered = match index.covered() {
        Ok(covered) => covered,
        Err(error) => return Ok(Err(format!("the index cannot be read: {error}"))),
    };
    if covered.size == 0 {
        return Ok(Err("the index is empty".to_owned()));
    }
    if covered.ledger_id != Some(ledger_id) {
        return Ok(Err("the index is of another ledger".to_owned()));
    }
    let Some(summary) = covered.summary.clone() else {
        return Ok(Err("the index holds no custody state (written by an earlier version)".to_owned()));
    };
    let last = covered.size - 1;
    let position = match index.record(last) {
        Ok(Some((position, _))) => position,
        Ok(None) => return Ok(Err(format!("the index does not locate its last record, {last}"))),
        Err(error) => return Ok(Err(format!("the index cannot be read: {error}"))),
    };
    if position >= end {
        return Ok(Err(format!("the index covers {} records, more than the log holds", covered.size)));
    }
    // The log must hold the index's last record, as the index knew it.
    let matches = reader
        .read_at(position)
        .ok()
        .filter(|bytes| chain::leaf_hash_of(bytes) == summary.last_leaf)
        .and_then(|bytes| Record::from_json_bytes(&bytes).ok())
        .is_some_and(|record| record.seq.get() == last);
    if !matches {
        return Ok(Err(format!("record {last} of the log is not the one the index was written for")));
    }
    Ok(Ok((covered, summary, position)))
}

/// Whether the private store still holds the last frame the index names: if it lost it (or
/// was replaced), records the index judged with their disclosures must be judged again.
fn private_still_there(index: &Index, private: &LogReader) -> Result<(), String> {
    let Some((seq, position)) = index.last_disclosures().map_err(|e| format!("the index cannot be read: {e}"))? else {
        return Ok(());
    };
    let held = Seq::new(seq).and_then(|seq| super::private::read_frame(private, position, seq).ok());
    match held {
        Some(_) => Ok(()),
        None => Err(format!("the private store no longer holds the disclosures of record {seq}")),
    }
}

/// How many stored records are verified together when a ledger is opened.
const REPLAY_CHUNK: usize = 1024;

/// How often, in records, opening reports its progress.
const PROGRESS_EVERY: u64 = 100_000;

/// Verifying and applying the stored records opening must replay.
struct Replay<'a> {
    verifiers: &'a Verifiers,
    format: LedgerFormat,
    indexer: &'a Indexer,
    progress: Option<&'a (dyn Fn(u64) + Send + Sync)>,
}

impl Replay<'_> {
    /// Replays the records after `after` and before `end`, a chunk at a time: signatures and
    /// schemas on both cores, then the rules in order; each chunk's index updates go to the
    /// indexer, so memory holds a few chunks whatever the length. Returns how many records were
    /// replayed and how many of them lacked their disclosures.
    fn run<I>(
        &self,
        core: &mut Core,
        reader: &LogReader,
        after: LogPosition,
        end: LogPosition,
        mut frames: FrameMatcher<I>,
    ) -> Result<(u64, u64), LedgerError>
    where
        I: Iterator<Item = Result<(LogPosition, super::private::PrivateFrame), LedgerError>>,
    {
        let mut stream = reader.frames_between(Some(after), end);
        let (mut replayed, mut disclosures_missing) = (0u64, 0u64);
        loop {
            let mut chunk = Vec::with_capacity(REPLAY_CHUNK);
            for frame in stream.by_ref().take(REPLAY_CHUNK) {
                chunk.push(frame?);
            }
            if chunk.is_empty() {
                break;
            }
            let first = core.tree.len();
            let mut records = Vec::with_capacity(chunk.len());
            for (offset, (_, bytes)) in chunk.iter().enumerate() {
                records.push(decode(first + offset as u64, bytes)?);
            }
            // Each record with the disclosures the private store holds for it; one without
            // (none withheld, or none held) is judged publicly.
            let mut entries = Vec::with_capacity(records.len());
            for record in &records {
                let withholds = record.entry.statement().body.get(crate::disclosure::DIGESTS_MEMBER).is_some();
                let held = if withholds { frames.frame_of(record.seq.get(), &record.entry.id())? } else { None };
                let held = held.map(|(position, frame)| {
                    core.private.hold(record.seq.get(), position);
                    frame.disclosures
                });
                entries.push((record.entry.clone(), held));
            }
            for ((record, verified), (position, bytes)) in
                records.into_iter().zip(verify_in_order(self.verifiers, self.format, entries)?).zip(&chunk)
            {
                let seq = core.tree.len();
                chain::check_link(seq, core.last_leaf, &record).map_err(|e| invalid(seq, e))?;
                let entry_id = record.entry.id();
                if core.entry(&entry_id)?.is_some() {
                    return Err(invalid(seq, format!("entry {entry_id} is recorded twice")));
                }
                let context = Context { seq: record.seq, accepted: record.accepted };
                let verified = verified.map_err(|e| invalid(seq, e))?;
                disclosures_missing += u64::from(verified.withheld() > 0);
                core.load(verified.body())?;
                let change = core.state.check(&verified, &context).map_err(|e| invalid(seq, e))?;
                core.check_named_root(verified.body())?.map_err(|e| invalid(seq, e))?;
                core.last_accepted = context.accepted;
                let mut update = core.record_appended(verified.entry(), chain::leaf_hash_of(bytes), *position, change);
                update.disclosures = core.private.position(seq);
                core.unindexed.push(update);
            }
            replayed += chunk.len() as u64;
            self.indexer.enqueue(core.take_unindexed())?;
            core.settle(self.indexer.indexed());
            if let Some(progress) = self.progress
                && replayed % PROGRESS_EVERY < REPLAY_CHUNK as u64
            {
                progress(replayed);
            }
        }
        // The genesis of a rebuilt index, when nothing follows it.
        self.indexer.enqueue(core.take_unindexed())?;
        Ok((replayed, disclosures_missing))
    }
}

/// Verifies entries on the verification threads; the verdicts come back in order.
fn verify_in_order(
    verifiers: &Verifiers,
    format: LedgerFormat,
    entries: Vec<(SignedEntry, Option<Vec<Disclosure>>)>,
) -> Result<Vec<Result<VerifiedEntry, Refusal>>, LedgerError> {
    let (chunks, verdicts) =
        verifiers.verify_chunks(Unverified::Disclosed(entries), format, VERIFY_CHUNK).ok_or(LedgerError::Verifier)?;
    let mut ordered: Vec<Option<Vec<_>>> = (0..chunks).map(|_| None).collect();
    for _ in 0..chunks {
        let (number, chunk) = verdicts.recv().map_err(|_| LedgerError::Verifier)?;
        let slot = ordered.get_mut(number).ok_or(LedgerError::Verifier)?;
        *slot = Some(chunk.ok_or(LedgerError::Verifier)?);
    }
    Ok(ordered.into_iter().flatten().flatten().collect())
}

/// Writes and syncs the genesis record if the log holds no record yet; returns
/// whether it did. The caller holds the directory lock.
fn write_genesis_if_empty(dir: &Path, genesis: SignedEntry) -> Result<bool, LedgerError> {
    State::from_genesis(&genesis).map_err(LedgerError::Genesis)?;
    let (mut log, tail) = RecordLog::open_tail(&dir.join("log"), LogOptions::default())?;
    if tail.first.is_some() {
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
