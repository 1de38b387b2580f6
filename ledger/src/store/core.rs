//! The state the core lock guards: the custody state's working set, the record log, the Merkle
//! frontier, and what the index does not hold yet, always in step with one another.
//!
//! A ledger of ten million records cannot keep its history in memory. The index (`index.rs`)
//! holds every item, entry id, leaf hash and Merkle node as of the records it covers; the core
//! keeps only what is newer than that (the records appended since the indexer last wrote) and a
//! bounded cache of items read back. `settle` lets go of what the index has caught up with.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroUsize;
use std::sync::Arc;

use lru::LruCache;

use super::error::LedgerError;
use super::index::{self, Index, IndexUpdate, StateSummary, TreeReader};
use super::log::{LogPosition, RecordLog};
use super::outcome::Receipt;
use super::private::PrivateStore;
use crate::chain::{LeafHash, Seq};
use crate::custody::{Body, Change, ItemState, State, require_root};
use crate::entry::{EntryId, Kind, SignedEntry, Timestamp};
use crate::ident::{CompanyPrefix, Giai};
use crate::merkle::{self, Blake3Hasher, Frontier, MerkleHasher, PerfectNodes};
use crate::refusal::{Refusal, RefusalCode};

/// Everything a [`super::Ledger`] changes when it appends a record, behind its core lock.
pub(super) struct Core {
    // The custody state with only its working set of items in memory: those changed by
    // records the index does not hold yet, and those loaded to judge the entries at hand.
    pub(super) state: State,
    pub(super) log: RecordLog,
    // The disclosures of records that withhold values (format 2).
    pub(super) private: PrivateStore,
    pub(super) tree: Frontier<Blake3Hasher>,
    pub(super) index: Arc<Index>,
    // INVARIANT: `recent` holds every record from `recent_from` on (those the index may not
    // hold yet), in order, and `entries` exactly their entry ids.
    entries: HashMap<EntryId, (Seq, [u8; 32])>,
    recent: VecDeque<Recent>,
    recent_from: u64,
    // Items read from the index and not changed since, least recently used first out.
    cache: LruCache<Giai, ItemState>,
    // Items admitted to the working set only to judge an entry.
    loaded: Vec<Giai>,
    pub(super) last_leaf: LeafHash,
    // The `accepted` time of the last record: replicated batches never go back before it.
    pub(super) last_accepted: Timestamp,
    pub(super) unindexed: Vec<IndexUpdate>,
}

impl Core {
    /// A core over `state` at `tip`, all of whose records the index holds.
    pub(super) fn new(
        state: State,
        tip: Tip,
        (log, private, index): (RecordLog, PrivateStore, Arc<Index>),
        cached_items: NonZeroUsize,
    ) -> Core {
        let Tip { tree, last_leaf, last_accepted } = tip;
        let recent_from = tree.len();
        Core {
            state,
            log,
            private,
            tree,
            index,
            entries: HashMap::new(),
            recent: VecDeque::new(),
            recent_from,
            cache: LruCache::new(cached_items),
            loaded: Vec::new(),
            last_leaf,
            last_accepted,
            unindexed: Vec::new(),
        }
    }

    /// Puts every item the body's rules read into the working set, from the cache or the index.
    pub(super) fn load(&mut self, body: &Body) -> Result<(), LedgerError> {
        for giai in body.items() {
            if self.state.item(giai).is_some() {
                continue;
            }
            let item = match self.cache.pop(giai) {
                Some(item) => Some(item),
                None => self.index.item(giai)?.map(|stored| stored.state),
            };
            if let Some(item) = item {
                self.loaded.push(item.giai.clone());
                self.state.admit(item);
            }
        }
        Ok(())
    }

    /// Lets go of what the index has caught up with: records below `indexed` leave the recent
    /// maps, and items no record above it changed move from the working set to the cache.
    pub(super) fn settle(&mut self, indexed: u64) {
        while self.recent_from < indexed {
            let Some(record) = self.recent.pop_front() else { break };
            self.entries.remove(&record.entry_id);
            for giai in record.items {
                self.retire(&giai, indexed);
            }
            self.private.forget(self.recent_from);
            self.recent_from += 1;
        }
        for giai in std::mem::take(&mut self.loaded) {
            self.retire(&giai, indexed);
        }
    }

    /// Moves an item from the working set to the cache if the index holds it as it is.
    fn retire(&mut self, giai: &Giai, indexed: u64) {
        if self.state.item(giai).is_some_and(|item| item.updated.get() < indexed)
            && let Some(item) = self.state.evict(giai)
        {
            self.cache.put(giai.clone(), item);
        }
    }

    /// The seq and leaf hash of an entry recorded by a record the index may not hold yet.
    pub(super) fn recent_entry(&self, entry_id: &EntryId) -> Option<(Seq, LeafHash)> {
        let &(seq, _) = self.entries.get(entry_id)?;
        let at = seq.get().checked_sub(self.recent_from)?;
        Some((seq, self.recent.get(at as usize)?.leaf_hash))
    }

    /// An item as memory holds it: changed by a record the index may not hold yet, or read
    /// back lately. `None` says the index holds it as it is, or it does not exist.
    pub(super) fn item_in_memory(&self, giai: &Giai) -> Option<ItemState> {
        self.state.item(giai).or_else(|| self.cache.peek(giai)).cloned()
    }

    /// The company prefixes the consortium holds (its genesis names them; they never change).
    pub(super) fn consortium_prefixes(&self) -> Vec<CompanyPrefix> {
        self.state.consortium().company_prefixes.clone()
    }

    /// The seq of a recorded entry and the digest of its signatures.
    pub(super) fn entry(&self, entry_id: &EntryId) -> Result<Option<(Seq, [u8; 32])>, LedgerError> {
        if let Some(found) = self.entries.get(entry_id) {
            return Ok(Some(*found));
        }
        Ok(self.index.entry(entry_id)?)
    }

    /// The leaf hash of a record.
    pub(super) fn leaf_hash(&self, seq: u64) -> Result<LeafHash, LedgerError> {
        let recent = seq.checked_sub(self.recent_from).and_then(|at| self.recent.get(at as usize));
        match recent {
            Some(record) => Ok(record.leaf_hash),
            None => self.index.leaf_hash(seq)?.ok_or(LedgerError::NoRecord(seq)),
        }
    }

    /// Refuses a conclusion whose checkpoint root is not this ledger's root at that size
    /// (docs/format.md §18); every other body passes. The custody rules have checked, or will,
    /// that the size precedes the record; a size beyond the tree is refused here as well.
    pub(super) fn check_named_root(&self, body: &Body) -> Result<Result<(), Refusal>, LedgerError> {
        let Some((size, root)) = body.named_root() else { return Ok(Ok(())) };
        if size == 0 || size > self.tree.len() {
            // The custody rules give the refusal that says why.
            return Ok(Ok(()));
        }
        let actual = merkle::root_at(&CoreTree { core: self, reader: self.index.tree_reader()?, len: size }, size)?;
        Ok(require_root((size, root), &actual))
    }

    /// Matches an entry of a re-applied batch with the record at `next`: the
    /// same statement with the same signatures was recorded there when the
    /// batch was first applied, and `next` moves on. Anything else was not
    /// recorded then (refused, or an idempotent repeat) and is not judged again.
    pub(super) fn rematch(&self, entry: &SignedEntry, next: &mut u64) -> Result<Result<Receipt, Refusal>, LedgerError> {
        let entry_id = entry.id();
        let matched = match self.entry(&entry_id)? {
            Some((seq, signed)) if seq.get() == *next && signed == signatures_digest(entry) => {
                *next += 1;
                Some(seq)
            }
            Some((seq, signed)) if seq.get() < *next && signed == signatures_digest(entry) => Some(seq),
            _ => None,
        };
        Ok(match matched {
            Some(seq) => Ok(Receipt { seq, entry_id, leaf_hash: self.leaf_hash(seq.get())? }),
            None => Err(Refusal::new(
                RefusalCode::EntryConflict,
                format!(
                    "statement {entry_id} was not recorded when this batch was first applied, before the node restarted"
                ),
            )),
        })
    }

    /// Applies a record's change to the state, books the record into the tree
    /// and the recent maps, and returns its index update.
    pub(super) fn record_appended(
        &mut self,
        entry: &SignedEntry,
        leaf_hash: LeafHash,
        position: LogPosition,
        change: Change,
    ) -> IndexUpdate {
        let members = change.members.clone();
        let membership = !members.is_empty() && entry.statement().kind != Kind::GiaiReserve;
        let items = change.items.clone();
        let seq = Seq::new(self.tree.len()).unwrap_or_default();
        self.state.apply(change);
        let mut merkle_nodes = self.tree.push(leaf_hash.0);
        merkle_nodes.retain(|(level, _, _)| *level >= index::MERKLE_MIN_LEVEL);
        let entry_id = entry.id();
        let signed = signatures_digest(entry);
        self.entries.insert(entry_id, (seq, signed));
        self.recent.push_back(Recent {
            entry_id,
            leaf_hash,
            items: items.iter().map(|item| item.giai.clone()).collect(),
        });
        self.last_leaf = leaf_hash;
        IndexUpdate {
            seq,
            leaf_hash,
            position,
            entry_id,
            signed,
            members,
            membership,
            items,
            disclosures: None,
            merkle_nodes,
            summary: None,
        }
    }

    /// The state after the last appended record, for the index.
    pub(super) fn summary(&self) -> StateSummary {
        StateSummary {
            last_leaf: self.last_leaf,
            last_accepted: self.last_accepted.clone(),
            lattice: self.state.lattice().clone(),
            item_count: self.state.item_count(),
            frontier: self.tree.peak_hashes().to_vec(),
        }
    }

    /// The index updates of every record appended since the last call, the last one carrying
    /// the state after it.
    pub(super) fn take_unindexed(&mut self) -> Vec<IndexUpdate> {
        let mut updates = std::mem::take(&mut self.unindexed);
        if let Some(last) = updates.last_mut() {
            last.summary = Some(Box::new(self.summary()));
        }
        updates
    }
}

/// The tree of the first `len` records as the core sees it: the index's nodes below the records
/// it holds, the recent records' leaf hashes above. A conclusion may name any size up to its own
/// record, including records of the batch being appended, which the index does not hold yet.
struct CoreTree<'a> {
    core: &'a Core,
    reader: TreeReader,
    len: u64,
}

impl PerfectNodes for CoreTree<'_> {
    type Hasher = Blake3Hasher;
    type Error = LedgerError;

    fn len(&self) -> u64 {
        self.len
    }

    fn perfect_node(&self, level: u8, index: u64) -> Result<[u8; 32], LedgerError> {
        let start = index << level;
        let end = start + (1 << level);
        let recent_from = self.core.recent_from;
        if end <= recent_from {
            if level >= index::MERKLE_MIN_LEVEL
                && let Some(node) = self.reader.merkle_node(level, index)?
            {
                return Ok(node);
            }
            if level >= index::MERKLE_MIN_LEVEL {
                return Err(LedgerError::Index(index::IndexError::Damaged {
                    table: "merkle",
                    key: format!("{level}/{index}"),
                    reason: "missing".to_owned(),
                }));
            }
            return Ok(merkle::root::<Blake3Hasher>(&self.reader.leaf_hashes(start, end)?));
        }
        if start >= recent_from {
            let leaves =
                (start..end).map(|seq| self.core.leaf_hash(seq).map(|leaf| leaf.0)).collect::<Result<Vec<_>, _>>()?;
            return Ok(merkle::root::<Blake3Hasher>(&leaves));
        }
        // Straddles what the index holds and what it does not yet: its two halves.
        let left = self.perfect_node(level - 1, index * 2)?;
        let right = self.perfect_node(level - 1, index * 2 + 1)?;
        Ok(Blake3Hasher::hash_children(&left, &right))
    }
}

/// A record the index may not hold yet: what the core lets go of once it does.
struct Recent {
    entry_id: EntryId,
    leaf_hash: LeafHash,
    /// The items it changed.
    items: Vec<Giai>,
}

/// Where a ledger stands: its Merkle frontier, and the leaf hash and `accepted` time of its
/// last record.
pub(super) struct Tip {
    pub tree: Frontier<Blake3Hasher>,
    pub last_leaf: LeafHash,
    pub last_accepted: Timestamp,
}

/// A digest of an entry's signatures, independent of their order: it tells an idempotent
/// re-submission from the same statement signed differently.
pub(super) fn signatures_digest(entry: &SignedEntry) -> [u8; 32] {
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
