//! Opening a ledger: creating it from a genesis, locking its directory, and recovery, which
//! replays and verifies every stored record and brings the index level with the log.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Condvar, Mutex};

use super::core::Core;
use super::error::{LedgerError, decode, invalid};
use super::index::{Index, IndexUpdate};
use super::indexer::{self, Indexer};
use super::log::{LogOptions, LogPosition, RecordLog, TailCut};
use super::private::PrivateStore;
use super::verifiers::{Unverified, Verifiers};
use super::{Ledger, VERIFY_CHUNK, VERIFY_THREADS};
use crate::chain::{self, LeafHash, Record, Seq};
use crate::custody::{Change, Context, LedgerFormat, State, VerifiedEntry};
use crate::disclosure::Disclosure;
use crate::entry::{LedgerId, SignedEntry};
use crate::merkle::MerkleTree;
use crate::refusal::Refusal;

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
    /// Records that withhold values whose disclosures the private store does
    /// not hold (format 2): they were judged publicly, and their values cannot
    /// be read from this node.
    pub disclosures_missing: u64,
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

    /// The open itself, once the caller holds the directory lock: replays and verifies every
    /// record of the log into a fresh core, then sets the index to catch up from where it agrees.
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
        let format = state.consortium().format;
        let (private, mut stored_frames) = PrivateStore::open(dir)?;
        let private_reader = private.reader();
        let genesis_leaf = chain::leaf_hash_of(&genesis_bytes);

        let mut core = Core {
            state,
            log,
            private,
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
        let mut disclosures_missing = 0;
        for chunk in frames.chunks(REPLAY_CHUNK) {
            let first = core.tree.len();
            let mut records = Vec::with_capacity(chunk.len());
            for (offset, (_, bytes)) in chunk.iter().enumerate() {
                records.push(decode(first + offset as u64, bytes)?);
            }
            // Each record with the disclosures the private store holds for it;
            // one without (none withheld, or none held) is judged publicly.
            let mut entries = Vec::with_capacity(records.len());
            for record in &records {
                let held = stored_frames
                    .remove(&record.seq.get())
                    .filter(|(_, frame)| frame.entry_id == record.entry.id())
                    .map(|(position, frame)| {
                        core.private.hold(record.seq.get(), position);
                        frame.disclosures
                    });
                entries.push((record.entry.clone(), held));
            }
            for ((record, verified), (position, bytes)) in
                records.into_iter().zip(verify_in_order(&verifiers, format, entries)?).zip(chunk)
            {
                let seq = core.tree.len();
                chain::check_link(seq, core.last_leaf, &record).map_err(|e| invalid(seq, e))?;
                let entry_id = record.entry.id();
                if core.entries.contains_key(&entry_id) {
                    return Err(invalid(seq, format!("entry {entry_id} is recorded twice")));
                }
                let context = Context { seq: record.seq, accepted: record.accepted };
                let verified = verified.map_err(|e| invalid(seq, e))?;
                disclosures_missing += u64::from(verified.withheld() > 0);
                let change = core.state.check(&verified, &context).map_err(|e| invalid(seq, e))?;
                updates.push(core.record_appended(verified.entry(), chain::leaf_hash_of(bytes), *position, change));
                core.last_accepted = context.accepted;
            }
        }
        let size = core.tree.len();

        let index = Index::open(&dir.join("index"))?;
        let mut report = OpenReport { size, tail_cut: contents.tail_cut, disclosures_missing, ..OpenReport::default() };
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
        let digest = core.state.digest();
        let ledger = Ledger {
            dir: dir.to_owned(),
            _lock: lock,
            genesis: genesis_record_entry(&genesis_bytes)?,
            ledger_id,
            format,
            core: Mutex::new(core),
            syncing: Mutex::new(false),
            synced: Condvar::new(),
            durable: AtomicU64::new(size),
            durable_digest: Mutex::new((size, digest)),
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

/// How many stored records are verified together when a ledger is opened.
const REPLAY_CHUNK: usize = 1024;

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

/// The genesis entry held in record 0's bytes.
fn genesis_record_entry(bytes: &[u8]) -> Result<SignedEntry, LedgerError> {
    Ok(decode(0, bytes)?.entry)
}
