//! The sled indexes derived from the record log.
//!
//! Nothing here is the truth: the whole index can be dropped and rebuilt from
//! the log. Every index lives in one sled tree, each under its own one-byte key
//! prefix (a *family*), so that all the updates of a group commit, and the new
//! `size`, are written by a single atomic batch: the index is always exactly
//! the first `size` records, never half a commit.

use std::collections::btree_map::{self, BTreeMap};
use std::fs::File;
use std::path::Path;

use serde::Serialize;

use crate::chain::{LeafHash, Seq};
use crate::custody::Member;
use crate::entry::LedgerId;
use crate::store::frame_log::release_durable_pages;
use crate::store::log::LogPosition;

/// The key families of the index, each a one-byte key prefix.
///
/// A sled write costs several microseconds whatever its size, about as much as
/// checking a signature, and sled copies the node it writes into: the layout
/// keeps them to a few per batch. Record locations are packed
/// [`RECORDS_PER_CHUNK`] to a key; items are not here at all (the ledger keeps
/// them in memory: see `Ledger::item`), because one write per record for them
/// made the index a seventh of a loaded consortium node's CPU time.
mod family {
    /// `size` and `ledger_id`.
    pub const META: u8 = 0;
    /// chunk number (u64 BE) → for each record of the chunk present so far, in
    /// order: log position (12 bytes) ‖ leaf hash (32 bytes). Chunk `c` holds
    /// records `c·RECORDS_PER_CHUNK` onwards.
    pub const RECORDS: u8 = 1;
    // Families 2 (entry id → seq), 3 (GIAI → the item's records and state) and
    // 4 (one key per record of an item) are retired: the ledger keeps entry ids,
    // items and their records in memory. Their bytes are not reused.
    /// member id → JSON of the member.
    pub const MEMBERS: u8 = 5;
    /// seq (u64 BE) → empty: the records that changed membership.
    pub const MEMBERSHIP: u8 = 6;
    /// level (u8) ‖ index (u64 BE) → node hash: the roots of perfect Merkle
    /// subtrees of at least 2^[`super::MERKLE_MIN_LEVEL`] leaves.
    pub const MERKLE: u8 = 7;
}

/// How many record locations one key of the records family holds.
const RECORDS_PER_CHUNK: u64 = 64;

/// The size of one record location: log position ‖ leaf hash.
const LOCATION_LEN: usize = LogPosition::ENCODED_LEN + 32;

/// The lowest level of Merkle node the index stores. Smaller subtrees are cheap
/// to recompute from the leaf hashes in the records family (at most 255 hashes
/// for any node), and storing every node would cost two sled writes per record.
pub(crate) const MERKLE_MIN_LEVEL: u8 = 8;

/// What one record adds to the indexes.
#[derive(Debug, Clone)]
pub(crate) struct IndexUpdate {
    pub seq: Seq,
    pub leaf_hash: LeafHash,
    pub position: LogPosition,
    pub members: Vec<Member>,
    /// Perfect Merkle subtrees completed by this record: (level, index, hash),
    /// of level [`MERKLE_MIN_LEVEL`] and above.
    pub merkle_nodes: Vec<(u8, u64, [u8; 32])>,
}

/// Why the index could not be read or written.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// sled failed.
    #[error("index database: {0}")]
    Sled(#[from] sled::Error),
    /// A stored value does not decode; the index must be rebuilt.
    #[error("index entry {tree}/{key} is damaged: {reason}")]
    Damaged {
        /// The tree.
        tree: &'static str,
        /// The key, printed.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A state value could not be encoded for the index (a bug, not bad input).
    #[error("cannot encode a value for the index: {0}")]
    Encode(String),
}

/// The sled database holding every index family in one tree.
pub(crate) struct Index {
    db: sled::Db,
    tree: sled::Tree,
    // sled's data file, opened only to let the kernel drop its durable pages;
    // `None` if sled keeps it under another name.
    db_file: Option<File>,
}

/// A key of a family: the family byte, then the key proper.
fn key(family: u8, rest: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + rest.len());
    key.push(family);
    key.extend_from_slice(rest);
    key
}

impl Index {
    pub fn open(dir: &Path) -> Result<Index, IndexError> {
        let db = open_db(dir)?;
        let tree = db.open_tree("index")?;
        let db_file = File::open(dir.join(SLED_DATA_FILE)).ok();
        Ok(Index { db, tree, db_file })
    }

    /// Whether sled's data file was found, so its pages can be released.
    #[cfg(test)]
    pub fn has_data_file(&self) -> bool {
        self.db_file.is_some()
    }

    /// Makes sled's writes durable, then lets the kernel drop sled's file from
    /// its page cache (see [`release_durable_pages`]): sled reads through its
    /// own cache, and every page the index writes would otherwise take a fresh
    /// page of memory.
    pub fn release_durable_pages(&self) -> Result<(), IndexError> {
        if let Some(file) = &self.db_file {
            self.flush()?;
            if let Ok(metadata) = file.metadata() {
                release_durable_pages(file, 0, metadata.len());
            }
        }
        Ok(())
    }

    /// How many records the index covers, and for which ledger.
    pub fn size(&self) -> Result<(u64, Option<LedgerId>), IndexError> {
        let size = match self.tree.get(key(family::META, b"size"))? {
            Some(bytes) => u64_from(&bytes, "meta", "size")?,
            None => 0,
        };
        let ledger = match self.tree.get(key(family::META, b"ledger_id"))? {
            Some(bytes) => Some(LedgerId(
                <[u8; 32]>::try_from(bytes.as_ref()).map_err(|_| damaged("meta", "ledger_id", "not 32 bytes"))?,
            )),
            None => None,
        };
        Ok((size, ledger))
    }

    /// The leaf hash the index holds for a record.
    pub fn leaf_hash(&self, seq: Seq) -> Result<Option<LeafHash>, IndexError> {
        Ok(self.record(seq)?.map(|(_, leaf)| leaf))
    }

    /// Drops the whole index, for a rebuild.
    pub fn clear(&self) -> Result<(), IndexError> {
        self.tree.clear()?;
        Ok(())
    }

    /// Applies updates in record order, with the new size, as one atomic batch.
    ///
    /// The updates must continue the index: the first one is record `size`.
    pub fn apply(&self, ledger: LedgerId, updates: &[IndexUpdate]) -> Result<(), IndexError> {
        let Some(last) = updates.last() else { return Ok(()) };
        // Chunks touched by the batch, built in memory from what the index
        // holds, then written once each.
        let mut chunks: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        let mut batch = sled::Batch::default();
        for update in updates {
            let seq = update.seq.get();
            let chunk_number = seq / RECORDS_PER_CHUNK;
            let chunk = match chunks.entry(chunk_number) {
                btree_map::Entry::Occupied(entry) => entry.into_mut(),
                btree_map::Entry::Vacant(entry) => {
                    let stored = self.tree.get(key(family::RECORDS, &chunk_number.to_be_bytes()))?;
                    entry.insert(stored.map(|bytes| bytes.to_vec()).unwrap_or_default())
                }
            };
            if chunk.len() as u64 != (seq % RECORDS_PER_CHUNK) * LOCATION_LEN as u64 {
                return Err(damaged("records", &seq.to_string(), "the index is not at this record"));
            }
            chunk.extend_from_slice(&update.position.to_bytes());
            chunk.extend_from_slice(update.leaf_hash.as_bytes());
            for member in &update.members {
                batch.insert(key(family::MEMBERS, member.id.as_str().as_bytes()), json(member)?);
            }
            if !update.members.is_empty() {
                batch.insert(key(family::MEMBERSHIP, &seq.to_be_bytes()), &[]);
            }
            for (level, index, hash) in &update.merkle_nodes {
                let mut node = vec![*level];
                node.extend_from_slice(&index.to_be_bytes());
                batch.insert(key(family::MERKLE, &node), hash.as_slice());
            }
        }
        for (chunk_number, chunk) in chunks {
            batch.insert(key(family::RECORDS, &chunk_number.to_be_bytes()), chunk);
        }
        batch.insert(key(family::META, b"ledger_id"), ledger.as_bytes());
        batch.insert(key(family::META, b"size"), &(last.seq.get() + 1).to_be_bytes());
        self.tree.apply_batch(batch)?;
        Ok(())
    }

    /// Where a record is in the log, and its leaf hash.
    pub fn record(&self, seq: Seq) -> Result<Option<(LogPosition, LeafHash)>, IndexError> {
        let chunk_number = seq.get() / RECORDS_PER_CHUNK;
        let Some(chunk) = self.tree.get(key(family::RECORDS, &chunk_number.to_be_bytes()))? else { return Ok(None) };
        let start = (seq.get() % RECORDS_PER_CHUNK) as usize * LOCATION_LEN;
        let Some(location) = chunk.get(start..start + LOCATION_LEN) else { return Ok(None) };
        let key = seq.to_string();
        let (position, leaf) = location.split_at(LogPosition::ENCODED_LEN);
        let position = LogPosition::from_bytes(position).map_err(|e| damaged("records", &key, &e.to_string()))?;
        let leaf = <[u8; 32]>::try_from(leaf).map_err(|_| damaged("records", &key, "leaf hash"))?;
        Ok(Some((position, LeafHash(leaf))))
    }

    /// Every record that changed membership (the genesis included), in order.
    pub fn membership_records(&self) -> Result<Vec<Seq>, IndexError> {
        let mut seqs = Vec::new();
        for pair in self.tree.scan_prefix([family::MEMBERSHIP]) {
            let (stored, _) = pair?;
            let seq = u64_from(stored.get(1..).unwrap_or_default(), "membership", "key")?;
            seqs.push(Seq::new(seq).ok_or_else(|| damaged("membership", "key", "seq out of range"))?);
        }
        Ok(seqs)
    }

    /// Every member, by id.
    pub fn members(&self) -> Result<Vec<Member>, IndexError> {
        self.tree
            .scan_prefix([family::MEMBERS])
            .map(|pair| {
                let (stored, value) = pair?;
                serde_json::from_slice(&value)
                    .map_err(|e| damaged("members", &String::from_utf8_lossy(&stored), &e.to_string()))
            })
            .collect()
    }

    /// blake3 over every key and value, in order: equal for equal indexes.
    pub fn digest(&self) -> Result<[u8; 32], IndexError> {
        let mut hasher = blake3::Hasher::new();
        for pair in self.tree.iter() {
            let (stored, value) = pair?;
            hasher.update(&(stored.len() as u64).to_be_bytes());
            hasher.update(&stored);
            hasher.update(&(value.len() as u64).to_be_bytes());
            hasher.update(&value);
        }
        Ok(*hasher.finalize().as_bytes())
    }

    /// Writes sled's buffers to disk (on clean shutdown, and before its pages are
    /// released; not needed for safety).
    pub fn flush(&self) -> Result<(), IndexError> {
        self.db.flush()?;
        Ok(())
    }
}

/// The file in the index directory where sled 0.34 keeps its log and pages.
const SLED_DATA_FILE: &str = "db";

/// How long to wait for sled's own file lock to be released.
const SLED_LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// Opens the sled database. The caller holds the ledger directory's lock, so
/// if sled's lock on its file is still taken, it is by this process: the
/// background threads of a `Ledger` just dropped, which let go of it a moment
/// after the drop returns. Wait for them rather than fail.
fn open_db(dir: &Path) -> Result<sled::Db, IndexError> {
    let started = std::time::Instant::now();
    loop {
        match sled::Config::new().path(dir).open() {
            Err(sled::Error::Io(error))
                if error.to_string().contains("could not acquire lock") && started.elapsed() < SLED_LOCK_PATIENCE =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return Ok(other?),
        }
    }
}

/// The JSON the index stores for a state value. Plain serde JSON, not RFC 8785:
/// the index is private to this code, and field order is fixed by the types,
/// so equal states still give equal bytes on every machine.
fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, IndexError> {
    serde_json::to_vec(value).map_err(|e| IndexError::Encode(e.to_string()))
}

fn u64_from(bytes: &[u8], tree: &'static str, key: &str) -> Result<u64, IndexError> {
    <[u8; 8]>::try_from(bytes).map(u64::from_be_bytes).map_err(|_| damaged(tree, key, "not an 8-byte number"))
}

fn damaged(tree: &'static str, key: &str, reason: &str) -> IndexError {
    IndexError::Damaged { tree, key: key.to_owned(), reason: reason.to_owned() }
}
