//! The index: everything derived from the record log that a ledger reads without replaying it,
//! in one redb database (`DATA/index.redb`).
//!
//! Nothing here is the truth: the whole index can be dropped and rebuilt from the log. It holds
//! where each record is and its leaf hash, the stored Merkle nodes, the members, and the custody
//! state a node would otherwise rebuild by replaying every record: every item with the records
//! that touched it, every entry id, and where each record's disclosures are. All the updates of a
//! group commit, with the state summary after them (size, last leaf, the state digest's lattice,
//! the Merkle frontier), are written by one transaction: the index is always exactly the first
//! `size` records, never half a commit, so opening can trust it up to `size` and replay only the
//! records after it.
//!
//! Why redb: the index used to be sled, whose every write cost several microseconds whatever its
//! size, whose cache took a gigabyte by default, and which is no longer maintained; redb writes a
//! group commit's updates in one copy-on-write transaction, reads through a cache of the size we
//! give it, and is ACID with commits that need not fsync.
//!
//! Commits do not fsync (`Durability::None`) except one in a while ([`Index::apply`]'s `durable`):
//! after a crash redb comes back at the last durable commit, a little behind the log, and opening
//! catches up from there.

use std::path::Path;

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::chain::{LeafHash, Seq};
use crate::custody::{ItemState, LATTICE_BYTES, Member, StateLattice};
use crate::entry::{EntryId, LedgerId, Timestamp};
use crate::ident::Giai;
use crate::store::log::LogPosition;

/// `size`, `ledger_id` and the state summary ([`StateSummary`]) under their names.
pub(super) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// chunk number → for each record of the chunk present so far, in order: log position
/// (12 bytes) ‖ leaf hash (32 bytes). Chunk `c` holds records `c·RECORDS_PER_CHUNK` onwards.
pub(super) const RECORDS: TableDefinition<u64, &[u8]> = TableDefinition::new("records");
/// member id → JSON of the member.
pub(super) const MEMBERS: TableDefinition<&str, &[u8]> = TableDefinition::new("members");
/// The records that changed membership.
pub(super) const MEMBERSHIP: TableDefinition<u64, ()> = TableDefinition::new("membership");
/// (level, index) → the root of a perfect Merkle subtree of at least 2^[`MERKLE_MIN_LEVEL`] leaves.
pub(super) const MERKLE: TableDefinition<(u8, u64), &[u8]> = TableDefinition::new("merkle");
/// GIAI → JSON of [`StoredItem`]: the item's state and the records that touched it.
pub(super) const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");
/// entry id → seq (8 bytes, big-endian) ‖ digest of its signatures (32 bytes).
pub(super) const ENTRIES: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("entries");
/// seq → the position of its disclosures' frame in the private store (12 bytes).
pub(super) const DISCLOSURES: TableDefinition<u64, &[u8]> = TableDefinition::new("disclosures");

/// How many record locations one key of the records table holds: one write per 64 records
/// instead of one per record.
pub(super) const RECORDS_PER_CHUNK: u64 = 64;

/// The size of one record location: log position ‖ leaf hash.
pub(super) const LOCATION_LEN: usize = LogPosition::ENCODED_LEN + 32;

/// The lowest level of Merkle node the index stores. Smaller subtrees are cheap
/// to recompute from the leaf hashes in the records table (at most 255 hashes
/// for any node), and storing every node would cost two writes per record.
pub(crate) const MERKLE_MIN_LEVEL: u8 = 8;

/// The file of the database in the ledger directory.
pub(crate) const INDEX_FILE: &str = "index.redb";

/// What one record adds to the index.
#[derive(Debug, Clone)]
pub(crate) struct IndexUpdate {
    pub seq: Seq,
    pub leaf_hash: LeafHash,
    pub position: LogPosition,
    pub entry_id: EntryId,
    /// A digest of the entry's signatures (see `core::signatures_digest`).
    pub signed: [u8; 32],
    pub members: Vec<Member>,
    /// Whether the record is one of the membership records a proof bundle carries: it changed
    /// a member's name, roles, keys or identifiers. A reservation (`giai.reserve`) changes only
    /// the next free serial of its holder's allocation, which no bundle needs to replay its
    /// item (the reservation is among the item's own records), so it is not one: bundles would
    /// otherwise carry every label sheet ever printed.
    pub membership: bool,
    /// The items the record changed, as they are after it.
    pub items: Vec<ItemState>,
    /// Where the record's disclosures are in the private store, if it has any.
    pub disclosures: Option<LogPosition>,
    /// Perfect Merkle subtrees completed by this record: (level, index, hash),
    /// of level [`MERKLE_MIN_LEVEL`] and above.
    pub merkle_nodes: Vec<(u8, u64, [u8; 32])>,
    /// The state after this record, on the last record of every group commit.
    pub summary: Option<Box<StateSummary>>,
}

/// The state after a record, beyond what the tables hold: enough to go on from it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StateSummary {
    /// The leaf hash of the record.
    pub last_leaf: LeafHash,
    /// Its `accepted` time.
    pub last_accepted: Timestamp,
    /// The state digest's lattice (docs/format.md §14).
    pub lattice: StateLattice,
    /// How many items there are.
    pub item_count: u64,
    /// The peaks of the Merkle tree after it, highest level first.
    pub frontier: Vec<[u8; 32]>,
}

/// What the index says it covers when it is opened.
#[derive(Debug, Clone)]
pub(crate) struct Covered {
    pub size: u64,
    pub ledger_id: Option<LedgerId>,
    /// The summary after record `size - 1` (`None` for an empty index, or one written by a version
    /// that kept no summary).
    pub summary: Option<StateSummary>,
}

/// An item as the index keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredItem {
    pub state: ItemState,
    /// Every record that touched it, in order.
    pub records: Vec<u64>,
}

/// Why the index could not be read or written.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The database failed.
    #[error("index database: {0}")]
    Database(#[from] redb::Error),
    /// A stored value does not decode; the index must be rebuilt.
    #[error("index entry {table}/{key} is damaged: {reason}")]
    Damaged {
        /// The table.
        table: &'static str,
        /// The key, printed.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A state value could not be encoded for the index (a bug, not bad input).
    #[error("cannot encode a value for the index: {0}")]
    Encode(String),
}

/// Any redb error as an index error.
pub(super) fn failed(error: impl Into<redb::Error>) -> IndexError {
    IndexError::Database(error.into())
}

/// The redb database holding every table.
pub(crate) struct Index {
    pub(super) db: Database,
}

impl Index {
    /// Opens the database in `dir` with a read cache of `cache_bytes`, or, when it cannot be
    /// opened (missing, damaged, of a format this version does not read), replaces it with an
    /// empty one and says why.
    pub fn open_or_replace(dir: &Path, cache_bytes: usize) -> Result<(Index, Option<String>), IndexError> {
        if dir.join(CONDEMNED_FILE).exists() {
            let index = Index::replace(dir, cache_bytes)?;
            std::fs::remove_file(dir.join(CONDEMNED_FILE)).map_err(failed)?;
            return Ok((index, Some("a check found the index damaged".to_owned())));
        }
        match guarded(|| Index::open(dir, cache_bytes)) {
            Ok(index) => Ok((index, None)),
            Err(error) => Ok((Index::replace(dir, cache_bytes)?, Some(format!("the index cannot be opened: {error}")))),
        }
    }

    /// Deletes the database in `dir` and creates an empty one.
    pub fn replace(dir: &Path, cache_bytes: usize) -> Result<Index, IndexError> {
        if let Err(removed) = std::fs::remove_file(dir.join(INDEX_FILE))
            && removed.kind() != std::io::ErrorKind::NotFound
        {
            return Err(failed(removed));
        }
        guarded(|| Index::open(dir, cache_bytes))
    }

    /// Opens (or creates) the database in `dir`, with a read cache of `cache_bytes`.
    pub fn open(dir: &Path, cache_bytes: usize) -> Result<Index, IndexError> {
        let db = Database::builder().set_cache_size(cache_bytes).create(dir.join(INDEX_FILE)).map_err(failed)?;
        let index = Index { db };
        // Every table exists from the start, so that reads never meet a missing one.
        let write = index.db.begin_write().map_err(failed)?;
        create_tables(&write)?;
        write.commit().map_err(failed)?;
        Ok(index)
    }

    /// How many records the index covers, for which ledger, and the state after them.
    pub fn covered(&self) -> Result<Covered, IndexError> {
        guarded(|| read_covered(&self.db.begin_read().map_err(failed)?))
    }

    /// How many records the index covers.
    #[cfg(test)]
    pub fn size(&self) -> Result<u64, IndexError> {
        guarded(|| Ok(self.covered()?.size))
    }

    /// The leaf hash the index holds for a record.
    pub fn leaf_hash(&self, seq: u64) -> Result<Option<LeafHash>, IndexError> {
        guarded(|| Ok(self.record(seq)?.map(|(_, leaf)| leaf)))
    }

    /// Applies updates in record order, with the new size and the summary of the last one, as
    /// one transaction; `durable` makes it fsync (and lets redb reuse freed pages).
    ///
    /// The updates must continue the index (the first one is record `size`) and the last one
    /// must carry its summary.
    pub fn apply(&self, ledger: LedgerId, updates: &[IndexUpdate], durable: bool) -> Result<(), IndexError> {
        guarded(|| {
            let Some(last) = updates.last() else { return Ok(()) };
            let summary = last
                .summary
                .as_deref()
                .ok_or_else(|| damaged("meta", "summary", "a batch of updates must end with the state after it"))?;
            let mut write = self.db.begin_write().map_err(failed)?;
            write.set_durability(if durable { Durability::Immediate } else { Durability::None }).map_err(failed)?;
            write.set_quick_repair(durable);
            {
                let mut records = write.open_table(RECORDS).map_err(failed)?;
                let mut members = write.open_table(MEMBERS).map_err(failed)?;
                let mut membership = write.open_table(MEMBERSHIP).map_err(failed)?;
                let mut merkle = write.open_table(MERKLE).map_err(failed)?;
                let mut items = write.open_table(ITEMS).map_err(failed)?;
                let mut entries = write.open_table(ENTRIES).map_err(failed)?;
                let mut disclosures = write.open_table(DISCLOSURES).map_err(failed)?;
                let mut chunk: Option<(u64, Vec<u8>)> = None;
                for update in updates {
                    let seq = update.seq.get();
                    let number = seq / RECORDS_PER_CHUNK;
                    let current = match chunk.take() {
                        Some((held, bytes)) if held == number => bytes,
                        other => {
                            if let Some((held, bytes)) = other {
                                records.insert(held, seal(&held.to_be_bytes(), &bytes).as_slice()).map_err(failed)?;
                            }
                            match records.get(number).map_err(failed)? {
                                Some(stored) => unseal("records", &number.to_be_bytes(), stored.value())?.to_vec(),
                                None => Vec::new(),
                            }
                        }
                    };
                    let mut current = current;
                    if current.len() as u64 != (seq % RECORDS_PER_CHUNK) * LOCATION_LEN as u64 {
                        return Err(damaged("records", &seq.to_string(), "the index is not at this record"));
                    }
                    current.extend_from_slice(&update.position.to_bytes());
                    current.extend_from_slice(update.leaf_hash.as_bytes());
                    chunk = Some((number, current));

                    for member in &update.members {
                        let id = member.id.as_str();
                        members.insert(id, seal(id.as_bytes(), &json(member)?).as_slice()).map_err(failed)?;
                    }
                    if update.membership {
                        membership.insert(seq, ()).map_err(failed)?;
                    }
                    for (level, index, hash) in &update.merkle_nodes {
                        merkle
                            .insert((*level, *index), seal(&merkle_key(*level, *index), hash).as_slice())
                            .map_err(failed)?;
                    }
                    for item in &update.items {
                        let giai = item.giai.as_str();
                        let mut history = match items.get(giai).map_err(failed)? {
                            Some(stored) => decode_item(giai, stored.value())?.records,
                            None => Vec::new(),
                        };
                        history.push(seq);
                        let stored = StoredItem { state: item.clone(), records: history };
                        items.insert(giai, seal(giai.as_bytes(), &json(&stored)?).as_slice()).map_err(failed)?;
                    }
                    let mut entry = [0u8; 40];
                    entry[..8].copy_from_slice(&seq.to_be_bytes());
                    entry[8..].copy_from_slice(&update.signed);
                    entries.insert(&update.entry_id.0, seal(&update.entry_id.0, &entry).as_slice()).map_err(failed)?;
                    if let Some(position) = update.disclosures {
                        disclosures
                            .insert(seq, seal(&seq.to_be_bytes(), &position.to_bytes()).as_slice())
                            .map_err(failed)?;
                    }
                }
                if let Some((number, bytes)) = chunk {
                    records.insert(number, seal(&number.to_be_bytes(), &bytes).as_slice()).map_err(failed)?;
                }
                let mut meta = write.open_table(META).map_err(failed)?;
                meta.insert("ledger_id", seal(b"ledger_id", ledger.as_bytes()).as_slice()).map_err(failed)?;
                meta.insert("size", seal(b"size", &(last.seq.get() + 1).to_be_bytes()).as_slice()).map_err(failed)?;
                meta.insert("summary", seal(b"summary", &encode_summary(summary)).as_slice()).map_err(failed)?;
            }
            write.commit().map_err(failed)?;
            Ok(())
        })
    }

    /// Where a record is in the log, and its leaf hash.
    pub fn record(&self, seq: u64) -> Result<Option<(LogPosition, LeafHash)>, IndexError> {
        guarded(|| {
            let read = self.db.begin_read().map_err(failed)?;
            let records = read.open_table(RECORDS).map_err(failed)?;
            let Some(chunk) = records.get(seq / RECORDS_PER_CHUNK).map_err(failed)? else { return Ok(None) };
            let start = (seq % RECORDS_PER_CHUNK) as usize * LOCATION_LEN;
            let chunk = unseal("records", &(seq / RECORDS_PER_CHUNK).to_be_bytes(), chunk.value())?;
            let Some(location) = chunk.get(start..start + LOCATION_LEN).map(<[u8]>::to_vec) else {
                return Ok(None);
            };
            let key = seq.to_string();
            let (position, leaf) = location.split_at(LogPosition::ENCODED_LEN);
            let position = LogPosition::from_bytes(position).map_err(|e| damaged("records", &key, &e.to_string()))?;
            let leaf = <[u8; 32]>::try_from(leaf).map_err(|_| damaged("records", &key, "leaf hash"))?;
            Ok(Some((position, LeafHash(leaf))))
        })
    }

    /// The leaf hashes of records `[start, end)`, which the index must cover.
    pub fn leaf_hashes(&self, start: u64, end: u64) -> Result<Vec<[u8; 32]>, IndexError> {
        self.tree_reader()?.leaf_hashes(start, end)
    }

    /// One read transaction over the leaf hashes and the stored Merkle nodes, for the many reads
    /// of one proof or root: a transaction per read cost more than the reads themselves.
    pub fn tree_reader(&self) -> Result<TreeReader, IndexError> {
        guarded(|| {
            let read = self.db.begin_read().map_err(failed)?;
            Ok(TreeReader {
                records: read.open_table(RECORDS).map_err(failed)?,
                merkle: read.open_table(MERKLE).map_err(failed)?,
            })
        })
    }

    /// An item and the records that touched it.
    pub fn item(&self, giai: &Giai) -> Result<Option<StoredItem>, IndexError> {
        guarded(|| {
            let read = self.db.begin_read().map_err(failed)?;
            let items = read.open_table(ITEMS).map_err(failed)?;
            let Some(stored) = items.get(giai.as_str()).map_err(failed)? else { return Ok(None) };
            Ok(Some(decode_item(giai.as_str(), stored.value())?))
        })
    }

    /// The seq of a recorded entry and the digest of its signatures.
    pub fn entry(&self, entry_id: &EntryId) -> Result<Option<(Seq, [u8; 32])>, IndexError> {
        guarded(|| {
            let read = self.db.begin_read().map_err(failed)?;
            let entries = read.open_table(ENTRIES).map_err(failed)?;
            let Some(stored) = entries.get(&entry_id.0).map_err(failed)? else { return Ok(None) };
            let key = entry_id.to_hex();
            let bytes = unseal("entries", &entry_id.0, stored.value())?;
            let seq = bytes.get(..8).and_then(|seq| <[u8; 8]>::try_from(seq).ok()).map(u64::from_be_bytes);
            let seq = seq.and_then(Seq::new).ok_or_else(|| damaged("entries", &key, "seq"))?;
            let signed = bytes
                .get(8..)
                .and_then(|s| <[u8; 32]>::try_from(s).ok())
                .ok_or_else(|| damaged("entries", &key, "signatures"))?;
            Ok(Some((seq, signed)))
        })
    }

    /// Where a record's disclosures are in the private store.
    pub fn disclosures(&self, seq: u64) -> Result<Option<LogPosition>, IndexError> {
        guarded(|| {
            let read = self.db.begin_read().map_err(failed)?;
            let disclosures = read.open_table(DISCLOSURES).map_err(failed)?;
            let Some(stored) = disclosures.get(seq).map_err(failed)? else { return Ok(None) };
            let bytes = unseal("disclosures", &seq.to_be_bytes(), stored.value())?;
            LogPosition::from_bytes(bytes)
                .map(Some)
                .map_err(|e| damaged("disclosures", &seq.to_string(), &e.to_string()))
        })
    }

    /// The last record with disclosures the index knows of, and where its frame is.
    pub fn last_disclosures(&self) -> Result<Option<(u64, LogPosition)>, IndexError> {
        guarded(|| {
            let read = self.db.begin_read().map_err(failed)?;
            let disclosures = read.open_table(DISCLOSURES).map_err(failed)?;
            let Some((seq, stored)) = disclosures.last().map_err(failed)? else { return Ok(None) };
            let seq = seq.value();
            LogPosition::from_bytes(unseal("disclosures", &seq.to_be_bytes(), stored.value())?)
                .map(|position| Some((seq, position)))
                .map_err(|e| damaged("disclosures", &seq.to_string(), &e.to_string()))
        })
    }

    /// Every record that changed membership (the genesis included), in order.
    pub fn membership_records(&self) -> Result<Vec<u64>, IndexError> {
        guarded(|| {
            let read = self.db.begin_read().map_err(failed)?;
            let membership = read.open_table(MEMBERSHIP).map_err(failed)?;
            let mut seqs = Vec::new();
            for pair in membership.iter().map_err(failed)? {
                let (seq, _) = pair.map_err(failed)?;
                seqs.push(seq.value());
            }
            Ok(seqs)
        })
    }

    /// Every member, by id.
    pub fn members(&self) -> Result<Vec<Member>, IndexError> {
        guarded(|| read_members(&self.db.begin_read().map_err(failed)?))
    }

    /// blake3 over every table's keys and values, in order: equal for equal indexes.
    pub fn digest(&self) -> Result<[u8; 32], IndexError> {
        guarded(|| {
            let read = self.db.begin_read().map_err(failed)?;
            let mut hasher = blake3::Hasher::new();
            let mut add = |key: &[u8], value: &[u8]| {
                hasher.update(&(key.len() as u64).to_be_bytes());
                hasher.update(key);
                hasher.update(&(value.len() as u64).to_be_bytes());
                hasher.update(value);
            };
            for pair in read.open_table(META).map_err(failed)?.iter().map_err(failed)? {
                let (key, value) = pair.map_err(failed)?;
                add(key.value().as_bytes(), value.value());
            }
            for pair in read.open_table(RECORDS).map_err(failed)?.iter().map_err(failed)? {
                let (key, value) = pair.map_err(failed)?;
                add(&key.value().to_be_bytes(), value.value());
            }
            for pair in read.open_table(MEMBERS).map_err(failed)?.iter().map_err(failed)? {
                let (key, value) = pair.map_err(failed)?;
                add(key.value().as_bytes(), value.value());
            }
            for pair in read.open_table(MEMBERSHIP).map_err(failed)?.iter().map_err(failed)? {
                let (key, _) = pair.map_err(failed)?;
                add(&key.value().to_be_bytes(), &[]);
            }
            for pair in read.open_table(MERKLE).map_err(failed)?.iter().map_err(failed)? {
                let (key, value) = pair.map_err(failed)?;
                let (level, index) = key.value();
                add(&merkle_key(level, index), value.value());
            }
            for pair in read.open_table(ITEMS).map_err(failed)?.iter().map_err(failed)? {
                let (key, value) = pair.map_err(failed)?;
                add(key.value().as_bytes(), value.value());
            }
            for pair in read.open_table(ENTRIES).map_err(failed)?.iter().map_err(failed)? {
                let (key, value) = pair.map_err(failed)?;
                add(key.value(), value.value());
            }
            for pair in read.open_table(DISCLOSURES).map_err(failed)?.iter().map_err(failed)? {
                let (key, value) = pair.map_err(failed)?;
                add(&key.value().to_be_bytes(), value.value());
            }
            Ok(*hasher.finalize().as_bytes())
        })
    }

    /// Makes everything written so far durable (on clean shutdown; not needed for safety).
    pub fn flush(&self) -> Result<(), IndexError> {
        guarded(|| {
            let mut write = self.db.begin_write().map_err(failed)?;
            write.set_durability(Durability::Immediate).map_err(failed)?;
            write.set_quick_repair(true);
            write.commit().map_err(failed)?;
            Ok(())
        })
    }
}

/// The file whose presence tells opening to rebuild the index, which was found damaged.
pub(crate) const CONDEMNED_FILE: &str = "index.damaged";

/// Marks the index of the ledger in `dir` for a rebuild at the next open, durably.
pub(crate) fn condemn(dir: &Path) -> Result<(), IndexError> {
    let path = dir.join(CONDEMNED_FILE);
    let file = std::fs::File::create(&path).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    crate::store::frame_log::sync_directory(dir).map_err(|e| failed(std::io::Error::other(e.to_string())))?;
    Ok(())
}

/// What the index covers, as a read transaction sees it.
pub(super) fn read_covered(read: &redb::ReadTransaction) -> Result<Covered, IndexError> {
    let meta = read.open_table(META).map_err(failed)?;
    let get = |key: &str| -> Result<Option<Vec<u8>>, IndexError> {
        match meta.get(key).map_err(failed)? {
            Some(value) => Ok(Some(unseal("meta", key.as_bytes(), value.value())?.to_vec())),
            None => Ok(None),
        }
    };
    let size = get("size")?.map(|bytes| u64_from(&bytes, "meta", "size")).transpose()?.unwrap_or(0);
    let ledger_id = get("ledger_id")?
        .map(|bytes| {
            <[u8; 32]>::try_from(bytes.as_slice())
                .map(LedgerId)
                .map_err(|_| damaged("meta", "ledger_id", "not 32 bytes"))
        })
        .transpose()?;
    let summary = match get("summary")? {
        Some(bytes) => Some(decode_summary(&bytes)?),
        None => None,
    };
    Ok(Covered { size, ledger_id, summary })
}

/// Every member, as a read transaction sees them.
pub(super) fn read_members(read: &redb::ReadTransaction) -> Result<Vec<Member>, IndexError> {
    let members = read.open_table(MEMBERS).map_err(failed)?;
    let mut all = Vec::new();
    for pair in members.iter().map_err(failed)? {
        let (id, value) = pair.map_err(failed)?;
        let id = id.value();
        let member = unseal("members", id.as_bytes(), value.value())?;
        all.push(serde_json::from_slice(member).map_err(|e| damaged("members", id, &e.to_string()))?);
    }
    Ok(all)
}

/// The leaf hashes and stored Merkle nodes as of one read transaction ([`Index::tree_reader`]).
pub(crate) struct TreeReader {
    records: redb::ReadOnlyTable<u64, &'static [u8]>,
    merkle: redb::ReadOnlyTable<(u8, u64), &'static [u8]>,
}

impl TreeReader {
    /// The leaf hashes of records `[start, end)`, which the index must cover.
    pub fn leaf_hashes(&self, start: u64, end: u64) -> Result<Vec<[u8; 32]>, IndexError> {
        guarded(|| {
            let mut leaves = Vec::with_capacity(end.saturating_sub(start) as usize);
            let mut seq = start;
            while seq < end {
                let number = seq / RECORDS_PER_CHUNK;
                let chunk = self
                    .records
                    .get(number)
                    .map_err(failed)?
                    .ok_or_else(|| damaged("records", &seq.to_string(), "missing"))?;
                let bytes = unseal("records", &number.to_be_bytes(), chunk.value())?;
                while seq < end && seq / RECORDS_PER_CHUNK == number {
                    let at = (seq % RECORDS_PER_CHUNK) as usize * LOCATION_LEN + LogPosition::ENCODED_LEN;
                    let leaf = bytes
                        .get(at..at + 32)
                        .and_then(|leaf| <[u8; 32]>::try_from(leaf).ok())
                        .ok_or_else(|| damaged("records", &seq.to_string(), "missing"))?;
                    leaves.push(leaf);
                    seq += 1;
                }
            }
            Ok(leaves)
        })
    }

    /// A stored Merkle node (level [`MERKLE_MIN_LEVEL`] and up).
    pub fn merkle_node(&self, level: u8, index: u64) -> Result<Option<[u8; 32]>, IndexError> {
        guarded(|| {
            let Some(node) = self.merkle.get((level, index)).map_err(failed)? else { return Ok(None) };
            <[u8; 32]>::try_from(unseal("merkle", &merkle_key(level, index), node.value())?)
                .map(Some)
                .map_err(|_| damaged("merkle", &format!("{level}/{index}"), "not 32 bytes"))
        })
    }
}

/// Runs `work` on the database, turning a panic into an error: redb asserts its file's
/// invariants, and a damaged file must cost a rebuild of the index, not the process.
pub(crate) fn guarded<T, E: From<IndexError>>(work: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_owned());
        Err(E::from(IndexError::Damaged { table: "(file)", key: String::new(), reason: message }))
    })
}

/// Creates every table that does not exist yet.
fn create_tables(write: &redb::WriteTransaction) -> Result<(), IndexError> {
    write.open_table(META).map_err(failed)?;
    write.open_table(RECORDS).map_err(failed)?;
    write.open_table(MEMBERS).map_err(failed)?;
    write.open_table(MEMBERSHIP).map_err(failed)?;
    write.open_table(MERKLE).map_err(failed)?;
    write.open_table(ITEMS).map_err(failed)?;
    write.open_table(ENTRIES).map_err(failed)?;
    write.open_table(DISCLOSURES).map_err(failed)?;
    Ok(())
}

/// The summary's stored form: last leaf (32) ‖ item count (8, BE) ‖ lattice ([`LATTICE_BYTES`])
/// ‖ peak count (1) ‖ peaks (32 each) ‖ last accepted time (the rest, UTF-8).
fn encode_summary(summary: &StateSummary) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(32 + 8 + LATTICE_BYTES + 1 + 32 * summary.frontier.len() + 32);
    bytes.extend_from_slice(summary.last_leaf.as_bytes());
    bytes.extend_from_slice(&summary.item_count.to_be_bytes());
    bytes.extend_from_slice(&summary.lattice.to_bytes());
    bytes.push(summary.frontier.len() as u8);
    for peak in &summary.frontier {
        bytes.extend_from_slice(peak);
    }
    bytes.extend_from_slice(summary.last_accepted.to_string().as_bytes());
    bytes
}

fn decode_summary(bytes: &[u8]) -> Result<StateSummary, IndexError> {
    let broken = |what: &str| damaged("meta", "summary", what);
    let (leaf, rest) = bytes.split_at_checked(32).ok_or_else(|| broken("last leaf"))?;
    let (count, rest) = rest.split_at_checked(8).ok_or_else(|| broken("item count"))?;
    let (lattice, rest) = rest.split_at_checked(LATTICE_BYTES).ok_or_else(|| broken("lattice"))?;
    let (&peaks, mut rest) = rest.split_first().ok_or_else(|| broken("peak count"))?;
    let mut frontier = Vec::with_capacity(usize::from(peaks));
    for _ in 0..peaks {
        let (peak, after) = rest.split_at_checked(32).ok_or_else(|| broken("peaks"))?;
        frontier.push(<[u8; 32]>::try_from(peak).map_err(|_| broken("peaks"))?);
        rest = after;
    }
    let accepted = std::str::from_utf8(rest).ok().and_then(|text| Timestamp::parse(text).ok());
    Ok(StateSummary {
        last_leaf: LeafHash(<[u8; 32]>::try_from(leaf).map_err(|_| broken("last leaf"))?),
        item_count: u64_from(count, "meta", "summary")?,
        lattice: StateLattice::from_bytes(lattice).ok_or_else(|| broken("lattice"))?,
        frontier,
        last_accepted: accepted.ok_or_else(|| broken("last accepted time"))?,
    })
}

pub(super) fn decode_item(giai: &str, bytes: &[u8]) -> Result<StoredItem, IndexError> {
    let bytes = unseal("items", giai.as_bytes(), bytes)?;
    serde_json::from_slice(bytes).map_err(|e| damaged("items", giai, &e.to_string()))
}

/// A value as the index stores it: the value, then the CRC-32 of its key and the value (4 bytes,
/// little-endian). redb checks its pages only when asked to walk them all; the CRC makes a read
/// of a damaged or misplaced value fail instead of serving it.
fn seal(key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut sealed = Vec::with_capacity(value.len() + 4);
    sealed.extend_from_slice(value);
    sealed.extend_from_slice(&crc(key, value).to_le_bytes());
    sealed
}

/// The value [`seal`] stored under `key`, once its CRC is checked.
pub(super) fn unseal<'a>(table: &'static str, key: &[u8], sealed: &'a [u8]) -> Result<&'a [u8], IndexError> {
    let broken = || damaged(table, &String::from_utf8_lossy(key), "its checksum does not match");
    let (value, stored) =
        sealed.split_at_checked(sealed.len().checked_sub(4).ok_or_else(broken)?).ok_or_else(broken)?;
    if stored != crc(key, value).to_le_bytes() {
        return Err(broken());
    }
    Ok(value)
}

fn crc(key: &[u8], value: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&(key.len() as u64).to_le_bytes());
    hasher.update(key);
    hasher.update(value);
    hasher.finalize()
}

/// The bytes a Merkle node's CRC covers as its key.
pub(super) fn merkle_key(level: u8, index: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = level;
    key[1..].copy_from_slice(&index.to_be_bytes());
    key
}

/// The JSON the index stores for a state value. Plain serde JSON, not RFC 8785:
/// the index is private to this code, and field order is fixed by the types,
/// so equal states still give equal bytes on every machine.
fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, IndexError> {
    serde_json::to_vec(value).map_err(|e| IndexError::Encode(e.to_string()))
}

fn u64_from(bytes: &[u8], table: &'static str, key: &str) -> Result<u64, IndexError> {
    <[u8; 8]>::try_from(bytes).map(u64::from_be_bytes).map_err(|_| damaged(table, key, "not an 8-byte number"))
}

pub(super) fn damaged(table: &'static str, key: &str, reason: &str) -> IndexError {
    IndexError::Damaged { table, key: key.to_owned(), reason: reason.to_owned() }
}
