//! The sled indexes derived from the record log.
//!
//! Nothing here is the truth: every tree can be dropped and rebuilt from the
//! log. Updates are applied in record order, tree by tree, and the `size` in
//! `meta` is written last; every update is an idempotent upsert, so an index
//! interrupted half-way is repaired by applying the same updates again.

use std::path::Path;

use serde::Serialize;

use crate::canonical::to_canonical_bytes;
use crate::chain::{LeafHash, Seq};
use crate::custody::{ItemState, Member};
use crate::entry::{EntryId, LedgerId};
use crate::ident::Giai;
use crate::store::log::LogPosition;

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

/// The sled database and its trees.
pub(crate) struct Index {
    db: sled::Db,
    meta: sled::Tree,
    records: sled::Tree,
    entries: sled::Tree,
    items: sled::Tree,
    item_records: sled::Tree,
    members: sled::Tree,
    membership: sled::Tree,
    merkle: sled::Tree,
}

const TREES: &[&str] = &["meta", "records", "entries", "items", "item_records", "members", "membership", "merkle"];

impl Index {
    pub fn open(dir: &Path) -> Result<Index, IndexError> {
        let db = sled::Config::new().path(dir).open()?;
        Ok(Index {
            meta: db.open_tree("meta")?,
            records: db.open_tree("records")?,
            entries: db.open_tree("entries")?,
            items: db.open_tree("items")?,
            item_records: db.open_tree("item_records")?,
            members: db.open_tree("members")?,
            membership: db.open_tree("membership")?,
            merkle: db.open_tree("merkle")?,
            db,
        })
    }

    /// How many records the index covers, and for which ledger.
    pub fn size(&self) -> Result<(u64, Option<LedgerId>), IndexError> {
        let size = match self.meta.get("size")? {
            Some(bytes) => u64_from(&bytes, "meta", "size")?,
            None => 0,
        };
        let ledger = match self.meta.get("ledger_id")? {
            Some(bytes) => Some(LedgerId(<[u8; 32]>::try_from(bytes.as_ref()).map_err(|_| damaged("meta", "ledger_id", "not 32 bytes"))?)),
            None => None,
        };
        Ok((size, ledger))
    }

    /// The leaf hash the index holds for a record.
    pub fn leaf_hash(&self, seq: Seq) -> Result<Option<LeafHash>, IndexError> {
        Ok(self.record(seq)?.map(|(_, leaf)| leaf))
    }

    /// Drops every tree, for a rebuild.
    pub fn clear(&self) -> Result<(), IndexError> {
        for name in TREES {
            self.db.open_tree(name)?.clear()?;
        }
        Ok(())
    }

    /// Applies updates in record order and then records the new size.
    pub fn apply(&self, ledger: LedgerId, updates: &[IndexUpdate]) -> Result<(), IndexError> {
        let Some(last) = updates.last() else { return Ok(()) };
        let mut records = sled::Batch::default();
        let mut entries = sled::Batch::default();
        let mut items = sled::Batch::default();
        let mut item_records = sled::Batch::default();
        let mut members = sled::Batch::default();
        let mut membership = sled::Batch::default();
        let mut merkle = sled::Batch::default();
        for update in updates {
            let seq = update.seq.get().to_be_bytes();
            let mut location = update.position.to_bytes().to_vec();
            location.extend_from_slice(update.leaf_hash.as_bytes());
            records.insert(&seq, location);
            entries.insert(update.entry_id.as_bytes(), &seq);
            for item in &update.items {
                items.insert(item.giai.as_str().as_bytes(), canonical(item));
                item_records.insert(item_record_key(&item.giai, update.seq), &[]);
            }
            for member in &update.members {
                members.insert(member.id.as_str().as_bytes(), canonical(member));
            }
            if !update.members.is_empty() {
                membership.insert(&seq, &[]);
            }
            for (level, index, hash) in &update.merkle_nodes {
                let mut key = vec![*level];
                key.extend_from_slice(&index.to_be_bytes());
                merkle.insert(key, hash.as_slice());
            }
        }
        self.records.apply_batch(records)?;
        self.entries.apply_batch(entries)?;
        self.items.apply_batch(items)?;
        self.item_records.apply_batch(item_records)?;
        self.members.apply_batch(members)?;
        self.membership.apply_batch(membership)?;
        self.merkle.apply_batch(merkle)?;
        let mut meta = sled::Batch::default();
        meta.insert("ledger_id", ledger.as_bytes());
        meta.insert("size", &(last.seq.get() + 1).to_be_bytes());
        self.meta.apply_batch(meta)?;
        Ok(())
    }

    /// Where a record is in the log, and its leaf hash.
    pub fn record(&self, seq: Seq) -> Result<Option<(LogPosition, LeafHash)>, IndexError> {
        let Some(bytes) = self.records.get(seq.get().to_be_bytes())? else { return Ok(None) };
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
        match self.entries.get(id.as_bytes())? {
            Some(bytes) => Ok(Seq::new(u64_from(&bytes, "entries", &id.to_hex())?)),
            None => Ok(None),
        }
    }

    /// The current state of an item.
    pub fn item(&self, giai: &Giai) -> Result<Option<ItemState>, IndexError> {
        match self.items.get(giai.as_str().as_bytes())? {
            Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| damaged("items", giai.as_str(), &e.to_string())),
            None => Ok(None),
        }
    }

    /// Every record that touched an item, in order.
    pub fn item_records(&self, giai: &Giai) -> Result<Vec<Seq>, IndexError> {
        let mut prefix = giai.as_str().as_bytes().to_vec();
        prefix.push(0);
        let mut seqs = Vec::new();
        for pair in self.item_records.scan_prefix(&prefix) {
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
        for pair in self.membership.iter() {
            let (key, _) = pair?;
            let seq = u64_from(&key, "membership", "key")?;
            seqs.push(Seq::new(seq).ok_or_else(|| damaged("membership", "key", "seq out of range"))?);
        }
        Ok(seqs)
    }

    /// Every member, by id.
    pub fn members(&self) -> Result<Vec<Member>, IndexError> {
        self.members
            .iter()
            .map(|pair| {
                let (key, value) = pair?;
                serde_json::from_slice(&value)
                    .map_err(|e| damaged("members", &String::from_utf8_lossy(&key), &e.to_string()))
            })
            .collect()
    }

    /// blake3 over every tree's keys and values, in order: equal for equal indexes.
    pub fn digest(&self) -> Result<[u8; 32], IndexError> {
        let mut hasher = blake3::Hasher::new();
        for name in TREES {
            hasher.update(name.as_bytes());
            for pair in self.db.open_tree(name)?.iter() {
                let (key, value) = pair?;
                hasher.update(&(key.len() as u64).to_be_bytes());
                hasher.update(&key);
                hasher.update(&(value.len() as u64).to_be_bytes());
                hasher.update(&value);
            }
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
