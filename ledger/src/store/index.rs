//! The sled indexes derived from the record log.
//!
//! Nothing here is the truth: the whole index can be dropped and rebuilt from
//! the log. Every index lives in one sled tree, each under its own one-byte key
//! prefix (a *family*), so that all the updates of a group commit, and the new
//! `size`, are written by a single atomic batch: the index is always exactly
//! the first `size` records, never half a commit.

use std::path::Path;

use serde::Serialize;

use crate::canonical::to_canonical_bytes;
use crate::chain::{LeafHash, Seq};
use crate::custody::{ItemState, Member};
use crate::entry::{EntryId, LedgerId};
use crate::ident::Giai;
use crate::store::log::LogPosition;

/// The key families of the index, each a one-byte key prefix.
mod family {
    /// `size` and `ledger_id`.
    pub const META: u8 = 0;
    /// seq (u64 BE) → log position (12 bytes) ‖ leaf hash (32 bytes).
    pub const RECORDS: u8 = 1;
    /// entry id → seq (u64 BE).
    pub const ENTRIES: u8 = 2;
    /// GIAI → canonical JSON of the item's state.
    pub const ITEMS: u8 = 3;
    /// GIAI ‖ 0x00 ‖ seq (u64 BE) → empty: the records of each item.
    pub const ITEM_RECORDS: u8 = 4;
    /// member id → canonical JSON of the member.
    pub const MEMBERS: u8 = 5;
    /// seq (u64 BE) → empty: the records that changed membership.
    pub const MEMBERSHIP: u8 = 6;
    /// level (u8) ‖ index (u64 BE) → node hash: perfect Merkle subtrees.
    pub const MERKLE: u8 = 7;
}

/// What one record adds to the indexes.
#[derive(Debug, Clone)]
pub(crate) struct IndexUpdate {
    pub seq: Seq,
    pub entry_id: EntryId,
    pub leaf_hash: LeafHash,
    pub position: LogPosition,
    pub members: Vec<Member>,
    pub items: Vec<ItemState>,
    /// Perfect Merkle subtrees completed by this record: (level, index, hash).
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
}

/// The sled database holding every index family in one tree.
pub(crate) struct Index {
    db: sled::Db,
    tree: sled::Tree,
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
        let db = sled::Config::new().path(dir).open()?;
        let tree = db.open_tree("index")?;
        Ok(Index { db, tree })
    }

    /// How many records the index covers, and for which ledger.
    pub fn size(&self) -> Result<(u64, Option<LedgerId>), IndexError> {
        let size = match self.tree.get(key(family::META, b"size"))? {
            Some(bytes) => u64_from(&bytes, "meta", "size")?,
            None => 0,
        };
        let ledger = match self.tree.get(key(family::META, b"ledger_id"))? {
            Some(bytes) => Some(LedgerId(<[u8; 32]>::try_from(bytes.as_ref()).map_err(|_| damaged("meta", "ledger_id", "not 32 bytes"))?)),
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
    pub fn apply(&self, ledger: LedgerId, updates: &[IndexUpdate]) -> Result<(), IndexError> {
        let Some(last) = updates.last() else { return Ok(()) };
        let mut batch = sled::Batch::default();
        for update in updates {
            let seq = update.seq.get().to_be_bytes();
            let mut location = update.position.to_bytes().to_vec();
            location.extend_from_slice(update.leaf_hash.as_bytes());
            batch.insert(key(family::RECORDS, &seq), location);
            batch.insert(key(family::ENTRIES, update.entry_id.as_bytes()), &seq);
            for item in &update.items {
                batch.insert(key(family::ITEMS, item.giai.as_str().as_bytes()), canonical(item));
                batch.insert(key(family::ITEM_RECORDS, &item_record_key(&item.giai, update.seq)), &[]);
            }
            for member in &update.members {
                batch.insert(key(family::MEMBERS, member.id.as_str().as_bytes()), canonical(member));
            }
            if !update.members.is_empty() {
                batch.insert(key(family::MEMBERSHIP, &seq), &[]);
            }
            for (level, index, hash) in &update.merkle_nodes {
                let mut node = vec![*level];
                node.extend_from_slice(&index.to_be_bytes());
                batch.insert(key(family::MERKLE, &node), hash.as_slice());
            }
        }
        batch.insert(key(family::META, b"ledger_id"), ledger.as_bytes());
        batch.insert(key(family::META, b"size"), &(last.seq.get() + 1).to_be_bytes());
        self.tree.apply_batch(batch)?;
        Ok(())
    }

    /// Where a record is in the log, and its leaf hash.
    pub fn record(&self, seq: Seq) -> Result<Option<(LogPosition, LeafHash)>, IndexError> {
        let Some(bytes) = self.tree.get(key(family::RECORDS, &seq.get().to_be_bytes()))? else { return Ok(None) };
        let key = seq.to_string();
        if bytes.len() != LogPosition::ENCODED_LEN + 32 {
            return Err(damaged("records", &key, "wrong length"));
        }
        let (position, leaf) = bytes.split_at(LogPosition::ENCODED_LEN);
        let position = LogPosition::from_bytes(position).map_err(|e| damaged("records", &key, &e.to_string()))?;
        let leaf = <[u8; 32]>::try_from(leaf).map_err(|_| damaged("records", &key, "leaf hash"))?;
        Ok(Some((position, LeafHash(leaf))))
    }

    /// The record holding an entry.
    pub fn entry_seq(&self, id: &EntryId) -> Result<Option<Seq>, IndexError> {
        match self.tree.get(key(family::ENTRIES, id.as_bytes()))? {
            Some(bytes) => Ok(Seq::new(u64_from(&bytes, "entries", &id.to_hex())?)),
            None => Ok(None),
        }
    }

    /// The current state of an item.
    pub fn item(&self, giai: &Giai) -> Result<Option<ItemState>, IndexError> {
        match self.tree.get(key(family::ITEMS, giai.as_str().as_bytes()))? {
            Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| damaged("items", giai.as_str(), &e.to_string())),
            None => Ok(None),
        }
    }

    /// Every record that touched an item, in order.
    pub fn item_records(&self, giai: &Giai) -> Result<Vec<Seq>, IndexError> {
        let mut prefix = key(family::ITEM_RECORDS, giai.as_str().as_bytes());
        prefix.push(0);
        let mut seqs = Vec::new();
        for pair in self.tree.scan_prefix(&prefix) {
            let (key, _) = pair?;
            let seq = key.get(prefix.len()..).ok_or_else(|| damaged("item_records", giai.as_str(), "short key"))?;
            let seq = u64_from(seq, "item_records", giai.as_str())?;
            seqs.push(Seq::new(seq).ok_or_else(|| damaged("item_records", giai.as_str(), "seq out of range"))?);
        }
        Ok(seqs)
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

    /// Writes sled's buffers to disk (used on clean shutdown; not needed for safety).
    pub fn flush(&self) -> Result<(), IndexError> {
        self.db.flush()?;
        Ok(())
    }
}

fn item_record_key(giai: &Giai, seq: Seq) -> Vec<u8> {
    let mut key = giai.as_str().as_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(&seq.get().to_be_bytes());
    key
}

fn canonical<T: Serialize>(value: &T) -> Vec<u8> {
    to_canonical_bytes(value)
}

fn u64_from(bytes: &[u8], tree: &'static str, key: &str) -> Result<u64, IndexError> {
    <[u8; 8]>::try_from(bytes).map(u64::from_be_bytes).map_err(|_| damaged(tree, key, "not an 8-byte number"))
}

fn damaged(tree: &'static str, key: &str, reason: &str) -> IndexError {
    IndexError::Damaged { tree, key: key.to_owned(), reason: reason.to_owned() }
}
