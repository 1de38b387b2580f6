//! Where an audit keeps what it has replayed, so that its memory does not grow with the ledger:
//! the items' states and the entry ids seen, in a temporary redb database, with a Bloom filter
//! in front of each so that a new item or entry (nearly all of them) costs no read.

use std::collections::HashSet;

use redb::{Database, Durability, ReadableDatabase, TableDefinition};

use crate::custody::ItemState;
use crate::entry::EntryId;
use crate::ident::Giai;

const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");
const ENTRIES: TableDefinition<&[u8; 32], ()> = TableDefinition::new("entries");

/// The temporary database's own cache of pages.
const CACHE_BYTES: usize = 32 << 20;

/// The temporary store of an audit, deleted when dropped.
pub(super) struct Spill {
    db: Database,
    // Entry ids seen since the last write, not yet in the database.
    pending: HashSet<[u8; 32]>,
    entries: Bloom,
    items: Bloom,
    // Declared last: the directory goes after the database is closed.
    _dir: tempfile::TempDir,
}

/// Why the temporary store failed (the disk, most likely).
#[derive(Debug, thiserror::Error)]
#[error("the audit's temporary storage failed: {0}")]
pub(super) struct SpillFailed(String);

fn failed(error: impl std::fmt::Display) -> SpillFailed {
    SpillFailed(error.to_string())
}

impl Spill {
    /// A store in a new temporary directory.
    pub fn create() -> Result<Spill, SpillFailed> {
        let dir = tempfile::Builder::new().prefix("salvage-audit-").tempdir().map_err(failed)?;
        let db =
            Database::builder().set_cache_size(CACHE_BYTES).create(dir.path().join("audit.redb")).map_err(failed)?;
        let write = db.begin_write().map_err(failed)?;
        write.open_table(ITEMS).map_err(failed)?;
        write.open_table(ENTRIES).map_err(failed)?;
        write.commit().map_err(failed)?;
        Ok(Spill { db, pending: HashSet::new(), entries: Bloom::new(), items: Bloom::new(), _dir: dir })
    }

    /// Notes an entry id; whether it was seen before.
    pub fn seen_before(&mut self, id: &EntryId) -> Result<bool, SpillFailed> {
        if !self.entries.may_hold(&id.0) {
            self.entries.add(&id.0);
            self.pending.insert(id.0);
            return Ok(false);
        }
        if self.pending.contains(&id.0) {
            return Ok(true);
        }
        let read = self.db.begin_read().map_err(failed)?;
        if read.open_table(ENTRIES).map_err(failed)?.get(&id.0).map_err(failed)?.is_some() {
            return Ok(true);
        }
        self.pending.insert(id.0);
        Ok(false)
    }

    /// An item stored by [`Spill::store`].
    pub fn item(&self, giai: &Giai) -> Result<Option<ItemState>, SpillFailed> {
        if !self.items.may_hold(blake3::hash(giai.as_str().as_bytes()).as_bytes()) {
            return Ok(None);
        }
        let read = self.db.begin_read().map_err(failed)?;
        let items = read.open_table(ITEMS).map_err(failed)?;
        let Some(stored) = items.get(giai.as_str()).map_err(failed)? else { return Ok(None) };
        serde_json::from_slice(stored.value()).map(Some).map_err(failed)
    }

    /// Stores items (replacing what it held of them) and the entry ids noted since the last call.
    pub fn store(&mut self, changed: Vec<ItemState>) -> Result<(), SpillFailed> {
        let mut write = self.db.begin_write().map_err(failed)?;
        // Nothing here outlives the audit: no commit needs to reach the disk.
        write.set_durability(Durability::None).map_err(failed)?;
        {
            let mut items = write.open_table(ITEMS).map_err(failed)?;
            for item in changed {
                self.items.add(blake3::hash(item.giai.as_str().as_bytes()).as_bytes());
                let value = serde_json::to_vec(&item).map_err(failed)?;
                items.insert(item.giai.as_str(), value.as_slice()).map_err(failed)?;
            }
            let mut entries = write.open_table(ENTRIES).map_err(failed)?;
            for id in self.pending.drain() {
                entries.insert(&id, ()).map_err(failed)?;
            }
        }
        write.commit().map_err(failed)?;
        Ok(())
    }
}

/// A Bloom filter of 2^27 bits (16 MiB) over 32-byte digests, probed 7 times: about 0.2 % false
/// positives at ten million keys, each costing one read of the database.
struct Bloom {
    bits: Vec<u64>,
}

/// log2 of the filter's size in bits.
const BLOOM_BITS_LOG2: u32 = 27;

/// Probes per key.
const BLOOM_PROBES: u64 = 7;

impl Bloom {
    fn new() -> Bloom {
        Bloom { bits: vec![0; 1 << (BLOOM_BITS_LOG2 - 6)] }
    }

    /// The bits of a key: double hashing over two 64-bit words of the digest.
    fn positions(digest: &[u8; 32]) -> impl Iterator<Item = usize> {
        let word = |at: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&digest[at..at + 8]);
            u64::from_le_bytes(bytes)
        };
        let (first, step) = (word(0), word(8) | 1);
        let mask = (1u64 << BLOOM_BITS_LOG2) - 1;
        (0..BLOOM_PROBES).map(move |probe| (first.wrapping_add(probe.wrapping_mul(step)) & mask) as usize)
    }

    fn add(&mut self, digest: &[u8; 32]) {
        for bit in Self::positions(digest) {
            if let Some(word) = self.bits.get_mut(bit / 64) {
                *word |= 1 << (bit % 64);
            }
        }
    }

    fn may_hold(&self, digest: &[u8; 32]) -> bool {
        Self::positions(digest).all(|bit| self.bits.get(bit / 64).is_some_and(|word| word & (1 << (bit % 64)) != 0))
    }
}
