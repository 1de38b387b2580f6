//! The state the core lock guards: the custody state, the record log, the Merkle tree and the
//! in-memory maps of entries and item histories, always in step with one another.

use std::collections::HashMap;

use super::index::{self, IndexUpdate};
use super::log::{LogPosition, RecordLog};
use super::outcome::Receipt;
use super::private::PrivateStore;
use crate::chain::{LeafHash, Seq};
use crate::custody::{Change, State};
use crate::entry::{EntryId, SignedEntry, Timestamp};
use crate::ident::Giai;
use crate::merkle::{Blake3Hasher, MerkleTree};
use crate::refusal::{Refusal, RefusalCode};

/// Everything a [`super::Ledger`] changes when it appends a record, behind its core lock.
pub(super) struct Core {
    pub(super) state: State,
    pub(super) log: RecordLog,
    // The disclosures of records that withhold values (format 2).
    pub(super) private: PrivateStore,
    pub(super) tree: MerkleTree<Blake3Hasher>,
    // The seq of every recorded entry and a digest of its signatures, to tell an
    // idempotent re-submission from the same statement signed differently.
    pub(super) entries: HashMap<EntryId, (Seq, [u8; 32])>,
    // INVARIANT: for every item of `state`, the seqs of the records that
    // touched it (its registration or split first), in order; nothing else.
    pub(super) histories: HashMap<Giai, Vec<Seq>>,
    pub(super) last_leaf: LeafHash,
    // The `accepted` time of the last record: replicated batches never go back before it.
    pub(super) last_accepted: Timestamp,
    pub(super) unindexed: Vec<IndexUpdate>,
}

impl Core {
    /// Matches an entry of a re-applied batch with the record at `next`: the
    /// same statement with the same signatures was recorded there when the
    /// batch was first applied, and `next` moves on. Anything else was not
    /// recorded then (refused, or an idempotent repeat) and is not judged again.
    pub(super) fn rematch(&self, entry: &SignedEntry, next: &mut u64) -> Result<Receipt, Refusal> {
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
    pub(super) fn record_appended(
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
