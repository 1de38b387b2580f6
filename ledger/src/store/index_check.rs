//! Checking the stored index against its own summary: the whole custody state and Merkle tree
//! recomputed from what the tables hold.
//!
//! Opening trusts the index when its last record matches the log; that catches an index of
//! another ledger or one left behind by a crash, not one whose file was damaged in place. redb
//! checks its pages' checksums only when asked to walk them all, and each value carries a CRC
//! (`index::seal`), but a damaged branch page can hide whole ranges of keys: items would look
//! unregistered. So a node checks, in the background once it serves, that the items and
//! members sum to the summary's lattice (docs/format.md §14), that there are as many items and
//! entry ids as the summary says, and that the leaf hashes give the stored Merkle nodes and the
//! summary's frontier. It reads one snapshot of the index, so writers go on meanwhile.

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};

use super::index::{
    ENTRIES, ITEMS, Index, IndexError, MERKLE, MERKLE_MIN_LEVEL, RECORDS, failed, read_covered, read_members,
};
use super::index::{LOCATION_LEN, RECORDS_PER_CHUNK, decode_item, unseal};
use super::log::LogPosition;
use crate::custody::{Consortium, Element, StateLattice};
use crate::merkle::{Blake3Hasher, Frontier};

/// What the check found wrong, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stored index does not match its own summary at {size} records: {reason}")]
pub struct IndexMismatch {
    /// The size the index covered when it was checked.
    pub size: u64,
    /// What differs.
    pub reason: String,
}

impl Index {
    /// Recomputes the state and the tree from the tables of one snapshot and compares them with
    /// its summary. `Ok(size)` when they agree.
    pub fn check(&self, consortium: &Consortium) -> Result<Result<u64, IndexMismatch>, IndexError> {
        let read = self.db.begin_read().map_err(failed)?;
        let covered = read_covered(&read)?;
        let size = covered.size;
        let Some(summary) = covered.summary else { return Ok(Ok(size)) };
        let mismatch = |reason: String| Ok(Err(IndexMismatch { size, reason }));

        let mut lattice = StateLattice::new();
        lattice.add(&Element::Consortium(consortium));
        for member in read_members(&read)? {
            lattice.add(&Element::Member(&member));
        }
        let mut items = 0u64;
        for pair in read.open_table(ITEMS).map_err(failed)?.iter().map_err(failed)? {
            let (giai, value) = pair.map_err(failed)?;
            let stored = decode_item(giai.value(), value.value())?;
            if stored.state.giai.as_str() != giai.value() {
                return mismatch(format!("item {} is stored under {}", stored.state.giai, giai.value()));
            }
            lattice.add(&Element::Item(&stored.state));
            items += 1;
        }
        if items != summary.item_count {
            return mismatch(format!("{items} items are stored, the summary counts {}", summary.item_count));
        }
        if lattice != summary.lattice {
            return mismatch("the stored items and members do not sum to the summary's state digest".to_owned());
        }
        let entries = read.open_table(ENTRIES).map_err(failed)?.len().map_err(failed)?;
        if entries != size {
            return mismatch(format!("{entries} entry ids are stored for {size} records"));
        }

        // The leaf hashes, a chunk at a time, rebuild the tree: every node of a stored level
        // must be stored as computed, and the peaks must be the summary's.
        let records = read.open_table(RECORDS).map_err(failed)?;
        let merkle = read.open_table(MERKLE).map_err(failed)?;
        let mut tree: Frontier<Blake3Hasher> = Frontier::new();
        let chunks = size.div_ceil(RECORDS_PER_CHUNK);
        for number in 0..chunks {
            let Some(chunk) = records.get(number).map_err(failed)? else {
                return mismatch(format!("the locations of records {} on are missing", number * RECORDS_PER_CHUNK));
            };
            let bytes = unseal("records", &number.to_be_bytes(), chunk.value())?;
            let expected = (size - number * RECORDS_PER_CHUNK).min(RECORDS_PER_CHUNK) as usize * LOCATION_LEN;
            if bytes.len() != expected {
                return mismatch(format!("the locations of records {} on are cut short", number * RECORDS_PER_CHUNK));
            }
            for location in bytes.chunks_exact(LOCATION_LEN) {
                let mut leaf = [0u8; 32];
                leaf.copy_from_slice(&location[LogPosition::ENCODED_LEN..]);
                for (level, index, hash) in tree.push(leaf) {
                    if level < MERKLE_MIN_LEVEL {
                        continue;
                    }
                    let stored = merkle.get((level, index)).map_err(failed)?;
                    let key = super::index::merkle_key(level, index);
                    let matches = match &stored {
                        Some(node) => unseal("merkle", &key, node.value())? == hash.as_slice(),
                        None => false,
                    };
                    if !matches {
                        return mismatch(format!("Merkle node {level}/{index} is not stored as its leaves give it"));
                    }
                }
            }
        }
        if tree.peak_hashes() != summary.frontier.as_slice() || tree.len() != size {
            return mismatch("the leaf hashes do not give the summary's Merkle frontier".to_owned());
        }
        Ok(Ok(size))
    }
}
