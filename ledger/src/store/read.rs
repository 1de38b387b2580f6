//! The read path: records, receipts, items and their histories, members, Merkle roots and
//! proofs, and the checkpoint, all as of the durable records.

use std::path::Path;
use std::sync::atomic::Ordering;

use super::Ledger;
use super::error::{LedgerError, decode};
use super::index::{IndexError, MERKLE_MIN_LEVEL, TreeReader};
use super::log::LogPosition;
use super::outcome::Receipt;
use super::private::read_frame;
use crate::chain::{self, Record, Seq};
use crate::checkpoint::Checkpoint;
use crate::custody::{Action, ItemState, LedgerFormat, Member, MemberId, issued_under, preconditions};
use crate::disclosure::Disclosure;
use crate::entry::{EntryId, LedgerId, SignedEntry};
use crate::ident::{Giai, TagEncoding, item_epc};
use crate::merkle::{self, Blake3Hasher, PerfectNodes, ProofError};
use crate::refusal::Refusal;

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
        self.serving()?;
        self.indexer.wait_for(seq + 1)?;
        let (position, _) = self.index.record(seq)?.ok_or(LedgerError::NoRecord(seq))?;
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
        self.serving()?;
        let recent = self.lock_core()?.private.position(seq);
        let position = match recent {
            Some(position) => position,
            // The core lets go of a record's frame once the index holds it.
            None => {
                self.indexer.wait_for(seq + 1)?;
                let Some(position) = self.index.disclosures(seq)? else { return Ok(None) };
                position
            }
        };
        Ok(Some(read_frame(&self.private_reader, position, seq_typed)?.disclosures))
    }

    /// The receipt of an entry already in the ledger; records appended but not yet durable are
    /// not shown.
    pub fn receipt(&self, entry_id: &EntryId) -> Result<Option<Receipt>, LedgerError> {
        self.serving()?;
        let size = self.size();
        let recent = self.lock_core()?.recent_entry(entry_id);
        let seq = match recent {
            Some((seq, leaf_hash)) if seq.get() < size => {
                return Ok(Some(Receipt { seq, entry_id: *entry_id, leaf_hash }));
            }
            Some(_) => return Ok(None),
            None => {
                self.indexer.wait_for(size)?;
                match self.index.entry(entry_id)? {
                    Some((seq, _)) if seq.get() < size => seq,
                    _ => return Ok(None),
                }
            }
        };
        let leaf_hash = self.index.leaf_hash(seq.get())?.ok_or(LedgerError::NoRecord(seq.get()))?;
        Ok(Some(Receipt { seq, entry_id: *entry_id, leaf_hash }))
    }

    /// The current state of an item, as of the durable records.
    ///
    /// An item changed by a record appended but not yet durable is shown only once it is, so
    /// this may wait for the group commit under way.
    pub fn item(&self, giai: &Giai) -> Result<Option<ItemState>, LedgerError> {
        self.serving()?;
        let in_memory = self.lock_core()?.item_in_memory(giai);
        let item = match in_memory {
            Some(item) => item,
            // The core holds every item a record the index lacks changed: the index has the rest.
            None => return Ok(self.index.item(giai)?.map(|stored| stored.state)),
        };
        // `updated` is the last record that touched the item: the custody
        // rules set it on every item a record changes.
        self.wait_durable(item.updated)?;
        Ok(Some(item))
    }

    /// Whether `signer` may take each of `actions` on `giai` now, as of the durable records: for
    /// each, in order, `Ok` or the refusal the ledger would give its statement whatever the body
    /// (`item.unknown` for every action when no item has the GIAI). One reading of the item and
    /// the signer's roles judges them all, through the rules' own preconditions
    /// ([`State::may`](crate::custody::State::may)).
    pub fn may(
        &self,
        signer: &MemberId,
        giai: &Giai,
        actions: &[Action],
    ) -> Result<Vec<Result<(), Refusal>>, LedgerError> {
        let item = self.item(giai)?;
        let member = self.members()?.into_iter().find(|member| member.id == *signer);
        // The edition of the rules comes from the genesis and never changes.
        let rules = self.lock_core()?.state.consortium().rules;
        Ok(actions
            .iter()
            .map(|action| preconditions(item.as_ref(), giai, signer, member.as_ref(), rules, *action).map(|_| ()))
            .collect())
    }

    /// Every durable record that touched an item (including the split that created
    /// it from its parent), in order.
    pub fn history(&self, giai: &Giai) -> Result<Vec<Record>, LedgerError> {
        self.history_seqs(giai)?.into_iter().map(|seq| self.record(seq)).collect()
    }

    /// The seqs of every durable record that touched an item.
    pub(crate) fn history_seqs(&self, giai: &Giai) -> Result<Vec<u64>, LedgerError> {
        let size = self.indexed()?;
        let records = self.index.item(giai)?.map(|stored| stored.records).unwrap_or_default();
        Ok(records.into_iter().filter(|seq| *seq < size).collect())
    }

    /// The seqs of every durable record that changed membership, the genesis included.
    pub(crate) fn membership_records(&self) -> Result<Vec<u64>, LedgerError> {
        let size = self.indexed()?;
        Ok(self.index.membership_records()?.into_iter().filter(|seq| *seq < size).collect())
    }

    /// How this ledger records restricted values, as its genesis says.
    pub fn format(&self) -> LedgerFormat {
        self.format
    }

    /// The EPC of an item's RFID tag (docs/format.md §16), when the ledger knows the company
    /// prefix its GIAI was issued under (a member's or the consortium's): the prefix decides
    /// the partition of the binary encoding, and a GIAI alone does not say where it ends.
    /// `members` are this ledger's, as [`Ledger::members`] gave them (a caller usually has
    /// them at hand already).
    pub fn epc(&self, giai: &Giai, members: &[Member]) -> Result<Option<TagEncoding>, LedgerError> {
        // The consortium's prefixes come from the genesis and never change.
        let consortium = self.lock_core()?.consortium_prefixes();
        Ok(issued_under(&consortium, members, giai).and_then(|prefix| item_epc(giai, prefix).ok()))
    }

    /// Every member, by id.
    pub fn members(&self) -> Result<Vec<Member>, LedgerError> {
        self.indexed()?;
        Ok(self.index.members()?)
    }

    /// Checks what opening trusted without reading: the record log against the leaf hashes the
    /// index holds (a record whose bytes changed after it was recorded, even with a fixed CRC,
    /// hashes otherwise), then the index's tables against its own summary (the custody state
    /// and the Merkle tree recomputed, see `index_check`). Returns how many records it checked.
    /// A node does this in the background once it serves. On any difference the ledger stops:
    /// it answers no more reads or submissions, and the next open rebuilds the index from the
    /// log, verifying every record (a changed record then refuses the open).
    pub fn check_stored_state(&self) -> Result<u64, LedgerError> {
        let (consortium, end) = {
            let core = self.lock_core()?;
            (core.state.consortium().clone(), core.log.end())
        };
        let size = self.indexed()?;
        let checked = self.check_log_against_index(size, end).and_then(|()| {
            match super::index::guarded(|| self.index.check(&consortium)) {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(mismatch)) => Err(mismatch.into()),
                // A value that does not decode, a page redb refuses: damage all the same.
                Err(damage) => Err(damage.into()),
            }
        });
        match checked {
            Ok(()) => Ok(size),
            Err(error) => {
                self.poisoned.store(true, Ordering::Release);
                super::index::condemn(&self.dir)?;
                Err(error)
            }
        }
    }

    /// Reads the first `size` records of the log (which ends at `end` or later) and compares
    /// each one's leaf hash with the index's.
    fn check_log_against_index(&self, size: u64, end: LogPosition) -> Result<(), LedgerError> {
        let mut frames = self.reader.frames_between(None, end);
        let mut seq = 0;
        while seq < size {
            let chunk_end = (seq + 4096).min(size);
            let leaves = self.index.leaf_hashes(seq, chunk_end)?;
            for leaf in leaves {
                let Some(frame) = frames.next() else {
                    return Err(LedgerError::Invalid { seq, reason: "the log ends before it".to_owned() });
                };
                let (_, bytes) = frame?;
                if chain::leaf_hash_of(&bytes).0 != leaf {
                    return Err(LedgerError::Invalid {
                        seq,
                        reason: "its bytes in the log are not those it was recorded with: the log was changed after"
                            .to_owned(),
                    });
                }
                seq += 1;
            }
        }
        Ok(())
    }

    /// Refuses to answer once the ledger stopped (a failed write, or an index found damaged).
    pub fn serving(&self) -> Result<(), LedgerError> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(LedgerError::Poisoned);
        }
        Ok(())
    }

    /// The Merkle root of the first `size` records.
    pub fn root_at(&self, size: u64) -> Result<[u8; 32], LedgerError> {
        self.check_size(size)?;
        let durable = self.durable_state_and_root()?;
        if durable.0 == size {
            return Ok(durable.2);
        }
        merkle::root_at(&self.stored_tree(size)?, size)
    }

    /// An inclusion proof of record `seq` in the tree of the first `size` records.
    pub fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<[u8; 32]>, LedgerError> {
        self.check_size(size)?;
        merkle::inclusion_proof(&self.stored_tree(size)?, seq, size)
    }

    /// A consistency proof between the trees of the first `old` and `new` records.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<[u8; 32]>, LedgerError> {
        self.check_size(new)?;
        merkle::consistency_proof(&self.stored_tree(new)?, old, new)
    }

    /// The Merkle tree of the first `size` durable records, as the index stores it.
    fn stored_tree(&self, size: u64) -> Result<StoredTree, LedgerError> {
        self.serving()?;
        self.indexer.wait_for(size)?;
        Ok(StoredTree { tree: self.index.tree_reader()?, len: size })
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
        self.durable_state_and_root().map(|(size, state, _)| (size, state))
    }

    /// The size of the durable ledger, the state digest and the Merkle root at that size.
    fn durable_state_and_root(&self) -> Result<(u64, [u8; 32], [u8; 32]), LedgerError> {
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
        self.serving()?;
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

/// The Merkle tree of a ledger's first `len` records as the index stores it: nodes of level
/// [`MERKLE_MIN_LEVEL`] and up as they are, lower ones hashed from the leaf hashes (at most 256).
struct StoredTree {
    // One read transaction for every node of a proof.
    tree: TreeReader,
    len: u64,
}

impl PerfectNodes for StoredTree {
    type Hasher = Blake3Hasher;
    type Error = LedgerError;

    fn len(&self) -> u64 {
        self.len
    }

    fn perfect_node(&self, level: u8, index: u64) -> Result<[u8; 32], LedgerError> {
        if level >= MERKLE_MIN_LEVEL {
            return self.tree.merkle_node(level, index)?.ok_or_else(|| {
                LedgerError::Index(IndexError::Damaged {
                    table: "merkle",
                    key: format!("{level}/{index}"),
                    reason: "missing".to_owned(),
                })
            });
        }
        let start = index << level;
        let leaves = self.tree.leaf_hashes(start, start + (1 << level))?;
        Ok(merkle::root::<Blake3Hasher>(&leaves))
    }
}

/// The checkpoint origin line of a ledger: `salvage/<ledger id>`.
pub fn checkpoint_origin(ledger_id: &LedgerId) -> String {
    format!("salvage/{ledger_id}")
}
