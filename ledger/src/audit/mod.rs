//! Audit: replay a whole record stream and report every problem found.
//!
//! An auditor trusts nothing but the genesis. [`audit`] decodes every record,
//! checks its position and chain link, verifies every signature, replays every
//! custody rule, rebuilds the Merkle tree, and compares the root with a signed
//! checkpoint and an earlier one. Unlike opening a ledger it does not stop at
//! the first problem: a certification body files the whole list.
//!
//! Its memory does not grow with the ledger: records are read and checked a chunk at a time,
//! the Merkle tree is kept as its right edge (with the roots at the sizes the checkpoints
//! name), and the items replayed and entry ids seen go to a temporary database after every
//! chunk (`spill`), read back when a later entry names them.
//!
//! Every signature gets the verdict `verify_strict` would give it alone: the rule that
//! decided acceptance (docs/rules.md). The signatures of a chunk's records are checked as a
//! node checks a batch of submissions (`SignedEntry::verify_signatures_each`): each
//! signature's equation on its own and exactly, sharing only the field inversion that encodes
//! the recomputed points (see the crate's `signature` module). Batch verification, though
//! faster, is not used, because its one equation for many signatures is not that rule: the
//! holder of a member's key can add a small-order part to an otherwise valid `R`, which
//! `verify_strict` refuses and a cofactorless batch equation accepts whenever the coefficient
//! it draws for that signature is a multiple of the part's order. ed25519-dalek draws the
//! coefficients from the batch's own content, so the holder can try nonces until it is. An
//! audit replays the rules, so it refuses what they refuse.
//!
//! The work is pipelined: while two threads decode and verify one chunk of
//! records, the calling thread replays the chunk before it (chain, rules, tree),
//! which must happen in order. Problems are reported in record order all the same.

mod allocation;
mod checkpoints;
mod decode;
mod later_rules;
mod past_roots;
mod spill;

pub use allocation::Unallocated;
pub(crate) use checkpoints::check_checkpoint;
use checkpoints::check_earlier_signatures;
pub use later_rules::WouldRefuse;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::thread::{Scope, ScopedJoinHandle};

use serde::Serialize;

use crate::chain::{self, LeafHash, Record, Seq};
use crate::checkpoint::SignedCheckpoint;
use crate::custody::{Context, LedgerFormat, State, VerifiedEntry, require_root};
use crate::disclosure::Disclosure;
use crate::entry::{EntryId, LedgerId, SignedEntry, Timestamp};
use crate::hex::to_lower_hex;
use crate::merkle::{Blake3Hasher, Frontier, MerkleHasher};
use crate::refusal::{Refusal, RefusalCode};

/// How many records are checked in parallel while the ones before are replayed; large
/// enough to spare thread starts and share field inversions, small enough to keep memory
/// flat on a 100,000-record audit.
const CHUNK: usize = 512;

/// The most problems listed one by one; beyond it only the count grows.
const MAX_LISTED_PROBLEMS: usize = 1000;

/// One thing wrong with a ledger, a record or a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The record it concerns, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// A stable code (listed in `docs/format.md`); for a refused record, the
    /// rule's refusal code prefixed with `record.refused:`.
    pub code: String,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(seq: Option<u64>, code: &str, message: impl Into<String>) -> Problem {
        Problem { seq, code: code.to_owned(), message: message.into() }
    }
}

/// A checkpoint the auditor holds from before, e.g. saved by an earlier audit.
#[derive(Debug, Clone)]
pub struct EarlierCheckpoint {
    /// Its tree size.
    pub size: u64,
    /// Its root hash.
    pub root: [u8; 32],
    /// The signed note it came from, if any. Its signatures are checked against
    /// every key the consortium's operators ever had (a key revoked since may
    /// well have signed it), so that a saved file edited to match a rewritten
    /// history is reported rather than trusted.
    pub note: Option<SignedCheckpoint>,
}

impl EarlierCheckpoint {
    /// The size and root of a signed checkpoint, keeping the note for its signatures.
    pub fn from_note(note: SignedCheckpoint) -> EarlierCheckpoint {
        EarlierCheckpoint { size: note.checkpoint.size(), root: *note.checkpoint.root(), note: Some(note) }
    }
}

/// What to compare the replayed ledger with.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// The ledger's current signed checkpoint (its root must match the records).
    pub checkpoint: Option<SignedCheckpoint>,
    /// A checkpoint from an earlier audit (the ledger must extend it).
    pub earlier: Option<EarlierCheckpoint>,
    /// How many distinct operators must have signed or cosigned the checkpoint
    /// (0 and 1 both mean one): the auditor's trust policy, e.g. a majority
    /// of the consortium's nodes, so that no single operator can vouch alone.
    pub required_signers: usize,
    /// Disclosures the auditor holds (a member's own, format 2), by entry id:
    /// the records they belong to are judged whole, their values against the
    /// schemas and rules, instead of publicly.
    pub disclosures: HashMap<EntryId, Vec<Disclosure>>,
}

/// What the checkpoint check found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointFinding {
    /// The checkpoint's tree size.
    pub size: u64,
    /// Its root, hex.
    pub root: String,
    /// Operator members whose signatures verify.
    pub signed_by: Vec<String>,
    /// How many operator members the ledger has.
    pub operators: usize,
}

/// The result of an audit: counts, the root, and every problem.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// The ledger id (blake3 of the genesis statement).
    pub ledger_id: LedgerId,
    /// Records read.
    pub records: u64,
    /// Signatures verified.
    pub signatures: u64,
    /// The Merkle root of all records read, hex.
    pub root: String,
    /// The custody state digest after the last record read (hex, docs/format.md §14):
    /// a node that holds the same records reports the same one in its status.
    pub state: String,
    /// Items in the replayed state.
    pub items: usize,
    /// Members in the replayed state.
    pub members: usize,
    /// Records that withhold restricted values (format 2): judged without
    /// them, so their schema and the rules that read them were not checked.
    pub records_withholding: u64,
    /// Restricted values withheld in those records, which the audit could not check.
    pub values_unchecked: u64,
    /// Restricted values checked with the disclosures the auditor holds.
    pub values_checked: u64,
    /// GIAIs registered outside their registrant's prefixes and ranges on a ledger that does
    /// not allocate GIAIs: what the allocation rule would have refused (docs/rules.md §10).
    pub giais_unallocated: u64,
    /// The first [`allocation::LISTED`] of them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unallocated: Vec<Unallocated>,
    /// Entries that the waste and attestation rules (docs/rules.md §11) would have refused, on a
    /// ledger founded before them.
    pub rules_would_refuse: u64,
    /// The first [`later_rules::LISTED`] of them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub would_refuse: Vec<WouldRefuse>,
    /// The checkpoint check, when a checkpoint was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<CheckpointFinding>,
    /// Every problem found (at most 1000 listed).
    pub problems: Vec<Problem>,
    /// How many problems were found in all.
    pub problem_count: u64,
}

impl AuditReport {
    /// Whether the audit found nothing wrong.
    pub fn is_clean(&self) -> bool {
        self.problem_count == 0
    }
}

/// Audits a stream of canonical record bytes (record 0 first) against a genesis.
///
/// `progress` is called after every chunk with the number of records read so far.
pub fn audit<I, E>(
    genesis: &SignedEntry,
    records: I,
    options: &AuditOptions,
    progress: &mut dyn FnMut(u64),
) -> AuditReport
where
    I: IntoIterator<Item = Result<Vec<u8>, E>>,
    E: std::fmt::Display,
{
    run(genesis, records, options, progress, None)
}

/// [`audit`], handing `observe` every record the rules accepted, in ledger order (the genesis
/// first), a chunk at a time after the chunk was replayed: a certifier's findings follow the
/// custody chains the audit proved, in the same pass, without decoding any record twice. The
/// records are the observer's to keep: one that hands them on to a thread of its own takes its
/// work (and freeing them) off the thread that replays the rules.
pub fn audit_observing<I, E>(
    genesis: &SignedEntry,
    records: I,
    options: &AuditOptions,
    progress: &mut dyn FnMut(u64),
    observe: &mut dyn FnMut(Vec<Record>),
) -> AuditReport
where
    I: IntoIterator<Item = Result<Vec<u8>, E>>,
    E: std::fmt::Display,
{
    run(genesis, records, options, progress, Some(observe))
}

fn run<I, E>(
    genesis: &SignedEntry,
    records: I,
    options: &AuditOptions,
    progress: &mut dyn FnMut(u64),
    mut observe: Option<&mut dyn FnMut(Vec<Record>)>,
) -> AuditReport
where
    I: IntoIterator<Item = Result<Vec<u8>, E>>,
    E: std::fmt::Display,
{
    let mut auditor = Auditor::new(genesis, options);
    auditor.observing = observe.is_some();
    let mut progress = |auditor: &mut Auditor| {
        if let Some(observe) = observe.as_mut()
            && !auditor.accepted.is_empty()
        {
            observe(std::mem::take(&mut auditor.accepted));
        }
        progress(auditor.tree.len());
    };
    std::thread::scope(|scope| {
        // The chunk being checked on the worker threads while the one before it is replayed.
        let mut in_flight: Option<InFlight<'_>> = None;
        let mut read = 0u64;
        let mut chunk = Vec::with_capacity(CHUNK);
        for item in records {
            match item {
                Ok(bytes) => chunk.push(bytes),
                Err(error) => {
                    // Everything read before the error is reported before it, as records come in order.
                    if let Some(checking) = in_flight.take() {
                        auditor.replay_chunk(checking.join());
                        progress(&mut auditor);
                    }
                    auditor.problem(Problem::new(
                        Some(read + chunk.len() as u64),
                        "record.unreadable",
                        error.to_string(),
                    ));
                    break;
                }
            }
            if chunk.len() == CHUNK {
                let started = InFlight::start(scope, read, std::mem::take(&mut chunk), genesis, options);
                read += CHUNK as u64;
                if let Some(checking) = in_flight.replace(started) {
                    auditor.replay_chunk(checking.join());
                    progress(&mut auditor);
                }
            }
        }
        if let Some(checking) = in_flight.take() {
            auditor.replay_chunk(checking.join());
            progress(&mut auditor);
        }
        auditor.replay_chunk(InFlight::start(scope, read, chunk, genesis, options).join());
        progress(&mut auditor);
    });
    auditor.finish(options)
}

/// The replay of a record stream.
struct Auditor {
    ledger_id: LedgerId,
    // The custody state, whose items are written to `spill` after every chunk and read back
    // as entries name them: memory holds a chunk's working set, not the whole ledger.
    state: Option<State>,
    genesis: SignedEntry,
    // The tree's right edge, and its roots at the sizes the checkpoints name.
    tree: Frontier<Blake3Hasher>,
    roots: BTreeMap<u64, Option<[u8; 32]>>,
    // Every past root, for the conclusions that name one.
    past: past_roots::PastRoots,
    last_leaf: LeafHash,
    // The entry ids seen and the items replayed; `None` when no temporary storage could be
    // made, and then `entries` and the state hold everything in memory.
    spill: Option<spill::Spill>,
    entries: HashSet<[u8; 32]>,
    // Set when the temporary storage failed mid-way: the rules are replayed no further.
    halted: bool,
    signatures: u64,
    records_withholding: u64,
    values_unchecked: u64,
    values_checked: u64,
    giais_unallocated: u64,
    unallocated: Vec<Unallocated>,
    rules_would_refuse: u64,
    would_refuse: Vec<WouldRefuse>,
    problems: Vec<Problem>,
    problem_count: u64,
    // Whether accepted records are kept for an observer, and those of the chunk replayed last.
    observing: bool,
    accepted: Vec<Record>,
}

/// A record decoded and signature-checked in parallel, waiting for sequential replay.
struct Checked {
    bytes_leaf: LeafHash,
    record: Result<CheckedRecord, Problem>,
}

/// What the replay needs of a well-formed record.
struct CheckedRecord {
    seq: Seq,
    prev: LeafHash,
    accepted: Timestamp,
    id: EntryId,
    signature_count: usize,
    signatures_ok: Result<(), Problem>,
    entry: Stage,
}

/// How far the entry of a record got in the parallel phase.
enum Stage {
    /// Not validated further: its signatures failed, it claims seq 0, or it is the
    /// genesis itself (which the replay needs whole).
    Entry(SignedEntry),
    /// The body validated against its schema and decoded, also done in parallel:
    /// it costs more than the rules themselves. Such an entry is not the genesis. Boxed: a
    /// decoded body is several times the size of an entry's handle.
    Verified(Box<Result<VerifiedEntry, Refusal>>),
}

impl Auditor {
    fn new(genesis: &SignedEntry, options: &AuditOptions) -> Auditor {
        Auditor {
            ledger_id: LedgerId(genesis.id().0),
            state: None,
            genesis: genesis.clone(),
            tree: Frontier::new(),
            // The roots the checkpoints will be compared with, known once the tree reaches them.
            roots: options
                .checkpoint
                .iter()
                .map(|c| c.checkpoint.size())
                .chain(options.earlier.iter().map(|e| e.size))
                .map(|size| (size, (size == 0).then(Blake3Hasher::hash_empty)))
                .collect(),
            past: past_roots::PastRoots::new(),
            last_leaf: LeafHash::ZERO,
            spill: spill::Spill::create().ok(),
            entries: HashSet::new(),
            halted: false,
            signatures: 0,
            records_withholding: 0,
            values_unchecked: 0,
            values_checked: 0,
            giais_unallocated: 0,
            unallocated: Vec::new(),
            rules_would_refuse: 0,
            would_refuse: Vec::new(),
            problems: Vec::new(),
            problem_count: 0,
            observing: false,
            accepted: Vec::new(),
        }
    }

    fn problem(&mut self, problem: Problem) {
        self.problem_count += 1;
        if self.problems.len() < MAX_LISTED_PROBLEMS {
            self.problems.push(problem);
        }
    }

    fn replay_chunk(&mut self, checked: Vec<Checked>) {
        let first = self.tree.len();
        for (offset, checked) in checked.into_iter().enumerate() {
            self.replay(first + offset as u64, checked);
        }
        // The chunk's items go to the temporary store, out of memory.
        if let (Some(spill), Some(state)) = (&mut self.spill, &mut self.state) {
            let items = state.evict_all();
            if let Err(error) = spill.store(items) {
                self.halt(first, error);
            }
        }
    }

    /// Stops replaying the rules after the temporary storage failed: what it held is lost.
    fn halt(&mut self, seq: u64, error: spill::SpillFailed) {
        self.spill = None;
        self.halted = true;
        self.problem(Problem::new(
            Some(seq),
            "audit.incomplete",
            format!("{error}; the custody rules were not replayed from record {seq} on"),
        ));
    }

    /// Whether the entry id was seen in an earlier record.
    fn seen_before(&mut self, seq: u64, id: &EntryId) -> bool {
        match &mut self.spill {
            Some(spill) => match spill.seen_before(id) {
                Ok(seen) => seen,
                Err(error) => {
                    self.halt(seq, error);
                    false
                }
            },
            None => !self.entries.insert(id.0),
        }
    }

    /// Puts the items an entry's rules read into the state, from the temporary store.
    fn load(&mut self, seq: u64, entry: &VerifiedEntry) {
        let (Some(spill), Some(state)) = (&self.spill, &mut self.state) else { return };
        let mut failure = None;
        for giai in entry.body().items() {
            if state.item(giai).is_some() {
                continue;
            }
            match spill.item(giai) {
                Ok(Some(item)) => state.admit(item),
                Ok(None) => {}
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        if let Some(error) = failure {
            self.halt(seq, error);
        }
    }

    fn replay(&mut self, seq: u64, checked: Checked) {
        // The tree and the chain follow the bytes as stored, whatever they hold,
        // so the root can still be compared with the checkpoint.
        let leaf = checked.bytes_leaf;
        let prev = self.last_leaf;
        let created = self.tree.push(leaf.0);
        self.past.push(&created);
        if let Some(root) = self.roots.get_mut(&self.tree.len()) {
            *root = Some(self.tree.root());
        }
        self.last_leaf = leaf;
        let record = match checked.record {
            Ok(record) => record,
            Err(problem) => return self.problem(problem),
        };
        if let Err(error) = chain::check_seq_and_prev(seq, prev, record.seq, record.prev) {
            let code = match error {
                chain::ChainError::OutOfOrder { .. } => "chain.out_of_order",
                _ => "chain.broken_link",
            };
            self.problem(Problem::new(Some(seq), code, error.to_string()));
        }
        if self.halted {
            return;
        }
        if self.seen_before(seq, &record.id) {
            return self.problem(Problem::new(
                Some(seq),
                "record.duplicate_entry",
                format!("entry {} is recorded twice", record.id),
            ));
        }
        self.signatures += record.signature_count as u64;
        if let Err(problem) = record.signatures_ok {
            return self.problem(problem);
        }
        let Some(state) = &mut self.state else {
            // Record 0 must be exactly the genesis the auditor trusts.
            let entry = match record.entry {
                Stage::Entry(entry) if entry.id() == self.genesis.id() && entry == self.genesis => entry,
                _ => {
                    return self.problem(Problem::new(
                        Some(seq),
                        "record.genesis_mismatch",
                        "record 0 is not the genesis given to the audit",
                    ));
                }
            };
            match State::from_genesis(&entry) {
                Ok(state) => {
                    self.state = Some(state);
                    if self.observing {
                        self.accepted.push(Record {
                            seq: record.seq,
                            prev: record.prev,
                            accepted: record.accepted,
                            entry,
                        });
                    }
                }
                Err(refusal) => {
                    self.problem(Problem::new(Some(seq), &format!("record.refused:{}", refusal.code), refusal.message))
                }
            }
            return;
        };
        let context = Context { seq: record.seq, accepted: record.accepted };
        let verified = match record.entry {
            Stage::Verified(verified) => *verified,
            Stage::Entry(entry) => VerifiedEntry::public_after_signatures(entry, state.consortium().format),
        };
        if let Ok(verified) = &verified {
            if verified.withheld() > 0 {
                self.records_withholding += 1;
                self.values_unchecked += verified.withheld() as u64;
            }
            self.values_checked += verified.disclosures().len() as u64;
        }
        if let Ok(entry) = &verified {
            self.load(seq, entry);
        }
        let Some(state) = &mut self.state else { return };
        let unallocated = verified.as_ref().map(|entry| allocation::would_refuse(state, entry)).unwrap_or_default();
        let later = verified.as_ref().ok().and_then(|entry| later_rules::would_refuse(state, entry, &context));
        let (past, mut incomplete) = (&mut self.past, None);
        let outcome = verified.and_then(|entry| {
            let change = state.check(&entry, &context)?;
            // A conclusion's checkpoint must be this ledger at that size (docs/format.md §18).
            if let Some(named) = entry.body().named_root() {
                match past.root_at(named.0) {
                    Ok(actual) => require_root(named, &actual)?,
                    Err(error) => incomplete = Some(error),
                }
            }
            Ok((change, entry))
        });
        if let Some(error) = incomplete {
            self.problem(Problem::new(
                Some(seq),
                "audit.incomplete",
                format!("the conclusion's checkpoint could not be compared with the records: {error}"),
            ));
        }
        let Some(state) = &mut self.state else { return };
        match outcome {
            Ok((change, entry)) => {
                state.apply(change);
                if self.observing {
                    let Context { seq, accepted } = context;
                    self.accepted.push(Record { seq, prev: record.prev, accepted, entry: entry.into_entry() });
                }
                if let Some(refusal) = later {
                    self.rules_would_refuse += 1;
                    if self.would_refuse.len() < later_rules::LISTED {
                        self.would_refuse.push(WouldRefuse { seq, code: refusal.code, message: refusal.message });
                    }
                }
                for (giai, registrant) in unallocated {
                    self.giais_unallocated += 1;
                    if self.unallocated.len() < allocation::LISTED {
                        self.unallocated.push(Unallocated { seq, giai, registrant });
                    }
                }
            }
            Err(refusal) => {
                self.problem(Problem::new(Some(seq), &format!("record.refused:{}", refusal.code), refusal.message))
            }
        }
    }

    fn finish(mut self, options: &AuditOptions) -> AuditReport {
        let size = self.tree.len();
        if size == 0 {
            self.problem(Problem::new(None, "ledger.empty", "the ledger has no records, not even a genesis"));
        }
        let mut checkpoint_finding = None;
        if let Some(checkpoint) = &options.checkpoint {
            let claimed = checkpoint.checkpoint.size();
            match self.roots.get(&claimed).copied().flatten().ok_or(()) {
                Ok(root) if root == *checkpoint.checkpoint.root() => {}
                Ok(root) => self.problem(Problem::new(
                    None,
                    "checkpoint.root_mismatch",
                    format!(
                        "the checkpoint of size {claimed} signs root {} but the records give {}",
                        to_lower_hex(checkpoint.checkpoint.root()),
                        to_lower_hex(root)
                    ),
                )),
                Err(_) => self.problem(Problem::new(
                    None,
                    "checkpoint.beyond_records",
                    format!("the checkpoint covers {claimed} records but only {size} were read"),
                )),
            }
            if let Some(state) = &self.state {
                let mut problems = Vec::new();
                checkpoint_finding = Some(check_checkpoint(state, checkpoint, options.required_signers, &mut problems));
                problems.into_iter().for_each(|p| self.problem(p));
            }
        }
        if let Some(earlier) = &options.earlier {
            if let (Some(note), Some(state)) = (&earlier.note, &self.state) {
                check_earlier_signatures(state, note).into_iter().for_each(|p| self.problem(p));
            }
            // The tree of the records read extends the earlier one exactly when its first
            // `earlier.size` leaves have the earlier root: an append-only tree is fixed by its leaves.
            let consistent = self.roots.get(&earlier.size).copied().flatten() == Some(earlier.root);
            if !consistent {
                self.problem(Problem::new(
                    None,
                    "proof.consistency",
                    format!(
                        "the ledger of {size} records does not extend the earlier checkpoint of size {} and root {}",
                        earlier.size,
                        to_lower_hex(earlier.root)
                    ),
                ));
            }
        }
        let (items, members) = self.state.as_ref().map_or((0, 0), |s| (s.item_count() as usize, s.members().count()));
        let state = self.state.as_ref().map(|s| to_lower_hex(s.digest())).unwrap_or_default();
        AuditReport {
            ledger_id: self.ledger_id,
            records: size,
            signatures: self.signatures,
            root: to_lower_hex(self.tree.root()),
            state,
            items,
            members,
            records_withholding: self.records_withholding,
            values_unchecked: self.values_unchecked,
            values_checked: self.values_checked,
            giais_unallocated: self.giais_unallocated,
            unallocated: self.unallocated,
            rules_would_refuse: self.rules_would_refuse,
            would_refuse: self.would_refuse,
            checkpoint: checkpoint_finding,
            problems: self.problems,
            problem_count: self.problem_count,
        }
    }
}

/// A chunk of records being decoded and signature-checked on two threads.
struct InFlight<'scope> {
    halves: [ScopedJoinHandle<'scope, Vec<Checked>>; 2],
}

impl<'scope> InFlight<'scope> {
    /// Starts checking `chunk`, whose first record is at `first`, half of it on each
    /// of two threads. Every signature's verdict is its own, so where a chunk is cut
    /// changes none.
    fn start<'env>(
        scope: &'scope Scope<'scope, 'env>,
        first: u64,
        chunk: Vec<Vec<u8>>,
        genesis: &'env SignedEntry,
        options: &'env AuditOptions,
    ) -> InFlight<'scope> {
        let mid = chunk.len() / 2;
        let mut chunk = chunk;
        let second = chunk.split_off(mid);
        let spawn = |first: u64, half: Vec<Vec<u8>>| scope.spawn(move || check_records(first, half, genesis, options));
        InFlight { halves: [spawn(first, chunk), spawn(first + mid as u64, second)] }
    }

    /// The checked records, in order.
    fn join(self) -> Vec<Checked> {
        let [first, second] = self.halves;
        let mut checked = join(first);
        checked.extend(join(second));
        checked
    }
}

fn join<T>(handle: ScopedJoinHandle<'_, T>) -> T {
    match handle.join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Decodes and signature-checks records on this thread.
fn check_records(first: u64, chunk: Vec<Vec<u8>>, genesis: &SignedEntry, options: &AuditOptions) -> Vec<Checked> {
    let format = LedgerFormat::declared_by(genesis);
    let decoded: Vec<(LeafHash, Result<chain::Record, Problem>)> = chunk
        .iter()
        .enumerate()
        .map(|(offset, bytes)| {
            let seq = first + offset as u64;
            let record = decode::decode(bytes).map_err(|r| Problem::new(Some(seq), "record.malformed", r.message));
            (chain::leaf_hash_of(bytes), record)
        })
        .collect();
    drop(chunk);
    // The signatures of every well-formed record, judged together as a node judges a batch.
    let entries: Vec<&SignedEntry> =
        decoded.iter().filter_map(|(_, record)| record.as_ref().ok()).map(|record| &record.entry).collect();
    let mut verdicts = SignedEntry::verify_signatures_each(&entries).into_iter();
    decoded
        .into_iter()
        .enumerate()
        .map(|(offset, (bytes_leaf, record))| {
            let seq = first + offset as u64;
            let record = record.map(|record| {
                // One verdict per well-formed record, in order; a missing one refuses rather than admits.
                let signatures_ok = verdicts
                    .next()
                    .unwrap_or_else(|| {
                        Err(Refusal::new(RefusalCode::SignatureInvalid, "the signatures could not be checked"))
                    })
                    .map_err(|refusal| {
                        Problem::new(Some(seq), &format!("record.refused:{}", refusal.code), refusal.message)
                    });
                let entry = record.entry;
                let is_genesis = entry.id() == genesis.id() && entry == *genesis;
                let (id, signature_count) = (entry.id(), entry.signatures().len());
                // The genesis is checked by State::from_genesis during replay.
                let entry = if signatures_ok.is_ok() && record.seq.get() > 0 && !is_genesis {
                    // With the auditor's own disclosures a record is judged whole; without, publicly.
                    Stage::Verified(Box::new(match options.disclosures.get(&id) {
                        Some(disclosures) => {
                            VerifiedEntry::disclosed_after_signatures(entry, format, disclosures.clone())
                        }
                        None => VerifiedEntry::public_after_signatures(entry, format),
                    }))
                } else {
                    Stage::Entry(entry)
                };
                CheckedRecord {
                    seq: record.seq,
                    prev: record.prev,
                    accepted: record.accepted,
                    id,
                    signature_count,
                    signatures_ok,
                    entry,
                }
            });
            Checked { bytes_leaf, record }
        })
        .collect()
}

#[cfg(test)]
mod tests;
