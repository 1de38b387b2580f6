//! The read path: records, receipts, items and their histories, members, Merkle roots and
//! proofs, and the checkpoint, all as of the durable records.

use std::path::Path;
use std::sync::atomic::Ordering;

use super::Ledger;
use super::error::{LedgerError, decode};
use super::outcome::Receipt;
use super::private::read_frame;
use crate::chain::{LeafHash, Record, Seq};
use crate::checkpoint::Checkpoint;
use crate::custody::{ItemState, LedgerFormat, Member};
use crate::disclosure::Disclosure;
use crate::entry::{EntryId, LedgerId, SignedEntry};
use crate::ident::Giai;
use crate::merkle::ProofError;

impl Ledger {
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

    /// The disclosures of the values durable record `seq` withholds (format 2),
    /// from the private store; `None` if the record withholds nothing or this
    /// ledger does not hold them. Who may read them is the caller's business
    /// (docs/rules.md §8).
    pub fn disclosures(&self, seq: u64) -> Result<Option<Vec<Disclosure>>, LedgerError> {
        if seq >= self.size() {
            return Err(LedgerError::NoRecord(seq));
        }
        let seq_typed = Seq::new(seq).ok_or(LedgerError::NoRecord(seq))?;
        let Some(position) = self.lock_core()?.private.position(seq) else { return Ok(None) };
        Ok(Some(read_frame(&self.private_reader, position, seq_typed)?.disclosures))
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

    /// How this ledger records restricted values, as its genesis says.
    pub fn format(&self) -> LedgerFormat {
        self.format
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

    /// The custody state digest of the durable ledger (docs/format.md §14, see
    /// [`State::digest`](crate::custody::State::digest)).
    pub fn state_digest(&self) -> Result<[u8; 32], LedgerError> {
        Ok(self.durable_state()?.1)
    }

    /// The size of the durable ledger and the state digest at that size, read together.
    pub fn durable_state(&self) -> Result<(u64, [u8; 32]), LedgerError> {
        self.durable_digest.lock().map(|durable| *durable).map_err(|_| LedgerError::Poisoned)
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
}

/// The checkpoint origin line of a ledger: `salvage/<ledger id>`.
pub fn checkpoint_origin(ledger_id: &LedgerId) -> String {
    format!("salvage/{ledger_id}")
}
