//! Where an audit keeps what it has replayed, so that its memory does not grow with the ledger:
//! the items' states in a temporary redb database and the entry ids seen in a temporary file of
//! buckets, each with a Bloom filter in front so that a new item or entry (nearly all of them)
//! costs no read.
//!
//! Why two stores: items are read back by key at every entry that names them and rewritten as
//! they change, which a B-tree does well, batched so that a write touches each page once. Entry
//! ids are only ever added, and looked up only when the Bloom filter cannot rule one out (a
//! duplicate, or about one in five hundred new ids at ten million): a B-tree of random 32-byte
//! keys rewrites a page per id once it outgrows its cache, so the ids are appended instead, to one
//! of [`BUCKETS`] chains by a keyed hash (a key drawn per audit), and a lookup reads one chain.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;

use redb::{Database, Durability, ReadableDatabase, TableDefinition};

use crate::custody::ItemState;
use crate::entry::EntryId;
use crate::ident::Giai;

const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");

/// The temporary database's own cache of pages.
const CACHE_BYTES: usize = 32 << 20;

/// Items held in memory after their chunk, written out together once there are this many: a
/// write transaction costs the same whether it carries a chunk's items or sixteen chunks'. The
/// crate's tests hold few, so that their ledgers reach the database.
const ITEMS_HELD: usize = if cfg!(test) { 16 } else { 8192 };

/// The temporary store of an audit, deleted when dropped.
pub(super) struct Spill {
    db: Database,
    // Items stored since the last write, by GIAI (written in key order).
    held: BTreeMap<String, ItemState>,
    items: Bloom,
    entries: EntryIds,
    // Declared last: the directory goes after the database and the file are closed.
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
        write.commit().map_err(failed)?;
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(failed)?;
        let entries = EntryIds::create(File::create_new(dir.path().join("entry-ids")).map_err(failed)?, key);
        Ok(Spill { db, held: BTreeMap::new(), items: Bloom::new(), entries, _dir: dir })
    }

    /// Notes an entry id; whether it was seen before.
    pub fn seen_before(&mut self, id: &EntryId) -> Result<bool, SpillFailed> {
        self.entries.seen_before(&id.0).map_err(failed)
    }

    /// An item stored by [`Spill::store`].
    pub fn item(&self, giai: &Giai) -> Result<Option<ItemState>, SpillFailed> {
        if let Some(item) = self.held.get(giai.as_str()) {
            return Ok(Some(item.clone()));
        }
        if !self.items.may_hold(blake3::hash(giai.as_str().as_bytes()).as_bytes()) {
            return Ok(None);
        }
        let read = self.db.begin_read().map_err(failed)?;
        let items = read.open_table(ITEMS).map_err(failed)?;
        let Some(stored) = items.get(giai.as_str()).map_err(failed)? else { return Ok(None) };
        serde_json::from_slice(stored.value()).map(Some).map_err(failed)
    }

    /// Stores items, replacing what it held of them.
    pub fn store(&mut self, changed: Vec<ItemState>) -> Result<(), SpillFailed> {
        for item in changed {
            self.items.add(blake3::hash(item.giai.as_str().as_bytes()).as_bytes());
            self.held.insert(item.giai.as_str().to_owned(), item);
        }
        if self.held.len() >= ITEMS_HELD { self.write_held() } else { Ok(()) }
    }

    fn write_held(&mut self) -> Result<(), SpillFailed> {
        let mut write = self.db.begin_write().map_err(failed)?;
        // Nothing here outlives the audit: no commit needs to reach the disk.
        write.set_durability(Durability::None).map_err(failed)?;
        {
            let mut items = write.open_table(ITEMS).map_err(failed)?;
            let mut value = Vec::new();
            for (giai, item) in std::mem::take(&mut self.held) {
                value.clear();
                serde_json::to_writer(&mut value, &item).map_err(failed)?;
                items.insert(giai.as_str(), value.as_slice()).map_err(failed)?;
            }
        }
        write.commit().map_err(failed)
    }
}

/// Chains of entry ids by their first bytes.
const BUCKETS: usize = 1024;

/// Ids per block of a chain on disk (4 KiB); the crate's tests write small blocks, so that
/// their ledgers' ids reach the file.
const BLOCK_IDS: usize = if cfg!(test) { 2 } else { 128 };

/// Every entry id seen: each bucket's latest ids in memory, its earlier ones in blocks appended to
/// a file. Memory: the Bloom filter, [`BUCKETS`] × [`BLOCK_IDS`] ids (4 MiB) and one offset per
/// block (8 bytes per 128 ids).
struct EntryIds {
    // Where an id goes (its bucket and its Bloom bits) is a keyed hash of it, the key drawn for
    // this audit: a ledger whose ids were ground to share a bucket or to hit set bits would
    // otherwise make every lookup read a chain as long as the ledger.
    key: [u8; 32],
    file: File,
    end: u64,
    buckets: Vec<Bucket>,
    bloom: Bloom,
}

#[derive(Default)]
struct Bucket {
    latest: Vec<[u8; 32]>,
    blocks: Vec<u64>,
}

impl EntryIds {
    fn create(file: File, key: [u8; 32]) -> EntryIds {
        EntryIds { key, file, end: 0, buckets: (0..BUCKETS).map(|_| Bucket::default()).collect(), bloom: Bloom::new() }
    }

    fn seen_before(&mut self, id: &[u8; 32]) -> std::io::Result<bool> {
        let place = *blake3::keyed_hash(&self.key, id).as_bytes();
        if self.bloom.may_hold(&place) && self.holds(id, &place)? {
            return Ok(true);
        }
        self.bloom.add(&place);
        let bucket = &mut self.buckets[bucket_of(&place)];
        bucket.latest.push(*id);
        if bucket.latest.len() == BLOCK_IDS {
            let block: Vec<u8> = bucket.latest.drain(..).flatten().collect();
            self.file.write_all_at(&block, self.end)?;
            bucket.blocks.push(self.end);
            self.end += block.len() as u64;
        }
        Ok(false)
    }

    /// Whether the id is in its bucket (chosen by its `place`), reading the bucket's blocks.
    fn holds(&self, id: &[u8; 32], place: &[u8; 32]) -> std::io::Result<bool> {
        let bucket = &self.buckets[bucket_of(place)];
        if bucket.latest.contains(id) {
            return Ok(true);
        }
        let mut block = vec![0u8; BLOCK_IDS * 32];
        for offset in &bucket.blocks {
            self.file.read_exact_at(&mut block, *offset)?;
            if block.chunks_exact(32).any(|stored| stored == id) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// The chain an id goes to, by the first two bytes of its keyed hash.
fn bucket_of(place: &[u8; 32]) -> usize {
    usize::from(u16::from_le_bytes([place[0], place[1]])) % BUCKETS
}

/// A Bloom filter of 2^27 bits (16 MiB) over 32-byte digests, probed 7 times: about 0.2 % false
/// positives at ten million keys, each costing one read of the store behind it.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids that share a bucket, enough of them to fill many blocks, are each found once
    /// written, whether in memory or on disk, and a new id is never "seen before".
    #[test]
    fn entry_ids_are_found_in_memory_and_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let key = [9u8; 32];
        let mut ids = EntryIds::create(File::create_new(dir.path().join("ids")).unwrap(), key);
        // Ids whose keyed hash puts them all in bucket 7: the chain grows to many blocks.
        let in_bucket_7: Vec<[u8; 32]> = (0u32..)
            .map(|n| *blake3::hash(&n.to_le_bytes()).as_bytes())
            .filter(|id| bucket_of(blake3::keyed_hash(&key, id).as_bytes()) == 7)
            .take(BLOCK_IDS * 5 + 2)
            .collect();
        let id = |n: u32| in_bucket_7[n as usize];
        let count = BLOCK_IDS as u32 * 5 + 1;
        for n in 0..count {
            assert!(!ids.seen_before(&id(n)).unwrap(), "id {n} is new");
        }
        assert_eq!(ids.buckets[7].blocks.len(), 5);
        for n in [0, 1, BLOCK_IDS as u32, count - 4, count - 1] {
            assert!(ids.seen_before(&id(n)).unwrap(), "id {n} was seen");
        }
        assert!(!ids.seen_before(&id(count)).unwrap());
    }
}
